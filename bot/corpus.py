"""Corpus stage: load article files, normalise their text, and split it into sentence passages.

A corpus is a folder of `.txt`, `.md` and `.html`/`.htm` files, read recursively. Each file is
one `Document` (of a web page, only the article text `bot.article` extracts);
each sentence (or each line with no final punctuation, such as a headline) is one `Passage`.
Offsets are always in characters of `Document.text` (the decoded file, or a page's extracted
article), so a citation points at the original words even though passages are embedded from
normalised text.
"""

from __future__ import annotations

import hashlib
import logging
import re
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import frontmatter
from syntok import segmenter

from bot.article import HTML_SUFFIXES, NoArticleError, extract_article
from bot.dates import iso_date

log = logging.getLogger(__name__)

SUFFIXES = frozenset({".txt", ".md", *HTML_SUFFIXES})
FALLBACK_ENCODINGS = ("cp1252", "latin-1")
#: Longest first line taken as a title when it is not headline-shaped (characters).
TITLE_MAX_CHARS = 200

# Characters NFKC leaves alone that still differ only in typography. Zero-width characters and
# the soft hyphen are dropped; curly quotes become straight ones.
_TYPOGRAPHY = {
    "\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'", "\u2032": "'",
    "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u201f": '"', "\u2033": '"',
    "\u00ad": "", "\u200b": "", "\u200c": "", "\u200d": "", "\u2060": "", "\ufeff": "",
}
# Markdown markup that is not part of the words (for `.md` files): block markers at the start
# of a line, closing heading hashes, and inline emphasis, code, links and images (keep the text).
_MD_DROP = [
    (re.compile(r"^\s{0,3}(?:#{1,6}\s+|>\s?|[-*+]\s+(?:\[[ xX]\]\s+)?|\d{1,3}[.)]\s+)"), 0),
    (re.compile(r"\s+#+\s*$"), 0),
    (re.compile(r"!?\[([^\]]*)\]\([^)]*\)"), 1),
    (re.compile(r"(\*\*|__)(.+?)\1"), 2),
    (re.compile(r"(?<![\w*])\*(?![\s*])(.+?)(?<![\s*])\*(?![\w*])"), 1),
    (re.compile(r"`([^`]+)`"), 1),
]
_SENTENCE_END = re.compile(r"[.!?…:;][\"'’”)\]]*\s*$")


@dataclass(frozen=True)
class Document:
    """One corpus file, decoded.

    `id` is the path relative to the corpus folder (POSIX separators); `text` is the whole
    decoded file, front matter included (for a web page: the extracted article), and
    `body_start` is where the body begins in it (characters). `content_hash` is the SHA-256 of
    the raw bytes (hex). `source` is the outlet, `published` an ISO date.
    """

    id: str
    title: str
    text: str
    content_hash: str
    body_start: int = 0
    source: str | None = None
    url: str | None = None
    published: str | None = None
    encoding: str = "utf-8"
    author: str | None = None


@dataclass(frozen=True)
class Reprint:
    """Another document that carries the same sentence (a copied wire paragraph)."""

    document: str
    title: str
    sentence: int
    source: str | None = None
    published: str | None = None
    url: str | None = None


