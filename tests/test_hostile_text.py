"""Hostile text going in (issue 12): over-long sentences, abbreviations that end sentences,
datelines, hard-wrapped lines, layout lines, HTML saved as text, typography in quotes.

Pure segmentation cases run on `Document`s; the rest through a real build of a tiny corpus
(real model, real FAISS) made once for the module.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.answer import render_text
from bot.corpus import Document, load_corpus, read_document, segment
from bot.embed import Encoder
from bot.service import QAService
from tests.conftest import make_settings


def texts(text: str, doc_id: str = "a.txt") -> list[str]:
    return [p.text for p in segment(Document(id=doc_id, title="T", text=text, content_hash="x"))]


#: A 340-word list with no full stop: 1,600 word pieces in one "sentence".
LONG_LIST = ("Equipment listed in the inventory includes " + ", ".join(
    f"{n} crates of {w} parts" for n, w in zip(range(100, 185), ["radio", "engine", "rotor", "sensor"] * 30,
                                               strict=False))
             + " and one zebra-striped tarpaulin")

PAGE = """<!DOCTYPE html><html><head><title>Port reopens</title></head><body>
<nav>Home | World | Sport</nav><article><h1>Port of Lindholm reopens after storm</h1>
<p>The port of Lindholm reopened on Tuesday after&nbsp;a three-day closure caused by the storm.</p>
<p>Harbour master Ingrid Voss said that 14 ships were waiting to unload their cargo at the docks.</p>
</article><footer>Copyright</footer></body></html>"""


@pytest.mark.parametrize(("text", "expected"), [
    ("The drones were made in the U.S. Officials did not say how many.",
     ["The drones were made in the U.S.", "Officials did not say how many."]),
    ("He moved to the U.K. They stayed there.", ["He moved to the U.K.", "They stayed there."]),
    ("The meeting ended at 5 p.m. Delegates left soon after.",
     ["The meeting ended at 5 p.m.", "Delegates left soon after."]),
    ("The U.S. Army said nothing. The U.N. Security Council met.",
     ["The U.S. Army said nothing.", "The U.N. Security Council met."]),
    ("The U.S. State Department declined to comment.", ["The U.S. State Department declined to comment."]),
])
def test_an_abbreviation_before_a_sentence_opening_word_ends_the_sentence(text: str, expected: list[str]) -> None:
    assert texts(text) == expected


@pytest.mark.parametrize("dateline", ["KYIV (Wire) —", "KYIV, Ukraine (AP) —", "LONDON, Jan 5 (Reuters) -",
                                      "WASHINGTON –", "BERLIN (dpa) --"])
def test_a_dateline_stays_with_the_sentence_its_dash_opens(dateline: str) -> None:
    line = f"{dateline} Ukrainian forces have taken the town of Sudzha. Officials confirmed it."
    assert texts(line) == [f"{dateline} Ukrainian forces have taken the town of Sudzha.", "Officials confirmed it."]


def test_a_hard_wrapped_sentence_is_one_passage_and_layout_lines_are_none() -> None:
    text = ("Floods in Lindholm\n"
            "Officials said the troops\nwithdrew from the flooded district on Monday.\n"
            "...\n---\n* * *\n"
            "| Region | Ships |\n|---|:--:|\n| North | 14 |\n")
    assert texts(text) == ["Floods in Lindholm",
                           "Officials said the troops withdrew from the flooded district on Monday.",
                           "| Region | Ships |", "| North | 14 |"]


def test_a_file_wrapped_at_a_fixed_width_is_read_as_sentences() -> None:
    text = ("The harbour authority said on Tuesday that fourteen cargo ships\n"
            "had been waiting outside the port of Lindholm since the storm began\n"
            "on Saturday. Harbour master Ingrid Voss told reporters that the\n"
            "Northern Pier would reopen first, followed by the container terminal\n"
            "later in the week.\n")
    assert texts(text) == [
        "The harbour authority said on Tuesday that fourteen cargo ships had been waiting outside the "
        "port of Lindholm since the storm began on Saturday.",
        "Harbour master Ingrid Voss told reporters that the Northern Pier would reopen first, followed by "
        "the container terminal later in the week.",
    ]


def test_a_wrapped_first_line_is_not_taken_for_a_headline(tmp_path: Path) -> None:
    (tmp_path / "w.txt").write_text("Storm closes port\nOfficials at the port said the ships\n"
                                    "were sent back to sea on Monday.\n", encoding="utf-8")
    (tmp_path / "x.txt").write_text("Officials at the port said the ships\nwere sent back to sea on Monday.\n"
                                    "The storm passed.\n", encoding="utf-8")
    assert read_document(tmp_path / "w.txt", tmp_path).title == "Storm closes port"
    assert read_document(tmp_path / "x.txt", tmp_path).title == \
        "Officials at the port said the ships were sent back to sea on Monday."


def test_an_html_page_saved_as_txt_is_read_as_a_page_and_a_fragment_is_skipped_by_name(tmp_path: Path) -> None:
    (tmp_path / "port.txt").write_text(PAGE, encoding="utf-8")
    (tmp_path / "bits.txt").write_text("<div><p>Menu</p><p>Login</p><a href='/'>Home</a>&nbsp;<br><br>"
                                       "<span>x</span><b>y</b></div>", encoding="utf-8")
    loaded = load_corpus(tmp_path)
    [doc] = loaded.documents
    body = " ".join(texts(doc.text[doc.body_start:]))
    assert "<" not in body and "&nbsp;" not in body and "Home | World" not in body
    assert "reopened on Tuesday after a three-day closure" in body
    assert [s.path for s in loaded.skipped] == ["bits.txt"]
    assert "HTML page saved as .txt" in loaded.skipped[0].reason
    assert any(n.startswith("port.txt: an HTML page saved as .txt") for n in loaded.notes)


@pytest.fixture(scope="module")
def text_service(tmp_path_factory: pytest.TempPathFactory, encoder: Encoder) -> QAService:
    tmp = tmp_path_factory.mktemp("hostile-text")
    corpus = tmp / "corpus"
    corpus.mkdir()
    (corpus / "inventory.txt").write_text(f"Depot inventory published\n{LONG_LIST}\n", encoding="utf-8")
    (corpus / "typography.txt").write_text(
        "Russia\u2019s army withdrew\u00a0its last tanks from the border town of Velikaya on Friday.\n",
        encoding="utf-8")
    service = QAService(make_settings(tmp, corpus), encoder=encoder)
    service.rebuild()
    return service


def test_a_sentence_longer_than_the_model_reads_is_cut_at_clauses_and_its_tail_is_found(
        text_service: QAService, encoder: Encoder) -> None:
    inventory = [p for p in text_service.index.passages if p.document == "inventory.txt"]
    assert len(inventory) >= 1 + 3  # the headline and the list cut into pieces
    assert all(encoder.token_count(p.text) <= encoder.max_tokens - 2 for p in inventory)
    assert " ".join(p.text for p in inventory[1:]) == LONG_LIST  # nothing lost
    assert all(p.text.endswith(("parts", "parts,", "tarpaulin")) for p in inventory[1:])
    answer = text_service.ask("zebra-striped tarpaulin")
    assert "zebra-striped tarpaulin" in answer.hits[0].passage.text


def test_the_build_says_how_many_sentences_were_cut(tmp_path: Path, encoder: Encoder) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "inventory.txt").write_text(LONG_LIST + "\n", encoding="utf-8")
    report = QAService(make_settings(tmp_path, corpus), encoder=encoder).rebuild()
    assert "inventory.txt: 1 sentence(s) longer than the model reads were split at clause boundaries" \
        in report.notes


def test_quotes_show_the_original_characters_and_match_the_normalised_ones(text_service: QAService) -> None:
    answer = text_service.ask("Did Russia's army withdraw its tanks from Velikaya?")
    top = answer.hits[0].passage
    assert top.text == "Russia's army withdrew its last tanks from the border town of Velikaya on Friday."
    shown = render_text(answer)
    assert "Russia\u2019s army withdrew\u00a0its last tanks" in shown
    assert answer.to_json()["passages"][0]["text"].startswith("Russia\u2019s army")


def test_names_with_accents_are_found_typed_without_them_and_the_other_way_round(
        tmp_path: Path, encoder: Encoder) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "zurich.txt").write_text(
        "Zürich transport chief resigns\n"
        "José Müller stepped down as head of Zürich's tram network on Monday after a row over fares.\n"
        "The city council will name a successor in March.\n", encoding="utf-8")
    (corpus / "port.txt").write_text(
        "Port reopens\nThe harbour at Velikaya reopened on Tuesday after a three-day closure.\n",
        encoding="utf-8")
    service = QAService(make_settings(tmp_path, corpus), encoder=encoder)
    service.rebuild()
    sparse = service.index.sparse
    for typed in ("jose muller", "José Müller", "zurich tram", "ZÜRICH tram"):
        top = sparse.search(typed, 1)
        assert top and "José Müller stepped down" in service.index.passages_of([top[0][0]])[0].text, typed
    answer = service.ask("who is jose muller")
    assert "José Müller stepped down" in answer.hits[0].passage.text  # quoted as written
