"""Key figure: which stat (if any) answers a how-many / how-much / when question.

The "»" line must answer the question asked or not appear. A figure answers when it is
1. of the unit class the question asks for ("how big is the force" → a count of people, not
   an area; "how much did they pay" → money; "when" → a date; "how long" → a duration or a
   distance),
2. a count of the thing the question counts, matched by head noun with a few synonym groups
   ("soldiers" ~ "troops" ~ "forces", "ppl" ~ "people"; never "players" for "ipods"), and
3. in the role the question asks for: a figure of people killed, captured or injured answers
   only a question about those, and a question about deployments, sales or shipments is not
   answered by a figure stated in another of those roles.
Among the figures that pass, the top-ranked passage's wins (its order is the retrieval's);
within one passage a role match, then the topic matcher's score, decide. This is the
classic QA "answer type" check (Harabagiu et al., "FALCON", TREC-9; Moldovan et al. 2000),
done with rules over `bot.quantities` and `bot.stats` output.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from bot.quantities import find_quantities
from bot.stats import Stat

# ------------------------------------------------------------------------ unit classes

DATE, COUNT, PERCENT, MONEY, AREA, DISTANCE, WEIGHT, DURATION = (
    "date", "count", "percent", "money", "area", "distance", "weight", "duration")
#: Every class an unspecific "how much" may be answered by.
AMOUNTS = frozenset({COUNT, PERCENT, MONEY, AREA, DISTANCE, WEIGHT})


def unit_class(unit: str) -> str:
    """The class of a canonical unit (`bot.quantities.Quantity.unit`): "count", "percent",
    "money" (a currency code), "area", "distance", "weight", "duration", "date" or the unit."""
    if unit == "date":
        return DATE
    if unit == "count":
        return COUNT
    if unit in ("%", "percentage points"):
        return PERCENT
    if unit in ("km²", "mi²", "ha", "acres"):
        return AREA
    if unit in ("km", "mi", "m"):
        return DISTANCE
    if unit in ("tonnes", "kg"):
        return WEIGHT
    if unit == "duration":
        return DURATION
    if len(unit) == 3 and unit.isupper():
        return MONEY
    return unit


# ------------------------------------------------------------------------ nouns

#: Head nouns that name the same kind of thing (a question's and a figure's).
_GROUPS: dict[str, tuple[str, ...]] = {
    "military": ("troop", "soldier", "force", "personnel", "fighter", "army", "armie", "military",
                 "serviceman", "servicemen", "marine", "sailor", "militant", "reservist", "conscript",
                 "reinforcement", "unit"),
    "people": ("people", "person", "ppl", "persons", "individual", "resident", "citizen", "inhabitant",
               "civilian", "men", "women", "adult", "child", "children", "kid", "population"),
    "audience": ("viewer", "audience", "spectator", "fan", "watcher", "listener", "visitor", "attendance",
                 "crowd", "cinema-goer", "cinemagoer", "admission"),
    "worker": ("worker", "employee", "staff", "workforce", "workers"),
    # A job is a post, not the person in it: "how many jobs" is not "7,000 construction workers".
    "job": ("job", "post", "position", "vacancy", "vacancie"),
    "company": ("firm", "company", "companie", "business", "employer", "organisation", "organization",
                "corporation"),
    "money": ("money", "cash", "fund", "sum", "amount", "cost", "price", "fee"),
    "car": ("car", "vehicle", "auto"),
    "film": ("film", "movie", "picture"),
    "game": ("game", "match", "fixture"),
    "award": ("award", "prize", "trophy", "title", "honour", "honor", "gong"),
}
_GROUP_OF = {w: g for g, words in _GROUPS.items() for w in words}
#: Groups that count people: a question about "people" is answered by any of them.
_HUMAN = frozenset({"military", "people", "audience", "worker"})
#: Nouns that say nothing about what is counted ("how many times", "how much money").
_GENERIC = frozenset({"time", "one", "money", "cash", "amount", "much", "many", "lot", "number", "thing"})
_PEOPLE_THINGS = frozenset(_HUMAN) | {"force", "army", "crowd", "population", "workforce", "team",
                                      "audience", "following", "staff"}
_AREA_THINGS = frozenset({"territory", "area", "land", "country", "zone", "region", "farm", "site", "park",
                          "foothold", "estate", "field", "island", "forest", "reserve", "state", "city"})
_STOP = frozenset("""
a an the this that these those is are was were be been being am has have had do does did will would
could can may might must shall should to in on at for from by with about of into over under it its
they them their he she his her we our you your i me my there here how what which who whom whose when
where why and or but so if than then as not no very really actually just still now atm also ever even
all any some each every more most less much many get got gets
""".split())  # noqa: SIM905 - a word list reads better as text
_WORD = re.compile(r"[a-z0-9][a-z0-9'’-]*")


def _singular(word: str) -> str:
    w = word.lower().strip("'’")
    if w.endswith("'s") or w.endswith("’s"):
        w = w[:-2]
    if len(w) > 4 and w.endswith("ies"):
        return w[:-3] + "y"
    if len(w) > 3 and w.endswith("s") and not w.endswith("ss"):
        return w[:-1]
    return w


def _norm(word: str) -> str:
    """A noun as it is compared: singular, then its synonym group's name when it has one."""
    w = _singular(word)
    return _GROUP_OF.get(w, _GROUP_OF.get(word.lower(), w))


