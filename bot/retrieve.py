"""Retrieve stage: dense, BM25 or hybrid top-k over an `Index`, with context and dedup.

Each hit carries two numbers: `relevance`, the score that ordered it (the fused score in
hybrid mode, the cosine in dense mode, BM25 / query weight in BM25 mode), which is what the
front ends show, so the shown number never rises down the list; and `score`, its cosine
similarity with the question (the embeddings are unit vectors, so the inner product is the
cosine), which the "covered" threshold reads.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from bot.config import DEFAULT_MODE, MODES
from bot.corpus import Passage
from bot.embed import QueryEncoder
from bot.fusion import Ranking, convex_fusion
from bot.index import Index
from bot.reprints import same_statement
from bot.rerank import rerank

__all__ = ["DEFAULT_MODE", "MODES", "Hit", "Retrieval", "rank", "fuse", "retrieve", "retrieve_vector"]
#: Two hits whose embeddings have at least this cosine are shown once (near-duplicates).
NEAR_DUPLICATE = 0.95
#: ... and so are two hits whose word sets overlap at least this much (Jaccard), which catches
#: copies that differ only in punctuation or a word (MiniLM puts "Kursk." and "Kursk!" at 0.93).
NEAR_DUPLICATE_WORDS = 0.8
_WORD = re.compile(r"\w+")


def _words(text: str) -> frozenset[str]:
    return frozenset(_WORD.findall(text.lower()))


def near_duplicate(a: frozenset[str], b: frozenset[str]) -> bool:
    """True when two word sets overlap by at least `NEAR_DUPLICATE_WORDS` (Jaccard)."""
    if not a or not b:
        return a == b
    return len(a & b) / len(a | b) >= NEAR_DUPLICATE_WORDS
#: Candidates taken from each retriever before fusion (at least; grows with k).
CANDIDATES = 50
#: Weight of the dense cosine in the hybrid mix (the rest is BM25 / query weight); tuned on the
#: SQuAD tuning split and the BBC paraphrase set (0.3-0.8 tried, docs/QUALITY.md).
HYBRID_ALPHA = 0.5


@dataclass(frozen=True)
class Hit:
    """One retrieved passage. `score` is its cosine similarity with the question, in [-1, 1];
    `rank` counts from 1; `before`/`after` are neighbouring sentences when context was asked;
    `relevance` is the ranking score that put it at `rank` (non-increasing down a retrieval; the
    reranker's score in "rerank" mode; None when the hit was made by hand, then the cosine
    stands in, see `shown_score`)."""

    id: int
    passage: Passage
    score: float
    rank: int
    before: tuple[str, ...] = ()
    after: tuple[str, ...] = ()
    relevance: float | None = None

    @property
    def shown_score(self) -> float:
        """The number shown beside the passage: its ranking score (the cosine if none)."""
        return self.score if self.relevance is None else self.relevance


@dataclass(frozen=True)
class Retrieval:
    """A ranked list of hits, the best cosine seen among all candidates, and the question's
    `(1, d)` float32 embedding (so later stages need not encode it again). `covered` is the
    reranker's probability in [0, 1] that the corpus answers the question ("rerank" mode;
    None otherwise, when the best cosine against SCORE_THRESHOLD decides)."""

    hits: list[Hit]
    best_score: float
    query: np.ndarray | None = None
    covered: float | None = None


def rank(index: Index, query: np.ndarray, question: str, mode: str, depth: int) -> list[int]:
    """Passage ids best first, by `mode`: "dense", "bm25", "hybrid" (convex mix of both) or
    "rerank" (the hybrid's candidates and their articles' sentences, reranked: `bot.rerank`)."""
    return [i for i, _ in ranked(index, query, question, mode, depth)]


def ranked(index: Index, query: np.ndarray, question: str, mode: str, depth: int) -> list[tuple[int, float]]:
    """`(passage id, ranking score)` best first, by `mode`: the cosine for "dense", BM25 divided
    by the question's query weight for "bm25", the fused score for "hybrid" (see `fuse`), the
    reranker's score for "rerank" (`bot.rerank.rerank`)."""
    if mode not in MODES:
        raise ValueError(f"unknown retrieval mode {mode!r}; use one of {', '.join(MODES)}")
    if mode == "rerank":
        found = rerank(index, query, question)
        return list(zip(found.ids.tolist(), found.scores.tolist(), strict=True))
    dense = index.search(query, depth) if mode != "bm25" else []
    sparse = index.sparse.search(question, depth) if mode != "dense" else []
    if mode == "dense":
        return _stable(index, [(i, float(s)) for i, s in dense])
    weight = index.sparse.query_weight(question)
    if mode == "bm25":
        return _stable(index, [(i, float(s) / weight if weight > 0 else 0.0) for i, s in sparse])
    return _stable(index, [(i, float(s)) for i, s in fuse(dense, sparse, weight)])


#: Scores equal to this many decimals are ties (float sums differ in the last bits).
TIE_DECIMALS = 6


