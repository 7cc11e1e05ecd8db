"""The build's costly steps on a Ray cluster: `python -m bot build --engine ray [--address ADDR]`.

Segmentation, embedding and stats parsing run on Ray actors, one per worker CPU, each holding
its own copy of the model (loaded once, reused for every batch); batches go to whichever actor
is free (`ray.util.ActorPool`) and come back in input order. Everything else — reuse of
unchanged documents and embeddings, merging copies, BM25, writing the versioned folder and
the atomic swap — stays in `bot.build.build`, so a Ray build writes the same index as a local
one. An actor that dies (its process killed, its node lost) is restarted and its batch run
again, up to `RETRIES` times; past that the build fails with a `RayBuildError` and the old
index keeps serving.

Ray is an optional extra (`pip install '.[ray]'`): this module is imported only for
`--engine ray`, and imports Ray only when a `RayEngine` is made. Ray: Moritz et al., "Ray: A
Distributed Framework for Emerging AI Applications", OSDI 2018; https://docs.ray.io.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np

from bot.corpus import Document, Passage
from bot.errors import RayBuildError
from bot.stats import Stat, stats_of_mentions

log = logging.getLogger(__name__)

#: Times an actor is restarted, and a batch retried, after its worker dies.
RETRIES = 3
#: Seconds to wait for every actor to start and load its model before giving up.
START_TIMEOUT = 300.0
#: Documents per segmentation task, texts per embedding task, passages per stats task: big
#: enough that a task's overhead (~1 ms) is small beside its work (16 texts ≈ 0.1 s on 1 CPU).
DOCUMENTS_PER_TASK = 64
TEXTS_PER_TASK = 256
PASSAGES_PER_TASK = 2048


class _Worker:
    """One Ray actor: a model copy and the three per-item steps (`bot.build.BuildEngine`)."""

    def __init__(self, model: str, backend: str, batch_size: int) -> None:
        import torch

        from bot.embed import Encoder

        torch.set_num_threads(1)  # one actor per CPU: more threads would fight the others
        self.encoder = Encoder(model, backend, batch_size)

    def pid(self) -> int:
        return os.getpid()

    def segment(self, documents: list[Document]) -> tuple[list[list[Passage]], list[str]]:
        from bot.corpus import segment

        notes: list[str] = []
        return [segment(doc, self.encoder.fit, notes) for doc in documents], notes

    def encode(self, texts: list[str]) -> np.ndarray:
        return self.encoder.encode(texts)

    def mentions(self, passages: list[Passage]) -> list[list[Any]]:
        from bot.stats import mentions

        return [mentions(p) for p in passages]


def _chunks(items: Sequence[Any], size: int) -> Iterator[list[Any]]:
    for start in range(0, len(items), size):
        yield list(items[start : start + size])


class RayEngine:
    """Run a build's costly steps on Ray (`bot.build.BuildEngine`).

    Args:
        model, backend, batch_size: the encoder each actor loads (EMBEDDING_MODEL's resolved
            path or name, EMBEDDING_BACKEND, EMBEDDING_BATCH_SIZE); every node needs the model.
        address: a running cluster (`ray://host:10001`, `host:6379`, "auto"); None starts a
            local one on this machine (`num_cpus` CPUs, default all), shut down by `close`.
        workers: actors (model copies), default one per free CPU of the cluster.
        retries: restarts of a dead actor and reruns of its batch before the build fails.
        start_timeout: seconds to wait for every actor to start and load the model.

    Raises:
        RayBuildError: Ray is not installed, the cluster cannot be reached, or the actors did
            not start (too few free CPUs, model missing on a node).
    """

    name = "ray"

    def __init__(self, model: str, backend: str = "torch", batch_size: int = 16, *,
                 address: str | None = None, workers: int | None = None, num_cpus: int | None = None,
                 retries: int = RETRIES, texts_per_task: int = TEXTS_PER_TASK,
                 start_timeout: float = START_TIMEOUT) -> None:
        try:
            import ray
            from ray.util import ActorPool
        except ImportError as exc:
            raise RayBuildError("--engine ray needs Ray: pip install '.[ray]' (or use the local build)") from exc
        self._ray = ray
        self._owns = False
        if not ray.is_initialized():
            try:
                ray.init(address=address, num_cpus=num_cpus if address is None else None,
                         include_dashboard=False, log_to_driver=False, logging_level=logging.WARNING)
            except Exception as exc:  # ConnectionError, RuntimeError, ValueError: all mean "no cluster"
                where = address or "a local cluster"
                raise RayBuildError(f"cannot start or reach Ray at {where} ({type(exc).__name__}: {exc})") from exc
            self._owns = True
        free = int(ray.available_resources().get("CPU", 0))
        count = max(1, workers or free)
        actor = ray.remote(num_cpus=1, max_restarts=retries, max_task_retries=retries)(_Worker)
        self.workers: list[Any] = [actor.remote(model, backend, batch_size) for _ in range(count)]
        self._pool = ActorPool(self.workers)
        self.texts_per_task = texts_per_task
        try:  # every actor up and its model loaded, or a clear error instead of a wait forever
            ray.get([w.pid.remote() for w in self.workers], timeout=start_timeout)
        except ray.exceptions.GetTimeoutError as exc:
            self.close()
            raise RayBuildError(f"{count} Ray workers (1 CPU each) did not start within {start_timeout:.0f} s: "
                                f"the cluster had {free} CPUs free; pass --workers or free some") from exc
        except ray.exceptions.RayError as exc:
            self.close()
            raise RayBuildError(f"Ray workers could not load the model ({type(exc).__name__}: "
                                f"{str(exc).splitlines()[0] if str(exc) else 'no detail'})") from exc

    def _map(self, method: str, batches: list[list[Any]],
             done: Callable[[int, Any], None] | None = None) -> list[Any]:
        """Results of `worker.method(batch)` for each batch, in order; translates Ray's errors."""
        out = []
        try:
            for i, result in enumerate(self._pool.map(lambda w, b: getattr(w, method).remote(b), batches)):
                out.append(result)
                if done is not None:
                    done(i, result)
        except self._ray.exceptions.RayError as exc:
            raise RayBuildError(f"the Ray build failed in {method} ({type(exc).__name__}: "
                                f"{str(exc).splitlines()[0] if str(exc) else 'no detail'}); "
                                "the current index, if any, keeps serving") from exc
        return out

    def segment(self, documents: Sequence[Document], notes: list[str]) -> list[list[Passage]]:
        """`bot.corpus.segment` of each document, `DOCUMENTS_PER_TASK` documents a task."""
        out: list[list[Passage]] = []
        for passages, batch_notes in self._map("segment", list(_chunks(documents, DOCUMENTS_PER_TASK))):
            out.extend(passages)
            notes.extend(batch_notes)
        return out

    def encode(self, texts: Sequence[str], progress: Callable[[int], None] | None) -> np.ndarray:
        """`(len(texts), d)` float32 unit vectors. Texts are sorted by length first, so each
        task's batches pad little; `progress(n)` runs on this process as each task returns."""
        order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))
        batches = list(_chunks([texts[i] for i in order], self.texts_per_task))

        def done(_: int, result: np.ndarray) -> None:
            if progress is not None:
                progress(len(result))

        parts = self._map("encode", batches, done)
        if not parts:
            return np.empty((0, 0), dtype=np.float32)
        vectors = np.concatenate(parts)
        out = np.empty_like(vectors)
        out[order] = vectors
        return out

    def extract_stats(self, passages: Sequence[Passage]) -> list[Stat]:
        """`bot.stats.extract_stats`: figures parsed on the workers, merged here in passage order."""
        found = self._map("mentions", list(_chunks(passages, PASSAGES_PER_TASK)))
        return stats_of_mentions(m for batch in found for m in batch)

    def close(self) -> None:
        """Stop the actors, and the local cluster if this engine started it."""
        for worker in self.workers:
            try:
                self._ray.kill(worker)
            except Exception:  # already dead: nothing to stop
                pass
        self.workers = []
        if self._owns:
            self._ray.shutdown()

    def __enter__(self) -> RayEngine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
