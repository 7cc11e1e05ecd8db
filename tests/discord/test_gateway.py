"""Wall-clock tests on the real gateway path: the real discord.py client, connected over a
websocket to the API double on 127.0.0.1, answers interactions while heartbeating."""

from __future__ import annotations

import asyncio
import logging
import re
import time
from typing import Any

import discord
import pytest

from bot.config import Settings
from bot.discord_app import NewsBot, run_bot
from bot.service import QAService
from tests.discord.api_double import GOOD_TOKEN, GUILD_ID, HEARTBEAT, DiscordDouble

pytestmark = [pytest.mark.asyncio(loop_scope="session"), pytest.mark.timeout(90)]

QUESTION = "How many North Korean soldiers were deployed?"


class SlowSearch:
    """The seed service, with each `ask` taking `delay` seconds longer (a slow search)."""

    def __init__(self, service: QAService, delay: float) -> None:
        self._service = service
        self.delay = delay

    def ask(self, *args: Any, **kwargs: Any) -> Any:
        time.sleep(self.delay)
        return self._service.ask(*args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._service, name)


async def connected(double: DiscordDouble, bot: NewsBot) -> asyncio.Task[None]:
    """Start the bot against the double and wait until it identified (bounded)."""
    task = asyncio.create_task(bot.start(GOOD_TOKEN))
    await double.wait_identified(timeout=30)
    return task


async def disconnect(bot: NewsBot, task: asyncio.Task[None]) -> None:
    await bot.close()
    await asyncio.wait_for(task, 10)


def max_gap(times: list[float], start: float, end: float) -> float:
    inside = [start, *[t for t in times if start <= t <= end], end]
    return max(b - a for a, b in zip(inside, inside[1:], strict=False))


async def burst_is_acknowledged_and_answered(double: DiscordDouble, n: int, users: int, timeout: float) -> None:
    """`n` /ask interactions at once from `users` users: each is deferred ("thinking…") within
    3 s and answered with cited fields, and the heartbeat never stops for 4 intervals."""
    t0 = time.monotonic()
    tokens = await asyncio.gather(*(double.slash(600 + i % users, "ask", question=f"{QUESTION} ({i})")
                                    for i in range(n)))
    await double.wait_followups(list(tokens), timeout=timeout)
    end = max(double.followups[t][0] for t in tokens)
    assert all(double.callbacks[t].type == 5 and double.callbacks[t].at - t0 < 3.0 for t in tokens)
    assert all(double.followups[t][1]["embeds"][0]["fields"] for t in tokens)
    assert max_gap(double.heartbeats, t0, end) < 4 * HEARTBEAT


async def test_slow_ask_is_deferred_within_3s_and_heartbeats_continue(
        double: DiscordDouble, seed_service: QAService, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="bot.discord")
    bot = NewsBot(seed_service.settings, SlowSearch(seed_service, 4.0), guild_ready_timeout=0.1)  # type: ignore[arg-type]
    task = await connected(double, bot)
    try:
        t0 = time.monotonic()
        token = await double.slash(501, "ask", question=QUESTION)
        await double.wait_followups([token], timeout=20)
        done = double.followups[token][0]
        callback = double.callbacks[token]
        assert callback.type == 5  # DEFERRED_CHANNEL_MESSAGE_WITH_SOURCE: "thinking…"
        assert callback.at - t0 < 3.0
        assert done - t0 >= 4.0
        embed = double.followups[token][1]["embeds"][0]
        assert embed["title"] == QUESTION
        assert "11,000 North Korean soldiers" in " ".join(f["value"] for f in embed["fields"])
        assert double.followups[token][1]["allowed_mentions"] == {"parse": []}
        # The loop kept heartbeating while the search ran in a thread.
        assert len([t for t in double.heartbeats if t0 <= t <= done]) >= 8
        assert max_gap(double.heartbeats, t0, done) < 4 * HEARTBEAT
        assert bot.latency < 1.0
        # The answer's log line follows its followup: on a loaded machine it can come a little later.
        for _ in range(50):
            answered = [r.getMessage() for r in caplog.records if "answered /ask" in r.getMessage()]
            if answered:
                break
            await asyncio.sleep(0.1)
        assert len(answered) == 1
        latency = re.search(r"latency=(\d+(?:\.\d+)?)", answered[0])
        assert latency is not None and float(latency.group(1)) >= 4.0  # the slow search, timed
    finally:
        await disconnect(bot, task)


async def test_twenty_concurrent_asks_are_all_deferred_within_3s_and_answered(
        double: DiscordDouble, seed_service: QAService) -> None:
    bot = NewsBot(seed_service.settings, seed_service, guild_ready_timeout=0.1)
    task = await connected(double, bot)
    try:
        await burst_is_acknowledged_and_answered(double, 20, users=20, timeout=60)
    finally:
        await disconnect(bot, task)


@pytest.mark.parametrize("guild_id, path", [
    (GUILD_ID, f"/api/v10/applications/900000000000000001/guilds/{GUILD_ID}/commands"),
    (None, "/api/v10/applications/900000000000000001/commands"),
], ids=["guild", "global"])
async def test_commands_sync_to_the_guild_when_set_else_globally(
        double: DiscordDouble, seed_service: QAService, guild_id: int | None, path: str) -> None:
    settings = seed_service.settings.model_copy(update={"discord_guild_id": guild_id})
    bot = NewsBot(settings, seed_service, guild_ready_timeout=0.1)
    task = await connected(double, bot)
    try:
        assert double.synced == [(path, ["ask", "stats", "sources", "reindex", "add", "help"])]
        assert double.identify is not None
        assert double.identify["intents"] & discord.Intents(message_content=True).value == 0
    finally:
        await disconnect(bot, task)


async def test_rejected_token_is_one_line_and_exit_code_1_without_the_token(
        double: DiscordDouble, tmp_path: Any, capsys: pytest.CaptureFixture[str],
        caplog: pytest.LogCaptureFixture) -> None:
    rejected = "OTAwMDAwMDAwMDAwMDAwMDAy.Gwrong.zyxwvutsrqponmlkjihgfedcba9876543210ZZ"
    settings = Settings(_env_file=None, discord_token=rejected,  # type: ignore[call-arg]
                        corpus_dir=tmp_path / "corpus", index_dir=tmp_path / "index")
    code = await asyncio.to_thread(run_bot, settings)
    err = capsys.readouterr().err
    assert code == 1
    assert err.strip().splitlines() == [
        "error: Discord rejected DISCORD_TOKEN (401 Unauthorized): reset the token in the "
        "Developer Portal and update .env"]
    assert rejected not in err and rejected not in caplog.text and "Traceback" not in err
