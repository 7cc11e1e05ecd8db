"""👍 / 👎 under every answer: the vote is stored (`bot.votes`), a 👎 opens a modal for an
optional short reason. A database that cannot be written is a warning in the log and an
ephemeral "could not save" line; the answer itself is never touched."""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any

import discord

from bot.discord_app.replies import NO_PINGS, report_failure
from bot.votes import MAX_REASON, shown_passages

if TYPE_CHECKING:
    from bot.answer import Answer
    from bot.discord_app.app import NewsBot

log = logging.getLogger("bot.discord")

THANKS_UP = "Thanks for the 👍: these passages will count as good answers to that question."
THANKS_REASON = "Thanks: your reason was saved with your 👎."
NOT_SAVED = "Sorry: your vote could not be saved right now (the problem was logged). The answer is unaffected."


async def record_vote(bot: NewsBot, interaction: discord.Interaction, message_id: int, answer: Answer,
                      up: bool) -> bool:
    """Store the user's vote on the answer message `message_id` (off the event loop)."""
    saved = await asyncio.to_thread(
        bot.votes.record, message_id, interaction.user.id, 1 if up else -1, answer.question,
        shown_passages(answer), interaction.guild_id, interaction.channel_id)
    if saved:
        bot.metrics.vote(up)
    log.info("vote %s on answer %s by user %s: %s", "up" if up else "down", message_id, interaction.user.id,
             "saved" if saved else "not saved")
    return saved


async def vote_up(bot: NewsBot, interaction: discord.Interaction, message_id: int, answer: Answer) -> None:
    """👍: store it and thank the voter (only they see it)."""
    await interaction.response.defer(ephemeral=True, thinking=True)
    saved = await record_vote(bot, interaction, message_id, answer, True)
    await interaction.followup.send(THANKS_UP if saved else NOT_SAVED, ephemeral=True, allowed_mentions=NO_PINGS)


async def vote_down(bot: NewsBot, interaction: discord.Interaction, message_id: int, answer: Answer) -> None:
    """👎: open the reason modal at once (a modal must be the first response), then store the vote."""
    modal = ReasonModal(bot, message_id)
    await interaction.response.send_modal(modal)
    # The reason may come back before the vote is stored: the modal waits for this task first.
    modal.recorded = asyncio.ensure_future(record_vote(bot, interaction, message_id, answer, False))
    if not await modal.recorded:
        await interaction.followup.send(NOT_SAVED, ephemeral=True, allowed_mentions=NO_PINGS)


class ReasonModal(discord.ui.Modal, title="What was wrong with this answer?"):
    """The optional reason for a 👎, saved with the vote."""

    reason: discord.ui.TextInput[Any] = discord.ui.TextInput(
        label="Reason (optional)", style=discord.TextStyle.paragraph, required=False,
        max_length=MAX_REASON, placeholder="e.g. the passages are about another event", custom_id="reason")

    def __init__(self, bot: NewsBot, message_id: int) -> None:
        super().__init__(timeout=600)
        self.bot = bot
        self.message_id = message_id
        self.recorded: asyncio.Future[bool] | None = None  # the 👎 being stored (set by vote_down)

    async def on_submit(self, interaction: discord.Interaction) -> None:
        text = (self.reason.value or "").strip()
        saved = True
        if self.recorded is not None:
            saved = await asyncio.shield(self.recorded)  # the vote first, then its reason
        if text and saved:
            saved = await asyncio.to_thread(self.bot.votes.set_reason, self.message_id, interaction.user.id, text)
        await interaction.response.send_message(THANKS_REASON if saved else NOT_SAVED, ephemeral=True,
                                                allowed_mentions=NO_PINGS)

    async def on_error(self, interaction: discord.Interaction, error: Exception, /) -> None:  # type: ignore[override]
        await report_failure(interaction, error, "vote reason")
