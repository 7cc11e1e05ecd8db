"""Evaluation harness: the product's own segmentation, index and retriever on third-party QA data.

`python -m evaluation DATASET [--mode dense|bm25|hybrid|all] [--json]`. Datasets:
- `squad-dev`: SQuAD v1.1 dev as one corpus; a hit is a returned passage whose span covers an
  `answer_start` (ReQA's rule, Ahmad et al. 2019, with our sentence splitter). R@1/5/10 and
  MRR@10 per split: tuning (articles 1-24) and held-out (25-48, reported, never tuned to).
- `wikiqa-test`, `trecqa-test`: answer-sentence selection, each question ranking its own
  candidates; MAP and MRR over questions with at least one correct candidate.
- `bbc-paraphrase`: our own casual questions over BBC News (all 2,225 articles): top-3 hit rate.
- `casual`: our casual-question set (benchmarks/data/casual.jsonl, `evaluation.casual`) asked
  through `QAService.ask` over the product's own index of all 2,225 BBC articles: top-1/top-3
  hit rate and MRR@10 of the answering sentence, answerable questions marked covered,
  out-of-scope ones marked not covered, precision of "covered", and the "»" figure outcomes,
  per split (tune/test) and mode (plus "default": every setting at its default).
  `casual-sample`: its fixed CI subset over those articles plus every 20th BBC article.
- `followups`: our own follow-up pairs (`evaluation/followups.py`): top-3 with and without context.
- `seed`: the five seed questions over the bundled corpus (R@1).
- `threshold`: calibrate the "no answer" cosine threshold (see `calibrate_threshold`).
Embeddings of corpora are cached in a folder outside the repo (keyed by model, backend, texts).
"""

from __future__ import annotations

import hashlib
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from bot import rerank
from bot.build import dedupe
from bot.corpus import Document, Passage, load_corpus, segment
from bot.embed import Encoder
from bot.fusion import convex_fusion
from bot.index import Index, make_faiss_index
from bot.retrieve import MODES, fuse, retrieve_vector
from bot.sparse import SparseIndex
from evaluation import data as eval_data

DATASETS = ("seed", "squad-dev", "wikiqa-test", "trecqa-test", "bbc-paraphrase", "casual", "followups",
            "threshold")
CUTOFFS = (1, 5, 10)
#: Every this-many-th BBC article joins the paraphrase set's articles as distractors.
PARAPHRASE_STRIDE = 10
#: Published figures, for orientation only (other index sizes and splitters).
PUBLISHED: dict[str, dict[str, Any]] = {
    "squad-dev": {"system": "ReQA SQuAD, USE-QA (Ahmad et al. 2019)",
                  "R@1": 0.439, "R@5": 0.656, "R@10": 0.727, "MRR@10": 0.539},
    "wikiqa-test": {"system": "WikiQA CNN-Cnt (Yang et al. 2015)", "MAP": 0.652, "MRR": 0.665},
}
#: The seed questions and a phrase of the sentence that answers each (as tests/conftest.py).
SEED_QUESTIONS = [
    ("How much territory does Ukraine still hold in Kursk?", "90"),
    ("How many North Korean soldiers were deployed?", "11,000"),
    ("When did the incursion begin?", "August 2024"),
    ("Who is Ukraine's commander-in-chief?", "Oleksandr Syrsky"),
    ("What is North Korea sending to Kursk?", "mine-clearing personnel and construction workers"),
]
#: Questions over the bundled article that issue 8 names (the headline used to win the first,
#: the second used to be marked not covered); reported with the seed questions.
ISSUE_QUESTIONS = [
    ("What targets does Ukraine say it is hitting?", "purely military targets"),
    ("When did Syrsky make his statement?", "on Sunday"),
]


@dataclass(frozen=True)
class Row:
    """One line of a result table: a dataset, split and mode with its metrics and question count."""

    dataset: str
    split: str
    mode: str
    metrics: dict[str, float]
    questions: int
    extra: dict[str, Any] = field(default_factory=dict)


# ------------------------------------------------------------------------ corpus + embeddings


