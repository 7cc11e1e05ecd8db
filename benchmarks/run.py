"""`make bench`: build speed, answer latency, cold start, memory, disk, txtai peer, index scale.

Every timing is printed with its ratio to a floor measured in the same run:
- build passages/s vs a bare `SentenceTransformer.encode` of the same sentences (best batch);
- answer latency (retrieve + compose, model loaded) vs one query encode + one FAISS search.
- the build on Ray (2 workers) vs the local build of the same articles (`--ray-articles`);
- sharded search (1, 4, 16 shards) vs one index: p50 and exact agreement (benchmarks/distributed.py).
- adding 100 articles to an `--incremental-n`-passage index vs its full build (`incremental`).
Run parts with `--parts build,latency,cold,backends,peer,scale,ray,shards,incremental,million`;
`--articles N` limits BBC; `million` is `benchmarks/million.py` (a 1M-passage index through the
product, long), `incremental` its build-and-add steps at a size that fits in minutes.
Everything is written under a temporary folder; the corpus is read from ../shared/data.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bot.build import build  # noqa: E402
from bot.config import Settings  # noqa: E402
from bot.embed import BACKENDS, Encoder  # noqa: E402
from bot.index import load_index  # noqa: E402
from bot.service import QAService  # noqa: E402
from evaluation import data as eval_data  # noqa: E402

PARTS = ("build", "latency", "cold", "backends", "peer", "scale", "ray", "shards", "incremental", "million")


def pct(times: list[float], q: float) -> float:
    return 1000 * float(np.percentile(times, q))


#: Every row `line` made, for `--markdown` (the README's table is this file).
ROWS: list[tuple[str, str, str, str, str]] = []


def line(name: str, value: str, floor: str = "", ratio: str = "", goal: str = "") -> str:
    ROWS.append((name, value, floor, ratio, goal))
    return f"{name:<38} {value:>16} {floor:>16} {ratio:>8}  {goal}"


def best_batch(encoder: Encoder, texts: list[str]) -> int:
    """The floor's batch: 32 (the issue's definition of a bare torch fp32 encode)."""
    return 32


def bench_build(corpus: Path, index_dir: Path, encoder: Encoder, model: str, out: list[str]) -> list[str]:
    report = build(corpus, index_dir, encoder, model)
    texts = [p.text for p in load_index(index_dir, model).passages]
    batch = best_batch(encoder, texts)
    t = time.perf_counter()
    encoder.model.encode(texts, batch_size=batch, normalize_embeddings=True)
    floor = len(texts) / (time.perf_counter() - t)
    ours = report.passages / report.seconds
    out.append(line(f"build passages/s ({report.passages:,} passages)", f"{ours:.0f}",
                    f"{floor:.0f} (b={batch})", f"{ours / floor:.2f}", "goal >= 1.5x bare torch encode"))
    again = build(corpus, index_dir, encoder, model)
    out.append(line("rebuild, nothing changed (s)", f"{again.seconds:.2f}", f"{report.seconds:.1f}",
                    f"{report.seconds / again.seconds:.0f}x", "goal >= 20x faster"))
    manifest = load_index(index_dir, model).manifest
    size = sum(manifest["sizes"].values())
    out.append(line("bytes per passage on disk", f"{size / report.passages:.0f}", "", "",
                    f"{size / 2**20:.0f} MiB in all"))
    return texts


def questions(n: int = 200) -> list[str]:
    """200 SQuAD dev questions (seeded) plus our BBC paraphrases: latency inputs."""
    own = [q.question for q in eval_data.paraphrase_set()]
    _, squad = eval_data.squad_dev()
    return (own + [q.question for q in random.Random(1).sample(squad, n)])[:n]


def bench_latency(settings: Settings, encoder: Encoder, qs: list[str], out: list[str]) -> np.ndarray:
    service = QAService(settings, encoder=encoder)
    service.warm()  # as the bot does at start (FAISS on one OpenMP thread: two fight torch's)
    index = service.index
    service.ask(qs[0])
    ours, floor, vecs = [], [], []
    for q in qs:
        t = time.perf_counter()
        service.ask(q)
        ours.append(time.perf_counter() - t)
        t = time.perf_counter()
        v = encoder.model.encode([q], normalize_embeddings=True)  # torch, as the floor is defined
        index.faiss_index.search(np.asarray(v, dtype=np.float32), settings.top_k)
        floor.append(time.perf_counter() - t)
        vecs.append(v[0])
    for name, q in (("p50", 50), ("p99", 99)):
        out.append(line(f"answer latency {name} (ms, {len(qs)} q)", f"{pct(ours, q):.1f}",
                        f"{pct(floor, q):.1f}", f"{pct(ours, q) / pct(floor, q):.2f}",
                        "goal p50 <= 1.0x" if name == "p50" else f"p99/p50 {pct(ours, 99) / pct(ours, 50):.2f}, "
                        "goal <= 2"))
    out.append(line("question encoder in the bot's path", type(service.query_encoder()).__name__))
    return np.asarray(vecs, dtype=np.float32)


def bench_cold(corpus: Path, index_dir: Path, out: list[str]) -> None:
    # VmHWM, not ru_maxrss: Linux carries ru_maxrss over exec from the forked parent (this
    # benchmark, torch loaded), which read ~1 GB whatever the child used.
    code = ("import sys; from bot.cli import main; rc = main(['ask', sys.argv[1], '--corpus', "
            "sys.argv[2], '--index', sys.argv[3]]); print('MAXRSS', [l.split()[1] for l in "
            "open('/proc/self/status') if l.startswith('VmHWM')][0], file=sys.stderr)")
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    # Floor: a process that only imports the libraries the answering path cannot do without
    # (NumPy, FAISS, ONNX Runtime, tokenizers, pydantic-settings), run between the real ones.
    floor_code = "import numpy, faiss, onnxruntime, tokenizers, pydantic_settings"
    runs, rsss, floors = [], [], []
    load = os.getloadavg()[0]
    for _ in range(5):
        t = time.perf_counter()
        subprocess.run([sys.executable, "-c", floor_code], env=env, check=True)
        floors.append(time.perf_counter() - t)
        t = time.perf_counter()
        proc = subprocess.run([sys.executable, "-c", code, "Who won the Australian Open?", str(corpus),
                               str(index_dir)], capture_output=True, text=True, env=env, check=True)
        runs.append(time.perf_counter() - t)
        rsss.append(int(proc.stderr.split("MAXRSS")[-1].split()[0]) / 1024)
        if "torch" in proc.stderr:  # the fallback warned: say so beside the figure
            print(proc.stderr.strip().splitlines()[0], file=sys.stderr)
    cold, floor = float(np.median(runs)), float(np.median(floors))
    load = (load + os.getloadavg()[0]) / 2
    out.append(line("cold start to first answer (s, median of 5)", f"{cold:.2f}", f"{floor:.2f} (imports)",
                    f"{cold / floor:.2f}", f"python -m bot ask; goal <= 1.5 s; load average {load:.1f} on "
                    f"{os.cpu_count()} cores"))
    out.append(line("peak memory serving the index (MiB)", f"{max(rsss):.0f}", "", "",
                    "max RSS of that process; goal <= 450"))


def bench_backends(settings: Settings, texts: list[str], qs: list[str], out: list[str]) -> None:
    """Encode speed and one-query latency of each encoder backend (quality: `python -m evaluation`)."""
    sample = random.Random(2).sample(texts, min(1000, len(texts)))
    ref = None
    for backend in BACKENDS:
        enc = Encoder(settings.model_name_or_path, backend, settings.embedding_batch_size)
        enc.encode(sample[:64])
        t = time.perf_counter()
        vecs = enc.encode(sample)
        rate = len(sample) / (time.perf_counter() - t)
        times = []
        for q in qs[:100]:
            t = time.perf_counter()
            enc.encode_query(q)
            times.append(time.perf_counter() - t)
        agree = ""
        if ref is None:
            ref = vecs
        else:
            agree = f"cos vs fp32 {float(np.mean(np.sum(vecs * ref, axis=1))):.4f}"
        out.append(line(f"encoder {backend}: sentences/s | query ms", f"{rate:.0f}",
                        f"{pct(times, 50):.1f} ms", "", agree))


def _show(out: list[str], shown: int) -> int:
    """Print the lines not printed yet (progress on a long run); returns how many are shown."""
    if len(out) > shown:
        print("\n".join(out[shown:]), flush=True)
    return len(out)


def peer_lines(peer: dict[str, Any]) -> list[str]:
    """Table lines for the txtai comparison (ratio: ours / txtai)."""
    if "skipped" in peer:
        return [line("txtai peer", "skipped", "", "", str(peer["skipped"]))]
    keys = ("ours_build_per_s", "txtai_build_per_s", "ours_p50_ms", "txtai_p50_ms")
    ob, tb, oq, tq = (peer[k] for k in keys)
    return [
        line(f"build sentences/s vs txtai ({peer['sentences']:,})", f"{ob:.0f}", f"{tb:.0f}",
             f"{ob / tb:.2f}", "higher is better"),
        line("answer p50 ms vs txtai search", f"{oq:.1f}", f"{tq:.1f}", f"{oq / tq:.2f}",
             f"recall@10 ours {peer['ours_recall@10']} txtai {peer['txtai_recall@10']:.3f} "
             f"({peer['txtai_backend']})"),
    ]


def ray_lines(row: dict[str, Any]) -> list[str]:
    """Table lines for the Ray build (ratio: Ray / local, same articles, same run)."""
    if "skipped" in row:
        return [line("build on Ray", "skipped", "", "", str(row["skipped"]))]
    w = row["workers"]
    return [
        line(f"build passages/s, Ray {w} workers ({row['passages']:,})", f"{row['ray_per_s']:.0f}",
             f"{row['local_per_s']:.0f} local", f"{row['ray_per_s'] / row['local_per_s']:.2f}",
             f"whole build; cluster start + model load {row['ray_startup_s']:.1f} s apart"),
        line("embedding passages/s, Ray vs local", f"{row['ray_embed_per_s']:.0f}",
             f"{row['local_embed_per_s']:.0f} local", f"{row['ray_embed_per_s'] / row['local_embed_per_s']:.2f}",
             "embedding step only"),
        line("embedding passages/s per Ray worker", f"{row['ray_per_worker_per_s']:.0f}", "", "",
             "1 CPU, 1 torch thread: size a cluster with this"),
    ]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--parts", default=",".join(PARTS), help=f"comma-separated subset of {','.join(PARTS)}")
    p.add_argument("--articles", type=int, default=0, help="use only the first N BBC articles (0: all)")
    p.add_argument("--peer-sentences", type=int, default=10_000, help="sentences for the txtai comparison")
    p.add_argument("--scale-n", type=int, default=1_000_000, help="synthetic index size")
    p.add_argument("--million-n", type=int, default=1_000_000, help="passages of the product-built index")
    p.add_argument("--incremental-n", type=int, default=50_000, help="passages of the index 100 articles are added to")
    p.add_argument("--hnsw-1m", action="store_true", help="also build HNSW at scale-n (slow: ~13 min)")
    p.add_argument("--threads", type=int, default=0, help="torch threads (0: library default)")
    p.add_argument("--ray-articles", type=int, default=150, help="BBC articles built locally and on Ray")
    p.add_argument("--ray-workers", type=int, default=2, help="Ray workers (one CPU and model copy each)")
    p.add_argument("--json", metavar="FILE", help="also write the rows as JSON")
    p.add_argument("--markdown", metavar="FILE", help="also write the table as Markdown (the README's)")
    p.add_argument("--index", metavar="DIR", help="reuse this built BBC index (skips the build part)")
    args = p.parse_args(argv)
    parts = set(args.parts.split(","))
    if args.threads:
        import torch

        torch.set_num_threads(args.threads)
    settings0 = Settings(_env_file=None)  # type: ignore[call-arg]
    work = Path(tempfile.mkdtemp(prefix="newsqa-bench-"))
    corpus = eval_data.BBC_NEWS
    if args.articles:
        corpus = work / "corpus"
        for f in sorted(eval_data.BBC_NEWS.rglob("*.txt"))[: args.articles]:
            (corpus / f.parent.name).mkdir(parents=True, exist_ok=True)
            shutil.copy(f, corpus / f.parent.name / f.name)
    index_dir = Path(args.index) if args.index else work / "index"
    settings = Settings(_env_file=None, corpus_dir=corpus, index_dir=index_dir)  # type: ignore[call-arg]
    out = [line("measure", "ours", "floor", "ratio", "note"), "-" * 100]
    extra: dict[str, object] = {}
    try:
        t0 = time.perf_counter()
        encoder = Encoder(settings.model_name_or_path, settings.embedding_backend,
                          settings.embedding_batch_size)
        encoder.encode(["warm up the model"] * 8)  # the floor below runs warm too
        out.append(line(f"encoder load ({settings.embedding_backend})", f"{time.perf_counter() - t0:.1f} s"))
        qs = questions()
        texts: list[str] = []
        if args.index:
            texts = [p.text for p in load_index(settings.index_dir, settings.embedding_model).passages]
        elif parts & {"build", "latency", "cold", "backends", "peer", "scale", "shards", "incremental", "million"}:
            texts = bench_build(corpus, settings.index_dir, encoder, settings.embedding_model, out)
        shown = _show(out, 0)
        qvecs = None
        if "latency" in parts or "scale" in parts:
            qvecs = bench_latency(settings, encoder, qs, out)
        shown = _show(out, shown)
        if "cold" in parts:
            bench_cold(corpus, settings.index_dir, out)
        shown = _show(out, shown)
        if "backends" in parts:
            bench_backends(settings0, texts, qs, out)
        shown = _show(out, shown)
        if "peer" in parts:
            from benchmarks.peer import run_peer

            sub = random.Random(3).sample(texts, min(args.peer_sentences, len(texts)))
            peer = run_peer(sub, qs, encoder, settings.model_name_or_path)
            extra["peer"] = peer
            out.extend(peer_lines(peer))
        shown = _show(out, shown)
        if "ray" in parts:
            from benchmarks.distributed import run_ray

            sample = work / "ray-corpus"
            for f in sorted(eval_data.BBC_NEWS.rglob("*.txt"))[: args.ray_articles]:
                (sample / f.parent.name).mkdir(parents=True, exist_ok=True)
                shutil.copy(f, sample / f.parent.name / f.name)
            ray_row = run_ray(sample, work, encoder, settings, args.ray_workers)
            extra["ray"] = ray_row
            out.extend(ray_lines(ray_row))
        shown = _show(out, shown)
        if "shards" in parts:
            from benchmarks.distributed import run_shards

            index = load_index(settings.index_dir, settings.embedding_model)
            shard_rows = run_shards(texts, np.asarray(index.embeddings), qs, encoder.encode(qs))
            extra["shards"] = shard_rows
            for r in shard_rows:
                out.append(line(f"{r['shards']} shard(s), {r['n']:,} passages: dense|bm25 p50 ms",
                                f"{r['dense_p50_ms']:.2f} | {r['bm25_p50_ms']:.2f}", "", "",
                                f"identical top-10 {r['identical']:.0%}, built in {r['build_s']:.1f} s"))
        shown = _show(out, shown)
        if "scale" in parts and qvecs is not None:
            from benchmarks.scale import run_scale

            real = np.load(load_index(settings.index_dir, settings.embedding_model).path / "embeddings.npy")
            rows = run_scale(real, qvecs, args.scale_n, args.hnsw_1m)
            extra["scale"] = rows
            out.append("")
            out.append(f"{'index set':<24} {'n':>9} {'index':<28} {'build s':>8} {'p50 ms':>7} "
                       f"{'recall@10':>9}")
            for r in rows:
                rec = "-" if r["recall@10"] is None else f"{r['recall@10']:.3f}"
                out.append(f"{r['set']:<24} {r['n']:>9,} {r['index']:<28} {r['build_s']:>8.1f} "
                           f"{r['p50_ms']:>7.2f} {rec:>9}")
        shown = _show(out, shown)
        if "incremental" in parts:
            from benchmarks.million import incremental_lines, run_incremental

            grown = run_incremental(settings.index_dir, args.incremental_n)
            extra["incremental"] = grown
            out.extend(line(*row) for row in incremental_lines(grown))
        shown = _show(out, shown)
        if "million" in parts:
            from benchmarks.million import lines as million_lines
            from benchmarks.million import run as run_million

            result = run_million(settings.index_dir, args.million_n, qs)
            extra["million"] = result
            out.extend(line(*row) for row in million_lines(result))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print("\n" + "\n".join(out))
    if args.json:
        Path(args.json).write_text(json.dumps({"table": out, **extra}, indent=1, default=str))
    if args.markdown:
        body = ["| measure | ours | floor or peer | ratio | goal, note |", "|---|---|---|---|---|"]
        body += ["| " + " | ".join(c.replace("|", "/") for c in row) + " |" for row in ROWS[1:]]
        Path(args.markdown).write_text("\n".join(body) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
