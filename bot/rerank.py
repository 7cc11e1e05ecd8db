"""Rerank stage: pick the sentence that answers among the fused candidates, and decide whether
the corpus covers the question at all.

Retrieval (dense + BM25, `bot.fusion`) usually finds the right *article* but often ranks its
headline or a neighbouring sentence above the sentence that answers. This stage

1. takes the top fused candidates and adds every sentence of the best few documents (the
   right sentence is often outside the fused top-k while its article is inside);
2. describes each candidate with features that classic answer-sentence selection uses
   (Yih et al. 2013, "Question Answering Using Enhanced Lexical Semantic Models"; Severyn &
   Moschitti 2015 for overlap features): dense cosine of the sentence, of its previous and
   next sentence, of its headline and of its article's mean vector; BM25 divided by the
   question's IDF mass; IDF-weighted coverage of the question's words by the sentence, by the
   sentence with its headline and previous sentence, and by the whole article, also with the
   article's topic words (frequent in it) discounted; the question's answer type met by the
   sentence (who → names, when → dates, how many → numbers, what did X say → quotes); position
   and lede (only in a document with a headline: a news article's layout; 0 elsewhere),
   headline, length;
3. scores them with a linear model learned on our tuning data (`evaluation/train_rerank.py`,
   weights in `bot/rerank_weights.json`), and
4. gives the question a "covered" probability from question-level features (the best score and
   its margin, the article's coverage of the question's words, the IDF mass of words the
   corpus has never seen) with a second logistic model learned on answerable and
   out-of-scope tuning questions.

Everything is vectorised NumPy over a few hundred candidates: ~2-4 ms a question.
"""

from __future__ import annotations

import json
import re
import threading
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from bot.fusion import convex_fusion
from bot.index import Index

#: Candidates taken from each of dense and BM25 before fusion.
FUSED_DEPTH = 50
#: The top fused candidates kept in the pool.
POOL_FUSED = 30
#: Documents whose every sentence joins the pool: those of the best fused candidates...
EXPAND_DOCUMENTS = 6
#: At most this many sentences of one document join (the nearest to the question).
EXPAND_PER_DOCUMENT = 40
#: ... plus the best by the article's mean vector.
EXPAND_BY_MEAN = 2
#: Dense weight of the fusion that orders the first pool (as `bot.retrieve.HYBRID_ALPHA`).
FUSION_ALPHA = 0.5
WEIGHTS = Path(__file__).with_name("rerank_weights.json")

FEATURES = (
    "cos", "cos_prev", "cos_next", "cos_head", "doc_cos", "doc_best_cos", "cos_gap_doc",
    "bm25", "doc_best_bm25", "dense_rank", "fused_rank", "doc_rank",
    "cov", "cov_context", "cov_doc", "cov_rare", "cov_gap_doc",
    "is_head", "position", "is_lede", "length",
    "when_date", "when_loose", "amount_number", "who_name", "say_quote", "has_quote",
)
QUESTION_FEATURES = (
    "top_score", "margin", "top_cos", "max_cos", "top_cov", "top_cov_doc", "top_doc_cos",
    "unknown_mass", "missing_top_doc", "known_terms",
)

_WORD = re.compile(r"\w+")
_CAPITAL = re.compile(r"\b[A-Z][\w'-]+")
_YEAR = re.compile(r"\b(?:1[89]\d\d|20\d\d)s?\b")
_LOOSE = re.compile(
    r"\b(?:January|February|March|April|May|June|July|August|September|October|November|December"
    r"|Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday|yesterday|today|tomorrow|tonight"
    r"|(?:last|next|this|earlier this) (?:week|month|year|weekend|season|summer|winter|spring|autumn))\b")
_NUMBER = re.compile(r"\d|\b(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|dozens?"
                     r"|hundreds?|thousands?|millions?|billions?|half|third|quarter)\b", re.I)
_QUOTE = re.compile(r"[\"“”]|\b(?:said|says|told|added)\b")
_ASK_WHO = re.compile(r"\b(?:who|whom|whose|which (?:company|firm|team|player|country|club|band|man|woman)|"
                      r"what(?:'s| is) (?:\w+ )?(?:called|name)|name of|where)\b", re.I)