def cached_encode(encoder: Encoder, texts: Sequence[str], cache_dir: Path | None) -> np.ndarray:
    """Encode `texts`, reading/writing `<cache_dir>/<sha1>.npy` keyed by model, backend and texts."""
    if cache_dir is None:
        return encoder.encode(texts)
    key = hashlib.sha1("\x1f".join([encoder.name, encoder.backend, *texts]).encode("utf-8")).hexdigest()
    path = cache_dir / f"{key}.npy"
    if path.exists():
        return np.load(path)
    vectors = encoder.encode(texts)
    cache_dir.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp.npy")
    np.save(tmp, vectors)
    tmp.replace(path)
    return vectors


@dataclass
class EvalCorpus:
    """An in-memory `Index` over documents, plus each document's passages before dedup."""

    index: Index
    by_document: dict[str, list[tuple[int, int, int]]]  # doc id -> (start, end, passage id)

    def gold(self, document: str, starts: Sequence[int]) -> set[int]:
        """Passage ids whose span in `document` covers one of `starts` (dedup-aware)."""
        spans = self.by_document.get(document, ())
        return {pid for s0, s1, pid in spans if any(s0 <= s < s1 for s in starts)}


def build_corpus(documents: Sequence[Document], encoder: Encoder, cache_dir: Path | None) -> EvalCorpus:
    """Segment, dedupe, embed and index `documents` as `bot build` does, but in memory."""
    per_doc = {d.id: segment(d) for d in documents}
    passages, _ = dedupe([p for ps in per_doc.values() for p in ps])
    ids = {p.text: i for i, p in enumerate(passages)}
    embeddings = cached_encode(encoder, [p.text for p in passages], cache_dir)
    index = Index(path=Path("<memory>"), manifest={}, faiss_index=make_faiss_index(embeddings),
                  passages=passages, documents={}, embeddings=embeddings,
                  sparse=SparseIndex.build([p.text for p in passages]), stats=[])
    by_document = {d: [(p.start, p.end, ids[p.text]) for p in ps] for d, ps in per_doc.items()}
    return EvalCorpus(index, by_document)


# ------------------------------------------------------------------------ metrics


def first_hit_rank(ranked: Sequence[int], gold: set[int]) -> int | None:
    """1-based rank of the first gold id in `ranked`, or None."""
    return next((r for r, pid in enumerate(ranked, start=1) if pid in gold), None)


def recall_mrr(ranks: Sequence[int | None], cutoffs: Sequence[int] = CUTOFFS) -> dict[str, float]:
    """R@k for each cutoff and MRR@max(cutoffs) from first-hit ranks (None = not found)."""
    n = max(len(ranks), 1)
    top = max(cutoffs)
    out = {f"R@{c}": sum(1 for r in ranks if r is not None and r <= c) / n for c in cutoffs}
    out[f"MRR@{top}"] = sum(1.0 / r for r in ranks if r is not None and r <= top) / n
    return out


def average_precision(labels_in_rank_order: Sequence[int]) -> float:
    """AP of one ranked list of 0/1 labels (0 when it has no positive)."""
    hits, total = 0, 0.0
    for r, label in enumerate(labels_in_rank_order, start=1):
        if label:
            hits += 1
            total += hits / r
    return total / hits if hits else 0.0


# ------------------------------------------------------------------------ runners


def span_eval(corpus: EvalCorpus, encoder: Encoder, questions: Sequence[eval_data.SpanQuestion],
              modes: Sequence[str], cache_dir: Path | None = None,
              k: int = 10) -> dict[tuple[str, str], list[int | None]]:
    """First-hit ranks per (split, mode) with the product's `retrieve_vector` (dedup included)."""
    queries = cached_encode(encoder, [q.question for q in questions], cache_dir)
    out: dict[tuple[str, str], list[int | None]] = {}
    for mode in modes:
        for q, vec in zip(questions, queries, strict=True):
            hits = retrieve_vector(corpus.index, vec[None, :], q.question, k, mode=mode).hits
            rank = first_hit_rank([h.id for h in hits], corpus.gold(q.document, q.starts))
            out.setdefault((q.split, mode), []).append(rank)
    return out


