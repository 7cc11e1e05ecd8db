"""👍 / 👎 under answers with the real discord.py client in simcord: votes land in SQLite, a 👎
takes a reason in a modal, voting again changes the vote, a corrupt database is only a warning."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from bot.discord_app.feedback import NOT_SAVED, THANKS_REASON, THANKS_UP
from bot.service import QAService
from bot.votes import VoteStore
from tests.discord.conftest import discord_world

pytestmark = [pytest.mark.asyncio(loop_scope="session"), pytest.mark.timeout(120)]

SOLDIERS = "How many North Korean soldiers were deployed?"


def said(result) -> str:  # type: ignore[no-untyped-def]
    """What the deferred ephemeral reply finally says (the response, or its last follow-up)."""
    return (result.followups[-1] if result.followups else result.response).content


async def test_votes_land_in_sqlite_and_a_second_vote_changes_the_first(seed_service: QAService,
                                                                        tmp_path: Path) -> None:
    async with discord_world(seed_service, data_dir=tmp_path / "data") as w:
        result = await w.member.slash(w.general, "ask", question=SOLDIERS)
        answer = result.response.message
        up = await w.member.click(answer, label="Helpful")
        assert up.ephemeral and said(up) == THANKS_UP
        store = VoteStore.in_data_dir(tmp_path / "data")
        rows = store.rows()
        assert len(rows) == 1 and rows[0]["vote"] == "up" and rows[0]["question"] == SOLDIERS
        assert rows[0]["passages"][0]["document"] == "ukraine-holds-kursk-foothold.txt"
        assert "11,000 North Korean soldiers" in " ".join(p["text"] for p in rows[0]["passages"])
        assert rows[0]["guild_id"] == str(w.guild.id) and rows[0]["channel_id"] == str(w.general.id)
        down = await w.member.click(answer, label="Not helpful")
        assert down.modal is not None and down.modal["title"] == "What was wrong with this answer?"
        reason = await w.member.submit_modal(down, {"reason": "wrong war"})
        assert reason.ephemeral and reason.response.content == THANKS_REASON
        rows = store.rows()
        assert [(r["vote"], r["reason"]) for r in rows] == [("down", "wrong war")]  # one vote per person
        await w.admin.click(answer, label="Helpful")
        assert store.counts().up == 1 and store.counts().down == 1
        raw = (tmp_path / "data" / "votes.sqlite3").read_bytes().decode("latin-1")
        assert str(w.member.id) not in raw and str(w.admin.id) not in raw  # snowflakes: 17+ digits


async def test_a_corrupt_votes_database_is_a_warning_and_answers_still_come(
        seed_service: QAService, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    data = tmp_path / "data"
    data.mkdir()
    (data / "votes.sqlite3").write_bytes(b"not sqlite" * 500)
    async with discord_world(seed_service, data_dir=data) as w:
        result = await w.member.slash(w.general, "ask", question=SOLDIERS)
        with caplog.at_level(logging.WARNING, logger="bot.votes"):
            click = await w.member.click(result.response.message, label="Helpful")
        assert said(click) == NOT_SAVED and click.ephemeral
        assert any("could not record a vote" in r.getMessage() for r in caplog.records)
        again = await w.member.slash(w.general, "ask", question="When did the incursion begin?")
        assert "August 2024" in "\n".join(f.value for f in again.response.embeds[0].fields)
