"""Follow-up questions: read a short, elliptical or pronoun-led question with the one before it.

"and how many russians?" after "how many north korean soldiers were deployed?" is rewritten
as "how many russians were deployed" and searched within the documents the earlier answer
cited first, while a self-contained new question ("who is ukraine's commander in chief", "what
did zelensky say about the talks": it names its own subject) is searched on its own.
`QAService.ask(earlier=…)` and the follow-up benchmark both use `resolve` and
`retrieve_follow_up`.

Method: query rewriting for conversational search (the earlier question's subject in place of
the follow-up's pronoun or ellipsis, cf. TREC CAsT's rewritten utterances, Dalton et al. 2020)
with the earlier answer's documents as a prior: the dense query mixes the follow-up's
embedding with its rewrite's (`REWRITE_WEIGHT`), BM25 reads the follow-up as asked, and the
passages of the earlier answer's top document come first (`PRIOR_ORDER`). Which questions are
follow-ups is decided by `needs_context`; names in lower-case questions come from the corpus
(`CorpusNames`). Constants chosen on the tune half of `benchmarks/data/followups.jsonl`
(`python -m evaluation followups`; every method tried is in docs/QUALITY.md).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import numpy as np
import Stemmer

from bot.retrieve import Hit, Retrieval, retrieve_vector

if TYPE_CHECKING:
    from bot.answer import Answer
    from bot.corpus import Passage
    from bot.embed import QueryEncoder
    from bot.index import Index

#: Earlier turns a front end keeps per conversation (only the latest informs the search).
MAX_TURNS = 3
#: The dense query is `normalize(e(follow-up) + REWRITE_WEIGHT · e(rewrite) + EARLIER_WEIGHT ·
#: e(earlier question))` (tune split: 0.5 and 0 best of 0.5/1/2 and 0/0.3; docs/QUALITY.md).
REWRITE_WEIGHT = 0.5
EARLIER_WEIGHT = 0.0
#: What BM25 reads: the follow-up as asked ("question", best on the tune split) or its rewrite.
BM25_TEXT = "question"
#: How the earlier answer's documents are preferred: their passages first, in the retrieval
#: mode's own order ("rank", best on the tune split and right for any mode), or `PRIOR_BONUS`
#: added to the cosine ("cosine", the first version).
PRIOR_ORDER = "rank"
PRIOR_BONUS = 0.2
#: The earlier answer's documents used as the prior, in rank order: only its first (the top
#: passage's) did better on the tune split than all three.
PRIOR_DOCUMENTS = 1
#: How many of the earlier document's passages lead before the best passage from elsewhere
#: (None: all of them).
PRIOR_LEAD: int | None = None
#: A question with at most this many content words of its own, naming nothing, is incomplete
#: (elliptical) when it shares a word with the earlier turn.
SHORT = 2
#: A question of at most this many words without a verb of its own ("how many russians?",
#: "by how much?", "in what year?") is a fragment of the earlier one.
FRAGMENT = 4
#: Of a word's mid-sentence occurrences in the passages sampled, at least this share capitalised
#: makes it a name ("kursk", "zelensky", "aol"), and this many passages are sampled.
NAME_SHARE = 0.6
NAME_SAMPLE = 20

_WORD = re.compile(r"[\w'’-]+")
#: Words that open a follow-up ("and …", "what about …").
_CUES = re.compile(r"^(?:and|but|also|so|or|plus|then|ok(?:ay)?|what about|how about|what else"
                   r"|anything else|any(?:thing)? more|tell me more|more on|why(?: so)?\??$)\b", re.I)
#: Personal pronouns: point back at the earlier question unless the question names someone first.
_PRONOUN_WORDS = "it its it's itself they them their theirs themselves he him his himself she her hers herself"
_PRONOUNS = frozenset(_PRONOUN_WORDS.split())
#: Determiners that point back ("those laws") when the question names nothing.
_DETERMINERS = frozenset(["this", "these", "those", "such", "same", "former", "latter"])
#: Openings where a pronoun does not point back ("they say north korea is …").
_IDIOM = re.compile(r"^(?:they|people) (?:say|said|reckon|claim)\b", re.I)
#: Auxiliaries and copulas: a question with one has a verb ("who is …", "what did …").
_AUX_WORDS = ("is are was were be been am do does did has have had will would shall should can could "
              "may might must isn't aren't wasn't weren't don't doesn't didn't won't can't")
_AUX = frozenset(_AUX_WORDS.split())
_WH = frozenset(["what", "which", "who", "whom", "whose", "when", "where", "why", "how"])
#: Function words and question words: not content.
_STOP_WORDS = """
a an the and or but so also plus then of to in on at by for from with about into over under as than
is are was were be been being am do does did doing done have has had having will would shall should
can could may might must what which who whom whose when where why how much many long far often
that this these those it its it's they them their he him his she her i me my we us our you your
there here not no yes any some all more most other else such same just only very still yet now
ok okay tell me please know want say said about anything something happen happened happening
get got going go goes went make made take took again too well really like
"""
STOPWORDS = frozenset(_STOP_WORDS.split())
_STEM = Stemmer.Stemmer("english").stemWord


@dataclass(frozen=True)
class Turn:
    """One earlier question of a conversation: as asked, as searched, the documents its answer
    cited (in rank order) and the texts of the passages it showed."""

    question: str
    query: str = ""
    documents: tuple[str, ...] = ()
    passages: tuple[str, ...] = ()

    @classmethod
    def of(cls, answer: Answer) -> Turn:
        """The turn an answer makes (its cited documents count only when it answered)."""
        hits = answer.hits if answer.answered else []
        docs = tuple(dict.fromkeys(h.passage.document for h in hits))
        return cls(answer.question, answer.query or answer.question, docs, tuple(h.passage.text for h in hits))


@dataclass(frozen=True)
class FollowUp:
    """How a follow-up is searched: the rewritten `query` (the earlier question's subject in
    place of the pronoun or ellipsis), the earlier question it took as `context` (oldest
    first), and the earlier answer's `documents` as a prior."""

    query: str
    context: tuple[str, ...]
    documents: tuple[str, ...]
    earlier: str = ""


