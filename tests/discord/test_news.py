"""News in Discord (issue 9), with the real discord.py client offline: outlet and date on each
citation, "also reported by", a disputed figure side by side, `as_of`, `/sources` by outlet,
`/stats` marking the disputed figure, `/add` for Manage Server, and feeds polled while running."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

import discord
import pytest
from simcord.backend.errors import SetupError

from bot.service import QAService
from tests.conftest import STORY
from tests.discord.conftest import discord_world
from tests.discord.test_commands import acknowledge, field_text
from tests.web_server import WebServer

pytestmark = [pytest.mark.asyncio(loop_scope="session"), pytest.mark.timeout(120)]

AREA = "How much farmland did the floodwater cover?"
NOTE = "The harbour of Orsk reopened to fishing boats in May.\n"


async def test_ask_cites_outlet_and_date_and_the_other_outlets_carrying_the_sentence(
        story_service: QAService) -> None:
    async with discord_world(story_service) as w:
        embed = (await w.member.slash(w.general, "ask", question=AREA)).response.embeds[0]
        text = field_text(embed)
        assert ("— [River Alder floods Vell valley farmland](https://northernwire.example/news/alder-floods), "
                "sentence 3 · Northern Wire · 12 Jan 2025 · score") in text
        assert "also reported by Valley Courier (13 Jan 2025)" in text
        assert "Coastal Herald · 3 Mar 2025" in text


async def test_ask_shows_a_disputed_figure_side_by_side_newest_first(story_service: QAService) -> None:
    async with discord_world(story_service) as w:
        description = (await w.member.slash(w.general, "ask", question=AREA)).response.embeds[0].description
        lines = description.splitlines()
        assert lines[0] == "» The sources differ (farmland), newest first:"
        assert "70 square kilometres of farmland — Coastal Herald · 3 Mar 2025" in lines[1]
        assert ("90 square kilometres of farmland — Northern Wire · 12 Jan 2025; Valley Courier · 13 Jan 2025"
                in lines[2])


async def test_ask_as_of_answers_from_what_was_published_by_then(story_service: QAService) -> None:
    async with discord_world(story_service) as w:
        embed = (await w.member.slash(w.general, "ask", question=AREA, as_of="2025-01-31")).response.embeds[0]
        text = field_text(embed)
        assert "Northern Wire · 12 Jan 2025" in text and "Coastal Herald" not in text
        assert "» about 90 square kilometres of farmland" in embed.description
        bad = await w.member.slash(w.general, "ask", question=AREA, as_of="someday")
        assert bad.followups[0].ephemeral and "is not a date" in bad.followups[0].content
        acknowledge(w, discord.app_commands.CommandInvokeError)


async def test_sources_lists_articles_by_outlet_with_dates(story_service: QAService) -> None:
    async with discord_world(story_service) as w:
        description = (await w.member.slash(w.general, "sources")).response.embeds[0].description
        lines = description.splitlines()
        assert [line for line in lines if line.startswith("**")] == [
            "**Coastal Herald**", "**Northern Wire**", "**Valley Courier**"]
        assert " · 3 Mar 2025: " in lines[1] and "Vell valley floods recede" in lines[1]


async def test_stats_marks_the_disputed_figure_and_lists_each_values_sources(story_service: QAService) -> None:
    async with discord_world(story_service) as w:
        embed = (await w.member.slash(w.general, "stats")).response.embeds[0]
        field = next(f for f in embed.fields if "70 square kilometres" in f.name)
        assert field.name.startswith("⚠ Disputed: about 70 square kilometres of farmland")
        assert "(Coastal Herald · 3 Mar 2025)" in field.value
        assert ("Other value: about 90 square kilometres of farmland (Northern Wire · 12 Jan 2025; "
                "Valley Courier · 13 Jan 2025)") in field.value
        assert [f.name for f in embed.fields if "Disputed" in f.name] == [field.name]


async def rounds(w: object, n: int) -> None:
    """Wait (bounded, at most ~20 s) until the bot has finished `n` feed rounds."""
    for _ in range(200):
        if w.bot.feed_rounds >= n:  # type: ignore[attr-defined]
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"only {w.bot.feed_rounds} feed rounds")  # type: ignore[attr-defined]


@pytest.fixture
def small_service(tmp_path: Path, service_for: Callable[..., QAService]) -> Callable[..., QAService]:
    def make(**settings: object) -> QAService:
        corpus = tmp_path / "corpus"
        corpus.mkdir(exist_ok=True)
        (corpus / "note.txt").write_text(NOTE, encoding="utf-8")
        service = service_for(corpus, **settings)
        service.rebuild()
        return service
    return make


async def test_add_by_an_admin_fetches_reports_and_the_next_answer_cites_it(
        web: WebServer, small_service: Callable[..., QAService]) -> None:
    service = small_service()
    page = web.page("/floods", (STORY / "northern-wire-floods.html").read_text(encoding="utf-8"))
    async with discord_world(service) as w:
        result = await w.admin.slash(w.general, "add", url=f"{page} {web.url('/report.pdf')}")
        assert result.ephemeral
        text = result.response.content
        assert "• Added River Alder floods Vell valley farmland (Northern Wire · 12 Jan 2025)" in text
        assert "• Not added: `" in text and "HTTP 404 Not Found" in text
        assert "Index rebuilt: 2 documents" in text
        answer = await w.member.slash(w.general, "ask", question="How many residents were evacuated?")
        assert "1,200 residents" in field_text(answer.response.embeds[0])
        assert "Northern Wire · 12 Jan 2025" in field_text(answer.response.embeds[0])
        again = await w.admin.slash(w.general, "add", url=page + "?utm_source=discord")
        assert "Already in the corpus" in again.response.content
        assert "the index is unchanged" in again.response.content


async def test_add_is_for_manage_server_only(small_service: Callable[..., QAService]) -> None:
    async with discord_world(small_service()) as w:
        assert "add" not in w.member.available_commands(w.general)
        with pytest.raises(SetupError):
            await w.member.slash(w.general, "add", url="http://127.0.0.1:9/x")
        w.guild.set_command_permissions(w.command_id("add"), {w.member: True})
        result = await w.member.slash(w.general, "add", url="http://127.0.0.1:9/x")
        assert result.response.content == "Only members with the Manage Server permission can do that."
        acknowledge(w, discord.app_commands.MissingPermissions)


async def test_the_running_bot_polls_feeds_and_answers_from_the_new_articles(
        web: WebServer, tmp_path: Path, small_service: Callable[..., QAService]) -> None:
    web.page("/herald", (STORY / "coastal-herald-floods.html").read_text(encoding="utf-8"))
    feed = web.page("/atom.xml", '<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom"><title>H</title>'
                    f'<id>h</id><entry><title>R</title><id>r1</id><link href="{web.url("/herald")}"/>'
                    "<updated>2025-03-03T06:00:00Z</updated></entry></feed>", content_type="application/atom+xml")
    service = small_service(feeds=[feed], feed_poll_minutes=0.01, data_dir=tmp_path / "data")
    async with discord_world(service, feeds=[feed], feed_poll_minutes=0.01) as w:
        await rounds(w, 2)
        # Then poll hourly, so the loop is parked in its sleep (not mid-round) while we ask.
        w.bot.settings = w.bot.settings.model_copy(update={"feed_poll_minutes": 60.0})
        await rounds(w, 3)
        assert web.hits("/herald") == 1  # polled three times, the item fetched once
        answer = await w.member.slash(w.general, "ask", question="How many farms were affected by the flooding?")
        text = field_text(answer.response.embeds[0])
        assert "300 farms" in text and "Coastal Herald · 3 Mar 2025" in text
