"""The Discord client: intents, command sync, the per-user cooldown, channel questions and the
error edge. Slash commands live in `commands.py`, rendering in `render.py`."""

from __future__ import annotations

import asyncio
import logging
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import discord
from discord import app_commands

from bot.config import Settings
from bot.discord_app.conversations import Conversations
from bot.discord_app.parsing import ATTACHMENT_HINT, MENTION_HINT, UNEXPECTED, extract_question
from bot.discord_app.render import HELP_TEXT, answer_embed, cooldown_text, help_embed
from bot.discord_app.replies import NO_PINGS, log_answer, report_failure
from bot.discord_app.views import AnswerView
from bot.errors import BotError
from bot.followup import Turn
from bot.metrics import BotMetrics
from bot.service import QAService
from bot.smalltalk import small_talk
from bot.votes import VoteStore

log = logging.getLogger("bot.discord")


class UserCooldown:
    """At most `rate` questions per `per` seconds per user, shared by /ask and channel questions."""

    def __init__(self, rate: int, per: float) -> None:
        self.rate = rate
        self.per = per
        self._buckets: dict[int, app_commands.Cooldown] = {}
        self._noticed: dict[int, float] = {}

    def hit(self, user_id: int) -> tuple[app_commands.Cooldown, float | None]:
        """Count one question. Returns the user's bucket and the seconds to wait (None if allowed)."""
        if len(self._buckets) > 10_000:  # forget users whose window has passed
            now = time.time()
            self._buckets = {u: b for u, b in self._buckets.items() if now - b._window < self.per}
        bucket = self._buckets.setdefault(user_id, app_commands.Cooldown(self.rate, self.per))
        return bucket, bucket.update_rate_limit()

    def first_notice(self, key: int, retry: float) -> bool:
        """True the first time `key` is told to slow down in a window, then False until the
        window has passed: a flood gets one notice, then silence."""
        now = time.monotonic()
        if len(self._noticed) > 10_000:
            self._noticed = {k: t for k, t in self._noticed.items() if t > now}
        if self._noticed.get(key, 0.0) > now:
            return False
        self._noticed[key] = now + retry
        return True


def intents_for(settings: Settings) -> discord.Intents:
    """Default intents; Message Content (privileged) only when there are ask channels."""
    intents = discord.Intents.default()
    intents.message_content = bool(settings.ask_channel_ids)
    return intents


class NewsTree(app_commands.CommandTree["NewsBot"]):
    """The command tree; its error handler is the Discord edge for every slash command."""

    async def on_error(self, interaction: discord.Interaction[NewsBot],
                       error: app_commands.AppCommandError) -> None:
        name = interaction.command.qualified_name if interaction.command else "command"
        if name == "ask":
            outcome = "cooled_down" if isinstance(error, app_commands.CommandOnCooldown) else "error"
            interaction.client.count("/ask", outcome, interaction.guild_id)
        await report_failure(interaction, error, f"/{name}")


