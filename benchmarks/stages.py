"""What each stage of the whole answer costs, beside the speed floor measured in the same run
(one torch fp32 query encode + one FAISS search of the top-k: the answer-path goal is the whole
answer's p50 <= 1.0x that floor's p50, and its p99 <= 2x its own p50).

`python benchmarks/stages.py [--articles N] [--index DIR] [--cache DIR] [--questions N] [--markdown FILE]`
(`--index DIR`: reused when it holds a build of the same corpus, else built there and kept)

Each stage is timed alone, on the same questions (`benchmarks.run.questions`) and the same
inputs the answer gives it, in the default RETRIEVAL_MODE ("rerank"):

- query encode: the bot's question encoder (the build's ONNX export under ONNX Runtime);
- FAISS search: the dense top `bot.rerank.FUSED_DEPTH`;
- BM25: every passage scored for the question's words, the top `FUSED_DEPTH`;
- fusion: the convex fusion of the two lists, the best `POOL_FUSED` kept;
- rerank, pool and features: the best articles' sentences joined, features computed
  (`bot.rerank.expand`);
- rerank, scores and covered: the linear scores, order, shares and covered probability
  (`bot.rerank.rank_pool`);
- retrieval in all (`bot.retrieve.retrieve_vector`: the four stages above, then the passage
  store read, near-duplicate collapse and neighbouring sentences);
- key figure (`QAService._figures`) and compose (`bot.answer.compose`);
- the whole answer (`QAService.ask`, question to `Answer`, encode included), in "rerank" and,
  for comparison, "hybrid" mode.

The index is the product's own build of BBC News (all 2,225 articles unless `--articles`);
`--cache` reuses the evaluation's vector cache for that build. `--markdown FILE` writes the
README's table (the printed figures, as a Markdown table).
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from benchmarks.run import questions  # noqa: E402
from bot import rerank  # noqa: E402
from bot.answer import compose  # noqa: E402
from bot.config import Settings  # noqa: E402
from bot.embed import Encoder  # noqa: E402
from bot.fusion import convex_fusion  # noqa: E402
from bot.retrieve import retrieve_vector  # noqa: E402
from bot.service import QAService  # noqa: E402
from evaluation import data as eval_data  # noqa: E402

#: (key, label) of every timed row, in the order printed.
ROWS = (
    ("floor", "floor: torch encode + FAISS top-k"),
    ("encode", "query encode (ONNX Runtime)"),
    ("faiss", "FAISS search (top 50)"),
    ("bm25", "BM25 (all passages, top 50)"),
    ("fusion", "fusion (convex, top 30)"),
    ("expand", "rerank: pool and features"),
    ("score", "rerank: scores and covered"),
    ("retrieve", "retrieval in all (the 5 above + collapse)"),
    ("figures", "key figure"),
    ("compose", "compose"),
    ("ask rerank", "whole answer, rerank (default)"),
    ("ask hybrid", "whole answer, hybrid (old default)"),
)


def ms(times: list[float], q: float) -> float:
    """The `q`-th percentile of `times` (seconds) in milliseconds."""
    return float(np.percentile(times, q)) * 1000


def timed(into: list[float], fn: Callable[[], Any]) -> Any:
    """Run `fn`, append its wall time (s) to `into`, return its result."""
    t = time.perf_counter()
    out = fn()
    into.append(time.perf_counter() - t)
    return out


def measure(service: QAService, hybrid: QAService, encoder: Encoder, qs: list[str],
            top_k: int) -> dict[str, list[float]]:
    """Seconds per question for every `ROWS` key."""
    t: dict[str, list[float]] = {key: [] for key, _ in ROWS}
    for q in qs:
        one_question(service, hybrid, encoder, q, top_k, t)
    return t


def one_question(service: QAService, hybrid: QAService, encoder: Encoder, q: str, top_k: int,
                 t: dict[str, list[float]]) -> None:
    """Time every stage of question `q` into `t` (seconds, one entry per `ROWS` key)."""
    index = service.index
    qenc = service.query_encoder(index)
    timed(t["floor"], lambda: index.faiss_index.search(
        np.asarray(encoder.model.encode([q], normalize_embeddings=True), dtype=np.float32), top_k))
    vec = timed(t["encode"], lambda: qenc.encode_query(q))
    dense = timed(t["faiss"], lambda: index.search(vec, rerank.FUSED_DEPTH))
    terms, bm, top, _ = timed(t["bm25"], lambda: rerank.lexical_candidates(index, q, rerank.FUSED_DEPTH))
    qw = float(index.sparse.idf(terms).sum())
    lexical = [(i, float(bm[i])) for i in top] if qw > 0 else []
    timed(t["fusion"], lambda: convex_fusion(dense, lexical, rerank.FUSION_ALPHA, qw if qw > 0 else None))
    first = rerank.first_stage(index, vec, q)
    pool = timed(t["expand"], lambda: rerank.expand(index, vec, q, first))
    timed(t["score"], lambda: rerank.rank_pool(pool))
    found = timed(t["retrieve"], lambda: retrieve_vector(index, vec, q, top_k, mode="rerank",
                                                         context=service.settings.context_sentences))
    figures = timed(t["figures"], lambda: service._figures(q, found.hits, found.query, every=True))
    covered = found.covered is not None and found.covered >= rerank.default_model().threshold
    timed(t["compose"], lambda: compose(q, found.hits, found.best_score, service.settings.score_threshold,
                                        figures=figures, covered=covered))
    timed(t["ask rerank"], lambda: service.ask(q))
    timed(t["ask hybrid"], lambda: hybrid.ask(q))


def table(t: dict[str, list[float]], passages: int, n: int) -> tuple[str, str]:
    """The printed report and the README's Markdown table of timings `t`."""
    floor = ms(t["floor"], 50)
    load = os.getloadavg()[0]
    head = (f"{passages:,} passages, {n} questions, load average {load:.1f} on {os.cpu_count()} cores; "
            f"floor p50 {floor:.2f} ms")
    text = [head, f"  {'stage':<44} {'p50 ms':>8} {'p99 ms':>8} {'p50/floor':>10}"]
    md = ["| stage | p50 ms | p99 ms | p50 / floor p50 | goal |", "|---|---|---|---|---|"]
    for key, label in ROWS:
        p50, p99 = ms(t[key], 50), ms(t[key], 99)
        goal = ""
        if key == "ask rerank":
            goal = (f"p50 ≤ 1.0× floor: {'met' if p50 <= floor else 'missed'}; p99 ≤ 2× p50: "
                    f"{p99 / p50:.2f}× {'met' if p99 <= 2 * p50 else 'missed'}")
        text.append(f"  {label:<44} {p50:8.2f} {p99:8.2f} {p50 / floor:9.2f}x  {goal}")
        md.append(f"| {label} | {p50:.2f} | {p99:.2f} | {p50 / floor:.2f} | {goal} |")
    return "\n".join(text), head + "\n\n" + "\n".join(md) + "\n"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--articles", type=int, default=0, help="use only the first N BBC articles (0: all)")
    p.add_argument("--index", metavar="DIR", help="the index folder: reused when built, else built there and kept")
    p.add_argument("--cache", metavar="DIR", help="the evaluation's vector cache, for the build")
    p.add_argument("--questions", type=int, default=200)
    p.add_argument("--markdown", metavar="FILE", help="also write the table as Markdown (the README's)")
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
        if not (index_dir / "CURRENT").exists():  # build it (kept when --index names the folder)
            builder = encoder
            if args.cache:
                from evaluation.vector_cache import CachedEncoder

                builder = CachedEncoder(encoder, Path(args.cache))
            QAService(base, builder).rebuild()
            if builder is not encoder:
                builder.close()  # type: ignore[attr-defined]
        qs = questions(args.questions)
        service = QAService(base.model_copy(update={"retrieval_mode": "rerank"}), encoder)
        hybrid = QAService(base.model_copy(update={"retrieval_mode": "hybrid"}), encoder)
        service.warm()  # as the bot does at start: FAISS on one OpenMP thread, tables and stores loaded
        hybrid.warm()
        measure(service, hybrid, encoder, qs[:10], base.top_k)  # warm: tables, stores, first calls
        t = measure(service, hybrid, encoder, qs, base.top_k)
        text, md = table(t, service.index.size, len(qs))
        print(text)
        if args.markdown:
            Path(args.markdown).write_text(md, encoding="utf-8")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
