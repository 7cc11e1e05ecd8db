"""Key stats (issue 4): what a reader sees for the seed article and for each general case.

Pure extraction tests: no model. Serving (topics, CLI, ask) is in test_stats_service.py.
"""

from __future__ import annotations

from typing import Any

import pytest

from bot.corpus import Passage, load_corpus, segment
from bot.quantities import find_quantities
from bot.stats import extract_stats
from tests.conftest import SEED_ARTICLE

SEED_DOC = "ukraine-holds-kursk-foothold.txt"


def passage(text: str, document: str = "a.txt", sentence: int = 1, published: str | None = None) -> Passage:
    return Passage(text=text, document=document, title=document, sentence=sentence, start=0,
                   end=len(text), published=published)


def stats_of(*texts: str) -> list[dict[str, Any]]:
    return [s.to_json() for s in extract_stats([passage(t, sentence=i) for i, t in enumerate(texts, 1)])]


@pytest.fixture(scope="module")
def seed_stats() -> list[dict[str, Any]]:
    docs = load_corpus(SEED_ARTICLE.parent, [SEED_ARTICLE]).documents
    return [s.to_json() for s in extract_stats([p for d in docs for p in segment(d)])]


# ------------------------------------------------------------------------ the seed article

SEED_EXPECTED = [
    # value, unit, qualifier, counts, date, cited sentences, other unit forms
    pytest.param(90, "km²", "approximately", "area in Kursk", "Sunday", [1, 9], [(35, "mi²")],
                 id="90 sq km held in Kursk: lede and body, one stat"),
    pytest.param(1000, "km²", "over", "Russian land", "2024-08", [7], [(386, "mi²")],
                 id="over 1,000 sq km seized"),
    pytest.param(10000, "count", "about", "Russian troops", None, [8], [], id="about 10,000 Russian troops"),
    pytest.param(70000, "count", "an estimated", "Russian troops", None, [13], [],
                 id="an estimated 70,000 Russian troops"),
    pytest.param(11000, "count", "around", "North Korean soldiers", None, [14], [],
                 id="around 11,000 North Korean soldiers"),
    pytest.param(1000, "count", "over", "North Korean troops in Russia", "January", [15], [],
                 id="over 1,000 North Korean troops killed"),
]


@pytest.mark.parametrize(("value", "unit", "qualifier", "counts", "date", "sentences", "also"), SEED_EXPECTED)
def test_seed_figure_is_listed_once_with_its_citations(
    seed_stats: list[dict[str, Any]], value: int, unit: str, qualifier: str, counts: str,
    date: str | None, sentences: list[int], also: list[tuple[int, str]],
) -> None:
    matches = [s for s in seed_stats if s["value"] == value and s["unit"] == unit and s["counts"] == counts]
    assert len(matches) == 1, [s["display"] for s in seed_stats]
    stat = matches[0]
    assert (stat["qualifier"], stat["date"], stat["low"], stat["high"]) == (qualifier, date, None, None)
    assert [c["sentence"] for c in stat["citations"]] == sentences
    assert all(c["document"] == SEED_DOC and c["title"] for c in stat["citations"])
    assert [(a["value"], a["unit"]) for a in stat["also"]] == also
    assert str(value) in stat["display"].replace(",", "")


def test_seed_lists_the_incursion_start_as_a_date(seed_stats: list[dict[str, Any]]) -> None:
    dates = [s for s in seed_stats if s["unit"] == "date"]
    assert [(d["date"], d["value"], d["display"]) for d in dates] == [
        ("2024-08", None, "incursion began: August 2024")]
    assert dates[0]["citations"][0]["sentence"] == 7


def test_seed_keeps_thousands_of_troops_vague(seed_stats: list[dict[str, Any]]) -> None:
    vague = [s for s in seed_stats if s["qualifier"] == "thousands"]
    assert len(vague) == 1
    assert (vague[0]["value"], vague[0]["low"], vague[0]["high"]) == (None, None, None)
    assert vague[0]["display"] == "thousands of troops from North Korea"


def test_seed_lists_nothing_else(seed_stats: list[dict[str, Any]]) -> None:
    # 6 figures + the start date + the vague "thousands of troops"; "a year ago" is not a stat.
    assert len(seed_stats) == 8
    assert not any("year" in s["display"] for s in seed_stats)


def test_merged_stat_display_links_both_unit_forms(seed_stats: list[dict[str, Any]]) -> None:
    stat = next(s for s in seed_stats if s["value"] == 90)
    assert "90 square kilometers (35 square miles)" in stat["display"]