def words(text: str) -> list[str]:
    """Lower-cased word tokens."""
    return [w.strip("'’-") for w in _WORD.findall(text.lower()) if w.strip("'’-")]


def content_words(text: str) -> list[str]:
    """The words that carry meaning (no stopwords or question words), in order, once each."""
    return list(dict.fromkeys(w for w in words(text) if w not in STOPWORDS and len(w) > 1))


class CorpusNames:
    """Which lower-cased words the corpus writes as names: "kursk", "zelensky", "aol" are;
    "drones", "flopped" are not. A word is a name when at least `NAME_SHARE` of its
    mid-sentence occurrences in up to `NAME_SAMPLE` BM25-retrieved passages are capitalised;
    a word the corpus has never seen (at least 4 letters) counts as a name too (it names
    something the articles do not cover). Answers are cached per word."""

    def __init__(self, index: Index) -> None:
        self.index = index
        self._known: dict[str, bool] = {}

    def __call__(self, word: str) -> bool:
        """True when `word` (lower case) is a name in this corpus."""
        if word not in self._known:
            self._known[word] = self._is_name(word)
        return self._known[word]

    def _is_name(self, word: str) -> bool:
        base = word.removesuffix("'s").removesuffix("’s")
        found = self.index.sparse.search(base, NAME_SAMPLE)
        if not found:
            return len(base) >= 4 and base.isalpha()
        stem = _STEM(base)
        upper = lower = 0
        for passage in self.index.passages_of([i for i, _ in found]):
            tokens = _WORD.findall(passage.text)
            for n, token in enumerate(tokens):
                low = token.lower().strip("'’-").removesuffix("'s").removesuffix("’s")
                if n == 0 or low[:3] != base[:3] or _STEM(low) != stem:
                    continue
                upper += token[:1].isupper()
                lower += token[:1].islower()
        return upper + lower > 0 and upper / (upper + lower) >= NAME_SHARE


