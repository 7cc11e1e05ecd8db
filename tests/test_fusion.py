"""Fusion functions: pure arithmetic over `(id, score)` lists, checked on tables of cases."""

from __future__ import annotations

import pytest

from bot.fusion import convex_fusion, reciprocal_rank_fusion


def ids(fused: list[tuple[int, float]]) -> list[int]:
    return [i for i, _ in fused]


@pytest.mark.parametrize(
    ("rankings", "k", "weights", "expected"),
    [
        # An id ranked well by both lists beats one ranked first by only one.
        ([[(1, 0.9), (2, 0.8)], [(2, 9.0), (3, 8.0)]], 60, None, [2, 1, 3]),
        # Ties keep first-seen order.
        ([[(1, 0.9)], [(2, 9.0)]], 60, None, [1, 2]),
        # A heavier second list wins the tie.
        ([[(1, 0.9)], [(2, 9.0)]], 60, [1.0, 2.0], [2, 1]),
        # Scores are ignored: only ranks count.
        ([[(5, -3.0), (6, -4.0)]], 1, None, [5, 6]),
        ([], 60, None, []),
    ],
)
def test_rrf_orders_by_summed_reciprocal_ranks(rankings, k, weights, expected) -> None:  # type: ignore[no-untyped-def]
    assert ids(reciprocal_rank_fusion(rankings, k=k, weights=weights)) == expected


def test_rrf_score_is_weight_over_k_plus_rank() -> None:
    fused = dict(reciprocal_rank_fusion([[(1, 0.0), (2, 0.0)], [(2, 0.0)]], k=10))
    assert fused == pytest.approx({1: 1 / 11, 2: 1 / 12 + 1 / 11})


@pytest.mark.parametrize(
    ("dense", "sparse", "alpha", "scale", "expected"),
    [
        # Max-scaling: the best BM25 hit counts 1.0.
        ([(1, 0.5), (2, 0.4)], [(2, 10.0), (1, 5.0)], 0.5, None, {1: 0.5, 2: 0.7}),
        # A given scale: a weak lexical match stays weak.
        ([(1, 0.5), (2, 0.4)], [(2, 2.0)], 0.5, 10.0, {1: 0.25, 2: 0.3}),
        # alpha 1 is dense only; alpha 0 is BM25 only.
        ([(1, 0.5), (2, 0.4)], [(2, 10.0)], 1.0, None, {1: 0.5, 2: 0.4}),
        ([(1, 0.5)], [(2, 10.0)], 0.0, 20.0, {1: 0.0, 2: 0.5}),
        # No lexical match at all: the dense order is kept.
        ([(3, 0.2), (1, 0.1)], [], 0.5, None, {3: 0.1, 1: 0.05}),
        # A zero scale never divides by zero.
        ([(1, 0.2)], [(1, 0.0)], 0.5, 0.0, {1: 0.1}),
    ],
)
def test_convex_fusion_mixes_cosine_and_scaled_bm25(dense, sparse, alpha, scale, expected) -> None:  # type: ignore[no-untyped-def]
    fused = convex_fusion(dense, sparse, alpha, scale)
    assert dict(fused) == pytest.approx(expected)
    assert [s for _, s in fused] == sorted((s for _, s in fused), reverse=True)


def test_convex_fusion_lets_an_exact_number_match_overtake_a_close_paraphrase() -> None:
    # The sentence holding "11,000" is dense rank 2 by a hair but the only lexical match.
    dense = [(1, 0.62), (2, 0.60)]
    sparse = [(2, 7.5)]
    assert ids(convex_fusion(dense, sparse, 0.5, 10.0))[0] == 2
