"""The answering path without torch: the build's ONNX export, its agreement with
sentence-transformers, the fallback to torch, and what `python -m bot ask` imports."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from bot.corpus import segment
from bot.embed import Encoder
from bot.index import current_build
from bot.onnx_encoder import EXPORT_DIR, MODEL_FILE, OnnxEncoder
from bot.service import QAService
from evaluation import data as eval_data
from tests.conftest import REPO, requires_shared

#: Never imported by `ask` on a built index (bm25s pulls in SciPy: a saved BM25 index is read with NumPy).
HEAVY = ("torch", "sentence_transformers", "transformers", "sklearn", "bm25s", "scipy")


def test_onnx_embeddings_agree_with_sentence_transformers_on_1000_bbc_sentences(
        seed_service: QAService, encoder: Encoder) -> None:
    folder = requires_shared("bbc-news", "articles")
    texts: list[str] = []
    for doc in eval_data.bbc_documents(folder, stride=20):
        texts += [p.text for p in segment(doc)]
        if len(texts) >= 1000:
            break
    texts = texts[:1000]
    assert len(texts) == 1000
    export = seed_service.index.path / EXPORT_DIR
    onnx = OnnxEncoder(export, threads=os.cpu_count() or 1)
    ours = onnx.encode(texts)
    theirs = encoder.encode(texts, batch_size=32)
    cosines = np.sum(ours * theirs, axis=1)
    assert float(cosines.min()) >= 0.9999
    assert np.allclose(np.linalg.norm(ours, axis=1), 1.0, atol=1e-5)
    # One question alone (no padding) agrees too, and so do the word-piece spans.
    question = "How many North Korean soldiers were sent to Kursk?"
    assert float(onnx.encode_query(question)[0] @ encoder.encode_query(question)[0]) >= 0.9999
    assert onnx.offsets(question) == encoder.offsets(question)


def test_questions_are_encoded_by_the_export_in_the_index_folder(seed_service: QAService) -> None:
    query_encoder = seed_service.query_encoder()
    assert isinstance(query_encoder, OnnxEncoder)
    assert query_encoder.folder.parent == seed_service.index.path
    manifest = seed_service.index.manifest
    entry = manifest["encoder"]["files"][f"{EXPORT_DIR}/{MODEL_FILE}"]
    assert entry["size"] == (seed_service.index.path / EXPORT_DIR / MODEL_FILE).stat().st_size
    assert len(entry["sha256"]) == 64


def test_a_rebuild_links_the_unchanged_export_instead_of_copying_it(
        seed_corpus: Path, service_for: Callable[..., QAService]) -> None:
    service = service_for(seed_corpus)
    service.rebuild()
    first = service.index.path / EXPORT_DIR / MODEL_FILE
    (seed_corpus / "extra.txt").write_text("A new article.\n\nIt has two sentences.\n", encoding="utf-8")
    service.rebuild()
    second = service.index.path / EXPORT_DIR / MODEL_FILE
    assert first != second and first.stat().st_ino == second.stat().st_ino


def test_without_the_export_answers_fall_back_to_torch_and_say_so(
        seed_corpus: Path, service_for: Callable[..., QAService], caplog: pytest.LogCaptureFixture) -> None:
    service = service_for(seed_corpus)
    service.rebuild()
    folder = current_build(service.settings.index_dir)
    assert folder is not None
    (folder / EXPORT_DIR / MODEL_FILE).unlink()  # unlink: other builds share the file by hard link
    fresh = QAService(service.settings, encoder=service.encoder)
    with caplog.at_level(logging.WARNING):
        answer = fresh.ask("How many North Korean soldiers were deployed?")
    assert "11,000" in " ".join(h.passage.text for h in answer.hits)
    assert fresh.query_encoder() is service.encoder
    assert any("encoding questions with torch" in r.getMessage() and MODEL_FILE in r.getMessage()
               for r in caplog.records)


def test_ask_from_the_command_line_never_imports_torch(seed_service: QAService, tmp_path: Path) -> None:
    settings = seed_service.settings
    script = (
        "import json, sys\n"
        "from bot.cli import main\n"
        "rc = main(['ask', sys.argv[1], '--corpus', sys.argv[2], '--index', sys.argv[3], '--json'])\n"
        f"print(json.dumps([m for m in {HEAVY!r} if m in sys.modules]))\n"
        "sys.exit(rc)\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", script, "How many North Korean soldiers were deployed?",
         str(settings.corpus_dir), str(settings.index_dir)],
        cwd=tmp_path, capture_output=True, text=True, timeout=120, env={**os.environ, "PYTHONPATH": str(REPO)})
    assert proc.returncode == 0, proc.stderr
    answer_line, imported_line = proc.stdout.strip().splitlines()[-2:]
    assert json.loads(imported_line) == []
    assert "11,000" in json.dumps(json.loads(answer_line)["passages"])
    assert "torch" not in proc.stderr
