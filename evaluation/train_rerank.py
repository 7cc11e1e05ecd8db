"""Learn the reranker's weights (`bot/rerank_weights.json`) from tuning data only.

`python -m evaluation.train_rerank [--out bot/rerank_weights.json]`

Tuning data: SQuAD dev articles 1-24 (a corpus of those 24 articles only), the casual set's
tune split and the paraphrase set over all 2,225 BBC articles, the bundled article's seed
questions, and the dev splits of WikiQA and TrecQA (clean-dev), each question ranking its own
candidates as `python -m evaluation wikiqa-test` / `trecqa-test` do (`harness.candidate_pools`).
Held-out SQuAD articles (25-48), the casual test split and the WikiQA / TrecQA test splits are
never read.

1. Ranking: a linear scorer over `bot.rerank.FEATURES`, trained listwise (softmax cross-entropy
   of the gold sentences among each question's candidate pool, as ListNet, Cao et al. ICML
   2007), L2-regularised, each dataset weighted equally whatever its size.
2. Covered: logistic regression over `bot.rerank.QUESTION_FEATURES`. Positives: answerable
   tuning questions. Negatives: the casual set's out-of-scope tuning questions, and answerable
   questions asked with their own article left out of the corpus (news the corpus lacks, in the
   same register). The threshold is chosen on the casual tune split alone (`choose_threshold`):
   the highest probability that keeps `COVERED_RECALL` of its answerable questions covered,
   unless a lower one also marks `OOS_FLOOR` of its out-of-scope questions not covered (then
   the lowest such: more answerable questions kept). The whole trade-off curve is printed.
"""

from __future__ import annotations

import argparse
import json
import pickle
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import faiss
import numpy as np
from scipy.optimize import minimize

from bot import rerank
from bot.embed import Encoder
from evaluation import data as eval_data
from evaluation.harness import ONE_DOCUMENT, EvalCorpus, build_corpus, cached_encode, candidate_pools

#: Share of answerable casual tune questions that must stay covered when picking the threshold.
COVERED_RECALL = 0.95
#: Share of out-of-scope casual tune questions that should be marked not covered.
OOS_FLOOR = 0.90
L2 = 1e-3
#: L2 weight of the ranking fit (the shipped weights'; 1e-3 put the 11,000 sentence out of the
#: top 3 for "how many north koreans are there" on the 4-sentence bundled article).
RANK_L2 = 0.01
#: Each dataset's share of the ranking loss (whatever its size).
RANK_SHARE = {"squad": 1.0, "casual": 1.0, "seed": 1.0, "wikiqa": 1.0, "trecqa": 1.0}
#: Datasets that train the ranking only: answer-sentence selection among given candidates
#: says nothing about whether a corpus covers a question.
RANK_ONLY = frozenset({"wikiqa", "trecqa"})


@dataclass
class Example:
    """One question's pool: features, gold mask, and its dataset (for weighting)."""

    dataset: str
    pool: rerank.Pool
    gold: np.ndarray  # (m,) bool
    answerable: bool


def pools(corpus: EvalCorpus, questions: Sequence[eval_data.SpanQuestion], queries: np.ndarray,
          dataset: str, exclude_own: bool = False) -> list[Example]:
    """Candidate pools of `questions`; with `exclude_own`, asked without their own article."""
    out = []
    for q, vec in zip(questions, queries, strict=True):
        exclude = frozenset([q.document]) if exclude_own else frozenset()
        pool = rerank.candidate_pool(corpus.index, vec[None, :], q.question, exclude)
        gold = np.isin(pool.ids, list(corpus.gold(q.document, q.starts))) if not exclude_own else \
            np.zeros(len(pool.ids), dtype=bool)
        out.append(Example(dataset, pool, gold, not exclude_own))
    return out


def oos_pools(corpus: EvalCorpus, questions: Sequence[str], queries: np.ndarray, dataset: str) -> list[Example]:
    """Pools of out-of-scope questions (no gold)."""
    return [Example(dataset, p, np.zeros(len(p.ids), dtype=bool), False)
            for p in (rerank.candidate_pool(corpus.index, v[None, :], q) for q, v in zip(questions, queries,
                                                                                            strict=True))]


