"""Follow-up questions: which questions need the earlier one, and the benchmark set's shape."""

from __future__ import annotations

import pytest

from bot.followup import CorpusNames, Turn, needs_context, resolve, rewrite
from bot.service import QAService
from tests.conftest import requires_shared


@pytest.mark.parametrize("question", ["and how many russians?", "what about the drones?", "who is he?",
                                      "how big is it?", "why?", "when are they?", "in what year?"])
def test_elliptical_or_pronoun_led_questions_need_context(question: str) -> None:
    assert needs_context(question)


@pytest.mark.parametrize("question", ["Who is Ukraine's commander-in-chief?", "What is the IFES?",
                                      "how many north korean soldiers were deployed to kursk?",
                                      "When did the Ukrainian incursion into Kursk begin?"])
def test_self_contained_questions_stand_alone(question: str) -> None:
    assert not needs_context(question)
    assert resolve(question, [Turn("how long does the ink last?")]) is None


def test_a_follow_up_carries_the_earlier_question_and_its_documents() -> None:
    follow = resolve("and how many russians?",
                     [Turn("how many north korean soldiers were deployed?", documents=("kursk.txt",))])
    assert follow is not None
    assert follow.context == ("how many north korean soldiers were deployed?",)
    assert follow.documents == ("kursk.txt",)
    assert follow.query == "how many russians were deployed"
    assert resolve("and how many russians?", []) is None


def test_the_follow_up_set_has_forty_pairs_split_before_tuning() -> None:
    requires_shared("bbc-news", "articles")
    from evaluation.followups import load_pairs

    pairs = load_pairs()
    follow_ups = [p for p in pairs if p.kind == "follow-up"]
    assert len(follow_ups) >= 40
    assert {p.split for p in follow_ups} == {"tune", "test"}
    assert sum(p.kind == "self-contained" for p in pairs) >= 10
    assert len({p.document for p in pairs}) >= 6


@pytest.mark.parametrize(("earlier", "question", "rewritten"), [
    ("how many north korean soldiers were deployed?", "and how many russians?", "how many russians were deployed"),
    ("what is sarah claxton's record time?", "where did she set it?", "where did sarah claxton set record time?"),
    ("how much did time warner's profit rise?", "and its sales?", "time warner's sales?"),
    ("who is ukraine's commander-in-chief?", "what did he say about the territory?",
     "what did ukraine's commander-in-chief say about the territory?"),
    ("when did the fed raise interest rates?", "by how much?", "by how much? when did the fed raise interest rates"),
])
def test_a_follow_up_is_rewritten_with_the_earlier_questions_subject(earlier: str, question: str,
                                                                     rewritten: str) -> None:
    assert rewrite(question, earlier) == rewritten


@pytest.mark.parametrize("question", ["who is ukraine's commander in chief", "what did zelensky say about the talks",
                                      "what did syrsky say about his plans", "who is oleksandr syrsky",
                                      "they say north korea is sending workers to kursk, what for?"])
def test_short_or_pronoun_initial_self_contained_questions_are_answered_on_their_own(
        seed_service: QAService, question: str) -> None:
    """Lower-case names come from the corpus ("syrsky", "kursk"), or are unknown to it
    ("zelensky"); either way the question names its own subject."""
    earlier = seed_service.ask("how many north korean soldiers were deployed?")
    assert not needs_context(question, Turn.of(earlier), CorpusNames(seed_service.index))
    answer = seed_service.ask(question, earlier=(Turn.of(earlier),))
    assert answer.context == () and not any("follow-up" in n for n in answer.notes)


def test_the_corpus_says_which_lower_case_words_are_names(seed_service: QAService) -> None:
    names = CorpusNames(seed_service.index)
    assert names("kursk") and names("syrsky") and names("zelensky")  # the last: unknown to the corpus
    assert not names("troops") and not names("drone")


def test_a_short_question_is_a_follow_up_only_when_it_shares_a_word_with_the_earlier_turn() -> None:
    pay = Turn("how much will maternity pay rise?", passages=("Maternity pay for new mothers will go up.",))
    assert not needs_context("why did the dollar fall", pay)
    films = Turn("how did time warner's film division do?",
                 passages=("Its film division saw profits slump after box-office flops Alexander and Catwoman.",))
    assert needs_context("which films flopped?", films)
