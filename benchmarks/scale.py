"""Scale benchmark: FAISS index types at BBC size (real embeddings) and at 1M x 384 (synthetic).

Recall@10 is measured against exact flat search of the same vectors. On random vectors there
are no true neighbours, so the synthetic 1M set is timed twice: plain Gaussian vectors (timing
only), and "jittered real" vectors (each BBC embedding copied with small noise, so the set has
the cluster structure of real news embeddings), on which recall means something.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import faiss
import numpy as np

from bot.index import HNSW_EF_SEARCH, HNSW_M, ivf_lists, ivf_probes, make_faiss_index, training_sample


def unit(x: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(x / np.linalg.norm(x, axis=1, keepdims=True), dtype=np.float32)


def exact_top(vectors: np.ndarray, queries: np.ndarray, k: int = 10) -> np.ndarray:
    """Exact top-k ids by inner product (batched BLAS)."""
    index = faiss.IndexFlatIP(vectors.shape[1])
    index.add(vectors)
    return index.search(queries, k)[1]


def candidates(n: int, dim: int, hnsw: bool) -> dict[str, Callable[[np.ndarray], faiss.Index]]:
    """Index builders to compare, by name."""
    nlist = ivf_lists(n)

    def ivf(spec: str) -> Callable[[np.ndarray], faiss.Index]:
        def make(x: np.ndarray) -> faiss.Index:
            index = faiss.index_factory(dim, f"IVF{nlist},{spec}", faiss.METRIC_INNER_PRODUCT)
            index.train(training_sample(x, nlist))
            index.add(x)
            faiss.extract_index_ivf(index).nprobe = ivf_probes(nlist)
            return index
        return make

    def flat(x: np.ndarray) -> faiss.Index:
        index = faiss.IndexFlatIP(dim)
        index.add(x)
        return index

    def sq8(x: np.ndarray) -> faiss.Index:
        index = faiss.IndexScalarQuantizer(dim, faiss.ScalarQuantizer.QT_8bit, faiss.METRIC_INNER_PRODUCT)
        index.train(x)
        index.add(x)
        return index

    def hnsw_index(x: np.ndarray) -> faiss.Index:
        index = faiss.IndexHNSWFlat(dim, HNSW_M, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efSearch = HNSW_EF_SEARCH
        index.add(x)
        return index

    out = {"flat": flat, "sq8": sq8, f"ivf{nlist}-flat": ivf("Flat"), f"ivf{nlist}-sq8": ivf("SQ8"),
           "chosen": make_faiss_index}
    if hnsw:
        out[f"hnsw{HNSW_M}"] = hnsw_index
    return out


def measure(name: str, vectors: np.ndarray, queries: np.ndarray, truth: np.ndarray | None,
            hnsw: bool, timed: int = 100) -> list[dict[str, object]]:
    """Build each index type over `vectors`; time single-query search (p50) and recall@10."""
    rows = []
    for kind, make in candidates(len(vectors), vectors.shape[1], hnsw).items():
        faiss.omp_set_num_threads(2)  # build on both cores
        t0 = time.perf_counter()
        index = make(vectors)
        build_s = time.perf_counter() - t0
        faiss.omp_set_num_threads(1)  # one query at a time: one thread is faster (fewer syncs)
        times = []
        found = []
        for q in queries[:timed] if kind == "flat" and len(vectors) > 200_000 else queries:
            t = time.perf_counter()
            _, ids = index.search(q[None, :], 10)
            times.append(time.perf_counter() - t)
            found.append(ids[0])
        recall = None
        if truth is not None:
            recall = float(np.mean([len(set(f) & set(t)) / 10 for f, t in zip(found, truth, strict=False)]))
        label = f"{kind} ({type(index).__name__})" if kind == "chosen" else kind
        rows.append({"set": name, "n": len(vectors), "index": label, "build_s": build_s,
                     "p50_ms": 1000 * float(np.median(times)), "recall@10": recall})
        del index
    faiss.omp_set_num_threads(2)
    return rows


def run_scale(real: np.ndarray, queries: np.ndarray, n: int = 1_000_000, hnsw_1m: bool = False,
              seed: int = 0) -> list[dict[str, object]]:
    """Real BBC embeddings, then `n` jittered-real and `n` Gaussian synthetic vectors."""
    faiss.cvar.distance_compute_blas_threshold = 20  # batched ground truth uses BLAS
    rows = measure("bbc-real", real, queries, exact_top(real, queries), hnsw=True)
    rng = np.random.default_rng(seed)
    picks = rng.integers(0, len(real), n)
    jitter = unit(real[picks] + rng.normal(0, 0.03, (n, real.shape[1])).astype(np.float32))
    rows += measure(f"jittered-real {n:,}", jitter, queries, exact_top(jitter, queries), hnsw=hnsw_1m)
    del jitter
    gauss = unit(rng.normal(size=(n, real.shape[1])).astype(np.float32))
    rows += measure(f"gaussian {n:,}", gauss, queries, None, hnsw=hnsw_1m)
    return rows
