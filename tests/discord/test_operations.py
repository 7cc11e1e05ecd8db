"""Operations on the real gateway path: the real discord.py client (AutoShardedClient) against
the API double on 127.0.0.1. /healthz and /metrics are scraped over real HTTP on loopback while
the bot runs; the double hands out two shards and each answers its own guild's interactions."""

from __future__ import annotations

import asyncio
import json
import re
import urllib.error
import urllib.request
from typing import Any

import pytest

from bot.discord_app import NewsBot
from bot.discord_app.health import health
from bot.metrics import BotMetrics, HealthServer
from bot.service import QAService
from tests.discord.api_double import GOOD_TOKEN, GUILD_ID, DiscordDouble

pytestmark = [pytest.mark.asyncio(loop_scope="session"), pytest.mark.timeout(120)]

QUESTION = "How many North Korean soldiers were deployed?"
#: A guild on the other shard of two (Discord's rule: (id >> 22) % shards).
OTHER_GUILD = GUILD_ID + (1 << 22)


def get(url: str) -> tuple[int, str]:
    """A real HTTP GET, bounded to 5 s: (status, body)."""
    try:
        with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 - loopback only
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def sample(text: str, name: str, **labels: str) -> float | None:
    """The value of one sample in the Prometheus text format, or None."""
    want = ",".join(f'{k}="{v}"' for k, v in labels.items())
    pattern = rf"^{re.escape(name)}(?:\{{{re.escape(want)}\}})? (\S+)$" if labels else rf"^{re.escape(name)} (\S+)$"
    found = re.search(pattern, text, re.M)
    return float(found[1]) if found else None


