"""Polite, bounded HTTP fetching for links and feeds (standard library only).

Every request: a clear User-Agent, a timeout on the whole response (not only per read), a size
cap, the content type checked, at most `MAX_REDIRECTS` redirects (each hop checked again), and
robots.txt obeyed (`urllib.robotparser`, one fetch per host per `Fetcher`). Conditional requests
(ETag / Last-Modified) are supported for feeds. Failures raise `FetchError` with the reason.
"""

from __future__ import annotations

import logging
import socket
import time
import urllib.error
import urllib.request
import urllib.robotparser
from dataclasses import dataclass, field
from email.message import Message
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

from bot.errors import FetchError

log = logging.getLogger(__name__)

USER_AGENT = "newsqa-bot/0.1 (+https://github.com/; cites news articles; respects robots.txt)"
MAX_REDIRECTS = 5
PAGE_TYPES = frozenset({"text/html", "application/xhtml+xml"})
FEED_TYPES = frozenset({"application/rss+xml", "application/atom+xml", "application/xml", "text/xml",
                        "application/rdf+xml", "application/feed+json", "text/html"})
_TRACKING = ("utm_", "fbclid", "gclid", "mc_cid", "mc_eid", "ocid", "cmpid")
_CHUNK = 65536


def canonical_url(url: str) -> str:
    """The form of `url` two addresses of one page share: scheme and host lower-cased, default
    port, fragment, tracking parameters (utm_*, fbclid, ...) and a trailing slash dropped,
    query parameters sorted.

    Raises:
        FetchError: not an absolute http(s) URL.
    """
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not parts.hostname:
        raise FetchError(f"not a web address (http or https): {url.strip()[:200]!r}")
    host = parts.hostname.lower()
    port = parts.port
    netloc = host if port is None or (scheme, port) in (("http", 80), ("https", 443)) else f"{host}:{port}"
    path = parts.path or "/"
    if len(path) > 1:
        path = path.rstrip("/")
    query = sorted((k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True)
                   if not k.lower().startswith(_TRACKING))
    return urlunsplit((scheme, netloc, path, urlencode(query), ""))


@dataclass(frozen=True)
class Response:
    """A fetched resource: the final URL after redirects, status (200, or 304 not modified),
    media type (lower case, no parameters), body bytes, and the validators for next time."""

    url: str
    status: int
    content_type: str
    body: bytes
    etag: str | None = None
    last_modified: str | None = None
    location: str | None = None


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):  # type: ignore[no-untyped-def]
        return None  # redirects are followed by `Fetcher.get`, which checks each hop


