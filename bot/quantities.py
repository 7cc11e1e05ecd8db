"""Quantity grammar: find the figures and dates written in one sentence of news English.

Pure and rule-based (no model): digits with thousands separators (comma, space, no-break
space), scale words and suffixes (thousand, million, bn, m), currencies, percentages, areas,
lengths, weights, durations, ranges, qualifiers, vague magnitudes ("thousands of") and dates
(years, periods, months, full dates). What a figure counts is decided later, in `bot.stats`.

Checked against `quantulum3` first (issue 4): it crashed on unit disambiguation and read
"386 sq miles" as a bare number, so the grammar is our own.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

Number = int | float

MONTHS = {m: i for i, m in enumerate(
    ["january", "february", "march", "april", "may", "june", "july", "august", "september",
     "october", "november", "december"], start=1)}
_MONTH_ABBR = {m[:3]: i for m, i in MONTHS.items()} | {"sept": 9}
_MONTH = r"(?:January|February|March|April|May|June|July|August|September|October|November|December" \
         r"|(?:Jan|Feb|Mar|Apr|Aug|Sept?|Oct|Nov|Dec)\.?)"
_WEEKDAY = r"(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)"

# Dates, most specific first; each match's span is taken out of the number scan.
_DATE_PATTERNS: list[tuple[str, re.Pattern[str]]] = [
    ("mdy", re.compile(rf"\b({_MONTH})\s+(\d{{1,2}}),?\s+(\d{{4}})\b")),
    ("dmy", re.compile(rf"\b(\d{{1,2}})\s+({_MONTH})\s+(\d{{4}})\b")),
    ("my", re.compile(rf"\b({_MONTH})\s+(\d{{4}})\b")),
    ("span", re.compile(r"\b(?:between|from)\s+((?:1[89]|20)\d{2})\s+(?:and|to|until)\s+"
                        r"((?:1[89]|20)\d{2})\b")),
    ("period", re.compile(r"(?<![\d,.£$€])\b((?:1[89]|20)\d{2})\s?[-–/]\s?(\d{4}|\d{1,2})\b"
                          r"(?![-–/%]|\s?per)")),
    ("year", re.compile(r"(?<![\d,.£$€¥])\b(1[6-9]\d{2}|20\d{2})\b"
                        r"(?![,.]\d|\s?%|\s?(?:per\s?cent|percent|GMT|BST)\b)")),
]
#: Four digits in a row: each of `_DATE_PATTERNS` needs them (a year).
_FOUR_DIGITS = re.compile(r"\d{4}")
#: A month, weekday or "month day" without a year: the date of a figure, never a stat itself.
_LOOSE_DATE = re.compile(rf"\b(?:(?:{_MONTH})(?:\s+\d{{1,2}}\b)?|\d{{1,2}}\s+(?:{_MONTH})|{_WEEKDAY})(?!\w)")

_NUM = re.compile(
    r"(?<![\w.,/:])(\d{1,3}(?:,\d{3})+(?!\d)|\d{1,3}(?:[ \u00a0\u202f]\d{3})+(?![\d,])|\d+)(\.\d+)?(?![\d])"
)
_WORD_NUM: dict[str, int | Decimal] = {
    "a": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
    "nine": 9, "ten": 10, "twenty": 20, "half a": Decimal("0.5")}
#: Number words only count when a scale word follows ("two million", "half a billion").
_WORD_SCALED = re.compile(
    r"\b(half a|a|one|two|three|four|five|six|seven|eight|nine|ten|twenty)\s+"
    r"(thousand|million|billion|trillion)\b",
    re.I)
_WORD_RANGE_START = re.compile(
    r"\b(between\s+)?(a|one|two|three|four|five|six|seven|eight|nine|ten|twenty)\s+(and|to|or|-)\s+$", re.I)
_VAGUE = re.compile(
    r"\b((?:several\s+|many\s+)?(?:tens|hundreds)\s+of\s+(?:thousands|millions)|(?:several\s+)?"
    r"(?:dozens|scores|hundreds|thousands|millions|billions))\s+of\b", re.I)
_SCALE_WORDS = {"thousand": 10**3, "million": 10**6, "billion": 10**9, "trillion": 10**12}
_SCALE_SUFFIX = {"k": 10**3, "m": 10**6, "mn": 10**6, "bn": 10**9, "tn": 10**12}
_SCALE = re.compile(r"(?:\s(thousand|million|billion|trillion)\b|(k|m|mn|bn|tn)(?![\w]))", re.I)
_CURRENCY_PREFIX = re.compile(r"(US\$|A\$|C\$|HK\$|NZ\$|\$|£|€|¥|Rs\.?\s?)\s?$")
_CURRENCY_SYMBOL = {"US$": "USD", "$": "USD", "A$": "AUD", "C$": "CAD", "HK$": "HKD", "NZ$": "NZD",
                    "£": "GBP", "€": "EUR", "¥": "JPY", "Rs": "INR"}
# (pattern after the number, canonical unit). Order matters: longer forms first.
_UNITS: list[tuple[re.Pattern[str], str]] = [(re.compile(p, re.I), u) for p, u in [
    (r"\s?(?:%|per\s?cent\b|percent\b)", "%"),
    (r"\spercentage\spoints?\b", "percentage points"),
    (r"[\s-](?:sq\.?\s?km|square[\s-]kilomet(?:re|er)s?|km2|km²)(?!\w)", "km²"),
    (r"[\s-](?:sq\.?\s?mi(?:les?)?|square[\s-]miles?)(?!\w)", "mi²"),
    (r"[\s-]hectares?\b", "ha"),
    (r"[\s-]acres?\b", "acres"),
    (r"[\s-]?(?:km|kilomet(?:re|er)s?)(?!\w)", "km"),
    (r"[\s-]miles?\b", "mi"),
    (r"[\s-]?(?:tonnes?|tons?)\b", "tonnes"),
    (r"[\s-]?(?:kg|kilogram(?:me)?s?)\b", "kg"),
    (r"(?:\s|-)(?:metres?|meters?)\b", "m"),
    (r"[\s-](?:years?|months?|weeks?|days?|hours?|minutes?|seconds?)\b(?!\s+ago\b|-old)", "duration"),
    (r"\s(?:US\s)?dollars\b", "USD"),
    (r"\s(?:pounds|sterling)\b", "GBP"),
    (r"\seuros?\b", "EUR"),
    (r"\syen\b", "JPY"),
    (r"\srupees\b", "INR"),
    (r"\syuan\b", "CNY"),
]]
#: Athletics distances: "100m" here is metres, not a million.
_METRE_DISTANCES = {50, 60, 100, 110, 200, 400, 800, 1500, 3000, 5000, 10000}
QUALIFIERS = ("an estimated", "approximately", "at least", "more than", "less than", "fewer than",
              "as many as", "as much as", "up to", "just over", "just under", "well over",
              "close to", "upwards of", "nearly", "almost", "about", "around", "over", "roughly",
              "some", "under", "estimated", "below", "above", "around")
_QUALIFIER = re.compile(r"\b(" + "|".join(sorted(set(QUALIFIERS), key=len, reverse=True)) + r")\s+$", re.I)
#: After the digits: ages, clock times, "10 years ago", ordinals.
_NOT_A_FIGURE = re.compile(r"(?:-year-old|\s?(?:am|pm|GMT|BST)\b|[:.]\d|\s+ago\b|\s+\w+\s+ago\b|"
                           r"(?:st|nd|rd|th)\b)", re.I)
_RANGE_JOIN = re.compile(r"\s?(?:-|–|—|to|and|or)\s?")
#: "rose from 10 to 20" is a change (two figures); "from 10 to 20 people died" is a range.
_CHANGE_VERB = re.compile(r"\b(?:rose|rise[sn]?|rising|fell|fall(?:s|en|ing)?|increas\w*|decreas\w*|grew|grow\w*"
                          r"|drop\w*|climb\w*|jump\w*|cut|rais\w*|lower\w*|reduc\w*|went|gone|chang\w*"
                          r"|revis\w*|mov\w*|shr[au]nk|doubl\w*|tripl\w*|slipp?\w*|surg\w*|soar\w*|plung\w*"
                          r"|declin\w*|up|down|widen\w*|narrow\w*|extend\w*|expand\w*)\b[\w\s,]{0,25}from$", re.I)


#: Capitalised words that open a sentence before a figure without naming it ("In 12 cases").
_OPENING_WORDS = frozenset({"in", "on", "at", "of", "for", "only", "all", "just", "another", "by", "with",
                            "from", "to", "after", "before", "and", "but", "the", "a", "an", "those", "these",
                            "its", "their", "his", "her", "our", "than", "since", "until", "some", "nearly",
                            "almost", "about", "around", "roughly", "over", "under", "at least", "exactly",
                            "more", "fewer", "less", "barely", "fully", "perhaps", "maybe", "every",
                            "last", "first", "next", "within", "during", "across", "among", "between"})


@dataclass(frozen=True)
class Quantity:
    """One figure in a sentence.

    `value` is set for a single figure, `low`/`high` for a range (both ends kept, never
    averaged); all three are None for a vague magnitude ("thousands of"). Scales are applied
    (`£1.6m` → 1600000). `unit` is canonical: "count", "%", "km²", "mi²", "km", "mi", "m",
    "tonnes", "kg", "ha", "acres", "duration", a currency code (GBP, USD, EUR...), or "date"
    (then `date` holds ISO text: "2024", "2024-08", "2024-08-06", "2024/2025").
    `start`/`end` are character offsets in the sentence; `alts` is the same figure in other
    units given in brackets right after it ("90 square kilometers (35 square miles)").
    """

    text: str
    start: int
    end: int
    unit: str
    value: Number | None = None
    low: Number | None = None
    high: Number | None = None
    qualifier: str | None = None
    date: str | None = None
    alts: tuple[Quantity, ...] = ()

    @property
    def is_range(self) -> bool:
        return self.low is not None and self.high is not None


def _number(digits: str, decimals: str | None) -> Decimal:
    return Decimal(re.sub(r"[,\s\u00a0\u202f]", "", digits) + (decimals or ""))


def _plain(d: Decimal) -> Number:
    """A Decimal as an int when whole, else a float (JSON-friendly)."""
    return int(d) if d == d.to_integral_value() else float(d)


def _month(name: str) -> int:
    key = name.lower().rstrip(".")
    return MONTHS.get(key) or _MONTH_ABBR[key[:4] if key.startswith("sept") else key[:3]]


def find_dates(sentence: str) -> list[Quantity]:
    """The dates with a year in `sentence`: full dates, month and year, periods, years.

    A period ("2024–25", "2004/05") is one date "2024/2025", not a range of numbers.
    """
    if _FOUR_DIGITS.search(sentence) is None:  # every pattern holds a year: most sentences have none
        return []
    found: list[Quantity] = []
    taken: list[tuple[int, int]] = []
    for kind, pattern in _DATE_PATTERNS:
        for m in pattern.finditer(sentence):
            if any(m.start() < e and s < m.end() for s, e in taken):
                continue
            g = m.groups()
            if kind == "mdy":
                iso = f"{int(g[2]):04d}-{_month(g[0]):02d}-{int(g[1]):02d}"
            elif kind == "dmy":
                iso = f"{int(g[2]):04d}-{_month(g[1]):02d}-{int(g[0]):02d}"
            elif kind == "my":
                iso = f"{int(g[1]):04d}-{_month(g[0]):02d}"
            elif kind == "span":
                if int(g[1]) <= int(g[0]):
                    continue
                iso = f"{g[0]}/{g[1]}"
            elif kind == "period":
                end = g[1] if len(g[1]) == 4 else g[0][:4 - len(g[1])] + g[1]
                if int(end) <= int(g[0]):
                    continue
                iso = f"{g[0]}/{end}"
            else:
                iso = g[0]
            taken.append(m.span())
            found.append(Quantity(m.group(0), m.start(), m.end(), "date", date=iso))
    return sorted(found, key=lambda q: q.start)


def loose_date(sentence: str) -> str | None:
    """A month or weekday the sentence names without a year ("in January", "on Sunday")."""
    m = _LOOSE_DATE.search(sentence)
    return m.group(0) if m else None


def _qualifier(sentence: str, start: int) -> tuple[str | None, int]:
    m = _QUALIFIER.search(sentence[max(0, start - 20):start])
    if not m:
        return None, start
    return m.group(1).lower(), start - (len(sentence[max(0, start - 20):start]) - m.start())


def _unit_after(sentence: str, pos: int, value: Decimal, currency: str | None) -> tuple[str, Decimal, int]:
    """Read scale and unit after a number ending at `pos`: (unit, scaled value, new end)."""
    unit = currency or "count"
    m = _SCALE.match(sentence, pos)
    if m:
        word, suffix = m.group(1), m.group(2)
        if suffix and suffix.lower() == "m" and not currency and int(value) in _METRE_DISTANCES:
            return "m", value, m.end()
        value *= _SCALE_WORDS[word.lower()] if word else _SCALE_SUFFIX[suffix.lower()]
        pos = m.end()
    for pattern, canonical in _UNITS:
        u = pattern.match(sentence, pos)
        if u:
            if canonical in _CURRENCY_SYMBOL.values() and currency:
                return currency, value, u.end()
            return (currency or canonical), value, u.end()
    return unit, value, pos


def _one_number(sentence: str, m: re.Match[str]) -> tuple[Decimal, str | None, int, int] | None:
    """(value before scale, currency, start incl. symbol, end of digits) or None if not a figure."""
    start = m.start()
    before = sentence[max(0, start - 4):start]
    cur = _CURRENCY_PREFIX.search(before)
    currency = None
    if cur:
        currency = _CURRENCY_SYMBOL[cur.group(1).strip().rstrip(".")]
        start -= len(before) - cur.start()
    return _number(m.group(1), m.group(2)), currency, start, m.end()


#: Unit conversions shown both ways (areas and distances): unit → (other unit, factor, label).
CONVERSIONS: dict[str, tuple[str, Decimal, str]] = {
    "mi²": ("km²", Decimal("2.589988"), "km²"), "km²": ("mi²", 1 / Decimal("2.589988"), "sq mi"),
    "mi": ("km", Decimal("1.609344"), "km"), "km": ("mi", 1 / Decimal("1.609344"), "miles"),
    "ha": ("acres", Decimal("2.471054"), "acres"), "acres": ("ha", 1 / Decimal("2.471054"), "ha"),
}
#: A stated conversion may be this far (relative) from the exact one: news rounds ("roughly 1,000").
CONVERSION_TOLERANCE = Decimal("0.12")


def _round(value: Decimal) -> Number:
    """Three significant figures, as news rounds a converted value (999.7 → 1,000; 34.7 → 34.7)."""
    if value == 0:
        return 0
    digits = value.adjusted()
    q = Decimal(1).scaleb(digits - 2)
    return _plain(value.quantize(q) if digits >= 2 else value.quantize(Decimal("0.1")))


def _fmt(value: Number) -> str:
    return f"{value:,}" if isinstance(value, int) else f"{value:,.1f}".rstrip("0").rstrip(".")


def _ends(q: Quantity) -> list[Decimal]:
    return [Decimal(str(v)) for v in ((q.low, q.high) if q.is_range else (q.value,)) if v is not None]


def _converts(q: Quantity, other: Quantity) -> bool:
    """Whether `other` states `q` in its converse unit (within `CONVERSION_TOLERANCE`)."""
    conv = CONVERSIONS.get(q.unit)
    if conv is None or other.unit != conv[0]:
        return False
    mine, theirs = _ends(q), _ends(other)
    return len(mine) == len(theirs) > 0 and all(
        t and abs(m * conv[1] - t) <= CONVERSION_TOLERANCE * t for m, t in zip(mine, theirs, strict=True))


def link_conversions(sentence: str, found: list[Quantity]) -> list[Quantity]:
    """Link an area or distance with its conversion wherever the sentence states it ("a
    386-square-mile area, or roughly 1,000 sq km"), and give one with none its converted value
    (`CONVERSIONS`, three significant figures): both ways, miles and kilometres, square miles and
    square kilometres, hectares and acres. The linked conversion is not a figure of its own."""
    out = list(found)
    for i, q in enumerate(out):
        if q is None or q.unit not in CONVERSIONS:
            continue
        conv = CONVERSIONS[q.unit]
        if any(a.unit == conv[0] for a in q.alts):
            continue
        for j, other in enumerate(out):
            if j == i or other is None or not _converts(q, other):
                continue
            gap = sentence[min(q.end, other.end):max(q.start, other.start)]
            if len(gap) <= 40:
                out[i] = Quantity(f"{q.text} ({other.text})", q.start, q.end, q.unit, q.value, q.low, q.high,
                                  q.qualifier, q.date, (*q.alts, other))
                out[j] = None  # type: ignore[call-overload]
                break
        else:
            ends = [_round(e * conv[1]) for e in _ends(q)]
            if not ends:
                continue
            shown = "–".join(_fmt(e) for e in ends) + f" {conv[2]}"
            alt = Quantity(f"about {shown}", -1, -1, conv[0], ends[0] if len(ends) == 1 else None,
                           ends[0] if len(ends) == 2 else None, ends[1] if len(ends) == 2 else None)
            # The computed value travels with the figure (its `also`, JSON, matching across
            # documents); the words shown stay the article's own.
            out[i] = Quantity(q.text, q.start, q.end, q.unit, q.value, q.low, q.high,
                              q.qualifier, q.date, (*q.alts, alt))
    return [q for q in out if q is not None]


def find_quantities(sentence: str) -> list[Quantity]:
    """Every figure and dated mention in `sentence`, in reading order.

    Skipped on purpose: numbers glued to letters ("G8", "1990s", "21st"), sports scores
    ("2-1"), clock times, ages ("25-year-old"), anything "ago", and bare number words ("two
    men"). A year alone is a date. Ranges are "between X and Y", "X to Y", "X-Y"; "from X to Y"
    is a change, read as two figures.
    """
    dates = find_dates(sentence)
    taken = [(d.start, d.end) for d in dates]
    taken += [m.span() for m in _LOOSE_DATE.finditer(sentence)]  # "12 March": a date, not 12
    out: list[Quantity] = list(dates)

    def free(s: int, e: int) -> bool:
        return not any(s < te and ts < e for ts, te in taken)

    for m in _VAGUE.finditer(sentence):
        out.append(Quantity(m.group(0), m.start(), m.end(), "count", qualifier=m.group(1).lower()))
        taken.append(m.span())
    for m in _WORD_SCALED.finditer(sentence):
        if not free(*m.span()):
            continue
        value = Decimal(_WORD_NUM[m.group(1).lower()]) * _SCALE_WORDS[m.group(2).lower()]
        unit, value, end = _unit_after(sentence, m.end(), value, None)
        cur = _CURRENCY_PREFIX.search(sentence[max(0, m.start() - 4):m.start()])
        start = m.start() - (len(cur.group(0)) if cur else 0)
        unit = _CURRENCY_SYMBOL[cur.group(1).strip()] if cur else unit
        # "two to three million", "between two and three million": both ends scaled.
        low_m = _WORD_RANGE_START.search(sentence[:start])
        low = None
        if low_m and (low_m.group(1) or low_m.group(3) != "and"):
            low = Decimal(_WORD_NUM[low_m.group(2).lower()]) * (value / Decimal(_WORD_NUM[m.group(1).lower()]))
            start = low_m.start()
        qual, start = _qualifier(sentence, start)
        if low is not None and low < value:
            out.append(Quantity(sentence[start:end], start, end, unit, None, _plain(low), _plain(value), qual))
        else:
            out.append(Quantity(sentence[start:end], start, end, unit, _plain(value), qualifier=qual))
        taken.append((start, end))

    matches = [m for m in _NUM.finditer(sentence) if free(*m.span())]
    i = 0
    while i < len(matches):
        m = matches[i]
        i += 1
        parsed = _one_number(sentence, m)
        if parsed is None:
            continue
        raw, currency, start, digits_end = parsed
        tail = sentence[digits_end:digits_end + 12]
        if _NOT_A_FIGURE.match(tail):
            continue
        unit, value, end = _unit_after(sentence, digits_end, raw, currency)
        if unit == "count" and sentence.startswith("-strong", end):
            end += len("-strong")  # "a 5,000-strong force": a count of the force's people
        if end < len(sentence) and (sentence[end].isalnum() or sentence[end] == "-" and
                                    re.match(r"-\d", sentence[end:]) is None and unit == "count"):
            continue  # "1990s", "3G", "4-4-2", "10-point"
        low = high = None
        # Ranges: X-Y / X to Y / between X and Y (not "from X to Y", a change).
        join = _RANGE_JOIN.match(sentence, end)
        head = sentence[:start].rstrip().lower()
        between = head.endswith("between")
        change = head.endswith("from") and _CHANGE_VERB.search(head[-40:]) is not None
        if join and i < len(matches) and matches[i].start() - join.end() <= 5 \
                and not change and (join.group(0).strip() != "and" or between):
            n2 = _one_number(sentence, matches[i])
            assert n2 is not None
            raw2, cur2, s2, e2 = n2
            if s2 == join.end() and (join.group(0).strip() != "or" or raw2 > raw):
                unit2, value2, end2 = _unit_after(sentence, e2, raw2, cur2 or currency)
                if unit == "count" and unit2 == "count" and join.group(0) in "-–" and end == digits_end \
                        and end2 == e2 and (raw < 20 and raw2 < 20 or raw2 <= raw):
                    i += 1
                    continue  # a score, "won 2-1", "a 45-6 win"
                if unit in ("count", unit2) or unit2 == "count":
                    if end == digits_end and value == raw and value2 != raw2 and unit in ("count", unit2):
                        value = raw * (value2 / raw2)  # "2 to 3 billion dollars", "2-3 million": scale both ends
                    unit = unit2 if unit == "count" else unit
                    if unit2 == "count" and unit != "count" and end2 == e2:
                        value2 = raw2 * (value / raw)
                    low, high, end = value, value2, end2
                    i += 1
        if unit == "count" and not currency:
            prev = re.search(r"(\w+)\W*$", sentence[:start])
            if prev and prev.group(1)[0].isupper() and not _QUALIFIER.search(sentence[:start]) and (
                    prev.start() > 0 or prev.group(1).lower() not in _OPENING_WORDS) and prev.end(1) >= start - 1:
                continue  # "Article 50", "Channel 4", "Village 12 lost 36 houses"
        qual, start = _qualifier(sentence, start)
        if head.endswith("between") and low is not None:
            start = head.rfind("between")
        elif head.endswith("from") and low is not None and start >= 4:
            start = head.rfind("from")
        q = Quantity(sentence[start:end], start, end, unit,
                     None if low is not None else _plain(value),
                     _plain(low) if low is not None else None,
                     _plain(high) if high is not None else None, qual)
        # "(35 square miles)", "(£686m; $1.32bn)" right after: the same figure in other units.
        alt_m = re.match(r"\s?\(\s?", sentence[end:])
        alts: list[Quantity] = []
        j, pos = i, end + len(alt_m.group(0)) if alt_m else -1
        while alt_m and j < len(matches) and 0 <= matches[j].start() - pos <= 4:
            n2 = _one_number(sentence, matches[j])
            assert n2 is not None
            raw2, cur2, s2, e2 = n2
            unit2, value2, end2 = _unit_after(sentence, e2, raw2, cur2)
            if unit2 in ("count", unit) or s2 < pos:
                break
            alts.append(Quantity(sentence[s2:end2], s2, end2, unit2, _plain(value2)))
            j += 1
            sep = re.match(r"\s?[;,]\s?", sentence[end2:])
            if sentence[end2:end2 + 1] == ")":
                q = Quantity(sentence[start:end2 + 1], start, end2 + 1, unit, q.value, q.low, q.high,
                             qual, alts=tuple(alts))
                i = j
                break
            if not sep:
                break
            pos = end2 + len(sep.group(0))
        out.append(q)
        taken.append((q.start, q.end))
    return link_conversions(sentence, sorted(out, key=lambda q: q.start))
