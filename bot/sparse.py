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
from bm25s.scoring import (
    _build_idf_array,
    _build_scores_and_indices_for_matrix,
    _calculate_doc_freqs,
    _select_idf_scorer,
)
from bm25s.tokenization import Tokenizer

from bot.shards import merge_top_k

#: Words, with inner "." "," or "'" kept so that numbers such as 1,000 and 1.5 stay one token.
TOKEN_PATTERN = r"(?u)\w+(?:[.,']\w+)*"
_SPLIT = re.compile(TOKEN_PATTERN).findall


def _tokenizer() -> Tokenizer:
    return Tokenizer(splitter=TOKEN_PATTERN, stopwords="en", stemmer=Stemmer.Stemmer("english"))


class SparseIndex:
    """BM25 over passages, in one or more shards of contiguous passage ids. Scores are raw BM25
    (unbounded, >= 0).

    Every shard scores with the statistics of the whole corpus (document frequencies, passage
    count, mean passage length), so a sharded index gives every passage the same score as an
    unsharded one; the shards share one vocabulary (`tokenizer`).
    """

    def __init__(self, retrievers: bm25s.BM25 | list[bm25s.BM25], tokenizer: Tokenizer) -> None:
        self.retrievers = retrievers if isinstance(retrievers, list) else [retrievers]
        self.offsets = np.cumsum([0] + [r.scores["num_docs"] for r in self.retrievers]).tolist()
        self.tokenizer = tokenizer
        self._stop = frozenset(tokenizer.stopwords or ())
        self._stemmer = Stemmer.Stemmer("english")

    @property
    def size(self) -> int:
        """Number of passages indexed, all shards together."""
        return int(self.offsets[-1])

    @classmethod
    def build(cls, texts: Sequence[str], bounds: Sequence[tuple[int, int]] | None = None) -> SparseIndex:
        """Index `texts` (passage order = ids), in one shard per `(start, stop)` range of `bounds`
        (default: one shard). Each shard needs only its own passages' token ids and the
        corpus-wide counts, which sum over shards (how a cluster would build them)."""
        tokenizer = _tokenizer()
        ids = tokenizer.tokenize(list(texts), return_as="ids", show_progress=False)
        if bounds is None or len(bounds) <= 1:
            retriever = bm25s.BM25()
            retriever.index(ids, show_progress=False)
            return cls(retriever, tokenizer)
        # The vocabulary exactly as bm25s makes it from token ids (plus its empty token).
        unique: set[int] = set()
        for doc in ids:
            unique.update(doc)
        unique.add(0 if 0 not in unique else max(unique) + 1)
        vocab = {token: i for i, token in enumerate(unique)}
        corpus = _CorpusStats.of([ids[a:b] for a, b in bounds], list(vocab.values()))
        retrievers = []
        for a, b in bounds:
            retriever = _CorpusBM25(corpus)
            retriever.index((ids[a:b], dict(vocab)), show_progress=False)
            retrievers.append(retriever)
        return cls(retrievers, tokenizer)

    def save(self, folder: Path) -> None:
        """Write the index and vocabulary as JSON/NumPy files (no pickle) into `folder`; shards
        go into `folder/shard-000`, `shard-001`, ... beside the one vocabulary."""
        folder.mkdir(parents=True, exist_ok=True)
        if len(self.retrievers) == 1:
            self.retrievers[0].save(str(folder), show_progress=False)
        else:
            for s, retriever in enumerate(self.retrievers):
                retriever.save(str(folder / f"shard-{s:03d}"), show_progress=False)
        self.tokenizer.save_vocab(str(folder))

    @classmethod
    def load(cls, folder: Path, mmap: bool = False) -> SparseIndex:
        """Read an index written by `save`; with `mmap`, the score matrices are memory-mapped
        (read from disk on demand, shared with the page cache) instead of loaded into memory.
        Raises OSError/ValueError on missing or bad files."""
        shards = sorted(folder.glob("shard-*"))
        if shards:
            retrievers = [bm25s.BM25.load(str(shard), mmap=mmap) for shard in shards]
        else:
            retrievers = [bm25s.BM25.load(str(folder), mmap=mmap)]
        tokenizer = _tokenizer()
        tokenizer.load_vocab(str(folder))
        return cls(retrievers, tokenizer)

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
        """Top-`k` passages by BM25 as `(passage id, score)`, best score first, ties by lower id;
        no zero-score hits. A sharded index takes each shard's top-`k` and merges them."""
        ids = self.query_tokens(question)
        if not ids or k <= 0:
            return []
        lists = []
        for offset, retriever in zip(self.offsets, self.retrievers, strict=False):
            lists.append([(offset + i, s) for i, s in _top_k(retriever.get_scores(ids), k)])
        return lists[0] if len(lists) == 1 else merge_top_k(lists, k)

    def scores(self, question: str) -> np.ndarray:
        """BM25 score of every passage for `question`: a `(n,)` float32 array (zeros if no known word)."""
        ids = self.query_tokens(question)
        if not ids:
            return np.zeros(self.size, dtype=np.float32)
        return np.concatenate([np.asarray(r.get_scores(ids), dtype=np.float32) for r in self.retrievers])

    def query_weight(self, question: str) -> float:
        """Sum of the IDFs of the question's known words: about the BM25 score of a passage of
        average length holding each of them once (Lucene IDF, `bm25s`' default), 0 if none.

        Dividing a BM25 score by it says how much of the question a passage matches, on the same
        scale for every question, unlike dividing by the best score (which makes the best of a
        poor set of matches look perfect). Document frequencies add up over shards.
        """
        ids = self.query_tokens(question)
        if not ids:
            return 0.0
        df = np.zeros(len(ids), dtype=np.float64)
        for retriever in self.retrievers:
            indptr = retriever.scores["indptr"]
            df += np.array([indptr[i + 1] - indptr[i] for i in ids], dtype=np.float64)
        n = self.size
        return float(np.sum(np.log(1.0 + (n - df + 0.5) / (df + 0.5))))


    def query_terms(self, question: str) -> tuple[list[int], int]:
        """The question's distinct known vocabulary ids (first-seen order) and how many of its
        content words (not stop words) the corpus has never seen."""
        vocab = self.tokenizer.get_vocab_dict()
        known: list[int] = []
        unknown = 0
        for word in _SPLIT(question.lower()):
            if word in self._stop:
                continue
            tid = vocab.get(self._stemmer.stemWord(word))
            if tid is None:
                unknown += 1
            elif tid not in known:
                known.append(tid)
        return known, unknown

    def scores_for(self, ids: Sequence[int]) -> np.ndarray:
        """BM25 of every passage for vocabulary `ids`: `(n,)` float32 (zeros when none)."""
        if not ids:
            return np.zeros(self.size, dtype=np.float32)
        return np.concatenate([np.asarray(r.get_scores(list(ids)), dtype=np.float32) for r in self.retrievers])

    def idf(self, ids: Sequence[int]) -> np.ndarray:
        """Lucene IDF of each vocabulary id: `(len(ids),)` float64 (as `query_weight` sums)."""
        df = np.zeros(len(ids), dtype=np.float64)
        for retriever in self.retrievers:
            indptr = retriever.scores["indptr"]
            df += np.array([indptr[i + 1] - indptr[i] for i in ids], dtype=np.float64)
        n = self.size
        return np.log(1.0 + (n - df + 0.5) / (df + 0.5))

    def postings(self, term: int) -> np.ndarray:
        """Passage ids holding vocabulary id `term`: `(k,)` int64, read from BM25's term-major
        sparse matrix of each shard."""
        parts = []
        for offset, retriever in zip(self.offsets, self.retrievers, strict=False):
            indptr, indices = retriever.scores["indptr"], retriever.scores["indices"]
            parts.append(offset + np.asarray(indices[indptr[term]:indptr[term + 1]], dtype=np.int64))
        return parts[0] if len(parts) == 1 else np.concatenate(parts)

