"""The default "rerank" mode on the bundled article: the sentence that answers comes first, a
headline does not outrank the body sentence that says more, and "not covered" is said when
nothing answers."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from bot import rerank
from bot.config import Settings
from bot.retrieve import retrieve
from bot.service import QAService
from evaluation.harness import ISSUE_QUESTIONS
from tests.conftest import SEED_QUESTIONS

NAMED = ISSUE_QUESTIONS  # the two the issue names, with a phrase of the answering sentence


@pytest.fixture(scope="module")
def rerank_service(seed_service: QAService) -> QAService:
    """The seed service's index answered in "rerank" mode."""
    return QAService(seed_service.settings.model_copy(update={"retrieval_mode": "rerank"}),
                     encoder=seed_service.encoder)


@pytest.mark.parametrize(("question", "phrase"), [*SEED_QUESTIONS, *NAMED])
def test_the_answering_sentence_comes_first_and_is_covered(rerank_service: QAService, question: str,
                                                           phrase: str) -> None:
    answer = rerank_service.ask(question)
    assert answer.answered, f"{question!r} marked not covered"
    assert phrase in answer.hits[0].passage.text


def test_the_headline_is_not_the_top_answer_when_a_body_sentence_says_more(seed_service: QAService) -> None:
    index = seed_service.index
    title = index.passages[0].title
    hits = retrieve(index, seed_service.encoder, "Is Ukraine keeping its stronghold in Kursk despite the "
                    "Russian offensive?", 3, mode="rerank").hits
    assert hits[0].passage.text != title
    assert any(h.passage.text != title for h in hits)


@pytest.mark.parametrize("question", [
    "how much did elon musk pay for twitter",
    "when did apple put the first iphone on sale?",
    "What is the capital of France?",
])
def test_questions_the_article_does_not_cover_are_said_to_be_not_covered(rerank_service: QAService,
                                                                         question: str) -> None:
    answer = rerank_service.ask(question)
    assert not answer.answered
    assert len(answer.hits) <= 1


def test_hits_carry_a_relevance_that_falls_with_rank(seed_service: QAService) -> None:
    hits = retrieve(seed_service.index, seed_service.encoder, SEED_QUESTIONS[1][0], 5, mode="rerank").hits
    scores = [h.relevance for h in hits]
    assert all(s is not None for s in scores)
    assert scores == sorted(scores, reverse=True)  # type: ignore[type-var]


def test_shipped_weights_match_the_features_and_a_changed_list_is_refused(tmp_path: Path) -> None:
    model = rerank.RerankModel.load()
    assert model.weights.shape == (len(rerank.FEATURES),)
    assert 0.0 < model.threshold < 1.0
    data = json.loads(rerank.WEIGHTS.read_text(encoding="utf-8"))
    data["features"] = data["features"][:-1]
    bad = tmp_path / "weights.json"
    bad.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(ValueError, match="retrain"):
        rerank.RerankModel.load(bad)


def test_the_pool_adds_every_sentence_of_the_best_article(seed_service: QAService) -> None:
    index = seed_service.index
    question = SEED_QUESTIONS[0][0]
    pool = rerank.candidate_pool(index, seed_service.encoder.encode_query(question), question)
    assert sorted(pool.ids.tolist()) == list(range(index.size))
    assert pool.features.shape == (index.size, len(rerank.FEATURES))
    assert np.isfinite(pool.features).all()


def test_an_unknown_retrieval_mode_is_refused() -> None:
    with pytest.raises(ValueError, match="rerank"):
        Settings(_env_file=None, retrieval_mode="fancy")  # type: ignore[call-arg]


def test_position_and_lede_count_only_in_an_article_with_a_headline(seed_service: QAService) -> None:
    from evaluation.data import CandidateQuestion
    from evaluation.harness import candidate_pools

    sentences = ("The Eiffel Tower is a wrought-iron lattice tower in Paris.",
                 "It was designed by the company of Gustave Eiffel.",
                 "It opened in 1889 for the World's Fair.")
    question = CandidateQuestion("q1", "who designed the eiffel tower", sentences, (0, 1, 0))
    vectors = seed_service.encoder.encode(list(sentences))
    row = {t: i for i, t in enumerate(sentences)}
    qv = seed_service.encoder.encode([question.question])
    col = rerank.FEATURES.index
    for one_document in (True, False):  # a headline-less document; one-sentence documents
        ((pool, local),) = candidate_pools([question], vectors, row, qv, one_document)
        assert sorted(local.tolist()) == [0, 1, 2]
        assert not pool.features[:, [col("position"), col("is_lede"), col("is_head")]].any()
    # the bundled article has a headline: its body sentences keep their position and lede
    index = seed_service.index
    q = SEED_QUESTIONS[0][0]
    news = rerank.candidate_pool(index, seed_service.encoder.encode_query(q), q)
    assert news.features[:, col("position")].max() > 0
    assert news.features[:, col("is_lede")].any()
