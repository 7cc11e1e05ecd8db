"""Shards: an index split into contiguous ranges of passage ids, searched together and merged by score.

Shard `s` holds passages `bounds[s][0] ≤ id < bounds[s][1]`: its own FAISS index and its own
BM25 matrix (`bot.sparse`), so that each could live in another process or machine and only the
merge (top-k of every shard, best score first, ties by id) stays with the caller. The dense
shards share one trained coarse quantizer (IVF) or are exact (flat), and the BM25 shards share
the corpus-wide statistics (document frequencies, passage count, mean length): a sharded index
answers exactly as the unsharded one, ids and scores (tests/test_shards.py). The layout and when
to move shards out are in docs/SCALE.md.
"""

from __future__ import annotations

import os

import faiss
import numpy as np


def shard_bounds(n: int, shards: int) -> list[tuple[int, int]]:
    """Split `n` passage ids into `shards` contiguous ranges `(start, stop)` of near-equal size.

    Never more ranges than passages (at least one range, possibly empty when `n` is 0).
    """
    count = max(1, min(shards, n))
    edges = [round(i * n / count) for i in range(count + 1)]
    return [(edges[i], edges[i + 1]) for i in range(count)]


def make_faiss_shards(vectors: np.ndarray, bounds: list[tuple[int, int]]) -> list[faiss.Index]:
    """One FAISS index per range of `bounds` over `(n, d)` float32 unit vectors (inner product).

    The kind follows the whole index's size (`bot.index.make_faiss_index`): exact flat search up
    to `FLAT_MAX_PASSAGES`, else `IVF<nlist>,SQ8` trained once on a sample of all vectors and
    cloned untrained-but-trained into every shard, so that every shard assigns a vector to the
    same list and encodes it the same way as the unsharded index would.
    """
    from bot.index import FLAT_MAX_PASSAGES, ivf_lists, ivf_probes, training_sample

    n, dim = vectors.shape
    x = np.ascontiguousarray(vectors, dtype=np.float32)
    serving_threads = faiss.omp_get_max_threads()
    faiss.omp_set_num_threads(os.cpu_count() or 1)
    try:
        if n <= FLAT_MAX_PASSAGES:
            empty: faiss.Index = faiss.IndexFlatIP(dim)
        else:
            nlist = ivf_lists(n)
            empty = faiss.index_factory(dim, f"IVF{nlist},SQ8", faiss.METRIC_INNER_PRODUCT)
            empty.train(training_sample(x, nlist))
            faiss.extract_index_ivf(empty).nprobe = ivf_probes(nlist)
        parts = []
        for start, stop in bounds:
            part = faiss.clone_index(empty)
            if stop > start:
                part.add(x[start:stop])
            parts.append(part)
    finally:
        faiss.omp_set_num_threads(serving_threads)
    return parts


def join_faiss_shards(parts: list[faiss.Index]) -> faiss.Index:
    """One searchable index over `parts` (in id order): FAISS `IndexShards` with successive ids,
    which searches every shard for the top-k and merges the lists by score."""
    if len(parts) == 1:
        return parts[0]
    joined = faiss.IndexShards(parts[0].d, False, True)  # type: ignore[call-arg]  # not threaded, ids offset by shard
    for part in parts:
        joined.add_shard(part)  # faiss's wrapper keeps a reference to `part`
    return joined


def merge_top_k(lists: list[list[tuple[int, float]]], k: int) -> list[tuple[int, float]]:
    """Merge per-shard `(global id, score)` lists into one top-`k`: best score first, ties by id."""
    merged = [hit for hits in lists for hit in hits]
    merged.sort(key=lambda hit: (-hit[1], hit[0]))
    return merged[:k]
