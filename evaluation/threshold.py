"""Calibrating the "no answer" threshold: best cosines of answerable and unanswerable questions."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from bot.corpus import Document

if TYPE_CHECKING:
    from evaluation.data import SpanQuestion
    from evaluation.harness import EvalCorpus


def best_cosines(corpus: EvalCorpus, documents: Sequence[Document], questions: Sequence[SpanQuestion],
                 queries: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Best passage cosine of each question over its own article (answerable) and over the next
    article in file order (unanswerable). Returns two `(n,)` float32 arrays."""
    order = [d.id for d in documents]
    rows = {d: sorted({pid for _, _, pid in corpus.by_document[d]}) for d in order}
    emb = np.asarray(corpus.index.embeddings)
    pos = np.empty(len(questions), dtype=np.float32)
    neg = np.empty(len(questions), dtype=np.float32)
    for i, (q, vec) in enumerate(zip(questions, queries, strict=True)):
        other = order[(order.index(q.document) + 1) % len(order)]
        pos[i] = float(np.max(emb[rows[q.document]] @ vec))
        neg[i] = float(np.max(emb[rows[other]] @ vec))
    return pos, neg


def precision_recall(pos: np.ndarray, neg: np.ndarray, threshold: float) -> tuple[float, float]:
    """Precision and recall of "answered" (best cosine >= threshold) on answerable questions."""
    tp = int(np.sum(pos >= threshold))
    fp = int(np.sum(neg >= threshold))
    return (tp / (tp + fp) if tp + fp else 1.0), tp / max(len(pos), 1)


def choose_threshold(pos: np.ndarray, neg: np.ndarray) -> float:
    """The threshold (on a 0.01 grid) with the best F1 of "answered"; ties go to the higher one."""
    best, best_f1 = 0.0, -1.0
    for t in np.round(np.arange(0.0, 1.0, 0.01), 2):
        p, r = precision_recall(pos, neg, float(t))
        f1 = 2 * p * r / (p + r) if p + r else 0.0
        if f1 >= best_f1:
            best, best_f1 = float(t), f1
    return best
