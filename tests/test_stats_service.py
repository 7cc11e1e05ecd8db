"""Key stats served (issue 4): `stats --json`, topics by meaning, autocomplete, figures in `ask`.

All on the seed corpus, built once per session with the real packaged model.
"""

from __future__ import annotations

import json

import pytest

from bot import cli
from bot.answer import render_text
from bot.service import QAService
from bot.stats import Stat

EMBED_KEYS = {"display", "value", "low", "high", "unit", "qualifier", "counts", "date", "citations"}


def displays(stats: list[Stat]) -> list[str]:
    return [s.display for s in stats]


def test_cli_stats_json_lists_the_seed_figures(seed_service: QAService, monkeypatch: pytest.MonkeyPatch,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(cli, "_service", lambda args: seed_service)
    assert cli.main(["stats", "--json"]) == 0
    stats = json.loads(capsys.readouterr().out)
    assert all(s.keys() >= EMBED_KEYS for s in stats)
    assert all({"document", "title", "sentence", "text"} <= c.keys() for s in stats for c in s["citations"])
    seen = {(s["value"], s["unit"], s["qualifier"], s["counts"]) for s in stats}
    assert seen >= {
        (90, "km²", "approximately", "area in Kursk"),
        (1000, "km²", "over", "Russian land"),
        (10000, "count", "about", "Russian troops"),
        (70000, "count", "an estimated", "Russian troops"),
        (11000, "count", "around", "North Korean soldiers"),
        (1000, "count", "over", "North Korean troops in Russia"),
        (None, "date", None, "incursion began"),
    }
    ninety = next(s for s in stats if s["value"] == 90)
    assert [c["sentence"] for c in ninety["citations"]] == [1, 9]


def test_cli_stats_prints_figures_with_citations(seed_service: QAService, monkeypatch: pytest.MonkeyPatch,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(cli, "_service", lambda args: seed_service)
    assert cli.main(["stats", "--topic", "north korea"]) == 0
    out = capsys.readouterr().out
    assert "» around 11,000 North Korean soldiers" in out
    assert "sentence 14" in out


@pytest.mark.parametrize(("topic", "wanted", "unwanted"), [
    ("north korea", {"around 11,000 North Korean soldiers", "over 1,000 North Korean troops in Russia"},
     {"about 10,000 Russian troops", "over 1,000 square kilometers (386 sq miles) of Russian land"}),
    ("casualties", {"over 1,000 North Korean troops in Russia"},
     {"about 10,000 Russian troops", "over 1,000 square kilometers (386 sq miles) of Russian land"}),
    ("territory", {"over 1,000 square kilometers (386 sq miles) of Russian land",
                   "approximately 90 square kilometers (35 square miles) — area in Kursk"},
     {"about 10,000 Russian troops", "around 11,000 North Korean soldiers"}),
])
def test_topic_finds_the_right_stats(seed_service: QAService, topic: str, wanted: set[str],
                                     unwanted: set[str]) -> None:
    found = displays(seed_service.stats(topic))
    assert wanted <= set(found), found
    assert not unwanted & set(found), found
    assert found[0] in wanted


def test_no_topic_lists_every_stat(seed_service: QAService) -> None:
    assert seed_service.stats() == seed_service.stats("  ") == seed_service.index.stats


def test_stat_topics_are_counted_phrases_within_discord_limits(seed_service: QAService) -> None:
    everything = seed_service.stat_topics("")
    assert 0 < len(everything) <= 25 and all(0 < len(t) <= 100 for t in everything)
    assert seed_service.stat_topics("north") == ["North Korean soldiers", "North Korean troops in Russia",
                                                 "troops from North Korea"]
    assert seed_service.stat_topics("zzz") == []


@pytest.mark.parametrize(("question", "value", "unit", "date"), [
    ("How much territory does Ukraine still hold in Kursk?", 90, "km²", "Sunday"),
    ("How many North Korean soldiers were deployed?", 11000, "count", None),
    ("How many North Korean troops died?", 1000, "count", "January"),
    ("When did the incursion begin?", None, "date", "2024-08"),
])
def test_ask_shows_the_figure_first(seed_service: QAService, question: str, value: int | None, unit: str,
                                    date: str | None) -> None:
    answer = seed_service.ask(question)
    assert answer.answered
    assert [(f.value, f.unit, f.date) for f in answer.figures] == [(value, unit, date)]
    text = render_text(answer)
    assert text.index("» " + answer.figures[0].display) < text.index("1. ")
    assert answer.to_json()["figures"] == [f.to_json() for f in answer.figures]
    assert [Stat.from_json(f) for f in answer.to_json()["figures"]] == list(answer.figures)


def test_ask_without_a_figure_question_has_no_figures(seed_service: QAService) -> None:
    assert seed_service.ask("Who is Ukraine's commander-in-chief?").figures == ()