def _top_k(scores: np.ndarray, k: int) -> list[tuple[int, float]]:
    """The `k` best positive entries of `scores` as `(row, score)`, best first, ties by lower row."""
    k = min(k, len(scores))
    if k <= 0:
        return []
    floor = scores[np.argpartition(-scores, k - 1)[k - 1]]
    rows = np.flatnonzero(scores >= max(floor, np.finfo(np.float32).tiny))
    rows = rows[np.lexsort((rows, -scores[rows]))][:k]
    return [(int(i), float(scores[i])) for i in rows]


class _CorpusStats:
    """What BM25 needs to know of the whole corpus: passage count, mean length, document
    frequency per token id. Each is a sum over shards."""

    def __init__(self, n_docs: int, total_length: int, doc_frequencies: dict[int, int]) -> None:
        self.n_docs = n_docs
        # A NumPy float64, as bm25s's own mean is: it keeps the scoring in float64 (a Python
        # float would let NumPy 2 compute in float32 and change the last bits of every score).
        self.avg_doc_len = np.float64(total_length) / n_docs if n_docs else np.float64(0.0)
        self.doc_frequencies = doc_frequencies

    @classmethod
    def of(cls, shards: list[list[list[int]]], vocabulary: list[int]) -> _CorpusStats:
        df = dict.fromkeys(vocabulary, 0)
        n = length = 0
        for docs in shards:
            for token, count in _calculate_doc_freqs(docs, vocabulary, show_progress=False).items():
                df[token] += count
            n += len(docs)
            length += sum(len(doc) for doc in docs)
        return cls(n, length, df)


class _CorpusBM25(bm25s.BM25):
    """A bm25s index of one shard scored with the whole corpus's statistics: the same steps as
    `bm25s.BM25.build_index_from_ids` (Lucene BM25, bm25s 0.3), with the corpus-wide IDF and
    mean length in place of the shard's own."""

    def __init__(self, corpus: _CorpusStats) -> None:
        super().__init__()
        self.corpus_stats = corpus

    def build_index_from_ids(self, unique_token_ids, corpus_token_ids, show_progress=True,  # type: ignore[no-untyped-def]
                             leave_progress=False):
        if self.method in self.methods_requiring_nonoccurrence:
            raise ValueError(f"sharded BM25 does not support the {self.method} variant")
        self.nonoccurrence_array = None
        local_df = _calculate_doc_freqs(corpus_token_ids, unique_token_ids, show_progress=False)
        idf = _build_idf_array(self.corpus_stats.doc_frequencies, self.corpus_stats.n_docs,
                               _select_idf_scorer(self.idf_method), dtype=self.dtype)
        scores_flat, doc_idx, vocab_idx = _build_scores_and_indices_for_matrix(
            corpus_token_ids=corpus_token_ids, idf_array=idf, avg_doc_len=self.corpus_stats.avg_doc_len,
            doc_frequencies=local_df, k1=self.k1, b=self.b, delta=self.delta, show_progress=False,
            dtype=self.dtype, int_dtype=self.int_dtype, method=self.method, nonoccurrence_array=None,
        )
        shape = (len(corpus_token_ids), len(unique_token_ids))
        data, indices, indptr = self._np_csc(data=scores_flat, rows=doc_idx, cols=vocab_idx, shape=shape)
        return {"data": data.astype(self.dtype), "indices": indices, "indptr": indptr,
                "num_docs": len(corpus_token_ids)}
