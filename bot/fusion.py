"""Rank fusion: small pure functions that merge ranked `(id, score)` lists into one ranking."""

from __future__ import annotations

from collections.abc import Sequence

Ranking = Sequence[tuple[int, float]]

#: RRF's constant, from Cormack, Clarke & Büttcher (SIGIR 2009), "Reciprocal Rank Fusion
#: outperforms Condorcet and individual Rank Learning Methods".
RRF_K = 60


def reciprocal_rank_fusion(
    rankings: Sequence[Ranking], k: int = RRF_K, weights: Sequence[float] | None = None
) -> list[tuple[int, float]]:
    """Fuse rankings by (weighted) RRF: score(d) = sum_i w_i / (k + rank_i(d)), ranks from 1.

    Each ranking is a best-first list of `(id, score)`; its scores are ignored. Returns
    `(id, fused score)` best first; ties keep the order in which ids were first seen.
    """
    if weights is None:
        weights = [1.0] * len(rankings)
    fused: dict[int, float] = {}
    for ranking, weight in zip(rankings, weights, strict=True):
        for rank, (doc, _) in enumerate(ranking, start=1):
            fused[doc] = fused.get(doc, 0.0) + weight / (k + rank)
    return sorted(fused.items(), key=lambda item: -item[1])


def convex_fusion(
    dense: Ranking, sparse: Ranking, alpha: float = 0.5, sparse_scale: float | None = None
) -> list[tuple[int, float]]:
    """Fuse by a convex mix: alpha * cosine + (1 - alpha) * BM25 / scale.

    Dense scores are cosines in [-1, 1] (used as they are). BM25 scores are divided by
    `sparse_scale` when given (e.g. `SparseIndex.query_weight`, the score of a passage that holds
    every question word once), else by the best BM25 score in `sparse` (max-scaling). An id
    missing from one list scores 0 there. This is the "convex combination" of Bruch, Gai &
    Ingber (ACM TOIS 2023), "An Analysis of Fusion Functions for Hybrid Retrieval".
    Returns `(id, fused score)` best first; ties keep first-seen order.
    """
    top = max((s for _, s in sparse), default=0.0) if sparse_scale is None else sparse_scale
    fused: dict[int, float] = {}
    for doc, score in dense:
        fused[doc] = alpha * score
    for doc, score in sparse:
        fused[doc] = fused.get(doc, 0.0) + (1 - alpha) * (score / top if top > 0 else 0.0)
    return sorted(fused.items(), key=lambda item: -item[1])
