"""The real discord.py client and command tree in simcord's in-memory Discord, over the real
model and a real index: what each command and button shows the user."""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import discord
import pytest
from simcord.backend.errors import SetupError

from bot.discord_app.parsing import MENTION_HINT, UNEXPECTED
from bot.service import QAService
from tests.discord.conftest import discord_world

pytestmark = [pytest.mark.asyncio(loop_scope="session"), pytest.mark.timeout(120)]

SOLDIERS = "How many North Korean soldiers were deployed?"


def field_text(embed: discord.Embed) -> str:
    return "\n".join(f"{f.name}\n{f.value}" for f in embed.fields)


def acknowledge(world: Any, *kinds: type[BaseException]) -> None:
    """Check the errors the bot handled (simcord fails the test on uninspected ones)."""
    seen = world.env.errors
    assert all(isinstance(e, kinds) for e in seen), seen


# ---------------------------------------------------------------------------------- /ask


async def test_ask_answers_with_cited_passages_and_buttons(seed_service: QAService) -> None:
    async with discord_world(seed_service) as w:
        result = await w.member.slash(w.general, "ask", question=SOLDIERS)
        assert result.acknowledged and not result.ephemeral
        embed = result.response.embeds[0]
        assert embed.title == SOLDIERS
        text = field_text(embed)
        assert "11,000 North Korean soldiers" in text
        assert "— Ukraine Maintains Stronghold in Kursk Despite Russian Offensive, sentence 14" in text
        assert embed.footer.text.startswith("Passages 1–3")
        labels = [c["label"] for row in result.response.components for c in row["components"]]
        assert labels == ["Show context", "More", "Follow up", "Helpful", "Not helpful"]


async def test_ask_with_no_good_match_says_so_and_shows_only_the_nearest(seed_service: QAService) -> None:
    async with discord_world(seed_service) as w:
        result = await w.member.slash(
            w.general, "ask", question="What is the best recipe for banana bread?")
        embed = result.response.embeds[0]
        assert "The articles do not seem to cover this question." in embed.description
        assert "below the threshold" in embed.description
        assert len(embed.fields) <= 1


async def test_show_context_button_adds_the_neighbouring_sentences(seed_service: QAService) -> None:
    async with discord_world(seed_service) as w:
        result = await w.member.slash(w.general, "ask", question=SOLDIERS, k=1)
        before = field_text(result.response.embeds[0])
        click = await w.member.click(result.response.message, label="Show context")
        after = field_text(result.response.embeds[0])
        assert click.acknowledged
        assert "**The situation has become increasingly complicated" in after
        assert "Reports in January indicated" in after and "Reports in January indicated" not in before
        context_button = [c for row in result.response.components for c in row["components"]
                          if c["label"] == "Show context"]
        assert context_button[0]["disabled"] is True


async def test_more_button_pages_to_the_next_passages(seed_service: QAService) -> None:
    async with discord_world(seed_service) as w:
        result = await w.member.slash(w.general, "ask", question=SOLDIERS, k=2)
        first = [f.name for f in result.response.embeds[0].fields]
        await w.member.click(result.response.message, label="More")
        embed = result.response.embeds[0]
        second = [f.name for f in embed.fields]
        assert embed.footer.text.startswith("Passages 3–")  # only those above SCORE_THRESHOLD
        assert second and not set(first) & set(second)


async def test_ask_with_an_empty_question_is_an_ephemeral_hint(seed_service: QAService) -> None:
    async with discord_world(seed_service) as w:
        result = await w.member.slash(w.general, "ask", question="   ")
        assert result.ephemeral
        assert result.response.content == ("Sorry: the question is empty: type a question about the "
                                           "news articles")
        acknowledge(w, discord.app_commands.CommandInvokeError)


async def test_ask_cooldown_says_try_again_in_n_seconds(seed_service: QAService) -> None:
    async with discord_world(seed_service, ask_cooldown_rate=1, ask_cooldown_seconds=30) as w:
        await w.member.slash(w.general, "ask", question=SOLDIERS)
        result = await w.member.slash(w.general, "ask", question=SOLDIERS)
        assert result.ephemeral
        match = re.fullmatch(r"You're asking quickly: try again in (\d+) s\.", result.response.content)
        assert match and 1 <= int(match[1]) <= 30
        other = await w.admin.slash(w.general, "ask", question=SOLDIERS)  # per user
        assert other.response.embeds
        acknowledge(w, discord.app_commands.CommandOnCooldown)