@dataclass(frozen=True)
class Passage:
    """One sentence of a document: the unit that is embedded, searched and cited.

    `text` is the normalised sentence; `start`/`end` are character offsets of the original
    words in `Document.text`; `sentence` is numbered from 1 within the document. `also` lists
    the other documents that carry the same (or a near-identical) sentence, oldest first.
    """

    text: str
    document: str
    title: str
    sentence: int
    start: int
    end: int
    source: str | None = None
    url: str | None = None
    published: str | None = None
    also: tuple[Reprint, ...] = ()

    @property
    def text_hash(self) -> str:
        """SHA-1 of the normalised text (hex): the key of the embedding cache and of dedup."""
        return hashlib.sha1(self.text.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class SkippedFile:
    """A corpus file that was not indexed, and why."""

    path: str
    reason: str


@dataclass
class CorpusLoad:
    """What `load_corpus` found: documents, files skipped, and notes (e.g. encoding fallbacks)."""

    documents: list[Document] = field(default_factory=list)
    skipped: list[SkippedFile] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def iter_corpus_files(corpus_dir: Path) -> Iterator[Path]:
    """Yield the `.txt`/`.md`/`.html`/`.htm` files under `corpus_dir`, sorted, skipping hidden files and folders."""
    for path in sorted(corpus_dir.rglob("*")):
        rel = path.relative_to(corpus_dir)
        if any(part.startswith(".") for part in rel.parts):
            continue
        if path.is_file() and path.suffix.lower() in SUFFIXES:
            yield path


def file_hash(data: bytes) -> str:
    """SHA-256 of `data`, hex."""
    return hashlib.sha256(data).hexdigest()


def decode(data: bytes) -> tuple[str, str]:
    """Decode file bytes as UTF-8, else the first fallback that works. Returns (text, encoding).

    Raises:
        ValueError: the bytes look binary (a NUL byte, or mostly control characters).
    """
    head = data[:8192]
    if b"\x00" in head:
        raise ValueError("binary file (contains NUL bytes)")
    try:
        text, encoding = data.decode("utf-8-sig"), "utf-8"
    except UnicodeDecodeError:
        for encoding in FALLBACK_ENCODINGS:
            try:
                text = data.decode(encoding)
                break
            except UnicodeDecodeError:
                continue
    sample = text[:4096]
    controls = sum(1 for c in sample if unicodedata.category(c) == "Cc" and c not in "\n\r\t\f")
    if sample and controls / len(sample) > 0.05:
        raise ValueError("binary file (mostly control characters)")
    return text, encoding


def normalise(text: str) -> tuple[str, list[int]]:
    """NFKC-normalise `text` and straighten typography, keeping a map back to the original.

    Returns `(normalised, origin)` where `origin[i]` is the index in `text` of the character
    that produced `normalised[i]`; `origin` has one extra final entry, `len(text)`.
    Non-breaking spaces become spaces (NFKC), curly quotes straight quotes, zero-width
    characters and soft hyphens disappear.
    """
    if text.isascii():
        return text, list(range(len(text) + 1))
    out: list[str] = []
    origin: list[int] = []
    for i, char in enumerate(text):
        if char.isascii():
            out.append(char)
            origin.append(i)
            continue
        mapped = _TYPOGRAPHY.get(char)
        if mapped is None:
            mapped = unicodedata.normalize("NFKC", char)
        out.append(mapped)
        origin.extend([i] * len(mapped))
    origin.append(len(text))
    return "".join(out), origin


def strip_markdown(text: str, origin: list[int]) -> tuple[str, list[int]]:
    """Remove Markdown markup from one line, keeping the `origin` map (see `normalise`) aligned.

    Headings, quotes and list markers are dropped; `**bold**`, `*em*`, `` `code` ``, links and
    images keep only their text. Returns the new `(text, origin)`.
    """
    for pattern, group in _MD_DROP:
        if not pattern.search(text):
            continue
        out: list[str] = []
        org: list[int] = []
        pos = 0
        for m in pattern.finditer(text):
            out.append(text[pos : m.start()])
            org.extend(origin[pos : m.start()])
            if group:
                start, end = m.span(group)
                out.append(text[start:end])
                org.extend(origin[start:end])
            pos = m.end()
        out.append(text[pos:])
        org.extend(origin[pos:])
        text, origin = "".join(out), org
    return text, origin


def split_sentences(line: str) -> list[tuple[int, int]]:
    """Split one line of normalised text into sentences; return their `(start, end)` offsets.

    Segmentation is syntok's (a maintained rule-based segmenter that keeps abbreviations such as
    "No. 3", "Gen.", "U.S." and "$1.5" inside their sentence). Offsets are in characters of
    `line`, without surrounding whitespace.
    """
    spans: list[tuple[int, int]] = []
    for paragraph in segmenter.analyze(line):
        for sentence in paragraph:
            tokens = [t for t in sentence if t.value]
            if not tokens:
                continue
            start = tokens[0].offset
            end = tokens[-1].offset + len(tokens[-1].value)
            spans.append((start, min(end, len(line))))
    return spans


def _lines(text: str, start: int) -> Iterator[tuple[int, str]]:
    """Yield `(offset, line)` for each line of `text[start:]`, offsets into `text`."""
    pos = start
    for line in text[start:].splitlines(keepends=True):
        yield pos, line.rstrip("\r\n")
        pos += len(line)


def segment(document: Document) -> list[Passage]:
    """Split a document's body into sentence passages, in reading order.

    Each line is segmented on its own, so a line without final punctuation (a headline, a
    subtitle) is a passage of its own and never glued to the next line.
    """
    passages: list[Passage] = []
    number = 0
    markdown = document.id.lower().endswith(".md")
    for line_start, raw in _lines(document.text, document.body_start):
        if not raw.strip():
            continue
        norm, origin = normalise(raw)
        if markdown:
            norm, origin = strip_markdown(norm, origin)
        for start, end in split_sentences(norm):
            text = " ".join(norm[start:end].split())
            if not text:
                continue
            number += 1
            passages.append(
                Passage(
                    text=text,
                    document=document.id,
                    title=document.title,
                    sentence=number,
                    start=line_start + origin[start],
                    end=line_start + origin[end - 1] + 1,
                    source=document.source,
                    url=document.url,
                    published=document.published,
                )
            )
    return passages


def _title(body: str) -> str:
    """Pick a title: the first headline-shaped line among the first three, else the first line
    (Markdown heading marks removed)."""
    lines = [line.strip().lstrip("#").strip() for line in body.splitlines() if line.strip().lstrip("#").strip()]
    if not lines:
        return ""
    for line in lines[:3]:
        if len(line) <= TITLE_MAX_CHARS and not _SENTENCE_END.search(line):
            return line
    first = lines[0]
    return first if len(first) <= TITLE_MAX_CHARS else first[: TITLE_MAX_CHARS - 1] + "…"


def _meta(metadata: dict[str, object], key: str) -> str | None:
    value = metadata.get(key)
    return None if value in (None, "") else str(value)


def read_document(path: Path, corpus_dir: Path, notes: list[str] | None = None) -> Document:
    """Read one corpus file into a `Document`, with optional YAML front matter.

    Front matter keys read: `title`, `source`, `url`, `published` (made an ISO date), `author`.
    An `.html`/`.htm` file is read as a web page (see `read_page`).

    Raises:
        ValueError: the file is empty or binary, or a page has no article (the message says which).
        OSError: the file cannot be read.
    """
    data = path.read_bytes()
    doc_id = path.relative_to(corpus_dir).as_posix()
    if not data.strip():
        raise ValueError("empty file")
    if path.suffix.lower() in HTML_SUFFIXES:
        return read_page(data, doc_id)
    text, encoding = decode(data)
    if encoding != "utf-8" and notes is not None:
        notes.append(f"{doc_id}: not UTF-8, decoded as {encoding}")
    metadata: dict[str, object] = {}
    body_start = 0
    if text.startswith("---"):
        try:
            post = frontmatter.loads(text)
            metadata = dict(post.metadata)
            if post.content:
                body_start = max(text.find(post.content), 0)
            else:
                body_start = len(text)
        except Exception as exc:  # malformed YAML: index the file as plain text
            if notes is not None:
                notes.append(f"{doc_id}: front matter ignored ({type(exc).__name__})")
    body = text[body_start:]
    if not body.strip():
        raise ValueError("no text after the front matter")
    return Document(
        id=doc_id,
        title=_meta(metadata, "title") or _title(body) or doc_id,
        text=text,
        content_hash=file_hash(data),
        body_start=body_start,
        source=_meta(metadata, "source"),
        url=_meta(metadata, "url"),
        published=iso_date(metadata.get("published")),
        encoding=encoding,
        author=_meta(metadata, "author"),
    )


def read_page(data: bytes, doc_id: str) -> Document:
    """A web page saved in the corpus as a `Document` of its extracted article: `text` is the
    article (headline first, one paragraph a line), so citations point into it.

    Raises:
        ValueError: the page is binary or has no article text.
    """
    if b"\x00" in data[:8192]:
        raise ValueError("binary file (contains NUL bytes)")
    try:
        article = extract_article(data)
    except NoArticleError as exc:
        raise ValueError(str(exc)) from exc
    return Document(id=doc_id, title=article.title, text=article.text, content_hash=file_hash(data),
                    body_start=0, source=article.source, url=article.url, published=article.published,
                    encoding="html", author=article.author)


def load_corpus(corpus_dir: Path, files: Iterable[Path] | None = None) -> CorpusLoad:
    """Read every corpus file; a bad file is skipped with a warning, never stopping the load.

    Raises:
        FileNotFoundError: `corpus_dir` does not exist.
    """
    if not corpus_dir.is_dir():
        raise FileNotFoundError(f"corpus folder {corpus_dir} does not exist")
    result = CorpusLoad()
    for path in files if files is not None else iter_corpus_files(corpus_dir):
        rel = path.relative_to(corpus_dir).as_posix()
        try:
            result.documents.append(read_document(path, corpus_dir, result.notes))
        except (ValueError, OSError) as exc:
            log.info("skipped %s: %s", rel, exc)
            result.skipped.append(SkippedFile(rel, str(exc)))
    return result


def corpus_hashes(corpus_dir: Path) -> dict[str, str]:
    """Map each corpus file (relative path) to the SHA-256 of its bytes: the staleness check."""
    return {
        path.relative_to(corpus_dir).as_posix(): file_hash(path.read_bytes())
        for path in iter_corpus_files(corpus_dir)
    }
