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
import os
import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from syntok import segmenter

from bot.article import HTML_SUFFIXES, NoArticleError, extract_article
from bot.dates import iso_date

log = logging.getLogger(__name__)

SUFFIXES = frozenset({".txt", ".md", *HTML_SUFFIXES})
FALLBACK_ENCODINGS = ("cp1252", "latin-1")
#: Bumped whenever segmentation rules change: a build re-segments documents cut by other rules.
SEGMENTER_VERSION = 2
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

    `text` is the normalised sentence (what is embedded and matched), `quote` the original
    characters shown; `start`/`end` are character offsets of the original words in
    `Document.text`; `sentence` is numbered from 1 within the document. `also` lists
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
    #: The sentence as written (curly quotes, non-breaking spaces), when it differs from `text`.
    original: str | None = None

    @property
    def quote(self) -> str:
        """The sentence to show: its original characters (`text` is what is matched)."""
        return self.original or self.text

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
    for _, path in corpus_entries(corpus_dir):
        yield Path(path)


def corpus_entries(corpus_dir: Path) -> list[tuple[str, str]]:
    """`(relative POSIX path, path)` of each file `iter_corpus_files` yields, in its order.

    One `os.scandir` per folder, as `Path.rglob` walks (symlinked folders are not entered, an
    unreadable folder is skipped), without a `Path` per entry: listing the 2,225 BBC files took
    a fifth of a cold `ask` through pathlib.
    """
    found: list[tuple[tuple[str, ...], str]] = []

    def walk(folder: str, parts: tuple[str, ...]) -> None:
        try:
            entries = list(os.scandir(folder))
        except (PermissionError, FileNotFoundError, NotADirectoryError):
            return
        for entry in entries:
            if entry.name.startswith("."):
                continue
            if entry.is_dir() and not entry.is_symlink():
                walk(entry.path, (*parts, entry.name))
            elif entry.is_file() and os.path.splitext(entry.name)[1].lower() in SUFFIXES \
                    and not entry.name.endswith("."):
                found.append(((*parts, entry.name), entry.path))

    walk(str(corpus_dir), ())
    found.sort(key=lambda item: item[0])
    return [("/".join(parts), path) for parts, path in found]


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


def _lines(text: str, start: int) -> Iterator[tuple[int, str]]:
    """Yield `(offset, line)` for each line of `text[start:]`, offsets into `text`."""
    pos = start
    for line in text[start:].splitlines(keepends=True):
        yield pos, line.rstrip("\r\n")
        pos += len(line)


#: A line with no letter or digit ("...", "---", "* * *", a Markdown table's `|---|:--:|` row)
#: is layout, not a passage.
_HAS_WORD = re.compile(r"[^\W_]")
#: Lines that start a new block even after an unfinished line: list items, headings, quotes,
#: table rows, and Markdown rules.
_BLOCK_START = re.compile(r"^\s{0,3}(?:[-*+•]\s|\d{1,3}[.)]\s|#{1,6}\s|>|\|)")
#: The start of a line that continues the sentence of the line before: a lower-case word, or a
#: closing or joining punctuation mark.
_CONTINUES = re.compile(r"^\s*(?:[a-z]|[,;:)\]%–—-]\s?[a-z0-9])")
#: Hard-wrapped prose: lines this long or longer (characters) that end mid-sentence are wrapped.
_WRAP_MIN_CHARS = 50
#: A line that ends mid-sentence only counts as wrapped in a file whose lines mostly stop near
#: one width: at most this long (characters; e-mail and terminal text wrap at 60-80).
_WRAP_MAX_WIDTH = 100


def _wrap_width(lines: list[str]) -> int | None:
    """The width a hard-wrapped file was wrapped at, or None when its lines are not wrapped.

    A file is wrapped when most of its long lines end within a few characters of one width
    (the longest lines), which paragraphs typed one a line never do.
    """
    lengths = sorted(len(line.rstrip()) for line in lines if len(line.strip()) >= _WRAP_MIN_CHARS)
    if len(lengths) < 3:
        return None
    width = lengths[int(0.9 * (len(lengths) - 1))]
    if width > _WRAP_MAX_WIDTH:
        return None
    near = sum(1 for n in lengths if n >= width - 15)
    return width if near >= 0.6 * len(lengths) else None


def _continues(previous: str, line: str, width: int | None) -> bool:
    """Whether `line` carries on the sentence `previous` left unfinished (a wrapped line)."""
    prev = previous.rstrip()
    if not prev or _SENTENCE_END.search(prev) or _BLOCK_START.match(line) or not _HAS_WORD.search(line):
        return False
    if _BLOCK_START.match(previous) and not _CONTINUES.match(line):
        return False
    if _CONTINUES.match(line):
        return True
    # A capitalised next line continues only a line that stops near the wrap width.
    return width is not None and len(prev) >= max(_WRAP_MIN_CHARS, width - 15)


