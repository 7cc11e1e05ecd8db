"""Passage store: a build's documents, sentences and passages in one SQLite file, read on demand.

A loaded index holds no Python object per passage: `PassageStore` is a sequence of `Passage`
and `DocumentStore` a mapping of `DocumentRecord` that read rows when asked (a few µs a
passage), so memory does not grow with the corpus. The file is opened read-only and
`immutable` (a build never changes once published), so reads take no locks.

Tables:
    documents(row, id, title, content_hash, source, url, published, encoding, author, quotes)
    sentences(document, sentence, start, end, text)      every sentence, duplicates included
    passages(id, document, sentence, start, end, text, also, original)
`also` is JSON `[[document, sentence], ...]`, `quotes` JSON `[[sentence, original], ...]`.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, overload

from bot.corpus import Passage, Reprint

if TYPE_CHECKING:
    from bot.index import DocumentRecord

FILE = "passages.sqlite"
_DOC_COLUMNS = ("id", "title", "content_hash", "source", "url", "published", "encoding", "author")

_SCHEMA = """
CREATE TABLE documents (row INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, title TEXT NOT NULL,
    content_hash TEXT NOT NULL, source TEXT, url TEXT, published TEXT, encoding TEXT NOT NULL, author TEXT,
    quotes TEXT);
CREATE TABLE sentences (document INTEGER NOT NULL, sentence INTEGER NOT NULL, start INTEGER NOT NULL,
    "end" INTEGER NOT NULL, text TEXT NOT NULL, PRIMARY KEY (document, sentence)) WITHOUT ROWID;
CREATE TABLE passages (id INTEGER PRIMARY KEY, document INTEGER NOT NULL, sentence INTEGER NOT NULL,
    start INTEGER NOT NULL, "end" INTEGER NOT NULL, text TEXT NOT NULL, also TEXT, original TEXT);
"""


def write_store(path: Path, records: Iterable[DocumentRecord], passages: Iterable[Passage]) -> None:
    """Write `records` (all their sentences) and `passages` (row i = passage id i) to a new
    SQLite file at `path`.

    Raises:
        KeyError: a passage names a document that is not among `records`.
    """
    db = sqlite3.connect(path)
    try:
        db.executescript("PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF; PRAGMA page_size=8192;")
        db.executescript(_SCHEMA)
        rows: dict[str, int] = {}
        for row, r in enumerate(records):
            rows[r.id] = row
            db.execute("INSERT INTO documents VALUES (?,?,?,?,?,?,?,?,?,?)",
                       (row, r.id, r.title, r.content_hash, r.source, r.url, r.published, r.encoding, r.author,
                        json.dumps([list(q) for q in r.quotes], ensure_ascii=False) if r.quotes else None))
            db.executemany("INSERT INTO sentences VALUES (?,?,?,?,?)",
                           ((row, i, s, e, t) for i, (s, e, t) in enumerate(r.sentences, start=1)))
        db.executemany(
            "INSERT INTO passages VALUES (?,?,?,?,?,?,?,?)",
            ((i, rows[p.document], p.sentence, p.start, p.end, p.text,
              json.dumps([[a.document, a.sentence] for a in p.also]) if p.also else None, p.original)
             for i, p in enumerate(passages)))
        db.commit()
    finally:
        db.close()


class _Database:
    """One read-only connection shared by threads (sqlite3 serialises on our lock)."""

    def __init__(self, path: Path) -> None:
        uri = f"file:{path.resolve().as_posix()}?mode=ro&immutable=1"
        self.path = path
        self.conn = sqlite3.connect(uri, uri=True, check_same_thread=False)
        self.lock = threading.Lock()
        self._docs: dict[int, tuple[Any, ...]] = {}

    def all(self, sql: str, args: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        with self.lock:
            return self.conn.execute(sql, args).fetchall()

    def one(self, sql: str, args: Sequence[Any] = ()) -> tuple[Any, ...] | None:
        with self.lock:
            row: tuple[Any, ...] | None = self.conn.execute(sql, args).fetchone()
            return row

    def document(self, row: int) -> tuple[Any, ...]:
        """`(id, title, source, url, published)` of document row `row` (cached: documents are few)."""
        got = self._docs.get(row)
        if got is None:
            found = self.one("SELECT id, title, source, url, published FROM documents WHERE row=?", (row,))
            if found is None:
                raise KeyError(row)
            if len(self._docs) >= 4096:  # bounded: documents of recent answers
                self._docs.clear()
            got = self._docs[row] = found
        return got

    def document_row(self, doc_id: str) -> int | None:
        found = self.one("SELECT row FROM documents WHERE id=?", (doc_id,))
        return None if found is None else int(found[0])


class PassageStore(Sequence[Passage]):
    """The passages of a build, `store[i]` being passage id `i` (row i of FAISS and the
    embeddings). Reads SQLite on each access; iterating streams all rows in id order."""

    def __init__(self, db: _Database, size: int) -> None:
        self._db = db
        self._size = size

    def __len__(self) -> int:
        return self._size

    def _passage(self, row: tuple[Any, ...]) -> Passage:
        _, doc_row, sentence, start, end, text, also, original = row
        doc_id, title, source, url, published = self._db.document(doc_row)
        reprints: tuple[Reprint, ...] = ()
        if also:
            reprints = tuple(self._reprint(d, n) for d, n in json.loads(also))
        return Passage(text=text, document=doc_id, title=title, sentence=sentence, start=start, end=end,
                       source=source, url=url, published=published, also=reprints, original=original)

    def _reprint(self, doc_id: str, sentence: int) -> Reprint:
        row = self._db.document_row(doc_id)
        if row is None:
            return Reprint(doc_id, doc_id, sentence)
        _, title, source, url, published = self._db.document(row)
        return Reprint(doc_id, title, sentence, source, published, url)

    @overload
    def __getitem__(self, i: int) -> Passage: ...

    @overload
    def __getitem__(self, i: slice) -> list[Passage]: ...

    def __getitem__(self, i: int | slice) -> Passage | list[Passage]:
        if isinstance(i, slice):
            return self.many(range(*i.indices(self._size)))
        if i < 0:
            i += self._size
        if not 0 <= i < self._size:
            raise IndexError(f"passage id {i} out of range (0..{self._size - 1})")
        row = self._db.one("SELECT * FROM passages WHERE id=?", (i,))
        if row is None:
            raise IndexError(f"passage id {i} missing from {self._db.path}")
        return self._passage(row)

    def many(self, ids: Iterable[int]) -> list[Passage]:
        """The passages of `ids`, in that order (one query)."""
        wanted = list(ids)
        if not wanted:
            return []
        found: dict[int, Passage] = {}
        for start in range(0, len(wanted), 500):
            chunk = wanted[start : start + 500]
            marks = ",".join("?" * len(chunk))
            for row in self._db.all(f"SELECT * FROM passages WHERE id IN ({marks})", chunk):
                found[row[0]] = self._passage(row)
        return [found[i] for i in wanted]

    def texts(self) -> Iterator[str]:
        """Every passage's text in id order (streamed)."""
        with self._db.lock:
            rows = self._db.conn.execute("SELECT text FROM passages ORDER BY id").fetchall()
        for (text,) in rows:
            yield text

    def __iter__(self) -> Iterator[Passage]:
        for start in range(0, self._size, 2000):
            rows = self._db.all("SELECT * FROM passages WHERE id >= ? AND id < ? ORDER BY id",
                                (start, start + 2000))
            for row in rows:
                yield self._passage(row)

    def ids_of_texts(self, texts: Iterable[str]) -> dict[str, int]:
        """The first passage id holding each of `texts` exactly (texts not found are left out)."""
        out: dict[str, int] = {}
        wanted = list(dict.fromkeys(texts))
        for start in range(0, len(wanted), 500):
            chunk = wanted[start : start + 500]
            marks = ",".join("?" * len(chunk))
            for pid, text in self._db.all(f"SELECT min(id), text FROM passages WHERE text IN ({marks}) "
                                          "GROUP BY text", chunk):
                out[text] = int(pid)
        return out

    def counts_by_document(self) -> dict[str, int]:
        """Passages per document id, reprints (`also`) included."""
        counts: dict[str, int] = {}
        for doc_id, n in self._db.all("SELECT d.id, count(*) FROM passages p JOIN documents d "
                                      "ON d.row = p.document GROUP BY p.document"):
            counts[doc_id] = int(n)
        for (also,) in self._db.all("SELECT also FROM passages WHERE also IS NOT NULL"):
            for d, _ in json.loads(also):
                counts[d] = counts.get(d, 0) + 1
        return counts


