"""A million passages through the product: build, load, answer, add 100 articles.

`python benchmarks/million.py --index DIR` (the BBC index `make bench` builds, or any built
BBC index) writes a corpus of real text into a temporary folder: every passage joins two BBC
sentences with a semicolon ("<a>; <b>"), pairs `(i, i + gap)` for growing gaps, so each passage
is distinct real text that the product's segmenter keeps as one sentence. It then runs the
product's own `bot.build.build` over it with the embeddings injected (the BBC index's vectors of
`a` and `b`, summed, jittered and normalised: encoding a million passages would take an hour on
2 cores), so the index is the product's format end to end (SQLite store, IVF-SQ8 FAISS, BM25,
stats, ONNX export). A second process loads it with `QAService` and answers real questions in
hybrid mode: load seconds, peak RSS, p50/p99, and the dense part's recall@10 against exact
search over the same vectors. Last, 100 new articles are added and the product rebuilds
incrementally; its time is set against a full build, whose embedding share is estimated from
the encode rate measured here (ONNX Runtime, the build default).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bot.build import build  # noqa: E402
from bot.config import Settings  # noqa: E402
from bot.embed import Encoder  # noqa: E402
from bot.index import load_index  # noqa: E402

#: Passages per corpus file (one article each).
PER_ARTICLE = 400
#: Passages per added article: about a BBC article's (40,162 passages / 2,225 articles = 18).
ADDED_PER_ARTICLE = 20
JITTER = 0.05


class InjectedEncoder:
    """The real encoder for everything (export, fitting, stat phrases) but passage texts it was
    told about, whose vectors it returns precomputed: `(n, d)` float32 unit vectors."""

    def __init__(self, real: Encoder, vectors: dict[str, np.ndarray]) -> None:
        self.real = real
        self.vectors = vectors
        self.encoded = 0  # texts the real encoder had to embed (stat phrases, split lines)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.real, name)

    def encode(self, texts: Sequence[str], progress: Callable[[int], None] | None = None,
               batch_size: int | None = None) -> np.ndarray:
        out = np.empty((len(texts), self.real.dimension), dtype=np.float32)
        missing = [i for i, t in enumerate(texts) if t not in self.vectors]
        for i, t in enumerate(texts):
            if t in self.vectors:
                out[i] = self.vectors[t]
        if missing:
            self.encoded += len(missing)
            out[missing] = self.real.encode([texts[i] for i in missing], batch_size=batch_size)
        if progress is not None:
            progress(len(texts))
        return out


def pair_corpus(texts: list[str], emb: np.ndarray, n: int, folder: Path, seed: int = 0,
                first_article: int = 0, per_article: int = PER_ARTICLE) -> dict[str, np.ndarray]:
    """Write `n` distinct two-sentence passages as articles under `folder`; returns their
    injected vectors by text."""
    rng = np.random.default_rng(seed)
    m = len(texts)
    clean = [t.rstrip(" .!?;:") for t in texts]
    joinable = [bool(c) and c[:1].isalpha() and c[-1:].isalnum() for c in clean]
    vectors: dict[str, np.ndarray] = {}
    lines: list[str] = []
    article = first_article
    gap = 1 + first_article * 7919 % 97
    i = 0
    if n > m * (m - 1):
        raise ValueError(f"{m} sentences make at most {m * (m - 1)} distinct pairs")
    while len(vectors) < n:
        a, b = i % m, (i + gap) % m
        text = f"{clean[a]}; {clean[b][:1].lower()}{clean[b][1:]}."
        # Only pairs the segmenter keeps whole: a quote or bracket around the join opens a sentence.
        if joinable[a] and joinable[b] and text not in vectors:
            v = emb[a] + emb[b] + rng.normal(0, JITTER, emb.shape[1]).astype(np.float32)
            vectors[text] = (v / np.linalg.norm(v)).astype(np.float32)
            lines.append(text)
        i += 1
        if i % m == 0:
            gap = gap % (m - 1) + 1
        if len(lines) == per_article or len(vectors) == n:
            sub = folder / f"part-{article // 1000:04d}"
            sub.mkdir(parents=True, exist_ok=True)
            title = f"Digest {article}"
            (sub / f"{article:06d}.txt").write_text(title + "\n\n" + "\n".join(lines) + "\n", encoding="utf-8")
            lines = []
            article += 1
    return vectors


SERVE = r"""
import json, sys, time
import numpy as np
t0 = time.perf_counter()
from bot.config import Settings
from bot.service import QAService
s = Settings(_env_file=None, corpus_dir=sys.argv[1], index_dir=sys.argv[2], retrieval_mode="hybrid")
service = QAService(s)
service.index
qe = service.query_encoder()
load = time.perf_counter() - t0
qs = json.loads(open(sys.argv[3]).read())
service.ask(qs[0])
times, vecs, dense = [], [], []
index = service.index
for q in qs:
    t = time.perf_counter()
    service.ask(q)
    times.append(time.perf_counter() - t)
    v = qe.encode_query(q)
    vecs.append(v[0])
    dense.append([i for i, _ in index.search(v, 10)])