def _blocks(document: Document) -> Iterator[tuple[str, list[int]]]:
    """The body as blocks of normalised text with their `origin` maps into `Document.text`.

    A block is one line, or several when a sentence was hard-wrapped over them (the line ends
    mid-sentence and the next goes on in lower case, or the file is wrapped at a fixed width).
    Lines are joined with one space, mapped to the line break. Layout lines are dropped.
    """
    markdown = document.id.lower().endswith(".md")
    lines = [(start, raw) for start, raw in _lines(document.text, document.body_start)]
    width = _wrap_width([raw for _, raw in lines])
    text: list[str] = []
    origin: list[int] = []
    last = ""
    for line_start, raw in lines:
        if not raw.strip() or not _HAS_WORD.search(raw):
            if text:
                yield "".join(text), origin
            text, origin, last = [], [], ""
            continue
        norm, org = normalise(raw)
        if markdown:
            norm, org = strip_markdown(norm, org)
        if text and not _continues(last, raw, width):
            yield "".join(text), origin
            text, origin = [], []
        if text:
            text.append(" ")
            origin.append(line_start - 1)  # the line break before this line
        text.append(norm)
        if not markdown and raw.isascii():  # normalise kept it: org is 0, 1, 2, ...
            origin.extend(range(line_start, line_start + len(norm)))
        else:
            origin.extend([line_start + o for o in org[: len(norm)]])
        last = raw
    if text:
        yield "".join(text), origin


#: Abbreviations that can end a sentence (syntok keeps them inside): initialisms such as "U.S."
#: and "U.N.", times and a few company and name suffixes.
_ABBREVIATION_END = re.compile(
    r"(?<![\w.])(?:(?:[A-Z]\.){2,}|[ap]\.m\.|etc\.|Jr\.|Sr\.|Inc\.|Ltd\.|Co\.|Corp\.)"
    r"(?=\s+([A-Z][\w'’-]*)(\s+\S+)?)")
#: Words that open sentences and never continue an organisation's name.
_OPENERS = frozenset({
    "a", "an", "the", "it", "its", "he", "she", "they", "we", "i", "you", "this", "that", "these",
    "those", "there", "their", "his", "her", "our", "my", "your", "but", "and", "or", "so", "yet",
    "in", "on", "at", "for", "with", "after", "before", "when", "while", "if", "as", "by", "from",
    "to", "of", "since", "though", "although", "however", "meanwhile", "still", "also", "some",
    "many", "most", "all", "no", "not", "one", "two", "three", "several"
})
#: Capitalised words that continue a name after an initialism ("U.S. Army", "U.N. Security").
_NAME_WORDS = frozenset({
    "army", "navy", "air", "marine", "marines", "force", "forces", "air-force", "senate",
    "congress", "house", "department", "government", "embassy", "embassies", "consulate",
    "president", "vice", "secretary", "secretary-general", "ambassador", "attorney", "court",
    "supreme", "open", "state", "states", "treasury", "federal", "central", "command", "special",
    "military", "capitol", "census", "coast", "national", "security", "council", "general",
    "assembly", "mission", "office", "bureau", "agency", "space", "intelligence", "border",
    "customs", "immigration", "dollar", "dollars",
    "envoy", "representative", "envoys", "forces'", "peacekeepers", "peacekeeping", "chief",
    "chiefs", "navy's", "army's"
})


def _abbreviation_breaks(sentence: str) -> list[int]:
    """Offsets in `sentence` after an abbreviation that also ends a sentence: the next word is
    capitalised and either opens sentences ("The", "It", "Officials did …" — a capitalised word
    followed by a lower-case one) and does not carry on a name ("U.S. Army said")."""
    breaks = []
    for m in _ABBREVIATION_END.finditer(sentence):
        word, after = m.group(1), (m.group(2) or "").strip()
        low = word.lower()
        if low in _OPENERS or low not in _NAME_WORDS and after[:1].islower():
            breaks.append(m.end())
    return breaks


#: A dateline: a place in capitals, an optional date and outlet, then the dash that opens the
#: story ("KYIV (Wire) —", "LONDON, Jan 5 (Reuters) -"). Never a sentence of its own.
_DASH_START = re.compile(r"^[—–-]")


