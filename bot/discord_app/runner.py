"""`run_bot`: start the bot from settings, turning every start-up failure into one clear line."""

from __future__ import annotations

import asyncio
import logging
import re
import signal
import sys

import discord

from bot.config import Settings
from bot.errors import BotError

log = logging.getLogger("bot.discord")

#: A bot token is three base64url parts joined by dots (user id, timestamp, HMAC).
TOKEN_SHAPE = re.compile(r"[A-Za-z0-9_-]{20,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{20,}")


def token_problem(settings: Settings) -> str | None:
    """Why DISCORD_TOKEN cannot be used, or None. Never includes the token itself."""
    token = settings.discord_token.get_secret_value().strip() if settings.discord_token else ""
    if not token:
        return ("DISCORD_TOKEN is not set: put the bot token from the Discord Developer Portal "
                "(Application > Bot > Reset Token) in .env or the environment")
    if token.lower().startswith("bot "):
        return "DISCORD_TOKEN must be the bare token, without the 'Bot ' prefix"
    if not TOKEN_SHAPE.fullmatch(token):
        return ("DISCORD_TOKEN is malformed: a bot token is three dot-separated parts; copy it "
                "again from the Developer Portal (Application > Bot > Reset Token)")
    return None


def _fail(message: str) -> int:
    print(f"error: {message}", file=sys.stderr)
    return 1


#: Tasks discord.py runs per event, command and button: the answers in flight.
_IN_FLIGHT = ("CommandTree-invoker", "discord.py: on_message", "discord-ui-view")
#: How long SIGTERM waits for answers in flight before closing anyway (seconds).
DRAIN_SECONDS = 30.0


async def serve(bot: discord.Client, token: str, stop: asyncio.Future[None] | None = None,
                drain_seconds: float = DRAIN_SECONDS) -> None:
    """Run `bot` until it stops or `stop` is done (by default: on SIGTERM). Then the answers in
    flight (slash commands, channel questions, buttons) finish, up to `drain_seconds`, before
    the connection closes: a restart loses no question already acknowledged."""
    loop = asyncio.get_running_loop()
    if stop is None:
        stop = loop.create_future()

        def on_sigterm() -> None:
            if not stop.done():
                stop.set_result(None)

        try:
            loop.add_signal_handler(signal.SIGTERM, on_sigterm)
        except (NotImplementedError, RuntimeError, ValueError):  # not the main thread, or no signals here
            pass
    runner = asyncio.create_task(bot.start(token), name="bot")
    done, _ = await asyncio.wait({runner, stop}, return_when=asyncio.FIRST_COMPLETED)
    if runner in done:
        runner.result()
        return
    pending = [t for t in asyncio.all_tasks() if t.get_name().startswith(_IN_FLIGHT) and not t.done()]
    log.warning("stopping: finishing %d answer(s) in flight first", len(pending))
    if pending:
        await asyncio.wait(pending, timeout=drain_seconds)
    await bot.close()
    await asyncio.wait_for(runner, 10)


def run_bot(settings: Settings) -> int:
    """Run the bot until it is stopped. Returns the exit code: 0 when stopped with Ctrl-C,
    1 with one line on stderr for a missing, malformed or rejected token, missing privileged
    intents, or a core error (no usable index, model not loadable). Logs go to stderr through
    `discord.utils.setup_logging` unless logging is already configured."""
    problem = token_problem(settings)
    if problem:
        return _fail(problem)
    assert settings.discord_token is not None
    token = settings.discord_token.get_secret_value().strip()
    if settings.log_format == "json":
        from bot.logs import configure

        configure("json", logging.INFO, token)
    elif not logging.getLogger().handlers:
        discord.utils.setup_logging(level=logging.INFO)
    else:  # logging already configured (the CLI, a host, pytest): keep its handlers, still log INFO
        for name in ("bot", "discord"):
            if logging.getLogger(name).level == logging.NOTSET:
                logging.getLogger(name).setLevel(logging.INFO)
    for noisy in ("sentence_transformers", "transformers", "faiss", "bm25s", "httpx"):
        logging.getLogger(noisy).setLevel(logging.ERROR)
    from bot.logs import RedactSecret

    for handler in logging.getLogger().handlers:  # the token never reaches a log line
        if not any(isinstance(f, RedactSecret) for f in handler.filters):
            handler.addFilter(RedactSecret(token))
    # The bot never joins voice: skip discord.py's "PyNaCl/davey is not installed" warnings.
    discord.VoiceClient.warn_nacl = False
    discord.VoiceClient.warn_dave = False
    from bot.discord_app.app import create_bot

    async def main() -> None:
        async with create_bot(settings) as bot:
            await serve(bot, settings.discord_token.get_secret_value().strip())  # type: ignore[union-attr]

    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        return 0
    except discord.LoginFailure:
        return _fail("Discord rejected DISCORD_TOKEN (401 Unauthorized): reset the token in the "
                     "Developer Portal and update .env")
    except discord.PrivilegedIntentsRequired:
        return _fail("ASK_CHANNEL_IDS needs the Message Content intent: enable it under "
                     "Application > Bot > Privileged Gateway Intents, or leave ASK_CHANNEL_IDS empty")
    except BotError as exc:
        return _fail(str(exc))
    except (discord.HTTPException, OSError) as exc:
        # An expected failure (no network, Discord down): one line; the traceback only at DEBUG.
        log.debug("start-up failed", exc_info=True)
        return _fail(f"could not connect to Discord: {type(exc).__name__}: {exc}")
    except Exception as exc:  # the Discord edge's last resort: the traceback to the log, one line out
        log.error("the bot stopped on an unexpected error", exc_info=True)
        return _fail(f"unexpected error: {type(exc).__name__}: {exc} (the traceback is in the log above)")
    return 0
