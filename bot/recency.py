"""Time in answers: `as of` a date (only what was published by then), and the newest evidence
first for questions about the present. Pure functions over hits and stats."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace

from bot.corpus import Passage
from bot.dates import iso_date
from bot.errors import UsageError
from bot.retrieve import Hit
from bot.stats import Stat


def parse_as_of(value: str | None) -> str | None:
    """The ISO date of an `as of` option, None when not given.

    Raises:
        UsageError: `value` is not a date.
    """
    if value is None or not str(value).strip():
        return None
    iso = iso_date(value)
    if iso is None:
        raise UsageError(f"as of {str(value)[:40]!r} is not a date: write it like 2025-01-31")
    return iso


def published_by(cutoff: str) -> Callable[[Passage], bool]:
    """A filter: passages of articles published on or before `cutoff` (undated ones never pass).
    A merged passage is its earliest copy, so it passes when any copy does."""
    return lambda p: p.published is not None and p.published <= cutoff


def trim_reprints(hits: Sequence[Hit], cutoff: str) -> list[Hit]:
    """Drop from each hit's "also reported by" the copies published after `cutoff`."""
    out = []
    for h in hits:
        also = tuple(r for r in h.passage.also if r.published is not None and r.published <= cutoff)
        out.append(h if also == h.passage.also else replace(h, passage=replace(h.passage, also=also)))
    return out


def newest(p: Passage) -> str:
    """The latest publication date among a passage's copies (ISO), "" when none is dated."""
    return max([d for d in (p.published, *(r.published for r in p.also)) if d], default="")


def newest_first(hits: Sequence[Hit], margin: float, k: int, offset: int = 0) -> list[Hit]:
    """The `k` hits to show for a question about the present: those within `margin` of the best
    cosine, newest dated first (undated after dated), then the rest in their order."""
    hits = list(hits)
    if offset or not hits:
        return hits[:k]
    best = max(h.score for h in hits)
    near = [h for h in hits if h.score >= best - margin]
    rest = [h for h in hits if h.score < best - margin]
    near.sort(key=lambda h: newest(h.passage), reverse=True)  # stable: equal dates keep rank order
    return (near + rest)[:k]


def stat_as_of(stat: Stat, cutoff: str) -> Stat | None:
    """`stat` as it stood on `cutoff`: only citations published by then; when none of its own
    are, the newest older value that has some takes its place. None when nothing was stated yet."""
    kept = []
    for s in (stat, *stat.history):
        cites = tuple(c for c in s.citations if c.published and c.published <= cutoff)
        if cites:
            kept.append(replace(s, citations=cites, history=()))
    if not kept:
        return None
    return replace(kept[0], history=tuple(kept[1:]))