def _name_positions(question: str, is_name: Callable[[str], bool] | None) -> list[int]:
    """Positions (in `words(question)`) of words that name something: capitalised after the
    first word, a possessive ("ukraine's"), or a name in the corpus (`is_name`)."""
    raw = [w for w in _WORD.findall(question) if w.strip("'’-")]
    out = []
    for n, token in enumerate(raw):
        low = token.lower().strip("'’-")
        if low in STOPWORDS or low in _WH or len(low) < 2:
            continue
        possessive = low.endswith(("'s", "’s")) and low[:-2] not in STOPWORDS
        if (n > 0 and token[:1].isupper()) or possessive or (is_name is not None and is_name(low)):
            out.append(n)
    return out


def _related(question: str, earlier: Turn) -> bool:
    """True when one of the question's content words (stemmed) is in the earlier question, its
    searched query or the passages its answer showed."""
    own = {_STEM(w) for w in content_words(question)}
    theirs = {_STEM(w) for text in (earlier.question, earlier.query, *earlier.passages) for w in words(text)}
    return bool(own & theirs)


def needs_context(question: str, earlier: Turn | None = None,
                  is_name: Callable[[str], bool] | None = None) -> bool:
    """True when `question` is incomplete on its own, so the earlier turn should inform it:

    - it opens like a follow-up ("and …", "what about …");
    - a personal pronoun ("he", "it", "their") comes before anything it names ("does he plan
      …?"; but "what did syrsky say about his plans?" names its own subject);
    - it is a fragment: at most `FRAGMENT` words and no verb ("how many russians?", "by how much?");
    - it names nothing and points back ("when do those laws come into force?");
    - it names nothing, has at most `SHORT` content words and shares one with `earlier`
      ("which films flopped?" after a question about a film division), or `earlier` is unknown.

    Names are capitalised words after the first, possessives, and (with `is_name`, e.g.
    `CorpusNames`) words the corpus writes as names, so lower-case "who is alan beith" or "what
    did zelensky say about the talks" are self-contained.
    """
    text = question.strip()
    if _CUES.match(text):
        return True
    tokens = words(text)
    if not tokens:
        return False
    names = _name_positions(text, is_name)
    first_name = names[0] if names else len(tokens)
    if not _IDIOM.match(text) and any(t in _PRONOUNS for t in tokens[:first_name]):
        return True
    if len(tokens) <= FRAGMENT and not any(t in _AUX for t in tokens) and len(content_words(text)) <= 1:
        return True
    if names:
        return False
    if any(t in _DETERMINERS for t in tokens):
        return True
    if len(content_words(text)) > SHORT:
        return False
    return earlier is None or _related(text, earlier)


def _runs(text: str) -> list[str]:
    """The runs of content words in `text`, in order, split after a possessive ("what is sarah
    claxton's record time" → ["sarah claxton's", "record time"])."""
    out: list[str] = []
    run: list[str] = []
    for raw in _WORD.findall(text.lower()):
        word = raw.strip("'’-")
        if not word or word in STOPWORDS or word in _WH:
            if run:
                out.append(" ".join(run))
            run = []
            continue
        run.append(word)
        if word.endswith(("'s", "’s")):
            out.append(" ".join(run))
            run = []
    if run:
        out.append(" ".join(run))
    return out


_PLURAL = frozenset(["they", "them", "their", "theirs", "themselves"])
_SINGULAR = frozenset(["it", "its", "it's", "itself"])
_POSSESSIVE = frozenset(["its", "his", "their", "her"])


def _owner(run: str) -> bool:
    return run.endswith(("'s", "’s"))


