"""Links (issue 9): `add_urls` against a real HTTP server on 127.0.0.1 that the test writes.

Every failure the issue lists is here: 404, redirect (and too many), a response slower than
the timeout, one larger than the cap, a PDF, a page with no article text, the same article
under two addresses; and robots.txt. No model: these check what is saved and what is said.
"""

from __future__ import annotations

import socket
import time
from pathlib import Path

import frontmatter
import pytest

from bot.errors import FetchError
from bot.fetch import USER_AGENT, Fetcher, canonical_url
from bot.ingest import add_urls, known_urls
from tests.conftest import STORY
from tests.web_server import WebServer

WIRE = (STORY / "northern-wire-floods.html").read_text(encoding="utf-8")
HERALD = (STORY / "coastal-herald-floods.html").read_text(encoding="utf-8")
NO_ARTICLE = "<html><head><title>Log in</title></head><body><nav><a href='/'>Home</a></nav></body></html>"


def fetcher() -> Fetcher:
    return Fetcher(timeout=0.5, max_bytes=50_000)


def add_one(web: WebServer, corpus: Path, url: str) -> tuple[list, list]:  # type: ignore[type-arg]
    report = add_urls([url], corpus, fetcher())
    return list(report.added), list(report.refused)


def test_a_page_is_saved_as_markdown_with_its_metadata_and_no_boilerplate(web: WebServer, tmp_path: Path) -> None:
    url = web.page("/news/alder", WIRE)
    added, refused = add_one(web, tmp_path, url)
    assert refused == [] and len(added) == 1
    saved = tmp_path / added[0].path
    assert saved.parent.name == "web" and saved.suffix == ".md"
    post = frontmatter.load(saved)
    assert post["title"] == "River Alder floods Vell valley farmland"
    assert post["source"] == "Northern Wire"
    assert post["url"] == "https://northernwire.example/news/alder-floods"  # the page's canonical link
    assert post["requested"] == url
    assert str(post["published"]) == "2025-01-12"
    assert post["author"] == "Mara Lindqvist" and post["fetched"]
    assert "about 90 square kilometres of farmland" in post.content
    for boilerplate in ("cookies", "Related stories", "Storm warning", "Terrible news", "Copyright", "Sport"):
        assert boilerplate not in saved.read_text(encoding="utf-8")
    assert web.requests[-1].headers["user-agent"] == USER_AGENT


def test_a_redirect_is_followed_and_the_final_page_saved(web: WebServer, tmp_path: Path) -> None:
    web.page("/final", HERALD)
    web.redirect("/short", "/final")
    added, refused = add_one(web, tmp_path, web.url("/short"))
    assert refused == [] and added[0].source == "Coastal Herald"
    assert web.hits("/final") == 1


@pytest.mark.parametrize(("setup", "reason"), [
    pytest.param(lambda w: w.url("/missing"), "HTTP 404", id="404"),
    pytest.param(lambda w: [w.redirect(f"/r{i}", f"/r{i + 1}") for i in range(8)][0], "more than 5 redirects",
                 id="redirect loop"),
    pytest.param(lambda w: w.page("/slow", WIRE, delay=2.0), "no response within 0.5 s", id="slow"),
    pytest.param(lambda w: w.page("/big", "<p>" + "x" * 60_000 + "</p>"), "larger than the 50,000-byte limit",
                 id="oversize"),
    pytest.param(lambda w: w.page("/report.pdf", b"%PDF-1.7\n%binary", content_type="application/pdf"),
                 "not a web page or feed (application/pdf)", id="pdf"),
    pytest.param(lambda w: w.page("/login", NO_ARTICLE), "the page has no article text", id="no article text"),
    pytest.param(lambda w: "ftp://example.com/a", "not a web address", id="not http"),
])
def test_a_bad_address_is_refused_with_the_reason_and_nothing_is_saved(
        web: WebServer, tmp_path: Path, setup, reason: str) -> None:  # type: ignore[no-untyped-def]
    url = setup(web)
    t0 = time.monotonic()
    added, refused = add_one(web, tmp_path, url)
    assert time.monotonic() - t0 < 5
    assert added == [] and len(refused) == 1 and not refused[0].duplicate
    assert reason in refused[0].reason
    assert not list(tmp_path.rglob("*.md"))