_ASK_WHEN = re.compile(r"\b(?:when|what (?:year|date|day|month|time)|how long ago|since when)\b", re.I)
_ASK_AMOUNT = re.compile(r"\b(?:how (?:many|much|big|large|far|long|old|fast|high)|what (?:percentage|share|"
                         r"proportion|price|score|amount|figure|number)|by how)\b", re.I)
_ASK_SAY = re.compile(r"\b(?:say|said|says|saying|think|thinks|thought|react|reacted|respond|responded|"
                      r"claim|claimed|view|reckon|reckons|feel|feels|opinion|argue|argued|warn|warned)\b",
                      re.I)


@dataclass(frozen=True)
class RerankModel:
    """Linear scorer and covered model: `score = ((x - mean) / scale) @ weights`, and
    `P(covered) = sigmoid(((z - q_mean) / q_scale) @ q_weights + q_bias)`.

    `threshold` is the covered probability at or above which a question is answered.
    """

    mean: np.ndarray
    scale: np.ndarray
    weights: np.ndarray
    q_mean: np.ndarray
    q_scale: np.ndarray
    q_weights: np.ndarray
    q_bias: float
    threshold: float

    @classmethod
    def load(cls, path: Path = WEIGHTS) -> RerankModel:
        """Read the weights JSON written by `evaluation/train_rerank.py`.

        Raises:
            OSError: the file is unreadable; ValueError: its features differ from `FEATURES`.
        """
        data = json.loads(path.read_text(encoding="utf-8"))
        if tuple(data["features"]) != FEATURES or tuple(data["question_features"]) != QUESTION_FEATURES:
            raise ValueError(f"{path}: features differ from this version's; retrain the reranker")
        arr = lambda key: np.asarray(data[key], dtype=np.float64)  # noqa: E731
        return cls(arr("mean"), arr("scale"), arr("weights"), arr("q_mean"), arr("q_scale"),
                   arr("q_weights"), float(data["q_bias"]), float(data["threshold"]))

    def score(self, features: np.ndarray) -> np.ndarray:
        """`(m, F)` features → `(m,)` float64 scores (higher is better)."""
        return ((features - self.mean) / self.scale) @ self.weights

    def covered(self, question_features: np.ndarray) -> float:
        """`(Q,)` question features → probability in [0, 1] that the corpus answers the question."""
        z = float(((question_features - self.q_mean) / self.q_scale) @ self.q_weights + self.q_bias)
        return float(1.0 / (1.0 + np.exp(-np.clip(z, -50, 50))))


_MODEL_LOCK = threading.Lock()


@lru_cache(maxsize=1)
def default_model() -> RerankModel:
    """The shipped model (`bot/rerank_weights.json`), read once."""
    with _MODEL_LOCK:
        return RerankModel.load()


@dataclass(frozen=True)
class Tables:
    """Per-index arrays the features need, built once per loaded index (~50 ms at 44k passages).

    All `(n,)` arrays are indexed by passage id: `doc` (int32 document number), `prev`/`next`/
    `head` (passage id of the previous / next sentence and of the headline, -1 if none),
    `is_head` (bool), `position` (sentence number from 1), `length` (words). `doc_start`/
    `doc_pids` list each document's passages (CSR, `(D+1,)` and `(n,)`), `doc_size` `(D,)` and
    `doc_mean` `(D, d)` float32 unit mean vectors; `flags` what each sentence holds (a year, a
    month or weekday, a number, a quote, a capitalised name after its first word).
    """

    doc: np.ndarray
    prev: np.ndarray
    next: np.ndarray
    head: np.ndarray
    is_head: np.ndarray
    position: np.ndarray
    length: np.ndarray
    doc_start: np.ndarray
    doc_pids: np.ndarray
    doc_size: np.ndarray
    doc_mean: np.ndarray
    flags: np.ndarray  # (n, 5) float64: year, month/weekday/relative day, number, quote, names


def _norm_words(text: str) -> tuple[str, ...]:
    return tuple(_WORD.findall(text.lower()))


