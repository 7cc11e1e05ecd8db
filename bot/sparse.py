"""Sparse stage: a BM25 index over the same passages as the dense index (bm25s + PyStemmer).

BM25 is Robertson & Zaragoza's Okapi BM25 as implemented by `bm25s` (Lù, 2024), with the
Snowball English stemmer and English stop words. The token pattern keeps numbers whole
("1,000", "1.5", "2024") because figures and years matter in news questions.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

import bm25s
import numpy as np
import Stemmer
from bm25s.tokenization import Tokenizer

#: Words, with inner "." "," or "'" kept so that numbers such as 1,000 and 1.5 stay one token.
TOKEN_PATTERN = r"(?u)\w+(?:[.,']\w+)*"
_SPLIT = re.compile(TOKEN_PATTERN).findall


def _tokenizer() -> Tokenizer:
    return Tokenizer(splitter=TOKEN_PATTERN, stopwords="en", stemmer=Stemmer.Stemmer("english"))


class SparseIndex:
    """BM25 over passages. Scores are raw BM25 (unbounded, >= 0)."""

    def __init__(self, retriever: bm25s.BM25, tokenizer: Tokenizer) -> None:
        self.retriever = retriever
        self.tokenizer = tokenizer
        self._stop = frozenset(tokenizer.stopwords or ())
        self._stemmer = Stemmer.Stemmer("english")

    @classmethod
    def build(cls, texts: Sequence[str]) -> SparseIndex:
        """Index `texts` (passage order = ids)."""
        tokenizer = _tokenizer()
        ids = tokenizer.tokenize(list(texts), return_as="ids", show_progress=False)
        retriever = bm25s.BM25()
        retriever.index(ids, show_progress=False)
        return cls(retriever, tokenizer)

    def save(self, folder: Path) -> None:
        """Write the index and vocabulary as JSON/NumPy files (no pickle) into `folder`."""
        folder.mkdir(parents=True, exist_ok=True)
        self.retriever.save(str(folder), show_progress=False)
        self.tokenizer.save_vocab(str(folder))

    @classmethod
    def load(cls, folder: Path) -> SparseIndex:
        """Read an index written by `save`. Raises OSError/ValueError on missing or bad files."""
        retriever = bm25s.BM25.load(str(folder))
        tokenizer = _tokenizer()
        tokenizer.load_vocab(str(folder))
        return cls(retriever, tokenizer)

    def query_tokens(self, question: str) -> list[int]:
        """Vocabulary ids of the question's known tokens (unknown words are dropped).

        Same steps as the `bm25s` tokenizer (lower-case, split, drop stop words, stem), done
        directly: the library call costs ~3 ms a question, a third of a whole answer.
        """
        vocab = self.tokenizer.get_vocab_dict()
        out = []
        for word in _SPLIT(question.lower()):
            if word in self._stop:
                continue
            tid = vocab.get(self._stemmer.stemWord(word))
            if tid is not None:
                out.append(tid)
        return out

    def search(self, question: str, k: int) -> list[tuple[int, float]]:
        """Top-`k` passages by BM25 as `(passage id, score)`, best first; no zero-score hits."""
        ids = self.query_tokens(question)
        if not ids:
            return []
        scores = self.retriever.get_scores(ids)
        k = min(k, len(scores))
        top = np.argpartition(-scores, k - 1)[:k]
        top = top[np.argsort(-scores[top], kind="stable")]
        return [(int(i), float(scores[i])) for i in top if scores[i] > 0]

    def scores(self, question: str) -> np.ndarray:
        """BM25 score of every passage for `question`: a `(n,)` float32 array (zeros if no known word)."""
        ids = self.query_tokens(question)
        if not ids:
            return np.zeros(self.retriever.scores["num_docs"], dtype=np.float32)
        return np.asarray(self.retriever.get_scores(ids), dtype=np.float32)

    def query_weight(self, question: str) -> float:
        """Sum of the IDFs of the question's known words: about the BM25 score of a passage of
        average length holding each of them once (Lucene IDF, `bm25s`' default), 0 if none.

        Dividing a BM25 score by it says how much of the question a passage matches, on the same
        scale for every question, unlike dividing by the best score (which makes the best of a
        poor set of matches look perfect).
        """
        ids = self.query_tokens(question)
        if not ids:
            return 0.0
        indptr = self.retriever.scores["indptr"]
        n = self.retriever.scores["num_docs"]
        df = np.array([indptr[i + 1] - indptr[i] for i in ids], dtype=np.float64)
        return float(np.sum(np.log(1.0 + (n - df + 0.5) / (df + 0.5))))
