"""The reply picture in docs/DEPLOY.md is drawn from the product's own render code."""

from __future__ import annotations

from bot.discord_app.preview import embed_svg
from bot.discord_app.render import answer_embed
from bot.service import QAService


def test_the_reply_picture_shows_what_discord_shows(seed_service: QAService) -> None:
    answer = seed_service.ask("How many North Korean soldiers were deployed?")
    svg = embed_svg(answer_embed(answer), ["Show context", "👍 Helpful"])
    assert svg.startswith("<svg") and svg.rstrip().endswith("</svg>")
    assert "How many North Korean soldiers were deployed?" in svg
    assert "11,000 North Korean soldiers" in svg and "**" not in svg
    assert "Show context" in svg and "👍 Helpful" in svg
