"""The slash commands. Each body validates, defers before slow work, runs the core in a thread
and sends what `render` built; failures go to `NewsTree.on_error`."""

from __future__ import annotations

import asyncio
import logging
import time
from typing import TYPE_CHECKING, cast

import discord
from discord import app_commands

from bot.discord_app import render
from bot.discord_app.replies import NO_PINGS, log_answer
from bot.discord_app.views import AnswerView, StatsView
from bot.errors import ReindexInProgressError, UsageError
from bot.smalltalk import small_talk

if TYPE_CHECKING:
    from bot.discord_app.app import NewsBot

log = logging.getLogger("bot.discord")


def _bot(interaction: discord.Interaction) -> NewsBot:
    return cast("NewsBot", interaction.client)


async def _ask_cooldown(interaction: discord.Interaction) -> bool:
    bucket, retry = _bot(interaction).cooldown.hit(interaction.user.id)
    if retry is not None:
        raise app_commands.CommandOnCooldown(bucket, retry)
    return True


@app_commands.command(name="ask", description="Ask a question about the news articles")
@app_commands.describe(question="What you want to know", k="How many passages to show (1-25)",
                       as_of="Only articles published on or before this date (e.g. 2025-01-31)")
@app_commands.check(_ask_cooldown)
async def ask(interaction: discord.Interaction, question: str,
              k: app_commands.Range[int, 1, 25] | None = None, as_of: str | None = None) -> None:
    """Answer with the best-matching sentences, cited, and the Show context / More buttons."""
    if not question.strip():
        raise UsageError("the question is empty: type a question about the news articles")
    talk = small_talk(question, render.HELP_TEXT)
    if talk is not None:  # "hi", "thanks", "help": a short reply for the asker only, no search
        if talk.kind == "help":
            await interaction.response.send_message(embed=render.help_embed(), ephemeral=True,
                                                    allowed_mentions=NO_PINGS)
        else:
            await interaction.response.send_message(talk.reply, ephemeral=True, allowed_mentions=NO_PINGS)
        return
    t0 = time.perf_counter()
    bot = _bot(interaction)
    await interaction.response.defer(thinking=True)
    answer = await asyncio.to_thread(bot.service.ask, question, k, 0, None, as_of)
    view = AnswerView(bot, answer, k or bot.settings.top_k, as_of=as_of)
    view.message = await interaction.followup.send(embed=render.answer_embed(answer), view=view,
                                                   allowed_mentions=NO_PINGS, wait=True)
    bot.remember(view.message.id, (), answer)
    bot.count("/ask", "answered" if answer.answered else "not_covered", interaction.guild_id,
              time.perf_counter() - t0)
    log_answer("/ask", interaction.user.id, answer.answered, len(answer.hits), time.perf_counter() - t0)


@app_commands.command(name="stats", description="Key figures stated in the articles")
@app_commands.describe(topic="Only figures about this topic")
async def stats(interaction: discord.Interaction, topic: str | None = None) -> None:
    """List the key figures (all, or those about `topic`) with their citations, a page at a
    time with Previous / Next buttons when they fill more than one page."""
    await interaction.response.defer(thinking=True)
    found = await asyncio.to_thread(_bot(interaction).service.stats, topic)
    if render.stats_page_count(found) == 1:
        await interaction.followup.send(embed=render.stats_embed(found, topic), allowed_mentions=NO_PINGS)
        return
    view = StatsView(found, topic)
    view.message = await interaction.followup.send(embed=view.embed(), view=view,
                                                   allowed_mentions=NO_PINGS, wait=True)


@stats.autocomplete("topic")
async def stats_topic(interaction: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
    """Counted phrases of the figures containing what was typed (at most 25 choices of at most
    100 characters)."""
    topics = await asyncio.to_thread(_bot(interaction).service.stat_topics, current)
    return render.topic_choices(topics)


@app_commands.command(name="sources", description="The articles in the index")
async def sources(interaction: discord.Interaction) -> None:
    """List the indexed documents with passage counts and the build time."""
    await interaction.response.defer(thinking=True)
    docs, built_at = await asyncio.to_thread(_bot(interaction).service.sources)
    await interaction.followup.send(embed=render.sources_embed(docs, built_at), allowed_mentions=NO_PINGS)


@app_commands.command(name="reindex", description="Rebuild the index from the corpus folder")
@app_commands.default_permissions(manage_guild=True)
@app_commands.checks.has_permissions(manage_guild=True)
@app_commands.guild_only()
async def reindex(interaction: discord.Interaction) -> None:
    """Rebuild (Manage Server only); questions meanwhile are answered from the old index."""
    bot = _bot(interaction)
    if bot.service.reindexing:
        raise ReindexInProgressError("a rebuild is already running; try again when it is done")
    await interaction.response.defer(thinking=True, ephemeral=True)
    report = await asyncio.to_thread(bot.service.rebuild)
    log.info("reindex by user %s: %s", interaction.user.id, report.summary())
    await interaction.followup.send(render.reindex_text(report), ephemeral=True, allowed_mentions=NO_PINGS)


@app_commands.command(name="add", description="Fetch web pages into the corpus and rebuild the index")
@app_commands.describe(url="One or more article addresses (http or https), separated by spaces")
@app_commands.default_permissions(manage_guild=True)
@app_commands.checks.has_permissions(manage_guild=True)
@app_commands.guild_only()
async def add(interaction: discord.Interaction, url: str) -> None:
    """Fetch each page politely, save its article, rebuild (Manage Server only); reports what
    was added, what was already there and what failed, with reasons."""
    urls = url.split()
    if not urls:
        raise UsageError("give at least one web address (http:// or https://)")
    await interaction.response.defer(thinking=True, ephemeral=True)
    report, built = await asyncio.to_thread(_bot(interaction).service.add_urls, urls[:10])
    log.info("/add by user %s: %d added, %d refused", interaction.user.id, len(report.added), len(report.refused))
    await interaction.followup.send(render.add_text(report, built), ephemeral=True, allowed_mentions=NO_PINGS)


@app_commands.command(name="help", description="What this bot does and how to ask")
async def help_(interaction: discord.Interaction) -> None:
    """Explain the bot."""
    await interaction.response.send_message(embed=render.help_embed(), ephemeral=True,
                                            allowed_mentions=NO_PINGS)


COMMANDS: tuple[app_commands.Command, ...] = (ask, stats, sources, reindex, add, help_)  # type: ignore[type-arg]