async def until(check: Any, timeout: float = 20.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not check():
        assert asyncio.get_running_loop().time() < deadline, "condition not met in time"
        await asyncio.sleep(0.05)


async def start(double: DiscordDouble, bot: NewsBot, shards: int = 1) -> asyncio.Task[None]:
    async def no_wait(shard_id: int | None, *, initial: bool = False) -> None:
        return None  # Discord's 5 s between shard IDENTIFYs is for the real gateway only

    bot.before_identify_hook = no_wait  # type: ignore[method-assign]
    task = asyncio.create_task(bot.start(GOOD_TOKEN))
    await double.wait_shards(shards, timeout=30)
    await until(bot.is_ready)
    return task


async def stop(bot: NewsBot, task: asyncio.Task[None]) -> None:
    await bot.close()
    await asyncio.wait_for(task, 10)


async def test_healthz_and_metrics_answer_while_the_bot_runs_and_report_an_index_swap(
        double: DiscordDouble, service_for: Any, seed_corpus: Any) -> None:
    service: QAService = service_for(seed_corpus)
    service.rebuild()
    settings = service.settings.model_copy(update={"metrics_port": 0, "discord_guild_id": None})
    bot = NewsBot(settings, service, guild_ready_timeout=0.1)
    task = await start(double, bot)
    try:
        base = f"http://127.0.0.1:{bot.health_server.port}"
        status, body = await asyncio.to_thread(get, base + "/healthz")
        assert status == 200 and body.startswith("ok: 1 shard(s) connected, 16 passages indexed")
        token = await double.slash(501, "ask", question=QUESTION)
        await double.wait_followups([token], timeout=30)
        # the counter is bumped just after the follow-up is sent: wait for it, not for the send
        await until(lambda: sample(bot.metrics.exposition().decode(), "newsbot_questions_total",
                                   frontend="/ask", outcome="answered", shard="0") is not None)
        status, text = await asyncio.to_thread(get, base + "/metrics")
        assert status == 200
        assert sample(text, "newsbot_questions_total", frontend="/ask", outcome="answered", shard="0") == 1.0
        assert sample(text, "newsbot_answer_latency_seconds_count", frontend="/ask") == 1.0
        assert sample(text, "newsbot_passages_indexed") == 16.0
        assert sample(text, "newsbot_documents_indexed") == 1.0
        assert sample(text, "newsbot_gateway_latency_seconds", shard="0") is not None
        built = sample(text, "newsbot_index_built_timestamp_seconds")
        # An index swap: one more article, a rebuild while the bot runs.
        (seed_corpus / "extra.txt").write_text("Flood barriers were raised in the river town on Monday.\n"
                                               "Engineers said the pumps held overnight.\n", encoding="utf-8")
        await asyncio.sleep(1.1)  # a later build time, to the second
        await asyncio.to_thread(service.rebuild)
        _, text = await asyncio.to_thread(get, base + "/metrics")
        assert sample(text, "newsbot_documents_indexed") == 2.0
        assert sample(text, "newsbot_passages_indexed") == 18.0
        assert sample(text, "newsbot_last_build_success") == 1.0
        assert built is not None and sample(text, "newsbot_index_built_timestamp_seconds") > built  # type: ignore[operator]
        assert (await asyncio.to_thread(get, base + "/nothing"))[0] == 404
    finally:
        await stop(bot, task)
    assert bot.health_server is None  # stopped with the bot


async def test_healthz_is_503_with_the_reason_when_not_connected_or_no_index(
        service_for: Any, seed_corpus: Any) -> None:
    service: QAService = service_for(seed_corpus)  # never built: no index loaded
    bot = NewsBot(service.settings, service)
    assert health(bot) == (False, "no index loaded")
    server = HealthServer(BotMetrics(service), lambda: health(bot), "127.0.0.1", 0).start()
    try:
        status, body = await asyncio.to_thread(get, f"http://127.0.0.1:{server.port}/healthz")
        assert (status, body) == (503, "no index loaded\n")
        await asyncio.to_thread(service.rebuild)
        status, body = await asyncio.to_thread(get, f"http://127.0.0.1:{server.port}/healthz")
        assert (status, body) == (503, "not connected to Discord yet\n")
    finally:
        server.stop()


async def test_two_shards_both_answer_and_metrics_count_per_shard(
        double: DiscordDouble, seed_service: QAService) -> None:
    double.shards = 2  # GET /gateway/bot recommends two
    assert (GUILD_ID >> 22) % 2 != (OTHER_GUILD >> 22) % 2
    settings = seed_service.settings.model_copy(update={"discord_guild_id": None})
    bot = NewsBot(settings, seed_service, guild_ready_timeout=0.1)
    task = await start(double, bot, shards=2)
    try:
        assert bot.shard_count == 2 and sorted(bot.shards) == [0, 1]
        tokens = {}
        for guild in (GUILD_ID, OTHER_GUILD):
            shard = bot.shard_of(guild)
            tokens[shard] = await double.slash(700 + shard, "ask", shard=shard, guild_id=guild, question=QUESTION)
        await double.wait_followups(list(tokens.values()), timeout=30)
        for token in tokens.values():
            assert "11,000 North Korean soldiers" in json.dumps(double.followups[token][1]["embeds"])
        # the counter is bumped just after the follow-up is sent: wait for it, not for the send
        await until(lambda: all(sample(bot.metrics.exposition().decode(), "newsbot_questions_total",
                                       frontend="/ask", outcome="answered", shard=s) is not None
                                for s in ("0", "1")))
        text = bot.metrics.exposition().decode()
        for shard in ("0", "1"):
            assert sample(text, "newsbot_questions_total", frontend="/ask", outcome="answered", shard=shard) == 1.0
        await until(lambda: all(lat == lat for _, lat in bot.latencies))  # both heartbeat
        text = bot.metrics.exposition().decode()
        assert sample(text, "newsbot_gateway_latency_seconds", shard="0") is not None
        assert sample(text, "newsbot_gateway_latency_seconds", shard="1") is not None
        assert health(bot)[0] and health(bot)[1].startswith("ok: 2 shard(s) connected")
    finally:
        await stop(bot, task)


async def test_a_process_runs_only_its_slice_of_shards(double: DiscordDouble, seed_service: QAService) -> None:
    settings = seed_service.settings.model_copy(update={"discord_guild_id": None, "shard_count": 2,
                                                        "shard_ids": [1]})
    bot = NewsBot(settings, seed_service, guild_ready_timeout=0.1)
    task = await start(double, bot, shards=1)
    try:
        assert sorted(bot.shards) == [1] and list(double.shard_sockets) == [1]
        assert double.identify is not None and double.identify["shard"] == [1, 2]
    finally:
        await stop(bot, task)

