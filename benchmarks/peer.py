"""Peer benchmark: txtai `Embeddings` against our pipeline, same model, sentences and questions.

txtai is not a dependency of the product; when it is not installed this part is skipped with a
note (`pip install txtai` into the venv to run it). txtai's default ANN for more than 5,000
rows is IVF, so its recall@10 against exact search is reported beside its time.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from bot.embed import Encoder
from bot.index import make_faiss_index
from bot.retrieve import retrieve
from bot.sparse import SparseIndex


def _p50(times: list[float]) -> float:
    return 1000 * float(np.median(times))


def run_peer(texts: Sequence[str], questions: Sequence[str], encoder: Encoder, model_path: str,
             k: int = 10) -> dict[str, object]:
    """Build both over `texts`, query both with `questions`; returns times, rates and recall."""
    try:
        from txtai import Embeddings
    except ImportError:
        return {"skipped": "txtai not installed (pip install txtai into the venv to compare)"}
    from bot.corpus import Passage
    from bot.index import Index

    texts = list(texts)
    t0 = time.perf_counter()
    vectors = encoder.encode(texts)
    index = Index(Path("<memory>"), {}, make_faiss_index(vectors), [], {}, vectors,
                  SparseIndex.build(texts), [])
    ours_build = time.perf_counter() - t0
    index.passages = [Passage(t, "peer", "peer", i + 1, 0, len(t)) for i, t in enumerate(texts)]
    truth = []
    ours_times = []
    for q in questions:
        t = time.perf_counter()
        retrieve(index, encoder, q, 3, mode="hybrid")
        ours_times.append(time.perf_counter() - t)
        truth.append(set(index.search(encoder.encode_query(q), k)[i][0] for i in range(k)))

    emb = Embeddings(path=model_path, content=True)
    t0 = time.perf_counter()
    emb.index([(i, t, None) for i, t in enumerate(texts)])
    peer_build = time.perf_counter() - t0
    peer_times = []
    recalls = []
    for q, exact in zip(questions, truth, strict=True):
        t = time.perf_counter()
        res = emb.search(q, k)
        peer_times.append(time.perf_counter() - t)
        recalls.append(len({int(r["id"]) for r in res} & exact) / k)
    return {
        "sentences": len(texts),
        "ours_build_per_s": len(texts) / ours_build,
        "txtai_build_per_s": len(texts) / peer_build,
        "ours_p50_ms": _p50(ours_times),
        "txtai_p50_ms": _p50(peer_times),
        "ours_recall@10": 1.0 if type(index.faiss_index).__name__ == "IndexFlatIP" else None,
        "txtai_recall@10": float(np.mean(recalls)),
        "txtai_backend": type(emb.ann.backend).__name__ if getattr(emb, "ann", None) else "?",
    }
