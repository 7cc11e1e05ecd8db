"""A picture of a reply: the embed the bot sends (`render.answer_embed`), drawn as SVG in
Discord's dark theme, for the docs. `python -m bot.discord_app.preview "QUESTION" --out FILE.svg`
answers over CORPUS_DIR/INDEX_DIR with the product's own service and render code."""

from __future__ import annotations

import argparse
import re
import sys
import textwrap
from collections.abc import Sequence
from html import escape
from pathlib import Path
from typing import Any

import discord

WIDTH = 760
#: Characters a line holds at the font size used (a monospace-free estimate).
LINE_CHARS = 96
_LINK = re.compile(r"\[([^\]]*)\]\((https?://[^)]+)\)")


def _plain(markdown: str) -> str:
    """Discord markdown as the text a reader sees: links as their text, no emphasis markers or
    escapes."""
    text = _LINK.sub(r"\1", markdown)
    text = re.sub(r"(\*\*|__|\*|`)", "", text)
    return re.sub(r"\\(.)", r"\1", text)


def embed_svg(embed: discord.Embed, buttons: Sequence[str] = ()) -> str:
    """The embed (title, description, fields, footer) and a row of `buttons` as an SVG document."""
    data: dict[str, Any] = dict(embed.to_dict())
    colour = f"#{int(data.get('color') or 0x5865F2):06x}"
    rows: list[tuple[str, str, str]] = []  # (text, style, fill)

    def add(text: str, style: str = "normal", fill: str = "#dbdee1", chars: int = LINE_CHARS) -> None:
        for paragraph in _plain(text).split("\n"):
            for line in textwrap.wrap(paragraph, chars) or [""]:
                rows.append((line, style, fill))

    add(data.get("title", ""), "bold", "#ffffff", 80)
    if data.get("description"):
        add(data["description"])
    for f in data.get("fields", []):
        rows.append(("", "normal", "#dbdee1"))
        add(f["name"], "bold", "#ffffff")
        add(f["value"])
    if data.get("footer"):
        rows.append(("", "normal", "#dbdee1"))
        add(data["footer"]["text"], "small", "#949ba4")
    line_h = 19
    top = 24
    height = top + len(rows) * line_h + 24 + (52 if buttons else 0)
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" '
           f'viewBox="0 0 {WIDTH} {height}" font-family="Helvetica, Arial, sans-serif">',
           f'<rect width="{WIDTH}" height="{height}" fill="#313338"/>',
           f'<rect x="16" y="12" width="{WIDTH - 32}" height="{top + len(rows) * line_h}" rx="4" fill="#2b2d31"/>',
           f'<rect x="16" y="12" width="4" height="{top + len(rows) * line_h}" rx="2" fill="{colour}"/>']
    y = top + 16
    for text, style, fill in rows:
        weight = ' font-weight="bold"' if style == "bold" else ""
        size = 12 if style == "small" else 14
        out.append(f'<text x="34" y="{y}" font-size="{size}" fill="{fill}"{weight} xml:space="preserve">'
                   f"{escape(text)}</text>")
        y += line_h
    x, y = 16, top + len(rows) * line_h + 28
    for label in buttons:
        w = 16 + 8 * len(label)
        out.append(f'<rect x="{x}" y="{y}" width="{w}" height="32" rx="4" fill="#4e5058"/>')
        out.append(f'<text x="{x + w / 2}" y="{y + 21}" font-size="14" fill="#ffffff" text-anchor="middle">'
                   f"{escape(label)}</text>")
        x += w + 8
    out.append("</svg>")
    return "\n".join(out) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bot.discord_app.preview", description=__doc__)
    p.add_argument("question")
    p.add_argument("--out", default="-", help="SVG file (default: stdout)")
    args = p.parse_args(argv)
    from bot.config import Settings
    from bot.discord_app.render import answer_embed
    from bot.service import QAService

    service = QAService(Settings())
    service.ensure_index()
    answer = service.ask(args.question)
    from dataclasses import replace

    svg = embed_svg(answer_embed(replace(answer, seconds=0.0)),
                    ["Show context", "More", "Follow up", "👍 Helpful", "👎 Not helpful"])
    if args.out == "-":
        sys.stdout.write(svg)
    else:
        Path(args.out).write_text(svg, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
