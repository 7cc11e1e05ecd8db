"""Index stage: the self-describing index folder (FAISS + passages + BM25 + manifest).

Layout of `index/`:
    CURRENT            name of the build folder in use, replaced atomically (`os.replace`)
    build-<stamp>/     one whole build: manifest.json, verified.json, passages.sqlite
                       (`bot.passage_store`), encoder/ (ONNX export, `bot.onnx_encoder`),
                       embeddings.npy, index.faiss, bm25/, stats.json, stat_phrases.json/.npy
                       (with INDEX_SHARDS > 1: faiss/shard-NNN.faiss and bm25/shard-NNN/ instead
                       of index.faiss and bm25's matrix; `bot.shards`, docs/SCALE.md)
                       segments/NNN/embeddings.npy + index.faiss: the vectors of passages added by
                       later incremental builds (see "Segments" below)

Segments: from `SEGMENT_MIN_PASSAGES` passages on, a build that only adds documents to the
previous one (every earlier passage keeps its id and text) hard-links the previous build's
vector files (embeddings.npy and index.faiss, which hold passage ids `[0, n0)`, and its
segments/NNN/) and writes only the new passages' vectors as one more segment; the manifest's
`segments` lists each segment's `[start, stop)` ids. The passage store, BM25 and stats are
rewritten (BM25's IDF and the reprint and stat merges span the whole corpus). Linked files
are never written to, so the previous build keeps serving unchanged until `CURRENT` moves, and
a killed build leaves only its temporary folder. After `MAX_SEGMENTS` segments, or when the
index would cross `FLAT_MAX_PASSAGES`, a build rewrites every vector (compaction).

A build is written into a hidden temporary folder, renamed to `build-<stamp>`, and only then
named in `CURRENT`; a reader resolves `CURRENT` once, so it always sees one whole build, and a
build that dies halfway leaves the previous one serving. No pickle anywhere.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import sqlite3
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar, overload

import faiss
import numpy as np

from bot.corpus import Document, Passage, corpus_entries, file_hash
from bot.errors import REBUILD_HINT, IndexCorruptError, IndexMissingError, ModelMismatchError
from bot.onnx_encoder import EXPORT_DIR
from bot.passage_store import FILE as STORE_FILE
from bot.passage_store import DocumentStore, PassageStore, open_store, write_store
from bot.shards import join_faiss_shards, make_faiss_shards
from bot.sparse import SparseIndex
from bot.stats import Stat

log = logging.getLogger(__name__)
T = TypeVar("T")

FORMAT_VERSION = 3
CURRENT = "CURRENT"
#: Stat record of the files whose hashes were checked (see `write_verified`); not in the manifest.
VERIFIED = "verified.json"
LOCK = ".build.lock"
METRIC = "inner_product"
#: Up to this many passages the FAISS index is exact flat search (~12 ms a query at 100k on
#: 2 cores); above it, an inverted file (IVF) with 8-bit scalar quantisation (benchmarks/scale.py).
FLAT_MAX_PASSAGES = 100_000
#: HNSW parameters, kept for the scale benchmark: HNSW searches fast but took ~13 min to build
#: over 1M vectors on 2 cores, against ~20 s for IVF, so the product does not use it.
HNSW_M = 32
HNSW_EF_SEARCH = 64
#: From this many passages an incremental build hard-links the previous build's vectors and
#: appends a segment; below it, rewriting every file takes well under a second and keeps every
#: build independent of the others (a damaged file then never breaks the previous build too).
SEGMENT_MIN_PASSAGES = 20_000
#: Segments an index may have before an incremental build rewrites the vectors whole.
MAX_SEGMENTS = 8
SEGMENTS_DIR = "segments"
#: Files of a segment (segment 0's sit in the build folder itself).
SEGMENT_FILES = ("embeddings.npy", "index.faiss")


@dataclass(frozen=True)
class DocumentRecord:
    """What the index keeps of a document: metadata and all its sentences, duplicates included.

    `sentences` holds `(start, end, text)` per sentence, numbered from 1 by position.
    """

    id: str
    title: str
    content_hash: str
    sentences: tuple[tuple[int, int, str], ...]
    source: str | None = None
    url: str | None = None
    published: str | None = None
    encoding: str = "utf-8"
    author: str | None = None
    #: `(sentence number, original characters)` for sentences whose quote differs from the text.
    quotes: tuple[tuple[int, str], ...] = ()

    @classmethod
    def of(cls, document: Document, passages: list[Passage]) -> DocumentRecord:
        return cls(
            id=document.id,
            title=document.title,
            content_hash=document.content_hash,
            sentences=tuple((p.start, p.end, p.text) for p in passages),
            source=document.source,
            url=document.url,
            published=document.published,
            encoding=document.encoding,
            author=document.author,
            quotes=tuple((p.sentence, p.original) for p in passages if p.original),
        )

    def passages(self) -> list[Passage]:
        """Rebuild this document's passages from the stored sentences."""
        quotes = dict(self.quotes)
        return [
            Passage(text=text, document=self.id, title=self.title, sentence=i, start=start,
                    end=end, source=self.source, url=self.url, published=self.published,
                    original=quotes.get(i))
            for i, (start, end, text) in enumerate(self.sentences, start=1)
        ]


