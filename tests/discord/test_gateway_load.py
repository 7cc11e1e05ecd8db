"""Load on the real gateway path (issue 12): 50 questions from 10 users at once through the API
double on 127.0.0.1 are all acknowledged within 3 s, answered, and the heartbeat keeps up; on
SIGTERM the answers in flight finish before the bot closes."""

from __future__ import annotations

import asyncio

import pytest

from bot.discord_app import NewsBot
from bot.discord_app.runner import serve
from bot.service import QAService
from tests.discord.api_double import GOOD_TOKEN, DiscordDouble
from tests.discord.test_gateway import QUESTION, SlowSearch, burst_is_acknowledged_and_answered, connected, disconnect

pytestmark = [pytest.mark.asyncio(loop_scope="session"), pytest.mark.timeout(150)]


async def test_fifty_questions_from_ten_users_are_acknowledged_within_3s_with_the_heartbeat_alive(
        double: DiscordDouble, seed_service: QAService) -> None:
    settings = seed_service.settings.model_copy(update={"ask_cooldown_rate": 5, "ask_cooldown_seconds": 60.0})
    bot = NewsBot(settings, seed_service, guild_ready_timeout=0.1)
    task = await connected(double, bot)
    try:
        await burst_is_acknowledged_and_answered(double, 50, users=10, timeout=120)
        assert bot.latency < 1.0
    finally:
        await disconnect(bot, task)


async def test_sigterm_lets_the_answers_in_flight_finish(double: DiscordDouble, seed_service: QAService) -> None:
    bot = NewsBot(seed_service.settings, SlowSearch(seed_service, 2.0), guild_ready_timeout=0.1)  # type: ignore[arg-type]
    stop: asyncio.Future[None] = asyncio.get_running_loop().create_future()
    serving = asyncio.create_task(serve(bot, GOOD_TOKEN, stop))
    await double.wait_identified(timeout=30)
    tokens = await asyncio.gather(*(double.slash(800 + i, "ask", question=f"{QUESTION} ({i})") for i in range(3)))
    for _ in range(100):  # bounded: until all three are acknowledged ("thinking…")
        if all(t in double.callbacks for t in tokens):
            break
        await asyncio.sleep(0.05)
    assert all(double.callbacks[t].type == 5 for t in tokens)
    assert not any(double.followups.get(t) for t in tokens)  # acknowledged, answers still searching
    stop.set_result(None)  # what SIGTERM does
    await asyncio.wait_for(serving, 30)
    assert all(double.followups.get(t) and double.followups[t][1]["embeds"][0]["fields"] for t in tokens)
    assert bot.is_closed()