def test_one_bad_address_does_not_stop_the_others(web: WebServer, tmp_path: Path) -> None:
    report = add_urls([web.url("/missing"), web.page("/ok", WIRE)], tmp_path, fetcher())
    assert [a.requested for a in report.added] == [web.url("/ok")]
    assert [r.requested for r in report.refused] == [web.url("/missing")]


def test_the_same_article_under_two_addresses_is_added_once(web: WebServer, tmp_path: Path) -> None:
    first = web.page("/story", WIRE)
    web.page("/amp/story", WIRE)  # another address, same page (same canonical link)
    assert len(add_urls([first], tmp_path, fetcher()).added) == 1
    # The same address with tracking parameters and a fragment: refused before fetching.
    report = add_urls([first + "?utm_source=feed&utm_medium=rss#top", web.url("/amp/story")], tmp_path, fetcher())
    assert report.added == ()
    assert [r.duplicate for r in report.refused] == [True, True]
    assert all("already in the corpus as web/" in r.reason for r in report.refused)
    assert web.hits("/story") == 1 and web.hits("/amp/story") == 1
    assert len(list(tmp_path.rglob("*.md"))) == 1


def test_robots_txt_is_respected(web: WebServer, tmp_path: Path) -> None:
    web.page("/robots.txt", "User-agent: *\nDisallow: /private/\n", content_type="text/plain")
    blocked = web.page("/private/story", WIRE)
    allowed = web.page("/public/story", HERALD)
    report = add_urls([blocked, allowed], tmp_path, fetcher())
    assert [a.requested for a in report.added] == [allowed]
    assert "robots.txt does not allow" in report.refused[0].reason
    assert web.hits("/private/story") == 0 and web.hits("/robots.txt") == 1


def test_a_host_that_cannot_be_reached_is_reported_as_such_not_as_robots_refusal(tmp_path: Path) -> None:
    with socket.socket() as probe:  # a loopback port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    report = add_urls([f"http://127.0.0.1:{port}/story"], tmp_path, fetcher())
    assert report.added == ()
    reason = report.refused[0].reason
    assert "could not connect" in reason and "does not allow" not in reason


@pytest.mark.parametrize(("url", "canonical"), [
    ("HTTP://Example.COM:80/a/", "http://example.com/a"),
    ("https://example.com:443/a?b=2&a=1#x", "https://example.com/a?a=1&b=2"),
    ("https://example.com/a?utm_source=x&id=3&fbclid=y", "https://example.com/a?id=3"),
    ("https://example.com", "https://example.com/"),
    ("http://127.0.0.1:8080/x", "http://127.0.0.1:8080/x"),
])
def test_canonical_url(url: str, canonical: str) -> None:
    assert canonical_url(url) == canonical


@pytest.mark.parametrize("url", ["mailto:a@b.c", "/relative", "javascript:alert(1)", ""])
def test_canonical_url_refuses_what_is_not_a_web_address(url: str) -> None:
    with pytest.raises(FetchError):
        canonical_url(url)


def test_known_urls_reads_saved_articles_and_html_pages(tmp_path: Path) -> None:
    (tmp_path / "a.html").write_text(WIRE, encoding="utf-8")
    (tmp_path / "b.md").write_text("---\ntitle: B\nurl: https://b.example/x/\n---\nBody.\n", encoding="utf-8")
    assert known_urls(tmp_path) == {"https://northernwire.example/news/alder-floods": "a.html",
                                    "https://b.example/x": "b.md"}