# ------------------------------------------------------------------------ general cases

GENERAL = [
    # sentence, value, low, high, unit, qualifier, counts (None: not checked)
    pytest.param("The city has 1,200,000 people.", 1_200_000, None, None, "count", None, "people",
                 id="1,200,000 people, not 1,200"),
    pytest.param("The country covers 29,997 square kilometers (11,582 square miles).", 29_997, None, None,
                 "km²", None, None, id="square kilometers with square miles"),
    pytest.param("Rebels hold a 386-square-mile area.", 386, None, None, "mi²", None, "area",
                 id="a 386-square-mile area"),
    pytest.param("Officials said between 1,000 and 1,500 troops were sent.", None, 1000, 1500, "count",
                 None, "troops", id="between 1,000 and 1,500 troops: a range"),
    pytest.param("The repairs will cost 2 to 3 billion dollars.", None, 2_000_000_000, 3_000_000_000,
                 "USD", None, None, id="2 to 3 billion dollars"),
    pytest.param("The club was fined £1.6m.", 1_600_000, None, None, "GBP", None, None, id="£1.6m"),
    pytest.param("The firm raised $1.5 billion.", 1_500_000_000, None, None, "USD", None, None,
                 id="$1.5 billion"),
    pytest.param("Turnout was 45%.", 45, None, None, "%", None, None, id="45%"),
    pytest.param("Exports reached 816 000 tonnes of grain.", 816_000, None, None, "tonnes", None,
                 "grain", id="816 000 tonnes"),
    pytest.param("Exports reached 816\u00a0000 tonnes of grain.", 816_000, None, None, "tonnes", None,
                 "grain", id="816 000 tonnes with a no-break space"),
    pytest.param("Some 386 sq miles were flooded.", 386, None, None, "mi²", "some", None,
                 id="386 sq miles is an area, not a bare number"),
    pytest.param("Up to 500 people were evacuated.", 500, None, None, "count", "up to", "people",
                 id="qualifier up to"),
    pytest.param("Mr Straw said the proposal would mean a 35% hike in the budget.", 35, None, None, "%",
                 None, "hike", id="a 35% hike names its noun"),
    pytest.param("Total assets were 5.3 trillion yuan.", 5_300_000_000_000, None, None, "CNY", None, None,
                 id="5.3 trillion yuan"),
    pytest.param("At least 30 villages were hit.", 30, None, None, "count", "at least", "villages",
                 id="qualifier at least"),
]


@pytest.mark.parametrize(("sentence", "value", "low", "high", "unit", "qualifier", "counts"), GENERAL)
def test_general_case(sentence: str, value: float | None, low: float | None, high: float | None,
                      unit: str, qualifier: str | None, counts: str | None) -> None:
    stats = stats_of(sentence)
    assert len(stats) == 1, stats
    s = stats[0]
    assert (s["value"], s["low"], s["high"], s["unit"], s["qualifier"]) == (value, low, high, unit, qualifier)
    if counts is not None:
        assert s["counts"] == counts
    assert s["citations"] == [{"document": "a.txt", "title": "a.txt", "sentence": 1, "text": sentence,
                               "url": None, "published": None, "source": None}]


@pytest.mark.parametrize(("sentence", "iso"), [
    pytest.param("MPs approved the 2024–25 budget.", "2024/2025", id="2024–25 is a period"),
    pytest.param("The attack began on Aug. 6, 2024.", "2024-08-06", id="Aug. 6, 2024"),
    pytest.param("The law was passed in 2019.", "2019", id="a year alone is a date"),
    pytest.param("The offensive began in August 2024.", "2024-08", id="August 2024"),
    pytest.param("They returned in 1963-4 as champions.", "1963/1964", id="1963-4 is a period"),
    pytest.param("He managed her career between 1960 and 1973.", "1960/1973", id="between two years"),
    pytest.param("The 1728 composition was found.", "1728", id="an old year is a date"),
])
def test_dates_are_dates_not_numbers(sentence: str, iso: str) -> None:
    stats = stats_of(sentence)
    assert [(s["unit"], s["date"], s["value"], s["low"], s["high"]) for s in stats] == [
        ("date", iso, None, None, None)]


