"""A burst on the real gateway path (issue 12): 50 questions from 10 users at once through the
API double on 127.0.0.1 are all acknowledged within 3 s, answered, and the heartbeat keeps up."""

from __future__ import annotations

import asyncio
import time

import pytest

from bot.discord_app import NewsBot
from bot.service import QAService
from tests.discord.api_double import HEARTBEAT, DiscordDouble
from tests.discord.test_gateway import QUESTION, connected, disconnect, double, max_gap

pytestmark = [pytest.mark.asyncio(loop_scope="session"), pytest.mark.timeout(150)]
__all__ = ["double"]  # the API double fixture, shared with test_gateway


async def test_fifty_questions_from_ten_users_are_acknowledged_within_3s_with_the_heartbeat_alive(
        double: DiscordDouble, seed_service: QAService) -> None:
    settings = seed_service.settings.model_copy(update={"ask_cooldown_rate": 5, "ask_cooldown_seconds": 60.0})
    bot = NewsBot(settings, seed_service, guild_ready_timeout=0.1)
    task = await connected(double, bot)
    try:
        t0 = time.monotonic()
        tokens = await asyncio.gather(*(double.slash(700 + i % 10, "ask", question=f"{QUESTION} ({i})")
                                        for i in range(50)))
        await double.wait_followups(list(tokens), timeout=120)
        end = max(double.followups[t][0] for t in tokens)
        assert all(double.callbacks[t].type == 5 and double.callbacks[t].at - t0 < 3.0 for t in tokens)
        assert all(double.followups[t][1]["embeds"][0]["fields"] for t in tokens)
        assert max_gap(double.heartbeats, t0, end) < 4 * HEARTBEAT
        assert bot.latency < 1.0
    finally:
        await disconnect(bot, task)