def _antecedent(runs: Sequence[str], pronoun: str, used: set[str],
                is_name: Callable[[str], bool] | None) -> str | None:
    """The run of `runs` a pronoun most likely stands for, preferring one not `used` yet:

    - "its"/"his"/"their"/"her": a possessor ("time warner's" for "its sales");
    - "he"/"she": the named words of a run (`is_name`), else a possessor of two words or more
      ("sarah claxton's"), else a one-word possessor with what it owns ("ukraine's
      commander-in-chief"), else the longest run;
    - "they": a plural run; "it": a singular one.
    """
    if not runs:
        return None
    fresh = [r for r in runs if r not in used] or list(runs)
    plural = [r for r in fresh if r.endswith("s") and not _owner(r)]
    singular = [r for r in fresh if not r.endswith("s") and not _owner(r)]
    owners = [r for r in fresh if _owner(r)]
    if pronoun in _POSSESSIVE and owners:
        used.add(owners[0])
        return owners[0]
    if pronoun in _PLURAL:
        pick = (plural or fresh)[0]
    elif pronoun in _SINGULAR:
        pick = (singular or fresh)[0]
    else:
        named = [r for r in fresh if not _owner(r) and is_name is not None and any(is_name(w) for w in r.split())]
        if named and is_name is not None:
            used.add(named[0])
            return " ".join(w for w in named[0].split() if is_name(w))
        if owners:
            pick = owners[0]
            after = list(runs).index(pick) + 1
            if len(pick.split()) < 2 and after < len(runs):
                used.update((pick, runs[after]))
                return f"{pick} {runs[after]}"
        else:
            pick = max(fresh, key=len)
    used.add(pick)
    return pick.removesuffix("'s").removesuffix("’s")


def rewrite(question: str, earlier: str, is_name: Callable[[str], bool] | None = None) -> str:
    """`question` made whole with the `earlier` question's words (query rewriting for
    conversational search, cf. TREC CAsT's rewritten utterances, Dalton et al. 2020):

    - a pronoun is replaced by the earlier question's run of content words it most likely
      stands for ("where did she set it?" after "what is sarah claxton's record time?" →
      "where did sarah claxton set record time?");
    - a fragment sharing the earlier question's opening takes its frame ("and how many
      russians?" after "how many north korean soldiers were deployed?" → "how many russians
      were deployed");
    - any other ellipsis is followed by the earlier question ("by how much? when did the fed
      raise rates").
    An opening cue ("and", "what about") is dropped.
    """
    text = question.strip()
    cue = _CUES.match(text)
    if cue and cue.group(0).lower() in {"and", "but", "also", "so", "or", "plus", "then", "ok", "okay"}:
        text = text[cue.end():].lstrip(" ,")
        cue = None
    runs = _runs(earlier)
    out: list[str] = []
    used: set[str] = set()
    for token in re.findall(r"[\w'’-]+|[^\w\s]", text):
        low = token.lower()
        stands = (_antecedent(runs, low, used, is_name)
                  if low in _PRONOUNS and not _IDIOM.match(text) else None)
        if stands:
            possessive = low in _POSSESSIVE and not _owner(stands)
            out.append(stands + ("'s" if possessive else ""))
        else:
            out.append(token)
    if used:
        return re.sub(r"\s+([?,.!])", r"\1", " ".join(out))
    rest = (text[cue.end():] if cue else text).strip(" ,?!.")
    before = earlier.strip().rstrip(" ?!.")
    mine, theirs = rest.lower().split(), before.lower().split()
    shared = 0
    while shared < min(len(mine), len(theirs)) and mine[shared] == theirs[shared]:
        shared += 1
    fragment = not any(w in _AUX for w in mine[shared:])
    if 0 < shared < len(mine) and fragment:  # "how many [russians]" in "how many [north korean soldiers] were …"
        end = shared
        while end < len(theirs) and theirs[end] not in STOPWORDS:
            end += 1
        return " ".join([*theirs[:shared], *mine[shared:], *theirs[end:]])
    return f"{rest}? {before}" if rest else before


def resolve(question: str, earlier: Sequence[Turn], is_name: Callable[[str], bool] | None = None) -> FollowUp | None:
    """The follow-up reading of `question` after the turns `earlier` (oldest first), or None
    when there is no earlier turn or the question is self-contained (`needs_context`, names
    judged by `is_name` when given)."""
    if not earlier or not needs_context(question, earlier[-1], is_name):
        return None
    last = earlier[-1]
    before = last.query or last.question
    return FollowUp(rewrite(question, before, is_name), (last.question,), last.documents[:PRIOR_DOCUMENTS], before)


