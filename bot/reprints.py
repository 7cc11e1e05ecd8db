"""One story, several outlets: a sentence several documents carry becomes one passage.

Two sentences are the same passage when they are identical after normalisation (case,
punctuation and spacing ignored), or near-identical: a wire paragraph with a changed word
(word-set Jaccard at least `NEAR_IDENTICAL`, at least `MIN_NEAR_WORDS` words, and the very same
numbers, so that two outlets' different figures are never merged). The passage kept is the
earliest-published copy; the others become its `also` ("also reported by B, C").
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace
from itertools import combinations

from bot.corpus import Passage, Reprint

#: Word-set overlap (Jaccard) from which two sentences of different documents are one passage.
NEAR_IDENTICAL = 0.8
#: Sentences shorter than this (words) merge only when identical: short lines differ by little.
MIN_NEAR_WORDS = 8
#: Longest words of a sentence whose pairs find near-identical candidates (one changed word keeps
#: at least three of them in common).
ANCHORS = 4
_WORD = re.compile(r"\w+")


def sentence_key(text: str) -> str:
    """The normalised form two copies of a sentence share: lower-case words joined by spaces."""
    return " ".join(_WORD.findall(text.lower()))


def _anchors(words: frozenset[str]) -> list[tuple[str, str]]:
    """Pairs of the sentence's `ANCHORS` longest words: a copy with one word changed or added
    keeps at least three of them, so shares at least three pairs, while unrelated sentences
    rarely share a pair of long words (the buckets stay small)."""
    top = sorted(w for _, w in sorted((-len(w), w) for w in words)[:ANCHORS])
    return list(combinations(top, 2))


def _near(a: frozenset[str], b: frozenset[str]) -> bool:
    union = len(a | b)
    return bool(union) and len(a & b) / union >= NEAR_IDENTICAL


def _order(p: Passage, position: int) -> tuple[bool, str, int]:
    return (p.published is None, p.published or "", position)


def merge_copies(passages: Sequence[Passage]) -> tuple[list[Passage], int]:
    """Merge copies of one sentence into one passage. Returns `(kept, dropped count)`.

    Each kept passage is the earliest-published copy (undated copies count as newest; ties keep
    reading order) with `also` holding every other document that carries it, oldest first.
    Kept passages stay in the order their first copy appears in `passages`.
    """
    groups: list[list[int]] = []
    by_key: dict[str, int] = {}
    signature: list[tuple[frozenset[str], tuple[str, ...]]] = []
    by_anchor: dict[tuple[str, str], list[int]] = {}
    group_docs: list[set[str]] = []
    for i, p in enumerate(passages):
        key = sentence_key(p.text)
        g = by_key.get(key)
        anchors: list[tuple[str, str]] = []
        if g is None:
            words = key.split()
            word_set = frozenset(words)
            numbers = tuple(w for w in words if not w.isalpha())  # figures must match exactly
            if len(words) >= MIN_NEAR_WORDS:
                anchors = _anchors(word_set)
                seen: set[int] = set()
                for anchor in anchors:
                    for cand in by_anchor.get(anchor, ())[-20:]:  # bounded: the most recent 20
                        if cand in seen:
                            continue
                        seen.add(cand)
                        # Near-identical lines within one document are kept apart (a lede and
                        # its body sentence); only other documents' copies merge.
                        other_words, other_numbers = signature[cand]
                        if other_numbers == numbers and p.document not in group_docs[cand] \
                                and _near(word_set, other_words):
                            g = cand
                            break
                    if g is not None:
                        break
        if g is None:
            g = len(groups)
            groups.append([])
            group_docs.append(set())
            signature.append((word_set, numbers))
            for anchor in anchors:
                by_anchor.setdefault(anchor, []).append(g)
        by_key.setdefault(key, g)
        groups[g].append(i)
        group_docs[g].add(p.document)
    kept: list[Passage] = []
    for members in groups:
        ordered = sorted(members, key=lambda i: _order(passages[i], i))
        first = passages[ordered[0]]
        also: list[Reprint] = []
        docs = {first.document}
        for i in ordered[1:]:
            p = passages[i]
            if p.document in docs:
                continue
            docs.add(p.document)
            also.append(Reprint(p.document, p.title, p.sentence, p.source, p.published, p.url))
        kept.append(replace(first, also=tuple(also)) if also else first)
    return kept, len(passages) - len(kept)
