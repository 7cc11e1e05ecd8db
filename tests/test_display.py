"""How passages are shown: in ranked order with a number that agrees with it, and a word about
the weaker matches the threshold hid (CLI text, console chat, Discord embed, `ask --json`)."""

from __future__ import annotations

import re

from bot.answer import render_text
from bot.discord_app.render import answer_embed
from bot.service import QAService

#: Two passages of the bundled article tie closely for this one; the hybrid order and the
#: cosine order disagree (the 11,000 sentence is ranked first, the 1,000 one is nearer by cosine).
DEPLOYED = "How many North Korean soldiers were deployed?"


def shown_scores(text: str) -> list[float]:
    return [float(s) for s in re.findall(r"\(score (\d\.\d\d)\)", text)]


def test_shown_score_never_rises_down_the_list(seed_service: QAService) -> None:
    for question in (DEPLOYED, "What happened in Kursk?", "What targets does Ukraine say it is hitting?",
                     "How much territory does Ukraine hold in Kursk?"):
        answer = seed_service.ask(question, k=5)
        assert answer.answered, question
        scores = [h.shown_score for h in answer.hits]
        assert scores == sorted(scores, reverse=True), (question, scores)
        text = render_text(answer)
        shown = shown_scores(text)
        assert len(shown) == len(answer.hits) and shown == sorted(shown, reverse=True), text
        assert [h.rank for h in answer.hits] == list(range(1, len(answer.hits) + 1))


def test_json_score_is_the_ranking_score_and_similarity_the_cosine(seed_service: QAService) -> None:
    answer = seed_service.ask(DEPLOYED, k=3)
    rows = answer.to_json()["passages"]
    assert [r["score"] for r in rows] == sorted((r["score"] for r in rows), reverse=True)
    for row, hit in zip(rows, answer.hits, strict=True):
        assert row["similarity"] == round(hit.score, 4)
        assert row["score"] == round(hit.relevance or 0.0, 4)


def test_weaker_matches_below_the_threshold_are_said_to_be_hidden(seed_service: QAService) -> None:
    # the threshold modes drop passages below SCORE_THRESHOLD ("rerank", the default, shows
    # every one of the k once its covered probability says the articles answer)
    hybrid = QAService(seed_service.settings.model_copy(update={"retrieval_mode": "hybrid"}),
                       encoder=seed_service.encoder)
    answer = hybrid.ask("how many north koreans are there", k=5)
    assert answer.answered
    assert answer.hidden == 5 - len(answer.hits) > 0
    assert answer.to_json()["hidden"] == answer.hidden
    text = render_text(answer)
    word = "match" if answer.hidden == 1 else "matches"
    assert f"({answer.hidden} more weaker {word} hidden, below the score threshold)" in text
    footer = answer_embed(answer).footer.text or ""
    assert f"{answer.hidden} more weaker {word} hidden" in footer


def test_nothing_is_said_hidden_when_every_match_is_shown(seed_service: QAService) -> None:
    answer = seed_service.ask(DEPLOYED, k=1)
    assert answer.hidden == 0 and len(answer.hits) == 1
    assert "hidden" not in render_text(answer)
    assert "hidden" not in (answer_embed(answer).footer.text or "")


def test_not_covered_answer_counts_what_it_hid(seed_service: QAService) -> None:
    answer = seed_service.ask("What is the capital of France?", k=4)
    assert not answer.answered and len(answer.hits) == 1
    assert answer.hidden == 3
    text = render_text(answer)
    assert "Nearest passage (similarity" in text and "(3 more weaker matches hidden" in text
    assert "3 more weaker matches hidden" in answer_embed(answer).footer.text  # type: ignore[operator]
