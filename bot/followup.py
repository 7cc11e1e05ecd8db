"""Follow-up questions: read a short, elliptical or pronoun-led question with the one before it.

"and how many russians?" after "how many north korean soldiers were deployed?" is searched
with the earlier question mixed into its embedding and the documents the earlier answer cited
as a prior, while a self-contained new question ("Who is Ukraine's commander-in-chief?") is
searched on its own. `QAService.ask(earlier=…)` and the follow-up benchmark both use
`retrieve_follow_up`.

Method: conversational query expansion (the earlier question informs an incomplete follow-up,
cf. the "historical query expansion" baseline of conversational search, Yang et al. 2019, and
TREC CAsT): the dense query is `normalize(e(follow-up) + EARLIER_WEIGHT · e(earlier))`, BM25
reads the follow-up's own words, and passages of documents the earlier answer cited get
`PRIOR_BONUS`. Constants chosen on the tune half of `benchmarks/data/followups.jsonl`
(`python -m evaluation followups`; docs/QUALITY.md).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import numpy as np

from bot.retrieve import Hit, Retrieval, retrieve_vector

if TYPE_CHECKING:
    from bot.answer import Answer
    from bot.corpus import Passage
    from bot.embed import QueryEncoder
    from bot.index import Index

#: Earlier turns a front end keeps per conversation (only the latest informs the search).
MAX_TURNS = 3
#: At most this many of the earlier question's content words are carried over.
MAX_CARRIED = 8
#: Added to a passage's cosine for ranking when its document was cited by the earlier answer
#: (0.2 and above tied on the tune split: in practice the cited documents come first).
PRIOR_BONUS = 0.2
#: Weight of the earlier question's embedding added to the follow-up's (0-1 tried; 0.3 best).
EARLIER_WEIGHT = 0.3
#: The earlier answer's documents used as the prior, in rank order: only its first (the top
#: passage's) did better on the tune split than all three (0.77 against 0.73).
PRIOR_DOCUMENTS = 1
#: A question with at most this many content words of its own, naming nothing (no capitalised
#: word after the first), is incomplete (elliptical).
SHORT = 2

_WORD = re.compile(r"[\w'’-]+")
#: Words that open a follow-up ("and …", "what about …").
_CUES = re.compile(r"^(?:and|but|also|so|or|plus|then|ok(?:ay)?|what about|how about|what else"
                   r"|anything else|any(?:thing)? more|tell me more|more on|why(?: so)?\??$)\b", re.I)
#: Pronouns and determiners that point back at the earlier question.
_BACK_WORDS = ("it its it's itself they them their theirs themselves he him his himself she her hers "
               "herself this these those such same former latter")
_BACK = frozenset(_BACK_WORDS.split())
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


@dataclass(frozen=True)
class Turn:
    """One earlier question of a conversation: as asked, as searched, and the documents its
    answer cited (in rank order)."""

    question: str
    query: str = ""
    documents: tuple[str, ...] = ()

    @classmethod
    def of(cls, answer: Answer) -> Turn:
        """The turn an answer makes (its cited documents count only when it answered)."""
        docs = tuple(dict.fromkeys(h.passage.document for h in answer.hits)) if answer.answered else ()
        return cls(answer.question, answer.query or answer.question, docs)


@dataclass(frozen=True)
class FollowUp:
    """How a follow-up is searched: the expanded `query`, the earlier question it took as
    `context` (oldest first), and the earlier answer's `documents` as a prior."""

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


def needs_context(question: str) -> bool:
    """True when `question` is incomplete on its own: it opens like a follow-up ("and …",
    "what about …"), points back with a pronoun ("it", "they", "his"), or has at most `SHORT`
    content words and names nothing (no capitalised word after the first). A self-contained
    question is answered on its own."""
    text = question.strip()
    if _CUES.match(text):
        return True
    tokens = words(text)
    if any(t in _BACK for t in tokens):
        return True
    named = any(w[:1].isupper() for w in _WORD.findall(text)[1:])
    if named:  # "What is the IFES?": names what it asks about
        return False
    return len(content_words(text)) <= SHORT


def resolve(question: str, earlier: Sequence[Turn]) -> FollowUp | None:
    """The follow-up reading of `question` after the turns `earlier` (oldest first), or None
    when there is no earlier turn or the question is self-contained."""
    if not earlier or not needs_context(question):
        return None
    last = earlier[-1]
    own = set(content_words(question))
    carried = [w for w in content_words(last.query or last.question) if w not in own][:MAX_CARRIED]
    query = " ".join([question.strip(), *carried])
    return FollowUp(query, (last.question,), last.documents[:PRIOR_DOCUMENTS], last.query or last.question)


def prefer(hits: Sequence[Hit], documents: Sequence[str], k: int, offset: int = 0,
           bonus: float = PRIOR_BONUS) -> list[Hit]:
    """Re-rank `hits` (retrieved from rank 1) with `bonus` added to the cosine of passages from
    `documents`, and keep hits `offset+1 … offset+k`, renumbered. Scores shown stay the cosines."""
    prior = set(documents)
    order = sorted(hits, key=lambda h: -(h.score + (bonus if h.passage.document in prior else 0.0)))
    return [replace(h, rank=offset + i) for i, h in enumerate(order[offset:offset + k], start=1)]


def retrieve_follow_up(index: Index, encoder: QueryEncoder, question: str, follow: FollowUp, k: int, *,
                       offset: int = 0, mode: str = "hybrid", context: int = 0,
                       keep: Callable[[Passage], bool] | None = None) -> Retrieval:
    """Hits `offset+1 … offset+k` for a follow-up: the dense query mixes in the earlier
    question's embedding (`EARLIER_WEIGHT`), BM25 reads `question` itself, and candidates from
    the earlier answer's documents (searched apart, so they are surely among the candidates)
    are preferred by `PRIOR_BONUS`. Scores shown are cosines with the mixed `(1, d)` float32
    query, which `Retrieval.query` carries."""
    mixed = encoder.encode_query(question) + EARLIER_WEIGHT * encoder.encode_query(follow.earlier or question)
    vector = (mixed / max(float(np.linalg.norm(mixed)), 1e-12)).astype(np.float32)
    depth = (offset + k) * 3
    found = retrieve_vector(index, vector, question, depth, mode=mode, context=context, keep=keep)
    hits = {h.id: h for h in found.hits}
    best = found.best_score
    if follow.documents:
        prior = set(follow.documents)
        near = retrieve_vector(index, vector, question, depth, mode=mode, context=context,
                               keep=lambda p: p.document in prior and (keep is None or keep(p)))
        hits.update({h.id: h for h in near.hits if h.id not in hits})
        best = max(best, near.best_score)
    return Retrieval(prefer(list(hits.values()), follow.documents, k, offset), best, vector)
