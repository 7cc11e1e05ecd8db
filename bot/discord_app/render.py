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

import discord

from bot.answer import (
    NOT_COVERED,
    Answer,
    also_reported,
    below_threshold,
    figure_lines,
    figure_values,
    hidden_line,
)
from bot.build import BuildReport
from bot.dates import display_date, outlet_line
from bot.ingest import AddReport
from bot.retrieve import Hit
from bot.service import SourceInfo
from bot.stats import Citation, Stat

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
NO_STATS = "The articles in the index state no figures I could extract. Try /ask instead."
NO_STATS_FOR_TOPIC = ("No key figures about “{topic}” in the articles. Try another topic, or /stats "
                      "without one for all of them.")
#: Figures per `/stats` page: 25 fields is the limit, but 8 are far easier to read.
STATS_PER_PAGE = 8
#: Citing sentences, and older values, shown under each figure.
MAX_STAT_LINES = 3
HELP_TEXT = (
    "I answer questions about the news articles in my index by quoting the sentences that best "
    "match, each with its article title, sentence number and link.\n\n"
    "**/ask** `question` `[k]` `[as_of]`: a cited answer (outlet and date on each passage; `as_of` "
    "keeps to articles published by a date); *Show context* adds the neighbouring sentences, "
    "*More* shows the next passages.\n"
    "**/sources**: the articles I know, by outlet and date, and when the index was built.\n"
    "**/stats** `[topic]`: key figures from the articles.\n"
    "**/reindex**: rebuild the index from the corpus folder (Manage Server only).\n"
    "**/add** `url`: fetch web pages into the corpus and rebuild (Manage Server only).\n\n"
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
    where = outlet_line(p.source, p.published)
    where = f" · {literal(where)}" if where else ""
    cite = f"— {_link(p.title, p.url)}, sentence {p.sentence}{where} · score {hit.shown_score:.2f}"
    if p.also:
        cite += f"\n{literal(also_reported(hit))}"
    if len(cite) > budget // 2:
        cite = clip(f"— {literal(p.title)}, sentence {p.sentence}{where}", budget // 2)
    room = max(budget - len(cite) - 4, 16)
    sentence = literal(p.quote)
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
    lines += [literal(line) for f in answer.figures for line in figure_lines(f)]
    if not answer.answered:
        lines.append(NOT_COVERED)
        if answer.hits:
            lines.append(f"Nearest passage (similarity {below_threshold(answer.hits[0].score)}, below the threshold):")
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
    footer = (f"Passages {first}–{answer.offset + shown}" if shown else "No passages")
    hidden = hidden_line(answer)
    if hidden:
        footer += f" · {hidden}"
    footer += " · ranked best first by score"
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
    """`/sources`: the documents by outlet (outlets A-Z, undated/unknown last), newest first
    within an outlet, one line each (linked title, date, passage count); the build time in
    the footer."""
    total = sum(d.passages for d in docs)
    lines: list[str] = []
    length = 0
    ordered = sorted(docs, key=lambda d: (d.source is None, (d.source or "").lower(),
                                          d.published is None, _desc(d.published), d.title.lower()))
    outlet: object = object()
    for n, doc in enumerate(ordered):
        heading = [] if doc.source == outlet else [f"**{literal(clip(doc.source or 'Unknown outlet', 100))}**"]
        outlet = doc.source
        when = display_date(doc.published)
        link = _link(clip(doc.title, 200), doc.url)
        line = clip(f"• {link}{f' · {when}' if when else ''}: {doc.passages} passages ({code(doc.document)})", 400)
        if length + len(line) + sum(len(h) + 1 for h in heading) + 40 > DESCRIPTION_LIMIT:
            lines.append(f"… and {len(docs) - n} more")
            break
        lines += [*heading, line]
        length += len(line) + 1 + sum(len(h) + 1 for h in heading)
    embed = discord.Embed(
        title=f"Sources: {len(docs)} documents, {total} passages",
        description="\n".join(lines) or "The index is empty: add .txt or .md files to the corpus "
                                         "folder and run /reindex.",
        colour=ANSWER_COLOUR,
    )
    embed.set_footer(text=clip(f"Index built {built_at}", FOOTER_LIMIT))
    return embed


def _desc(iso: str | None) -> str:
    """A sort key that puts later ISO dates first."""
    return "".join(chr(0x10FFFF - ord(c)) for c in iso or "")


def stats_page_count(stats: Sequence[Stat]) -> int:
    """How many `/stats` pages `stats` fill, `STATS_PER_PAGE` to a page (at least 1)."""
    return max(1, math.ceil(len(stats) / STATS_PER_PAGE))


def _stat_name(stat: Stat, limit: int) -> str:
    """The field name: the figure as written, and its date when the display does not give it;
    "⚠ Disputed:" first when outlets give other values."""
    name = stat.display or stat.counts or "?"
    if stat.date and stat.unit != "date" and stat.date not in name:
        name += f" · {display_date(stat.date) or stat.date}"
    if stat.disputed:
        name = "⚠ Disputed: " + name
    return clip(literal(name), limit)


def _cite_line(cite: Citation, room: int, prefix: str = "") -> str:
    """One citation in at most `room` characters: the quoted sentence, then its linked title,
    sentence number, outlet and publication date. The sentence is cut first, then the title."""
    title = cite.title or cite.document or "?"
    where = f", sentence {cite.sentence}"
    outlet = outlet_line(cite.source, cite.published)
    if outlet:
        where += f" ({literal(outlet)})"
    source = f"— {_link(title, cite.url)}{where}"
    if len(source) > room // 2:
        source = f"— {clip(literal(title), max(room // 2 - len(where) - 2, 8))}{where}"
    quote = clip(literal(cite.text), max(room - len(prefix) - len(source) - 3, 8))
    return clip(f"{prefix}“{quote}” {source}", room)


def stat_field(stat: Stat, budget: int) -> tuple[str, str]:
    """One stat as an embed field `(name, value)`: the figure (with its date) as the name; each
    citing sentence (up to 3), then the other values (history, up to 3: older values, or for a
    disputed figure the values other outlets gave), as the value. Name and value together fit
    in `budget`, each within its own limit."""
    name = _stat_name(stat, min(FIELD_NAME_LIMIT, max(budget // 4, 24)))
    budget = max(min(FIELD_VALUE_LIMIT, budget - len(name)), 64)
    cites = list(stat.citations)
    history = list(stat.history)[:MAX_STAT_LINES]
    shown = cites[:MAX_STAT_LINES]
    more = f"… and {len(cites) - len(shown)} more sentences" if len(cites) > len(shown) else ""
    lines_wanted = len(shown) + len(history) + bool(more)
    room = (budget - len(more) - lines_wanted) // max(len(shown) + len(history), 1)
    lines = [_cite_line(c, room) for c in shown] or ["(no citation)"]
    if more:
        lines.append(more)
    word = "Other value" if stat.disputed else "Earlier"
    for old, (_, outlets) in zip(history, figure_values(stat)[1:], strict=False):
        # A disputed figure names every outlet that gave the other value, not only the first.
        by = f" ({literal('; '.join(outlets))})" if stat.disputed and len(outlets) > 1 else ""
        label = f"{word}: {literal(old.display or '?')}{by}: "
        first = old.citations[0] if old.citations else Citation("", "?", 0, "")
        lines.append(_cite_line(first, room, prefix=clip(label, max(room // 3, 16))))
    return name, clip("\n".join(lines), budget)


def stats_embed(stats: Sequence[Stat], topic: str | None, page: int = 0) -> discord.Embed:
    """`/stats`: page `page` (from 0) of the key figures, `STATS_PER_PAGE` to a page, one field
    per figure with its citations and history; or a plain line when there are none.

    `page` outside the range shows the nearest page.
    """
    title = clip(f"Key figures: {literal(topic)}" if topic else "Key figures", TITLE_LIMIT)
    if not stats:
        text = NO_STATS_FOR_TOPIC.format(topic=clip(literal(topic), 200)) if topic else NO_STATS
        return discord.Embed(title=title, description=text, colour=UNANSWERED_COLOUR)
    pages = stats_page_count(stats)
    page = min(max(page, 0), pages - 1)
    first = page * STATS_PER_PAGE
    shown = list(stats)[first:first + STATS_PER_PAGE]
    embed = discord.Embed(title=title, colour=ANSWER_COLOUR)
    footer = f"Figures {first + 1}–{first + len(shown)} of {len(stats)}"
    if pages > 1:
        footer += f" · page {page + 1} of {pages}"
    footer += " · best match for the topic first" if topic else " · use a topic to narrow down"
    embed.set_footer(text=clip(footer, FOOTER_LIMIT))
    for i, stat in enumerate(shown):
        budget = (EMBED_TOTAL_LIMIT - len(embed) - 100) // (len(shown) - i)
        name, value = stat_field(stat, max(budget, 96))
        embed.add_field(name=name, value=value, inline=False)
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


def add_text(report: AddReport, built: BuildReport | None) -> str:
    """`/add` result: each article added (title, outlet, date), each address refused and why,
    and the rebuilt index's size."""
    lines = []
    for a in report.added:
        where = outlet_line(a.source, a.published)
        lines.append(f"• Added {literal(clip(a.title, 200))}" + (f" ({literal(where)})" if where else ""))
    for r in report.refused:
        verb = "Already in the corpus" if r.duplicate else "Not added"
        lines.append(f"• {verb}: {code(clip(r.requested, 200))}: {literal(clip(r.reason, 300))}")
    if built is not None:
        lines.append(f"Index rebuilt: {built.documents} documents, {built.passages} passages.")
    elif not report.added:
        lines.append("Nothing was added; the index is unchanged.")
    return clip("\n".join(lines), CONTENT_LIMIT)


def help_embed() -> discord.Embed:
    """`/help`: what the bot does and how to ask."""
    return discord.Embed(title="News answers", description=HELP_TEXT, colour=ANSWER_COLOUR)


def cooldown_text(retry_after: float) -> str:
    """The friendly cooldown reply, in whole seconds (at least 1)."""
    return f"You're asking quickly: try again in {max(1, math.ceil(retry_after))} s."
