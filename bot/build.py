"""Build pipeline: corpus → sentences → embeddings → FAISS + BM25 + stats, swapped in whole.

A rebuild reuses what has not changed: a document whose bytes hash the same keeps its
sentences, and a passage whose normalised text (and model) is the same keeps its embedding.
"""

from __future__ import annotations

import importlib.metadata
import logging
import platform
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from bot.corpus import SEGMENTER_VERSION, Document, Passage, SkippedFile, file_hash, load_corpus, segment
from bot.embed import Encoder
from bot.errors import (
    EmptyCorpusError,
    IndexCorruptError,
    IndexMissingError,
    ModelLoadError,
    ModelMismatchError,
    ReindexInProgressError,
)
from bot.index import (
    METRIC,
    SEGMENT_MIN_PASSAGES,
    DocumentRecord,
    EmptySparseIndex,
    Index,
    Reuse,
    build_lock,
    can_append,
    corpus_stamps,
    heal,
    load_index,
    new_build_folder,
    publish,
    remove_stale_temporaries,
    write_build,
)
from bot.reprints import merge_copies
from bot.shards import shard_bounds
from bot.sparse import SparseIndex
from bot.stats import Stat, extract_stats, stat_texts

log = logging.getLogger(__name__)

#: Called as `progress(done, total)` while passages are embedded.
Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class BuildReport:
    """What a build did. `seconds` is wall-clock time of the whole build."""

    documents: int
    passages: int
    skipped: list[SkippedFile]
    notes: list[str]
    seconds: float
    embedded: int
    reused: int
    duplicates: int
    path: Path
    stats: int = 0
    timings: dict[str, float] = field(default_factory=dict)

    def summary(self) -> str:
        """One line for people: documents, passages, skipped files, seconds."""
        return (
            f"{self.documents} documents, {self.passages} passages, {len(self.skipped)} skipped "
            f"files, {self.stats} stats, built in {self.seconds:.1f} s "
            f"({self.embedded} embedded, {self.reused} reused)"
        )


class BuildEngine(Protocol):
    """Where a build's costly steps run: each is a map over documents, texts or passages whose
    results come back in input order, so that any engine builds the same index."""

    name: str

    def segment(self, documents: Sequence[Document], notes: list[str]) -> list[list[Passage]]:
        """The passages of each document (`bot.corpus.segment`); notes are appended to `notes`."""
        ...

    def encode(self, texts: Sequence[str], progress: Callable[[int], None] | None) -> np.ndarray:
        """`(len(texts), d)` float32 unit vectors; `progress(n)` after each `n` texts encoded."""
        ...

    def extract_stats(self, passages: Sequence[Passage]) -> list[Stat]:
        """`bot.stats.extract_stats(passages)`."""
        ...


class LocalEngine:
    """The build's steps in this process, with the service's encoder."""

    name = "local"

    def __init__(self, encoder: Encoder) -> None:
        self.encoder = encoder

    def segment(self, documents: Sequence[Document], notes: list[str]) -> list[list[Passage]]:
        return [segment(doc, self.encoder.fit, notes) for doc in documents]

    def encode(self, texts: Sequence[str], progress: Callable[[int], None] | None) -> np.ndarray:
        return self.encoder.encode(texts, progress=progress)

    def extract_stats(self, passages: Sequence[Passage]) -> list[Stat]:
        return extract_stats(passages)


def corpus_missing(corpus_dir: Path) -> str:
    """The one-line error for a corpus folder that does not exist, naming the setting."""
    return (f"CORPUS_DIR {corpus_dir} does not exist: create it and add .txt, .md or .html articles, "
            "or set CORPUS_DIR to the folder that holds them")


def _versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for pkg in ("sentence-transformers", "torch", "faiss-cpu", "bm25s", "syntok", "transformers", "onnx",
                "onnxruntime", "tokenizers"):
        try:
            out[pkg] = importlib.metadata.version(pkg)
        except importlib.metadata.PackageNotFoundError:
            pass
    return out


def _previous(index_dir: Path, model: str, dimension: int, notes: list[str]) -> Index | None:
    """The current build, for reuse; an unusable one is set aside (named in `notes`) and the
    newest good earlier build is used instead."""
    try:
        return load_index(index_dir, model, dimension)
    except IndexCorruptError as exc:
        index, warning = heal(index_dir, model, dimension, exc)
        log.warning("%s", warning)
        notes.append(warning)
        return index
    except (IndexMissingError, ModelMismatchError) as exc:
        log.info("not reusing the previous index: %s", exc)
        return None


def dedupe(passages: list[Passage]) -> tuple[list[Passage], int]:
    """Keep the first passage of each distinct normalised text; returns (kept, dropped count).

    The evaluation harness indexes this way (exact copies only); a build goes further with
    `bot.reprints.merge_copies` (near-identical copies across outlets, cited "also reported by").
    """
    seen: set[str] = set()
    kept = []
    for p in passages:
        if p.text in seen:
            continue
        seen.add(p.text)
        kept.append(p)
    return kept, len(passages) - len(kept)


