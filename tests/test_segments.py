"""Incremental builds at scale (issue 10): adding articles links the previous build's vectors
instead of rewriting them, answers as a full build of the same corpus does, and heals.

Real files, real model, real FAISS: a dozen BBC articles with the segment threshold lowered
to 1 passage (at the default, only indexes of 20,000 passages and more make segments)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import numpy as np
import pytest

from bot import index as index_format
from bot.build import build
from bot.embed import Encoder
from bot.index import current_build, load_index
from bot.service import QAService
from evaluation.vector_cache import CachedEncoder
from tests.conftest import copy_seed, make_settings, requires_shared

QUESTIONS = ["How many North Korean soldiers were deployed to Kursk?", "Who won the Australian Open?",
             "What did the company report about its profits?", "Which film won at the Oscars?"]


def bbc_articles(n: int, skip: int = 0) -> list[Path]:
    files = sorted(requires_shared("bbc-news", "articles").glob("*/*.txt"))
    return files[skip::97][:n]  # spread over the five sections


def add(corpus: Path, files: list[Path]) -> None:
    for f in files:
        shutil.copyfile(f, corpus / f"bbc-{f.parent.name}-{f.name}")


def hits(service: QAService) -> list[list[tuple[str, str, float]]]:
    return [[(h.passage.text, h.passage.document, round(h.score, 5)) for h in service.ask(q).hits]
            for q in QUESTIONS]


@pytest.fixture
def segmenting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(index_format, "SEGMENT_MIN_PASSAGES", 1)
    monkeypatch.setattr("bot.build.SEGMENT_MIN_PASSAGES", 1)


def test_adding_articles_links_the_old_vectors_and_answers_as_a_full_build(
        segmenting: None, encoder: Encoder, tmp_path: Path) -> None:
    cached = CachedEncoder(encoder, None)  # the full build below re-embeds nothing
    corpus = copy_seed(tmp_path / "corpus")
    add(corpus, bbc_articles(10))
    settings = make_settings(tmp_path, corpus)
    model = settings.embedding_model
    first = build(corpus, settings.index_dir, cached, model)
    old = current_build(settings.index_dir)
    assert old is not None and "segments" not in load_index(settings.index_dir, model).manifest

    add(corpus, bbc_articles(3, skip=40))
    grown = build(corpus, settings.index_dir, cached, model)
    new = current_build(settings.index_dir)
    assert new is not None and new != old
    assert 0 < grown.embedded == grown.passages - first.passages
    manifest = load_index(settings.index_dir, model).manifest
    assert manifest["segments"] == [[0, first.passages], [first.passages, grown.passages]]
    for name in ("embeddings.npy", "index.faiss"):  # the same inode: linked, not written
        assert (new / name).stat().st_ino == (old / name).stat().st_ino
        assert (new / name).stat().st_nlink == 2
    segment = np.load(new / "segments" / "001" / "embeddings.npy")
    assert segment.shape == (grown.passages - first.passages, 384)

    full_settings = make_settings(tmp_path / "full", corpus)
    full = build(corpus, full_settings.index_dir, cached, model)
    assert full.passages == grown.passages
    incremental = QAService(settings, encoder=encoder)
    whole = QAService(full_settings, encoder=encoder)
    assert hits(incremental) == hits(whole)
    assert incremental.ask(QUESTIONS[0]).answered
    texts = {p.text for p in whole.index.passages}
    assert {p.text for p in incremental.index.passages} == texts
    rows = incremental.index.text_rows(sorted(texts))
    whole_rows = whole.index.text_rows(sorted(texts))
    for text in sorted(texts)[::7]:  # every passage keeps its own vector
        assert np.allclose(incremental.index.embeddings[rows[text]], whole.index.embeddings[whole_rows[text]],
                           atol=1e-6)

    # Nothing changed: every vector file linked, no new segment; then a damaged new segment heals.
    again = build(corpus, settings.index_dir, cached, model)
    assert again.embedded == 0
    third = current_build(settings.index_dir)
    assert third is not None and load_index(settings.index_dir, model).manifest["segments"] == manifest["segments"]
    assert (third / "segments" / "001" / "index.faiss").stat().st_ino == \
        (new / "segments" / "001" / "index.faiss").stat().st_ino


def test_a_damaged_segment_is_set_aside_and_the_previous_build_answers(
        segmenting: None, encoder: Encoder, tmp_path: Path) -> None:
    corpus = copy_seed(tmp_path / "corpus")
    settings = make_settings(tmp_path, corpus)
    builder = QAService(settings, encoder=encoder)
    builder.rebuild()
    previous = current_build(settings.index_dir)
    add(corpus, bbc_articles(2))
    builder.rebuild()
    broken = current_build(settings.index_dir)
    assert broken is not None and (broken / "segments" / "001" / "index.faiss").is_file()
    path = broken / "segments" / "001" / "index.faiss"
    path.write_bytes(path.read_bytes()[:100])  # the new segment's file, not shared with `previous`
    service = QAService(settings, encoder=encoder)
    assert service.ensure_index() is None
    assert previous is not None and f"previous build {previous.name}" in service.notices[0]
    assert service.ask(QUESTIONS[0]).answered
    service.wait_for_healing(120)
    healed = current_build(settings.index_dir)
    assert healed not in (previous, broken) and (broken.parent / f"broken-{broken.name}").is_dir()
    assert any(p.document.startswith("bbc-") for p in service.index.passages)


def test_the_staleness_check_hashes_only_files_whose_stamp_changed(
        seed_service: QAService, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    corpus = copy_seed(tmp_path / "corpus")
    article = next(corpus.iterdir())
    hour_ago = article.stat().st_mtime - 3600
    os.utime(article, (hour_ago, hour_ago))  # older than the build by more than a clock tick
    settings = make_settings(tmp_path, corpus)
    build(corpus, settings.index_dir, seed_service.encoder, settings.embedding_model)
    index = load_index(settings.index_dir, settings.embedding_model)
    read: list[int] = []
    real_hash = index_format.file_hash
    monkeypatch.setattr(index_format, "file_hash", lambda data: read.append(1) or real_hash(data))
    assert index.stale_files(corpus) == [] and read == []
    text = article.read_text(encoding="utf-8")
    article.write_text(text.replace("a", "e", 1), encoding="utf-8")  # same size, new bytes and time
    assert index.stale_files(corpus) == [f"changed: {article.name}"] and read == [1]