def build_tables(index: Index) -> Tables:
    """Make the `Tables` of `index` from its passages and embeddings."""
    n = index.size
    names: dict[str, int] = {}
    doc = np.empty(n, dtype=np.int32)
    where: dict[tuple[int, int], int] = {}
    position = np.empty(n, dtype=np.int32)
    length = np.empty(n, dtype=np.float32)
    is_head = np.zeros(n, dtype=bool)
    for pid, p in enumerate(index.passages):
        d = names.setdefault(p.document, len(names))
        doc[pid] = d
        where[(d, p.sentence)] = pid
        position[pid] = p.sentence
        words = _norm_words(p.text)
        length[pid] = len(words)
        # the headline: the title as a line of its own (a first sentence taken as the title of
        # an article without a headline ends like a sentence and stays a body sentence)
        is_head[pid] = p.sentence <= 3 and words == _norm_words(p.title) and p.text.rstrip()[-1:] not in ".!?"
    prev = np.array([where.get((int(doc[i]), int(position[i]) - 1), -1) for i in range(n)], dtype=np.int64)
    nxt = np.array([where.get((int(doc[i]), int(position[i]) + 1), -1) for i in range(n)], dtype=np.int64)
    heads: dict[int, int] = {}
    for i in np.flatnonzero(is_head).tolist():
        heads.setdefault(int(doc[i]), i)
    head = np.array([heads.get(int(doc[i]), -1) for i in range(n)], dtype=np.int64)
    order = np.argsort(doc, kind="stable")
    size = np.bincount(doc, minlength=len(names)) if n else np.zeros(0, dtype=np.int64)
    start = np.concatenate([[0], np.cumsum(size)]).astype(np.int64)
    emb = np.asarray(index.embeddings, dtype=np.float32)
    dim = emb.shape[1] if emb.ndim == 2 else 0
    mean = np.zeros((len(names), dim), dtype=np.float32)
    if n:
        np.add.at(mean, doc, emb)
        mean /= np.maximum(np.linalg.norm(mean, axis=1, keepdims=True), 1e-9)
    flags = np.array([(bool(_YEAR.search(p.text)), bool(_LOOSE.search(p.text)), bool(_NUMBER.search(p.text)),
                       bool(_QUOTE.search(p.text)), any(m.start() > 0 for m in _CAPITAL.finditer(p.text)))
                      for p in index.passages], dtype=np.float64).reshape(n, 5)
    return Tables(doc, prev, nxt, head, is_head, position, length, start, order.astype(np.int64),
                  size, mean, flags)


_TABLES: dict[int, tuple[Index, Tables]] = {}
_TABLES_LOCK = threading.Lock()


def tables(index: Index) -> Tables:
    """`build_tables(index)`, cached for the last few indexes loaded."""
    cached = _TABLES.get(id(index))
    if cached is not None and cached[0] is index:
        return cached[1]
    with _TABLES_LOCK:
        cached = _TABLES.get(id(index))
        if cached is not None and cached[0] is index:
            return cached[1]
        made = build_tables(index)
        if len(_TABLES) >= 4:
            _TABLES.pop(next(iter(_TABLES)))
        _TABLES[id(index)] = (index, made)
        return made


@dataclass(frozen=True)
class Pool:
    """The candidates of one question: passage `ids` `(m,)` int64 in fused order first, their
    `features` `(m, F)` float64 (`FEATURES`), and what the question-level features need."""

    ids: np.ndarray
    features: np.ndarray
    unknown_mass: float
    known_terms: int
    doc_cov: np.ndarray  # (m,) share of the question's IDF mass found in the candidate's article
    cos: np.ndarray      # (m,)


def _question_type(question: str) -> tuple[float, float, float, float]:
    return (float(bool(_ASK_WHO.search(question))), float(bool(_ASK_WHEN.search(question))),
            float(bool(_ASK_AMOUNT.search(question))), float(bool(_ASK_SAY.search(question))))