def candidate_scores(encoder: Encoder, questions: Sequence[eval_data.CandidateQuestion],
                     modes: Sequence[str], one_document: bool = True) -> dict[str, list[np.ndarray]]:
    """Score each question's candidates with the product's scorer for each mode.

    BM25 statistics come from all candidate sentences of the split (one index), so IDF is not
    computed over a handful of sentences; hybrid fuses the two candidate lists with `fuse`.
    """
    texts = sorted({c for q in questions for c in q.candidates})
    row = {t: i for i, t in enumerate(texts)}
    vectors = encoder.encode(texts)
    qvecs = encoder.encode([q.question for q in questions])
    sparse = SparseIndex.build(texts)
    out: dict[str, list[np.ndarray]] = {m: [] for m in modes}
    if "rerank" in modes:
        out["rerank"] = rerank_candidates(questions, vectors, row, qvecs, one_document)
    for q, qv in zip(questions, qvecs, strict=True):
        rows = [row[c] for c in q.candidates]
        cos = vectors[rows] @ qv
        bm = sparse.scores(q.question)[rows]
        dense = sorted(((i, float(s)) for i, s in enumerate(cos)), key=lambda x: -x[1])
        lexical = sorted(((i, float(s)) for i, s in enumerate(bm) if s > 0), key=lambda x: -x[1])
        fused = np.full(len(rows), -np.inf)
        for i, s in fuse(dense, lexical, sparse.query_weight(q.question)):
            fused[i] = s
        for mode, scores in (("dense", cos), ("bm25", bm), ("hybrid", fused)):
            if mode in modes:
                out[mode].append(scores)
    return out


#: Whether a candidate set's sentences are one document per question for the reranker: WikiQA's
#: candidates are the sentences of one Wikipedia summary paragraph in order (its neighbours and
#: position are real); TrecQA's were retrieved from many TREC news documents, so each candidate
#: is a document of its own (file order is no article's order).
ONE_DOCUMENT = {"wikiqa-test": True, "wikiqa-dev": True, "trecqa-test": False, "trecqa-dev": False}


def candidate_pools(questions: Sequence[eval_data.CandidateQuestion], vectors: np.ndarray,
                    row: dict[str, int], qvecs: np.ndarray,
                    one_document: bool = True) -> list[tuple[rerank.Pool, np.ndarray]]:
    """Each question's own candidates as one reranker pool, in the order of their convex fusion.

    `vectors` `(t, d)` float32 are the unit embeddings of the split's distinct candidate texts
    (`row` maps a text to its row), `qvecs` `(len(questions), d)` the questions'. With
    `one_document` the candidates of a question form one headline-less document (their
    sentences in file order), else each candidate is a one-passage document. Returns, per
    question, the pool and `(m,)` int64 candidate numbers (0-based, file order) of its passages.
    BM25 statistics come from all candidate sentences of the split (one index).
    """
    passages, rows = [], []
    for q in questions:
        for n, text in enumerate(q.candidates, start=1):
            document, sentence = (q.qid, n) if one_document else (f"{q.qid}/{n}", 1)
            passages.append(Passage(text=text, document=document, title="", sentence=sentence, start=0,
                                    end=len(text)))
            rows.append(row[text])
    embeddings = np.ascontiguousarray(vectors[rows])
    index = Index(path=Path("<memory>"), manifest={}, faiss_index=make_faiss_index(embeddings),
                  passages=passages, documents={}, embeddings=embeddings,
                  sparse=SparseIndex.build([p.text for p in passages]), stats=[])
    tables = rerank.tables(index)
    out, at = [], 0
    for q, qv in zip(questions, qvecs, strict=True):
        ids = np.arange(at, at + len(q.candidates))
        at += len(q.candidates)
        terms, unknown = index.sparse.query_terms(q.question)
        bm = index.sparse.scores_for(terms)
        qw = float(index.sparse.idf(terms).sum())
        cos = embeddings[ids] @ qv
        dense = sorted(((int(i), float(c)) for i, c in zip(ids, cos, strict=True)), key=lambda x: -x[1])
        lexical = sorted(((int(i), float(bm[i])) for i in ids if bm[i] > 0), key=lambda x: -x[1])
        order = np.array([i for i, _ in convex_fusion(dense, lexical, rerank.FUSION_ALPHA, qw or None)])
        pool = rerank.describe(index, qv, q.question, order, len(order), bm, terms, unknown,
                               tables.doc_mean @ qv)
        out.append((pool, order - ids[0]))
    return out


