"""Publication dates: read the ways articles, pages and feeds write them; show them one way.

Every date the index keeps is an ISO 8601 calendar date (`2005-01-12`), or None when unknown.
People see "12 Jan 2005".
"""

from __future__ import annotations

import re
from datetime import date, datetime
from email.utils import parsedate_to_datetime

_FORMATS = ("%d %B %Y", "%d %b %Y", "%B %d, %Y", "%b %d, %Y", "%B %d %Y", "%b %d %Y", "%Y/%m/%d",
            "%d/%m/%Y", "%d.%m.%Y", "%Y%m%d")
_ISO_PREFIX = re.compile(r"^\s*(\d{4})-(\d{2})-(\d{2})")


def iso_date(value: object) -> str | None:
    """The ISO date (`YYYY-MM-DD`) of `value`, or None when it is empty or not a date.

    Accepts `date`/`datetime` objects (YAML front matter gives these), ISO 8601 strings with or
    without a time, RFC 822 dates as RSS writes them ("Wed, 12 Jan 2005 10:00:00 GMT") and
    common written forms ("12 January 2005", "Jan 12, 2005"). A time zone is ignored: the date
    is the one the source wrote.
    """
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    text = " ".join(str(value).split())
    if not text:
        return None
    m = _ISO_PREFIX.match(text)
    if m:
        try:
            return date(int(m[1]), int(m[2]), int(m[3])).isoformat()
        except ValueError:
            return None
    try:
        return parsedate_to_datetime(text).date().isoformat()
    except (TypeError, ValueError, IndexError):
        pass
    cleaned = re.sub(r"(\d)(st|nd|rd|th)\b", r"\1", text).replace(",", ", ").replace("  ", " ")
    for fmt in _FORMATS:
        for candidate in (cleaned, text):
            try:
                return datetime.strptime(candidate.strip(), fmt).date().isoformat()
            except ValueError:
                continue
    return None


def display_date(iso: str | None) -> str | None:
    """"12 Jan 2005" for `2005-01-12`; a value that is not an ISO date is returned as is."""
    if not iso:
        return None
    try:
        d = date.fromisoformat(iso[:10])
    except ValueError:
        return iso
    return f"{d.day} {d.strftime('%b')} {d.year}"


def outlet_line(source: str | None, published: str | None) -> str:
    """"BBC News · 12 Jan 2005", or whichever half is known, or ""."""
    return " · ".join(x for x in (source, display_date(published)) if x)