@dataclass(frozen=True)
class FirstStage:
    """The hybrid candidates of one question before expansion: `fused` passage ids in fused
    order (at most `POOL_FUSED`), the `(n,)` float32 BM25 scores `bm` of every passage, the
    question's known vocabulary ids `terms` and unseen-word count `unknown`, and the passage
    ids left out (`excluded`, `(e,)` int64)."""

    fused: list[int]
    bm: np.ndarray
    terms: list[int]
    unknown: int
    excluded: np.ndarray


def lexical_candidates(index: Index, question: str, depth: int) -> tuple[list[int], np.ndarray, list[int], int]:
    """BM25 over every passage: `(terms, bm, top, unknown)` with the question's known vocabulary
    ids, the `(n,)` scores, the ids of the best `depth` with a score above 0 (best first) and
    the count of words the corpus has never seen."""
    terms, unknown = index.sparse.query_terms(question)
    bm = index.sparse.scores_for(terms)
    k = min(depth, index.size)
    top: list[int] = []
    if k and len(terms):
        best = np.argpartition(-bm, k - 1)[:k]
        best = best[np.argsort(-bm[best], kind="stable")]
        top = [int(i) for i in best if bm[i] > 0]
    return terms, bm, top, unknown


def first_stage(index: Index, query: np.ndarray, question: str,
                exclude: frozenset[str] = frozenset()) -> FirstStage:
    """Dense (FAISS) and BM25 top `FUSED_DEPTH`, convex fusion, the best `POOL_FUSED` kept.

    `query` is the question's `(1, d)` unit embedding; `exclude` names documents left out
    (evaluation asks questions "without their article")."""
    t = tables(index)
    excluded = np.zeros(0, dtype=np.int64)
    if exclude:
        names = {index.passages[int(t.doc_pids[t.doc_start[d]])].document: d
                 for d in range(len(t.doc_size)) if t.doc_size[d]}
        ex_docs = [names[e] for e in exclude if e in names]
        if ex_docs:
            excluded = np.concatenate([t.doc_pids[t.doc_start[d]:t.doc_start[d + 1]] for d in ex_docs])
    depth = FUSED_DEPTH + len(excluded)
    dense = index.search(query, depth)
    terms, bm, top, unknown = lexical_candidates(index, question, depth)
    qw = float(index.sparse.idf(terms).sum())
    lexical = [(i, float(bm[i])) for i in top] if qw > 0 else []
    ex = set(excluded.tolist())
    if ex:
        dense = [h for h in dense if h[0] not in ex]
        lexical = [h for h in lexical if h[0] not in ex]
    fused = [i for i, _ in convex_fusion(dense, lexical, FUSION_ALPHA, qw if qw > 0 else None)][:POOL_FUSED]
    return FirstStage(fused, bm, terms, unknown, excluded)


def candidate_pool(index: Index, query: np.ndarray, question: str,
                   exclude: frozenset[str] = frozenset()) -> Pool:
    """Gather and describe the candidates of `question` (`query`: its `(1, d)` unit embedding):
    the top `POOL_FUSED` of the hybrid fusion (`first_stage`), then every sentence of the best
    documents (`expand`).

    `exclude` names documents left out (evaluation asks questions "without their article").
    """
    return expand(index, query, question, first_stage(index, query, question, exclude))


def expand(index: Index, query: np.ndarray, question: str, first: FirstStage) -> Pool:
    """The `Pool` of `first`'s candidates plus the sentences of the best `EXPAND_DOCUMENTS`
    documents among them and the best `EXPAND_BY_MEAN` by article mean vector (at most
    `EXPAND_PER_DOCUMENT` of one document, the nearest to `query`)."""
    t = tables(index)
    q = np.asarray(query, dtype=np.float32)[0]
    fused = first.fused
    doc_cos_all = t.doc_mean @ q if len(t.doc_mean) else np.zeros(0, dtype=np.float32)
    if len(first.excluded):
        doc_cos_all[np.unique(t.doc[first.excluded])] = -1.0
    docs: list[int] = []
    for pid in fused:
        d = int(t.doc[pid])
        if d not in docs:
            docs.append(d)
        if len(docs) >= EXPAND_DOCUMENTS:
            break
    for d in np.argsort(-doc_cos_all)[:EXPAND_BY_MEAN].tolist():
        if d not in docs and doc_cos_all[d] > -1.0:
            docs.append(int(d))
    ids = np.array(fused, dtype=np.int64)
    extra = []
    for d in docs:
        pids = t.doc_pids[t.doc_start[d]:t.doc_start[d + 1]]
        if len(pids) > EXPAND_PER_DOCUMENT:  # a long article: its sentences nearest the question
            pids = pids[np.argsort(-(index.embeddings[pids] @ q))[:EXPAND_PER_DOCUMENT]]
        extra.append(pids)
    if extra:
        more = np.concatenate(extra)
        ids = np.concatenate([ids, more[~np.isin(more, ids)]])
    return describe(index, q, question, ids, len(fused), first.bm, first.terms, first.unknown, doc_cos_all)