async def test_unexpected_error_is_a_short_ephemeral_message_and_a_logged_traceback(
        seed_service: QAService, caplog: pytest.LogCaptureFixture) -> None:
    class Broken:
        settings = seed_service.settings

        def __getattr__(self, name: str) -> Any:
            return getattr(seed_service, name)

        def ask(self, *args: Any, **kwargs: Any) -> Any:
            raise RuntimeError("disk on fire")

    async with discord_world(Broken()) as w:
        result = await w.member.slash(w.general, "ask", question=SOLDIERS)
        assert result.response is None  # the public "thinking…" placeholder was removed
        assert not [m for m in w.general.history() if m.author.id == w.bot.user.id]
        assert [m.content for m in result.followups] == [UNEXPECTED]
        assert result.followups[0].ephemeral
        record = next(r for r in caplog.records if r.getMessage().startswith("/ask failed"))
        assert record.exc_info and "disk on fire" in str(record.exc_info[1])
        acknowledge(w, discord.app_commands.CommandInvokeError)


# -------------------------------------------------------------------------- hostile text


@pytest.fixture
def hostile_service(tmp_path: Path, service_for: Callable[..., QAService]) -> QAService:
    """An index of one article whose text tries to ping, format and hide links, with a
    3,000-character sentence."""
    corpus = tmp_path / "hostile"
    corpus.mkdir()
    long_sentence = "The flood council report on river defences " + \
        "covers drainage, levees, pumps and sandbags " * 70 + "in detail."
    assert len(long_sentence) > 3000
    (corpus / "alerts.md").write_text(
        "---\ntitle: Town alerts **now**\nurl: https://news.example/alerts\n---\n"
        "The mayor told @everyone and @here at the town hall to read [the official notice]"
        "(https://evil.example/phish) and ping <@&42>.\n"
        f"{long_sentence}\n", encoding="utf-8")
    service = service_for(corpus)
    service.rebuild()
    return service


async def test_everyone_in_corpus_text_is_shown_literally_and_never_pings(
        hostile_service: QAService) -> None:
    async with discord_world(hostile_service) as w:
        result = await w.member.slash(
            w.general, "ask", question="What did the mayor tell everyone at the town hall?")
        text = field_text(result.response.embeds[0])
        assert "@everyone and @here" in text
        # A Markdown article's link keeps its words only: the phishing URL never reaches Discord.
        assert "read the official notice and ping" in text and "evil.example" not in text
        assert "[Town alerts \\*\\*now\\*\\*](https://news.example/alerts)" in text  # our link only
        sent = [r for r in w.env.http_requests if r.json and "embeds" in r.json]
        assert sent and all(r.json["allowed_mentions"] == {"parse": []} for r in sent)


async def test_a_3000_character_sentence_is_cut_with_an_ellipsis_within_limits(
        hostile_service: QAService) -> None:
    async with discord_world(hostile_service) as w:
        result = await w.member.slash(
            w.general, "ask", question="What does the flood council report on river defences cover?")
        embed = result.response.embeds[0]
        top = embed.fields[0].value
        assert top.startswith("“The flood council report on river defences")
        assert "…" in top and len(top) <= 1024 and len(embed) <= 6000


async def test_everyone_in_a_question_is_echoed_but_never_pings(seed_service: QAService) -> None:
    async with discord_world(seed_service) as w:
        result = await w.member.slash(w.general, "ask", question="@everyone how many soldiers were deployed?")
        assert result.response.embeds[0].title == "@everyone how many soldiers were deployed?"
        assert result.response.message.mention_everyone is False
        followups = [r for r in w.env.http_requests if r.method == "POST" and "webhooks" in r.path]
        assert followups and all(r.json["allowed_mentions"] == {"parse": []} for r in followups)


# ------------------------------------------------------------------------ other commands


async def test_sources_lists_documents_with_passage_counts_and_build_time(seed_service: QAService) -> None:
    _, built_at = seed_service.sources()
    async with discord_world(seed_service) as w:
        embed = (await w.member.slash(w.general, "sources")).response.embeds[0]
        assert embed.title.startswith("Sources: 1 documents, ")
        assert "Ukraine Maintains Stronghold in Kursk Despite Russian Offensive" in embed.description
        assert "(`ukraine-holds-kursk-foothold.txt`)" in embed.description
        assert embed.footer.text == f"Index built {built_at}"


async def test_help_explains_the_commands_ephemerally(seed_service: QAService) -> None:
    async with discord_world(seed_service) as w:
        result = await w.member.slash(w.general, "help")
        assert result.ephemeral and "/ask" in result.response.embeds[0].description


# ------------------------------------------------------------------------------ /reindex


@pytest.fixture
def own_service(seed_corpus: Path, service_for: Callable[..., QAService]) -> QAService:
    """A writable copy of the seed corpus with its own built index."""
    service = service_for(seed_corpus)
    service.rebuild()
    return service


def add_article(service: QAService) -> None:
    (service.corpus_dir / "volcano.txt").write_text(
        "Volcano erupts in Iceland\nThe Reykjanes volcano erupted on Tuesday, forcing the "
        "evacuation of 4,000 residents from the town of Grindavik.\n", encoding="utf-8")