def ivf_lists(n: int) -> int:
    """IVF list count for `n` vectors: the power of two nearest 4 * sqrt(n) (FAISS's guideline)."""
    return int(2 ** round(np.log2(max(4 * np.sqrt(max(n, 1)), 1))))


def ivf_probes(nlist: int) -> int:
    """Lists searched per query: 1/8 of them, at least 16. On 1M jittered BBC embeddings with
    4,096 lists, real questions as queries: nprobe 128 → recall@10 0.897 (2.7 ms), 256 → 0.943,
    512 → 0.963 (7.0 ms p50, one thread), 1024 → 0.973 (12 ms); see docs/QUALITY.md."""
    return min(nlist, max(16, nlist // 8))


#: IVF training points per list: FAISS warns below 39 and stops gaining well before its cap of 256.
IVF_TRAIN_PER_LIST = 64


def training_sample(vectors: np.ndarray, nlist: int, seed: int = 0) -> np.ndarray:
    """At most `IVF_TRAIN_PER_LIST * nlist` rows of `vectors`, drawn without replacement (k-means
    on all 1M rows costs minutes on 2 cores and buys no recall)."""
    cap = IVF_TRAIN_PER_LIST * nlist
    if len(vectors) <= cap:
        return vectors
    rows = np.sort(np.random.default_rng(seed).choice(len(vectors), cap, replace=False))
    return np.ascontiguousarray(vectors[rows])


def make_faiss_index(vectors: np.ndarray) -> faiss.Index:
    """Build the FAISS index for `(n, d)` float32 unit vectors, searched by inner product.

    Exact flat search up to `FLAT_MAX_PASSAGES`; above it `IVF<nlist>,SQ8` with `ivf_probes`
    lists searched: at 1M passages it answers in a few ms with recall@10 above 0.95 against
    flat, builds in under a minute (HNSW took ~13 min) and stores 384 bytes a vector instead
    of 1,536 (the float vectors are kept in embeddings.npy anyway).
    """
    n, dim = vectors.shape
    index: faiss.Index
    x = np.ascontiguousarray(vectors, dtype=np.float32)
    serving_threads = faiss.omp_get_max_threads()
    faiss.omp_set_num_threads(os.cpu_count() or 1)  # a build uses every core (serving may use one)
    if n <= FLAT_MAX_PASSAGES:
        index = faiss.IndexFlatIP(dim)
    else:
        nlist = ivf_lists(n)
        index = faiss.index_factory(dim, f"IVF{nlist},SQ8", faiss.METRIC_INNER_PRODUCT)
        index.train(training_sample(x, nlist))
        faiss.extract_index_ivf(index).nprobe = ivf_probes(nlist)
    if n:
        index.add(x)
    faiss.omp_set_num_threads(serving_threads)
    return index


class LazyList(Sequence[T]):
    """A list read by `load()` on first use (stats: most answers never need them)."""

    def __init__(self, load: Callable[[], list[T]], size: int | None = None) -> None:
        self._load: Callable[[], list[T]] | None = load
        self._items: list[T] = []
        self._lock = threading.Lock()
        #: Known without loading (the manifest's count): `len` and truth then read nothing.
        self._size = size

    def _get(self) -> list[T]:
        if self._load is not None:
            with self._lock:
                if self._load is not None:
                    self._items = self._load()
                    self._load = None
        return self._items

    def __len__(self) -> int:
        if self._size is not None and self._load is not None:
            return self._size
        return len(self._get())

    @overload
    def __getitem__(self, i: int) -> T: ...

    @overload
    def __getitem__(self, i: slice) -> list[T]: ...

    def __getitem__(self, i: int | slice) -> T | list[T]:
        return self._get()[i]

    def __iter__(self) -> Iterator[T]:
        return iter(self._get())

    def __eq__(self, other: object) -> bool:
        return list(self) == (list(other) if isinstance(other, (list, LazyList)) else other)

    __hash__ = None  # type: ignore[assignment]


class LazyMapping(Mapping[str, np.ndarray]):
    """A mapping read by `load()` on first use (the stats' phrase vectors)."""

    def __init__(self, load: Callable[[], dict[str, np.ndarray]]) -> None:
        self._list = LazyList(lambda: [load()])

    def _get(self) -> dict[str, np.ndarray]:
        return self._list[0]

    def __getitem__(self, key: str) -> np.ndarray:
        return self._get()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._get())

    def __len__(self) -> int:
        return len(self._get())


class SegmentedArray:
    """Row-wise concatenation of `(n_i, d)` arrays (memory-mapped segments) without a copy:
    indexing by an int, a slice, a list or an int array returns a NumPy array, as the one
    array would; `np.asarray` copies all rows."""

    def __init__(self, parts: Sequence[np.ndarray]) -> None:
        self.parts = list(parts)
        self.starts = np.cumsum([0] + [len(p) for p in self.parts])
        width = self.parts[0].shape[1] if self.parts else 0
        self.shape = (int(self.starts[-1]), width)
        self.dtype = self.parts[0].dtype if self.parts else np.dtype(np.float32)

    def __len__(self) -> int:
        return self.shape[0]

    def __getitem__(self, key: Any) -> np.ndarray:
        if isinstance(key, (int, np.integer)):
            i = int(key) + (self.shape[0] if key < 0 else 0)
            if not 0 <= i < self.shape[0]:
                raise IndexError(f"row {key} out of range (0..{self.shape[0] - 1})")
            s = int(np.searchsorted(self.starts, i, side="right")) - 1
            return np.asarray(self.parts[s][i - self.starts[s]])
        rows = np.arange(self.shape[0])[key] if isinstance(key, slice) else np.asarray(key, dtype=np.int64)
        rows = np.where(rows < 0, rows + self.shape[0], rows)
        if rows.size and (rows.min() < 0 or rows.max() >= self.shape[0]):
            raise IndexError(f"row out of range (0..{self.shape[0] - 1})")
        out = np.empty((*rows.shape, self.shape[1]), dtype=self.dtype)
        seg = np.searchsorted(self.starts, rows, side="right") - 1
        for s in np.unique(seg):
            mask = seg == s
            out[mask] = self.parts[s][rows[mask] - self.starts[s]]
        return out

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        whole = np.concatenate([np.asarray(p) for p in self.parts]) if self.parts else \
            np.empty(self.shape, dtype=self.dtype)
        return whole if dtype is None else whole.astype(dtype)


@dataclass
class Index:
    """A loaded build: search it, read its passages and documents.

    `embeddings` is `(n, d)` float32, memory-mapped (a `SegmentedArray` of them in a
    segmented build); `passages[i]` is row `i` of both the embeddings and the FAISS index.
    """

    path: Path
    manifest: dict[str, Any]
    faiss_index: faiss.Index
    #: A list in memory, or a `bot.passage_store.PassageStore` read on demand (a loaded build).
    passages: Sequence[Passage]
    documents: Mapping[str, DocumentRecord]
    embeddings: np.ndarray | SegmentedArray
    sparse: SparseIndex
    #: Read from stats.json on first use in a loaded build (`Lazy`).
    stats: Sequence[Stat]
    #: Unit vectors of the stats' counted phrases and kind glosses (texts that are not passages),
    #: computed at build time so a topic search never has to encode thousands of phrases.
    stat_phrases: Mapping[str, np.ndarray] = field(default_factory=dict)

    @property
    def size(self) -> int:
        return len(self.passages)

    def search(self, query: np.ndarray, k: int) -> list[tuple[int, float]]:
        """Dense top-`k` for one `(1, d)` float32 query: `(passage id, cosine)`, best first.

        FAISS pads with id -1 when `k` exceeds the passages; those never leave this function.
        """
        if self.size == 0 or k <= 0:
            return []
        scores, ids = self.faiss_index.search(np.ascontiguousarray(query, dtype=np.float32),
                                              min(k, self.size))
        return [(int(i), float(s)) for i, s in zip(ids[0], scores[0], strict=True) if i >= 0]

    def passages_of(self, ids: Sequence[int]) -> list[Passage]:
        """The passages of `ids`, in that order (one read of the store)."""
        if isinstance(self.passages, PassageStore):
            return self.passages.many(ids)
        return [self.passages[i] for i in ids]

    def passage_texts(self) -> Iterator[str]:
        """Every passage's text, in id order."""
        if isinstance(self.passages, PassageStore):
            yield from self.passages.texts()
        else:
            for p in self.passages:
                yield p.text

    def text_rows(self, texts: Iterable[str]) -> dict[str, int]:
        """The first passage id of each of `texts` that is a passage's exact text."""
        if isinstance(self.passages, PassageStore):
            return self.passages.ids_of_texts(texts)
        wanted = set(texts)
        rows: dict[str, int] = {}
        for i, p in enumerate(self.passages):
            if p.text in wanted:
                rows.setdefault(p.text, i)
        return rows

    def document_summaries(self) -> list[tuple[str, str, str | None, str | None, str | None]]:
        """`(id, title, url, source, published)` of every document, in build order."""
        if isinstance(self.documents, DocumentStore):
            return self.documents.summaries()
        return [(r.id, r.title, r.url, r.source, r.published) for r in self.documents.values()]

    def passage_counts(self) -> dict[str, int]:
        """Passages per document id, reprints (`also`) counted for their own document."""
        if isinstance(self.passages, PassageStore):
            return self.passages.counts_by_document()
        counts: dict[str, int] = {}
        for p in self.passages:
            counts[p.document] = counts.get(p.document, 0) + 1
            for r in p.also:
                counts[r.document] = counts.get(r.document, 0) + 1
        return counts

    def neighbours(self, passage: Passage, before: int, after: int) -> tuple[list[str], list[str]]:
        """The sentences just before and after `passage` in its document (for context)."""
        if isinstance(self.documents, DocumentStore):
            n = passage.sentence
            return (self.documents.sentences(passage.document, max(1, n - before), n - 1),
                    self.documents.sentences(passage.document, n + 1, n + after))
        record = self.documents.get(passage.document)
        if record is None:
            return [], []
        i = passage.sentence - 1
        prev = [s[2] for s in record.sentences[max(0, i - before) : i]]
        nxt = [s[2] for s in record.sentences[i + 1 : i + 1 + after]]
        return prev, nxt

    def stale_files(self, corpus_dir: Path) -> list[str]:
        """Describe how `corpus_dir` differs from what was indexed ("changed: a.txt", ...)."""
        then: dict[str, str] = self.manifest.get("files", {})
        try:
            now = corpus_hashes_since(corpus_dir, then, self.manifest.get("file_stamps") or {},
                                      int(self.manifest.get("stamped_ns") or 0))
        except OSError:
            return [f"corpus folder {corpus_dir} is unreadable"]
        out = [f"added: {p}" for p in sorted(now.keys() - then.keys())]
        out += [f"removed: {p}" for p in sorted(then.keys() - now.keys())]
        out += [f"changed: {p}" for p in sorted(now.keys() & then.keys()) if now[p] != then[p]]
        return out


#: A file stamped less than this before the stamps were taken may have changed unseen in the
#: same clock tick (coarse file-system times): it is hashed again.
RACY_NS = 2_000_000_000


def corpus_stamps(corpus_dir: Path) -> tuple[dict[str, list[int]], int]:
    """`(relative path -> [size, mtime_ns], when taken in ns)` of every corpus file; taken
    before a build reads the files, so that a later change shows as another stamp."""
    taken = time.time_ns()
    stamps = {}
    for rel, path in corpus_entries(corpus_dir):
        st = os.stat(path)
        stamps[rel] = [st.st_size, st.st_mtime_ns]
    return stamps, taken


def corpus_hashes_since(corpus_dir: Path, hashes: Mapping[str, str], stamps: Mapping[str, list[int]],
                        taken_ns: int) -> dict[str, str]:
    """`bot.corpus.corpus_hashes`, reading only the files whose size or modification time
    differ from the build's `stamps` (or that changed within `RACY_NS` of them, git's "racily
    clean" rule): a one-shot `ask` on the BBC index hashed 2,225 files (~0.1 s) to say nothing."""
    out = {}
    for rel, path in corpus_entries(corpus_dir):
        st = os.stat(path)
        if rel in hashes and stamps.get(rel) == [st.st_size, st.st_mtime_ns] and st.st_mtime_ns < taken_ns - RACY_NS:
            out[rel] = hashes[rel]
        else:
            with open(path, "rb") as f:
                out[rel] = file_hash(f.read())
    return out


class EmptySparseIndex(SparseIndex):
    """The BM25 side of an index with no passages (an empty corpus): finds nothing.

    bm25s cannot index zero documents, so an empty build writes only a marker file.
    """

    MARKER = "EMPTY"

    def __init__(self) -> None:
        self.retrievers = []
        self.offsets = [0]

    def search(self, question: str, k: int) -> list[tuple[int, float]]:
        return []

    def query_weight(self, question: str) -> float:
        return 1.0

    def save(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        (folder / self.MARKER).write_text("no passages\n", encoding="utf-8")


# ---------------------------------------------------------------------------------- writing


def _write_json(path: Path, data: object) -> None:
    path.write_text(json.dumps(data, ensure_ascii=False, indent=1), encoding="utf-8")


def new_build_folder(index_dir: Path) -> Path:
    """Make a hidden temporary folder for a build inside `index_dir`."""
    index_dir.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")
    path = index_dir / f".tmp-build-{stamp}-{os.getpid()}-{uuid.uuid4().hex[:6]}"
    path.mkdir()
    return path


@dataclass(frozen=True)
class Reuse:
    """The previous build whose vector segments an incremental build links: its folder, its
    manifest, and `rows`, its passage count (ids `[0, rows)` keep their texts and vectors)."""

    folder: Path
    manifest: dict[str, Any]
    rows: int


def segment_ranges(manifest: Mapping[str, Any]) -> list[tuple[int, int]]:
    """The `[start, stop)` passage ids of each vector segment of a build (one for an
    unsegmented build)."""
    found = manifest.get("segments")
    if found:
        return [(int(a), int(b)) for a, b in found]
    return [(0, int(manifest.get("passages") or 0))]


def segment_folder(folder: Path, s: int) -> Path:
    """Where segment `s`'s files are: the build folder itself for segment 0."""
    return folder if s == 0 else folder / SEGMENTS_DIR / f"{s:03d}"


def can_append(previous: Mapping[str, Any], old_rows: int, new_rows: int, shards: int) -> bool:
    """Whether a build of `new_rows` passages whose first `old_rows` are the previous build's
    (same ids, texts, vectors) may link that build's vector segments (see "Segments")."""
    return (shards <= 1 and not previous.get("shards") and old_rows >= SEGMENT_MIN_PASSAGES
            and new_rows >= old_rows
            and (old_rows <= FLAT_MAX_PASSAGES) == (new_rows <= FLAT_MAX_PASSAGES)
            and len(segment_ranges(previous)) + (new_rows > old_rows) <= MAX_SEGMENTS)


def _empty_like(reuse: Reuse, dim: int) -> faiss.Index:
    """An empty FAISS index of the previous build's kind: flat, or its trained IVF (same
    coarse quantizer, so a new segment lists and encodes vectors as the first one does)."""
    if reuse.rows <= FLAT_MAX_PASSAGES:
        return faiss.IndexFlatIP(dim)
    trained = faiss.read_index(str(reuse.folder / "index.faiss"))
    trained.reset()
    return trained


def _link_segments(reuse: Reuse, folder: Path) -> tuple[list[list[int]], list[str]]:
    """Hard-link every vector segment of the previous build into `folder` (a copy across
    file systems); returns the ranges and the linked file names."""
    names = []
    ranges = segment_ranges(reuse.manifest)
    for s in range(len(ranges)):
        src, dst = segment_folder(reuse.folder, s), segment_folder(folder, s)
        dst.mkdir(parents=True, exist_ok=True)
        for name in SEGMENT_FILES:
            try:
                os.link(src / name, dst / name)
            except OSError:
                shutil.copy2(src / name, dst / name)
            names.append((dst / name).relative_to(folder).as_posix())
    return [list(r) for r in ranges], names


def write_build(
    folder: Path,
    *,
    manifest: dict[str, Any],
    records: list[DocumentRecord],
    passages: list[Passage],
    embeddings: np.ndarray,
    sparse: SparseIndex,
    stats: list[dict[str, Any]],
    stat_phrases: tuple[list[str], np.ndarray] | None = None,
    bounds: list[tuple[int, int]] | None = None,
    reuse: Reuse | None = None,
) -> None:
    """Write every file of a build into `folder` (a temporary folder from `new_build_folder`).

    With more than one range in `bounds` (`bot.shards.shard_bounds`, the same ranges `sparse`
    was built with), the FAISS index is written as one file per shard, `faiss/shard-000.faiss`
    ..., and the ranges go into the manifest as `shards`.

    With `reuse` (see `can_append`), `embeddings` holds only rows `reuse.rows..n`: the previous
    build's vector segments are linked, not rewritten, and the new rows become one more segment.
    """
    write_store(folder / STORE_FILE, records, passages)
    linked: list[str] = []
    if reuse is not None:
        ranges, linked = _link_segments(reuse, folder)
        if len(passages) > reuse.rows:
            seg = segment_folder(folder, len(ranges))
            seg.mkdir(parents=True)
            new = np.ascontiguousarray(embeddings, dtype=np.float32)
            np.save(seg / "embeddings.npy", new)
            part = _empty_like(reuse, new.shape[1])
            serving_threads = faiss.omp_get_max_threads()
            faiss.omp_set_num_threads(os.cpu_count() or 1)
            part.add(new)
            faiss.omp_set_num_threads(serving_threads)
            faiss.write_index(part, str(seg / "index.faiss"))
            ranges.append([reuse.rows, len(passages)])
        manifest = {**manifest, "segments": ranges}
    elif bounds is not None and len(bounds) > 1:
        np.save(folder / "embeddings.npy", np.ascontiguousarray(embeddings, dtype=np.float32))
        (folder / "faiss").mkdir()
        for s, part in enumerate(make_faiss_shards(embeddings, bounds)):
            faiss.write_index(part, str(folder / "faiss" / f"shard-{s:03d}.faiss"))
        manifest = {**manifest, "shards": [list(b) for b in bounds]}
    else:
        np.save(folder / "embeddings.npy", np.ascontiguousarray(embeddings, dtype=np.float32))
        faiss.write_index(make_faiss_index(embeddings), str(folder / "index.faiss"))
    sparse.save(folder / "bm25")
    _write_json(folder / "stats.json", stats)
    phrases, vectors = stat_phrases if stat_phrases is not None else ([], np.empty((0, embeddings.shape[1])))
    _write_json(folder / "stat_phrases.json", phrases)
    np.save(folder / "stat_phrases.npy", np.ascontiguousarray(vectors, dtype=np.float32))
    # The ONNX export (`bot.onnx_encoder`) is optional: its files are checked on their own, and
    # a build without one answers with torch.
    files = sorted(p for p in folder.rglob("*") if p.is_file()
                   and p.relative_to(folder).parts[0] != EXPORT_DIR)
    sizes = {p.relative_to(folder).as_posix(): p.stat().st_size for p in files}
    # Linked files are the previous build's bytes: their recorded hashes hold.
    known = reuse.manifest.get("sha256", {}) if reuse is not None else {}
    digests = {name: known[name] if name in linked and name in known else _sha256(folder / name)
               for name in sizes}
    _write_json(folder / "manifest.json",
                {**manifest, "format": FORMAT_VERSION, "sizes": sizes, "sha256": digests})
    write_verified(folder, [*sizes, *(manifest.get("encoder") or {}).get("files", {})])


def _sha256(path: Path) -> str:
    with path.open("rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def _stat_key(path: Path) -> list[int]:
    st = path.stat()
    return [st.st_size, st.st_mtime_ns, st.st_ino]


def write_verified(folder: Path, names: list[str]) -> None:
    """Record the size, modification time and inode of each of `names` (files whose SHA-256
    the manifest holds, just computed from them) in `VERIFIED`, written last.

    A later load re-hashes a file only when that record no longer matches, or when the file
    was modified in the same clock tick as the record (git's "racily clean" rule): hashing
    every file at every start cost 0.7 s on the BBC index and 7 s at 1M passages.
    """
    stamp = {name: _stat_key(folder / name) for name in names}
    path = folder / VERIFIED
    path.write_text(json.dumps(stamp), encoding="utf-8")


class Verifier:
    """Says whether a file of a build matches its SHA-256, hashing only what may have changed
    since `write_verified` recorded it (see there)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        try:
            path = folder / VERIFIED
            self.stamp_ns = path.stat().st_mtime_ns
            self.stamp: dict[str, list[int]] = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            self.stamp_ns, self.stamp = 0, {}

    def __call__(self, path: Path, digest: str) -> bool:
        name = path.relative_to(self.folder).as_posix()
        try:
            key = _stat_key(path)
        except OSError:
            return False
        if self.stamp.get(name) == key and key[1] < self.stamp_ns:
            return True
        return _sha256(path) == digest


def publish(folder: Path, index_dir: Path) -> Path:
    """Swap a finished build in: rename it, then point `CURRENT` at it atomically.

    Older builds are removed, except the one just replaced (a reader may still hold it open).
    Returns the published folder.
    """
    final = index_dir / folder.name.replace(".tmp-", "", 1)
    os.replace(folder, final)
    previous = current_build(index_dir)
    pointer = index_dir / f".{CURRENT}.tmp"
    pointer.write_text(final.name + "\n", encoding="utf-8")
    os.replace(pointer, index_dir / CURRENT)
    keep = {final.name, previous.name if previous else ""}
    for old in index_dir.glob("build-*"):
        if old.name not in keep:
            shutil.rmtree(old, ignore_errors=True)
    return final


def remove_stale_temporaries(index_dir: Path) -> None:
    """Delete temporary folders left by builds that died (call only while holding the lock)."""
    for tmp in index_dir.glob(".tmp-build-*"):
        shutil.rmtree(tmp, ignore_errors=True)


@contextmanager
def build_lock(index_dir: Path) -> Iterator[bool]:
    """Hold an exclusive, non-blocking lock on `index_dir`; yields False if another holds it."""
    import fcntl

    index_dir.mkdir(parents=True, exist_ok=True)
    with (index_dir / LOCK).open("a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


# ---------------------------------------------------------------------------------- reading


def current_build(index_dir: Path) -> Path | None:
    """The build folder `CURRENT` names, or None when there is no index yet."""
    try:
        name = (index_dir / CURRENT).read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return None
    return index_dir / name if name else None


#: Prefix of a build folder set aside as unusable (kept for inspection, never served or removed).
BROKEN = "broken-"


def point_current(index_dir: Path, folder: Path | None) -> None:
    """Name `folder` in `CURRENT` atomically (or remove `CURRENT` when None)."""
    if folder is None:
        (index_dir / CURRENT).unlink(missing_ok=True)
        return
    pointer = index_dir / f".{CURRENT}.tmp"
    pointer.write_text(folder.name + "\n", encoding="utf-8")
    os.replace(pointer, index_dir / CURRENT)


def set_aside(folder: Path) -> Path:
    """Rename an unusable build folder to `broken-<name>` (kept for inspection); returns the new path."""
    target = folder.with_name(BROKEN + folder.name)
    if target.exists():
        shutil.rmtree(target, ignore_errors=True)
    os.replace(folder, target)
    return target


def heal(index_dir: Path, model: str, dimension: int | None, error: IndexCorruptError) -> tuple[Index | None, str]:
    """Set the unusable current build aside and serve the newest earlier build that loads.

    Returns `(index or None, one-line warning)`: the index now named in `CURRENT`, or None when
    no good build is left (then `CURRENT` is removed and a rebuild must run first).
    """
    broken = current_build(index_dir)
    aside = set_aside(broken) if broken is not None and broken.is_dir() else None
    what = f"the index was unusable ({error})" + (f"; set it aside as {aside}" if aside else "")
    candidates = sorted((p for p in index_dir.glob("build-*") if p.is_dir()), key=lambda p: p.name, reverse=True)
    for folder in candidates:
        try:
            point_current(index_dir, folder)
            index = load_index(index_dir, model, dimension)
        except (IndexCorruptError, ModelMismatchError, IndexMissingError) as exc:
            log.warning("earlier build %s is not usable either: %s", folder, exc)
            set_aside(folder)
            continue
        return index, f"{what}; answering from the previous build {folder.name} while the index is rebuilt"
    point_current(index_dir, None)
    return None, f"{what}; no earlier build is usable, so the index is rebuilt first"


def _corrupt(path: Path, what: str) -> IndexCorruptError:
    return IndexCorruptError(f"index file {path} is {what}: {REBUILD_HINT} to rebuild it")


def read_manifest(folder: Path) -> dict[str, Any]:
    """Read and sanity-check `manifest.json`. Raises IndexCorruptError."""
    path = folder / "manifest.json"
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise _corrupt(path, "missing") from exc
    except (OSError, ValueError) as exc:
        raise _corrupt(path, "not valid JSON") from exc
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT_VERSION:
        raise _corrupt(path, "from an unknown index format")
    for name, size in manifest.get("sizes", {}).items():
        file = folder / name
        if not file.is_file():
            raise _corrupt(file, "missing")
        if file.stat().st_size != size:
            raise _corrupt(file, f"truncated or altered ({file.stat().st_size} bytes, expected {size})")
    # Same-size damage (a zeroed block, a bad sector) shows only in the content hash.
    verify = Verifier(folder)
    for name, digest in manifest.get("sha256", {}).items():
        if not verify(folder / name, digest):
            raise _corrupt(folder / name, "altered (its SHA-256 does not match the manifest)")
    return manifest


def check_model(manifest: dict[str, Any], model: str, dimension: int | None) -> None:
    """Raise ModelMismatchError unless the index was built with `model` (and `dimension`)."""
    if manifest.get("model") != model:
        raise ModelMismatchError(
            f"the index was built with model {manifest.get('model')!r} but EMBEDDING_MODEL is "
            f"{model!r}: {REBUILD_HINT} to rebuild it"
        )
    if dimension is not None and manifest.get("dimension") != dimension:
        raise ModelMismatchError(
            f"the index has {manifest.get('dimension')}-dimensional embeddings but the model "
            f"makes {dimension}: {REBUILD_HINT} to rebuild it"
        )


def load_index(index_dir: Path, model: str, dimension: int | None = None) -> Index:
    """Load the build `CURRENT` names and check it against the configured model.

    Raises:
        IndexMissingError: no build yet.
        IndexCorruptError: a file is missing, truncated, unreadable or inconsistent.
        ModelMismatchError: built with another model or dimension.
    """
    folder = current_build(index_dir)
    if folder is None or not folder.is_dir():
        raise IndexMissingError(f"no index in {index_dir}: {REBUILD_HINT} to build it")
    manifest = read_manifest(folder)
    check_model(manifest, model, dimension)
    bounds = manifest.get("shards")
    ranges = segment_ranges(manifest)
    faiss_paths = ([folder / "faiss" / f"shard-{s:03d}.faiss" for s in range(len(bounds))] if bounds
                   else [segment_folder(folder, s) / "index.faiss" for s in range(len(ranges))])
    faiss_path = faiss_paths[0]
    parts = []
    for faiss_path in faiss_paths:
        try:
            parts.append(faiss.read_index(str(faiss_path)))
        except RuntimeError as exc:
            raise _corrupt(faiss_path, "unreadable") from exc
    if bounds and [p.ntotal for p in parts] != [b - a for a, b in bounds]:
        raise _corrupt(folder / "faiss", "inconsistent with the manifest's shard ranges")
    if manifest.get("segments") and [p.ntotal for p in parts] != [b - a for a, b in ranges]:
        raise _corrupt(folder / SEGMENTS_DIR, "inconsistent with the manifest's segment ranges")
    faiss_index = join_faiss_shards(parts)
    try:
        passages, records = open_store(folder / STORE_FILE)
    except sqlite3.DatabaseError as exc:
        raise _corrupt(folder / STORE_FILE, f"unreadable ({exc})") from exc
    emb_parts = []
    for s in range(len(ranges)):
        emb_path = segment_folder(folder, s) / "embeddings.npy"
        try:
            emb_parts.append(np.load(emb_path, mmap_mode="r"))
        except (OSError, ValueError) as exc:
            raise _corrupt(emb_path, "unreadable") from exc
    embeddings: np.ndarray | SegmentedArray = emb_parts[0] if len(emb_parts) == 1 else SegmentedArray(emb_parts)
    n = manifest.get("passages")
    if not (faiss_index.ntotal == len(passages) == embeddings.shape[0] == n):
        raise _corrupt(faiss_path, f"inconsistent ({faiss_index.ntotal} vectors, {len(passages)} passages)")
    try:
        sparse = EmptySparseIndex() if n == 0 else SparseIndex.load(folder / "bm25", mmap=True)
    except (OSError, ValueError, KeyError) as exc:
        raise _corrupt(folder / "bm25", "unreadable") from exc

    def stats() -> list[Stat]:
        try:
            return [Stat.from_json(row) for row in json.loads((folder / "stats.json").read_text(encoding="utf-8"))]
        except (OSError, ValueError, TypeError, AttributeError) as exc:
            raise _corrupt(folder / "stats.json", "unreadable") from exc

    def stat_phrases() -> dict[str, np.ndarray]:
        try:
            phrases = json.loads((folder / "stat_phrases.json").read_text(encoding="utf-8"))
            vectors = np.load(folder / "stat_phrases.npy", mmap_mode="r")
            return dict(zip(phrases, vectors, strict=True))
        except (OSError, ValueError) as exc:
            raise _corrupt(folder / "stat_phrases.npy", "unreadable") from exc

    count = manifest.get("stats")
    return Index(folder, manifest, faiss_index, passages, records, embeddings, sparse,
                 LazyList(stats, count if isinstance(count, int) else None), LazyMapping(stat_phrases))
