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

from bot.corpus import Passage, Reprint

#: Word-set overlap (Jaccard) from which two sentences of different documents are one passage.
NEAR_IDENTICAL = 0.8
#: Sentences shorter than this (words) merge only when identical: short lines differ by little.
MIN_NEAR_WORDS = 8
#: Longest words of a sentence used to find near-identical candidates (one changed word keeps
#: at least three of them in common).
ANCHORS = 4
_WORD = re.compile(r"\w+")
_NUMBER = re.compile(r"\d")


def sentence_key(text: str) -> str:
    """The normalised form two copies of a sentence share: lower-case words joined by spaces."""
    return " ".join(_WORD.findall(text.lower()))


def _anchors(words: frozenset[str]) -> list[str]:
    return sorted(words, key=lambda w: (-len(w), w))[:ANCHORS]


def _near(a: tuple[frozenset[str], tuple[str, ...]], b: tuple[frozenset[str], tuple[str, ...]]) -> bool:
    if a[1] != b[1]:  # the numbers differ: a disputed figure, not a copy
        return False
    union = len(a[0] | b[0])
    return bool(union) and len(a[0] & b[0]) / union >= NEAR_IDENTICAL


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
    by_anchor: dict[str, list[int]] = {}
    group_docs: list[set[str]] = []
    for i, p in enumerate(passages):
        key = sentence_key(p.text)
        g = by_key.get(key)
        words = key.split()
        if g is None and len(words) >= MIN_NEAR_WORDS:
            sig = (frozenset(words), tuple(w for w in words if _NUMBER.search(w)))
            seen: set[int] = set()
            for anchor in _anchors(sig[0]):
                for cand in by_anchor.get(anchor, ())[-50:]:  # bounded: the most recent 50
                    if cand in seen:
                        continue
                    seen.add(cand)
                    # Near-identical lines within one document are kept apart (a lede and its
                    # body sentence); only other documents' copies merge.
                    if _near(sig, signature[cand]) and p.document not in group_docs[cand]:
                        g = cand
                        break
                if g is not None:
                    break
        if g is None:
            g = len(groups)
            groups.append([])
            group_docs.append(set())
            words_set = frozenset(words)
            signature.append((words_set, tuple(w for w in words if _NUMBER.search(w))))
            if len(words) >= MIN_NEAR_WORDS:
                for anchor in _anchors(words_set):
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
