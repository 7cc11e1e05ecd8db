"""BM25 shards scored with the whole corpus's statistics (build time only: imports bm25s).

`bot.sparse.SparseIndex.build` uses these when an index is split into shards (`bot.shards`);
the answering path never imports this module.
"""

from __future__ import annotations

import bm25s
import numpy as np
from bm25s.scoring import (
    _build_idf_array,
    _build_scores_and_indices_for_matrix,
    _calculate_doc_freqs,
    _select_idf_scorer,
)


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
