"""The question-answering service both front ends share: one encoder, the current index, and
an atomic swap to a rebuilt index while questions keep being answered from the old one.

All methods are synchronous and CPU-bound; the Discord front end calls them through
`asyncio.to_thread`. They are safe to call from several threads at once.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import faiss
import numpy as np

from bot import followup, keyfigure, recency
from bot.answer import Answer, compose
from bot.build import BuildEngine, BuildReport, Progress, build, corpus_missing
from bot.config import Settings
from bot.corpus import iter_corpus_files, normalise
from bot.embed import Encoder, QueryEncoder, check_model_folder
from bot.errors import (
    REBUILD_HINT,
    IndexCorruptError,
    IndexMissingError,
    ModelLoadError,
    ModelMismatchError,
    ReindexInProgressError,
    UnsupportedLanguageError,
    UsageError,
)
from bot.feeds import FeedRound, FeedStore, poll_feeds
from bot.fetch import Fetcher
from bot.index import Index, Verifier, check_model, heal, load_index
from bot.ingest import AddReport, add_urls
from bot.language import detect, language_name
from bot.language import warm as warm_language_identifier
from bot.rerank import default_model
from bot.rerank import tables as rerank_tables
from bot.retrieve import Hit, retrieve
from bot.stats import Stat, StatMatcher, stat_texts

log = logging.getLogger(__name__)

#: Discord mention syntax: user, role and channel mentions, @everyone and @here. They carry
#: nothing to search for, so they are left out of the query (the question is shown as asked).
_MENTIONS = re.compile(r"<@[!&]?\d+>|<#\d+>|@everyone\b|@here\b")

#: A letter or a digit in any script: a question without one has nothing to search for.
_HAS_WORD = re.compile(r"[^\W_]")
USAGE_HINT = ("there is nothing to search for in that: ask a question in words about the news "
              "articles, e.g. \"How many troops were deployed?\"")

NO_ARTICLES = ("no articles are indexed: add .txt, .md or .html files to {corpus} (CORPUS_DIR) "
               "and " + REBUILD_HINT)

#: How often (seconds) answers look at the corpus folder for changes since the build.
STALE_CHECK_SECONDS = 2.0

#: Longest question accepted before truncation, in characters (the model reads far less).
MAX_QUESTION_CHARS = 4000
#: Cosine (plus lexical bonus) a stat needs to be "about" a topic, and how far below the best
#: match it may fall; tuned on the seed topics ("north korea", "casualties", "territory").
STAT_TOPIC_THRESHOLD, STAT_TOPIC_MARGIN = 0.4, 0.15
#: Autocomplete limits (Discord: 25 choices of at most 100 characters).
MAX_TOPICS, MAX_TOPIC_CHARS = 25, 100


#: Words that ask about the present: such questions prefer the newest dated evidence.
PRESENT = re.compile(r"\b(?:latest|now|still|currently|current|today|at present|these days|most recent"
                     r"|so far|yet)\b", re.I)
#: How far below the best cosine a newer passage may score and still come first for a
#: present-tense question.
PRESENT_MARGIN = 0.1


@dataclass(frozen=True)
class SourceInfo:
    """One indexed document, for `/sources`: id, title, link, outlet, ISO publication date and
    how many passages it gave."""

    document: str
    title: str
    passages: int
    url: str | None = None
    source: str | None = None
    published: str | None = None


class QAService:
    """Answer questions over the index in `settings.index_dir`, rebuilt from `settings.corpus_dir`.

    Args:
        settings: the configuration.
        encoder: an already-loaded encoder (tests share one); loaded lazily otherwise.
    """

    def __init__(self, settings: Settings, encoder: Encoder | None = None) -> None:
        self.settings = settings
        self._encoder = encoder
        self._index: Index | None = None
        self._load_lock = threading.RLock()
        self._rebuild_lock = threading.Lock()
        self._stale: tuple[tuple[Any, ...], list[str]] | None = None
        self._names: followup.CorpusNames | None = None  # names of the index in use (follow-ups)
        self._stale_at = 0.0
        self._matcher: tuple[Index, StatMatcher] | None = None
        self._query: tuple[Index, QueryEncoder] | None = None
        self._healing: threading.Thread | None = None
        #: One-line warnings about what start-up healed (an index set aside, a model change).
        self.notices: list[str] = []
        #: `(unix time, "ok" | "failed")` of the last rebuild this service ran (for metrics).
        self.last_build: tuple[float, str] | None = None

    # -------------------------------------------------------------------- components

    @property
    def encoder(self) -> Encoder:
        """The sentence-transformers model builds embed with, loaded on first use (several
        seconds: torch). Answers use `query_encoder` instead."""
        if self._encoder is None:
            with self._load_lock:
                if self._encoder is None:
                    s = self.settings
                    self._encoder = Encoder(s.model_name_or_path, s.embedding_backend,
                                            s.embedding_batch_size, s.encoder_threads)
        return self._encoder

    @property
    def index(self) -> Index:
        """The index in use, loaded on first use.

        Raises:
            IndexMissingError, IndexCorruptError, ModelMismatchError: see `load_index`.
        """
        current = self._index
        if current is None:
            with self._load_lock:
                if self._index is None:
                    check_model_folder(self.settings.model_name_or_path)
                    self._index = load_index(self.settings.index_dir, self.settings.embedding_model)
                current = self._index
        return current

    def _corpus_names(self, index: Index) -> followup.CorpusNames:
        """Which words `index`'s corpus writes as names (one cache per index in use)."""
        names = self._names
        if names is None or names.index is not index:
            names = self._names = followup.CorpusNames(index)
        return names

    def query_encoder(self, index: Index | None = None) -> QueryEncoder:
        """What questions are encoded with for `index` (default: the index in use): the build's
        ONNX export under ONNX Runtime, without torch; torch only when the build has no usable
        export (a warning says so).

        Raises:
            ModelMismatchError: falling back to torch, the model makes other dimensions.
        """
        index = self.index if index is None else index
        cached = self._query
        if cached is not None and cached[0] is index:
            return cached[1]
        with self._load_lock:
            cached = self._query
            if cached is not None and cached[0] is index:
                return cached[1]
            encoder = self._load_query_encoder(index)
            self._query = (index, encoder)
        return encoder

    def _load_query_encoder(self, index: Index) -> QueryEncoder:
        from bot.onnx_encoder import load_export

        try:
            onnx = load_export(index.path, index.manifest.get("encoder"), Verifier(index.path))
            if onnx.dimension == index.manifest.get("dimension"):
                return onnx
            reason = f"the ONNX export makes {onnx.dimension}-dimensional embeddings"
        except ModelLoadError as exc:
            reason = str(exc)
        log.warning("%s: encoding questions with torch instead (slower to start; `python -m bot build` "
                    "writes the export)", reason)
        check_model(index.manifest, self.settings.embedding_model, self.encoder.dimension)
        return self.encoder

    def warm(self) -> None:
        """Load the model, the index, the stats matcher and the reranker's tables now, so the
        first question is as fast as the rest (several seconds of loading otherwise land on it).

        Raises:
            IndexMissingError, IndexCorruptError, ModelMismatchError: see `load_index`.
        """
        # One query at a time is ~25% faster on one OpenMP thread than on two (fewer syncs),
        # and the other core stays free for the event loop and other questions.
        faiss.omp_set_num_threads(1)
        index = self.index
        self.query_encoder(index)
        self._stat_matcher(index)
        if self.settings.retrieval_mode == "rerank":
            rerank_tables(index)  # the reranker's per-index tables (one pass over the passages)
        if self.settings.model_languages:
            warm_language_identifier()

    def ensure_index(self, progress: Progress | None = None, build_missing: bool = True) -> BuildReport | None:
        """Load the index (and warm up) at start, healing what cannot be used. Returns the build
        report if it built one first.

        No index: it is built first. An index of another model (EMBEDDING_MODEL changed): it is
        rebuilt first for the configured model. An unusable one (truncated, altered): it is set
        aside as `broken-<build>` and the newest good earlier build serves while a rebuild runs
        in the background (`wait_for_healing`); with no good build left it is rebuilt first.
        Each case logs one warning line, kept in `notices`.

        Raises:
            IndexMissingError: no index and not `build_missing` (`ask` says to run `build`).
            EmptyCorpusError: a build is needed and CORPUS_DIR does not exist.
            ModelLoadError: the model cannot be loaded.
        """
        s = self.settings
        log.info("corpus %s, index %s, model %s (%s backend)", s.corpus_dir.resolve(), s.index_dir.resolve(),
                 s.embedding_model, s.embedding_backend)
        try:
            self.warm()
            return None
        except IndexMissingError:
            if not build_missing:
                raise
            report = self.rebuild(progress)
        except ModelMismatchError as exc:
            self._notice(f"{exc}; rebuilding the index for {s.embedding_model!r} now")
            report = self.rebuild(progress)
        except IndexCorruptError as exc:
            index, warning = heal(s.index_dir, s.embedding_model, None, exc)
            self._notice(warning)
            if index is None:
                report = self.rebuild(progress)
            else:
                self._index = index
                self._healing = threading.Thread(target=self._heal_rebuild, name="heal-rebuild", daemon=True)
                self._healing.start()
                self.warm()
                return None
        self.warm()
        return report

    def _notice(self, text: str) -> None:
        log.warning("%s", text)
        self.notices.append(text)

    def _heal_rebuild(self) -> None:
        try:
            report = self.rebuild(wait=True)
            log.warning("the index was rebuilt: %s", report.summary())
        except Exception:  # the old build keeps serving; the next start or /reindex retries
            log.exception("rebuilding the set-aside index failed")

    def wait_for_healing(self, timeout: float | None = None) -> None:
        """Wait for a background rebuild started by `ensure_index`, if any."""
        if self._healing is not None:
            self._healing.join(timeout)

    @property
    def loaded_index(self) -> Index | None:
        """The index in use, or None when none is loaded yet (never loads one)."""
        return self._index

    @property
    def reindexing(self) -> bool:
        """True while a rebuild started by this service is running."""
        return self._rebuild_lock.locked()

    # -------------------------------------------------------------------- operations

    def rebuild(self, progress: Progress | None = None, wait: bool = False,
                engine: BuildEngine | None = None) -> BuildReport:
        """Rebuild from the corpus and swap the new index in; questions meanwhile use the old one.
        With `wait`, a rebuild already running in this service is waited for, then this one runs
        (articles just saved are then surely indexed).

        `engine` runs the costly steps elsewhere (`bot.ray_engine.RayEngine`); default here.

        Raises:
            ReindexInProgressError: a rebuild is already running (here or in another process).
        """
        if not self._rebuild_lock.acquire(blocking=wait):
            raise ReindexInProgressError("a rebuild is already running; try again when it is done")
        try:
            s = self.settings
            report = build(s.corpus_dir, s.index_dir, self.encoder, s.embedding_model, progress,
                           shards=s.index_shards, engine=engine)
            fresh = load_index(s.index_dir, s.embedding_model, self.encoder.dimension)
            self.query_encoder(fresh)  # ready before it serves
            self._index = fresh  # one reference assignment: readers see old or new, whole
            self._stale = None
            self.last_build = (time.time(), "ok")
            return report
        except ReindexInProgressError:
            raise
        except Exception:
            self.last_build = (time.time(), "failed")
            raise
        finally:
            self._rebuild_lock.release()

    def prepare(self, question: str) -> tuple[str, tuple[str, ...]]:
        """Validate and trim a question. Returns `(question, notes)`.

        Raises:
            UsageError: the question is empty or only whitespace.
        """
        # Normalised exactly as the corpus is (NFKC, straight quotes, no zero-width characters),
        # so "North\u200bKorean" is "NorthKorean" in both.
        text = " ".join(normalise(question or "")[0].split())
        if not text:
            raise UsageError("the question is empty: type a question about the news articles")
        notes: list[str] = []
        if len(text) > MAX_QUESTION_CHARS:
            text = text[:MAX_QUESTION_CHARS]
        encoder = self.query_encoder()
        limit = encoder.max_tokens - 2
        offsets = encoder.offsets(text)
        if len(offsets) > limit:
            cut = offsets[limit - 1][1]
            notes.append(
                f"the question was cut to its first {cut} characters: the model reads at most "
                f"{limit} word pieces"
            )
            text = text[:cut]
        elif len(question) > MAX_QUESTION_CHARS:
            notes.append(f"the question was cut to its first {MAX_QUESTION_CHARS} characters")
        return text, tuple(notes)

    def check_question(self, query: str) -> None:
        """Refuse a question there is nothing to search for, or one the model cannot read.

        Raises:
            UsageError: no letter or digit is left once mentions are removed ("???", "🤔",
                "@everyone"): the message says how to ask.
            UnsupportedLanguageError: the question is plainly in a language not in
                MODEL_LANGUAGES (`bot.language.detect`).
        """
        if not _HAS_WORD.search(query):
            raise UsageError(USAGE_HINT)
        allowed = self.settings.model_languages
        if allowed:
            code = detect(query)
            if code is not None and code not in allowed:
                names = " or ".join(language_name(c) for c in allowed)
                raise UnsupportedLanguageError(f"I can only read questions in {names} with this model "
                                               f"(this looks like {language_name(code)})")

    def stale_warnings(self, index: Index) -> tuple[str, ...]:
        """A warning when the corpus changed since the build.

        Cheap: the corpus folder is listed at most once every `STALE_CHECK_SECONDS` (a walk of
        2,225 files costs ~20 ms, a third of an answer), and files are re-hashed only when a
        size or modification time changed.
        """
        corpus = self.settings.corpus_dir
        if not corpus.is_dir():
            return (f"{corpus_missing(corpus)} (answers come from the last build)",)
        now = time.monotonic()
        cached = self._stale
        if cached is not None and cached[0][-1] == str(index.path) and now - self._stale_at < STALE_CHECK_SECONDS:
            return self._stale_message(cached[1])
        self._stale_at = now
        try:
            # The same file set `corpus_hashes` hashes, one stat() per file.
            signature = tuple(
                (p.as_posix(), st.st_size, st.st_mtime_ns)
                for p in iter_corpus_files(corpus) for st in (p.stat(),)
            ) + (str(index.path),)
        except OSError:
            signature = (str(index.path),)
        cached = self._stale
        if cached is None or cached[0] != signature:
            cached = (signature, index.stale_files(corpus))
            self._stale = cached
        return self._stale_message(cached[1])

    @staticmethod
    def _stale_message(changes: list[str]) -> tuple[str, ...]:
        if not changes:
            return ()
        shown = ", ".join(changes[:3]) + (f" and {len(changes) - 3} more" if len(changes) > 3 else "")
        return (f"the index is stale ({shown}): {REBUILD_HINT}",)

    def ask(self, question: str, k: int | None = None, offset: int = 0,
            context: int | None = None, as_of: str | None = None,
            earlier: Sequence[followup.Turn] = ()) -> Answer:
        """Answer one question with the top-`k` cited passages, starting after `offset`.

        `earlier` are the conversation's earlier turns (oldest first): a short, elliptical or
        pronoun-led question is searched with the latest as context (`bot.followup`), and the
        answer names it (`Answer.context`, a note); a self-contained question is answered alone.

        `as_of` (an ISO date, or a date as people write it) answers only from articles published
        on or before that date. A question about the present ("latest", "now", "still") puts
        the newest dated passages first among those within `PRESENT_MARGIN` of the best.

        Raises:
            UsageError: empty question, k out of range, or `as_of` not a date.
            IndexMissingError, IndexCorruptError, ModelMismatchError: no usable index.
        """
        t0 = time.perf_counter()
        k = self.settings.top_k if k is None else k
        if (question or "").strip() and not 1 <= k <= 25:
            raise UsageError("k must be between 1 and 25")
        text, notes = self.prepare(question)
        cutoff = recency.parse_as_of(as_of)
        index = self.index
        ctx = self.settings.context_sentences if context is None else context
        query = " ".join(_MENTIONS.sub(" ", text).split())
        self.check_question(query)
        follow = followup.resolve(query, earlier, self._corpus_names(index)) if earlier else None
        present = PRESENT.search(query) is not None
        keep = recency.published_by(cutoff) if cutoff else None
        if follow is not None:  # the earlier question and its documents inform the search
            found = followup.retrieve_follow_up(index, self.query_encoder(index), query, follow,
                                                k * 3 if present else k,
                                                offset=offset, mode=self.settings.retrieval_mode, context=ctx,
                                                keep=keep)
        else:
            found = retrieve(index, self.query_encoder(index), query, k * 3 if present else k, offset=offset,
                             mode=self.settings.retrieval_mode, context=ctx, keep=keep)
        if cutoff:
            found = replace(found, hits=recency.trim_reprints(found.hits, cutoff))
        if present:
            found = replace(found, hits=recency.newest_first(found.hits, PRESENT_MARGIN, k, offset))
        figures = (self._figures(follow.query if follow else query, found.hits, found.query,
                                 every=found.covered is not None) if offset == 0 else ())
        if cutoff:
            figures = tuple(f for f in (recency.stat_as_of(f, cutoff) for f in figures) if f is not None)
        if cutoff:
            undated = self._undated_documents()
            left_out = f" ({undated} undated article{'s' if undated != 1 else ''} left out)" if undated else ""
            notes = (*notes, f"answering from articles published on or before {cutoff}{left_out}")
        if follow is not None:
            notes = (*notes, f"read as a follow-up to “{follow.context[-1]}”")
        warnings = self.stale_warnings(index)
        if index.size == 0:
            warnings = (NO_ARTICLES.format(corpus=self.settings.corpus_dir), *warnings)
        if self._healing is not None and self._healing.is_alive():
            warnings = (*self.notices, *warnings)
        covered = None
        if found.covered is not None:
            limit = self.settings.covered_threshold
            covered = found.covered >= (default_model().threshold if limit is None else limit)
        answer = compose(text, found.hits, found.best_score, self.settings.score_threshold,
                         warnings=warnings, notes=notes, figures=figures,
                         offset=offset, covered=covered)
        if follow is not None:
            answer = replace(answer, context=follow.context, query=follow.query)
        return replace(answer, seconds=time.perf_counter() - t0)

    def _undated_documents(self) -> int:
        """How many indexed documents have no publication date (`--as-of` leaves them out)."""
        return sum(1 for *_, published in self.index.document_summaries() if not published)

    def sources(self) -> tuple[list[SourceInfo], str]:
        """The indexed documents with their passage counts, and the build time (ISO 8601, UTC)."""
        index = self.index
        counts = index.passage_counts()
        docs = [SourceInfo(d, title, counts.get(d, 0), url, source, published)
                for d, title, url, source, published in index.document_summaries()]
        return docs, str(index.manifest.get("built_at", "unknown"))

    def stats(self, topic: str | None = None) -> list[Stat]:
        """The key figures of the corpus, all or those about `topic` (best match first).

        Each is a `bot.stats.Stat` (`to_json()` for JSON). A topic is matched by meaning over
        each stat's counted phrase and sentences.

        Raises:
            IndexMissingError, IndexCorruptError, ModelMismatchError: no usable index.
        """
        index = self.index
        if topic is None or not topic.strip():
            return list(index.stats)
        ranked = self._rank(index, topic.strip())
        if not ranked:
            return []
        floor = max(STAT_TOPIC_THRESHOLD, ranked[0][1] - STAT_TOPIC_MARGIN)
        return [index.stats[i] for i, score in ranked if score >= floor]

    def stat_topics(self, current: str = "") -> list[str]:
        """Topic suggestions for autocomplete: counted phrases containing `current`.

        At most 25, each at most 100 characters; phrases starting with `current` first, then
        the most cited.
        """
        needle = current.strip().lower()
        weight: dict[str, int] = {}
        for stat in self.index.stats:
            phrase = " ".join(stat.counts.split())[:MAX_TOPIC_CHARS]
            if phrase and needle in phrase.lower():
                weight[phrase] = weight.get(phrase, 0) + len(stat.citations)
        order = sorted(weight, key=lambda p: (not p.lower().startswith(needle), -weight[p], p.lower()))
        return order[:MAX_TOPICS]

    def _stat_matcher(self, index: Index) -> StatMatcher:
        """The topic matcher for `index`'s stats, made once per loaded index.

        Sentences reuse the passage embeddings, counted phrases the vectors computed at build
        time; nothing is encoded here.
        """
        cached = self._matcher
        if cached is not None and cached[0] is index:
            return cached[1]
        rows = index.text_rows(t for s in index.stats for t in stat_texts(s))

        def vector_of(text: str) -> np.ndarray:
            row = rows.get(text)
            if row is not None:
                return np.asarray(index.embeddings[row])
            return index.stat_phrases[text]

        matcher = StatMatcher.build(index.stats, vector_of, int(index.manifest.get("dimension", 0))
                                    or index.embeddings.shape[1])
        self._matcher = (index, matcher)
        return matcher

    def _rank(self, index: Index, text: str) -> list[tuple[int, float]]:
        query = self.query_encoder(index).encode_query(text)[0]
        return self._stat_matcher(index).rank(text, query, threshold=-1.0)

    def _figures(self, question: str, hits: Sequence[Hit],
                 query: np.ndarray | None = None, every: bool = False) -> tuple[Stat, ...]:
        """The stat that answers a how many / how much / when question, if a shown hit states it
        (`bot.keyfigure.choose`: the unit class, counted thing and role the question asks for;
        the top-ranked hit's first). Only shown hits count, so a figure is never shown without
        its passage: those at or above the threshold, or `every` hit when the reranker's
        covered probability decided (then every hit is shown)."""
        index = self.index
        if not index.stats or keyfigure.read_question(question) is None:
            return ()
        shown = list(hits) if every else [h for h in hits if h.score >= self.settings.score_threshold] or list(hits[:1])
        matcher = self._stat_matcher(index)
        found = [(h.passage.text, matcher.by_sentence.get(h.passage.text, ())) for h in shown]
        if not any(ids for _, ids in found):
            return ()
        vec = (query if query is not None else self.query_encoder(index).encode_query(question))[0]
        stat = keyfigure.choose(question, found, index.stats,
                                lambda ids: matcher.scores(question, vec, ids).tolist())
        return (stat,) if stat is not None else ()

    # -------------------------------------------------------------------- sources

    def fetcher(self) -> Fetcher:
        """A polite fetcher with the configured timeout and size cap (robots.txt cached per round)."""
        return Fetcher(timeout=self.settings.fetch_timeout_seconds, max_bytes=self.settings.fetch_max_bytes)

    def add_urls(self, urls: Sequence[str]) -> tuple[AddReport, BuildReport | None]:
        """Fetch each page into the corpus, then rebuild (incrementally) when any was added;
        questions meanwhile use the old index. Returns the report and the build report.

        Raises:
            UsageError: no address given.
            ReindexInProgressError: articles were saved but a rebuild is already running.
        """
        if not [u for u in urls if u.strip()]:
            raise UsageError("give at least one web address (http:// or https://)")
        report = add_urls([u for u in urls if u.strip()], self.settings.corpus_dir, self.fetcher())
        return report, (self.rebuild(wait=True) if report.added else None)

    def poll_feeds(self) -> tuple[FeedRound, BuildReport | None]:
        """One round over FEEDS (see `bot.feeds.poll_feeds`), then a rebuild when anything was
        added, swapped in while questions are answered. Returns the round and the build report."""
        s = self.settings
        store = FeedStore(s.data_dir)
        found = poll_feeds(s.feeds, s.corpus_dir, store, self.fetcher(), s.feed_poll_minutes)
        return found, (self.rebuild(wait=True) if found.added else None)

    @property
    def corpus_dir(self) -> Path:
        return self.settings.corpus_dir
