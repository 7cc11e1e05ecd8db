"""Figures news writes that were misread (issue 12): implicit nouns after a bound, areas and
distances with and without their conversion, labels before a number, and ranges in every form."""

from __future__ import annotations

import pytest

from bot.corpus import Passage
from bot.quantities import find_quantities
from bot.stats import extract_stats


def stats_of(text: str) -> list[tuple[str, object, object, object, str]]:
    return [(s.display, s.value, s.low, s.high, s.unit) for s in extract_stats([Passage(text, "a.txt", "T", 1, 0,
                                                                                          len(text))])]


@pytest.mark.parametrize(("sentence", "display", "value"), [
    ("Officials said over 1,000 were captured.", "over 1,000 captured", 1000),
    ("At least 40 died in the attack.", "At least 40 died", 40),
    ("More than 200 have fled since Monday.", "More than 200 fled", 200),
    ("Some 3,000 were evacuated from the town.", "Some 3,000 evacuated", 3000),
])
def test_a_bound_whose_noun_is_left_implicit_is_a_figure(sentence: str, display: str, value: int) -> None:
    assert [(d, v) for d, v, *_ in stats_of(sentence)] == [(display, value)]


def test_an_area_and_its_stated_conversion_are_one_linked_figure() -> None:
    [q] = find_quantities("Ukraine seized a 386-square-mile area, or roughly 1,000 sq km, in August.")
    assert (q.unit, q.value) == ("mi²", 386)
    assert [(a.unit, a.value) for a in q.alts] == [("km²", 1000)]
    [stat] = stats_of("Ukraine seized a 386-square-mile area, or roughly 1,000 sq km, in August.")
    assert "386" in stat[0] and "1,000 sq km" in stat[0]


@pytest.mark.parametrize(("sentence", "unit", "other", "converted"), [
    ("Ukraine seized 386 sq miles of land.", "mi²", "km²", 1000),
    ("Troops hold 90 sq km of land.", "km²", "mi²", 34.7),
    ("The convoy drove 10 miles north.", "mi", "km", 16.1),
    ("The front moved 40 km east.", "km", "mi", 24.9),
    ("Fire burned 500 hectares of forest.", "ha", "acres", 1240),
])
def test_an_area_or_distance_without_a_conversion_gets_one_both_ways(sentence: str, unit: str, other: str,
                                                                     converted: float) -> None:
    [q] = find_quantities(sentence)
    assert q.unit == unit
    assert [(a.unit, a.value) for a in q.alts] == [(other, converted)]


def test_a_stated_conversion_in_brackets_is_kept_and_not_recomputed() -> None:
    [q] = find_quantities("Ukraine holds 90 square kilometers (35 square miles) of land.")
    assert [(a.unit, a.value) for a in q.alts] == [("mi²", 35)]


@pytest.mark.parametrize("sentence", ["Village 12 lost 36 houses.", "Block 7 lost 36 houses.",
                                      "Officials in Village 12 said 36 houses burned."])
def test_a_number_that_labels_a_name_is_not_a_figure(sentence: str) -> None:
    assert [(d, v) for d, v, *_ in stats_of(sentence)] == [("36 houses", 36)]


@pytest.mark.parametrize(("sentence", "low", "high", "unit"), [
    ("Between 10,000 and 15,000 troops were sent.", 10000, 15000, "count"),
    ("Some 10,000-15,000 troops were sent.", 10000, 15000, "count"),
    ("Some 10,000–15,000 troops were sent.", 10000, 15000, "count"),
    ("Some 10,000 — 15,000 troops were sent.", 10000, 15000, "count"),
    ("Some 10,000 to 15,000 troops were sent.", 10000, 15000, "count"),
    ("From 10,000 to 15,000 troops were sent.", 10000, 15000, "count"),
    ("Anywhere from 10,000 to 15,000 troops were sent.", 10000, 15000, "count"),
    ("Perhaps 5,000 or 6,000 soldiers died.", 5000, 6000, "count"),
    ("Up to 2-3 million people fled.", 2_000_000, 3_000_000, "count"),
    ("Between 2 million and 3 million people fled.", 2_000_000, 3_000_000, "count"),
    ("Between two and three million people fled.", 2_000_000, 3_000_000, "count"),
    ("Two to three million people fled.", 2_000_000, 3_000_000, "count"),
    ("Some 10k-15k fans came.", 10000, 15000, "count"),
    ("It cost $2m-$3m.", 2_000_000, 3_000_000, "USD"),
    ("It cost between $2m and $3m.", 2_000_000, 3_000_000, "USD"),
    ("It cost 2 to 3 billion dollars.", 2_000_000_000, 3_000_000_000, "USD"),
    ("Around 1.5-2bn dollars was spent.", 1_500_000_000, 2_000_000_000, "USD"),
    ("Some 40-50% of homes were hit.", 40, 50, "%"),
    ("Some 40% to 50% of homes were hit.", 40, 50, "%"),
    ("Between 300 and 400 km of road was cut.", 300, 400, "km"),
])
def test_ranges_keep_both_ends(sentence: str, low: int, high: int, unit: str) -> None:
    ranges = [q for q in find_quantities(sentence) if q.is_range]
    assert [(q.low, q.high, q.unit) for q in ranges] == [(low, high, unit)]


@pytest.mark.parametrize("sentence", ["Prices rose from 10 to 20 pounds.", "Unemployment fell from 5% to 3%.",
                                      "Chelsea won 2-1.", "A 45-6 win."])
def test_a_change_or_a_score_is_not_a_range(sentence: str) -> None:
    assert not [q for q in find_quantities(sentence) if q.is_range]


def test_a_force_of_n_strong_is_a_count_of_the_force() -> None:
    stats = stats_of("A 5,000-strong force crossed the border on Monday, officials said.")
    assert [(v, u) for _, v, _, _, u in stats] == [(5000, "count")]
    assert "force" in stats[0][0]