def split_sentences(line: str) -> list[tuple[int, int]]:
    """Split one block of normalised text into sentences; return their `(start, end)` offsets.

    Segmentation is syntok's (a maintained rule-based segmenter that keeps abbreviations such as
    "No. 3", "Gen.", "U.S." and "$1.5" inside their sentence), corrected twice: an abbreviation
    before a capitalised word that opens a sentence also ends one ("made in the U.S. Officials
    did not say"), and a dateline stays with the sentence its dash opens ("KYIV (Wire) — …").
    Offsets are in characters of `line`, without surrounding whitespace.
    """
    spans: list[tuple[int, int]] = []
    for paragraph in segmenter.analyze(line):
        for sentence in paragraph:
            tokens = [t for t in sentence if t.value]
            if not tokens:
                continue
            start = tokens[0].offset
            end = min(tokens[-1].offset + len(tokens[-1].value), len(line))
            if spans and _DASH_START.match(line[start:end]) and not _SENTENCE_END.search(
                    line[spans[-1][0] : spans[-1][1]]):
                spans[-1] = (spans[-1][0], end)
                continue
            spans.append((start, end))
    out: list[tuple[int, int]] = []
    for start, end in spans:
        for cut in _abbreviation_breaks(line[start:end]):
            piece_end = start + cut
            out.append((start, piece_end))
            start = piece_end + len(line[piece_end:end]) - len(line[piece_end:end].lstrip())
        out.append((start, end))
    return out


#: Called as `fit(text)`: the number of characters of `text` the model reads whole (its word
#: piece limit), or None when all of it fits.
Fit = Callable[[str], "int | None"]
#: Where a long sentence is best cut, best first: after a semicolon or colon, a dash, a comma,
#: before "and"/"but"/"or", then any space.
_CLAUSE_BREAKS = (re.compile(r"[;:]\s"), re.compile(r"\s[—–]\s|\s-\s"), re.compile(r",\s"),
                  re.compile(r"\s(?=(?:and|but|or|while|which|who|as)\s)"), re.compile(r"\s"))


#: Characters tokenised at a time when looking for a cut (doubled while a window fits whole).
_FIT_WINDOW = 8192
_LEADING_SPACE = re.compile(r"\s*")