def _words(text: str) -> list[str]:
    return _WORD.findall(text.lower())


# ------------------------------------------------------------------------ roles

#: What a figure of people or things did or had done to them, by the words around it.
ROLES: dict[str, re.Pattern[str]] = {name: re.compile(p, re.I) for name, p in {
    "casualty": r"\b(?:kill\w*|die[ds]?|dying|dead|deaths?|perish\w*|fatalit\w*|casualt\w*|wounded|"
                r"injur\w*|lost (?:their|his|her) li(?:fe|ves)|murder\w*|slain|massacre\w*|toll)\b",
    "captured": r"\b(?:captur\w*|prisoners?|detain\w*|arrest\w*|abduct\w*|hostages?|jailed|held captive|"
                r"surrender\w*)\b",
    "deployed": r"\b(?:deploy\w*|sent|send\w*|dispatch\w*|station\w*|engaged|serv(?:e|es|ing)|transferr\w*|"
                r"are there|were there|is there|present|posted|reinforce\w*)\b",
    "sold": r"\b(?:sold|sell\w*|sales?|bought|buy\w*|purchas\w*)\b",
    "shipped": r"\b(?:ship(?:s|ped|ping|ments?)?)\b",
    "cut": r"\b(?:cut\w*|axe[ds]?|axing|slash\w*|shed\w*|redundan\w*|laid off|lay off|job losses)\b",
    "forecast": r"\b(?:forecast\w*|expect\w*|predict\w*|project(?:ed|ion|ions)|supposed to|target\w*|"
                r"hop(?:e|es|ed|ing) (?:for|to)|aim\w*|goal|plan(?:s|ned)? to|estimat\w* (?:to|for)|outlook)\b",
    "left": r"\b(?:fled|flee\w*|displaced|evacuat\w*|homeless|refugees?|(?:told|ordered|forced|urged|asked) to "
            r"(?:leave|flee)|le(?:ave|ft) (?:their|his|her) homes?|moved out)\b",
}.items()}
#: Roles a figure may only answer when the question asks for that role.
_MARKED = frozenset({"casualty", "captured", "left"})


def roles_in(text: str) -> frozenset[str]:
    """The role groups (`ROLES`) named in `text`."""
    return frozenset(name for name, pattern in ROLES.items() if pattern.search(text))


# ------------------------------------------------------------------------ the question


@dataclass(frozen=True)
class FigureQuestion:
    """What a question asks a figure to be: its `kind` ("when" or "amount"), the unit
    `classes` that can answer, the counted `thing` (its words, normalised by `_norm`, head
    last; empty when the question names none), the `roles` it asks about, the `change` it
    asks the size of ("up", "down", "any"; "" for none: "how much did prices drop") and, for
    "when", the `event` words a date must be attached to (stems, `_stem`)."""

    kind: str
    classes: frozenset[str]
    thing: tuple[str, ...]
    roles: frozenset[str]
    change: str = ""
    event: tuple[str, ...] = ()


