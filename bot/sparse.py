"""Sparse stage: a BM25 index over the same passages as the dense index (bm25s + PyStemmer).

BM25 is Robertson & Zaragoza's Okapi BM25 as implemented by `bm25s` (Lù, 2024), with the
Snowball English stemmer and English stop words. The token pattern keeps numbers whole
("1,000", "1.5", "2024") because figures and years matter in news questions.

Building imports bm25s (and SciPy through it); reading a saved index does not: its score
matrix is three NumPy arrays summed exactly as bm25s's NumPy backend sums them
(`_SavedBM25`), which kept ~0.15 s of imports out of every cold `ask`.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, Literal

import numpy as np
import Stemmer

from bot.shards import merge_top_k

#: Words, with inner "." "," or "'" kept so that numbers such as 1,000 and 1.5 stay one token.
TOKEN_PATTERN = r"(?u)\w+(?:[.,']\w+)*"
_SPLIT = re.compile(TOKEN_PATTERN).findall
#: bm25s's file names inside a saved index (and shard) folder.
_PARAMS, _VOCAB, _STOPWORDS = "params.index.json", "vocab.tokenizer.json", "stopwords.tokenizer.json"
#: Scoring variants whose saved matrix is the whole score (no per-query non-occurrence term).
_PLAIN_METHODS = frozenset({"robertson", "lucene", "atire"})


#: Unicode's combining diacritical marks (U+0300–U+036F): the accents of Latin, Greek and
#: Cyrillic letters once decomposed. Marks of other scripts (a Devanagari virama) are letters'
#: parts, not accents, and stay.
_ACCENTS = re.compile("[\u0300-\u036f]")


def fold(text: str) -> str:
    """`text` with accents taken off ("Zürich" → "Zurich", "José Müller" → "Jose Muller"), the
    way BM25 reads passages and questions, so that a question typed without accents finds the
    names an article writes with them, and the other way round. ASCII text is returned as is."""
    if text.isascii():
        return text
    return unicodedata.normalize("NFC", _ACCENTS.sub("", unicodedata.normalize("NFD", text)))


def _tokenizer() -> Any:
    from bm25s.tokenization import Tokenizer

    return Tokenizer(splitter=TOKEN_PATTERN, stopwords="en", stemmer=Stemmer.Stemmer("english"))


class _SavedBM25:
    """A saved bm25s index read with NumPy alone: `scores` (data, indices, indptr, num_docs)
    and `get_scores`, which adds each query token's column of precomputed scores in query
    order (`np.add.at`), as `bm25s.BM25.get_scores_from_ids` does with its NumPy backend.

    Raises:
        OSError, ValueError, KeyError: missing or unreadable files.
    """

    def __init__(self, folder: Path, mmap: bool) -> None:
        params = json.loads((folder / _PARAMS).read_text(encoding="utf-8"))
        if params.get("method", "lucene") not in _PLAIN_METHODS:
            raise ValueError(f"BM25 variant {params.get('method')!r} needs bm25s to score")
        mode: Literal["r"] | None = "r" if mmap else None
        self.dtype = np.dtype(params.get("dtype", "float32"))
        self.int_dtype = np.dtype(params.get("int_dtype", "int32"))
        self.scores: dict[str, Any] = {
            name: np.load(folder / f"{name}.csc.index.npy", mmap_mode=mode, allow_pickle=False)
            for name in ("data", "indices", "indptr")
        }
        self.scores["num_docs"] = int(params["num_docs"])

    def get_scores(self, ids: Sequence[int]) -> np.ndarray:
        """BM25 score of every passage of this index for vocabulary ids `ids`: `(n,)`."""
        data, indices, indptr = self.scores["data"], self.scores["indices"], self.scores["indptr"]
        tokens = np.asarray(ids, dtype=self.int_dtype)
        if int(tokens.max(initial=0)) >= len(indptr) - 1:
            raise ValueError("a query token id is outside the index's vocabulary")
        scores = np.zeros(self.scores["num_docs"], dtype=self.dtype)
        starts, ends = indptr[tokens], indptr[tokens + 1]
        for start, end in zip(starts, ends, strict=True):
            np.add.at(scores, indices[start:end], data[start:end])
        return scores


class SparseIndex:
    """BM25 over passages, in one or more shards of contiguous passage ids. Scores are raw BM25
    (unbounded, >= 0).

    Every shard scores with the statistics of the whole corpus (document frequencies, passage
    count, mean passage length), so a sharded index gives every passage the same score as an
    unsharded one; the shards share one vocabulary (`vocab`: stem -> token id).
    """

    def __init__(self, retrievers: Any, vocab: dict[str, int], stopwords: Iterable[str],
                 tokenizer: Any = None) -> None:
        self.retrievers = retrievers if isinstance(retrievers, list) else [retrievers]
        self.offsets = np.cumsum([0] + [r.scores["num_docs"] for r in self.retrievers]).tolist()
        #: The bm25s tokenizer of a build (None for a loaded index: it is only needed to save).
        self.tokenizer = tokenizer
        self.vocab = vocab
        self._stop = frozenset(stopwords)
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
        import bm25s

        tokenizer = _tokenizer()
        ids = tokenizer.tokenize([fold(t) for t in texts], return_as="ids", show_progress=False)
        stop = tokenizer.stopwords or ()
        if bounds is None or len(bounds) <= 1:
            retriever = bm25s.BM25()
            retriever.index(ids, show_progress=False)
            return cls(retriever, tokenizer.get_vocab_dict(), stop, tokenizer)
        from bot.bm25_shards import _CorpusBM25, _CorpusStats

        # The vocabulary exactly as bm25s makes it from token ids (plus its empty token).
        unique: set[int] = set()
        for doc in ids:
            unique.update(doc)
        unique.add(0 if 0 not in unique else max(unique) + 1)
        vocab = {token: i for i, token in enumerate(unique)}
        corpus = _CorpusStats.of([ids[a:b] for a, b in bounds], list(vocab.values()))
        retrievers = []
        for a, b in bounds:
            sharded = _CorpusBM25(corpus)
            sharded.index((ids[a:b], dict(vocab)), show_progress=False)
            retrievers.append(sharded)
        return cls(retrievers, tokenizer.get_vocab_dict(), stop, tokenizer)

    def save(self, folder: Path) -> None:
        """Write the index, vocabulary and stop words as JSON/NumPy files (no pickle) into
        `folder`; shards go into `folder/shard-000`, `shard-001`, ... beside the one vocabulary."""
        folder.mkdir(parents=True, exist_ok=True)
        if len(self.retrievers) == 1:
            self.retrievers[0].save(str(folder), show_progress=False)
        else:
            for s, retriever in enumerate(self.retrievers):
                retriever.save(str(folder / f"shard-{s:03d}"), show_progress=False)
        self.tokenizer.save_vocab(str(folder))
        self.tokenizer.save_stopwords(str(folder))

    @classmethod
    def load(cls, folder: Path, mmap: bool = False) -> SparseIndex:
        """Read an index written by `save`; with `mmap`, the score matrices are memory-mapped
        (read from disk on demand, shared with the page cache) instead of loaded into memory.
        Without bm25s when the folder has its stop words (every build since they were saved).
        Raises OSError/ValueError/KeyError on missing or bad files."""
        shards = sorted(folder.glob("shard-*")) or [folder]
        vocab = json.loads((folder / _VOCAB).read_text(encoding="utf-8"))["stem_to_sid"]
        if (folder / _STOPWORDS).is_file():
            stopwords = json.loads((folder / _STOPWORDS).read_text(encoding="utf-8"))
            return cls([_SavedBM25(shard, mmap) for shard in shards], vocab, stopwords)
        import bm25s

        tokenizer = _tokenizer()
        tokenizer.load_vocab(str(folder))
        return cls([bm25s.BM25.load(str(shard), mmap=mmap) for shard in shards], tokenizer.get_vocab_dict(),
                   tokenizer.stopwords or (), tokenizer)

    def query_tokens(self, question: str) -> list[int]:
        """Vocabulary ids of the question's known tokens (unknown words are dropped).

        Same steps as the `bm25s` tokenizer (lower-case, split, drop stop words, stem; accents
        folded as the passages were, `fold`), done directly: the library call costs ~3 ms a
        question, a third of a whole answer.
        """
        out = []
        for word in _SPLIT(question.lower()):
            if word in self._stop:
                continue
            tid = self._term(word)
            if tid is not None:
                out.append(tid)
        return out

    def _term(self, word: str) -> int | None:
        """The vocabulary id of a lower-cased question word: its stem, or its accent-folded
        stem (indexes built before folding keep the accented forms, so both are tried)."""
        tid = self.vocab.get(self._stemmer.stemWord(word))
        if tid is None and not word.isascii():
            tid = self.vocab.get(self._stemmer.stemWord(fold(word)))
        return tid

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
        known: list[int] = []
        unknown = 0
        for word in _SPLIT(question.lower()):
            if word in self._stop:
                continue
            tid = self._term(word)
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
