"""Pure rendering for Discord: answers, sources, stats and reports as embeds within Discord's limits.

Nothing here talks to Discord; every function maps core objects to `discord.Embed` or text and
is tested as such. Corpus text is shown literally: markdown is escaped and masked links
`[text](url)` are disarmed, so an article can never format, hide a link or look like the bot.
Pings are prevented separately, by `allowed_mentions=none` on every send (see `app.NO_PINGS`).

Limits (https://discord.com/developers/docs/resources/message#embed-object-embed-limits):
content 2,000; embed title 256, description 4,096, field name 256, field value 1,024,
footer 2,048, 25 fields, 6,000 characters in all; autocomplete 25 choices of 100 characters.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from typing import Any

import discord

from bot.answer import NOT_COVERED, Answer
from bot.build import BuildReport
from bot.retrieve import Hit
from bot.service import SourceInfo

CONTENT_LIMIT = 2000
TITLE_LIMIT = 256
DESCRIPTION_LIMIT = 4096
FIELD_NAME_LIMIT = 256
FIELD_VALUE_LIMIT = 1024
FOOTER_LIMIT = 2048
FIELD_COUNT_LIMIT = 25
EMBED_TOTAL_LIMIT = 6000
CHOICE_COUNT_LIMIT = 25
CHOICE_LENGTH_LIMIT = 100

ELLIPSIS = "…"
ANSWER_COLOUR = discord.Colour.blurple()
UNANSWERED_COLOUR = discord.Colour.light_grey()
NO_STATS = ("No key figures have been extracted from the articles yet: this command will list "
            "them once figure extraction lands. Meanwhile, ask with /ask.")
HELP_TEXT = (
    "I answer questions about the news articles in my index by quoting the sentences that best "
    "match, each with its article title, sentence number and link.\n\n"
    "**/ask** `question` `[k]`: a cited answer; *Show context* adds the neighbouring sentences, "
    "*More* shows the next passages.\n"
    "**/sources**: the articles I know and when the index was built.\n"
    "**/stats** `[topic]`: key figures from the articles.\n"
    "**/reindex**: rebuild the index from the corpus folder (Manage Server only).\n\n"
    "You can also mention me with a question, or write in a question channel if the server "
    "has one. If nothing matches well enough I say so rather than guess."
)

_UNESCAPED_BRACKET = re.compile(r"(?<!\\)([\[\]])")


def literal(text: str) -> str:
    """Escape markdown in `text` and disarm masked links, so Discord shows it as written."""
    escaped = discord.utils.escape_markdown(text)
    # escape_markdown leaves `]` (and some `[`) alone; escaping both breaks `[text](url)`.
    return _UNESCAPED_BRACKET.sub(r"\\\1", escaped)


def code(text: str) -> str:
    """`text` as inline code (shown literally; backslash escapes would show inside code)."""
    return "`" + text.replace("`", "'") + "`"


def clip(text: str, limit: int) -> str:
    """Cut `text` to at most `limit` characters, at a word boundary when one is near, with `…`.

    Never leaves a dangling escape backslash at the cut. `limit` must be at least 1.
    """
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    space = cut.rfind(" ")
    if space >= limit // 2:
        cut = cut[:space]
    cut = cut.rstrip()
    trailing = len(cut) - len(cut.rstrip("\\"))
    if trailing % 2:
        cut = cut[:-1]
    return cut + ELLIPSIS


def _link(title: str, url: str | None) -> str:
    """The title as a masked link when the URL is a plain http(s) address, else plain text."""
    shown = literal(title)
    if url and re.fullmatch(r"https?://[^\s()<>\[\]]+", url):
        return f"[{shown}]({url})"
    return shown


def passage_field(hit: Hit, budget: int) -> tuple[str, str]:
    """One hit as an embed field `(name, value)`: the quoted sentence (context around it when
    present), then the citation. Name and value together fit in `budget` characters, each
    within its own limit (256 and 1,024)."""
    p = hit.passage
    name = clip(f"{hit.rank}. {p.title}", min(FIELD_NAME_LIMIT, max(budget // 4, 24)))
    budget = min(FIELD_VALUE_LIMIT, budget - len(name))
    cite = f"— {_link(p.title, p.url)}, sentence {p.sentence} · score {hit.score:.2f}"
    if len(cite) > budget // 2:
        cite = clip(f"— {literal(p.title)}, sentence {p.sentence}", budget // 2)
    room = max(budget - len(cite) - 4, 16)
    sentence = literal(p.text)
    if hit.before or hit.after:
        before = literal(" ".join(hit.before))
        after = literal(" ".join(hit.after))
        quote = " ".join(part for part in (before, f"**{sentence}**", after) if part)
        if len(quote) > room - 2:
            quote = f"**{clip(sentence, room - 4)}**"
    else:
        quote = clip(sentence, room - 2)
    return name, clip(f"“{quote}”\n{cite}", budget)


def _header(answer: Answer) -> str:
    lines = [f"⚠ {literal(w)}" for w in answer.warnings]
    lines += [f"*Note: {literal(n)}*" for n in answer.notes]
    lines += [f"» {literal(str(f.get('display', '')))}" for f in answer.figures]
    if not answer.answered:
        lines.append(NOT_COVERED)
        if answer.hits:
            lines.append(f"Nearest passage (score {answer.hits[0].score:.2f}, below the threshold):")
    elif not answer.hits:
        lines.append("No more passages.")
    # Well under the 4,096 limit: the passages need most of the 6,000 characters in all.
    return clip("\n".join(lines), 1500)


def answer_embed(answer: Answer) -> discord.Embed:
    """The embed for one answer: the question as title, warnings and notes, one field per
    passage. Respects every embed limit, whatever the length of the question or the passages."""
    embed = discord.Embed(
        title=clip(literal(answer.question), TITLE_LIMIT),
        description=_header(answer) or None,
        colour=ANSWER_COLOUR if answer.answered else UNANSWERED_COLOUR,
    )
    first = answer.offset + 1
    shown = len(answer.hits)
    footer = (f"Passages {first}–{answer.offset + shown}" if shown else "No passages") + \
        " · score = cosine similarity with the question"
    if answer.seconds:
        footer += f" · {answer.seconds:.2f} s"
    embed.set_footer(text=clip(footer, FOOTER_LIMIT))
    hits = answer.hits[:FIELD_COUNT_LIMIT]
    used = len(embed)
    for i, hit in enumerate(hits):
        budget = (EMBED_TOTAL_LIMIT - used - 100) // (len(hits) - i)
        name, value = passage_field(hit, max(budget, 96))
        embed.add_field(name=name, value=value, inline=False)
        used = len(embed)
    return embed


def sources_embed(docs: Sequence[SourceInfo], built_at: str) -> discord.Embed:
    """`/sources`: one line per document (title, link, passage count), the build time in the footer."""
    total = sum(d.passages for d in docs)
    lines: list[str] = []
    length = 0
    for n, doc in enumerate(sorted(docs, key=lambda d: d.title.lower())):
        link = _link(clip(doc.title, 200), doc.url)
        line = f"• {link}: {doc.passages} passages ({code(doc.document)})"
        line = clip(line, 400)
        if length + len(line) + 40 > DESCRIPTION_LIMIT:
            lines.append(f"… and {len(docs) - n} more")
            break
        lines.append(line)
        length += len(line) + 1
    embed = discord.Embed(
        title=f"Sources: {len(docs)} documents, {total} passages",
        description="\n".join(lines) or "The index is empty: add .txt or .md files to the corpus "
                                         "folder and run /reindex.",
        colour=ANSWER_COLOUR,
    )
    embed.set_footer(text=clip(f"Index built {built_at}", FOOTER_LIMIT))
    return embed


def stats_embed(stats: Sequence[dict[str, Any]], topic: str | None) -> discord.Embed:
    """`/stats`: one field per figure with its citations, or a note that there are none yet.

    A stat is a dict with at least `display` (str) and `citations`
    (list of `{document, title, sentence, text}`); see `bot.stats`.
    """
    title = f"Key figures: {clip(literal(topic), 200)}" if topic else "Key figures"
    if not stats:
        text = NO_STATS if topic is None else f"No key figures about “{literal(topic)}” yet. {NO_STATS}"
        return discord.Embed(title=title, description=clip(text, DESCRIPTION_LIMIT))
    embed = discord.Embed(title=clip(title, TITLE_LIMIT), colour=ANSWER_COLOUR)
    shown = list(stats)[:FIELD_COUNT_LIMIT]
    for i, stat in enumerate(shown):
        budget = (EMBED_TOTAL_LIMIT - len(embed) - 100) // (len(shown) - i)
        name = clip(literal(str(stat.get("display", ""))), min(FIELD_NAME_LIMIT, max(budget // 4, 24)))
        budget = min(FIELD_VALUE_LIMIT, budget - len(name))
        cites = [
            f"— {literal(str(c.get('title', c.get('document', ''))))}, sentence {c.get('sentence', '?')}: "
            f"“{literal(str(c.get('text', '')))}”"
            for c in stat.get("citations", [])[:3]
        ]
        value = clip("\n".join(cites) or "(no citation)", max(budget, 64))
        embed.add_field(name=name, value=value, inline=False)
    if len(stats) > FIELD_COUNT_LIMIT:
        embed.set_footer(text=f"Showing {FIELD_COUNT_LIMIT} of {len(stats)}: pick a topic to narrow down.")
    return embed


def topic_choices(topics: Sequence[str]) -> list[discord.app_commands.Choice[str]]:
    """Autocomplete choices: at most 25, names and values at most 100 characters, no duplicates."""
    out: list[discord.app_commands.Choice[str]] = []
    seen: set[str] = set()
    for topic in topics:
        value = clip(topic.strip(), CHOICE_LENGTH_LIMIT)
        if not value or value in seen:
            continue
        seen.add(value)
        out.append(discord.app_commands.Choice(name=value, value=value))
        if len(out) == CHOICE_COUNT_LIMIT:
            break
    return out


def reindex_text(report: BuildReport) -> str:
    """`/reindex` result: documents, passages, skipped files (with reasons) and seconds."""
    lines = [
        f"Index rebuilt: {report.documents} documents, {report.passages} passages, "
        f"{len(report.skipped)} skipped files, {report.seconds:.1f} s."
    ]
    lines += [f"• skipped {code(s.path)}: {literal(s.reason)}" for s in report.skipped[:10]]
    if len(report.skipped) > 10:
        lines.append(f"… and {len(report.skipped) - 10} more")
    return clip("\n".join(lines), CONTENT_LIMIT)


def help_embed() -> discord.Embed:
    """`/help`: what the bot does and how to ask."""
    return discord.Embed(title="News answers", description=HELP_TEXT, colour=ANSWER_COLOUR)


def cooldown_text(retry_after: float) -> str:
    """The friendly cooldown reply, in whole seconds (at least 1)."""
    return f"You're asking quickly: try again in {max(1, math.ceil(retry_after))} s."
