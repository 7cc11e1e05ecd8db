"""The follow-up benchmark: our own question pairs over the bundled article and BBC articles.

`benchmarks/data/followups.jsonl`: each row is an `earlier` question, then a `question` asked
right after it, the `document` and `answers` (phrases of the sentences that answer the
question), its `kind` ("follow-up": incomplete without the earlier question; "self-contained":
a new question after an unrelated one) and `split` ("tune": constants in `bot.followup` were
chosen on these; "test": reported only). A hit is a top-3 passage covering the first character
of one of the answers. Each question is searched with the earlier one as context, the way
`QAService.ask(earlier=…)` does (`bot.followup.retrieve_follow_up`, the earlier answer's
documents as a prior when it cleared the threshold), and without it.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from bot import followup
from bot.corpus import read_document
from bot.embed import Encoder
from bot.index import Index
from bot.rerank import default_model
from bot.retrieve import Retrieval, retrieve_vector
from evaluation import data as eval_data
from evaluation.harness import PARAPHRASE_STRIDE, EvalCorpus, Row, build_corpus

FOLLOWUP_SET = eval_data.REPO / "benchmarks" / "data" / "followups.jsonl"
SEED_DOCUMENT = "ukraine-holds-kursk-foothold.txt"
TOP = 3


@dataclass(frozen=True)
class Pair:
    """One row of the follow-up set, its answers located as character offsets."""

    earlier: str
    question: str
    document: str
    starts: tuple[int, ...]
    kind: str
    split: str


def load_pairs(path: Path = FOLLOWUP_SET) -> list[Pair]:
    """The follow-up set, each answer phrase found in its document.

    Raises:
        FileNotFoundError: the BBC articles or the bundled article are not beside the checkout.
        ValueError: an answer phrase is not in its document.
    """
    pairs = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        row = json.loads(line)
        folder = eval_data.SEED_CORPUS if row["document"] == SEED_DOCUMENT else eval_data.BBC_NEWS
        doc = read_document(eval_data._need(folder / row["document"]), folder)
        starts = tuple(doc.text.find(a) for a in row["answers"])
        if min(starts) < 0:
            raise ValueError(f"{path}:{n}: an answer is not in {row['document']}")
        pairs.append(Pair(row["earlier"], row["question"], doc.id, starts, row["kind"], row["split"]))
    return pairs


_NAMES: dict[int, followup.CorpusNames] = {}


def names_of(index: Index) -> followup.CorpusNames:
    """One `CorpusNames` per index (its answers are cached)."""
    if id(index) not in _NAMES or _NAMES[id(index)].index is not index:
        _NAMES[id(index)] = followup.CorpusNames(index)
    return _NAMES[id(index)]


def answered(found: Retrieval, threshold: float) -> bool:
    """Whether the product would call `found` an answer, as `QAService.ask` does: the
    reranker's covered probability against its calibrated threshold in a reranking mode, else
    the best cosine against `threshold`."""
    if found.covered is not None:
        return found.covered >= default_model().threshold
    return found.best_score >= threshold


def follow_up_hits(corpus: EvalCorpus, encoder: Encoder, pair: Pair, with_context: bool,
                   threshold: float, mode: str = "hybrid") -> list[int]:
    """Passage ids of the top-3 for `pair.question`, with or without the earlier question."""
    index = corpus.index
    earlier: list[followup.Turn] = []
    if with_context:
        first = retrieve_vector(index, encoder.encode_query(pair.earlier), pair.earlier, TOP, mode=mode)
        shown = first.hits if answered(first, threshold) else []
        docs = tuple(dict.fromkeys(h.passage.document for h in shown))
        earlier = [followup.Turn(pair.earlier, pair.earlier, docs, tuple(h.passage.text for h in shown))]
    follow = followup.resolve(pair.question, earlier, names_of(index))
    if follow is None:
        found = retrieve_vector(index, encoder.encode_query(pair.question), pair.question, TOP, mode=mode)
        return [h.id for h in found.hits]
    return [h.id for h in followup.retrieve_follow_up(index, encoder, pair.question, follow, TOP, mode=mode).hits]


def followup_corpus(encoder: Encoder, cache_dir: Path | None, stride: int = PARAPHRASE_STRIDE,
                    pairs: Sequence[Pair] | None = None) -> EvalCorpus:
    """The set's documents plus every `stride`-th BBC article as distractors, indexed in memory."""
    from bot.corpus import load_corpus

    pairs = load_pairs() if pairs is None else pairs
    keep = frozenset(p.document for p in pairs if p.document != SEED_DOCUMENT)
    documents = [*load_corpus(eval_data.SEED_CORPUS).documents,
                 *eval_data.bbc_documents(stride=stride, keep=keep)]
    return build_corpus(documents, encoder, cache_dir)


def eval_followups(encoder: Encoder, cache_dir: Path | None, stride: int = PARAPHRASE_STRIDE,
                   threshold: float = 0.43, mode: str = "hybrid", corpus: EvalCorpus | None = None,
                   with_context_only: bool = False) -> list[Row]:
    """Top-3 hit rate per split and kind, with and without context (only with it when
    `with_context_only`), over `corpus` (default: `followup_corpus`)."""
    pairs = load_pairs()
    corpus = followup_corpus(encoder, cache_dir, stride, pairs) if corpus is None else corpus
    runs = (("with context", True),) if with_context_only else (("with context", True), ("without", False))
    rows = []
    for split in ("tune", "test"):
        for kind in ("follow-up", "self-contained"):
            chosen = [p for p in pairs if p.split == split and p.kind == kind]
            metrics = {}
            for label, with_context in runs:
                hit = sum(bool(set(follow_up_hits(corpus, encoder, p, with_context, threshold, mode))
                               & corpus.gold(p.document, p.starts)) for p in chosen)
                metrics[f"top-3 {label}"] = hit / max(len(chosen), 1)
            rows.append(Row(f"followups {kind}", split, mode, metrics, len(chosen),
                            {"passages": corpus.index.size}))
    return rows
