"""Conversations in Discord with the real discord.py client in simcord: small talk, follow-ups
by reply, in a thread and through the Follow up button."""

from __future__ import annotations

import pytest

from bot.discord_app.render import HELP_TEXT
from bot.service import QAService
from bot.smalltalk import GREETING_REPLY, THANKS_REPLY
from tests.discord.conftest import discord_world

pytestmark = [pytest.mark.asyncio(loop_scope="session"), pytest.mark.timeout(120)]

SOLDIERS = "how many north korean soldiers were deployed?"


def field_text(embed) -> str:  # type: ignore[no-untyped-def]
    return "\n".join(f"{f.name}\n{f.value}" for f in embed.fields)


async def test_small_talk_gets_a_short_reply_in_channels_and_in_ask(seed_service: QAService) -> None:
    async with discord_world(seed_service) as w:
        await w.member.send(w.ask_channel, "hi")
        assert w.ask_channel.last_message.content == GREETING_REPLY
        assert not w.ask_channel.last_message.embeds
        await w.member.send(w.general, f"{w.bot.user.mention} thanks!")
        assert w.general.last_message.content == THANKS_REPLY
        await w.member.send(w.ask_channel, "help")
        assert w.ask_channel.last_message.embeds[0].description == HELP_TEXT
        result = await w.member.slash(w.general, "ask", question="hello")
        assert result.ephemeral and result.response.content == GREETING_REPLY
