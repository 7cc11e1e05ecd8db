"""Pure decisions about incoming Discord input: which messages are questions, what a failure
tells the user. Kept apart from the client so they are tested as plain functions."""

from __future__ import annotations

import re

from discord import app_commands

from bot.discord_app.render import cooldown_text
from bot.errors import BotError

MENTION_HINT = ("Ask me a question after the mention, e.g. “@me How many troops were deployed?”, "
                "or use /ask.")
ATTACHMENT_HINT = ("I only read the text of a message, not attachments or images: type your question, "
                   "e.g. “How many troops were deployed?”")
UNEXPECTED = "Something went wrong on my side; the error was logged. Please try again later."


def extract_question(content: str, bot_id: int, *, mentioned: bool, ask_channel: bool) -> str | None:
    """The question in a channel message, `""` for a bare mention, None when not addressed to us.

    A message is addressed to the bot when it mentions the bot or is in an ask channel. The
    bot's own mention tokens (`<@id>`, `<@!id>`) are removed; other text is kept as written.
    """
    if not (mentioned or ask_channel):
        return None
    text = re.sub(rf"<@!?{bot_id}>", " ", content)
    return " ".join(text.split())


def user_message(error: BaseException) -> str | None:
    """The one-line message a user sees for a failed command, or None for an unexpected error
    (which the caller logs with its traceback and answers with `UNEXPECTED`)."""
    if isinstance(error, app_commands.CommandInvokeError | app_commands.TransformerError):
        error = error.__cause__ or error
    if isinstance(error, BotError):
        return f"Sorry: {error}"
    if isinstance(error, app_commands.CommandOnCooldown):
        return cooldown_text(error.retry_after)
    if isinstance(error, app_commands.MissingPermissions):
        return "Only members with the Manage Server permission can do that."
    if isinstance(error, app_commands.NoPrivateMessage):
        return "That command only works in a server."
    if isinstance(error, app_commands.CheckFailure):
        return "You can't use that command here."
    return None