#: Common misspellings of "much" and "many" ("how mcuh territory").
_TYPOS = re.compile(r"\b(?:(mcuh|muhc|mutch|mich|mucn|mush|muh|mch)|(mnay|mny|amny|manny|meny|mant|manu))\b", re.I)
#: "how much did X rise / drop": the size of a change, by direction.
_CHANGE_UP = re.compile(r"\b(?:ris(?:e|es|en|ing)|rose|increas\w*|gr[eo]w\w*|jump\w*|climb\w*|soar\w*|surg\w*|"
                        r"go(?:ne)? up|went up|up|boost\w*|gain\w*)\b", re.I)
_CHANGE_DOWN = re.compile(r"\b(?:drop\w*|f[ae]ll\w*|fallen|declin\w*|decreas\w*|slump\w*|shr[iau]nk\w*|plung\w*|"
                          r"tumbl\w*|slid\w*|slip\w*|go(?:ne)? down|went down|down|lower\w*|reduc\w*|"
                          r"los[te]\w* value)\b", re.I)
_WHEN = re.compile(r"\b(?:when|what year|which year|what date|since when|what month)\b", re.I)
_HOW = re.compile(r"\bhows? (many|much|large|big|far|long|high|tall|deep|fast|heavy|wide|bad|good)\b", re.I)
#: A margin: "how much did she win by" is a distance, a time, points or money.
_MARGIN = re.compile(r"\b(?:win|won|lead|led|beat|ahead)\b.*\bby\b|\bmargin\b|\bahead\b", re.I)
_SHARE = re.compile(r"\bwhat (?:percentage|percent|share|proportion|fraction|rate)\b|\bwhat ?%", re.I)
_MONEY_WORDS = re.compile(
    r"\b(?:money|cost\w*|pa(?:y|id|ys|ying)|price\w*|worth|spen[dt]\w*|earn\w*|ma(?:k|d)e|makes|making|"
    r"fin(?:e|ed|es)|charg\w*|rais\w*|bid|budget|bill|salary|salaries|wages?|profits?|revenues?|turnover|"
    r"invest\w*|owe\w*|debts?|loss(?:es)?|lose|lost|deal|fee|fund\w*|sue[ds]?|suing|compensation|damages|"
    r"afford|bonus|grant|tax|value[ds]?|valuation|sell for|sold for|win|won|award\w*|prize|cheap|dear|"
    r"expensive|£|\$|€|pounds|dollars|euros?|yen)\b|[£$€]", re.I)
_PERCENT_WORDS = re.compile(
    r"\b(?:percent\w*|per cent|rate|share|proportion|grow\w*|growth|rise|rose|risen|fall|fell|fallen|"
    r"drop\w*|increas\w*|decreas\w*|up|down|jump\w*|slump\w*|inflation|unemployment|stake|own|owns|"
    r"of (?:the|his|her|their|its)|majority|turnout)\b|%", re.I)
_WEIGHT_WORDS = re.compile(r"\b(?:weigh\w*|tonnes?|tons?|kilos?|kg)\b", re.I)
_DURATION_NOUNS = {"year": DURATION, "month": DURATION, "week": DURATION, "day": DURATION,
                   "hour": DURATION, "minute": DURATION, "second": DURATION, "decade": DURATION,
                   "mile": DISTANCE, "km": DISTANCE, "kilometre": DISTANCE, "kilometer": DISTANCE,
                   "metre": DISTANCE, "meter": DISTANCE, "tonne": WEIGHT, "ton": WEIGHT,
                   "percent": PERCENT, "hectare": AREA, "acre": AREA, "square": AREA,
                   "pound": MONEY, "dollar": MONEY, "euro": MONEY}


def _change(text: str) -> str:
    """The direction of the change `text` asks the size of: "up", "down", "any" (both named) or ""."""
    up, down = bool(_CHANGE_UP.search(text)), bool(_CHANGE_DOWN.search(text))
    return "any" if up and down else "up" if up else "down" if down else ""


