"""Feeds (issue 9): RSS and Atom polled from a real HTTP server on 127.0.0.1, the seen-items
store across restarts, conditional requests, backoff, and one bad item among good ones."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import Settings
from bot.feeds import FeedStore, backoff, poll_feeds
from bot.fetch import Fetcher
from tests.conftest import STORY
from tests.web_server import WebServer

PAGES = {name: (STORY / f"{name}.html").read_text(encoding="utf-8")
         for name in ("northern-wire-floods", "valley-courier-floods", "coastal-herald-floods")}


def rss(web: WebServer, *links: str) -> str:
    items = "".join(f"<item><title>Item {i}</title><link>{web.url(link)}</link><guid>{link}</guid>"
                    f"<pubDate>Sun, 12 Jan 2025 08:30:00 GMT</pubDate></item>" for i, link in enumerate(links))
    return (f'<?xml version="1.0"?><rss version="2.0"><channel><title>Wire</title><link>{web.base}</link>'
            f"<description>News</description>{items}</channel></rss>")


def atom(web: WebServer, *links: str) -> str:
    entries = "".join(f'<entry><title>E{i}</title><id>tag:herald,{link}</id><link href="{web.url(link)}"/>'
                      f"<updated>2025-03-03T06:00:00Z</updated></entry>" for i, link in enumerate(links))
    return ('<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom">'
            f"<title>Herald</title><id>tag:herald</id><updated>2025-03-03T06:00:00Z</updated>{entries}</feed>")


def poll(web: WebServer, corpus: Path, data: Path, feeds: list[str], clock: float = 1000.0):  # type: ignore[no-untyped-def]
    return poll_feeds(feeds, corpus, FeedStore(data), Fetcher(timeout=0.5, max_bytes=100_000), 1.0,
                      clock=lambda: clock)


def test_rss_and_atom_items_are_saved_once_across_restarts(web: WebServer, tmp_path: Path) -> None:
    web.page("/wire", PAGES["northern-wire-floods"])
    web.page("/courier", PAGES["valley-courier-floods"])
    web.page("/herald", PAGES["coastal-herald-floods"])
    feeds = [web.page("/rss.xml", rss(web, "/wire", "/courier"), content_type="application/rss+xml"),
             web.page("/atom.xml", atom(web, "/herald"), content_type="application/atom+xml")]
    corpus, data = tmp_path / "corpus", tmp_path / "data"
    first = poll(web, corpus, data, feeds)
    assert sorted(a.source for a in first.added) == ["Coastal Herald", "Northern Wire", "Valley Courier"]
    assert first.failed_feeds == []
    assert len(list((corpus / "web").glob("*.md"))) == 3
    second = poll(web, corpus, data, feeds, clock=5000.0)  # a new store object: as after a restart
    assert second.added == [] and second.refused == []
    assert [web.hits(p) for p in ("/wire", "/courier", "/herald")] == [1, 1, 1]
    assert (data / "feeds.sqlite3").is_file()


def test_an_unchanged_feed_is_asked_conditionally_and_answers_304(web: WebServer, tmp_path: Path) -> None:
    web.page("/wire", PAGES["northern-wire-floods"])
    feed = web.page("/rss.xml", rss(web, "/wire"), content_type="application/rss+xml", etag='"v1"')
    poll(web, tmp_path / "c", tmp_path / "d", [feed])
    again = poll(web, tmp_path / "c", tmp_path / "d", [feed], clock=5000.0)
    assert again.unchanged == [feed]
    assert web.requests[-1].headers.get("if-none-match") == '"v1"'


def test_a_failing_feed_backs_off_and_is_retried_later(web: WebServer, tmp_path: Path) -> None:
    feed = web.url("/gone.xml")  # 404
    first = poll(web, tmp_path / "c", tmp_path / "d", [feed], clock=1000.0)
    assert first.failed_feeds == [f"{feed}: HTTP 404 Not Found"]
    soon = poll(web, tmp_path / "c", tmp_path / "d", [feed], clock=1030.0)  # within 60 s backoff
    assert soon.waiting == [feed] and web.hits("/gone.xml") == 1
    web.page("/gone.xml", rss(web), content_type="application/rss+xml")
    later = poll(web, tmp_path / "c", tmp_path / "d", [feed], clock=1061.0)
    assert later.failed_feeds == [] and later.waiting == [] and web.hits("/gone.xml") == 2


def test_not_a_feed_is_reported(web: WebServer, tmp_path: Path) -> None:
    feed = web.page("/page", "<html><body><p>Hello</p></body></html>")
    result = poll(web, tmp_path / "c", tmp_path / "d", [feed])
    assert result.failed_feeds == [f"{feed}: not an RSS or Atom feed"]


def test_one_bad_item_never_stops_the_rest_and_is_retried_with_backoff(web: WebServer, tmp_path: Path) -> None:
    web.page("/herald", PAGES["coastal-herald-floods"])
    web.page("/report.pdf", b"%PDF-1.7", content_type="application/pdf")
    feed = web.page("/rss.xml", rss(web, "/missing", "/report.pdf", "/herald"), content_type="application/rss+xml")
    first = poll(web, tmp_path / "c", tmp_path / "d", [feed], clock=1000.0)
    assert [a.source for a in first.added] == ["Coastal Herald"]
    assert sorted(r.reason for r in first.refused) == ["HTTP 404 Not Found",
                                                       "not a web page or feed (application/pdf)"]
    poll(web, tmp_path / "c", tmp_path / "d", [feed], clock=1010.0)  # items still backing off
    assert web.hits("/missing") == 1
    web.page("/missing", PAGES["northern-wire-floods"])
    third = poll(web, tmp_path / "c", tmp_path / "d", [feed], clock=1100.0)
    assert [a.source for a in third.added] == ["Northern Wire"] and web.hits("/herald") == 1


def test_a_feed_item_without_a_page_date_takes_the_feed_date(web: WebServer, tmp_path: Path) -> None:
    page = PAGES["northern-wire-floods"].replace('<meta property="article:published_time" '
                                                 'content="2025-01-12T08:30:00Z">', "")
    web.page("/wire", page)
    feed = web.page("/rss.xml", rss(web, "/wire"), content_type="application/rss+xml")
    assert [a.published for a in poll(web, tmp_path / "c", tmp_path / "d", [feed]).added] == ["2025-01-12"]


@pytest.mark.parametrize(("failures", "seconds"), [(1, 60), (2, 120), (5, 960), (30, 86400)])
def test_backoff_doubles_per_failure_up_to_a_day(failures: int, seconds: float) -> None:
    assert backoff(failures, 60.0) == seconds


def test_feeds_setting_accepts_commas_and_data_dir_must_not_be_in_the_index(tmp_path: Path) -> None:
    s = Settings(_env_file=None, feeds="https://a.example/rss, https://b.example/atom")  # type: ignore[call-arg]
    assert s.feeds == ["https://a.example/rss", "https://b.example/atom"]
    with pytest.raises(ValueError, match="DATA_DIR"):
        Settings(_env_file=None, index_dir=tmp_path / "index", data_dir=tmp_path / "index" / "data")  # type: ignore[call-arg]