def _stat_phrase_vectors(stats: list[Stat], passage_texts: set[str], previous: Index | None,
                         encoder: Encoder) -> tuple[list[str], np.ndarray]:
    """Embed the stats' texts that are not passages (counted phrases, glosses), reusing the
    previous build's vectors by text. Returns the sorted texts and a `(m, d)` float32 array."""
    wanted = sorted({t for s in stats for t in stat_texts(s) if t not in passage_texts})
    old = previous.stat_phrases if previous is not None else {}
    vectors = np.empty((len(wanted), encoder.dimension), dtype=np.float32)
    todo = [i for i, t in enumerate(wanted) if t not in old]
    for i, t in enumerate(wanted):
        if t in old:
            vectors[i] = old[t]
    if todo:
        # Counted phrases are a few words long: big batches cost no padding and less overhead.
        vectors[todo] = encoder.encode([wanted[i] for i in todo], batch_size=128)
    return wanted, vectors


def _export(encoder: Encoder, folder: Path, previous: Index | None) -> dict[str, Any] | None:
    """Write the ONNX export the answering path encodes questions with into `folder`, reusing
    the previous build's when the model is the same; None (answers then use torch) if it fails."""
    from bot.onnx_encoder import EXPORT_DIR, write_export

    old = previous.manifest.get("encoder") if previous is not None else None
    try:
        return write_export(encoder, folder / EXPORT_DIR,
                            previous.path / EXPORT_DIR if previous is not None else None,
                            old if isinstance(old, dict) else None)
    except (ModelLoadError, OSError) as exc:
        log.warning("no ONNX export in this build, questions will be encoded with torch: %s", exc)
        return None


def _orders(documents: list[Document], previous: Index | None, kept: dict[str, list[Passage]],
            shards: int) -> list[list[Document]]:
    """The document orders to try: the previous build's order with new documents after it when
    the corpus only grew (every earlier document unchanged) and the index is large enough for
    segments (`bot.index.SEGMENT_MIN_PASSAGES`), then the corpus's own order (`documents`)."""
    if previous is None or shards > 1 or previous.size < SEGMENT_MIN_PASSAGES:
        return [documents]
    earlier = [summary[0] for summary in previous.document_summaries()]
    if not all(doc_id in kept for doc_id in earlier):
        return [documents]
    by_id = {doc.id: doc for doc in documents}
    grown = [by_id[doc_id] for doc_id in earlier] + [doc for doc in documents if doc.id not in set(earlier)]
    return [grown, documents]