def _stable(index: Index, ranking: Ranking) -> list[tuple[int, float]]:
    """`(id, score)` by score, best first; equal scores by document, then sentence (never by
    build order)."""
    ids = [i for i, _ in ranking]
    found = dict(zip(ids, index.passages_of(ids), strict=True))  # one read of the passage store

    def key(item: tuple[int, float]) -> tuple[float, str, int]:
        p = found[item[0]]
        return (-round(item[1], TIE_DECIMALS), p.document, p.sentence)

    return sorted(ranking, key=key)


def fuse(dense: Ranking, sparse: Ranking, query_weight: float) -> list[tuple[int, float]]:
    """The hybrid mode's fusion of a dense `(id, cosine)` and a BM25 `(id, score)` ranking.

    A convex mix, BM25 divided by `query_weight` (`SparseIndex.query_weight`: the score of a
    passage holding every question word once), chosen on the SQuAD tuning split and our BBC
    paraphrase set (docs/QUALITY.md): it matched the best SQuAD MRR of any setting tried
    (RRF at k 10-60, weighted RRF, max-scaled convex) within 0.004 while, unlike RRF and
    max-scaling, not losing paraphrased questions that dense retrieval gets right. A rare
    number or name in the question weighs its IDF, so the sentence holding it exactly rises.
    """
    return convex_fusion(dense, sparse, HYBRID_ALPHA, query_weight)


def retrieve(
    index: Index,
    encoder: QueryEncoder,
    question: str,
    k: int,
    *,
    offset: int = 0,
    mode: str = DEFAULT_MODE,
    context: int = 0,
    keep: Callable[[Passage], bool] | None = None,
) -> Retrieval:
    """Return hits `offset+1 … offset+k` for `question`, near-duplicates collapsed.

    `context` neighbouring sentences on each side are attached to every hit; `keep`, when
    given, admits only the passages it returns True for (e.g. published by a date).
    """
    query = encoder.encode_query(question)
    return retrieve_vector(index, query, question, k, offset=offset, mode=mode, context=context, keep=keep)


def retrieve_vector(
    index: Index,
    query: np.ndarray,
    question: str,
    k: int,
    *,
    offset: int = 0,
    mode: str = DEFAULT_MODE,
    context: int = 0,
    keep: Callable[[Passage], bool] | None = None,
) -> Retrieval:
    """`retrieve` for a question already embedded as a `(1, d)` unit vector (eval batches these)."""
    wanted = offset + k
    depth = max(CANDIDATES, wanted * 4)
    if keep is not None:  # a filter leaves fewer candidates: look deeper
        depth = min(max(depth * 8, 400), max(index.size, 1))
    covered: float | None = None
    if mode == "rerank":
        reranked = rerank(index, query, question)
        covered = reranked.covered
        order = list(zip(reranked.ids.tolist(), reranked.scores.tolist(), strict=True))
        if keep is not None:  # a date filter can leave the pool short: fill from a deeper hybrid ranking
            seen = {i for i, _ in order}
            floor = min((s for _, s in order), default=0.0)  # below every reranked one, in order
            order += [(i, floor) for i in rank(index, query, question, "hybrid", depth) if i not in seen]
    else:
        order = ranked(index, query, question, mode, depth)
    ids = [i for i, _ in order]
    found = dict(zip(ids, index.passages_of(ids), strict=True))  # one read of the passage store
    if keep is not None:
        order = [(i, s) for i, s in order if keep(found[i])]
        ids = [i for i, _ in order]
        if covered is not None and not ids:
            covered = 0.0  # nothing published by then: nothing covers it
    relevance = dict(order)
    cosines = index.embeddings[ids] @ query[0] if ids else np.empty(0, dtype=np.float32)
    kept: list[int] = []
    kept_scores: list[float] = []
    kept_words: list[frozenset[str]] = []
    for pid, score in zip(ids, cosines.tolist(), strict=True):
        text = found[pid].text
        words = _words(text)
        if kept:
            sims = (index.embeddings[kept] @ index.embeddings[pid]).tolist()
            # Close in meaning or in words, and saying the same thing (`same_statement`): a
            # changed number, a negation or another actor is never hidden as a duplicate.
            if any((sim >= NEAR_DUPLICATE or near_duplicate(words, w))
                   and same_statement(text, found[j].text)
                   for j, sim, w in zip(kept, sims, kept_words, strict=True)):
                continue
        kept.append(pid)
        kept_scores.append(float(score))
        kept_words.append(words)
        if len(kept) >= wanted:
            break
    hits = []
    for r, (pid, score) in enumerate(zip(kept, kept_scores, strict=True), start=1):
        if r <= offset:
            continue
        passage = found[pid]
        before, after = index.neighbours(passage, context, context) if context else ([], [])
        hits.append(Hit(pid, passage, score, r, tuple(before), tuple(after), relevance[pid]))
    best = float(np.max(cosines)) if len(cosines) else -1.0
    return Retrieval(hits, best, query, covered)