#: Words of one event, as a "when" question and the sentence dating it may put them.
_EVENT_SYNONYMS = (
    ("start", "begin", "began", "begun", "commenc", "launch", "open", "kick", "schedul", "due", "from"),
    ("end", "finish", "conclud", "close", "stop", "complet"),
    ("strike", "walkout", "walk", "industrial"),
    ("happen", "take", "took", "held", "hold", "occur"),
    ("releas", "publish", "issu", "announc", "unveil"),
    ("sale", "sell", "sold", "launch", "releas"),
    ("die", "died", "death", "kill"),
    ("elect", "vote", "ballot", "poll"),
    ("found", "set", "creat", "establish"),
    ("first", "debut"),
)
_WHEN_STOP = _STOP | {"when", "year", "date", "month", "time", "day", "going", "gonna", "happen", "happened",
                      "supposed", "expected", "next", "last"}


def _stem(word: str) -> str:
    """A crude stem: the first five letters of the singular ("production" ~ "produce")."""
    return _singular(word)[:5]


def _event_words(text: str) -> tuple[str, ...]:
    """The stems of a "when" question's content words (the event it asks the date of)."""
    return tuple(dict.fromkeys(_stem(w) for w in _words(text) if w not in _WHEN_STOP and len(w) > 2))


def _event_score(event: Sequence[str], context: str) -> int:
    """How many of `event`'s stems (or a synonym of one) `context` holds."""
    have = {_stem(w) for w in _words(context)}
    score = 0
    for e in event:
        if e in have or any(e in group and have & set(group) for group in
                            [tuple(g[:5] for g in grp) for grp in _EVENT_SYNONYMS]):
            score += 1
    return score


def _noun_phrase(words: list[str]) -> list[str]:
    """The words of a noun phrase at the start of `words`: up to a stop word or a verb."""
    out: list[str] = []
    for w in words:
        if w in _STOP or (out and re.search(r"(?:ed|ing)$", w) and len(w) > 4) or len(out) >= 4:
            break
        out.append(w)
    return out


def read_question(question: str) -> FigureQuestion | None:
    """What figure `question` asks for, or None when it asks for none (who/why/what...).

    "when"/"what year" → a date; "how many N" → a count (or a share) of N, "how many years" →
    a duration; "how much" → money, a share, a weight or any amount, by the words asked
    ("pay", "cost" → money; "grow", "share" → a share); "how big/large is the N" → a count
    of people for a force or crowd, an area for a territory, else any amount; "how long" →
    a duration or a distance; "how far/high/deep" → a distance (or a count of points);
    "what percentage/share" → a share.
    """
    text = " ".join(question.lower().split())
    text = _TYPOS.sub(lambda m: "much" if m.group(1) else "many", text)
    roles = roles_in(text)
    if _WHEN.search(text):
        return FigureQuestion("when", frozenset({DATE}), (), roles, event=_event_words(text))
    if _SHARE.search(text):
        return FigureQuestion("amount", frozenset({PERCENT}), (), roles)
    m = _HOW.search(text)
    if not m:
        return None
    how = m.group(1)
    rest = _words(text[m.end():])
    thing: list[str] = []
    classes: frozenset[str]
    if how in ("many", "much"):
        thing = _noun_phrase(rest)
        if how == "many" and len(thing) > 1:  # "ppl went", "japanese films came": the head is the plural
            plural = [i for i, w in enumerate(thing) if w.endswith("s") or _singular(w) in _GROUP_OF]
            thing = thing[:plural[-1] + 1] if plural else thing[:1]
        head = _singular(thing[-1]) if thing else ""
        unit = _DURATION_NOUNS.get(head)
        if unit is not None:
            classes, thing = frozenset({unit}), []
        elif how == "many":
            classes = frozenset({COUNT})
        elif head in _AREA_THINGS:
            classes = frozenset({AREA})
        elif _MARGIN.search(text):
            classes = AMOUNTS | {DURATION}
        elif _MONEY_WORDS.search(text):
            classes = frozenset({MONEY})
        elif _WEIGHT_WORDS.search(text):
            classes = frozenset({WEIGHT})
        elif _PERCENT_WORDS.search(text):
            classes = frozenset({PERCENT, COUNT})
        elif how == "much" and [w for w in thing if _singular(w) not in _GENERIC]:
            # "how much water will it use": an amount of water (a quantity, a rate), not a share of it.
            classes = AMOUNTS - {PERCENT}
        else:
            classes = AMOUNTS
        if how == "much":
            thing = [w for w in thing if _singular(w) not in _GENERIC]
    elif how in ("big", "large"):
        after = rest
        while after and after[0] in {"is", "are", "was", "were", "the", "a", "an", "its", "their", "his",
                                      "her", "this", "that", "s"}:
            after = after[1:]
        thing = _noun_phrase(after)
        head = _singular(thing[-1]) if thing else ""
        if _norm(head) in _PEOPLE_THINGS or head in _PEOPLE_THINGS:
            classes = frozenset({COUNT})
        elif head in _AREA_THINGS:
            classes, thing = frozenset({AREA}), []
        elif _MONEY_WORDS.search(text):
            classes, thing = frozenset({MONEY}), []
        else:
            classes, thing = AMOUNTS, []
    elif how == "long":
        classes = frozenset({DURATION, DISTANCE})
    elif how in ("far", "high", "tall", "deep", "wide"):
        classes = frozenset({DISTANCE, COUNT})
    elif how == "fast":
        classes = frozenset({PERCENT, DISTANCE, COUNT})
    elif how in ("bad", "good"):
        classes = frozenset({PERCENT, COUNT, MONEY})
    else:  # heavy
        classes = frozenset({WEIGHT})
    norm = tuple(_norm(w) for w in thing if _singular(w) not in _GENERIC)
    return FigureQuestion("amount", classes, norm, roles)