def build(
    corpus_dir: Path,
    index_dir: Path,
    encoder: Encoder,
    model_name: str,
    progress: Progress | None = None,
    shards: int = 1,
    engine: BuildEngine | None = None,
) -> BuildReport:
    """Build the index for `corpus_dir` into `index_dir` and swap it in atomically.

    Args:
        model_name: the configured model name recorded in the manifest (not the resolved path,
            which differs between installs).
        shards: split the FAISS and BM25 indexes into this many shards of contiguous passage
            ids (INDEX_SHARDS; `bot.shards`), which answer exactly as one.
        engine: where segmentation, embedding and stats parsing run (default `LocalEngine`,
            this process; `bot.ray_engine.RayEngine` spreads them over a Ray cluster). Reuse,
            gathering, BM25, writing and the atomic swap are the same whatever the engine.

    Raises:
        ReindexInProgressError: another build holds the lock on `index_dir`.
        EmptyCorpusError: `corpus_dir` does not exist (an empty folder is a valid, empty index).
    """
    t0 = time.perf_counter()
    engine = engine if engine is not None else LocalEngine(encoder)
    with build_lock(index_dir) as locked:
        if not locked:
            raise ReindexInProgressError("a rebuild is already running; try again when it is done")
        remove_stale_temporaries(index_dir)
        stamps, stamped_ns = corpus_stamps(corpus_dir) if corpus_dir.is_dir() else ({}, 0)
        timings: dict[str, float] = {}
        healing: list[str] = []
        previous = _previous(index_dir, model_name, encoder.dimension, healing)

        # 1. Read and segment, reusing the sentences of unchanged documents.
        if not corpus_dir.is_dir():
            raise EmptyCorpusError(corpus_missing(corpus_dir))
        loaded = load_corpus(corpus_dir)
        loaded.notes[:0] = healing
        if not loaded.documents:  # a valid, empty index: answers say no articles are indexed
            found = f" ({len(loaded.skipped)} unreadable files skipped)" if loaded.skipped else ""
            loaded.notes.append(f"no articles in {corpus_dir}{found}: the index is empty")
        records: list[DocumentRecord] = []
        # Sentences are reused only when cut by the same rules (and the same model's length).
        same_segmenter = previous is not None and previous.manifest.get("segmenter") == SEGMENTER_VERSION
        all_passages: list[Passage] = []
        kept: dict[str, list[Passage]] = {}
        for doc in loaded.documents:
            old = previous.documents.get(doc.id) if previous else None
            if old is not None and old.content_hash == doc.content_hash and old.title == doc.title \
                    and same_segmenter:
                kept[doc.id] = old.passages()
        changed = [doc for doc in loaded.documents if doc.id not in kept]
        segmented = dict(zip((d.id for d in changed), engine.segment(changed, loaded.notes), strict=True))
        old_texts: list[str] = list(previous.passage_texts()) if previous is not None else []
        reuse: Reuse | None = None
        # Only documents added to a large index: the earlier ones first, in their order, so that
        # every earlier passage keeps its id and its vectors can be linked (`bot.index`, Segments).
        for documents in _orders(loaded.documents, previous, kept, shards):
            records, all_passages = [], []
            for doc in documents:
                passages = kept[doc.id] if doc.id in kept else segmented[doc.id]
                records.append(DocumentRecord.of(doc, passages))
                all_passages.extend(passages)
            passages, duplicates = merge_copies(all_passages)
            if previous is not None and documents is not loaded.documents:
                n_old = len(old_texts)
                if can_append(previous.manifest, n_old, len(passages), shards) \
                        and all(passages[i].text == old_texts[i] for i in range(n_old)):
                    reuse = Reuse(previous.path, previous.manifest, n_old)
                    break
        timings["segment"] = time.perf_counter() - t0

        # 2. Embed what is new; reuse embeddings by text hash (linked segments: not even copied).
        t1 = time.perf_counter()
        cache = {text: i for i, text in enumerate(old_texts)}
        first = reuse.rows if reuse is not None else 0
        embeddings = np.empty((len(passages) - first, encoder.dimension), dtype=np.float32)
        todo = [i for i in range(first, len(passages)) if passages[i].text not in cache]
        if previous is not None and len(todo) < len(passages) - first:
            rows = np.array([i for i in range(first, len(passages)) if passages[i].text in cache], dtype=np.int64)
            source = np.array([cache[passages[i].text] for i in rows], dtype=np.int64)
            order = np.argsort(source)  # read the memory-mapped rows in file order
            embeddings[rows[order] - first] = previous.embeddings[source[order]]
        if todo:
            done = 0

            def step(n: int) -> None:
                nonlocal done
                done += n
                if progress is not None:
                    progress(done, len(todo))

            embeddings[np.asarray(todo) - first] = engine.encode([passages[i].text for i in todo], step)
        timings["embed"] = time.perf_counter() - t1

        # 3. Sparse index and stats, then write and swap.
        t2 = time.perf_counter()
        bounds = shard_bounds(len(passages), shards)
        sparse = SparseIndex.build([p.text for p in passages], bounds) if passages else EmptySparseIndex()
        stats = engine.extract_stats(all_passages)  # duplicates too: every document stating a figure is cited
        stat_json = [s.to_json() for s in stats]
        phrases = _stat_phrase_vectors(stats, {p.text for p in passages}, previous, encoder)
        timings["sparse_stats"] = time.perf_counter() - t2
        t3 = time.perf_counter()
        file_hashes = {d.id: d.content_hash for d in loaded.documents}
        for skipped in loaded.skipped:
            try:
                file_hashes[skipped.path] = file_hash((corpus_dir / skipped.path).read_bytes())
            except OSError:
                pass
        manifest = {
            "model": model_name,
            "backend": encoder.backend,
            "engine": engine.name,
            "dimension": encoder.dimension,
            "metric": METRIC,
            "segmenter": SEGMENTER_VERSION,
            "passages": len(passages),
            "documents": len(loaded.documents),
            "files": file_hashes,
            # Sizes and times of those files before they were read: the staleness check hashes
            # only files whose stamp changed (`bot.index.corpus_hashes_since`).
            "file_stamps": stamps,
            "stamped_ns": stamped_ns,
            "stats": len(stats),
            "skipped": [{"path": s.path, "reason": s.reason} for s in loaded.skipped],
            "versions": _versions(),
            "built_at": datetime.now(UTC).isoformat(timespec="seconds"),
        }
        folder = new_build_folder(index_dir)
        manifest["encoder"] = _export(encoder, folder, previous)
        write_build(folder, manifest=manifest, records=records, passages=passages,
                    embeddings=embeddings, sparse=sparse, stats=stat_json,
                    stat_phrases=phrases, bounds=bounds, reuse=reuse)
        final = publish(folder, index_dir)
        timings["write"] = time.perf_counter() - t3
    return BuildReport(
        documents=len(loaded.documents),
        passages=len(passages),
        skipped=loaded.skipped,
        notes=loaded.notes,
        seconds=time.perf_counter() - t0,
        embedded=len(todo),
        reused=len(passages) - len(todo),
        duplicates=duplicates,
        path=final,
        stats=len(stats),
        timings=timings,
    )