def rerank_candidates(questions: Sequence[eval_data.CandidateQuestion], vectors: np.ndarray,
                      row: dict[str, int], qvecs: np.ndarray, one_document: bool = True) -> list[np.ndarray]:
    """The "rerank" mode's scores `(m,)` float64 of each question's own candidates (file order),
    over `candidate_pools`."""
    model = rerank.default_model()
    out = []
    for pool, local in candidate_pools(questions, vectors, row, qvecs, one_document):
        scores = np.empty(len(local))
        scores[local] = model.score(pool.features)
        out.append(scores)
    return out


def candidate_eval(name: str, questions: Sequence[eval_data.CandidateQuestion], encoder: Encoder,
                   modes: Sequence[str]) -> list[Row]:
    """MAP and MRR over questions with at least one correct candidate (ties: file order)."""
    kept = [q for q in questions if any(q.labels)]
    scored = candidate_scores(encoder, kept, modes, ONE_DOCUMENT.get(name, True))
    rows = []
    for mode in modes:
        aps, rrs = [], []
        for q, scores in zip(kept, scored[mode], strict=True):
            order = np.argsort(-scores, kind="stable")
            labels = [q.labels[i] for i in order]
            aps.append(average_precision(labels))
            rrs.append(1.0 / (labels.index(1) + 1))
        rows.append(Row(name, "test", mode, {"MAP": float(np.mean(aps)), "MRR": float(np.mean(rrs))},
                        len(kept)))
    return rows


def squad_sample(questions: Sequence[eval_data.SpanQuestion], n: int = 500, articles: int = 4,
                 seed: int = 5) -> list[eval_data.SpanQuestion]:
    """The fixed CI sample: `n` questions drawn (seeded) from the first `articles` tuning articles."""
    docs = sorted({q.document for q in questions})[:articles]
    pool = [q for q in questions if q.document in docs]
    return sorted(random.Random(seed).sample(pool, min(n, len(pool))), key=lambda q: q.qid)


def eval_squad(encoder: Encoder, modes: Sequence[str], cache_dir: Path | None,
               sample: int | None = None) -> list[Row]:
    """SQuAD dev: all 48 articles as one corpus (or, with `sample`, the CI sample's articles)."""
    documents, questions = eval_data.squad_dev()
    name = "squad-dev"
    if sample:
        questions = squad_sample(questions, sample)
        wanted = {q.document for q in questions}
        documents = [d for d in documents if d.id in wanted]
        name = f"squad-dev-sample{sample}"
    corpus = build_corpus(documents, encoder, cache_dir)
    ranks = span_eval(corpus, encoder, questions, modes, cache_dir)
    return [Row(name, split, mode, recall_mrr(ranks[(split, mode)]), len(ranks[(split, mode)]),
                {"passages": corpus.index.size})
            for split in ("tuning", "held-out") for mode in modes if (split, mode) in ranks]


def eval_paraphrase(encoder: Encoder, modes: Sequence[str], cache_dir: Path | None,
                    stride: int = PARAPHRASE_STRIDE) -> list[Row]:
    """Our paraphrased BBC questions: top-3 hit rate, R@1, MRR@10, over their own articles plus
    every `stride`-th BBC article as distractors (1: all 2,225; 10 keeps the run short on 2 cores)."""
    questions = eval_data.paraphrase_set()
    keep = frozenset(q.document for q in questions)
    corpus = build_corpus(eval_data.bbc_documents(stride=stride, keep=keep), encoder, cache_dir)
    ranks = span_eval(corpus, encoder, questions, modes, cache_dir)
    return [Row("bbc-paraphrase", "tuning", mode, recall_mrr(ranks[("tuning", mode)], (1, 3, 10)),
                len(questions), {"passages": corpus.index.size}) for mode in modes]


