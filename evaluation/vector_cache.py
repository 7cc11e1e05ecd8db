"""An encoder that remembers every text it embedded, in one SQLite file outside the repo.

The evaluation runs the product's own `bot.build.build` on fresh index folders; wrapping the
encoder makes rebuilding the 2,225-article BBC index cost seconds instead of minutes once any
checkout has embedded its sentences. Vectors are keyed by model, backend family (`FAMILY`) and
the exact text encoded, so a change to what the product embeds (a title prefix, a new segmentation) misses
the cache instead of reusing a wrong vector.
"""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from bot.embed import Encoder

#: Backends whose vectors are one: the ONNX export agrees with torch fp32 to cosine >= 0.9999
#: (tests/test_onnx.py), so ONNX runs reuse (and add to) the torch vectors; bf16 keeps its own.
FAMILY = {"onnx": "torch"}


class CachedEncoder(Encoder):
    """`inner` with a per-text vector cache in `<cache_dir>/vectors.sqlite` (WAL, shared by
    concurrent runs), or in memory for this object's life when `cache_dir` is None. Same API and
    results as `inner`: `encode` returns `(n, d)` float32."""

    def __init__(self, inner: Encoder, cache_dir: Path | None) -> None:
        self.__dict__.update(inner.__dict__)
        self.inner = inner
        self._prefix = f"{inner.name}\x1f{FAMILY.get(inner.backend, inner.backend)}\x1f"
        if cache_dir is None:
            self._db = sqlite3.connect(":memory:", check_same_thread=False)
        else:
            cache_dir.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(cache_dir / "vectors.sqlite", timeout=120, check_same_thread=False)
            self._db.execute("PRAGMA journal_mode=WAL")
        with self._db as db:
            db.execute("CREATE TABLE IF NOT EXISTS vectors (key TEXT PRIMARY KEY, vector BLOB NOT NULL)")

    def close(self) -> None:
        """Close the cache file."""
        self._db.close()

    def _key(self, text: str) -> str:
        return hashlib.sha1((self._prefix + text).encode("utf-8")).hexdigest()

    def encode(
        self,
        texts: Sequence[str],
        progress: Callable[[int], None] | None = None,
        batch_size: int | None = None,
    ) -> np.ndarray:
        """Embed `texts` (see `Encoder.encode`), reading cached vectors and storing new ones."""
        out = np.empty((len(texts), self.dimension), dtype=np.float32)
        if not len(texts):
            return out
        keys = [self._key(t) for t in texts]
        found: dict[str, bytes] = {}
        with self._db as db:
            unique = list(dict.fromkeys(keys))
            for start in range(0, len(unique), 500):
                chunk = unique[start : start + 500]
                marks = ",".join("?" * len(chunk))
                found.update(db.execute(f"SELECT key, vector FROM vectors WHERE key IN ({marks})", chunk))
        todo = [i for i, k in enumerate(keys) if k not in found]
        for i, k in enumerate(keys):
            if k in found:
                out[i] = np.frombuffer(found[k], dtype=np.float32)
        if todo:
            fresh = self.inner.encode([texts[i] for i in todo], progress=progress, batch_size=batch_size)
            out[todo] = fresh
            with self._db as db:
                db.executemany("INSERT OR REPLACE INTO vectors VALUES (?, ?)",
                               [(keys[i], fresh[j].astype(np.float32).tobytes()) for j, i in enumerate(todo)])
        if progress is not None and len(todo) < len(texts):
            progress(len(texts) - len(todo))
        return out
