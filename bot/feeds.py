"""Feeds: poll RSS/Atom feeds, save their new items' articles into the corpus.

Parsing is feedparser's (RSS 0.9x-2.0, RSS 1.0, Atom 0.3/1.0). Requests are conditional (ETag,
Last-Modified). What was seen lives in a SQLite store under `DATA_DIR` (never inside the index
folder, which a rebuild replaces): each feed's validators and failures, each item's state, so
nothing is fetched twice across restarts. A feed or item that fails is retried later with
exponential backoff (the poll interval doubled per failure, at most `MAX_BACKOFF_SECONDS`); one
bad item never stops the rest, and nothing already in the corpus is touched.
"""

from __future__ import annotations

import logging
import sqlite3
import time
from collections.abc import Callable, Sequence
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path

from bot.dates import iso_date
from bot.errors import FetchError
from bot.fetch import FEED_TYPES, Fetcher
from bot.ingest import Added, Refused, add_url, known_urls

log = logging.getLogger(__name__)

STORE_NAME = "feeds.sqlite3"
MAX_BACKOFF_SECONDS = 24 * 3600.0
#: An item whose page failed this many times is given up (its state stays `failed`).
MAX_ITEM_ATTEMPTS = 5
#: Items read from one feed per round (newest first, as feeds list them).
MAX_ITEMS_PER_FEED = 50

_SCHEMA = """
CREATE TABLE IF NOT EXISTS feeds (
    url TEXT PRIMARY KEY, etag TEXT, last_modified TEXT, failures INTEGER NOT NULL DEFAULT 0,
    retry_at REAL NOT NULL DEFAULT 0, last_error TEXT, checked_at REAL);
CREATE TABLE IF NOT EXISTS items (
    key TEXT PRIMARY KEY, feed TEXT NOT NULL, link TEXT, state TEXT NOT NULL,
    failures INTEGER NOT NULL DEFAULT 0, retry_at REAL NOT NULL DEFAULT 0, reason TEXT, path TEXT,
    seen_at REAL NOT NULL);
"""


def backoff(failures: int, base_seconds: float) -> float:
    """Seconds to wait after `failures` failures in a row: `base * 2**(failures-1)`, capped."""
    return min(base_seconds * 2 ** max(failures - 1, 0), MAX_BACKOFF_SECONDS)


