"""`/stats` in simcord's in-memory Discord over the real model and real indexes: the figures,
their citations, topics matched by meaning, paging, and topic autocomplete."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import discord
import pytest

from bot.discord_app.render import NO_STATS_FOR_TOPIC, STATS_PER_PAGE
from bot.service import QAService
from tests.discord.conftest import discord_world

pytestmark = [pytest.mark.asyncio(loop_scope="session"), pytest.mark.timeout(120)]

SEED_TITLE = "Ukraine Maintains Stronghold in Kursk Despite Russian Offensive"
#: 16 distinct figures, one a sentence: two pages of `STATS_PER_PAGE`.
CITY_REPORT = """City council publishes its annual report
The city of Riverton has 412,000 residents, the council said on Monday.
Its annual budget is $1.5 billion.
The council employs 6,300 staff.
About 45% of households recycle their waste.
The city has 27 public libraries.
Some 1,200 buses run on its roads every day.
The new tram line is 18 kilometres long.
The council planted 9,500 trees last year.
Its parks cover 2,400 hectares.
The fire service answered 14,800 calls.
The water company serves 160,000 homes.
More than 3,000 students attend the city college.
The main hospital has 850 beds.
The airport handled 2.3 million passengers.
Around 70 schools took part in the reading scheme.
The harbour received 640 cargo ships.
"""


def field(embed: discord.Embed, name_part: str) -> discord.embeds._EmbedFieldProxy:
    matches = [f for f in embed.fields if name_part in (f.name or "")]
    assert len(matches) == 1, [f.name for f in embed.fields]
    return matches[0]


def buttons(result: Any) -> dict[str, bool]:
    """Label → disabled, for the buttons under the command's message."""
    return {c["label"]: c.get("disabled", False)
            for row in result.response.components for c in row["components"]}


def assert_within_limits(embed: discord.Embed) -> None:
    assert len(embed) <= 6000 and len(embed.fields) <= 25 and len(embed.title or "") <= 256
    assert all(len(f.name) <= 256 and len(f.value) <= 1024 for f in embed.fields)


@pytest.fixture
def city_service(tmp_path: Path, service_for: Callable[..., QAService]) -> QAService:
    corpus = tmp_path / "city"
    corpus.mkdir()
    (corpus / "city-report.txt").write_text(CITY_REPORT, encoding="utf-8")
    service = service_for(corpus)
    service.rebuild()
    return service


async def test_stats_lists_the_seed_figures_with_their_citing_sentences(seed_service: QAService) -> None:
    async with discord_world(seed_service) as w:
        result = await w.member.slash(w.general, "stats")
        assert result.acknowledged and not result.ephemeral
        embed = result.response.embeds[0]
        assert embed.title == "Key figures"
        soldiers = field(embed, "around 11,000 North Korean soldiers")
        assert "following the deployment of around 11,000 North Korean soldiers to Kursk" in soldiers.value
        assert f"— {SEED_TITLE}, sentence 14" in soldiers.value
        area = field(embed, "approximately 90 square kilometers (35 square miles)")
        assert f"{SEED_TITLE}, sentence 1" in area.value and f"{SEED_TITLE}, sentence 9" in area.value
        assert field(embed, "over 1,000 North Korean troops in Russia").name.endswith("· January")
        assert embed.footer.text.startswith(f"Figures 1–{len(embed.fields)} of {len(embed.fields)}")
        assert not result.response.components  # one page: no buttons
        sent = [r for r in w.env.http_requests if r.json and "embeds" in r.json]
        assert sent and all(r.json["allowed_mentions"] == {"parse": []} for r in sent)


async def test_stats_about_north_korea_lists_its_figures_and_not_the_kursk_area(
        seed_service: QAService) -> None:
    async with discord_world(seed_service) as w:
        embed = (await w.member.slash(w.general, "stats", topic="north korea")).response.embeds[0]
        assert embed.title == "Key figures: north korea"
        names = [f.name for f in embed.fields]
        assert any("around 11,000 North Korean soldiers" in n for n in names)
        assert any("over 1,000 North Korean troops" in n for n in names)
        assert not any("90 square kilometers" in n for n in names), names


async def test_stats_about_a_topic_with_no_figures_says_so_plainly(seed_service: QAService) -> None:
    async with discord_world(seed_service) as w:
        embed = (await w.member.slash(w.general, "stats", topic="banana bread recipe")).response.embeds[0]
        assert not embed.fields
        assert embed.description == NO_STATS_FOR_TOPIC.format(topic="banana bread recipe")
        assert "yet" not in embed.description


async def test_stats_of_more_figures_than_a_page_pages_with_next_and_previous(
        city_service: QAService) -> None:
    total = len(city_service.stats())
    assert STATS_PER_PAGE < total <= 2 * STATS_PER_PAGE
    async with discord_world(city_service) as w:
        result = await w.member.slash(w.general, "stats")
        first = result.response.embeds[0]
        assert len(first.fields) == STATS_PER_PAGE
        assert first.footer.text.startswith(f"Figures 1–{STATS_PER_PAGE} of {total} · page 1 of 2")
        assert buttons(result) == {"Previous": True, "Next": False}
        assert_within_limits(first)

        click = await w.member.click(result.response.message, label="Next")
        assert click.acknowledged
        second = result.response.embeds[0]
        assert second.footer.text.startswith(f"Figures {STATS_PER_PAGE + 1}–{total} of {total} · page 2 of 2")
        assert len(second.fields) == total - STATS_PER_PAGE
        assert not {f.name for f in first.fields} & {f.name for f in second.fields}
        assert "640 cargo ships" in "\n".join(f.name for f in second.fields)
        assert buttons(result) == {"Previous": False, "Next": True}
        assert_within_limits(second)

        await w.member.click(result.response.message, label="Previous")
        assert [f.name for f in result.response.embeds[0].fields] == [f.name for f in first.fields]


async def test_stats_topic_autocomplete_offers_the_counted_phrases_containing_what_was_typed(
        seed_service: QAService) -> None:
    async with discord_world(seed_service) as w:
        choices = await w.member.autocomplete(w.general, "stats", "topic", "troops")
        names = [c["name"] for c in choices]
        assert "Russian troops" in names and "North Korean troops in Russia" in names
        assert all("troops" in n.lower() and c["value"] == n for n, c in zip(names, choices, strict=True))
        everything = await w.member.autocomplete(w.general, "stats", "topic", "")
        assert "North Korean soldiers" in [c["name"] for c in everything]


async def test_stats_autocomplete_is_capped_at_25_choices_of_100_characters(seed_service: QAService) -> None:
    class ManyTopics:  # more and longer phrases than a corpus of this size yields
        settings = seed_service.settings

        def __getattr__(self, name: str) -> Any:
            return getattr(seed_service, name)

        def stat_topics(self, current: str = "") -> list[str]:
            return [f"{current} topic {i} " + "x" * 150 for i in range(40)]

    async with discord_world(ManyTopics()) as w:
        choices = await w.member.autocomplete(w.general, "stats", "topic", "troops")
        assert len(choices) == 25
        assert all(len(c["name"]) <= 100 and len(c["value"]) <= 100 for c in choices)
        assert choices[0]["name"].startswith("troops topic 0 ")
