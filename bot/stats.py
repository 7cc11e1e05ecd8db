"""Stats stage: the figures the corpus states (areas, counts, money, dates), with citations.

Each sentence is read by the quantity grammar (`bot.quantities`); each figure gets the short
phrase of what it counts, taken from the sentence ("North Korean soldiers", "Russian land").
The same figure stated in several sentences or documents becomes one `Stat` with all its
citations; with dated documents, the newest value for the same thing comes first and the
older ones are its history. Topic ranking (`StatMatcher`) is vectorised over embeddings
computed at build time with the index's model.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from functools import cached_property, lru_cache
from typing import Any

import numpy as np

from bot.corpus import Passage
from bot.quantities import Number, Quantity, find_quantities, loose_date

#: Words that end a counted phrase: verbs, prepositions, conjunctions, determiners.
_STOP = frozenset(
    """
a an the this that these those which who whom whose what when where while as than then and or
but nor so if because is are was were be been being am has have had having do does did will
would could can may might must shall should to in on at for from by with about into over under
between against per since after before during until up down out off through across around
its it their they them he she his her we our you your i me my said says say told according
also only just still now already more most less some any each every all both other such
not no there here how why very too year years month months week weeks day days ago last next
""".split()  # noqa: SIM905 - a word list reads better as text
)
_DATE_PREPOSITIONS = frozenset({"in", "on", "since", "by", "from", "until", "till", "at", "of", "to",
                                "before", "after", "during", "between", "and", "late", "early", "mid"})
_AREA_NOUNS = frozenset({"area", "territory"})
_KEEP_AFTER_HEAD = frozenset({"in", "of", "from"})
_WORD = re.compile(r"[A-Za-z][\w'’-]*|\d[\d,.]*\w*")
_SYNONYMS = {"troop": "military", "soldier": "military", "force": "military", "personnel": "military",
             "fighter": "military", "person": "people", "people": "people", "worker": "people"}
#: Counted-phrase quality: a noun phrase after the figure beats words taken from before it.
AFTER, BEFORE, NONE = 2, 1, 0


@dataclass(frozen=True)
class Citation:
    """Where a stat is stated: document id, title, sentence number (from 1) and the sentence."""

    document: str
    title: str
    sentence: int
    text: str
    url: str | None = None
    published: str | None = None
    source: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {"document": self.document, "title": self.title, "sentence": self.sentence,
                "text": self.text, "url": self.url, "published": self.published, "source": self.source}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Citation:
        """The inverse of `to_json`; missing keys take their defaults."""
        return cls(str(data.get("document") or ""), str(data.get("title") or data.get("document") or ""),
                   int(data.get("sentence") or 0), str(data.get("text") or ""), data.get("url"),
                   data.get("published"), data.get("source"))


@dataclass(frozen=True)
class UnitForm:
    """The same figure written in another unit ("35 square miles" beside "90 sq km")."""

    display: str
    value: Number | None
    unit: str

    def to_json(self) -> dict[str, Any]:
        return {"display": self.display, "value": self.value, "unit": self.unit}


@dataclass(frozen=True)
class Stat:
    """One figure stated in the corpus, with what it counts and every sentence that states it.

    `value` is a single figure; `low`/`high` both ends of a range (value None); all three are
    None for a vague magnitude ("thousands of troops") and for a date (then `date` holds it,
    ISO: "2024-08"). `unit` is canonical (see `bot.quantities.Quantity`); `also` holds the same
    figure in other units as written ("35 square miles"). `date` on a figure is the date its
    sentence gives (ISO when it has a year, else as written: "January"). `history` holds older
    values of the same thing from older dated documents, newest first.
    """

    display: str
    value: Number | None
    low: Number | None
    high: Number | None
    unit: str
    qualifier: str | None
    counts: str
    date: str | None
    citations: tuple[Citation, ...]
    also: tuple[UnitForm, ...] = ()
    history: tuple[Stat, ...] = field(default_factory=tuple)

    @property
    def vague(self) -> bool:
        return self.unit != "date" and self.value is None and self.low is None

    @property
    def disputed(self) -> bool:
        """True when other documents state a different value for the same thing (`history`)."""
        return any((h.value, h.low, h.high, h.date if h.unit == "date" else None)
                   != (self.value, self.low, self.high, self.date if self.unit == "date" else None)
                   for h in self.history)

    def to_json(self) -> dict[str, Any]:
        """JSON: display, value, low, high, unit, qualifier, counts, date, citations, also,
        history, disputed."""
        return {
            "display": self.display, "value": self.value, "low": self.low, "high": self.high,
            "unit": self.unit, "qualifier": self.qualifier, "counts": self.counts, "date": self.date,
            "citations": [c.to_json() for c in self.citations], "also": [a.to_json() for a in self.also],
            "history": [h.to_json() for h in self.history], "disputed": self.disputed,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Stat:
        """The inverse of `to_json` (how a stat is loaded from `stats.json`); missing keys take
        their defaults, `disputed` is recomputed from `history`."""
        return cls(
            display=str(data.get("display") or data.get("counts") or ""),
            value=data.get("value"), low=data.get("low"), high=data.get("high"),
            unit=str(data.get("unit") or ""), qualifier=data.get("qualifier"),
            counts=str(data.get("counts") or ""), date=data.get("date"),
            citations=tuple(Citation.from_json(c) for c in data.get("citations") or ()),
            also=tuple(UnitForm(str(a.get("display", "")), a.get("value"), str(a.get("unit", "")))
                       for a in data.get("also") or ()),
            history=tuple(cls.from_json(h) for h in data.get("history") or ()),
        )

    @property
    def newest_published(self) -> str | None:
        """The latest publication date (ISO) among the citing documents, None when undated."""
        return max((c.published for c in self.citations if c.published), default=None)


@dataclass(frozen=True)
class _Mention:
    quantity: Quantity
    counts: str
    quality: int
    after: bool
    date: str | None
    citation: Citation

    @cached_property
    def keys(self) -> tuple[tuple[str, Any, Any, Any, Any], ...]:
        """What a figure is matched on, in the order merging tries them: its own value, then each
        alternative unit's (a tuple, not a set: a set of tuples holding None iterated in a
        different order in each process on Python 3.11, so the group a figure joined, and
        stats.json, changed from build to build). Computed once: merging reads it per group."""
        q = self.quantity
        own = (q.unit, q.value, q.low, q.high, q.date)
        return tuple(dict.fromkeys([own, *((a.unit, a.value, None, None, None) for a in q.alts)]))

    @cached_property
    def key_set(self) -> frozenset[tuple[str, Any, Any, Any, Any]]:
        """`keys` as a set, for intersections."""
        return frozenset(self.keys)


def _words(text: str) -> list[re.Match[str]]:
    return list(_WORD.finditer(text))


def _is_stop(word: str) -> bool:
    return word.lower() in _STOP


def _phrase_after(sentence: str, end: int, unit: str, start: int = 0) -> str:
    """The noun phrase right after a figure: "North Korean soldiers", "of Russian land" → "Russian land"."""
    rest = sentence[end:]
    if re.match(r"\s*[,.;:)]", rest):
        return ""
    words = _words(rest[:120])
    out: list[str] = []
    i = 0
    if words and words[0].group(0).lower() == "of":
        i = 1
        while i < len(words) and words[i].group(0).lower() in {"the", "a", "an", "its", "their"}:
            i += 1
    elif unit not in ("count", "date") and not (words and words[0].group(0).lower() in _AREA_NOUNS) \
            and not re.search(r"\b(?:a|an|the|its|their)\s+$", sentence[:start].lower()):
        return ""  # a figure used as an adjective ("a 35% hike", "the 3.3% growth") names its noun
    prev_end = words[i - 1].end() if i else 0
    while i < len(words) and len(out) < 6:
        w = words[i].group(0)
        gap = rest[prev_end:words[i].start()]
        if out and re.search(r"[,.;:()\"]", gap):
            break
        low = w.lower()
        if low in _KEEP_AFTER_HEAD and out and i + 1 < len(words) and words[i + 1].group(0)[0].isupper() \
                and not _is_stop(words[i + 1].group(0)):
            out += [w, words[i + 1].group(0)]  # "area in Kursk", "troops from North Korea"
            j = i + 2
            while j < len(words) and words[j].group(0)[0].isupper() and not re.search(
                    r"[,.;:()]", rest[words[j - 1].end():words[j].start()]):
                out.append(words[j].group(0))
                j += 1
            break
        verbish = re.search(r"(?:ed|ing|ly)$" if out else r"ing$", low) and "-" not in w
        if _is_stop(w) or w[0].isdigit() or verbish:
            break
        out.append(w)
        prev_end = words[i].end()
        i += 1
    return " ".join(out)


def _phrase_before(sentence: str, start: int, cut_figures: bool = True) -> str:
    """Up to six words before a figure, within its clause, without leading/trailing stop words.

    With `cut_figures`, words before another figure in the clause are dropped (they belong to
    that figure); years do not count as figures here ("Pre-tax profit for 2004 was £15.4m").
    """
    clause = re.split(r",(?!\d)|[;:()\"]|\bthat\b|\bwhich\b|\bwho\b", sentence[:start])[-1]
    words = [m.group(0) for m in _words(clause)]
    figures = [i for i, w in enumerate(words) if w[0].isdigit() and not re.fullmatch(r"(?:1[89]|20)\d\d", w)]
    if cut_figures and figures:
        words = words[figures[-1] + 1:]
    while words and _is_stop(words[-1]):
        words.pop()
    while words and _is_stop(words[0]):
        words.pop(0)
    return " ".join(words[-6:])


def _date_subject(sentence: str, start: int) -> str:
    """What a date dates: "The incursion, which began in August 2024" → "The incursion began".

    Words up to another figure in the clause belong to that figure, not to the date ("grew by
    5.5% in 2004" gives no label, not "grew by 5.5"); one-letter leftovers ("2003's") are dropped.
    """
    head = sentence[:start]
    head = re.sub(r"\s*,\s*(?:which|that|who)\s+", " ", head)
    words = _phrase_before(head, len(head), cut_figures=False).split()
    numeric = [i for i, w in enumerate(words) if any(ch.isdigit() for ch in w)]
    if numeric:
        words = words[numeric[-1] + 1:]
        while words and _is_stop(words[0]):
            words.pop(0)
    return " ".join(w for w in words if len(w) > 1)


#: "100%" as a figure of speech ("a 100% guarantee", "100% sure", "gave 100%"), not a figure.
_SPEECH_100 = re.compile(r"^\s*(?:sure|certain|guarantee[ds]?|confident|committed|fit|behind|right|wrong|correct|"
                         r"effort|focused|happy|convinced|true|honest|serious|professional)\b", re.I)
_GIVE_100 = re.compile(r"\b(?:give|gives|gave|given|giving)\s+(?:it\s+)?$", re.I)
_MONTHS = frozenset(["january", "february", "march", "april", "may", "june", "july", "august", "september",
                     "october", "november", "december"])


def figure_of_speech(sentence: str, q: Quantity) -> bool:
    """True for what the grammar reads as a figure but is not one: "100%" as a figure of speech,
    a percentage that starts a name ("100% Homegrown"), or a bare year in a title
    ("CeBit 2005", "Football Manager 2005")."""
    after, before = sentence[q.end:], sentence[:q.start]
    if q.unit == "%" and q.value == 100 and (_SPEECH_100.match(after) or _GIVE_100.search(before)):
        return True
    if q.unit == "%" and q.start > 0 and re.match(r"\s[A-Z][a-z]", after) \
            and not re.match(r"\s(?:In|On|At|By|Of|From|And|To)\b", after):
        return True
    if q.unit == "date" and re.fullmatch(r"(?:1[6-9]|20)\d\d", q.text.strip()):
        prev = re.search(r"(\S+)\s+$", before)
        word = prev.group(1) if prev else ""
        if word[:1].isupper() and word.lower() not in _MONTHS and word.lower() not in _DATE_PREPOSITIONS \
                and before.strip() != word:
            return True
    return False


def counted_phrase(sentence: str, q: Quantity) -> tuple[str, int, bool]:
    """What figure `q` counts, from its sentence: (phrase, quality AFTER/BEFORE/NONE, after?)."""
    if q.unit == "date":
        prev = re.search(r"(\w+)\W*$", sentence[:q.start])
        if not (prev and prev.group(1).lower() in _DATE_PREPOSITIONS):
            after = _phrase_after(sentence, q.end, "count")  # "the 2012 Olympic bid"
            if after:
                return after, AFTER, True
        phrase = " ".join(_date_subject(sentence, q.start).split()[-5:])
        return phrase, BEFORE if phrase else NONE, False
    after = _phrase_after(sentence, q.end, q.unit, q.start)
    if after:
        return after, AFTER, True
    before = _phrase_before(sentence, q.start)
    return before, BEFORE if before else NONE, False


#: After a bound whose noun is left implicit: what happened to those counted ("over 1,000 were
#: captured", "more than 200 have fled", "at least 40 died").
_IMPLICIT = re.compile(r"\s+(?:(?:were|was|are|is|have|has|had|remain|remained)\s+(?:been\s+|now\s+|still\s+)?)?"
                       r"((?:[a-z]+ed|died|fled|fought|lost|left|taken|held|hurt|killed|dead|missing|injured|"
                       r"wounded|captured|arrested|detained|evacuated|displaced|slain|shot|hidden|seen|freed))\b")


def implicit_count(sentence: str, q: Quantity) -> str | None:
    """What a bound counts when its noun is left implicit: "over 1,000 were captured" →
    "captured". Only for a qualified figure ("over", "at least", "some") or one of 100 and more,
    so a label ("12 lost") is never read as a count."""
    if q.qualifier is None and not (q.value is not None and q.value >= 100):
        return None
    m = _IMPLICIT.match(sentence, q.end)
    return m.group(1) if m else None


def _sentence_date(sentence: str, quantities: list[Quantity], q: Quantity) -> str | None:
    for other in quantities:
        if other.unit == "date" and other is not q:
            return other.date
    return None if q.unit == "date" else loose_date(sentence)


def mentions(passage: Passage) -> list[_Mention]:
    """The figures in one passage with their counted phrases (bare counts without a noun dropped)."""
    found = find_quantities(passage.text)
    cite = Citation(passage.document, passage.title, passage.sentence, passage.text,
                    passage.url, passage.published, passage.source)
    out = []
    for q in found:
        if figure_of_speech(passage.text, q):
            continue
        counts, quality, after = counted_phrase(passage.text, q)
        if q.unit == "count" and not after:
            implicit = implicit_count(passage.text, q)
            if implicit:
                counts, quality, after = implicit, AFTER, True
        if q.unit == "count" and (not after or counts == counts.title() and q.value is not None):
            continue  # "Article 50", "rose to 1,200", "28 Shinobu Asagoe": no common noun, no stat
        if q.unit == "duration" and not after:
            continue
        out.append(_Mention(q, counts, quality, after, _sentence_date(passage.text, found, q), cite))
    return out


_CONTENT_WORD = re.compile(r"[A-Za-z][\w-]+")


@lru_cache(maxsize=1 << 16)
def _content(text: str) -> frozenset[str]:
    """The content words of a counted phrase, lower case, plural s dropped (cached: merging
    compares the same few thousand phrases millions of times on a large corpus)."""
    return frozenset(w.lower().rstrip("s") for w in _CONTENT_WORD.findall(text)
                     if len(w) > 3 and not _is_stop(w))


@lru_cache(maxsize=1 << 16)
def _head(counts: str) -> str:
    words = re.split(r"\s+(?:in|of)\s+", counts)[0].split()
    head = words[-1].lower().rstrip("s") if words else ""
    return _SYNONYMS.get(head, head)


def _same_figure(a: _Mention, b: _Mention) -> bool:
    if not (a.key_set & b.key_set) or a.quantity.unit == "date" and a.quantity.date != b.quantity.date:
        return False
    if a.quantity.value is None and a.quantity.low is None and a.quantity.unit != "date":
        return a.quantity.text.lower() == b.quantity.text.lower() and _head(a.counts) == _head(b.counts) \
            and a.citation.document == b.citation.document
    if a.quantity.unit == "count" and _head(a.counts) != _head(b.counts):
        return False
    if a.citation.document == b.citation.document:
        return a.quantity.unit != "date" or bool(_content(a.counts) & _content(b.counts))
    # Across documents the counted phrases must agree, not merely share a word ("record").
    ca, cb = _content(a.counts), _content(b.counts)
    return bool(ca) and (ca == cb or len(ca & cb) >= 2)


def _signature(m: _Mention) -> tuple[Any, ...]:
    """Everything `_same_figure(a, m)` reads of its second mention `m`, but the document."""
    q = m.quantity
    return (m.key_set, q.date, q.text.lower(), m.counts)


def _same_as_any(m: _Mention, by_doc: dict[str, _Mention]) -> bool:
    """`any(_same_figure(m, o) for o in members)` for members that share one `_signature`,
    `by_doc` holding one of them per document: the answer depends on the other member only
    through its signature and whether its document is `m`'s."""
    same = by_doc.get(m.citation.document)
    if same is not None and _same_figure(m, same):
        return True
    for doc, other in by_doc.items():
        if doc != m.citation.document:
            return _same_figure(m, other)
    return False


def _display(m: _Mention, counts: str, after: bool) -> str:
    q = m.quantity
    text = " ".join(q.text.split())
    if not counts:
        return text
    if q.unit == "date" or not after:
        return f"{counts}: {text}"
    if m.after:
        sep = " of " if re.match(r"\s*of\b", m.citation.text[q.end:]) else " "
        return f"{text}{sep}{counts}"
    return f"{text} — {counts}"


def _stat(group: list[_Mention]) -> Stat:
    # Earliest member first among equals (positions, not `group.index`: a group of n copies
    # cost n² comparisons).
    _, best = max(((sum(a.start >= 0 for a in m.quantity.alts), m.quality, -i), m) for i, m in enumerate(group))
    _, named = max(((m.quality, len(m.counts) <= 60, -i), m) for i, m in enumerate(group))
    q = best.quantity
    also = tuple(UnitForm(a.text, a.value, a.unit) for a in q.alts)
    cites: list[Citation] = []
    seen: set[tuple[str, str]] = set()
    for m in group:
        if (m.citation.document, m.citation.text) not in seen:
            seen.add((m.citation.document, m.citation.text))
            cites.append(m.citation)
    date = q.date if q.unit == "date" else next((m.date for m in group if m.date), None)
    if date is None and q.unit != "date":  # the sentence gives no date: the publication date
        date = min((c.published for c in cites if c.published), default=None)
    return Stat(_display(best, named.counts, named.after), q.value, q.low, q.high, q.unit, q.qualifier,
                named.counts,
                date, tuple(cites), also)


def _newest(stat: Stat) -> str:
    return max((c.published for c in stat.citations if c.published), default="")


def _with_history(stats: list[Stat]) -> list[Stat]:
    """Newest value first for the same thing in several dated documents; older ones as history.

    Only values stated by disjoint sets of documents count as one thing told differently: two
    figures one article states side by side ("10,000 troops engaged", "70,000 troops in all")
    are two things, never one disputed figure.
    """
    groups: dict[tuple[str, frozenset[str]], list[int]] = {}
    for i, s in enumerate(stats):
        if s.unit == "date" or s.vague or not _newest(s):
            continue
        key = (s.unit if s.unit != "count" else "count:" + _head(s.counts), frozenset(_content(s.counts)))
        if key[1]:
            groups.setdefault(key, []).append(i)
    drop: set[int] = set()
    for members in groups.values():
        ordered = sorted(members, key=lambda i: _newest(stats[i]), reverse=True)
        kept: list[int] = []
        docs: set[str] = set()
        for i in ordered:
            mine = {c.document for c in stats[i].citations}
            if mine & docs:
                continue
            kept.append(i)
            docs |= mine
        if len(kept) < 2:
            continue
        stats[kept[0]] = replace(stats[kept[0]], history=tuple(stats[i] for i in kept[1:]))
        drop.update(kept[1:])
    return [s for i, s in enumerate(stats) if i not in drop]


def extract_stats(passages: Sequence[Passage]) -> list[Stat]:
    """Extract the figures stated in `passages`, merged across sentences and documents.

    Pass every sentence (duplicates included) so that each document stating a figure is cited.
    Order: by first citation (document, then sentence), except that the newest value of a
    thing in dated documents takes the place of its older values.
    """
    return stats_of_mentions(mentions(p) for p in passages)


def stats_of_mentions(found: Iterable[list[_Mention]]) -> list[Stat]:
    """`extract_stats` from each passage's `mentions(passage)`, in passage order: the parsing
    (per passage, the costly part) can run anywhere, e.g. on Ray workers; this merge runs once."""
    groups: list[list[_Mention]] = []
    # Per group, its members by what `_same_figure` reads of them (`_signature`), one member per
    # document each: comparing with those is comparing with every member, without the n² of a
    # figure that many documents repeat.
    kinds: list[dict[tuple[Any, ...], dict[str, _Mention]]] = []
    index: dict[tuple[str, Any, Any, Any, Any], list[int]] = {}
    for found_in_passage in found:
        for m in found_in_passage:
            target = None
            for key in m.keys:
                for gi in index.get(key, []):
                    if any(_same_as_any(m, by_doc) for by_doc in kinds[gi].values()):
                        target = gi
                        break
                if target is not None:
                    break
            if target is None:
                target = len(groups)
                groups.append([])
                kinds.append({})
            groups[target].append(m)
            kinds[target].setdefault(_signature(m), {}).setdefault(m.citation.document, m)
            for key in m.keys:
                if target not in index.setdefault(key, []):
                    index[key].append(target)
    return _with_history([_stat(g) for g in groups])


# ------------------------------------------------------------------------ topics and questions


#: What kinds of figure are, in words, so that "territory" finds areas and "casualties" deaths.
_KIND_GLOSS = {"km²": "area held, territory", "mi²": "area held, territory", "ha": "area of land",
               "acres": "area of land", "%": "percentage, rate, share", "date": "date, when it happened",
               "km": "distance", "mi": "distance", "tonnes": "weight, amount", "duration": "how long"}
_CURRENCY_GLOSS = "money, cost, price, value"
_CASUALTY = re.compile(r"\b(?:kill|killed|killing|die|died|dead|deaths?|perish(?:ed)?|wounded|injured|"
                       r"casualt(?:y|ies)|lost their lives)\b", re.I)
_CASUALTY_GLOSS = "casualties: killed, dead, wounded"


def stat_texts(stat: Stat) -> list[str]:
    """The texts a topic is matched against: the counted phrase, each cited sentence, and
    glosses of the figure's kind ("area held, territory" for km²; casualties for a sentence
    that reports deaths)."""
    texts = [stat.counts or stat.display]
    texts += [c.text for c in stat.citations]
    unit = stat.unit
    gloss = _KIND_GLOSS.get(unit) or (_CURRENCY_GLOSS if unit.isupper() and len(unit) == 3 else None)
    if gloss:
        texts.append(gloss)
    if unit == "count" and any(_CASUALTY.search(t) for t in texts[1:]):
        texts.append(_CASUALTY_GLOSS)
    return texts


@dataclass(frozen=True)
class StatMatcher:
    """Topic matching over a list of stats, vectorised (built once per loaded index).

    `vectors` is `(m, d)` float32: one unit vector per text of `stat_texts(stat)`, stats in
    order, so stat `i` owns rows `starts[i]:starts[i+1]`. `haystacks[i]` is the lower-cased
    text of stat `i` for the lexical bonus; `by_sentence` maps a cited sentence to its stats.
    """

    vectors: np.ndarray
    starts: np.ndarray
    haystacks: tuple[str, ...]
    by_sentence: dict[str, tuple[int, ...]]

    @classmethod
    def build(cls, stats: Sequence[Stat], vector_of: Callable[[str], np.ndarray],
              dimension: int) -> StatMatcher:
        """`vector_of(text)` returns the `(d,)` unit vector of a stat text (precomputed)."""
        rows: list[np.ndarray] = []
        starts: list[int] = []
        haystacks: list[str] = []
        by_sentence: dict[str, list[int]] = {}
        for i, stat in enumerate(stats):
            texts = stat_texts(stat)
            starts.append(len(rows))
            rows.extend(vector_of(t) for t in texts)
            haystacks.append(" ".join(texts).lower())
            for c in stat.citations:
                by_sentence.setdefault(c.text, []).append(i)
            for old in stat.history:  # an older value's sentence finds the disputed figure
                for c in old.citations:
                    by_sentence.setdefault(c.text, []).append(i)
        vectors = np.stack(rows).astype(np.float32) if rows else np.empty((0, dimension), np.float32)
        return cls(vectors, np.asarray(starts, dtype=np.int64), tuple(haystacks),
                   {k: tuple(v) for k, v in by_sentence.items()})

    def scores(self, topic: str, topic_vec: np.ndarray, ids: Sequence[int] | None = None) -> np.ndarray:
        """Score per stat (all, or those in `ids`, in that order), `(n,)` float32: its best
        cosine with the `(d,)` unit `topic_vec`, plus 0.2 when every topic word occurs in its
        counted phrase or sentences (so "north korea" surely finds "North Korean")."""
        if not len(self.starts):
            return np.empty(0, dtype=np.float32)
        if ids is None:
            best = np.maximum.reduceat(self.vectors @ topic_vec, self.starts)
            chosen: Sequence[int] = range(len(self.starts))
        else:
            ends = np.append(self.starts[1:], len(self.vectors))
            best = np.array([float(np.max(self.vectors[self.starts[i]:ends[i]] @ topic_vec)) for i in ids],
                            dtype=np.float32)
            chosen = ids
        words = [w for w in re.findall(r"\w+", topic.lower()) if not _is_stop(w)]
        if words:
            bonus = [all(w in self.haystacks[i] for w in words) for i in chosen]
            best = best + 0.2 * np.asarray(bonus, dtype=np.float32)
        return best

    def rank(self, topic: str, topic_vec: np.ndarray, threshold: float) -> list[tuple[int, float]]:
        """Stats by meaning: `(stat index, score)`, best first, score ≥ `threshold`."""
        scores = self.scores(topic, topic_vec)
        order = np.argsort(-scores, kind="stable")
        return [(int(i), float(scores[i])) for i in order if scores[i] >= threshold]


_QUESTION_KIND = [
    (re.compile(r"\b(?:when|what year|what date|since when)\b", re.I), "when"),
    (re.compile(r"\bhow (?:many|much|large|big|far|long)\b|\bwhat (?:percentage|share|proportion)\b", re.I),
     "amount"),
]


def question_kind(question: str) -> str | None:
    """"when" for a date question, "amount" for how many/how much, None for any other question."""
    for pattern, kind in _QUESTION_KIND:
        if pattern.search(question):
            return kind
    return None


def answers_kind(stat: Stat, kind: str) -> bool:
    """Whether a stat can answer a question of `kind` (dates for "when", figures for "amount")."""
    if kind == "when":
        return stat.unit == "date"
    return stat.unit != "date" and (stat.value is not None or stat.low is not None)