class DocumentStore(Mapping[str, "DocumentRecord"]):
    """The documents of a build by id, each with all its sentences, read from SQLite on access."""

    def __init__(self, db: _Database, size: int) -> None:
        self._db = db
        self._size = size

    def __len__(self) -> int:
        return self._size

    def __iter__(self) -> Iterator[str]:
        for (doc_id,) in self._db.all("SELECT id FROM documents ORDER BY row"):
            yield doc_id

    def _record(self, row: tuple[Any, ...]) -> DocumentRecord:
        from bot.index import DocumentRecord

        sentences = self._db.all('SELECT start, "end", text FROM sentences WHERE document=? ORDER BY sentence',
                                 (row[0],))
        quotes = tuple((int(n), str(q)) for n, q in json.loads(row[-1])) if row[-1] else ()
        return DocumentRecord(**dict(zip(_DOC_COLUMNS, row[1:-1], strict=True)),
                              sentences=tuple((int(s), int(e), t) for s, e, t in sentences), quotes=quotes)

    def __getitem__(self, doc_id: str) -> DocumentRecord:
        row = self._db.one(f"SELECT row, {', '.join(_DOC_COLUMNS)}, quotes FROM documents WHERE id=?", (doc_id,))
        if row is None:
            raise KeyError(doc_id)
        return self._record(row)

    def __contains__(self, doc_id: object) -> bool:
        return isinstance(doc_id, str) and self._db.document_row(doc_id) is not None

    def summaries(self) -> list[tuple[str, str, str | None, str | None, str | None]]:
        """`(id, title, url, source, published)` of every document, in build order (no sentences)."""
        return [tuple(r) for r in self._db.all(  # type: ignore[misc]
            "SELECT id, title, url, source, published FROM documents ORDER BY row")]

    def sentences(self, doc_id: str, first: int, last: int) -> list[str]:
        """Texts of sentences `first`..`last` (numbered from 1, inclusive) of `doc_id`."""
        row = self._db.document_row(doc_id)
        if row is None or last < first:
            return []
        return [t for (t,) in self._db.all(
            "SELECT text FROM sentences WHERE document=? AND sentence BETWEEN ? AND ? ORDER BY sentence",
            (row, first, last))]


def open_store(path: Path) -> tuple[PassageStore, DocumentStore]:
    """Open a file written by `write_store`: its passages and documents.

    Raises:
        sqlite3.DatabaseError: the file is not a readable store.
    """
    db = _Database(path)
    # Ids are 0..n-1: the largest rowid gives the count without a scan.
    (passages,) = db.one("SELECT coalesce(max(id) + 1, 0) FROM passages") or (0,)
    (documents,) = db.one("SELECT coalesce(max(row) + 1, 0) FROM documents") or (0,)
    return PassageStore(db, int(passages)), DocumentStore(db, int(documents))
