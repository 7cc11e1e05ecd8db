"""Links into the corpus: fetch a page, extract its article, save it as Markdown with front matter.

A saved article is `corpus/web/<slug>-<hash>.md` whose front matter holds title, source, url
(the canonical address), published (ISO date), fetched (ISO time, UTC), author and requested
(the address asked for, when it differs). The same page is never added twice: an address is
compared, after `canonical_url`, with every `url`/`requested` already in the corpus, before
fetching (the address asked for) and after (where redirects led and the page's canonical link).
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import frontmatter

from bot.article import HTML_SUFFIXES, Article, NoArticleError, extract_article
from bot.corpus import iter_corpus_files
from bot.errors import FetchError
from bot.fetch import PAGE_TYPES, Fetcher, canonical_url

log = logging.getLogger(__name__)

#: Folder inside the corpus where fetched articles are saved.
WEB_FOLDER = "web"
_FRONT_URL = re.compile(r"^(?:url|requested):\s*['\"]?(\S+?)['\"]?\s*$", re.M)
_CANONICAL_LINK = re.compile(r"<link[^>]+rel=[\"']?canonical[\"']?[^>]*>", re.I)
_HREF = re.compile(r"href=[\"']?([^\"' >]+)", re.I)


@dataclass(frozen=True)
class Added:
    """An article saved into the corpus: the address asked for, the file (relative to the
    corpus), and what the citations will show."""

    requested: str
    path: str
    title: str
    source: str | None
    published: str | None


@dataclass(frozen=True)
class Refused:
    """An address not added, and why (`duplicate` True when it was already in the corpus)."""

    requested: str
    reason: str
    duplicate: bool = False


@dataclass(frozen=True)
class AddReport:
    """What `add_urls` did, in the order the addresses were given."""

    added: tuple[Added, ...] = ()
    refused: tuple[Refused, ...] = field(default_factory=tuple)

    def lines(self) -> list[str]:
        """One line per address, for people."""
        out = [f"added: {a.title} ({' · '.join(x for x in (a.source, a.published) if x) or 'no outlet or date'})"
               f" → {a.path}" for a in self.added]
        out += [f"{'already in the corpus' if r.duplicate else 'failed'}: {r.requested}: {r.reason}"
                for r in self.refused]
        return out


def _canon(url: str) -> str | None:
    try:
        return canonical_url(url)
    except FetchError:
        return None


def known_urls(corpus_dir: Path) -> dict[str, str]:
    """Canonical address → corpus file (relative) for every article whose address is known:
    `url`/`requested` in front matter, the canonical link of a saved web page."""
    out: dict[str, str] = {}
    if not corpus_dir.is_dir():
        return out
    for path in iter_corpus_files(corpus_dir):
        rel = path.relative_to(corpus_dir).as_posix()
        try:
            head = path.read_bytes()[:16384].decode("utf-8", "replace")
        except OSError:
            continue
        if path.suffix.lower() in HTML_SUFFIXES:
            urls = [m.group(1) for tag in _CANONICAL_LINK.findall(head) for m in [_HREF.search(tag)] if m]
        elif head.startswith("---"):
            front = head.split("\n---", 1)[0]
            urls = _FRONT_URL.findall(front)
        else:
            urls = []
        for url in urls:
            canon = _canon(url)
            if canon:
                out.setdefault(canon, rel)
    return out


def _slug(title: str) -> str:
    words = re.findall(r"[a-z0-9]+", title.lower())
    return "-".join(words)[:60].strip("-") or "article"


def save_article(article: Article, corpus_dir: Path, requested: str, fallback_published: str | None = None) -> Path:
    """Write `article` as Markdown with front matter under `corpus_dir/web/`, atomically
    (temporary file, then `os.replace`). Returns the new file's path."""
    url = article.url or requested
    folder = corpus_dir / WEB_FOLDER
    folder.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha1((_canon(url) or url).encode("utf-8")).hexdigest()[:10]
    path = folder / f"{_slug(article.title)}-{digest}.md"
    meta: dict[str, object] = {"title": article.title}
    if article.source:
        meta["source"] = article.source
    meta["url"] = url
    if _canon(requested) != _canon(url):
        meta["requested"] = requested
    published = article.published or fallback_published
    if published:
        meta["published"] = published
    meta["fetched"] = datetime.now(UTC).isoformat(timespec="seconds")
    if article.author:
        meta["author"] = article.author
    lines = article.text.splitlines()
    body = "# " + lines[0] + "\n\n" + "\n\n".join(lines[1:]) + "\n"
    post = frontmatter.Post(body)
    post.metadata.update(meta)
    text = frontmatter.dumps(post, sort_keys=False) + "\n"
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)
    return path


def add_url(url: str, corpus_dir: Path, fetcher: Fetcher, known: dict[str, str],
            fallback_published: str | None = None) -> Added | Refused:
    """Fetch one address and save its article unless the corpus already has it. `known` (from
    `known_urls`) is updated with what is added. Never raises for a bad address or page."""
    url = url.strip().strip("<>")
    try:
        canon = canonical_url(url)
    except FetchError as exc:
        return Refused(url, str(exc))
    if canon in known:
        return Refused(url, f"already in the corpus as {known[canon]}", duplicate=True)
    try:
        resp = fetcher.get(url, kinds=PAGE_TYPES)
        article = extract_article(resp.body, resp.url)
    except FetchError as exc:
        return Refused(url, str(exc).removeprefix(f"{url}: "))
    except NoArticleError as exc:
        return Refused(url, str(exc))
    for other in (resp.url, article.url):
        other_canon = _canon(other) if other else None
        if other_canon and other_canon in known:
            known[canon] = known[other_canon]
            return Refused(url, f"already in the corpus as {known[other_canon]}", duplicate=True)
    path = save_article(article, corpus_dir, url, fallback_published)
    rel = path.relative_to(corpus_dir).as_posix()
    for key in {canon, _canon(resp.url), _canon(article.url or url)}:
        if key:
            known[key] = rel
    log.info("added %s as %s", url, rel)
    return Added(url, rel, article.title, article.source, article.published or fallback_published)


def add_urls(urls: Iterable[str], corpus_dir: Path, fetcher: Fetcher) -> AddReport:
    """Add each address in turn (see `add_url`); one bad address never stops the rest."""
    known = known_urls(corpus_dir)
    added: list[Added] = []
    refused: list[Refused] = []
    for url in urls:
        result = add_url(url, corpus_dir, fetcher, known)
        (added if isinstance(result, Added) else refused).append(result)  # type: ignore[arg-type]
    return AddReport(tuple(added), tuple(refused))
