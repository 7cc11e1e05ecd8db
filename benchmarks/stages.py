"""What each answering stage costs, per retrieval mode, beside the speed floor measured in the
same run (one torch fp32 query encode + one FAISS search: the answer-path goal is p50 <= 1.0x).

`python benchmarks/stages.py [--articles N] [--index DIR] [--cache DIR]`

Stages, each timed alone on the same questions (`benchmarks.run.questions`): the bot's query
encode (ONNX export), the first stage (`retrieve_vector` in "hybrid" mode: FAISS + BM25 +
fusion + near-duplicate collapse), the second stage (`bot.rerank.rerank`: candidate pool,
features, linear scores, covered probability), and the whole `QAService.ask` in each mode
(encode, retrieval, figures, compose). The index is the product's own build of BBC News (all
2,225 articles unless `--articles`); `--cache` reuses the evaluation's vector cache for it.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from benchmarks.run import questions  # noqa: E402
from bot import rerank  # noqa: E402
from bot.config import Settings  # noqa: E402
from bot.embed import Encoder  # noqa: E402
from bot.retrieve import retrieve_vector  # noqa: E402
from bot.service import QAService  # noqa: E402
from evaluation import data as eval_data  # noqa: E402


def p50(times: list[float]) -> float:
    """Median of `times` (seconds) in milliseconds."""
    return float(np.percentile(times, 50)) * 1000


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--articles", type=int, default=0, help="use only the first N BBC articles (0: all)")
    p.add_argument("--index", metavar="DIR", help="reuse this built index of the same corpus")
    p.add_argument("--cache", metavar="DIR", help="the evaluation's vector cache, for the build")
    p.add_argument("--questions", type=int, default=200)
    args = p.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="newsqa-stages-"))
    try:
        corpus = eval_data.BBC_NEWS
        if args.articles:
            corpus = work / "corpus"
            for f in sorted(eval_data.BBC_NEWS.rglob("*.txt"))[: args.articles]:
                (corpus / f.parent.name).mkdir(parents=True, exist_ok=True)
                shutil.copy(f, corpus / f.parent.name / f.name)
        index_dir = Path(args.index) if args.index else work / "index"
        base = Settings(_env_file=None, corpus_dir=corpus, index_dir=index_dir,  # type: ignore[call-arg]
                        data_dir=work / "data")
        encoder = Encoder(base.model_name_or_path, base.embedding_backend, base.embedding_batch_size)
        if not args.index:
            builder = encoder
            if args.cache:
                from evaluation.vector_cache import CachedEncoder

                builder = CachedEncoder(encoder, Path(args.cache))
            QAService(base, builder).rebuild()
            if builder is not encoder:
                builder.close()  # type: ignore[attr-defined]
        qs = questions(args.questions)
        services = {m: QAService(base.model_copy(update={"retrieval_mode": m}), encoder)
                    for m in ("hybrid", "rerank")}
        index = services["hybrid"].index
        qenc = services["hybrid"].query_encoder(index)
        for service in services.values():  # warm: tables, stores, first calls
            service.ask(qs[0])
        timed: dict[str, list[float]] = {k: [] for k in (
            "floor", "encode", "first", "second", "ask hybrid", "ask rerank")}
        for q in qs:
            t = time.perf_counter()
            v = encoder.model.encode([q], normalize_embeddings=True)
            index.faiss_index.search(np.asarray(v, dtype=np.float32), base.top_k)
            timed["floor"].append(time.perf_counter() - t)
            t = time.perf_counter()
            vec = qenc.encode_query(q)
            timed["encode"].append(time.perf_counter() - t)
            t = time.perf_counter()
            retrieve_vector(index, vec, q, base.top_k, mode="hybrid")
            timed["first"].append(time.perf_counter() - t)
            t = time.perf_counter()
            rerank.rerank(index, vec, q)
            timed["second"].append(time.perf_counter() - t)
            for mode, service in services.items():
                t = time.perf_counter()
                service.ask(q)
                timed[f"ask {mode}"].append(time.perf_counter() - t)
        floor = p50(timed["floor"])
        names = {
            "floor": "floor: torch encode + FAISS search",
            "encode": "query encode (the bot's ONNX export)",
            "first": "first stage: hybrid retrieve",
            "second": "second stage: rerank (pool, features)",
            "ask hybrid": "whole answer, RETRIEVAL_MODE=hybrid",
            "ask rerank": "whole answer, RETRIEVAL_MODE=rerank",
        }
        print(f"{index.size:,} passages, {len(qs)} questions; p50 ms and ratio to the floor")
        for key, name in names.items():
            ms = p50(timed[key])
            goal = "  goal <= 1.00x" if key.startswith("ask") else ""
            print(f"  {name:<40} {ms:7.2f} ms  {ms / floor:5.2f}x{goal}")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