@dataclass
class Fetcher:
    """Fetch web pages and feeds politely. One instance per round: it caches robots.txt per host.

    Args:
        timeout: seconds for one whole response (connect, headers and body).
        max_bytes: largest body accepted (bytes).
    """

    timeout: float = 10.0
    max_bytes: int = 5_000_000
    user_agent: str = USER_AGENT
    _robots: dict[str, urllib.robotparser.RobotFileParser | None] = field(default_factory=dict)
    #: Why a host's robots.txt could not be read (then nothing of it is fetched), for the message.
    _robots_unread: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._opener = urllib.request.build_opener(_NoRedirect)

    def _open(self, url: str, headers: dict[str, str], allowed: frozenset[str] | None) -> Response:
        request = urllib.request.Request(url, headers={"User-Agent": self.user_agent, **headers})
        deadline = time.monotonic() + self.timeout
        try:
            resp = self._opener.open(request, timeout=self.timeout)
        except urllib.error.HTTPError as exc:
            if exc.code in (301, 302, 303, 304, 307, 308):
                return Response(url, exc.code, "", b"", exc.headers.get("ETag"),
                                exc.headers.get("Last-Modified"), exc.headers.get("Location"))
            raise FetchError(f"{url}: HTTP {exc.code} {exc.reason}") from None
        except TimeoutError:
            raise FetchError(f"{url}: no response within {self.timeout:g} s") from None
        except urllib.error.URLError as exc:
            reason = exc.reason
            if isinstance(reason, TimeoutError | socket.timeout):
                raise FetchError(f"{url}: no response within {self.timeout:g} s") from None
            raise FetchError(f"{url}: could not connect ({reason})") from None
        except (OSError, ValueError) as exc:
            raise FetchError(f"{url}: could not connect ({exc})") from None
        with resp:
            info: Message = resp.headers
            kind = (info.get_content_type() or "").lower()
            if allowed is not None and kind not in allowed:
                raise FetchError(f"{url}: not a web page or feed ({kind or 'no content type'})")
            length = info.get("Content-Length")
            if length and length.isdigit() and int(length) > self.max_bytes:
                raise FetchError(f"{url}: larger than the {self.max_bytes:,}-byte limit ({int(length):,} bytes)")
            chunks: list[bytes] = []
            size = 0
            try:
                while True:
                    if time.monotonic() > deadline:
                        raise FetchError(f"{url}: no complete response within {self.timeout:g} s")
                    chunk = resp.read(_CHUNK)
                    if not chunk:
                        break
                    size += len(chunk)
                    if size > self.max_bytes:
                        raise FetchError(f"{url}: larger than the {self.max_bytes:,}-byte limit")
                    chunks.append(chunk)
            except TimeoutError:
                raise FetchError(f"{url}: no complete response within {self.timeout:g} s") from None
            return Response(resp.geturl() or url, resp.status, kind, b"".join(chunks),
                            info.get("ETag"), info.get("Last-Modified"))

    def allowed(self, url: str) -> bool:
        """Whether robots.txt of `url`'s host lets this User-Agent fetch it. A missing robots.txt
        (4xx) allows everything; one that cannot be read (5xx, timeout) allows nothing (RFC 9309)."""
        parts = urlsplit(url)
        root = f"{parts.scheme}://{parts.netloc}"
        if root not in self._robots:
            parser: urllib.robotparser.RobotFileParser | None = urllib.robotparser.RobotFileParser()
            try:
                resp = self._open(root + "/robots.txt", {}, None)
                if resp.status != 200:
                    parser = None  # a redirect or not-modified robots.txt: treat as missing
                else:
                    assert parser is not None
                    parser.parse(resp.body.decode("utf-8", "replace").splitlines())
            except FetchError as exc:
                if " HTTP 4" in str(exc):
                    parser = None
                else:
                    log.info("robots.txt of %s unreadable: %s", root, exc)
                    self._robots_unread[root] = str(exc).removeprefix(root + "/robots.txt: ")
                    parser = urllib.robotparser.RobotFileParser()
                    parser.disallow_all = True  # type: ignore[attr-defined]
            self._robots[root] = parser
        rules = self._robots[root]
        return rules is None or rules.can_fetch(self.user_agent, url)

    def get(self, url: str, *, kinds: frozenset[str] = PAGE_TYPES, etag: str | None = None,
            last_modified: str | None = None) -> Response:
        """GET `url`, following at most `MAX_REDIRECTS` redirects, each hop checked against
        robots.txt. `etag`/`last_modified` make the request conditional (status 304, empty body,
        when unchanged).

        Raises:
            FetchError: not http(s), blocked by robots.txt, HTTP error, too many redirects, timeout,
                larger than `max_bytes`, or a content type outside `kinds` (the message says which).
        """
        headers: dict[str, str] = {"Accept": ", ".join(sorted(kinds)) + ", */*;q=0.1"}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        current = url
        for _ in range(MAX_REDIRECTS + 1):
            canonical_url(current)  # raises for anything that is not http(s)
            if not self.allowed(current):
                root = "{0.scheme}://{0.netloc}".format(urlsplit(current))
                unread = self._robots_unread.get(root)
                if unread is not None:  # RFC 9309: an unreadable robots.txt allows nothing
                    raise FetchError(f"{current}: its site's robots.txt could not be read ({unread}), "
                                     "so the page is not fetched")
                raise FetchError(f"{current}: robots.txt does not allow fetching it")
            resp = self._open(current, headers, kinds)
            if resp.status in (301, 302, 303, 307, 308):
                if not resp.location:
                    raise FetchError(f"{current}: redirect without a Location")
                current = urljoin(current, resp.location)
                continue
            return resp
        raise FetchError(f"{url}: more than {MAX_REDIRECTS} redirects")
