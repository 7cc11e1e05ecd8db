"""Discord fixtures: the real bot and command tree in simcord's in-memory Discord.

`discord_world(service, **settings)` starts the bot over a service with its commands synced to
one guild, a #general channel, an #ask channel (every message is a question), a member and an
admin (Manage Server). The seed index is shared (`seed_service`); tests that rebuild use their
own service. `double` is the API double on 127.0.0.1 that the real gateway tests connect to.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import discord
import pytest
import pytest_asyncio
import yarl
from discord.gateway import DiscordWebSocket
from simcord.actors import MemberActor
from simcord.builders import ChannelHandle, GuildHandle
from simcord.env import Env

from bot.discord_app import NewsBot, create_bot
from tests.discord.api_double import DiscordDouble

GUILD_ID = 1_234_567_890_123_456_789


@dataclass
class World:
    """A running bot in a guild, and the people and channels a test acts with."""

    env: Env
    bot: NewsBot
    guild: GuildHandle
    general: ChannelHandle
    ask_channel: ChannelHandle
    member: MemberActor
    admin: MemberActor

    def command_id(self, name: str) -> int:
        return int(self.env.backend.find_command(name, self.guild.id, type=1)["id"])


@asynccontextmanager
async def discord_world(service: Any, **settings: Any) -> AsyncIterator[World]:
    """Start the bot over `service`; on exit, shut down and fail on any uninspected bot error."""
    base = {"discord_guild_id": GUILD_ID, "ask_channel_ids": [1], "ask_cooldown_rate": 100,
            "ask_cooldown_seconds": 60.0}
    bot = create_bot(service.settings.model_copy(update={**base, **settings}), service)
    env = Env(bot, shard_count=None if bot.shard_count else 1)
    guild = env.create_guild("Newsroom", id=GUILD_ID)
    await env.start()
    try:
        general = guild.create_text_channel("general")
        ask_channel = guild.create_text_channel("ask")
        bot.settings = bot.settings.model_copy(update={"ask_channel_ids": [ask_channel.id]})
        admins = guild.create_role("Admins", permissions=discord.Permissions(manage_guild=True))
        world = World(env, bot, guild, general, ask_channel,
                      member=guild.add_member(env.create_user("reader")),
                      admin=guild.add_member(env.create_user("editor"), roles=[admins]))
        yield world
    finally:
        await env.shutdown()
    env._raise_errors_since(env._errors_acknowledged)


@pytest_asyncio.fixture(loop_scope="session")
async def double(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[DiscordDouble]:
    """The Discord API double on 127.0.0.1, with discord.py's REST base and gateway pointed at it."""
    server = DiscordDouble()
    await server.start()
    monkeypatch.setattr(discord.http.Route, "BASE", server.rest_base)
    monkeypatch.setattr(DiscordWebSocket, "DEFAULT_GATEWAY", yarl.URL(server.gateway_url))
    try:
        yield server
    finally:
        await server.stop()