def eval_casual(encoder: Encoder, modes: Sequence[str], cache_dir: Path | None,
                sample: bool = False, stride: int | None = None) -> list[Row]:
    """The casual set (or its CI sample) through the product's own pipeline; one row per split
    and mode (`evaluation.casual.metrics`). The sample's distractors are every `stride`-th BBC
    article (default `casual.SAMPLE_STRIDE`). Embeddings are shared through
    `evaluation.vector_cache` when `cache_dir` is given."""
    from evaluation import casual
    from evaluation.vector_cache import CachedEncoder

    questions = casual.load()
    files = None
    name = "casual"
    if sample:
        questions = casual.sample(questions)
        files = casual.corpus_files(eval_data.BBC_NEWS, questions, stride or casual.SAMPLE_STRIDE)
        name = "casual-sample"
    eval_data._need(eval_data.BBC_NEWS)
    enc = CachedEncoder(encoder, cache_dir)  # in memory without a cache: each question embedded once
    try:
        outcomes = casual.evaluate(questions, enc, modes, eval_data.BBC_NEWS, files)
    finally:
        enc.close()
    rows = []
    for split in casual.SPLITS:
        for mode in modes:
            these = [o for o in outcomes if o.mode == mode and o.question.split == split]
            answerable = sum(o.question.answerable for o in these)
            rows.append(Row(name, split, mode, casual.metrics(these), answerable,
                            {"out-of-scope": len(these) - answerable,
                             "articles": len(files) if files is not None else 2225}))
    return rows


def eval_covered(encoder: Encoder, modes: Sequence[str], cache_dir: Path | None, split: str = "test",
                 stride: int = 1, path: Path | None = None) -> list[Row]:
    """The casual set's covered / not-covered decision over BBC (all 2,225 articles by default).

    "rerank" decides by its covered probability against the calibrated threshold; the other
    modes by the best cosine against SCORE_THRESHOLD. Reports the share of answerable questions
    marked covered (recall), of out-of-scope ones marked not covered, the precision of
    "covered", and the share answered right (covered with the answering sentence first).
    """
    from bot.config import Settings

    threshold = Settings(_env_file=None).score_threshold  # type: ignore[call-arg]
    answerable, oos = eval_data.casual_questions(split, path)
    if not answerable:
        return []
    keep = frozenset(q.document for q in answerable)
    corpus = build_corpus(eval_data.bbc_documents(stride=stride, keep=keep), encoder, cache_dir)
    qvecs = cached_encode(encoder, [q.question for q in answerable], cache_dir)
    ovecs = cached_encode(encoder, oos, cache_dir) if oos else np.zeros((0, qvecs.shape[1]), np.float32)
    cutoff = rerank.default_model().threshold
    rows = []
    for mode in modes:
        def decide(vec: np.ndarray, question: str, mode: str = mode) -> tuple[bool, list[int]]:
            found = retrieve_vector(corpus.index, vec[None, :], question, 3, mode=mode)
            ok = found.covered >= cutoff if found.covered is not None else found.best_score >= threshold
            return ok, [h.id for h in found.hits]

        pos, right = 0, 0
        for q, vec in zip(answerable, qvecs, strict=True):
            ok, ids = decide(vec, q.question)
            pos += ok
            right += ok and bool(ids) and ids[0] in corpus.gold(q.document, q.starts)
        fp = sum(decide(vec, question)[0] for question, vec in zip(oos, ovecs, strict=True))
        metrics = {"covered": pos / len(answerable), "oos_not_covered": 1 - fp / max(len(oos), 1),
                   "precision": pos / max(pos + fp, 1), "answered_right": right / len(answerable)}
        rows.append(Row(f"casual-covered-{split}", split, mode, metrics, len(answerable) + len(oos),
                        {"passages": corpus.index.size}))
    return rows


def eval_seed(encoder: Encoder, modes: Sequence[str],
              corpus_dir: Path = eval_data.SEED_CORPUS) -> list[Row]:
    """R@1 of the seed questions over the bundled corpus (hit: top passage holds the phrase)."""
    corpus = build_corpus(load_corpus(corpus_dir).documents, encoder, None)
    rows = []
    for mode in modes:
        right = 0
        for question, phrase in [*SEED_QUESTIONS, *ISSUE_QUESTIONS]:
            hits = retrieve_vector(corpus.index, encoder.encode_query(question), question, 1, mode=mode).hits
            right += bool(hits) and phrase in hits[0].passage.text
        n = len(SEED_QUESTIONS) + len(ISSUE_QUESTIONS)
        rows.append(Row("seed", "-", mode, {"R@1": right / n}, n))
    return rows