# ------------------------------------------------------------------------ the figure


#: Where one figure's clause ends and the next one's begins.
_CLAUSE = re.compile(r"[;:,()]|\s[-–—]\s|\s(?:and|but|while|whereas)\s")


def _context(sentence: str, stat: Stat) -> tuple[str, str]:
    """The words of `sentence` that belong to `stat`'s figure: `(before, after)`, each cut at the
    neighbouring figures (so "10 million iPods, of 20 million players shipped" keeps "shipped"
    with the players)."""
    found = find_quantities(sentence)
    want = (stat.value, stat.low, stat.high)
    at = None
    for i, q in enumerate(found):
        if stat.unit == "date" and q.unit == "date" and q.date == stat.date or \
                stat.unit != "date" and (q.value, q.low, q.high) == want:
            at = i
            break
    if at is None:
        return sentence, ""
    q = found[at]
    start = found[at - 1].end if at > 0 else 0
    end = found[at + 1].start if at + 1 < len(found) else len(sentence)
    before = _CLAUSE.split(sentence[start:q.start])[-1]
    after = _CLAUSE.split(sentence[q.end:end])[0]
    return before, after


def thing_matches(thing: Sequence[str], stat: Stat, after: str) -> bool:
    """Whether `stat` counts `thing` (normalised words, head last): its counted phrase (or the
    words right after the figure) holds the thing's head, a synonym of it, a person-noun for a
    question about people, or, for a head not found, another of the thing's words
    ("north koreans" ~ "North Korean soldiers")."""
    if not thing:
        return True
    counted = [_norm(w) for w in _words(stat.counts)] + [_norm(w) for w in _words(after)[:3]]
    have = set(counted)
    head = thing[-1]
    if head in have:
        return True
    if head in _HUMAN and have & _HUMAN:
        return True
    # "north koreans": the nationality is the thing; the figure's noun is a person-noun.
    return any(w in have for w in thing) and bool(have & _HUMAN) and head not in _GROUP_OF.values()


#: A date right after "since" dates an earlier time, not the event asked about.
_SINCE = re.compile(r"\b(?:since|ever since)\s+(?:the\s+(?:start|end|summer|spring|autumn|winter)\s+of\s+)?$", re.I)
#: A figure right after "from" / "to" is a level a change went from or to.
_LEVEL = re.compile(r"\b(?:from|to)\s+$", re.I)
#: Units that measure an amount of something ("5 million gallons of water a day").
_MEASURES = frozenset({"gallon", "litre", "liter", "barrel", "cubic", "megawatt", "gigawatt", "kilowatt", "mw",
                       "gw", "kwh", "mwh", "gwh", "twh", "watt", "bottle", "cup", "glass", "pint", "bag", "tonne",
                       "ton", "kilo", "gram", "ounce", "unit", "dose", "portion", "meal", "bushel", "cubic-metre"})


