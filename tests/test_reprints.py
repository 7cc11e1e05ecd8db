"""One story, several outlets (issue 9): which copies of a sentence become one passage."""

from __future__ import annotations

import pytest

from bot.corpus import Passage
from bot.reprints import merge_copies, sentence_key

WIRE = "Floodwater covered about 90 square kilometres of farmland in the Vell valley, the water board said."


def p(text: str, document: str, published: str | None = None, sentence: int = 1) -> Passage:
    return Passage(text=text, document=document, title=document.upper(), sentence=sentence, start=0,
                   end=len(text), source=f"Outlet {document}", published=published)


@pytest.mark.parametrize(("a", "b", "merged"), [
    pytest.param(WIRE, WIRE, True, id="identical"),
    pytest.param(WIRE, WIRE.upper().replace(",", ""), True, id="identical after normalisation"),
    pytest.param(WIRE, WIRE.replace("said.", "said on Sunday."), True, id="a word added"),
    pytest.param(WIRE, WIRE.replace("covered", "flooded"), True, id="a word changed"),
    pytest.param(WIRE, WIRE.replace("90", "70"), False, id="another figure: never one passage"),
    pytest.param(WIRE, "The water board said the Vell valley would take months to recover from the floods.",
                 False, id="another sentence"),
    pytest.param("Rain fell on Sunday.", "Rain fell on Monday.", False, id="short lines merge only when identical"),
])
def test_copies_across_documents(a: str, b: str, merged: bool) -> None:
    kept, dropped = merge_copies([p(a, "a", "2025-01-12"), p(b, "b", "2025-01-13")])
    assert (len(kept), dropped) == ((1, 1) if merged else (2, 0))
    if merged:
        assert kept[0].text == a and [(r.document, r.source, r.published) for r in kept[0].also] == [
            ("b", "Outlet b", "2025-01-13")]


def test_the_earliest_copy_is_cited_and_the_others_oldest_first_undated_last() -> None:
    kept, _ = merge_copies([p(WIRE, "late", "2025-03-01"), p(WIRE, "undated"), p(WIRE, "first", "2025-01-12"),
                            p(WIRE, "mid", "2025-02-01")])
    assert kept[0].document == "first"
    assert [r.document for r in kept[0].also] == ["mid", "late", "undated"]


def test_near_identical_lines_of_one_document_stay_apart_and_exact_repeats_are_one() -> None:
    lede = WIRE.replace("said.", "said on Sunday.")
    kept, dropped = merge_copies([p(WIRE, "a", sentence=1), p(lede, "a", sentence=9), p(WIRE, "a", sentence=12)])
    assert [k.sentence for k in kept] == [1, 9] and dropped == 1 and all(k.also == () for k in kept)


def test_sentence_key_ignores_case_punctuation_and_spacing() -> None:
    expected = "the river alder rose"
    assert sentence_key("  The  River, Alder — rose! ") == sentence_key(expected) == expected
