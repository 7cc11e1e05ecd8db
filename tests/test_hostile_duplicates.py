"""Duplicates that hide answers (issue 12): only what says the same thing is collapsed, saved
copies of one file cite the canonical one, and equal scores have one order. Real model, real
FAISS, one tiny corpus built once for the module."""

from __future__ import annotations

import pytest

from bot.answer import citation, render_text
from bot.embed import Encoder
from bot.reprints import canonical_name, same_statement
from bot.service import QAService
from tests.conftest import make_settings

WIRE = ("Floodwater covered about 90 square kilometres of farmland in the Vell valley on Sunday, "
        "the Vell water board said in a statement.")


@pytest.fixture(scope="module")
def dup_service(tmp_path_factory: pytest.TempPathFactory, encoder: Encoder) -> QAService:
    tmp = tmp_path_factory.mktemp("dups")
    corpus = tmp / "corpus"
    corpus.mkdir()
    files = {
        "herald.txt": "Officials said the troops did withdraw from Sudzha.\nHow large is the flooded area?\n"
                      "Russian troops took 12 villages near Lgov.\n",
        "courier.txt": "Officials said the troops did not withdraw from Sudzha.\nThe flooded area is large.\n"
                       "Ukrainian troops took 12 villages near Lgov.\nRussian troops took 13 villages near Lgov.\n",
        "wire (1).txt": f"Vell valley floods\n{WIRE}\n",
        "wire.txt": f"Vell valley floods\n{WIRE}\n",
        "gazette.md": f"---\nsource: Valley Gazette\npublished: 2025-03-02\n---\n{WIRE}\n",
        "c.txt": "Ostrava ferry sank near Brno.\n", "a.txt": "Ostrava ferry sank near Zlin.\n",
        "b.txt": "Ostrava ferry sank near Opava.\n",
    }
    for name, text in files.items():
        (corpus / name).write_text(text, encoding="utf-8")
    service = QAService(make_settings(tmp, corpus, top_k=5), encoder=encoder)
    service.rebuild()
    return service


def shown(service: QAService, question: str, **kw: object) -> list[str]:
    return [h.passage.text for h in service.ask(question, **kw).hits]


def test_a_sentence_that_contradicts_another_is_never_hidden_as_its_duplicate(dup_service: QAService) -> None:
    texts = shown(dup_service, "Did the troops withdraw from Sudzha?")
    assert "Officials said the troops did withdraw from Sudzha." in texts
    assert "Officials said the troops did not withdraw from Sudzha." in texts


def test_a_question_does_not_hide_the_statement_that_answers_it(dup_service: QAService) -> None:
    texts = shown(dup_service, "How large is the flooded area?")
    assert "How large is the flooded area?" in texts and "The flooded area is large." in texts


def test_another_number_or_another_actor_is_not_a_duplicate(dup_service: QAService) -> None:
    texts = shown(dup_service, "Who took 12 villages near Lgov?")
    for sentence in ("Russian troops took 12 villages near Lgov.", "Ukrainian troops took 12 villages near Lgov.",
                     "Russian troops took 13 villages near Lgov."):
        assert sentence in texts


@pytest.mark.parametrize(("a", "b", "same"), [
    ("The troops did withdraw.", "The troops didn't withdraw.", False),
    ("The troops withdrew.", "The troops never withdrew.", False),
    ("About 90 people died.", "About 19 people died.", False),
    ("Police said 3 died.", "Police said 3 died, officials added.", True),
    ("Kursk held on Sunday.", "Kursk held!", True),
    ("Who won the vote?", "They won the vote.", False),
])
def test_same_statement(a: str, b: str, same: bool) -> None:
    assert same_statement(a, b) is same


@pytest.mark.parametrize(("name", "canonical"), [
    ("wire (1).txt", "wire.txt"), ("news/wire (2).md", "news/wire.md"), ("wire - Copy.txt", "wire.txt"),
    ("Copy of wire.txt", "wire.txt"), ("wire copy 2.txt", "wire.txt"), ("wire.txt", "wire.txt"),
    ("report 2025.txt", "report 2025.txt"),
])
def test_copy_names(name: str, canonical: str) -> None:
    assert canonical_name(name) == canonical


def test_a_story_saved_twice_cites_the_canonical_file_and_the_copy_as_also_in(dup_service: QAService) -> None:
    answer = dup_service.ask("How much farmland did the floodwater cover in the Vell valley?")
    top = answer.hits[0]
    assert top.passage.text == WIRE
    # Undated copies of one file: the one without a copy suffix, though "wire (1).txt" sorts first.
    # The dated outlet is earliest: it is cited, and both files of the wire are "also in" / reported.
    assert top.passage.document == "gazette.md"
    cite = citation(top)
    assert "also reported by" in cite and "Vell valley floods" in cite
    headline = dup_service.ask("Vell valley floods").hits[0]
    assert headline.passage.document == "wire.txt"
    assert "also in wire (1).txt" in citation(headline)
    assert "also reported by" not in citation(headline)
    assert "also in wire (1).txt" in render_text(dup_service.ask("Vell valley floods"))


def test_equal_scores_are_ordered_by_document_then_sentence(dup_service: QAService) -> None:
    # Three sentences BM25 scores alike for this question, built in the order a, b, c of files
    # but c.txt written first: ties go by document, then sentence, whatever the build order.
    bm25 = QAService(dup_service.settings.model_copy(update={"retrieval_mode": "bm25"}),
                     encoder=dup_service.encoder)
    hits = [h for h in bm25.ask("Ostrava ferry sank", k=5).hits if "Ostrava" in h.passage.text]
    assert [h.passage.document for h in hits] == ["a.txt", "b.txt", "c.txt"]


@pytest.mark.parametrize(("a", "b"), [
    ("Russian officials said Ukraine attacked the power plant near the border on Monday night.",
     "Ukrainian officials said Russia attacked the power plant near the border on Monday night."),
    ("Russia said Ukraine attacked the power plant near the border town on Monday night.",
     "Ukraine said Russia attacked the power plant near the border town on Monday night."),
    ("Food prices rose sharply in March across the region, the statistics ministry said.",
     "Food prices fell sharply in March across the region, the statistics ministry said."),
    ("The ruling party won the most seats in the northern provinces, officials said on Friday.",
     "The ruling party lost the most seats in the northern provinces, officials said on Friday."),
])
def test_swapped_actors_or_an_opposite_word_are_two_statements(a: str, b: str) -> None:
    assert same_statement(a, b) is False
    assert same_statement(a, a.replace(" on ", " late on ")) is True  # a word added: one statement
