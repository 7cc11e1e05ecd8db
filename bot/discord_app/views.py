"""The buttons under an answer ("Show context", "More") and under `/stats` ("Previous", "Next")."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import discord

from bot.answer import Answer
from bot.discord_app import feedback
from bot.discord_app.render import answer_embed, cooldown_text, stats_embed, stats_page_count
from bot.discord_app.replies import NO_PINGS, log_answer, report_failure
from bot.followup import Turn
from bot.stats import Stat

if TYPE_CHECKING:
    from bot.discord_app.app import NewsBot

log = logging.getLogger("bot.discord")

#: Neighbouring sentences on each side that "Show context" adds.
CONTEXT_SENTENCES = 2
#: Seconds the buttons stay live (under the 15 minutes an interaction token lasts).
VIEW_TIMEOUT = 600.0


class ExpiringView(discord.ui.View):
    """A view whose buttons disappear from `message` when it times out, and whose callback
    errors reach the user as a short ephemeral message (`what` names the buttons in the log)."""

    what = "button"
    message: discord.Message | discord.WebhookMessage | None = None

    async def on_error(self, interaction: discord.Interaction, error: Exception,
                       item: discord.ui.Item[Any]) -> None:
        await report_failure(interaction, error, self.what)

    async def on_timeout(self) -> None:
        if self.message is not None:
            try:
                await self.message.edit(view=None)
            except discord.HTTPException:
                log.debug("could not remove expired buttons", exc_info=True)


class AnswerView(ExpiringView):
    """Buttons that re-ask the same question with context or from the next offset, editing the
    answer in place, and "Follow up", which opens a modal for a follow-up question. The
    question, k, offset, context and earlier turns live in the view (not in custom ids), so the
    buttons work until `VIEW_TIMEOUT`, then they are removed."""

    what = "answer button"

    def __init__(self, bot: NewsBot, answer: Answer, k: int, context: int = 0, as_of: str | None = None,
                 earlier: tuple[Turn, ...] = ()) -> None:
        super().__init__(timeout=VIEW_TIMEOUT)
        self.bot = bot
        self.as_of = as_of
        self.answer = answer
        self.earlier = earlier
        self.question = answer.question
        self.k = k
        self.offset = answer.offset
        self.context = context
        self.message = None
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

    @discord.ui.button(label="Follow up", style=discord.ButtonStyle.secondary)
    async def follow_up(self, interaction: discord.Interaction, _: discord.ui.Button[Any]) -> None:
        """Open a modal for a follow-up question, answered with this one as context."""
        await interaction.response.send_modal(FollowUpModal(self.bot, (*self.earlier, Turn.of(self.answer)),
                                                            self.k, self.as_of))

    @discord.ui.button(label="Helpful", emoji="👍", style=discord.ButtonStyle.success)
    async def vote_up(self, interaction: discord.Interaction, _: discord.ui.Button[Any]) -> None:
        """A good answer: the passages shown count as hits for this question."""
        await feedback.vote_up(self.bot, interaction, self._message_id(interaction), self.answer)

    @discord.ui.button(label="Not helpful", emoji="👎", style=discord.ButtonStyle.danger)
    async def vote_down(self, interaction: discord.Interaction, _: discord.ui.Button[Any]) -> None:
        """A bad answer: the passages shown count as misses; a modal asks for a reason."""
        await feedback.vote_down(self.bot, interaction, self._message_id(interaction), self.answer)

    def _message_id(self, interaction: discord.Interaction) -> int:
        if self.message is not None:
            return self.message.id
        return interaction.message.id if interaction.message is not None else interaction.id

    async def _replace(self, interaction: discord.Interaction, offset: int, context: int) -> None:
        await interaction.response.defer()  # search runs in a thread; acknowledge first
        answer = await asyncio.to_thread(self.bot.service.ask, self.question, self.k, offset, context, self.as_of,
                                         self.earlier)
        view = AnswerView(self.bot, answer, self.k, context, self.as_of, self.earlier)
        view.message = self.message
        self.stop()
        await interaction.edit_original_response(embed=answer_embed(answer), view=view,
                                                 allowed_mentions=NO_PINGS)
        log.info("button page offset=%d context=%d for user %s", offset, context, interaction.user.id)


class FollowUpModal(discord.ui.Modal, title="Follow-up question"):
    """The "Follow up" modal: one question, answered publicly with the earlier turns as context."""

    question: discord.ui.TextInput[Any] = discord.ui.TextInput(
        label="Your follow-up question", placeholder="e.g. and how many russians?", max_length=300,
        custom_id="question")

    def __init__(self, bot: NewsBot, earlier: tuple[Turn, ...], k: int, as_of: str | None) -> None:
        super().__init__(timeout=VIEW_TIMEOUT)
        self.bot = bot
        self.earlier = earlier
        self.k = k
        self.as_of = as_of

    async def on_submit(self, interaction: discord.Interaction) -> None:
        t0 = time.perf_counter()
        _, retry = self.bot.cooldown.hit(interaction.user.id)
        if retry is not None:
            await interaction.response.send_message(cooldown_text(retry), ephemeral=True, allowed_mentions=NO_PINGS)
            self.bot.count("follow-up", "cooled_down", interaction.guild_id)
            return
        await interaction.response.defer(thinking=True)
        answer = await asyncio.to_thread(self.bot.service.ask, self.question.value, self.k, 0, None, self.as_of,
                                         self.earlier)
        view = AnswerView(self.bot, answer, self.k, as_of=self.as_of, earlier=self.earlier)
        view.message = await interaction.followup.send(embed=answer_embed(answer), view=view,
                                                       allowed_mentions=NO_PINGS, wait=True)
        self.bot.remember(view.message.id, self.earlier, answer)
        self.bot.count("follow-up", "answered" if answer.answered else "not_covered", interaction.guild_id,
                       time.perf_counter() - t0)
        log_answer("follow-up", interaction.user.id, answer.answered, len(answer.hits), time.perf_counter() - t0)

    async def on_error(self, interaction: discord.Interaction, error: Exception, /) -> None:  # type: ignore[override]
        self.bot.count("follow-up", "error", interaction.guild_id)
        await report_failure(interaction, error, "follow-up")


class StatsView(ExpiringView):
    """"Previous" / "Next" under a `/stats` embed with more figures than one page holds.

    The figures were fetched once for the command and live in the view, so paging is pure
    rendering (no service call, answered at once). After `VIEW_TIMEOUT` the buttons are removed.
    """

    what = "stats button"

    def __init__(self, stats: Sequence[Stat], topic: str | None, page: int = 0) -> None:
        super().__init__(timeout=VIEW_TIMEOUT)
        self.stats = list(stats)
        self.topic = topic
        self.pages = stats_page_count(self.stats)
        self.page = min(max(page, 0), self.pages - 1)
        self.message = None
        self._update_buttons()

    def embed(self) -> discord.Embed:
        """The embed of the current page."""
        return stats_embed(self.stats, self.topic, self.page)

    def _update_buttons(self) -> None:
        self.previous_page.disabled = self.page == 0
        self.next_page.disabled = self.page >= self.pages - 1

    @discord.ui.button(label="Previous", style=discord.ButtonStyle.secondary)
    async def previous_page(self, interaction: discord.Interaction, _: discord.ui.Button[Any]) -> None:
        """Show the previous page of figures."""
        await self._turn(interaction, self.page - 1)

    @discord.ui.button(label="Next", style=discord.ButtonStyle.primary)
    async def next_page(self, interaction: discord.Interaction, _: discord.ui.Button[Any]) -> None:
        """Show the next page of figures."""
        await self._turn(interaction, self.page + 1)

    async def _turn(self, interaction: discord.Interaction, page: int) -> None:
        self.page = min(max(page, 0), self.pages - 1)
        self._update_buttons()
        await interaction.response.edit_message(embed=self.embed(), view=self, allowed_mentions=NO_PINGS)
        log.info("stats page %d of %d for user %s", self.page + 1, self.pages, interaction.user.id)