def calibrate_threshold(encoder: Encoder, cache_dir: Path | None) -> list[Row]:
    """Pick the "no answer" cosine threshold on SQuAD tuning articles, report it on held-out.

    Answerable: a question asked against its own article's passages; unanswerable: the same
    question asked against the next article's passages (ReQA-style negatives). The bot answers
    when the best cosine is >= the threshold. The threshold maximises F1 of "answered" on the
    tuning split; precision and recall are reported on both splits.
    """
    from evaluation.threshold import best_cosines, choose_threshold, precision_recall

    documents, questions = eval_data.squad_dev()
    corpus = build_corpus(documents, encoder, cache_dir)
    queries = cached_encode(encoder, [q.question for q in questions], cache_dir)
    pos, neg = best_cosines(corpus, documents, questions, queries)
    split = np.array([q.split for q in questions])
    tuning = split == "tuning"
    t = choose_threshold(pos[tuning], neg[tuning])
    rows = []
    for name, mask in (("tuning", tuning), ("held-out", ~tuning)):
        p, r = precision_recall(pos[mask], neg[mask], t)
        rows.append(Row("threshold", name, "dense", {"threshold": t, "precision": p, "recall": r,
                                                     "F1": 2 * p * r / (p + r) if p + r else 0.0},
                        int(mask.sum()) * 2))
    return rows


def run(dataset: str, encoder: Encoder, modes: Sequence[str], cache_dir: Path | None,
        log: Callable[[str], None] = lambda _: None) -> list[Row]:
    """Run one dataset (or "all") and return its table rows."""
    from bot.config import Settings

    default_mode = Settings(_env_file=None).retrieval_mode  # type: ignore[call-arg]
    # "default" in the casual set is every setting at its default: the default mode's row when
    # all modes run (RETRIEVAL_MODE is the only setting the modes differ in)
    casual_modes = tuple(modes)
    modes = tuple(dict.fromkeys(default_mode if m == "default" else m for m in modes))
    runners: dict[str, Callable[[], list[Row]]] = {
        "seed": lambda: eval_seed(encoder, modes),
        "squad-dev": lambda: eval_squad(encoder, modes, cache_dir),
        "squad-dev-sample": lambda: eval_squad(encoder, modes, cache_dir, sample=500),
        "wikiqa-test": lambda: candidate_eval("wikiqa-test", eval_data.wikiqa(), encoder, modes),
        "trecqa-test": lambda: candidate_eval("trecqa-test", eval_data.trecqa(), encoder, modes),
        "bbc-paraphrase": lambda: eval_paraphrase(encoder, modes, cache_dir),
        "casual": lambda: eval_casual(encoder, casual_modes, cache_dir),
        "casual-sample": lambda: eval_casual(encoder, casual_modes, cache_dir, sample=True),
        "followups": lambda: _followups(encoder, cache_dir, default_mode),
        "threshold": lambda: calibrate_threshold(encoder, cache_dir),
        "covered": lambda: eval_covered(encoder, modes, cache_dir),
        "covered-tune": lambda: eval_covered(encoder, modes, cache_dir, split="tune"),
    }
    if dataset.endswith(".jsonl"):  # a `python -m bot feedback export` file
        from bot.config import Settings
        from evaluation.feedback import eval_feedback

        if not Path(dataset).is_file():
            raise FileNotFoundError(f"{dataset} not found (write one with `python -m bot feedback export`)")
        return eval_feedback(Path(dataset), encoder, Settings().corpus_dir, modes, cache_dir)
    names = list(DATASETS) if dataset == "all" else [dataset]
    rows: list[Row] = []
    for name in names:
        if name not in runners:
            raise ValueError(f"unknown dataset {name!r}; use one of {', '.join([*runners, 'all'])}")
        t0 = time.perf_counter()
        rows.extend(runners[name]())
        log(f"{name}: {time.perf_counter() - t0:.0f} s")
    return rows


def _followups(encoder: Encoder, cache_dir: Path | None, mode: str) -> list[Row]:
    from evaluation.followups import eval_followups

    return eval_followups(encoder, cache_dir, mode=mode)


