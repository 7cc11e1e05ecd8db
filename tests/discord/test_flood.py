"""Load and abuse on Discord (issue 12): a flood gets one notice then silence, an ask channel
has its own limit, attachments and symbol-only messages get a hint, work runs on bounded
workers, and the synced commands are logged by name. Real discord.py client, offline."""

from __future__ import annotations

import asyncio
import logging
import re

import pytest

from bot.discord_app.commands import COMMANDS
from bot.discord_app.parsing import ATTACHMENT_HINT, MENTION_HINT
from bot.discord_app.render import help_embed
from bot.service import USAGE_HINT, QAService
from tests.discord.conftest import discord_world

QUESTIONS = ["When did the incursion begin?", "How many North Korean soldiers were deployed?",
             "Who is the Ukrainian commander-in-chief?"]
QUICKLY = r"You're asking quickly: try again in \d+ s\."


def bot_messages(w, channel) -> list:  # type: ignore[no-untyped-def]
    return [m for m in channel.history() if m.author.id == w.bot.user.id]


async def test_a_flood_from_one_user_gets_one_notice_then_silence(seed_service: QAService) -> None:
    async with discord_world(seed_service, ask_cooldown_rate=3, ask_cooldown_seconds=60) as w:
        for i in range(30):
            await w.member.send(w.ask_channel, f"{QUESTIONS[i % 3]} ({i})")
        replies = bot_messages(w, w.ask_channel)
        answers = [m for m in replies if m.embeds]
        notices = [m for m in replies if re.fullmatch(QUICKLY, m.content or "")]
        assert (len(answers), len(notices), len(replies)) == (3, 1, 4)


async def test_an_ask_channel_has_its_own_limit_across_users(seed_service: QAService) -> None:
    async with discord_world(seed_service, ask_channel_rate=2, ask_channel_seconds=60) as w:
        other = w.guild.add_member(w.env.create_user("second reader"))
        for i in range(6):
            await (w.member if i % 2 else other).send(w.ask_channel, QUESTIONS[i % 3])
        replies = bot_messages(w, w.ask_channel)
        assert len([m for m in replies if m.embeds]) == 2
        assert len([m for m in replies if re.fullmatch(QUICKLY, m.content or "")]) == 1
        await w.member.send(w.general, f"{w.bot.user.mention} {QUESTIONS[0]}")  # another channel: answered
        assert w.general.last_message.embeds


async def test_an_attachment_only_message_in_an_ask_channel_gets_a_text_hint(seed_service: QAService) -> None:
    async with discord_world(seed_service) as w:
        await w.member.send(w.ask_channel, "", attachments=[("map.png", b"\x89PNG....")])
        assert w.ask_channel.last_message.content == ATTACHMENT_HINT
        await w.member.send(w.general, w.bot.user.mention, attachments=[("map.png", b"\x89PNG....")])
        assert w.general.last_message.content == MENTION_HINT


@pytest.mark.parametrize("text", ["???", "🤔🤔🤔", "@everyone"])
async def test_a_message_with_no_words_gets_the_usage_hint(seed_service: QAService, text: str) -> None:
    async with discord_world(seed_service) as w:
        await w.member.send(w.ask_channel, text)
        reply = w.ask_channel.last_message
        assert reply.author.id == w.bot.user.id
        # The usage hint, or the help card ("???" reads as asking for help): never a passage.
        if reply.embeds:
            assert reply.embeds[0].title == help_embed().title
        else:
            assert reply.content == f"Sorry: {USAGE_HINT}"


async def test_work_runs_on_bounded_workers_and_synced_commands_are_logged_by_name(
        seed_service: QAService, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="bot.discord"):
        async with discord_world(seed_service, answer_workers=3) as w:
            executor = asyncio.get_running_loop()._default_executor  # type: ignore[attr-defined]
            assert executor is not None and executor._max_workers == 3
            await w.member.send(w.ask_channel, QUESTIONS[0])
            assert w.ask_channel.last_message.embeds
    [line] = [r.getMessage() for r in caplog.records if r.getMessage().startswith("synced")]
    assert line.startswith(f"synced {len(COMMANDS)} commands (")
    for command in COMMANDS:
        assert f"/{command.name}" in line
