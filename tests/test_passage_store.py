"""The passage store: a loaded build reads passages and documents from SQLite on demand."""

from __future__ import annotations

import pytest

from bot.index import LazyList
from bot.passage_store import DocumentStore, PassageStore
from bot.service import QAService

SEED_FILE = "ukraine-holds-kursk-foothold.txt"


def test_passages_are_a_sequence_read_from_the_store(seed_service: QAService) -> None:
    index = seed_service.index
    passages = index.passages
    assert isinstance(passages, PassageStore) and isinstance(index.documents, DocumentStore)
    listed = list(passages)
    assert len(listed) == len(passages) == index.size == index.faiss_index.ntotal
    assert [passages[i] for i in range(len(passages))] == listed == passages[:]
    assert passages[-1] == listed[-1]
    assert passages.many([3, 0, 3]) == [listed[3], listed[0], listed[3]]
    with pytest.raises(IndexError):
        passages[len(passages)]
    first = passages[0]
    assert first.document == SEED_FILE and first.sentence == 1 and first.title
    assert list(index.passage_texts()) == [p.text for p in listed]
    assert index.text_rows([listed[5].text, "no such sentence"]) == {listed[5].text: 5}


def test_documents_and_neighbours_come_from_the_store(seed_service: QAService) -> None:
    index = seed_service.index
    assert list(index.documents) == [SEED_FILE] and SEED_FILE in index.documents
    record = index.documents[SEED_FILE]
    assert len(record.sentences) >= index.size
    passage = index.passages[4]
    before, after = index.neighbours(passage, 2, 2)
    n = passage.sentence
    assert before == [s[2] for s in record.sentences[n - 3 : n - 1]]
    assert after == [s[2] for s in record.sentences[n : n + 2]]
    assert index.passage_counts() == {SEED_FILE: index.size}
    docs, _ = seed_service.sources()
    assert [(d.document, d.passages) for d in docs] == [(SEED_FILE, index.size)]


def test_stats_load_on_first_use(seed_service: QAService) -> None:
    index = seed_service.index
    assert isinstance(index.stats, LazyList)
    assert len(index.stats) == len(list(index.stats)) > 0
