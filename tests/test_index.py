"""Index builds, loads and failures, with the real model and real FAISS on real files."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from bot.errors import REBUILD_HINT, IndexCorruptError, ModelMismatchError, ReindexInProgressError
from bot.index import current_build, load_index
from bot.service import QAService
from tests.conftest import REPO, make_settings

SEED_FILE = "ukraine-holds-kursk-foothold.txt"
MODEL = "all-MiniLM-L6-v2 (packaged)"


def test_build_indexes_each_distinct_sentence_once(seed_service: QAService) -> None:
    index = seed_service.index
    texts = [p.text for p in index.passages]
    assert len(texts) == len(set(texts))
    assert texts.count("Ukraine Maintains Stronghold in Kursk Despite Russian Offensive") == 1
    manifest = index.manifest
    assert manifest["model"] == MODEL
    assert (manifest["dimension"], manifest["metric"]) == (384, "inner_product")
    assert manifest["passages"] == len(texts) == index.faiss_index.ntotal
    assert list(manifest["files"]) == [SEED_FILE]
    assert {"sentence-transformers", "faiss-cpu", "torch"} <= set(manifest["versions"])
    assert index.embeddings.dtype == np.float32 and index.embeddings.shape == (len(texts), 384)
    assert np.allclose(np.linalg.norm(index.embeddings, axis=1), 1.0, atol=1e-4)


def test_faiss_search_matches_a_brute_force_oracle(seed_service: QAService) -> None:
    index = seed_service.index
    query = seed_service.encoder.encode_query("North Korean troops in Kursk")
    oracle = np.argsort(-(np.asarray(index.embeddings) @ query[0]))[:5]
    assert [i for i, _ in index.search(query, 5)] == oracle.tolist()


def test_k_larger_than_the_index_returns_only_real_passages(seed_service: QAService) -> None:
    index = seed_service.index
    hits = index.search(seed_service.encoder.encode_query("troops"), index.size + 50)
    assert len(hits) == index.size
    assert all(0 <= i < index.size for i, _ in hits)
    answer = seed_service.ask("How many Russian troops?", k=25)
    assert 1 <= len(answer.hits) <= index.size
    assert all(h.passage.text for h in answer.hits)


def test_rebuild_reembeds_only_changed_passages(seed_corpus: Path,
                                                service_for: Callable[..., QAService]) -> None:
    service = service_for(seed_corpus)
    first = service.rebuild()
    assert first.embedded == first.passages and first.reused == 0
    unchanged = service.rebuild()
    assert (unchanged.embedded, unchanged.reused) == (0, first.passages)
    (seed_corpus / "extra.txt").write_text("Talks resume in Geneva on Monday.", encoding="utf-8")
    changed = service.rebuild()
    assert (changed.documents, changed.embedded) == (2, 1)
    assert changed.reused == first.passages


def test_failed_build_leaves_the_old_index_serving(seed_corpus: Path,
                                                   service_for: Callable[..., QAService],
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    service = service_for(seed_corpus)
    service.rebuild()
    before = current_build(service.settings.index_dir)
    (seed_corpus / "new.txt").write_text("A brand new report about grain exports.", encoding="utf-8")

    def die(*args: object, **kwargs: object) -> None:
        raise RuntimeError("disk full halfway through the build")

    monkeypatch.setattr("bot.build.write_build", die)
    with pytest.raises(RuntimeError):
        service.rebuild()
    assert current_build(service.settings.index_dir) == before
    answer = service.ask("How many North Korean soldiers were deployed?")
    assert "11,000" in answer.hits[0].passage.text


def test_killed_build_process_leaves_the_old_index_serving(seed_corpus: Path, tmp_path: Path,
                                                           service_for: Callable[..., QAService]) -> None:
    service = service_for(seed_corpus)
    service.rebuild()
    index_dir = service.settings.index_dir
    before = current_build(index_dir)
    (seed_corpus / "new.txt").write_text("A brand new report about grain exports.", encoding="utf-8")
    # A real process, SIGKILLed after writing every file of the new build but before the swap.
    script = (
        "import os, signal, sys\n"
        "import bot.build\n"
        "bot.build.publish = lambda *a: os.kill(os.getpid(), signal.SIGKILL)\n"
        "from bot.cli import main\n"
        f"sys.exit(main(['build', '--corpus', {str(seed_corpus)!r}, '--index', {str(index_dir)!r}]))\n"
    )
    proc = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, capture_output=True,
                          timeout=240, env={**os.environ, "PYTHONPATH": str(REPO)})
    assert proc.returncode == -9
    assert list(index_dir.glob(".tmp-build-*")), "the killed build had written its temporary folder"
    assert current_build(index_dir) == before
    fresh = QAService(service.settings, encoder=service.encoder)
    assert "11,000" in fresh.ask("How many North Korean soldiers were deployed?").hits[0].passage.text
    fresh.rebuild()
    assert not list(index_dir.glob(".tmp-build-*"))
    assert fresh.index.manifest["documents"] == 2


def test_second_rebuild_while_one_runs_is_refused(seed_corpus: Path,
                                                  service_for: Callable[..., QAService]) -> None:
    service = service_for(seed_corpus)
    from bot.index import build_lock

    with build_lock(service.settings.index_dir) as held:
        assert held
        with pytest.raises(ReindexInProgressError, match="already running"):
            service.rebuild()


def test_truncated_faiss_file_is_a_one_line_error_naming_it(seed_corpus: Path,
                                                            service_for: Callable[..., QAService]) -> None:
    service = service_for(seed_corpus)
    service.rebuild()
    faiss_file = current_build(service.settings.index_dir) / "index.faiss"  # type: ignore[operator]
    faiss_file.write_bytes(faiss_file.read_bytes()[:100])
    with pytest.raises(IndexCorruptError) as err:
        load_index(service.settings.index_dir, MODEL, 384)
    message = str(err.value)
    assert str(faiss_file) in message and "python -m bot build" in message and "\n" not in message


def test_garbage_faiss_file_of_the_right_size_is_reported(seed_corpus: Path,
                                                          service_for: Callable[..., QAService]) -> None:
    service = service_for(seed_corpus)
    service.rebuild()
    faiss_file = current_build(service.settings.index_dir) / "index.faiss"  # type: ignore[operator]
    faiss_file.write_bytes(b"\x00" * faiss_file.stat().st_size)
    with pytest.raises(IndexCorruptError, match="index.faiss is altered \\(its SHA-256 does not match"):
        load_index(service.settings.index_dir, MODEL, 384)


def test_a_zeroed_block_inside_the_embeddings_is_caught(seed_corpus: Path,
                                                        service_for: Callable[..., QAService]) -> None:
    service = service_for(seed_corpus)
    service.rebuild()
    emb = current_build(service.settings.index_dir) / "embeddings.npy"  # type: ignore[operator]
    data = bytearray(emb.read_bytes())
    data[len(data) // 2 : len(data) // 2 + 4096] = bytes(4096)
    emb.write_bytes(bytes(data))
    with pytest.raises(IndexCorruptError, match=f"index file {emb} is altered"):
        load_index(service.settings.index_dir, MODEL, 384)


def test_index_built_with_another_model_is_refused_with_the_fix(seed_corpus: Path,
                                                                service_for: Callable[..., QAService]) -> None:
    service = service_for(seed_corpus)
    service.rebuild()
    with pytest.raises(ModelMismatchError, match="built with model 'all-MiniLM-L6-v2 \\(packaged\\)' but "
                       "EMBEDDING_MODEL is 'intfloat/e5-small'.*python -m bot build"):
        load_index(service.settings.index_dir, "intfloat/e5-small", 384)
    with pytest.raises(ModelMismatchError, match="384-dimensional embeddings but the model makes 768"):
        load_index(service.settings.index_dir, MODEL, 768)


def test_stale_corpus_adds_a_warning_to_answers(seed_corpus: Path, service_for: Callable[..., QAService],
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("bot.service.STALE_CHECK_SECONDS", 0.0)  # look at the folder on every answer
    service = service_for(seed_corpus)
    service.rebuild()
    assert service.ask("Who is Ukraine's commander-in-chief?").warnings == ()
    (seed_corpus / "added.txt").write_text("Another article arrives.", encoding="utf-8")
    with (seed_corpus / SEED_FILE).open("a", encoding="utf-8") as f:
        f.write("\nA late update.")
    warnings = service.ask("Who is Ukraine's commander-in-chief?").warnings
    assert warnings == (
        f"the index is stale (added: added.txt, changed: {SEED_FILE}): {REBUILD_HINT}",)
    (seed_corpus / "added.txt").unlink()
    (seed_corpus / SEED_FILE).unlink()
    warnings = service.ask("Who is Ukraine's commander-in-chief?").warnings
    assert warnings == (f"the index is stale (removed: {SEED_FILE}): {REBUILD_HINT}",)


def test_skipped_binary_file_does_not_make_the_index_stale(tmp_path: Path,
                                                           service_for: Callable[..., QAService]) -> None:
    corpus = tmp_path / "c"
    corpus.mkdir()
    (corpus / "a.txt").write_text("Grain exports rose by a third in March.", encoding="utf-8")
    (corpus / "b.txt").write_bytes(b"\x00\x01\x02binary")
    service = service_for(corpus)
    report = service.rebuild()
    assert [s.path for s in report.skipped] == ["b.txt"]
    assert service.ask("How did grain exports change?").warnings == ()


def test_settings_for_tests_read_no_env_file(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("TOP_K=9\n", encoding="utf-8")
    os.chdir(tmp_path)
    try:
        assert make_settings(tmp_path, tmp_path).top_k == 3
    finally:
        os.chdir(REPO)