def fit_pieces(text: str, fit: Fit) -> list[tuple[int, int]]:
    """Cut `text` into `(start, end)` pieces that each fit the model, at clause boundaries.

    Each piece ends at the best break (see `_CLAUSE_BREAKS`) in the last two thirds of what the
    model can read, so no words are lost and a piece never ends mid-word unless one "word" is
    itself longer than the model reads. Returns `[(0, len(text))]` when the text fits.
    """
    pieces: list[tuple[int, int]] = []
    start = 0
    window = _FIT_WINDOW
    while True:
        # Tokenise a window, not the whole rest (a 1.6 MB line would be tokenised once per
        # piece: quadratic), and slice only that window; a prefix is read the same, so a cut
        # inside the window holds.
        head = text[start:start + window]
        limit = fit(head)
        if limit is None or limit >= len(head):
            if start + len(head) < len(text):
                window *= 2  # the whole window fits: look further
                continue
            pieces.append((start, len(text)))
            return pieces
        window = _FIT_WINDOW
        cut = 0
        for pattern in _CLAUSE_BREAKS:
            ends = [m.end() if pattern.pattern.startswith(("[", ",")) else m.start()
                    for m in pattern.finditer(head, 0, limit)]
            ends = [e for e in ends if limit // 3 <= e <= limit]
            if ends:
                cut = ends[-1]
                break
        if cut <= 0:
            cut = max(limit, 1)
        pieces.append((start, start + len(head[:cut].rstrip())))
        start = _LEADING_SPACE.match(text, start + cut).end()  # type: ignore[union-attr]
        if start >= len(text):
            return pieces


def segment(document: Document, fit: Fit | None = None, notes: list[str] | None = None) -> list[Passage]:
    """Split a document's body into sentence passages, in reading order.

    Each block (a line, or the lines a sentence was hard-wrapped over) is segmented on its own,
    so a line without final punctuation (a headline, a subtitle) is a passage of its own and is
    never glued to the next line. With `fit` (see `Fit`), a sentence longer than the model reads
    is cut into pieces at clause boundaries (`fit_pieces`); `notes` then gets one line saying
    how many were cut. A passage's `quote` keeps the original characters (curly quotes,
    non-breaking spaces) where they differ from the normalised `text`.
    """
    passages: list[Passage] = []
    number = 0
    cut = 0
    for norm, origin in _blocks(document):
        origin = [*origin, origin[-1] + 1] if origin else [0]
        # Most blocks map one to one onto a run of the file: their quotes are slices of it.
        run = origin[0] if origin == list(range(origin[0], origin[0] + len(origin))) else None
        for s_start, s_end in split_sentences(norm):
            pieces = [(s_start, s_end)]
            if fit is not None:
                found = fit_pieces(norm[s_start:s_end], fit)
                if len(found) > 1:
                    cut += 1
                    pieces = [(s_start + a, s_start + b) for a, b in found]
            for start, end in pieces:
                text = " ".join(norm[start:end].split())
                if not text or not _HAS_WORD.search(text):
                    continue
                number += 1
                begin, stop = origin[start], origin[end - 1] + 1
                passages.append(
                    Passage(
                        text=text,
                        document=document.id,
                        title=document.title,
                        sentence=number,
                        start=begin,
                        end=stop,
                        source=document.source,
                        url=document.url,
                        published=document.published,
                        original=_quote(document.text, origin, start, end, text, run),
                    )
                )
    if cut and notes is not None:
        notes.append(f"{document.id}: {cut} sentence(s) longer than the model reads were split "
                     "at clause boundaries")
    return passages


_SPACES = re.compile(r"[ \t\r\n\f\v]+")


def _quote(text: str, origin: list[int], start: int, end: int, normalised: str,
           run: int | None = None) -> str | None:
    """The original characters of a passage (typography kept, line breaks and runs of spaces
    made one space), or None when they equal the normalised text. `run`: the block maps one to
    one onto `text` from that offset (`origin[i] == run + i`), so the characters are a slice."""
    if run is not None and run >= 0 and run + end <= len(text):
        quote = _SPACES.sub(" ", text[run + start : run + end]).strip()
        return None if quote == normalised else quote
    chars: list[str] = []
    last = -1
    for i in range(start, end):
        o = origin[i]
        if o == last:
            continue
        last = o
        char = text[o] if 0 <= o < len(text) else " "
        chars.append(char)
    quote = _SPACES.sub(" ", "".join(chars)).strip()
    return None if quote == normalised else quote


def _title(body: str) -> str:
    """Pick a title: the first headline-shaped line among the first three, else the first line
    (Markdown heading marks removed). A line that a lower-case line carries on is not a
    headline (it is a wrapped sentence)."""
    raw = [line for line in body.splitlines() if line.strip().lstrip("#").strip()]
    lines = [line.strip().lstrip("#").strip() for line in raw]
    if not lines:
        return ""
    for i, line in enumerate(lines[:3]):
        wrapped = i + 1 < len(raw) and _CONTINUES.match(raw[i + 1]) is not None
        if len(line) <= TITLE_MAX_CHARS and not _SENTENCE_END.search(line) and not wrapped:
            return line
    first = lines[0]
    for line in raw[1:]:  # the first line's sentence, with the lines it was wrapped over
        if not _CONTINUES.match(line) or _SENTENCE_END.search(first):
            break
        first = f"{first} {line.strip()}"
    return first if len(first) <= TITLE_MAX_CHARS else first[: TITLE_MAX_CHARS - 1] + "…"


_HTML_START = re.compile(r"\A\s*(?:<\?xml[^>]*>\s*)?(?:<!--.*?-->\s*)*(?:<!doctype\s+html|<html\b|<head\b|<body\b)",
                         re.I | re.S)
_HTML_TAG = re.compile(r"</?(?:html|head|body|div|p|span|a|br|meta|link|script|style|li|ul|ol|table|tr|td|th"
                       r"|h[1-6]|article|section|header|footer|nav|img|strong|em|b|i)\b[^<>]*>", re.I)
_HTML_ENTITY = re.compile(r"&(?:nbsp|amp|lt|gt|quot|#\d+|#x[0-9a-f]+|[a-z]+);", re.I)


def looks_like_html(text: str, markdown: bool = False) -> bool:
    """True when a `.txt` (or `.md`) file is really an HTML page: it opens as one (doctype,
    `<html>`, `<head>`, `<body>`) or, for plain text, tags and entities are everywhere (at least
    eight, one per 200 characters). Markdown may hold some inline HTML, so only a whole page counts.
    """
    head = text[:4096]
    if _HTML_START.match(head):
        return True
    if markdown:
        return False
    sample = text[:20000]
    marks = len(_HTML_TAG.findall(sample)) + len(_HTML_ENTITY.findall(sample))
    return marks >= 8 and marks * 200 >= len(sample)


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
    if looks_like_html(text, markdown=path.suffix.lower() == ".md"):
        try:
            page = read_page(data, doc_id)
        except ValueError as exc:
            raise ValueError(f"an HTML page saved as {path.suffix}, with no article text to index "
                             f"({exc}); save it as .html or as plain text") from exc
        if notes is not None:
            notes.append(f"{doc_id}: an HTML page saved as {path.suffix}: indexed its article text")
        return page
    if encoding != "utf-8" and notes is not None:
        notes.append(f"{doc_id}: not UTF-8, decoded as {encoding}")
    metadata: dict[str, object] = {}
    body_start = 0
    if text.startswith("---"):
        try:
            import frontmatter  # only .md files with front matter need it (PyYAML: ~25 ms to import)

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