print(json.dumps({"load_s": load, "p50_ms": 1000 * float(np.percentile(times, 50)),
                  "p99_ms": 1000 * float(np.percentile(times, 99)),
                  "maxrss_mib": int([l.split()[1] for l in open("/proc/self/status")
                                     if l.startswith("VmHWM")][0]) / 1024,
                  "dense": dense, "vecs": np.asarray(vecs).tolist(), "onnx": type(qe).__name__}))
"""


def exact_recall(emb_path: Path, vecs: np.ndarray, dense: list[list[int]], k: int = 10) -> float:
    """Recall@k of the served dense top-k against exact inner-product search over the stored vectors."""
    emb = np.load(emb_path, mmap_mode="r")
    best = np.full((len(vecs), k), -np.inf, dtype=np.float32)
    ids = np.zeros((len(vecs), k), dtype=np.int64)
    for start in range(0, emb.shape[0], 100_000):
        block = np.asarray(emb[start : start + 100_000]) @ vecs.T  # (b, q)
        top = np.argpartition(-block, k - 1, axis=0)[:k].T  # (q, k)
        scores = np.take_along_axis(block.T, top, axis=1)
        allv = np.concatenate([best, scores], axis=1)
        alli = np.concatenate([ids, top + start], axis=1)
        keep = np.argsort(-allv, axis=1)[:, :k]
        best = np.take_along_axis(allv, keep, axis=1)
        ids = np.take_along_axis(alli, keep, axis=1)
    return float(np.mean([len(set(ids[q]) & set(dense[q])) / k for q in range(len(vecs))]))


def run(bbc_index: Path, n: int, questions: list[str], added: int = 100, keep: Path | None = None) -> dict[str, Any]:
    """Build, serve and grow an `n`-passage index; returns the figures (see the module doc)."""
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    real = Encoder(settings.model_name_or_path, "onnx", settings.embedding_batch_size)
    bbc = load_index(bbc_index, settings.embedding_model)
    texts = list(bbc.passage_texts())
    emb = np.asarray(bbc.embeddings, dtype=np.float32)
    work = keep or Path(tempfile.mkdtemp(prefix="newsqa-million-"))
    corpus, index_dir = work / "corpus", work / "index"
    out: dict[str, Any] = {"passages_requested": n}
    try:
        t = time.perf_counter()
        vectors = pair_corpus(texts, emb, n, corpus)
        out["corpus_s"] = time.perf_counter() - t
        sample = random.Random(0).sample(sorted(vectors), 2000)
        real.encode(sample[:64])
        t = time.perf_counter()
        real.encode(sample)
        out["encode_per_s"] = len(sample) / (time.perf_counter() - t)
        injected = InjectedEncoder(real, vectors)
        report = build(corpus, index_dir, injected, settings.embedding_model)  # type: ignore[arg-type]
        out.update(passages=report.passages, full_injected_s=report.seconds, timings=report.timings,
                   really_encoded=injected.encoded)
        out["full_estimated_s"] = report.seconds + report.passages / out["encode_per_s"]
        folder = load_index(index_dir, settings.embedding_model).path
        out["disk_mib"] = sum(p.stat().st_size for p in folder.rglob("*") if p.is_file()) / 2**20
        qfile = work / "questions.json"
        qfile.write_text(json.dumps(questions))
        env = {**os.environ, "PYTHONPATH": str(REPO)}
        proc = subprocess.run([sys.executable, "-c", SERVE, str(corpus), str(index_dir), str(qfile)],
                              capture_output=True, text=True, env=env, check=True)
        served = json.loads(proc.stdout.strip().splitlines()[-1])
        out["recall@10_dense"] = exact_recall(folder / "embeddings.npy", np.asarray(served.pop("vecs"), np.float32),
                                             served.pop("dense"))
        out.update(served)
        out.update(add_articles(texts, emb, corpus, index_dir, injected, settings.embedding_model, added,
                                out["encode_per_s"], out["full_injected_s"], out["full_estimated_s"]))
    finally:
        if keep is None:
            shutil.rmtree(work, ignore_errors=True)
    out["bench_maxrss_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return out


def add_articles(texts: list[str], emb: np.ndarray, corpus: Path, index_dir: Path, injected: InjectedEncoder,
                 model: str, added: int, encode_per_s: float, full_injected_s: float,
                 full_estimated_s: float) -> dict[str, Any]:
    """Add `added` new articles of `ADDED_PER_ARTICLE` new passages each and rebuild with the
    product's incremental build; its time against the full build's, and what it wrote.

    `incremental_estimated_s` adds the new passages' encoding at `encode_per_s` (their vectors
    are injected, as the full build's are), so both sides of `incremental_ratio` count the
    same work; `incremental_ratio_injected` compares the injected times (no encoding at all).
    """
    before = load_index(index_dir, model).path
    new_vectors = pair_corpus(texts[::-1], emb[::-1], added * ADDED_PER_ARTICLE, corpus / "added", seed=1,
                              first_article=10**6, per_article=ADDED_PER_ARTICLE)
    injected.vectors.update(new_vectors)
    t = time.perf_counter()
    again = build(corpus, index_dir, injected, model)  # type: ignore[arg-type]
    seconds = time.perf_counter() - t
    after = again.path
    old_inodes = {p.stat().st_ino for p in before.rglob("*") if p.is_file()}
    files = [p for p in after.rglob("*") if p.is_file()]
    linked = sum(p.stat().st_size for p in files if p.stat().st_ino in old_inodes)
    written = sum(p.stat().st_size for p in files if p.stat().st_ino not in old_inodes)
    estimated = seconds + len(new_vectors) / encode_per_s
    return {"incremental_s": seconds, "incremental_estimated_s": estimated,
            "incremental_added_passages": len(new_vectors), "incremental_embedded": again.embedded,
            "incremental_timings": again.timings, "passages_after": again.passages,
            "incremental_segments": len(load_index(index_dir, model).manifest.get("segments") or [[]]),
            "incremental_linked_mib": linked / 2**20, "incremental_written_mib": written / 2**20,
            "incremental_ratio": estimated / full_estimated_s,
            "incremental_ratio_injected": seconds / full_injected_s}


def run_incremental(bbc_index: Path, n: int, added: int = 100) -> dict[str, Any]:
    """Full build of an `n`-passage pair corpus, then `added` articles added (`add_articles`):
    the `incremental` part of `make bench`, at a size that builds in minutes on 2 cores."""
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    real = Encoder(settings.model_name_or_path, "onnx", settings.embedding_batch_size)
    bbc = load_index(bbc_index, settings.embedding_model)
    texts = list(bbc.passage_texts())
    emb = np.asarray(bbc.embeddings, dtype=np.float32)
    work = Path(tempfile.mkdtemp(prefix="newsqa-incremental-"))
    corpus, index_dir = work / "corpus", work / "index"
    try:
        vectors = pair_corpus(texts, emb, n, corpus)
        sample = random.Random(0).sample(sorted(vectors), 1000)
        real.encode(sample[:64])
        t = time.perf_counter()
        real.encode(sample)
        rate = len(sample) / (time.perf_counter() - t)
        injected = InjectedEncoder(real, vectors)
        report = build(corpus, index_dir, injected, settings.embedding_model)  # type: ignore[arg-type]
        out: dict[str, Any] = {"passages": report.passages, "encode_per_s": rate, "full_injected_s": report.seconds,
                               "full_timings": report.timings,
                               "full_estimated_s": report.seconds + report.passages / rate}
        out.update(add_articles(texts, emb, corpus, index_dir, injected, settings.embedding_model, added, rate,
                                out["full_injected_s"], out["full_estimated_s"]))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return out


def incremental_lines(r: dict[str, Any], label: str = "") -> list[tuple[str, str, str, str, str]]:
    """Table rows for the incremental add (name, ours, floor, ratio, goal)."""
    n = label or f"{r['passages']:,} passages"
    added = r["incremental_added_passages"]
    return [
        (f"add 100 articles ({added:,} passages) to {n} (s)", f"{r['incremental_estimated_s']:.1f}",
         f"{r['full_estimated_s']:.0f} full build", f"{r['incremental_ratio']:.3f}",
         f"goal <= 0.10; encoding at {r['encode_per_s']:.0f}/s counted on both sides"),
        ("  same, embeddings injected on both sides (s)", f"{r['incremental_s']:.1f}",
         f"{r['full_injected_s']:.1f}", f"{r['incremental_ratio_injected']:.3f}",
         f"rest of the build: {', '.join(f'{k} {v:.1f}' for k, v in r['incremental_timings'].items())}"),
        ("  files linked / written (MiB)", f"{r['incremental_linked_mib']:.0f} / {r['incremental_written_mib']:.0f}",
         "", "", f"{r['incremental_segments']} vector segments"),
    ]


def size_label(n: int) -> str:
    """"1M", "200k": the index size a row is about (the goals are for 1M)."""
    return f"{n / 1e6:g}M" if n >= 1_000_000 else f"{round(n / 1000)}k"


def lines(r: dict[str, Any]) -> list[tuple[str, str, str, str, str]]:
    """Table rows for `benchmarks/run.py` (name, ours, floor/peer, ratio, goal); the goals are
    the issue's for 1M passages, whatever size was run."""
    n = r["passages"]
    at = size_label(r.get("passages_requested") or n)
    return [
        (f"{at}: index load (s, {n:,} passages)", f"{r['load_s']:.2f}", "", "", "goal at 1M <= 5 s"),
        (f"{at}: peak RSS serving (MiB)", f"{r['maxrss_mib']:.0f}", "", "", "goal at 1M <= 1,536"),
        (f"{at}: answer p50 / p99 (ms, hybrid)", f"{r['p50_ms']:.1f} / {r['p99_ms']:.1f}", "", "",
         "goal at 1M <= 25 / 60"),
        (f"{at}: dense recall@10 vs exact", f"{r['recall@10_dense']:.3f}", "", "", "goal >= 0.95"),
        (f"{at}: full build (s, embeddings injected)", f"{r['full_injected_s']:.0f}",
         f"{r['full_estimated_s']:.0f} (est. real)", "", f"encode {r['encode_per_s']:.0f}/s"),
        *incremental_lines(r, at),
    ]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--index", help="a built BBC index folder (its texts and vectors)")
    p.add_argument("--n", type=int, default=1_000_000, help="passages")
    p.add_argument("--keep", metavar="DIR", help="build in DIR and keep it (default: a temporary folder)")
    p.add_argument("--json", metavar="FILE", help="write the figures as JSON")
    p.add_argument("--incremental", action="store_true",
                   help="only the full build and the 100-article add (no serving), as `make bench` part incremental")
    p.add_argument("--markdown", metavar="FILE", help="also write the table as Markdown (the README's)")
    p.add_argument("--from-json", metavar="FILE", help="print the table of a run saved with --json (runs nothing)")
    args = p.parse_args(argv)
    if not args.from_json and not args.index:
        p.error("--index is required (or --from-json)")
    sys.path.insert(0, str(REPO / "benchmarks"))
    from benchmarks.run import questions

    if args.from_json:
        r = json.loads(Path(args.from_json).read_text())
    elif args.incremental:
        r = run_incremental(Path(args.index), args.n)
    else:
        r = run(Path(args.index), args.n, questions(), keep=Path(args.keep) if args.keep else None)
    rows = lines(r) if "load_s" in r else incremental_lines(r)
    for row in rows:
        print(f"{row[0]:<42} {row[1]:>16} {row[2]:>18} {row[3]:>8}  {row[4]}")
    if args.json and not args.from_json:
        Path(args.json).write_text(json.dumps(r, indent=1, default=str))
    if args.markdown:
        body = ["| measure | ours | floor | ratio | goal, note |", "|---|---|---|---|---|"]
        body += ["| " + " | ".join(c.replace("|", "/") for c in row) + " |" for row in rows]
        Path(args.markdown).write_text("\n".join(body) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