class FeedStore:
    """The persistent record of feeds and items (SQLite, one file under `data_dir`)."""

    def __init__(self, data_dir: Path) -> None:
        data_dir.mkdir(parents=True, exist_ok=True)
        self.path = data_dir / STORE_NAME
        with closing(self._connect()) as db, db:
            db.executescript(_SCHEMA)

    def _connect(self) -> sqlite3.Connection:
        return sqlite3.connect(self.path, timeout=30)

    def feed(self, url: str) -> sqlite3.Row | None:
        with closing(self._connect()) as db:
            db.row_factory = sqlite3.Row
            return db.execute("SELECT * FROM feeds WHERE url = ?", (url,)).fetchone()  # type: ignore[no-any-return]

    def feed_ok(self, url: str, etag: str | None, last_modified: str | None, now: float) -> None:
        with closing(self._connect()) as db, db:
            db.execute("INSERT INTO feeds (url, etag, last_modified, failures, retry_at, last_error, checked_at)"
                       " VALUES (?, ?, ?, 0, 0, NULL, ?) ON CONFLICT(url) DO UPDATE SET"
                       " etag = COALESCE(excluded.etag, etag),"
                       " last_modified = COALESCE(excluded.last_modified, last_modified),"
                       " failures = 0, retry_at = 0, last_error = NULL, checked_at = excluded.checked_at",
                       (url, etag, last_modified, now))

    def feed_failed(self, url: str, reason: str, now: float, base: float) -> float:
        """Record a failure; returns when to try again (epoch seconds)."""
        row = self.feed(url)
        failures = (row["failures"] if row else 0) + 1
        retry = now + backoff(failures, base)
        with closing(self._connect()) as db, db:
            db.execute("INSERT INTO feeds (url, failures, retry_at, last_error, checked_at) VALUES (?, ?, ?, ?, ?)"
                       " ON CONFLICT(url) DO UPDATE SET failures = excluded.failures,"
                       " retry_at = excluded.retry_at, last_error = excluded.last_error,"
                       " checked_at = excluded.checked_at", (url, failures, retry, reason, now))
        return retry

    def item(self, key: str) -> sqlite3.Row | None:
        with closing(self._connect()) as db:
            db.row_factory = sqlite3.Row
            return db.execute("SELECT * FROM items WHERE key = ?", (key,)).fetchone()  # type: ignore[no-any-return]

    def item_done(self, key: str, feed: str, link: str, state: str, reason: str | None, path: str | None,
                  failures: int, retry_at: float, now: float) -> None:
        with closing(self._connect()) as db, db:
            db.execute("INSERT OR REPLACE INTO items (key, feed, link, state, failures, retry_at, reason, path,"
                       " seen_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                       (key, feed, link, state, failures, retry_at, reason, path, now))


@dataclass
class FeedRound:
    """What one polling round did: articles added, items refused or failed, feeds that failed
    (`url: reason`), feeds unchanged (HTTP 304) and feeds waiting out a backoff."""

    added: list[Added] = field(default_factory=list)
    refused: list[Refused] = field(default_factory=list)
    failed_feeds: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    waiting: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        """One line per event, for people and the log."""
        out = [f"added: {a.title} ({' · '.join(x for x in (a.source, a.published) if x) or 'no outlet or date'})"
               f" → {a.path}" for a in self.added]
        out += [f"item {'already in the corpus' if r.duplicate else 'failed'}: {r.requested}: {r.reason}"
                for r in self.refused]
        out += [f"feed failed: {f}" for f in self.failed_feeds]
        out += [f"feed unchanged: {f}" for f in self.unchanged]
        out += [f"feed waiting (backoff): {f}" for f in self.waiting]
        return out


def _entries(body: bytes) -> list[tuple[str, str, str | None]]:
    """`(key, link, published ISO)` of each item, in feed order.

    Raises:
        FetchError: the body is not an RSS or Atom feed.
    """
    import feedparser

    parsed = feedparser.parse(body)
    if not parsed.get("version") and not parsed.entries:
        raise FetchError("not an RSS or Atom feed")
    out = []
    for entry in parsed.entries[:MAX_ITEMS_PER_FEED]:
        link = entry.get("link")
        if not link:
            continue
        key = entry.get("id") or link
        stamp = entry.get("published_parsed") or entry.get("updated_parsed")
        published = f"{stamp.tm_year:04d}-{stamp.tm_mon:02d}-{stamp.tm_mday:02d}" if stamp else None
        out.append((str(key), str(link), iso_date(published)))
    return out


def poll_feeds(feeds: Sequence[str], corpus_dir: Path, store: FeedStore, fetcher: Fetcher,
               poll_minutes: float, clock: Callable[[], float] = time.time) -> FeedRound:
    """One round over `feeds`: fetch each (conditionally) unless it is backing off, and add the
    article of every item not seen before. Never raises for a bad feed or item."""
    result = FeedRound()
    base = poll_minutes * 60.0
    known = known_urls(corpus_dir)
    for url in feeds:
        now = clock()
        row = store.feed(url)
        if row is not None and row["retry_at"] > now:
            result.waiting.append(url)
            continue
        try:
            resp = fetcher.get(url, kinds=FEED_TYPES, etag=row["etag"] if row else None,
                               last_modified=row["last_modified"] if row else None)
            if resp.status == 304:
                store.feed_ok(url, resp.etag, resp.last_modified, now)
                result.unchanged.append(url)
                continue
            entries = _entries(resp.body)
        except FetchError as exc:
            reason = str(exc).removeprefix(f"{url}: ")
            retry = store.feed_failed(url, reason, now, base)
            log.warning("feed %s failed: %s (next try in %.0f s)", url, reason, retry - now)
            result.failed_feeds.append(f"{url}: {reason}")
            continue
        store.feed_ok(url, resp.etag, resp.last_modified, now)
        for key, link, published in entries:
            _poll_item(url, key, link, published, corpus_dir, store, fetcher, known, base, clock(), result)
    return result


def _poll_item(feed: str, key: str, link: str, published: str | None, corpus_dir: Path, store: FeedStore,
               fetcher: Fetcher, known: dict[str, str], base: float, now: float, result: FeedRound) -> None:
    row = store.item(key)
    if row is not None and (row["state"] != "failed" or row["retry_at"] > now
                            or row["failures"] >= MAX_ITEM_ATTEMPTS):
        return  # seen: saved, already in the corpus, waiting out a backoff, or given up
    outcome = add_url(link, corpus_dir, fetcher, known, fallback_published=published)
    if isinstance(outcome, Added):
        store.item_done(key, feed, link, "saved", None, outcome.path, 0, 0, now)
        result.added.append(outcome)
    elif outcome.duplicate:
        store.item_done(key, feed, link, "duplicate", outcome.reason, None, 0, 0, now)
        result.refused.append(outcome)
    else:
        failures = (row["failures"] if row else 0) + 1
        store.item_done(key, feed, link, "failed", outcome.reason, None, failures,
                        now + backoff(failures, base), now)
        log.warning("feed item %s failed (%d): %s", link, failures, outcome.reason)
        result.refused.append(outcome)
