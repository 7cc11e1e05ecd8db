"""The buttons under an answer: "Show context" (neighbouring sentences) and "More" (next page)."""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any

import discord

from bot.answer import Answer
from bot.discord_app.render import answer_embed
from bot.discord_app.replies import NO_PINGS, report_failure

if TYPE_CHECKING:
    from bot.discord_app.app import NewsBot

log = logging.getLogger("bot.discord")

#: Neighbouring sentences on each side that "Show context" adds.
CONTEXT_SENTENCES = 2
#: Seconds the buttons stay live (under the 15 minutes an interaction token lasts).
VIEW_TIMEOUT = 600.0


class AnswerView(discord.ui.View):
    """Buttons that re-ask the same question with context or from the next offset, editing the
    answer in place. The question, k, offset and context live in the view (not in custom ids),
    so the buttons work until `VIEW_TIMEOUT`, then they are removed."""

    def __init__(self, bot: NewsBot, answer: Answer, k: int, context: int = 0) -> None:
        super().__init__(timeout=VIEW_TIMEOUT)
        self.bot = bot
        self.question = answer.question
        self.k = k
        self.offset = answer.offset
        self.context = context
        self.message: discord.Message | discord.WebhookMessage | None = None
        self.show_context.disabled = context > 0 or not answer.hits
        self.more.disabled = not (answer.answered and len(answer.hits) >= k)

    @discord.ui.button(label="Show context", style=discord.ButtonStyle.secondary)
    async def show_context(self, interaction: discord.Interaction, _: discord.ui.Button[Any]) -> None:
        """Re-show the same passages with their neighbouring sentences."""
        await self._replace(interaction, self.offset, max(CONTEXT_SENTENCES, self.context))

    @discord.ui.button(label="More", style=discord.ButtonStyle.primary)
    async def more(self, interaction: discord.Interaction, _: discord.ui.Button[Any]) -> None:
        """Show the next `k` passages."""
        await self._replace(interaction, self.offset + self.k, self.context)

    async def _replace(self, interaction: discord.Interaction, offset: int, context: int) -> None:
        await interaction.response.defer()  # search runs in a thread; acknowledge first
        answer = await asyncio.to_thread(self.bot.service.ask, self.question, self.k, offset, context)
        view = AnswerView(self.bot, answer, self.k, context)
        view.message = self.message
        self.stop()
        await interaction.edit_original_response(embed=answer_embed(answer), view=view,
                                                 allowed_mentions=NO_PINGS)
        log.info("button page offset=%d context=%d for user %s", offset, context, interaction.user.id)

    async def on_error(self, interaction: discord.Interaction, error: Exception,
                       item: discord.ui.Item[Any]) -> None:
        await report_failure(interaction, error, "answer button")

    async def on_timeout(self) -> None:
        if self.message is not None:
            try:
                await self.message.edit(view=None)
            except discord.HTTPException:
                log.debug("could not remove expired buttons", exc_info=True)
