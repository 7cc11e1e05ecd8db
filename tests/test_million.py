"""The 1M benchmark's loader on a small index: the same code path, a few hundred passages."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from benchmarks.million import InjectedEncoder, pair_corpus
from bot.build import build
from bot.embed import Encoder
from bot.index import load_index
from bot.onnx_encoder import OnnxEncoder
from bot.service import QAService
from tests.conftest import make_settings


def test_a_pair_corpus_with_injected_embeddings_builds_loads_and_answers(
        seed_service: QAService, encoder: Encoder, tmp_path: Path) -> None:
    bbc = seed_service.index
    texts = list(bbc.passage_texts())
    vectors = pair_corpus(texts, np.asarray(bbc.embeddings), 120, tmp_path / "corpus")
    assert len(vectors) == 120 and len(set(vectors)) == 120
    injected = InjectedEncoder(encoder, vectors)
    settings = make_settings(tmp_path, tmp_path / "corpus")
    report = build(settings.corpus_dir, settings.index_dir, injected, settings.embedding_model)  # type: ignore[arg-type]
    assert report.passages == 121  # and the article's title
    assert injected.encoded < 30  # only the title and stat phrases were really encoded
    index = load_index(settings.index_dir, settings.embedding_model)
    row = index.text_rows([next(iter(vectors))])
    assert list(row.values()) == [1]
    assert np.allclose(index.embeddings[1], vectors[index.passages[1].text], atol=1e-6)
    service = QAService(settings)
    assert isinstance(service.query_encoder(), OnnxEncoder)
    answer = service.ask("How many North Korean soldiers were deployed to Kursk?")
    assert answer.hits and "North Korean" in " ".join(h.passage.text for h in answer.hits)
