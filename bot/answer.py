"""Answer stage: compose the cited reply from retrieved hits (pure, front-end neutral)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from bot.dates import display_date, outlet_line
from bot.reprints import same_file
from bot.retrieve import Hit

if TYPE_CHECKING:  # the stats stage makes figures; answering only shows them
    from bot.stats import Stat

NOT_COVERED = "The articles do not seem to cover this question."


@dataclass(frozen=True)
class Answer:
    """A reply to one question.

    `answered` is False when no passage cleared the score threshold; `hits` then holds at most
    the nearest passage, shown as such. `warnings` are about the index (e.g. stale), `notes`
    about the question (e.g. truncated). `figures` are stats that answer a how-many/when
    question directly (`bot.stats.Stat`).
    """

    question: str
    answered: bool
    hits: tuple[Hit, ...]
    warnings: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    figures: tuple[Stat, ...] = field(default_factory=tuple)
    offset: int = 0
    seconds: float = 0.0
    #: For a follow-up: the earlier question(s) taken as context (oldest first), and the query
    #: searched (the follow-up expanded with them; `bot.followup`).
    context: tuple[str, ...] = ()
    query: str = ""
    hidden: int = 0

    def to_json(self) -> dict[str, Any]:
        """The JSON object `ask --json` prints (one per question)."""
        return {
            "question": self.question,
            "answered": self.answered,
            "passages": [hit_json(h) for h in self.hits],
            "hidden": self.hidden,
            "figures": [f.to_json() for f in self.figures],
            "warnings": list(self.warnings),
            "notes": list(self.notes),
            "context": list(self.context),
            "seconds": round(self.seconds, 4),
        }


def hit_json(hit: Hit) -> dict[str, Any]:
    """A hit as JSON: text, score (the ranking score, non-increasing down the list),
    similarity (cosine with the question), document, title, sentence (from 1), offsets, link,
    context."""
    p = hit.passage
    return {
        "text": p.quote,
        "score": round(hit.shown_score, 4),
        "similarity": round(hit.score, 4),
        "document": p.document,
        "title": p.title,
        "sentence": p.sentence,
        "start": p.start,
        "end": p.end,
        "source": p.source,
        "url": p.url,
        "published": p.published,
        "also": [{"document": r.document, "title": r.title, "sentence": r.sentence, "source": r.source,
                  "published": r.published, "url": r.url} for r in p.also],
        "rank": hit.rank,
        "context_before": list(hit.before),
        "context_after": list(hit.after),
    }


def citation(hit: Hit) -> str:
    """`Title, sentence N · Outlet · 12 Jan 2005 · url · file` for one hit (plain text), and
    `; also reported by B (13 Jan 2005), C` when other documents carry the sentence."""
    p = hit.passage
    parts = [f"{p.title}, sentence {p.sentence}"]
    if p.source or p.published:
        parts.append(outlet_line(p.source, p.published))
    if p.url:
        parts.append(p.url)
    parts.append(p.document)
    text = " · ".join(parts)
    if p.also:
        text += "; " + also_reported(hit)
    return text


def also_reported(hit: Hit) -> str:
    """"also reported by B (13 Jan 2005), C" for the other documents carrying a hit's sentence;
    saved copies of the cited file ("wire (1).txt" of "wire.txt") are "also in wire (1).txt"."""
    p = hit.passage
    copies = [r.document for r in p.also if same_file(r.document, p.document)]
    names = []
    for r in p.also:
        if same_file(r.document, p.document):
            continue
        name = r.source or r.title
        when = display_date(r.published)
        names.append(f"{name} ({when})" if when else name)
    parts = (["also reported by " + ", ".join(names)] if names else []) + (
        ["also in " + ", ".join(copies)] if copies else [])
    return "; ".join(parts)


def figure_values(figure: Stat) -> list[tuple[str, list[str]]]:
    """Each value a figure has been given, newest first: `(display, ["Outlet · 12 Jan 2005", …])`
    (the figure itself, then its `history`). One entry when the sources agree."""
    out = []
    for stat in (figure, *figure.history):
        seen: list[str] = []
        for c in stat.citations:
            line = outlet_line(c.source or c.title, c.published)
            if line and line not in seen:
                seen.append(line)
        out.append((stat.display, seen))
    return out


def figure_lines(figure: Stat) -> list[str]:
    """A figure as plain lines: `» display`, or for a disputed one, each value with its sources."""
    values = figure_values(figure)
    if not figure.disputed or len(values) < 2:
        return [f"» {figure.display}"]
    lines = [f"» The sources differ ({figure.counts or 'this figure'}), newest first:"]
    lines += [f"   {display} — {'; '.join(where) or 'undated'}" for display, where in values]
    return lines


def hidden_line(answer: Answer) -> str | None:
    """"2 more weaker matches hidden, below the score threshold", or None when none were."""
    n = answer.hidden
    if n <= 0:
        return None
    matches = "match" if n == 1 else "matches"
    return f"{n} more weaker {matches} hidden, below the score threshold"


def compose(
    question: str,
    hits: list[Hit],
    best_score: float,
    threshold: float,
    *,
    warnings: tuple[str, ...] = (),
    notes: tuple[str, ...] = (),
    figures: tuple[Stat, ...] = (),
    offset: int = 0,
    covered: bool | None = None,
) -> Answer:
    """Decide whether the hits answer the question and build the `Answer`.

    When the retriever decided (`covered`, the "rerank" mode), that decides, and every hit is
    kept in its ranked order. Otherwise the question counts as answered when the best cosine
    among the candidates is at least `threshold`, and hits below the threshold are dropped.
    An unanswered question keeps its single nearest passage (highest cosine) so the reader can
    judge. How many hits were dropped is the answer's `hidden`.
    """
    answered = best_score >= threshold if covered is None else covered
    if answered and covered is not None:
        kept = tuple(hits)
    elif answered:
        kept = tuple(h for h in hits if h.score >= threshold) or tuple(hits[:1])
    else:
        kept = (max(hits, key=lambda h: h.score),) if hits and offset == 0 else ()
        figures = ()
    # Number what is shown 1, 2, 3… (after offset): a dropped low-scoring hit leaves no gap.
    kept = tuple(replace(h, rank=offset + i) for i, h in enumerate(kept, start=1))
    if answered:
        kept = monotone_scores(kept)
    return Answer(question, answered, kept, warnings, notes, figures if answered else (), offset,
                  hidden=len(hits) - len(kept))


def below_threshold(score: float) -> str:
    """A cosine under the threshold, to two places rounded down: 0.4297 under 0.43 reads "0.42"."""
    return f"{math.floor(score * 100) / 100:.2f}"


def monotone_scores(hits: Sequence[Hit]) -> tuple[Hit, ...]:
    """The hits with shown scores that never rise down the list.

    A step after ranking may put a passage above better-scored ones (the newest of close matches
    for a question about the present, the earlier answer's article for a follow-up); such a
    passage is shown with the score of the best passage it was put above, so the number beside
    each passage agrees with its place. Nothing else changes (`score`, the cosine, is kept).
    """
    out = list(hits)
    floor = float("-inf")
    for i in range(len(out) - 1, -1, -1):  # bottom up: each at least the one below it
        shown = out[i].shown_score
        if shown < floor:
            out[i] = replace(out[i], relevance=floor)
        else:
            floor = shown
    return tuple(out)


def render_text(answer: Answer, bold: tuple[str, str] = ("«", "»")) -> str:
    """The answer as plain text for the console, in the order Discord shows it. With context,
    the cited sentence is put between `bold` (ANSI bold in a terminal; never raw Markdown)."""
    lines: list[str] = []
    for warning in answer.warnings:
        lines.append(f"⚠ {warning}")
    for note in answer.notes:
        lines.append(f"note: {note}")
    for fig in answer.figures:
        lines.extend(figure_lines(fig))
    if not answer.answered:
        lines.append(NOT_COVERED)
        if answer.hits:
            h = answer.hits[0]
            lines.append(f"Nearest passage (similarity {below_threshold(h.score)}, below the threshold):")
            lines.append(f'   "{h.passage.quote}"')
            lines.append(f"   — {citation(h)}")
        hidden = hidden_line(answer)
        if hidden:
            lines.append(f"({hidden})")
        return "\n".join(lines)
    if not answer.hits:
        lines.append("No more passages.")
    for h in answer.hits:
        text = h.passage.quote
        if h.before or h.after:
            text = " ".join([*h.before, f"{bold[0]}{text}{bold[1]}", *h.after])
        lines.append(f'{h.rank}. "{text}"  (score {h.shown_score:.2f})')
        lines.append(f"   — {citation(h)}")
    hidden = hidden_line(answer)
    if hidden:
        lines.append(f"({hidden})")
    return "\n".join(lines)