async def test_reindex_by_an_admin_reports_counts_and_swaps_the_index(own_service: QAService) -> None:
    add_article(own_service)
    (own_service.corpus_dir / "empty.txt").write_text("", encoding="utf-8")
    async with discord_world(own_service) as w:
        result = await w.admin.slash(w.general, "reindex")
        assert result.ephemeral
        text = result.response.content
        assert re.match(r"Index rebuilt: 2 documents, \d+ passages, 1 skipped files, \d+\.\d s\.", text)
        assert "skipped `empty.txt`" in text
        answer = await w.member.slash(w.general, "ask", question="How many residents were evacuated?")
        assert "4,000 residents" in field_text(answer.response.embeds[0])


async def test_reindex_is_hidden_from_members_and_refused_when_forced(own_service: QAService) -> None:
    async with discord_world(own_service) as w:
        assert "reindex" not in w.member.available_commands(w.general)
        with pytest.raises(SetupError):
            await w.member.slash(w.general, "reindex")
        # A server override shows it to them; the runtime check still refuses.
        w.guild.set_command_permissions(w.command_id("reindex"), {w.member: True})
        result = await w.member.slash(w.general, "reindex")
        assert result.ephemeral
        assert result.response.content == "Only members with the Manage Server permission can do that."
        acknowledge(w, discord.app_commands.MissingPermissions)


async def test_second_reindex_is_refused_and_questions_use_the_old_index_meanwhile(
        own_service: QAService) -> None:
    add_article(own_service)
    started, release = threading.Event(), threading.Event()

    def hold(done: int, total: int) -> None:
        started.set()
        assert release.wait(30)

    running = threading.Thread(target=own_service.rebuild, args=(hold,))
    running.start()
    try:
        assert started.wait(30)
        async with discord_world(own_service) as w:
            refused = await w.admin.slash(w.general, "reindex")
            assert refused.ephemeral
            assert refused.response.content == ("Sorry: a rebuild is already running; try again "
                                                "when it is done")
            during = await w.member.slash(w.general, "sources")
            assert during.response.embeds[0].title.startswith("Sources: 1 documents")
            answer = await w.member.slash(w.general, "ask", question=SOLDIERS)
            assert "11,000 North Korean soldiers" in field_text(answer.response.embeds[0])
            release.set()
            running.join(30)
            after = await w.member.slash(w.general, "sources")
            assert after.response.embeds[0].title.startswith("Sources: 2 documents")
            acknowledge(w, discord.app_commands.CommandInvokeError)
    finally:
        release.set()
        running.join(30)


# -------------------------------------------------------------------- channel questions


async def test_a_mention_is_answered_as_a_reply(
        seed_service: QAService, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="bot.discord")
    async with discord_world(seed_service) as w:
        asked = await w.member.send(w.general, f"{w.bot.user.mention} When did the incursion begin?")
        reply = w.general.last_message
        assert reply.author.id == w.bot.user.id
        assert reply.reference is not None and reply.reference.message_id == asked.id
        assert reply.embeds[0].title == "When did the incursion begin?"
        assert "August 2024" in field_text(reply.embeds[0])
        assert any("answered message question" in r.getMessage() and "latency=" in r.getMessage()
                   for r in caplog.records)


async def test_a_bare_mention_gets_a_one_line_hint(seed_service: QAService) -> None:
    async with discord_world(seed_service) as w:
        await w.member.send(w.general, w.bot.user.mention)
        assert w.general.last_message.content == MENTION_HINT


async def test_any_message_in_an_ask_channel_is_a_question_and_elsewhere_ignored(
        seed_service: QAService) -> None:
    async with discord_world(seed_service) as w:
        await w.member.send(w.general, "When did the incursion begin?")
        assert w.general.last_message.author.id == w.member.id
        await w.member.send(w.ask_channel, "When did the incursion begin?")
        assert "August 2024" in field_text(w.ask_channel.last_message.embeds[0])


async def test_messages_from_another_bot_are_ignored(seed_service: QAService) -> None:
    async with discord_world(seed_service) as w:
        other = w.guild.add_member(w.env.create_user("otherbot", bot=True))
        await other.send(w.ask_channel, f"{w.bot.user.mention} When did the incursion begin?")
        assert w.ask_channel.last_message.author.id == other.id
        assert len(w.ask_channel.history()) == 1


async def test_channel_questions_share_the_ask_cooldown(seed_service: QAService) -> None:
    async with discord_world(seed_service, ask_cooldown_rate=1, ask_cooldown_seconds=30) as w:
        await w.member.slash(w.general, "ask", question=SOLDIERS)
        await w.member.send(w.general, f"{w.bot.user.mention} When did the incursion begin?")
        assert re.fullmatch(r"You're asking quickly: try again in \d+ s\.", w.general.last_message.content)