def format_table(rows: Sequence[Row]) -> str:
    """Rows as one fixed-width table, published figures (where known) under each dataset."""
    lines = []
    dataset = None
    for row in rows:
        if row.dataset != dataset:
            if dataset in PUBLISHED:
                lines.append(_published_line(dataset))
            dataset = row.dataset
            extra = f" ({row.extra['passages']:,} passages)" if "passages" in row.extra else ""
            if "articles" in row.extra:
                extra = f" ({row.extra['articles']:,} articles; n answerable, m out-of-scope questions)"
            lines.append(f"\n{dataset}{extra}")
        metrics = "  ".join(f"{k} {int(v)}" if k.startswith("fig ") else f"{k} {v:.3f}"
                            for k, v in row.metrics.items())
        m = f", m={row.extra['out-of-scope']}" if "out-of-scope" in row.extra else ""
        lines.append(f"  {row.split:<9} {row.mode:<7} {metrics}  (n={row.questions}{m})")
    if dataset in PUBLISHED:
        lines.append(_published_line(dataset))
    return "\n".join(lines).lstrip("\n")


#: The README's side-by-side table: (label, dataset, split, two metrics shown "a / b").
MARKDOWN_ROWS = (
    ("SQuAD dev held-out (articles 25–48), MRR@10 / R@1", "squad-dev", "held-out", ("MRR@10", "R@1")),
    ("SQuAD dev tuning (articles 1–24), MRR@10 / R@1", "squad-dev", "tuning", ("MRR@10", "R@1")),
    ("WikiQA test, MAP / MRR", "wikiqa-test", "test", ("MAP", "MRR")),
    ("TrecQA test (raw), MAP / MRR", "trecqa-test", "test", ("MAP", "MRR")),
    ("our BBC paraphrases (26 q, tune), top-3 / top-1", "bbc-paraphrase", "tuning", ("R@3", "R@1")),
    ("seed questions and the issue's two, R@1", "seed", "-", ("R@1",)),
    ("our casual set, **test half** (2,225 articles), top-3 / top-1", "casual", "test", ("top3", "top1")),
    ("casual test: out-of-scope marked not covered / answerable marked covered", "casual", "test",
     ("oos-not-covered", "covered")),
    ("casual test: precision of \"covered\" / of \"not covered\"", "casual", "test",
     ("P(covered)", "P(not covered)")),
    ("our casual set, tune half (tuned on), top-3 / top-1", "casual", "tune", ("top3", "top1")),
    ("casual tune: out-of-scope not covered / answerable covered", "casual", "tune",
     ("oos-not-covered", "covered")),
)


def markdown_table(rows: Sequence[Row], default_mode: str, old_default: str = "hybrid") -> str:
    """The README's "Quality and speed" table: one line per `MARKDOWN_ROWS` entry found in
    `rows`, a column per mode (`MODES`), the best figure of each line in bold."""
    by = {(r.dataset, r.split, r.mode): r.metrics for r in rows}
    names = {m: m + (" (default)" if m == default_mode else " (old default)" if m == old_default else "")
             for m in MODES}
    out = ["| dataset | " + " | ".join(names[m] for m in MODES) + " |", "|---" * (len(MODES) + 1) + "|"]
    for label, dataset, split, keys in MARKDOWN_ROWS:
        cells = {m: by.get((dataset, split, m)) for m in MODES}
        if not any(cells.values()):
            continue
        best = [max((c[k] for c in cells.values() if c and k in c), default=None) for k in keys]
        line = []
        for m in MODES:
            c = cells[m]
            if not c:
                line.append("")
                continue
            parts = [(f"**{c[k]:.3f}**" if b is not None and c[k] == b else f"{c[k]:.3f}") if k in c else "–"
                     for k, b in zip(keys, best, strict=True)]
            line.append(" / ".join(parts))
        n = next(r.questions for r in rows if (r.dataset, r.split) == (dataset, split))
        out.append(f"| {label} (n={n}) | " + " | ".join(line) + " |")
    return "\n".join(out) + "\n"


def _published_line(dataset: str | None) -> str:
    pub = PUBLISHED[str(dataset)]
    metrics = "  ".join(f"{k} {v:.3f}" for k, v in pub.items() if k != "system")
    return f"  published {metrics}  [{pub['system']}]"


def modes_for(mode: str) -> tuple[str, ...]:
    """"all" -> every mode; otherwise the one named (validated). "default" is the configured
    default mode (casual: every setting at its default)."""
    if mode == "all":
        return MODES
    if mode == "default":
        return ("default",)
    if mode not in MODES:
        raise ValueError(f"unknown mode {mode!r}; use one of {', '.join(MODES)} or all")
    return (mode,)
