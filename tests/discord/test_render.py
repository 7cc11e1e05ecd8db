"""Pure rendering and parsing, tested as functions: limits, escaping, choices, messages."""

from __future__ import annotations

import pytest
from discord import app_commands

from bot.answer import Answer
from bot.corpus import Passage
from bot.discord_app.parsing import extract_question, user_message
from bot.discord_app.render import (
    answer_embed,
    clip,
    cooldown_text,
    literal,
    stats_embed,
    topic_choices,
)
from bot.errors import ReindexInProgressError
from bot.retrieve import Hit


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


def test_stats_embed_of_40_long_figures_stays_within_every_limit() -> None:
    cite = {"document": "d.txt", "title": "T" * 300, "sentence": 3, "text": "s " * 2000}
    stats = [{"display": "D" * 400, "citations": [cite, cite]} for _ in range(40)]
    embed = stats_embed(stats, None)
    assert len(embed.fields) == 25 and len(embed) <= 6000
    assert all(len(f.name) <= 256 and len(f.value) <= 1024 for f in embed.fields)


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