def _measure_of(thing: Sequence[str], stat: Stat, sentence: str) -> bool:
    """Whether `stat` is an amount of `thing` in a unit of measure: its counted phrase opens
    with one ("5 million gallons a day") and its sentence names the thing ("the plant's water
    use")."""
    counted = _words(stat.counts)
    if not thing or not counted or _singular(counted[0]) not in _MEASURES:
        return False
    have = {_norm(w) for w in _words(sentence)}
    return thing[-1] in have


@dataclass(frozen=True)
class Judged:
    """A candidate figure's standing: whether it passes, its role agreement (2 same role,
    1 no role either side, 0 otherwise; for "when", 2 when the date's clause names the event
    asked about, 1 when only its sentence does) and `fit`, how many of the question's event
    words its clause names (a tie-break within a passage)."""

    ok: bool
    role: int
    fit: int = 0


def judge(fq: FigureQuestion, stat: Stat, sentence: str) -> Judged:
    """Whether `stat` (stated in `sentence`) answers the question read as `fq` (see module)."""
    if unit_class(stat.unit) not in fq.classes:
        return Judged(False, 0)
    if fq.kind == "amount" and stat.value is None and stat.low is None:
        return Judged(False, 0)  # a vague magnitude ("thousands of troops") is no answer
    before, after = _context(sentence, stat)
    if unit_class(stat.unit) == COUNT and not thing_matches(fq.thing, stat, after) \
            and not _measure_of(fq.thing, stat, sentence):
        return Judged(False, 0)
    if fq.kind == "when":
        return Judged(True, 1)
    if fq.change:
        if _LEVEL.search(before):
            return Judged(False, 0)  # "down from £281,900": the level it changed from, not the change
        near_text = f"{before} {after}"
        up, down = bool(_CHANGE_UP.search(near_text)), bool(_CHANGE_DOWN.search(near_text))
        if not (up or down):
            return Judged(False, 0)  # "how much did prices drop": a price is not the drop
        if fq.change == "up" and not up or fq.change == "down" and not down:
            return Judged(False, 0)  # prices rose by 1.1% in one region: not how much they fell
        return Judged(True, 2 if unit_class(stat.unit) == PERCENT else 1)
    near = roles_in(f"{before} {stat.counts} {after}")
    if near & _MARKED and not fq.roles & near & _MARKED:
        return Judged(False, 0)  # the 1,000 who perished do not answer "how many are there"
    if near & fq.roles:
        return Judged(True, 2)
    if fq.roles & _MARKED and not near & _MARKED:
        return Judged(False, 0)  # "how many died": a figure of something else does not answer
    if fq.roles and near and not near & fq.roles:
        return Judged(False, 0)  # sold vs shipped, deployed vs cut
    return Judged(True, 1 if not near else 0)


def choose(question: str, hits: Sequence[tuple[str, Sequence[int]]], stats: Sequence[Stat],
           score: Callable[[Sequence[int]], Sequence[float]]) -> Stat | None:
    """The stat that answers `question`, or None.

    `hits` are the shown passages best first, each `(sentence, ids of the stats it states)`;
    `score(ids)` gives the topic matcher's score of each (`bot.stats.StatMatcher.scores`).
    The first hit with a figure that passes `judge` wins; among its figures the best role
    agreement, then the best topic score. A question about a role prefers a later hit with a
    figure in that role over an earlier hit's figure in none.
    """
    fq = read_question(question)
    if fq is None:
        return None
    best: tuple[int, int, int, float, int] | None = None
    for rank, (sentence, ids) in enumerate(hits):
        passing = [(i, judge(fq, stats[i], sentence)) for i in ids]
        passing = [(i, j) for i, j in passing if j.ok]
        if not passing:
            continue
        scores = score([i for i, _ in passing])
        for (i, j), s in zip(passing, scores, strict=True):
            ranked = fq.roles or fq.kind == "when" or fq.change
            key = (j.role if ranked else 0, -rank, j.fit, float(s), i)
            if best is None or key[:4] > best[:4]:
                best = key
        if not (fq.roles or fq.kind == "when" or fq.change) or (best is not None and best[0] == 2):
            break
    return stats[best[4]] if best is not None else None
