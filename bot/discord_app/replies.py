"""Sending to Discord safely: no pings, ephemeral failures, tracebacks to the log only."""

from __future__ import annotations

import logging

import discord

from bot.discord_app.parsing import UNEXPECTED, user_message

log = logging.getLogger("bot.discord")

#: Passed on every send: no `@everyone`, role, user or reply ping, whatever the text says.
NO_PINGS = discord.AllowedMentions.none()


async def send_ephemeral(interaction: discord.Interaction, text: str) -> None:
    """Tell only the user who interacted, whether or not the interaction was answered yet.

    After a public "thinking…" defer, Discord fixed the reply's visibility: the placeholder is
    completed with the text and deleted, so the ephemeral follow-up is the only trace left.
    """
    response = interaction.response
    if not response.is_done():
        await response.send_message(text, ephemeral=True, allowed_mentions=NO_PINGS)
        return
    if response.type is discord.InteractionResponseType.deferred_channel_message:
        try:
            await interaction.edit_original_response(content=text, embeds=[], view=None,
                                                     allowed_mentions=NO_PINGS)
            await interaction.delete_original_response()
        except discord.HTTPException:
            log.debug("could not remove the deferred placeholder", exc_info=True)
    await interaction.followup.send(text, ephemeral=True, allowed_mentions=NO_PINGS)


async def report_failure(interaction: discord.Interaction, error: BaseException, what: str) -> None:
    """Answer a failed command or button: a short ephemeral line; unexpected errors are logged
    with their traceback (never shown in Discord)."""
    text = user_message(error)
    if text is None:
        cause = getattr(error, "original", None) or error
        log.error("%s failed for user %s", what, interaction.user.id,
                  exc_info=(type(cause), cause, cause.__traceback__))
        text = UNEXPECTED
    else:
        log.info("%s refused for user %s: %s", what, interaction.user.id, text)
    try:
        await send_ephemeral(interaction, text)
    except discord.HTTPException:
        log.exception("could not tell user %s that %s failed", interaction.user.id, what)


def log_answer(via: str, user_id: int, answered: bool, passages: int, seconds: float) -> None:
    """The one log line per answered question, with its latency."""
    log.info("answered %s question from user %s: answered=%s passages=%d latency=%.3fs",
             via, user_id, answered, passages, seconds)
