"""Pure rendering and parsing, tested as functions: limits, escaping, choices, messages."""

from __future__ import annotations

import pytest
from discord import app_commands

from bot.answer import Answer
from bot.corpus import Passage
from bot.discord_app.parsing import extract_question, user_message
from bot.discord_app.render import (
    NO_STATS,
    NO_STATS_FOR_TOPIC,
    STATS_PER_PAGE,
    answer_embed,
    clip,
    cooldown_text,
    literal,
    stat_field,
    stats_embed,
    topic_choices,
)
from bot.errors import ReindexInProgressError
from bot.retrieve import Hit
from bot.stats import Stat


def hit(text: str, rank: int = 1, title: str = "Title", url: str | None = None) -> Hit:
    passage = Passage(text=text, document="doc.txt", title=title, sentence=rank, start=0,
                      end=len(text), url=url)
    return Hit(id=rank, passage=passage, score=0.5, rank=rank)


@pytest.mark.parametrize("text, limit, expected", [
    ("short", 10, "short"),
    ("one two three four five", 12, "one two…"),
    ("x" * 20, 10, "x" * 9 + "…"),
    ("abc \\* def", 6, "abc…"),
])
def test_clip_cuts_at_a_word_with_an_ellipsis(text: str, limit: int, expected: str) -> None:
    assert clip(text, limit) == expected and len(clip(text, limit)) <= limit


@pytest.mark.parametrize("text, shown", [
    ("[click](https://evil.example)", "\\[click\\](https://evil.example)"),
    ("**bold** and _it_", "\\*\\*bold\\*\\* and \\_it\\_"),
    ("@everyone look", "@everyone look"),
])
def test_literal_escapes_markdown_and_disarms_masked_links(text: str, shown: str) -> None:
    assert literal(text) == shown


def test_answer_embed_of_25_long_passages_stays_within_every_limit() -> None:
    hits = tuple(hit("word " * 600, rank=i + 1, title="T" * 300) for i in range(25))
    embed = answer_embed(Answer(question="q" * 500, answered=True, hits=hits))
    assert len(embed.title) <= 256 and len(embed.fields) == 25 and len(embed) <= 6000
    assert all(len(f.name) <= 256 and len(f.value) <= 1024 and "…" in f.value for f in embed.fields)


def test_answer_embed_links_the_title_only_for_http_urls() -> None:
    linked = answer_embed(Answer("q", True, (hit("A.", url="https://news.example/a"),)))
    plain = answer_embed(Answer("q", True, (hit("A.", url="javascript:alert(1)"),)))
    assert "[Title](https://news.example/a), sentence 1" in linked.fields[0].value
    assert "— Title, sentence 1" in plain.fields[0].value


@pytest.mark.parametrize("page", [0, 1, 4])
def test_stats_embed_pages_of_40_long_figures_with_history_stay_within_every_limit(page: int) -> None:
    cite = {"document": "d.txt", "title": "T" * 300, "sentence": 3, "text": "s " * 2000,
            "url": "https://news.example/" + "p" * 200, "published": "2025-01-02"}
    old = {"display": "O" * 400, "citations": [cite]}
    stats = [Stat.from_json({"display": "D" * 400, "date": "2024-08", "citations": [cite] * 5,
                             "history": [old] * 5}) for _ in range(40)]
    embed = stats_embed(stats, "t" * 500, page)
    assert len(embed.fields) == STATS_PER_PAGE and len(embed) <= 6000 and len(embed.title) <= 256
    assert all(len(f.name) <= 256 and len(f.value) <= 1024 for f in embed.fields)
    assert embed.footer.text.startswith(f"Figures {page * 8 + 1}–{page * 8 + 8} of 40 · page {page + 1} of 5")


def test_stat_field_shows_date_linked_citations_and_older_values() -> None:
    stat = {"display": "about 10,000 Russian troops", "date": "2025-01", "unit": "people",
            "citations": [{"document": "a.txt", "title": "Kursk *latest*", "sentence": 8,
                           "text": "About 10,000 [Russian](https://x.example) troops.",
                           "url": "https://news.example/a", "published": "2025-01-20"}],
            "history": [{"display": "about 7,000 Russian troops",
                         "citations": [{"document": "b.txt", "title": "Kursk", "sentence": 2,
                                        "text": "About 7,000 troops.", "url": None}]}]}
    name, value = stat_field(Stat.from_json(stat), 1000)
    assert name == "about 10,000 Russian troops · 2025-01"
    first, earlier = value.split("\n")
    assert first == ("“About 10,000 \\[Russian\\](https://x.example) troops.” "
                     "— [Kursk \\*latest\\*](https://news.example/a), sentence 8 (20 Jan 2025)")
    assert earlier == "Earlier: about 7,000 Russian troops: “About 7,000 troops.” — Kursk, sentence 2"


def test_a_date_stat_does_not_repeat_its_date_in_the_name() -> None:
    stat = {"display": "incursion began: August 2024", "unit": "date", "date": "2024-08",
            "citations": [{"title": "T", "sentence": 7, "text": "It began in August 2024."}]}
    assert stat_field(Stat.from_json(stat), 500)[0] == "incursion began: August 2024"


@pytest.mark.parametrize("topic, expected", [
    (None, NO_STATS),
    ("bananas", NO_STATS_FOR_TOPIC.format(topic="bananas")),
    ("**x**", NO_STATS_FOR_TOPIC.format(topic="\\*\\*x\\*\\*")),
])
def test_stats_embed_with_no_figures_says_so_plainly(topic: str | None, expected: str) -> None:
    embed = stats_embed([], topic)
    assert embed.description == expected and not embed.fields


def test_topic_choices_are_capped_at_25_of_100_characters_without_duplicates() -> None:
    choices = topic_choices(["same", "same", *[f"t{i} " + "y" * 200 for i in range(30)]])
    assert len(choices) == 25 and choices[0].name == "same" and choices[1].name != "same"
    assert all(len(c.name) <= 100 and len(c.value) <= 100 for c in choices)


@pytest.mark.parametrize("content, mentioned, ask_channel, expected", [
    ("<@42> How many troops?", True, False, "How many troops?"),
    ("<@!42>   ", True, False, ""),
    ("How many troops?", False, True, "How many troops?"),
    ("How many troops?", False, False, None),
    ("<@7> hello", False, False, None),
])
def test_extract_question_from_mentions_and_ask_channels(
        content: str, mentioned: bool, ask_channel: bool, expected: str | None) -> None:
    assert extract_question(content, 42, mentioned=mentioned, ask_channel=ask_channel) == expected


@pytest.mark.parametrize("error, expected", [
    (ReindexInProgressError("a rebuild is already running"), "Sorry: a rebuild is already running"),
    (app_commands.CommandOnCooldown(app_commands.Cooldown(1, 10), 9.2),
     "You're asking quickly: try again in 10 s."),
    (app_commands.MissingPermissions(["manage_guild"]),
     "Only members with the Manage Server permission can do that."),
    (RuntimeError("boom"), None),
])
def test_user_message_for_each_kind_of_failure(error: BaseException, expected: str | None) -> None:
    assert user_message(error) == expected


def test_cooldown_text_rounds_up_to_whole_seconds() -> None:
    assert cooldown_text(0.2) == "You're asking quickly: try again in 1 s."