def prefer(hits: Sequence[Hit], documents: Sequence[str], k: int, offset: int = 0,
           bonus: float = PRIOR_BONUS) -> list[Hit]:
    """Re-rank `hits` (retrieved from rank 1) with `bonus` added to the cosine of passages from
    `documents`, and keep hits `offset+1 … offset+k`, renumbered. Scores shown stay the cosines."""
    prior = set(documents)
    order = sorted(hits, key=lambda h: -(h.score + (bonus if h.passage.document in prior else 0.0)))
    return [replace(h, rank=offset + i) for i, h in enumerate(order[offset:offset + k], start=1)]


def prior_first(near: Sequence[Hit], found: Sequence[Hit], k: int, offset: int = 0,
                lead: int | None = None) -> list[Hit]:
    """The hits of the earlier answer's documents (`near`, in their ranking's order) before the
    rest of `found` (in its order), hits `offset+1 … offset+k`, renumbered. With `lead`, only
    the first `lead` of `near` go first: then the best hit of `found` from elsewhere, then the
    rest in the same way (so a wrong earlier document cannot fill the whole top-k)."""
    seen = {h.id for h in near}
    others = [h for h in found if h.id not in seen]
    if lead is None:
        order = [*near, *others]
    else:
        order = [*near[:lead], *others[:1], *near[lead:], *others[1:]]
    return [replace(h, rank=offset + i) for i, h in enumerate(order[offset:offset + k], start=1)]


def follow_up_vector(encoder: QueryEncoder, question: str, follow: FollowUp) -> np.ndarray:
    """The dense query of a follow-up, `(1, d)` float32 unit vector:
    `normalize(e(question) + REWRITE_WEIGHT · e(follow.query) + EARLIER_WEIGHT · e(earlier))`."""
    mixed = encoder.encode_query(question)
    if REWRITE_WEIGHT and follow.query != question:
        mixed = mixed + REWRITE_WEIGHT * encoder.encode_query(follow.query)
    if EARLIER_WEIGHT:
        mixed = mixed + EARLIER_WEIGHT * encoder.encode_query(follow.earlier or question)
    return (mixed / max(float(np.linalg.norm(mixed)), 1e-12)).astype(np.float32)


def retrieve_follow_up(index: Index, encoder: QueryEncoder, question: str, follow: FollowUp, k: int, *,
                       offset: int = 0, mode: str = "hybrid", context: int = 0,
                       keep: Callable[[Passage], bool] | None = None) -> Retrieval:
    """Hits `offset+1 … offset+k` for a follow-up, in retrieval mode `mode`: the dense query is
    `follow_up_vector` (the follow-up and its rewrite), BM25 reads the rewrite (`BM25_TEXT`), and
    the earlier answer's documents, searched apart so that their passages are surely among the
    candidates, come first (`PRIOR_ORDER`). Scores shown are cosines with the `(1, d)` float32
    query, which `Retrieval.query` carries."""
    vector = follow_up_vector(encoder, question, follow)
    text = follow.query if BM25_TEXT == "rewrite" else question
    depth = (offset + k) * 3
    found = retrieve_vector(index, vector, text, depth, mode=mode, context=context, keep=keep)
    if not follow.documents:
        return Retrieval(prior_first([], found.hits, k, offset), found.best_score, vector, *_covered(found))
    prior = set(follow.documents)
    near = retrieve_vector(index, vector, text, depth, mode=mode, context=context,
                           keep=lambda p: p.document in prior and (keep is None or keep(p)))
    best = max(found.best_score, near.best_score)
    if PRIOR_ORDER == "rank":
        hits = prior_first(near.hits, found.hits, k, offset, PRIOR_LEAD)
    else:
        merged = {h.id: h for h in found.hits}
        merged.update({h.id: h for h in near.hits if h.id not in merged})
        hits = prefer(list(merged.values()), follow.documents, k, offset)
    return Retrieval(hits, best, vector, *_covered(found, near))


def _covered(*found: Retrieval) -> tuple[()] | tuple[float]:
    """The best `covered` of rankings that report one (a reranking mode), else nothing."""
    values = [c for c in (getattr(f, "covered", None) for f in found) if c is not None]
    return (max(values),) if values else ()
