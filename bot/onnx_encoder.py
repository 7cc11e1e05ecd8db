"""Question encoding without torch: ONNX Runtime and the Hugging Face `tokenizers` tokenizer.

A build exports the configured sentence-transformers model into the index folder
(`encoder/model.onnx`, `encoder/tokenizer.json`, `encoder/encoder.json`; hashes in the
manifest). The graph is the transformer followed by the model's own pooling (mean over the
attention mask, or the CLS token) and L2 normalisation, so the answering path loads only
`onnxruntime`, `tokenizers` and NumPy: no torch, no transformers. Its embeddings agree with
sentence-transformers to cosine >= 0.9999 (tests/test_onnx.py).

Exporting needs torch and the `onnx` package (build time only); see `export_onnx`.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from bot.errors import ModelLoadError

if TYPE_CHECKING:
    from bot.embed import Encoder

log = logging.getLogger(__name__)

#: Folder of the export inside a build folder, and its files.
EXPORT_DIR = "encoder"
MODEL_FILE = "model.onnx"
TOKENIZER_FILE = "tokenizer.json"
CONFIG_FILE = "encoder.json"
#: Bumped when the exported graph changes, so an older export is not reused by a rebuild.
EXPORT_VERSION = 1
OPSET = 17


def session_options(threads: int, full_optimization: bool = False) -> Any:
    """ONNX Runtime session options with `threads` intra-op threads and no spinning.

    Spinning threads busy-wait for work after each run (ORT's default); on 2 shared cores they
    take CPU from everything else, so both thread pools are told not to spin. Graph
    optimisation is ORT's basic level unless `full_optimization` (builds): the extended
    fusions took ~0.25 s more at session start, a sixth of a cold `ask`, and encoded one
    question no faster (5.1 vs 5.8 ms) to the same vector (to 1e-7).
    """
    import onnxruntime as ort

    so = ort.SessionOptions()
    so.intra_op_num_threads = max(1, threads)
    so.inter_op_num_threads = 1
    so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    so.graph_optimization_level = (ort.GraphOptimizationLevel.ORT_ENABLE_ALL if full_optimization
                                   else ort.GraphOptimizationLevel.ORT_ENABLE_BASIC)
    so.add_session_config_entry("session.intra_op.allow_spinning", "0")
    so.add_session_config_entry("session.inter_op.allow_spinning", "0")
    so.log_severity_level = 3
    return so


class OnnxEncoder:
    """The exported model: same interface as `bot.embed.Encoder` for encoding questions.

    Args:
        folder: an export folder written by `export_onnx`.
        threads: ONNX Runtime intra-op threads (1 for questions: one short input at a time is
            faster on one thread, and the other core stays free).
        full_optimization: every ORT graph optimisation (for builds; see `session_options`).

    Raises:
        ModelLoadError: a file is missing or ONNX Runtime cannot load the graph.
    """

    backend = "onnx"

    def __init__(self, folder: Path, threads: int = 1, full_optimization: bool = False) -> None:
        try:
            import onnxruntime as ort
            from tokenizers import Tokenizer

            config = json.loads((folder / CONFIG_FILE).read_text(encoding="utf-8"))
            self.session = ort.InferenceSession(str(folder / MODEL_FILE), session_options(threads, full_optimization),
                                                providers=["CPUExecutionProvider"])
            tokenizer = Tokenizer.from_file(str(folder / TOKENIZER_FILE))
        except Exception as exc:  # noqa: BLE001 - any failure here means "no usable export"
            raise ModelLoadError(f"cannot load the ONNX encoder in {folder} ({type(exc).__name__}: {exc})") from exc
        self.folder = folder
        self.name: str = config["model"]
        self.dimension: int = int(config["dimension"])
        self.max_tokens: int = int(config["max_tokens"])
        self.batch_size = 32
        tokenizer.no_padding()
        tokenizer.enable_truncation(self.max_tokens)
        self.tokenizer = tokenizer
        self._inputs = {i.name for i in self.session.get_inputs()}
        self._lock = threading.Lock()  # the tokenizer's padding setting is shared state

    def token_count(self, text: str) -> int:
        """Number of word pieces the tokenizer makes of `text` (without special tokens)."""
        return len(self.tokenizer.encode(text, add_special_tokens=False).ids)

    def offsets(self, text: str) -> list[tuple[int, int]]:
        """Character `(start, end)` of each word piece of `text` (no special tokens, untruncated)."""
        with self._lock:
            self.tokenizer.no_truncation()
            try:
                return [(int(a), int(b)) for a, b in self.tokenizer.encode(text, add_special_tokens=False).offsets]
            finally:
                self.tokenizer.enable_truncation(self.max_tokens)

    def _run(self, texts: Sequence[str]) -> np.ndarray:
        with self._lock:
            if len(texts) > 1:
                self.tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")
            else:
                self.tokenizer.no_padding()
            encoded = self.tokenizer.encode_batch(list(texts))
        ids = np.array([e.ids for e in encoded], dtype=np.int64)
        feeds = {"input_ids": ids, "attention_mask": np.array([e.attention_mask for e in encoded], dtype=np.int64)}
        if "token_type_ids" in self._inputs:
            feeds["token_type_ids"] = np.array([e.type_ids for e in encoded], dtype=np.int64)
        return np.asarray(self.session.run(None, feeds)[0], dtype=np.float32)

    def encode(self, texts: Sequence[str], progress: Callable[[int], None] | None = None,
               batch_size: int | None = None) -> np.ndarray:
        """Embed `texts`; returns a `(len(texts), dimension)` float32 array of unit vectors.

        Longest first in batches of `batch_size`, so each batch pads to similar lengths.
        """
        batch = max(batch_size or self.batch_size, 1)
        out = np.empty((len(texts), self.dimension), dtype=np.float32)
        order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))
        for start in range(0, len(order), batch):
            rows = order[start : start + batch]
            out[rows] = self._run([texts[i] for i in rows])
            if progress is not None:
                progress(len(rows))
        return out

    def encode_query(self, text: str) -> np.ndarray:
        """Embed one question; returns a `(1, dimension)` float32 unit vector."""
        return self._run([text])


# ---------------------------------------------------------------------------------- export


def _sha256(path: Path) -> str:
    with path.open("rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def export_fingerprint(encoder: Encoder) -> str:
    """What an export depends on: the model folder's files (names, sizes, times), the torch
    version and `EXPORT_VERSION`. Two builds with the same fingerprint can share one export."""
    import torch

    parts = [encoder.name, torch.__version__, str(EXPORT_VERSION), str(encoder.max_tokens)]
    folder = Path(encoder.name)
    if folder.is_dir():
        for p in sorted(folder.rglob("*")):
            if p.is_file():
                st = p.stat()
                parts.append(f"{p.relative_to(folder)}:{st.st_size}:{st.st_mtime_ns}")
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


def _link_or_copy(src: Path, dst: Path) -> None:
    try:
        os.link(src, dst)
    except OSError:
        shutil.copy2(src, dst)


def reuse_export(source: Path, dest: Path) -> None:
    """Hard-link (or copy, across file systems) an export folder's files into `dest`."""
    dest.mkdir(parents=True, exist_ok=True)
    for name in (MODEL_FILE, TOKENIZER_FILE, CONFIG_FILE):
        _link_or_copy(source / name, dest / name)


def export_onnx(encoder: Encoder, dest: Path) -> None:
    """Write the ONNX export of `encoder`'s model into the folder `dest`.

    The graph takes `input_ids`, `attention_mask` (and `token_type_ids` when the model has
    them), `(batch, tokens)` int64, and returns `embedding`, `(batch, dimension)` float32 unit
    vectors: the transformer, the model's pooling layer, then L2 normalisation.

    Raises:
        ModelLoadError: the model's pooling is not one this export supports, or the export
            failed (e.g. the `onnx` package is missing).
    """
    import torch

    st = encoder.model
    pooling = next((m for m in st if type(m).__name__ == "Pooling"), None)
    mode: Any = "mean"
    if pooling is not None:
        mode = getattr(pooling, "pooling_mode", None) or pooling.get_pooling_mode_str()  # type: ignore[operator]
        if isinstance(mode, (tuple, list)) and len(mode) == 1:
            mode = mode[0]
    if mode not in ("mean", "cls"):
        raise ModelLoadError(f"cannot export pooling mode {mode!r} to ONNX (mean or cls only)")
    transformer: Any = st[0].auto_model
    takes_types = "token_type_ids" in transformer.forward.__code__.co_varnames

    class Pooled(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.transformer = transformer

        def forward(self, input_ids: Any, attention_mask: Any, token_type_ids: Any = None) -> Any:
            kwargs = {"token_type_ids": token_type_ids} if token_type_ids is not None else {}
            hidden = self.transformer(input_ids=input_ids, attention_mask=attention_mask, **kwargs)[0]
            if mode == "cls":
                vector = hidden[:, 0]
            else:
                mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
                vector = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            return torch.nn.functional.normalize(vector.float(), p=2, dim=1)

    dest.mkdir(parents=True, exist_ok=True)
    names = ["input_ids", "attention_mask"] + (["token_type_ids"] if takes_types else [])
    sample = torch.ones((2, 8), dtype=torch.long)
    args = tuple(sample if n != "token_type_ids" else torch.zeros_like(sample) for n in names)
    axes = {n: {0: "batch", 1: "tokens"} for n in names} | {"embedding": {0: "batch"}}
    model = Pooled().eval()
    dtype = next(transformer.parameters()).dtype
    try:
        if dtype != torch.float32:  # a bf16 build exports the fp32 weights
            model = model.float()
        import warnings

        with torch.no_grad(), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            torch.onnx.export(model, args, str(dest / MODEL_FILE), input_names=names,
                              output_names=["embedding"], dynamic_axes=axes, opset_version=OPSET,
                              dynamo=False)
    except Exception as exc:  # noqa: BLE001 - translated once, here
        raise ModelLoadError(f"cannot export the model to ONNX ({type(exc).__name__}: {exc})") from exc
    finally:
        if dtype != torch.float32:
            model.to(dtype)
    tokenizer = getattr(st, "tokenizer", None)
    if tokenizer is None or not hasattr(tokenizer, "backend_tokenizer"):
        raise ModelLoadError("the model has no fast (Rust) tokenizer to export")
    tokenizer.backend_tokenizer.save(str(dest / TOKENIZER_FILE))
    config = {"model": encoder.name, "dimension": encoder.dimension, "max_tokens": encoder.max_tokens,
              "pooling": mode, "export_version": EXPORT_VERSION}
    (dest / CONFIG_FILE).write_text(json.dumps(config, indent=1), encoding="utf-8")


#: Exports this process wrote or reused, by fingerprint: their folder and manifest entry.
_EXPORTS: dict[str, tuple[Path, dict[str, Any]]] = {}
_EXPORTS_LOCK = threading.Lock()
_NAMES = (MODEL_FILE, TOKENIZER_FILE, CONFIG_FILE)


def _entry(fingerprint: str, dest: Path) -> dict[str, Any]:
    files = {f"{EXPORT_DIR}/{n}": {"size": (dest / n).stat().st_size, "sha256": _sha256(dest / n)}
             for n in _NAMES}
    return {"fingerprint": fingerprint, "files": files}


def write_export(encoder: Encoder, dest: Path, previous: Path | None = None,
                 previous_entry: dict[str, Any] | None = None) -> dict[str, Any]:
    """Put the export of `encoder` in `dest`, reusing an identical one when there is one.

    Reuse, by hard link (a copy across file systems): an export this process already wrote
    (same fingerprint), or the previous build's (`previous`, whose manifest entry is
    `previous_entry`). Otherwise exports (~2 s for MiniLM). Returns the manifest entry:
    the fingerprint and each file's size and SHA-256.

    Raises:
        ModelLoadError: see `export_onnx`.
    """
    fingerprint = export_fingerprint(encoder)
    with _EXPORTS_LOCK:
        sources = []
        if fingerprint in _EXPORTS:
            done, known = _EXPORTS[fingerprint]
            # Written into a temporary build folder that `bot.index.publish` has renamed since.
            published = done.parent.with_name(done.parent.name.replace(".tmp-", "", 1)) / done.name
            sources += [(done, known), (published, known)]
        if previous is not None and previous_entry and previous_entry.get("fingerprint") == fingerprint:
            sources.append((previous, previous_entry))
        entry = None
        for folder, known in sources:
            sizes = {f"{EXPORT_DIR}/{n}": (folder / n).stat().st_size if (folder / n).is_file() else -1
                     for n in _NAMES}
            if any(known["files"].get(k, {}).get("size") != v for k, v in sizes.items()):
                continue
            try:
                reuse_export(folder, dest)
            except OSError:
                shutil.rmtree(dest, ignore_errors=True)
                continue
            entry = known  # the same bytes (hard links): the recorded hashes hold
            break
        if entry is None:
            export_onnx(encoder, dest)
            entry = _entry(fingerprint, dest)
        _EXPORTS[fingerprint] = (dest, entry)
    return entry


# ---------------------------------------------------------------------------------- loading


_SESSIONS: dict[str, OnnxEncoder] = {}


def load_export(build_folder: Path, entry: dict[str, Any] | None,
                verify: Callable[[Path, str], bool]) -> OnnxEncoder:
    """The ONNX encoder of a build, shared between loads of the same export (by its hash).

    `entry` is the manifest's "encoder" entry; `verify(path, sha256)` says whether a file is
    intact (the index's cached check).

    Raises:
        ModelLoadError: the build has no export, a file is missing or altered, or ONNX Runtime
            is not installed or cannot load it.
    """
    if not entry or not entry.get("files"):
        raise ModelLoadError("the index has no ONNX export of the model")
    folder = build_folder / EXPORT_DIR
    for name, info in entry["files"].items():
        path = build_folder / name
        if not path.is_file():
            raise ModelLoadError(f"the ONNX export file {path} is missing")
        if path.stat().st_size != info["size"] or not verify(path, info["sha256"]):
            raise ModelLoadError(f"the ONNX export file {path} is altered")
    key = entry["files"][f"{EXPORT_DIR}/{MODEL_FILE}"]["sha256"]
    with _EXPORTS_LOCK:
        cached = _SESSIONS.get(key)
        if cached is None:
            cached = OnnxEncoder(folder)
            _SESSIONS[key] = cached
    return cached
