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


async def test_a_reply_to_an_answer_is_a_follow_up_with_its_context(seed_service: QAService) -> None:
    async with discord_world(seed_service) as w:
        await w.member.send(w.ask_channel, SOLDIERS)
        first = w.ask_channel.last_message
        await w.member.send(w.general, "and how many russians?")  # not addressed: ignored
        assert w.general.last_message.author.id == w.member.id
        asked = await w.member.send(w.ask_channel, "and how many russians?", reply_to=first)
        reply = w.ask_channel.last_message
        assert reply.reference is not None and reply.reference.message_id == asked.id
        embed = reply.embeds[0]
        assert embed.title == "and how many russians?"
        assert f"read as a follow-up to “{SOLDIERS}”" in embed.description
        assert "Russian troops" in field_text(embed)
        # A self-contained question in reply is answered on its own.
        await w.member.send(w.ask_channel, "Who is Ukraine's commander-in-chief?", reply_to=first)
        own = w.ask_channel.last_message.embeds[0]
        assert "follow-up" not in (own.description or "") and "Oleksandr Syrsky" in field_text(own)


async def test_a_message_in_a_thread_started_from_an_answer_is_a_follow_up(seed_service: QAService) -> None:
    from simcord.builders import ChannelHandle

    async with discord_world(seed_service) as w:
        result = await w.member.slash(w.general, "ask", question=SOLDIERS)
        answer = result.response.message
        backend = w.env.backend
        thread = ChannelHandle(w.env, w.guild, backend.create_thread(w.general.id, "soldiers", w.member.id,
                                                                     message_id=answer.id))
        await w.env.settle()
        await w.member.send(thread, "and how many russians?")
        reply = thread.last_message
        assert reply.author.id == w.bot.user.id
        assert f"read as a follow-up to “{SOLDIERS}”" in reply.embeds[0].description
        await w.member.send(thread, "how many of them died?")  # the thread goes on from the last answer
        assert "read as a follow-up to “and how many russians?”" in thread.last_message.embeds[0].description


async def test_follow_up_button_opens_a_modal_and_answers_with_context(seed_service: QAService) -> None:
    async with discord_world(seed_service) as w:
        result = await w.member.slash(w.general, "ask", question=SOLDIERS)
        shown = await w.member.click(result.response.message, label="Follow up")
        assert shown.modal is not None and shown.modal["title"] == "Follow-up question"
        submitted = await w.member.submit_modal(shown, {"question": "and how many russians?"})
        embed = submitted.response.embeds[0]
        assert not submitted.ephemeral
        assert embed.title == "and how many russians?"
        assert f"read as a follow-up to “{SOLDIERS}”" in embed.description
        assert "Russian troops" in field_text(embed)
