"""Follow-up questions: which questions need the earlier one, and the benchmark set's shape."""

from __future__ import annotations

import pytest

from bot.followup import Turn, needs_context, resolve
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
    assert follow.query.startswith("and how many russians?") and "soldiers" in follow.query
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