def fit_ranker(examples: Sequence[Example], l2: float = RANK_L2,
               share: dict[str, float] | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Listwise softmax fit, L2 weight `l2`, each dataset weighing `share[dataset]` in all.
    Returns `(mean, scale, weights)` over `rerank.FEATURES`."""
    share = share or RANK_SHARE
    train = [e for e in examples if e.answerable and e.gold.any()]
    allx = np.concatenate([e.pool.features for e in train])
    mean = allx.mean(axis=0)
    scale = np.maximum(allx.std(axis=0), 1e-6)
    per = {d: sum(1 for e in train if e.dataset == d) for d in {e.dataset for e in train}}
    xs = [(e.pool.features - mean) / scale for e in train]
    golds = [e.gold for e in train]
    ws = np.array([share.get(e.dataset, 1.0) / per[e.dataset] for e in train])
    ws /= ws.sum()
    x = np.concatenate(xs)
    bounds = np.cumsum([0] + [len(v) for v in xs])
    g = np.concatenate(golds)
    seg = np.repeat(np.arange(len(xs)), [len(v) for v in xs])
    wrow = ws[seg]

    def loss(w: np.ndarray) -> tuple[float, np.ndarray]:
        s = x @ w
        smax = np.maximum.reduceat(s, bounds[:-1])
        e = np.exp(s - smax[seg])
        z = np.add.reduceat(e, bounds[:-1])
        eg = np.where(g, e, 0.0)
        zg = np.add.reduceat(eg, bounds[:-1])
        nll = -(np.log(zg) - np.log(z))
        p_all = e / z[seg]
        p_gold = eg / zg[seg]
        grad = ((p_all - p_gold) * wrow) @ x
        return float(ws @ nll + l2 * w @ w), grad + 2 * l2 * w

    res = minimize(loss, np.zeros(x.shape[1]), jac=True, method="L-BFGS-B", options={"maxiter": 500})
    return mean, scale, res.x


def fit_covered(z: np.ndarray, y: np.ndarray, weight: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """Weighted logistic regression. Returns `(mean, scale, weights, bias)`."""
    mean = z.mean(axis=0)
    scale = np.maximum(z.std(axis=0), 1e-6)
    xs = (z - mean) / scale
    wn = weight / weight.sum()

    def loss(p: np.ndarray) -> tuple[float, np.ndarray]:
        t = xs @ p[:-1] + p[-1]
        pr = 1.0 / (1.0 + np.exp(-np.clip(t, -50, 50)))
        ll = -(y * np.log(pr + 1e-12) + (1 - y) * np.log(1 - pr + 1e-12))
        d = (pr - y) * wn
        grad = np.concatenate([d @ xs, [d.sum()]])
        reg = L2 * p[:-1] @ p[:-1]
        return float(wn @ ll + reg), grad + np.concatenate([2 * L2 * p[:-1], [0.0]])

    res = minimize(loss, np.zeros(xs.shape[1] + 1), jac=True, method="L-BFGS-B")
    return mean, scale, res.x[:-1], float(res.x[-1])


def top_k(examples: Sequence[Example], model: rerank.RerankModel | None, k: int) -> float:
    """Share of examples with a gold passage among the top `k` of the pool (model order, or
    the pool's own fused order when `model` is None)."""
    hits = 0
    for e in examples:
        if not len(e.pool.ids):
            continue
        order = np.argsort(-model.score(e.pool.features), kind="stable") if model else np.arange(len(e.gold))
        hits += bool(e.gold[order[:k]].any())
    return hits / max(len(examples), 1)


def choose_threshold(pos: np.ndarray, neg: np.ndarray, log: Callable[[str], None]) -> float:
    """The covered threshold from tune probabilities of answerable `pos` and out-of-scope `neg`
    questions (see the module's docstring); logs covered / OOS-not-covered along the curve."""
    if not len(pos):
        return 0.5
    keep = float(np.quantile(pos, 1 - COVERED_RECALL))
    for t in np.linspace(0.05, 0.95, 19):
        log(f"  threshold {t:.2f}: answerable covered {np.mean(pos >= t):.3f}, "
            f"out-of-scope not covered {np.mean(neg < t) if len(neg) else 0.0:.3f}")
    if not len(neg):
        return keep
    good = [float(t) for t in np.unique(pos) if t <= keep and np.mean(neg < t) >= OOS_FLOOR]
    return min(good) if good else keep


def gather(args: argparse.Namespace, encoder: Encoder, cache: Path, log: Callable[[str], None]) -> list[Example]:
    """Every tuning question's candidate pool (see the module's docstring for the data)."""
    examples: list[Example] = []
    # SQuAD tuning articles (1-24), a corpus of those articles only
    documents, questions = eval_data.squad_dev()
    tuning_docs = {q.document for q in questions if q.split == "tuning"}
    squad = build_corpus([d for d in documents if d.id in tuning_docs], encoder, cache)
    tune = [q for q in questions if q.split == "tuning"]
    qv = cached_encode(encoder, [q.question for q in questions], cache)[[q.split == "tuning" for q in questions]]
    rng = np.random.default_rng(0)
    pick = np.sort(rng.choice(len(tune), min(args.squad, len(tune)), replace=False))
    tune, qv = [tune[i] for i in pick], qv[pick]
    examples += pools(squad, tune, qv, "squad")
    neg = rng.choice(len(tune), min(400, len(tune)), replace=False)
    examples += pools(squad, [tune[i] for i in neg], qv[neg], "squad-neg", exclude_own=True)
    log(f"squad: {len(tune)} questions")
    # casual BBC: tune split of the casual set, plus the paraphrase set
    casual, oos = eval_data.casual_tune(Path(args.casual) if args.casual else None) if not args.no_bbc else ([], [])
    bbc = None if args.no_bbc else build_corpus(eval_data.bbc_documents(), encoder, cache)
    if bbc is not None and casual:
        cv = cached_encode(encoder, [q.question for q in casual], cache)
        examples += pools(bbc, casual, cv, "casual")
        examples += pools(bbc, casual, cv, "casual-neg", exclude_own=True)
    if oos and bbc is not None:
        ov = cached_encode(encoder, oos, cache)
        examples += oos_pools(bbc, oos, ov, "casual-oos")
    log(f"casual: {len(casual)} answerable, {len(oos)} out of scope")
    # the bundled article's seed questions
    from bot.corpus import load_corpus
    from evaluation.harness import ISSUE_QUESTIONS, SEED_QUESTIONS
    seed = build_corpus(load_corpus(eval_data.SEED_CORPUS).documents, encoder, None)
    for question, phrase in [*SEED_QUESTIONS, *ISSUE_QUESTIONS]:
        pool = rerank.candidate_pool(seed.index, encoder.encode_query(question), question)
        gold = np.array([phrase in seed.index.passages[int(i)].text for i in pool.ids])
        examples.append(Example("seed", pool, gold, True))

    examples += candidate_examples(encoder, log)
    return examples


def candidate_examples(encoder: Encoder, log: Callable[[str], None]) -> list[Example]:
    """Pools of the WikiQA and TrecQA dev questions with a correct candidate (ranking only)."""
    out: list[Example] = []
    for name, questions in (("wikiqa", eval_data.wikiqa(eval_data.WIKIQA_DEV)),
                            ("trecqa", eval_data.trecqa(eval_data.TRECQA_DEV))):
        kept = [q for q in questions if any(q.labels)]
        texts = sorted({c for q in kept for c in q.candidates})
        row = {t: i for i, t in enumerate(texts)}
        pooled = candidate_pools(kept, encoder.encode(texts), row, encoder.encode([q.question for q in kept]),
                                 ONE_DOCUMENT[f"{name}-dev"])
        for q, (pool, local) in zip(kept, pooled, strict=True):
            out.append(Example(name, pool, np.array([bool(q.labels[i]) for i in local]), True))
        log(f"{name} dev: {len(kept)} questions")
    return out


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m evaluation.train_rerank", description=__doc__)
    p.add_argument("--out", default=str(rerank.WEIGHTS))
    p.add_argument("--cache", default="/tmp/newsqa-eval-cache")
    p.add_argument("--casual", default=None, help="the casual question set (default benchmarks/data/casual.jsonl)")
    p.add_argument("--squad", type=int, default=2000, help="SQuAD tuning questions sampled (seeded)")
    p.add_argument("--no-bbc", action="store_true", help="SQuAD and seed only (a quick smoke run)")
    p.add_argument("--pools", metavar="FILE", help="pickle of the candidate pools: read if it exists, "
                   "else written (refits then take seconds)")
    p.add_argument("--l2", type=float, default=RANK_L2, help="L2 weight of the ranking fit")
    p.add_argument("--share", default="", help="ranking-loss share per dataset, e.g. squad=1,casual=1,seed=0.2")
    args = p.parse_args(argv)
    from bot.config import Settings

    faiss.omp_set_num_threads(1)

    s = Settings()
    encoder = Encoder(s.model_name_or_path, s.embedding_backend, s.embedding_batch_size)
    cache = Path(args.cache)
    try:  # the per-text vector cache shared by evaluation runs, where this checkout has it
        from evaluation.vector_cache import CachedEncoder
        encoder = CachedEncoder(encoder, cache)
    except ImportError:
        pass
    log = lambda m: print(m, file=sys.stderr, flush=True)  # noqa: E731
    pools_file = Path(args.pools) if args.pools else None
    if pools_file is not None and pools_file.exists():
        examples: list[Example] = pickle.loads(pools_file.read_bytes())
    else:
        examples = gather(args, encoder, cache, log)
        if pools_file is not None:
            pools_file.write_bytes(pickle.dumps(examples))
    share = {**RANK_SHARE, **{k: float(v) for k, v in (kv.split("=") for kv in args.share.split(",") if kv)}}
    mean, scale, weights = fit_ranker(examples, args.l2, share)
    model = rerank.RerankModel(mean, scale, weights, np.zeros(len(rerank.QUESTION_FEATURES)),
                               np.ones(len(rerank.QUESTION_FEATURES)), np.zeros(len(rerank.QUESTION_FEATURES)),
                               0.0, 0.5)
    zs, ys, wts, names = [], [], [], []
    counts: dict[str, int] = {}
    for e in examples:
        counts[e.dataset] = counts.get(e.dataset, 0) + 1
    share = {"squad": 0.5, "squad-neg": 0.5, "casual": 1.0, "casual-neg": 0.6, "casual-oos": 1.0, "seed": 0.1}
    for e in examples:
        if e.dataset in RANK_ONLY:
            continue
        sc = model.score(e.pool.features) if len(e.pool.ids) else np.zeros(0)
        if e.answerable and len(sc) and not e.gold[int(np.argmax(sc))] and e.dataset != "seed":
            pass  # still covered: the article holds the answer even when the top sentence is wrong
        zs.append(rerank.question_features(e.pool, sc))
        ys.append(1.0 if e.answerable else 0.0)
        wts.append(share.get(e.dataset, 0.5) / counts[e.dataset])
        names.append(e.dataset)
    z, y, wt = np.array(zs), np.array(ys), np.array(wts)
    q_mean, q_scale, q_w, q_b = fit_covered(z, y, wt)
    model = rerank.RerankModel(mean, scale, weights, q_mean, q_scale, q_w, q_b, 0.5)
    prob = np.array([model.covered(v) for v in z])
    names_arr = np.array(names)
    pos = prob[names_arr == "casual"] if (names_arr == "casual").any() else prob[names_arr == "squad"]
    neg = prob[names_arr == "casual-oos"]
    threshold = choose_threshold(pos, neg, log)
    for d in sorted(set(names)):
        sel = names_arr == d
        share_covered = float(np.mean(prob[sel] >= threshold))
        log(f"  {d:<11} n={int(sel.sum()):>5}  covered at {threshold:.3f}: {share_covered:.3f}")
    out = {
        "features": list(rerank.FEATURES), "question_features": list(rerank.QUESTION_FEATURES),
        "mean": mean.tolist(), "scale": scale.tolist(), "weights": weights.tolist(),
        "q_mean": q_mean.tolist(), "q_scale": q_scale.tolist(), "q_weights": q_w.tolist(),
        "q_bias": q_b, "threshold": round(threshold, 4),
        "trained_on": {d: counts[d] for d in sorted(counts)},
    }
    Path(args.out).write_text(json.dumps(out, indent=1) + "\n", encoding="utf-8")
    for d in sorted(counts):
        sel = [e for e in examples if e.dataset == d and e.answerable]
        if sel:
            log(f"  {d:<11} top1/top3 in pool (tune): " + " ".join(
                f"{top_k(sel, model, k):.3f}" for k in (1, 3)) + f"; fused-only top1 {top_k(sel, None, 1):.3f}")
    for name, w in sorted(zip(rerank.FEATURES, weights, strict=True), key=lambda t: -abs(t[1])):
        log(f"  {name:<14} {w:+.3f}")
    for name, w in zip(rerank.QUESTION_FEATURES, q_w, strict=True):
        log(f"  q:{name:<14} {w:+.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
