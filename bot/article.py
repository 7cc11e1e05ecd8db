"""Web pages to articles: the main text and metadata of one HTML page, boilerplate left out.

Extraction is trafilatura's (Barbaresi 2021, "Trafilatura: A Web Scraping Library and
Command-Line Tool for Text Discovery and Extraction", ACL demos; the best-scoring open extractor
in its own and ScrapingHub's article-extraction benchmarks). It keeps the article body and drops
menus, cookie banners, "related stories", comments and footers; dates come from its htmldate.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from urllib.parse import urlsplit

from bot.dates import iso_date

log = logging.getLogger(__name__)

#: An extraction shorter than this (characters) is not an article (a login page, an index page).
MIN_ARTICLE_CHARS = 80
HTML_SUFFIXES = frozenset({".html", ".htm"})


class NoArticleError(ValueError):
    """The page has no article text to index (the message says why)."""


@dataclass(frozen=True)
class Article:
    """One extracted article. `text` is the body, one paragraph a line, the headline first;
    `published` is an ISO date; `source` the outlet (site name, else the host name);
    `url` the canonical address the page gives (else the one it was read from)."""

    title: str
    text: str
    source: str | None = None
    url: str | None = None
    published: str | None = None
    author: str | None = None


def _clean(value: object) -> str | None:
    text = " ".join(str(value).split()) if value is not None else ""
    return text or None


def extract_article(html: str | bytes, url: str | None = None) -> Article:
    """Extract the article of one HTML page.

    Args:
        html: the page, decoded or as bytes (trafilatura detects the encoding of bytes).
        url: the address it was read from, used for relative canonical links and as a fallback.

    Raises:
        NoArticleError: the page holds no article text (under `MIN_ARTICLE_CHARS` characters).
    """
    import trafilatura

    doc = trafilatura.bare_extraction(
        html, url=url, with_metadata=True, include_comments=False, include_tables=False,
        include_images=False, deduplicate=False,
        date_extraction_params={"extensive_search": False, "original_date": True},
    )
    body = (getattr(doc, "text", None) or "").strip() if doc is not None else ""
    lines = [" ".join(line.split()) for line in body.splitlines()]
    lines = [line for line in lines if line]
    if sum(len(line) for line in lines) < MIN_ARTICLE_CHARS:
        raise NoArticleError("the page has no article text")
    title = _clean(getattr(doc, "title", None)) or lines[0][:200]
    if lines[0] != title:
        lines.insert(0, title)
    page_url = _clean(getattr(doc, "url", None)) or url
    if page_url and urlsplit(page_url).scheme not in ("http", "https"):
        page_url = url
    source = _clean(getattr(doc, "sitename", None))
    if source is None and page_url:
        host = urlsplit(page_url).hostname or ""
        source = host.removeprefix("www.") or None
    return Article(
        title=title,
        text="\n".join(lines),
        source=source,
        url=page_url,
        published=iso_date(getattr(doc, "date", None)),
        author=_clean(getattr(doc, "author", None)),
    )
