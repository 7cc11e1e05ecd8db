"""One story, several outlets: a sentence several documents carry becomes one passage.

Two sentences are the same passage when they are identical after normalisation (case,
punctuation and spacing ignored), or near-identical: a wire paragraph with a changed word
(word-set Jaccard at least `NEAR_IDENTICAL`, at least `MIN_NEAR_WORDS` words, and saying the
same thing: `same_statement`, so that different figures, a negation or another actor are never
merged). The passage kept is the
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


#: Words that change what a sentence says when one copy has them and the other does not.
NEGATIONS = frozenset({"not", "no", "never", "nor", "none", "nothing", "nobody", "neither", "without",
                       "t", "cannot", "denied", "denies", "deny", "false", "untrue"})
QUESTION_WORDS = frozenset({"how", "what", "who", "whom", "whose", "why", "when", "where", "which", "whether"})
_NAME = re.compile(r"\b[A-Z][\w'’-]*")
#: Capitalised only because they open a sentence: never an actor.
_OPENERS = frozenset({"the", "a", "an", "it", "its", "this", "that", "these", "those", "he", "she", "they",
                      "we", "i", "but", "and", "or", "so", "in", "on", "at", "for", "with", "after",
                      "before", "when", "while", "if", "as", "by", "from", "to", "of", "there",
                      # days and months date a report; they name no one
                      "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday",
                      "january", "february", "march", "april", "may", "june", "july", "august",
                      "september", "october", "november", "december"})


def _names(text: str) -> frozenset[str]:
    """Capitalised words (opening function words aside): the actors and places a sentence names."""
    return frozenset(w.lower() for w in _NAME.findall(text)) - _OPENERS


def same_statement(a: str, b: str) -> bool:
    """Whether two near-identical sentences say the same thing, so one may stand for the other.

    They do not when a number differs ("12" / "13"), a negation is in one only ("did withdraw" /
    "did not withdraw"), one asks and the other states ("How large is the area?" / "The area is
    large."), or one names an actor or place the other does not ("Russian" / "Ukrainian").
    """
    wa, wb = _WORD.findall(a.lower()), _WORD.findall(b.lower())
    if [w for w in wa if not w.isalpha()] != [w for w in wb if not w.isalpha()]:
        return False
    sa, sb = frozenset(wa), frozenset(wb)
    diff = sa ^ sb
    if diff & NEGATIONS or (a.rstrip().endswith("?") != b.rstrip().endswith("?")):
        return False
    if (sa & QUESTION_WORDS) != (sb & QUESTION_WORDS):
        return False
    if (_names(a) ^ _names(b)) & diff:
        return False
    # The same actors in another order ("Russia said Ukraine attacked" / "Ukraine said Russia
    # attacked") swap who did what.
    na, nb = _names(a), _names(b)
    if [w for w in wa if w in na] != [w for w in wb if w in nb]:
        return False
    # A word swapped for its opposite ("rose" / "fell", "won" / "lost") reverses the statement;
    # other swaps ("covered" / "flooded") are a rewrite of the same wire sentence.
    only_a, only_b = sa - sb, sb - sa
    return not any(_opposite(x, y) for x in only_a for y in only_b)


#: Pairs of opposite words news copy swaps (matched on word forms: "rose" / "falls").
OPPOSITES = (("rise", "fall"), ("rose", "fell"), ("risen", "fallen"), ("up", "down"),
             ("increase", "decrease"), ("increase", "cut"), ("higher", "lower"), ("more", "less"),
             ("more", "fewer"), ("most", "least"), ("gain", "loss"), ("gain", "lose"), ("won", "lost"),
             ("win", "lose"), ("win", "loss"), ("before", "after"), ("above", "below"), ("over", "under"),
             ("accept", "reject"), ("approve", "reject"), ("support", "oppose"), ("confirm", "deny"),
             ("guilty", "innocent"), ("open", "close"), ("allow", "ban"), ("start", "end"),
             ("begin", "end"), ("enter", "leave"), ("advance", "retreat"), ("strong", "weak"),
             ("surplus", "deficit"), ("profit", "loss"), ("boost", "cut"), ("raise", "cut"),
             ("expand", "shrink"), ("grow", "shrink"), ("grew", "shrank"), ("best", "worst"),
             ("better", "worse"), ("early", "late"), ("earlier", "later"), ("first", "last"),
             ("north", "south"), ("east", "west"), ("buy", "sell"), ("bought", "sold"),
             ("import", "export"), ("arrive", "depart"), ("include", "exclude"), ("legal", "illegal"),
             ("likely", "unlikely"), ("able", "unable"), ("succeed", "fail"), ("success", "failure"))


def _opposite(a: str, b: str) -> bool:
    """Whether `a` and `b` are forms of two opposite words (`OPPOSITES`)."""
    return any((_same_stem(a, x) and _same_stem(b, y)) or (_same_stem(a, y) and _same_stem(b, x))
               for x, y in OPPOSITES)


def _same_stem(a: str, b: str) -> bool:
    """Two forms of one word: a shared start of 4 letters or more that covers all but the last 3
    letters of each ("says"/"said", "attack"/"attacked", "announced"/"announces")."""
    if min(len(a), len(b)) < 4:
        return a == b  # "up" is not a form of "upset"
    n = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        n += 1
    return n >= 4 and len(a) - n <= 3 and len(b) - n <= 3


#: A saved copy's file name: "wire (1).txt", "wire - Copy.txt", "wire copy 2.md", "Copy of wire.txt".
_COPY_SUFFIX = re.compile(r"(?:\s\(\d+\)|\s-\sCopy(?:\s\(\d+\))?|\scopy(?:\s\d+)?)$", re.I)
_COPY_PREFIX = re.compile(r"^Copy of\s+", re.I)


def canonical_name(document: str) -> str:
    """The document id without a copy suffix or prefix: "news/wire (1).txt" → "news/wire.txt"."""
    folder, _, name = document.rpartition("/")
    stem, dot, ext = name.rpartition(".") if "." in name else (name, "", "")
    stem = _COPY_PREFIX.sub("", _COPY_SUFFIX.sub("", stem))
    return f"{folder}/{stem}{dot}{ext}" if folder else f"{stem}{dot}{ext}"


def is_copy_name(document: str) -> bool:
    """True for a file named as a saved copy of another ("wire (1).txt")."""
    return canonical_name(document) != document


def same_file(a: str, b: str) -> bool:
    """Whether two documents are copies of one file (same name once copy suffixes are removed)."""
    return canonical_name(a) == canonical_name(b)


def _order(p: Passage, position: int) -> tuple[bool, str, bool, int]:
    """Earliest published first (undated last), then the file not named as a copy, then reading order."""
    return (p.published is None, p.published or "", is_copy_name(p.document), position)


def merge_copies(passages: Sequence[Passage]) -> tuple[list[Passage], int]:
    """Merge copies of one sentence into one passage. Returns `(kept, dropped count)`.

    Each kept passage is the earliest-published copy (undated copies count as newest; then the
    file not named as a copy, "wire.txt" before "wire (1).txt"; then reading order) with `also`
    holding every other document that carries it, oldest first.
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
                                and _near(word_set, other_words) \
                                and same_statement(p.text, passages[groups[cand][0]].text):
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