def describe(index: Index, q: np.ndarray, question: str, ids: np.ndarray, fused: int,
             bm: np.ndarray, terms: list[int], unknown: int, doc_cos_all: np.ndarray) -> Pool:
    """The `Pool` of candidate passage `ids` `(m,)` whose first `fused` are in fused order.

    `q` is the `(d,)` question vector, `bm` the `(n,)` BM25 scores of every passage, `terms`
    and `unknown` the question's known vocabulary ids and unseen-word count
    (`SparseIndex.query_terms`), `doc_cos_all` the `(D,)` cosine of each article's mean vector.
    """
    t = tables(index)
    n = index.size
    sparse = index.sparse
    qweight = sparse.idf(terms)
    qw = float(qweight.sum())
    max_idf = float(np.log(1.0 + (n + 0.5) / 0.5)) if n else 1.0
    unknown_mass = unknown * max_idf / max(qw + unknown * max_idf, 1e-9)
    m = len(ids)
    if m == 0:
        return Pool(ids, np.zeros((0, len(FEATURES))), unknown_mass, len(terms), np.zeros(0), np.zeros(0))
    emb = index.embeddings
    cos = np.asarray(emb[ids] @ q, dtype=np.float64)

    def cos_of(rel: np.ndarray) -> np.ndarray:
        out = np.zeros(m, dtype=np.float64)
        ok = rel >= 0
        if ok.any():
            out[ok] = emb[rel[ok]] @ q
        return out

    prev, nxt, head = t.prev[ids], t.next[ids], t.head[ids]
    cos_prev, cos_next, cos_head = cos_of(prev), cos_of(nxt), cos_of(head)
    dids = t.doc[ids]
    uniq, first, inv = np.unique(dids, return_index=True, return_inverse=True)
    best_cos = np.full(len(uniq), -1.0)
    np.maximum.at(best_cos, inv, cos)
    bmn = bm[ids].astype(np.float64) / qw if qw > 0 else np.zeros(m)
    best_bm = np.zeros(len(uniq))
    np.maximum.at(best_bm, inv, bmn)
    doc_cos = doc_cos_all[dids].astype(np.float64)
    doc_rank = np.empty(len(uniq))
    doc_rank[np.argsort(-(best_cos + 0.5 * doc_cos[first]))] = np.arange(1, len(uniq) + 1)
    dense_rank = np.empty(m)
    dense_rank[np.argsort(-cos)] = np.arange(1, m + 1)
    fused_rank = np.full(m, POOL_FUSED + 20.0)
    fused_rank[:fused] = np.arange(1, fused + 1)
    # coverage of the question's terms (IDF-weighted), read from BM25's posting lists
    cov, cov_ctx, cov_doc, cov_rare = np.zeros(m), np.zeros(m), np.zeros(m), np.zeros(m)
    if qw > 0:
        dsize = np.maximum(t.doc_size[dids].astype(np.float64), 1.0)
        for term, w in zip(terms, qweight.tolist(), strict=True):
            post = sparse.postings(term)
            in_s = np.isin(ids, post)
            in_ctx = in_s | np.isin(prev, post) | np.isin(head, post)
            per_doc = np.bincount(t.doc[post], minlength=len(t.doc_size))[dids]
            # a topic word: held by many of the article's other sentences
            topical = np.clip((per_doc - in_s) / np.maximum(dsize - 1.0, 1.0), 0.0, 1.0)
            cov += w * in_s
            cov_ctx += w * in_ctx
            cov_doc += w * (per_doc > 0)
            cov_rare += w * in_s * (1.0 - topical)
        cov, cov_ctx, cov_doc, cov_rare = cov / qw, cov_ctx / qw, cov_doc / qw, cov_rare / qw
    best_cov = np.zeros(len(uniq))
    np.maximum.at(best_cov, inv, cov)
    who, when, amount, say = _question_type(question)
    has_year, has_loose, has_number, has_quote, names = t.flags[ids].T
    position = t.position[ids].astype(np.float64)
    is_head = t.is_head[ids]
    # position and lede describe a news article's layout (headline, lede, body): they count
    # only in a document with a headline line; elsewhere (a Wikipedia-style page, candidate
    # sentences from many sources, one-passage documents) they take position 1's values, 0
    headed = head >= 0
    lede = ((position == 2) | ((position == 1) & ~is_head)) & headed
    features = np.column_stack([
        cos, cos_prev, cos_next, cos_head, doc_cos, best_cos[inv], cos - best_cos[inv],
        bmn, best_bm[inv], np.log(dense_rank), np.log(fused_rank), np.log(doc_rank[inv]),
        cov, cov_ctx, cov_doc, cov_rare, cov - best_cov[inv],
        is_head, np.log(position) * headed, lede, np.log1p(t.length[ids]),
        when * has_year, when * has_loose, amount * has_number, who * names, say * has_quote, has_quote,
    ]).astype(np.float64)
    return Pool(ids, features, unknown_mass, len(terms), cov_doc, cos)