class NewsBot(discord.AutoShardedClient):
    """The bot: answers slash commands and questions in channels from a `QAService`.

    Sharded with discord.py's own `AutoShardedClient`: the shard count Discord recommends, or
    SHARD_COUNT with SHARD_IDS for the slice of shards this process runs (several processes
    or machines then share one bot; each answers the guilds of its shards).

    Args:
        settings: the configuration (guild for command sync, ask channels, cooldown, shards).
        service: the shared, thread-safe question-answering service; every call to it goes
            through `asyncio.to_thread` so the gateway heartbeat never stalls.
    """

    def __init__(self, settings: Settings, service: QAService, **options: Any) -> None:
        if settings.shard_count is not None:
            options.setdefault("shard_count", settings.shard_count)
            if settings.shard_ids:
                options.setdefault("shard_ids", list(settings.shard_ids))
        super().__init__(intents=intents_for(settings), allowed_mentions=NO_PINGS, **options)
        self.settings = settings
        self.service = service
        self.cooldown = UserCooldown(settings.ask_cooldown_rate, settings.ask_cooldown_seconds)
        #: Per channel, all users together (keyed by channel id).
        self.channel_cooldown = UserCooldown(settings.ask_channel_rate, settings.ask_channel_seconds)
        self.tree = NewsTree(self)
        self.feed_task: asyncio.Task[None] | None = None
        self.conversations = Conversations()
        self.metrics = BotMetrics(service, lambda: list(self.latencies))
        self.votes = VoteStore.in_data_dir(settings.data_dir)
        self.health_server: Any = None
        self.feed_rounds = 0
        from bot.discord_app.commands import COMMANDS

        for command in COMMANDS:
            self.tree.add_command(command)

    async def setup_hook(self) -> None:
        """Load (or first build) the index off the loop, sync the application commands, and
        start polling FEEDS when there are any. /healthz and /metrics are served from the start
        (503 "no index loaded" while the index loads) when METRICS_PORT is set."""
        from bot.discord_app.health import start_health_server

        # Bounded workers: a flood queues (latency grows gently) instead of starting a thread per
        # question that all fight over the same cores.
        asyncio.get_running_loop().set_default_executor(
            ThreadPoolExecutor(max_workers=self.settings.answer_workers, thread_name_prefix="answer"))
        self.health_server = start_health_server(self)
        built = await asyncio.to_thread(self.service.ensure_index)
        if built is not None:
            log.info("built the index: %s", built.summary())
        if self.settings.feeds:
            self.feed_task = asyncio.create_task(self.poll_feeds_forever(), name="feeds")
        synced = await self.sync_commands()
        log.info("synced %d commands (%s) %s", len(synced), ", ".join(f"/{c.name}" for c in synced),
                 f"to guild {self.settings.discord_guild_id}" if self.settings.discord_guild_id
                 else "globally (may take up to an hour to appear)")

    async def sync_commands(self) -> list[app_commands.AppCommand]:
        """Sync to DISCORD_GUILD_ID when set (instant), else globally."""
        if self.settings.discord_guild_id:
            guild = discord.Object(self.settings.discord_guild_id)
            self.tree.copy_global_to(guild=guild)
            return await self.tree.sync(guild=guild)
        return await self.tree.sync()

    async def poll_feeds_forever(self) -> None:
        """Every FEED_POLL_MINUTES, one feed round in a thread; new articles are indexed and the
        new index swapped in while questions keep being answered. A failed round is logged."""
        while not self.is_closed():
            try:
                found, built = await asyncio.to_thread(self.service.poll_feeds)
                for line in found.lines():
                    log.info("feeds: %s", line)
                if built is not None:
                    log.info("feeds: index rebuilt: %s", built.summary())
                self.feed_rounds += 1
            except Exception:  # a round must never end the loop; the next one retries
                log.exception("feed round failed")
            await asyncio.sleep(self.settings.feed_poll_minutes * 60)

    async def close(self) -> None:
        if self.feed_task is not None:
            self.feed_task.cancel()
        if self.health_server is not None:
            await asyncio.to_thread(self.health_server.stop)
            self.health_server = None
        await super().close()

    def shard_of(self, guild_id: int | None) -> int:
        """The shard that serves `guild_id` (Discord's rule: `(id >> 22) % shard_count`; 0 for DMs)."""
        if guild_id is None or not self.shard_count:
            return 0
        return (guild_id >> 22) % self.shard_count

    def count(self, frontend: str, outcome: str, guild_id: int | None, seconds: float | None = None) -> None:
        """Count one question in the metrics, on the shard of its guild."""
        self.metrics.question(frontend, outcome, self.shard_of(guild_id), seconds)

    async def on_ready(self) -> None:
        log.info("logged in as %s (%s) in %d servers", self.user, getattr(self.user, "id", "?"),
                 len(self.guilds))

    async def on_message(self, message: discord.Message) -> None:
        """Answer a message that mentions the bot, any message in an ask channel, a reply to one
        of the bot's answers and a message in a thread started from one (the last two as
        follow-ups), as a reply."""
        if message.author.bot or self.user is None:
            return
        follows = self.conversations.earlier_for(message, self.user.id)
        if follows is not None and not message.content.strip():
            return  # no Message Content intent: nothing to read
        question = extract_question(
            message.content, self.user.id,
            mentioned=self.user in message.mentions or follows is not None,
            ask_channel=message.guild is not None and message.channel.id in self.settings.ask_channel_ids,
        )
        if question is None:
            return
        mentioned = self.user in message.mentions
        if not question and not mentioned:
            if not (message.attachments or message.stickers):
                return  # an ask-channel message with nothing in it (an embed, a pin): not a question
            question_hint = ATTACHMENT_HINT
        else:
            question_hint = MENTION_HINT
        earlier, key = follows if follows is not None else ((), None)
        try:
            await self.answer_message(message, question, question_hint, earlier=earlier, thread=key)
        except Exception as exc:
            text = f"Sorry: {exc}" if isinstance(exc, BotError) else UNEXPECTED
            self.count("message", "error", message.guild.id if message.guild else None)
            if not isinstance(exc, BotError):
                log.exception("channel question failed for user %s", message.author.id)
            await message.reply(text, mention_author=False, allowed_mentions=NO_PINGS)

    def remember(self, message_id: int, earlier: tuple[Turn, ...], answer: Any, thread: int | None = None) -> None:
        """Remember the conversation behind an answer message (and the thread it continues)."""
        turns = (*earlier, Turn.of(answer))
        self.conversations.remember(message_id, turns)
        if thread is not None:
            self.conversations.remember(thread, turns)

    async def answer_message(self, message: discord.Message, question: str, hint: str = MENTION_HINT,
                             earlier: tuple[Turn, ...] = (), thread: int | None = None) -> None:
        """Reply to a channel question with the cited answer (or a hint, or the cooldown);
        `earlier` turns make it a follow-up, `thread` the thread it continues.

        Past the per-user or the per-channel rate, the first message gets "you're asking
        quickly", the rest of the window no reply at all (a flood is not answered 30 times).
        """
        if not question:
            if self._within_rate(message) is None:
                await message.reply(hint, mention_author=False, allowed_mentions=NO_PINGS)
            return
        talk = small_talk(question, HELP_TEXT)
        if talk is not None:  # "hi", "thanks", "help": a short reply, no search
            if talk.kind == "help":
                await message.reply(embed=help_embed(), mention_author=False, allowed_mentions=NO_PINGS)
            else:
                await message.reply(talk.reply, mention_author=False, allowed_mentions=NO_PINGS)
            return
        retry = self._within_rate(message)
        if retry is not None:
            if retry > 0:
                await message.reply(cooldown_text(retry), mention_author=False, allowed_mentions=NO_PINGS)
            self.count("message", "cooled_down", message.guild.id if message.guild else None)
            return
        t0 = time.perf_counter()
        answer = await asyncio.to_thread(self.service.ask, question, earlier=earlier)
        view = AnswerView(self, answer, self.settings.top_k, earlier=earlier)
        view.message = await message.reply(embed=answer_embed(answer), view=view,
                                           mention_author=False, allowed_mentions=NO_PINGS)
        self.remember(view.message.id, earlier, answer, thread)
        self.count("message", "answered" if answer.answered else "not_covered",
                   message.guild.id if message.guild else None, time.perf_counter() - t0)
        log_answer("message", message.author.id, answer.answered, len(answer.hits), time.perf_counter() - t0)


    def _within_rate(self, message: discord.Message) -> float | None:
        """None when the message may be answered; else the seconds to wait, or 0 when the
        sender (or channel) was already told in this window (stay silent)."""
        _, retry = self.cooldown.hit(message.author.id)
        key = message.author.id
        if retry is None:
            _, retry = self.channel_cooldown.hit(message.channel.id)
            key = -message.channel.id
            cooldown = self.channel_cooldown
        else:
            cooldown = self.cooldown
        if retry is None:
            return None
        if cooldown.first_notice(key, retry):
            return retry
        log.debug("silent: %s still over the rate for %.0f s", message.author.id, retry)
        return 0.0


def create_bot(settings: Settings, service: QAService | None = None) -> NewsBot:
    """Build the bot (not connected). `service` defaults to a `QAService` over `settings`."""
    return NewsBot(settings, service or QAService(settings))