@pytest.mark.parametrize("sentence", [
    "Ukrainian forces captured the land nearly a year ago.",
    "The deal was signed 10 years ago.",
    "Arsenal won 2-1 on Sunday.",
    "Sales of 3G phones rose in the 1990s.",
    "Article 50 was triggered.",
    "New Zealand's 45-6 demolition job in Paris hurt.",
    "The awards will be shown on BBC One at 2010 GMT.",
    "28 Shinobu Asagoe (Japan)",
    "Fans boycott the 12 March concert.",
])
def test_not_a_stat(sentence: str) -> None:
    assert [s for s in stats_of(sentence) if s["unit"] != "date"] == []


def test_several_bracketed_currencies_are_one_figure() -> None:
    s = stats_of("Net profit rose to A$458.4m ($357.6m; £191m) from a year earlier.")
    money = [x for x in s if x["unit"] == "AUD"]
    assert [x["unit"] for x in s] == ["AUD"]
    assert [(a["value"], a["unit"]) for a in money[0]["also"]] == [(357_600_000, "USD"), (191_000_000, "GBP")]


def test_from_x_to_y_is_a_change_not_a_range() -> None:
    q = [x for x in find_quantities("Prices rose from 10% to 12%.") if x.unit == "%"]
    assert [(x.value, x.low, x.high) for x in q] == [(10, None, None), (12, None, None)]


def test_vague_magnitudes_stay_vague() -> None:
    s = stats_of("Tens of thousands of people marched.")
    assert [(x["value"], x["low"], x["high"], x["qualifier"], x["counts"]) for x in s] == [
        (None, None, None, "tens of thousands", "people")]


# ------------------------------------------------------------------------ merging and history


def test_same_figure_in_two_documents_is_one_stat_citing_both() -> None:
    text = "Around 11,000 North Korean soldiers were deployed to Kursk."
    stats = extract_stats([passage(text, "a.txt"), passage(text, "b.txt", sentence=4)])
    assert len(stats) == 1
    assert [(c.document, c.sentence) for c in stats[0].citations] == [("a.txt", 1), ("b.txt", 4)]


def test_different_things_with_the_same_number_stay_apart() -> None:
    stats = extract_stats([passage("Profits rose 45%.", "a.txt"), passage("Turnout fell 45%.", "b.txt")])
    assert len(stats) == 2


def test_newest_dated_value_comes_first_with_older_as_history() -> None:
    old = passage("Around 11,000 North Korean soldiers were deployed.", "jan.txt", published="2025-01-10")
    new = passage("Around 14,000 North Korean soldiers were deployed.", "mar.txt", published="2025-03-02")
    stats = [s.to_json() for s in extract_stats([old, new])]
    assert len(stats) == 1
    assert stats[0]["value"] == 14000
    assert [(h["value"], h["citations"][0]["document"]) for h in stats[0]["history"]] == [(11000, "jan.txt")]


# ------------------------------------------------------------- BBC mistakes (issue 9)


@pytest.mark.parametrize("sentence", [
    pytest.param("And Ras Kwame is the host of 100% Homegrown on Radio 1's digital station 1Xtra.",
                 id="a name read as a number"),
    pytest.param('"The good thing is that there is now a 100% guarantee, so this will never happen again," he said.',
                 id="100% guarantee, a figure of speech"),
    pytest.param("I am 100% sure that we will win the title this year.", id="100% sure"),
    pytest.param("The players gave 100% for the whole of the second half.", id="gave 100%"),
    pytest.param('"Welcome to CeBit 2005" was the message from the pilot as we landed.', id="a year in a title"),
    pytest.param("But given that Football Manager 2005 is the game that everybody knows and loves, fans queued.",
                 id="a year in a game's name"),
])
def test_bbc_figures_of_speech_and_names_are_not_stats(sentence: str) -> None:
    assert stats_of(sentence) == []


@pytest.mark.parametrize(("sentence", "label"), [
    ("Latin America's economy grew by 5.5% in 2004, its best performance since 1980.", "2004"),
    ("Its Global Investors wing made £347m, an 82% jump on 2003 figures.", "2003"),
    ("The figure was 30% more than in 2003 and surpassed even the most optimistic predictions.", "2003"),
])
def test_a_year_is_never_labelled_with_another_figures_words(sentence: str, label: str) -> None:
    dates = [s for s in stats_of(sentence) if s["unit"] == "date"]
    assert [d["display"].rsplit(": ", 1)[-1] for d in dates if label in d["display"]] == [label]
    assert not any(ch.isdigit() for d in dates for ch in d["counts"])


def test_real_hundred_percent_figures_stay() -> None:
    stats = stats_of("G7 finance ministers have backed plans to write off up to 100% of the debts of poor countries.")
    assert [(s["value"], s["unit"]) for s in stats] == [(100, "%")]