def question_features(pool: Pool, scores: np.ndarray) -> np.ndarray:
    """`(Q,)` float64 features of the whole question (`QUESTION_FEATURES`) from its scored pool."""
    if len(scores) == 0:
        return np.array([-10.0, 0.0, -1.0, -1.0, 0.0, 0.0, -1.0, pool.unknown_mass, 1.0, pool.known_terms])
    order = np.argsort(-scores)
    top = int(order[0])
    second = float(scores[order[1]]) if len(order) > 1 else float(scores[top]) - 5.0
    f = pool.features
    col = FEATURES.index
    return np.array([
        float(scores[top]), float(scores[top]) - second, float(pool.cos[top]), float(np.max(pool.cos)),
        float(f[top, col("cov")]), float(pool.doc_cov[top]), float(f[top, col("doc_cos")]),
        pool.unknown_mass, 1.0 - float(pool.doc_cov[top]), float(pool.known_terms),
    ])


@dataclass(frozen=True)
class Reranked:
    """Passage ids best first `(m,)`; their `scores` `(m,)` float64, the share of the pool's
    softmax over the linear scores (the listwise model's probability that the passage is the
    one that answers, in [0, 1], non-increasing; all shares sum to 1); P(covered) in [0, 1]."""

    ids: np.ndarray
    scores: np.ndarray
    covered: float


def rerank(index: Index, query: np.ndarray, question: str, model: RerankModel | None = None) -> Reranked:
    """Rank the candidate pool of `question` with `model` (the shipped one by default). An
    empty index gives an empty ranking, covered 0."""
    if index.size == 0:
        return Reranked(np.zeros(0, dtype=np.int64), np.zeros(0), 0.0)
    return rank_pool(candidate_pool(index, query, question), model)


def rank_pool(pool: Pool, model: RerankModel | None = None) -> Reranked:
    """Score, order and share out `pool` with `model` (the shipped one by default), and give its
    covered probability."""
    model = model or default_model()
    scores = model.score(pool.features) if len(pool.ids) else np.zeros(0)
    covered = model.covered(question_features(pool, scores))
    order = np.argsort(-scores, kind="stable")
    ranked = scores[order]
    shares = np.exp(ranked - ranked[0]) if len(ranked) else ranked
    return Reranked(pool.ids[order], shares / shares.sum() if len(shares) else shares, covered)
