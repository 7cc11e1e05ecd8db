"""Past one process: the build on Ray against the local build, and sharded search against one index.

`run_ray`: the same corpus built twice from scratch, locally (torch on every core) and on a
local Ray cluster of `workers` CPUs (one actor, one model copy, one torch thread each):
passages/s of each whole build, their ratio, and the embedding passages/s per worker, the
figure that sizes a cluster (docs/SCALE.md). Cluster start and model loading are timed apart.

`run_shards`: the FAISS and BM25 indexes of the same passages split into 1, 4 and 16 shards
(`bot.shards`), answering the same questions: p50 per search and whether the top-10 ids and
scores are exactly those of one index.
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path
from typing import Any

import faiss
import numpy as np

from bot.build import build
from bot.config import Settings
from bot.embed import Encoder
from bot.index import make_faiss_index
from bot.shards import join_faiss_shards, make_faiss_shards, shard_bounds
from bot.sparse import SparseIndex


def run_ray(corpus: Path, work: Path, encoder: Encoder, settings: Settings, workers: int = 2) -> dict[str, Any]:
    """Local build vs Ray build of `corpus` (fresh index folders under `work`). Needs the ray extra."""
    try:
        import ray  # noqa: F401

        from bot.ray_engine import RayEngine
    except ImportError:
        return {"skipped": "ray not installed: pip install '.[ray]'"}
    model = settings.embedding_model
    local = build(corpus, work / "local-index", encoder, model)
    t = time.perf_counter()
    engine = RayEngine(settings.model_name_or_path, settings.embedding_backend, settings.embedding_batch_size,
                       workers=workers, num_cpus=workers)
    try:
        engine._ray.get([w.pid.remote() for w in engine.workers])  # every actor up, its model loaded
        startup = time.perf_counter() - t
        remote = build(corpus, work / "ray-index", encoder, model, engine=engine)
    finally:
        engine.close()
    shutil.rmtree(work / "local-index", ignore_errors=True)
    shutil.rmtree(work / "ray-index", ignore_errors=True)
    return {
        "passages": local.passages,
        "workers": workers,
        "local_per_s": local.passages / local.seconds,
        "ray_per_s": remote.passages / remote.seconds,
        "local_embed_per_s": local.embedded / local.timings["embed"],
        "ray_embed_per_s": remote.embedded / remote.timings["embed"],
        "ray_per_worker_per_s": remote.embedded / remote.timings["embed"] / workers,
        "ray_startup_s": startup,
        "local_s": local.seconds,
        "ray_s": remote.seconds,
    }


def run_shards(texts: list[str], vectors: np.ndarray, questions: list[str], queries: np.ndarray,
               counts: tuple[int, ...] = (1, 4, 16)) -> list[dict[str, Any]]:
    """Search p50 (ms, one thread) and exact agreement with one index, per shard count."""
    faiss.omp_set_num_threads(1)
    whole = make_faiss_index(vectors)
    whole_bm25 = SparseIndex.build(texts)
    truth_dense = [whole.search(q[None, :], 10) for q in queries]
    truth_bm25 = [whole_bm25.search(q, 10) for q in questions]
    rows = []
    for count in counts:
        bounds = shard_bounds(len(texts), count)
        t = time.perf_counter()
        dense = join_faiss_shards(make_faiss_shards(vectors, bounds))
        sparse = SparseIndex.build(texts, bounds)
        build_s = time.perf_counter() - t
        faiss.omp_set_num_threads(1)
        dense_ms, bm25_ms, same = [], [], 0
        for q, question, (ts, ti), tb in zip(queries, questions, truth_dense, truth_bm25, strict=False):
            t = time.perf_counter()
            scores, ids = dense.search(q[None, :], 10)
            dense_ms.append(1000 * (time.perf_counter() - t))
            t = time.perf_counter()
            hits = sparse.search(question, 10)
            bm25_ms.append(1000 * (time.perf_counter() - t))
            same += int(ids.tolist() == ti.tolist() and scores.tolist() == ts.tolist() and hits == tb)
        rows.append({"shards": len(bounds), "n": len(texts), "index": type(dense).__name__,
                     "build_s": build_s, "dense_p50_ms": float(np.median(dense_ms)),
                     "bm25_p50_ms": float(np.median(bm25_ms)), "identical": same / len(queries)})
    return rows
