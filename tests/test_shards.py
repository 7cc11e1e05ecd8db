"""A sharded index (INDEX_SHARDS > 1) answers exactly as the unsharded one: ids and scores."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

import bot.index
from bot.embed import Encoder
from bot.errors import IndexCorruptError
from bot.index import current_build, load_index, make_faiss_index
from bot.retrieve import MODES, rank
from bot.service import QAService
from bot.shards import join_faiss_shards, make_faiss_shards, shard_bounds
from bot.sparse import SparseIndex
from tests.conftest import SEED_QUESTIONS, copy_seed, copy_story, make_settings

QUESTIONS = [q for q, _ in SEED_QUESTIONS] + [
    "How many homes were flooded?",
    "Which river burst its banks?",
    "What did the mayor say about the flood defences?",
    "Kursk",
    "the of and",  # stop words only: no BM25 hit in either
    "zzzz unknownword",
]
MODEL = "all-MiniLM-L6-v2 (packaged)"


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory, encoder: Encoder) -> tuple[QAService, QAService]:
    """The same corpus built twice: one shard, and three shards."""
    tmp = tmp_path_factory.mktemp("shards")
    corpus = copy_story(copy_seed(tmp / "corpus"))
    one = QAService(make_settings(tmp / "one", corpus), encoder=encoder)
    three = QAService(make_settings(tmp / "three", corpus, index_shards=3), encoder=encoder)
    one.rebuild()
    three.rebuild()
    return one, three


def test_sharded_build_writes_one_faiss_and_bm25_part_per_shard(pair: tuple[QAService, QAService]) -> None:
    one, three = pair
    folder = three.index.path
    bounds = three.index.manifest["shards"]
    assert len(bounds) == 3 and bounds[0][0] == 0 and bounds[-1][1] == one.index.size
    assert sorted(p.name for p in (folder / "faiss").iterdir()) == [f"shard-00{i}.faiss" for i in range(3)]
    assert sorted(p.name for p in (folder / "bm25").glob("shard-*")) == [f"shard-00{i}" for i in range(3)]
    assert not (folder / "index.faiss").exists()
    assert "shards" not in one.index.manifest and (one.index.path / "index.faiss").is_file()
    assert [p.text for p in three.index.passages] == [p.text for p in one.index.passages]


def test_sharded_index_answers_exactly_as_the_unsharded_one(pair: tuple[QAService, QAService]) -> None:
    one, three = pair
    a, b = one.index, three.index
    for question in QUESTIONS:
        query = one.encoder.encode_query(question)
        for k in (1, 5, 20, a.size + 10):
            assert b.search(query, k) == a.search(query, k), (question, k)
            assert b.sparse.search(question, k) == a.sparse.search(question, k), (question, k)
        assert b.sparse.query_weight(question) == a.sparse.query_weight(question)
        assert np.array_equal(b.sparse.scores(question), a.sparse.scores(question))
        for mode in MODES:
            assert rank(b, query, question, mode, 50) == rank(a, query, question, mode, 50), (question, mode)
        x, y = one.ask(question, k=5), three.ask(question, k=5)
        assert [(h.passage.text, h.score) for h in y.hits] == [(h.passage.text, h.score) for h in x.hits]


def test_bm25_shards_break_ties_like_one_index() -> None:
    # Many passages of equal length holding the same word once: equal scores everywhere.
    texts = [f"river number{i} rose" for i in range(40)] + ["the river rose and the river fell"] * 3
    whole = SparseIndex.build(texts)
    for shards in (2, 3, 7):
        split = SparseIndex.build(texts, shard_bounds(len(texts), shards))
        for k in (1, 4, 10, 50):
            assert split.search("river", k) == whole.search("river", k)
        best = whole.search("river", 4)
        assert [i for i, _ in best] == [40, 41, 42, 0]  # the three copies tie, then the lowest id
        assert best[0][1] == best[2][1] > best[3][1]


def test_ivf_shards_share_one_quantizer_and_answer_exactly(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bot.index, "FLAT_MAX_PASSAGES", 500)
    rng = np.random.default_rng(7)
    vectors = rng.standard_normal((3000, 32)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    whole = make_faiss_index(vectors)
    assert type(whole).__name__ == "IndexIVFScalarQuantizer"
    split = join_faiss_shards(make_faiss_shards(vectors, shard_bounds(len(vectors), 4)))
    queries = vectors[:40] + 0.3 * rng.standard_normal((40, 32)).astype(np.float32)
    for q in queries:
        q = (q / np.linalg.norm(q))[None, :]
        ws, wi = whole.search(q, 10)
        ss, si = split.search(q, 10)
        assert si.tolist() == wi.tolist() and ss.tolist() == ws.tolist()


def test_shard_bounds_cover_every_passage_once() -> None:
    assert shard_bounds(10, 3) == [(0, 3), (3, 7), (7, 10)]
    assert shard_bounds(2, 5) == [(0, 1), (1, 2)]
    assert shard_bounds(0, 4) == [(0, 0)]


def test_a_damaged_shard_is_reported_and_the_index_heals(pair: tuple[QAService, QAService],
                                                          tmp_path: Path, encoder: Encoder) -> None:
    _, three = pair
    index_dir = tmp_path / "index"
    shutil.copytree(three.settings.index_dir, index_dir)
    shard = current_build(index_dir) / "faiss" / "shard-001.faiss"  # type: ignore[operator]
    shard.write_bytes(shard.read_bytes()[:-64])
    with pytest.raises(IndexCorruptError, match="shard-001.faiss"):
        load_index(index_dir, MODEL, 384)
    healed = QAService(make_settings(tmp_path, three.settings.corpus_dir, index_shards=3), encoder=encoder)
    healed.rebuild()
    assert healed.index.size == three.index.size
