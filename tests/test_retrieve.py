"""Retrieval over the seed index: every mode, edge cases of k, and the "no answer" threshold."""

from __future__ import annotations

import pytest

from bot.retrieve import MODES, retrieve
from bot.service import QAService
from tests.conftest import SEED_QUESTIONS


@pytest.mark.parametrize("mode", MODES)
def test_k_beyond_the_passage_count_returns_each_passage_at_most_once(seed_service: QAService,
                                                                      mode: str) -> None:
    index = seed_service.index
    hits = retrieve(index, seed_service.encoder, "Kursk North Korea soldiers", index.size + 50,
                    mode=mode).hits
    ids = [h.id for h in hits]
    assert 0 < len(ids) <= index.size
    assert len(set(ids)) == len(ids)
    assert [h.rank for h in hits] == list(range(1, len(hits) + 1))


def test_bm25_mode_finds_nothing_for_words_outside_the_vocabulary(seed_service: QAService) -> None:
    assert retrieve(seed_service.index, seed_service.encoder, "zzqx blorf", 3, mode="bm25").hits == []


@pytest.mark.parametrize(("question", "phrase"), SEED_QUESTIONS)
def test_hybrid_puts_the_answering_sentence_first(seed_service: QAService, question: str,
                                                  phrase: str) -> None:
    hits = retrieve(seed_service.index, seed_service.encoder, question, 3, mode="hybrid").hits
    assert phrase in hits[0].passage.text


def test_hybrid_scores_shown_are_cosines(seed_service: QAService) -> None:
    hits = retrieve(seed_service.index, seed_service.encoder, SEED_QUESTIONS[0][0], 3).hits
    query = seed_service.encoder.encode_query(SEED_QUESTIONS[0][0])[0]
    for h in hits:
        assert h.score == pytest.approx(float(seed_service.index.embeddings[h.id] @ query), abs=1e-5)


def test_an_off_topic_question_is_unanswered_at_the_default_threshold(seed_service: QAService) -> None:
    assert not seed_service.ask("What is the capital of France?").answered


@pytest.mark.parametrize(("question", "phrase"), SEED_QUESTIONS)
def test_seed_questions_are_answered_at_the_default_threshold(seed_service: QAService, question: str,
                                                              phrase: str) -> None:
    answer = seed_service.ask(question)
    assert answer.answered
    assert phrase in answer.hits[0].passage.text
