"""Corpus loading, normalisation and sentence segmentation, on real files in tmp_path."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.corpus import Document, load_corpus, normalise, read_document, segment
from tests.conftest import SEED_ARTICLE, requires_shared


def doc_of(text: str, doc_id: str = "a.txt") -> Document:
    return Document(id=doc_id, title="T", text=text, content_hash="x")


def sentences(text: str) -> list[str]:
    return [p.text for p in segment(doc_of(text))]


@pytest.mark.parametrize(
    "sentence",
    [
        "Brigade No. 3 crossed the river, Gen. Smith said.",
        "The U.S. State Department declined to comment.",
        "Damage was put at $1.5 billion.",
        '"Of course, we will continue... we are fighting," he said.',
    ],
)
def test_abbreviations_and_numbers_stay_inside_their_sentence(sentence: str) -> None:
    text = f"The day began quietly. {sentence} Then it rained."
    assert sentences(text) == ["The day began quietly.", sentence, "Then it rained."]


def test_sentence_ending_in_curly_quote_is_split_from_the_next() -> None:
    text = "He said: “We will hold the line.” The next sentence starts here."
    assert sentences(text) == ['He said: "We will hold the line."', "The next sentence starts here."]


def test_headline_without_punctuation_is_its_own_passage() -> None:
    text = "Ukraine Holds Line in Kursk\nTroops remain in the region. More arrive daily."
    assert sentences(text) == [
        "Ukraine Holds Line in Kursk",
        "Troops remain in the region.",
        "More arrive daily.",
    ]


def test_normalise_maps_every_character_back_to_the_original() -> None:
    original = "It\u2019s\u00a090\u200b km \u201cnow\u201d"
    norm, origin = normalise(original)
    assert norm == "It's 90 km \"now\""
    assert len(origin) == len(norm) + 1
    assert original[origin[norm.index("90")]] == "9"
    assert original[origin[norm.index("now")]] == "n"


def test_citation_offsets_point_at_the_original_words() -> None:
    text = "Intro line\nThe \u201cbuffer\u00a0zone\u201d held. It\u2019s\u200b over."
    doc = doc_of(text)
    passages = segment(doc)
    assert [p.text for p in passages] == ["Intro line", 'The "buffer zone" held.', "It's over."]
    second = passages[1]
    assert text[second.start : second.end] == "The \u201cbuffer\u00a0zone\u201d held."
    third = passages[2]
    assert text[third.start : third.end] == "It\u2019s\u200b over."
    assert [p.sentence for p in passages] == [1, 2, 3]


def test_seed_article_headline_and_lede_are_found() -> None:
    doc = read_document(SEED_ARTICLE, SEED_ARTICLE.parent)
    assert doc.title == "Ukraine Maintains Stronghold in Kursk Despite Russian Offensive"
    texts = [p.text for p in segment(doc)]
    assert texts[0].startswith("Ukraine's commander says that despite Russian claims")
    assert texts.count("Ukraine Maintains Stronghold in Kursk Despite Russian Offensive") == 2
    assert any(t.endswith("we are fighting and destroying purely military targets.\"") for t in texts)


def test_front_matter_sets_title_source_url_and_offsets(tmp_path: Path) -> None:
    (tmp_path / "story.md").write_text(
        "---\ntitle: Grain deal extended\nsource: Example Wire\nurl: https://example.org/grain\n"
        "published: 2025-03-01\n---\nThe deal was extended by 120 days. Ships resumed.\n",
        encoding="utf-8",
    )
    loaded = load_corpus(tmp_path)
    doc = loaded.documents[0]
    assert (doc.title, doc.source, doc.url, doc.published) == (
        "Grain deal extended", "Example Wire", "https://example.org/grain", "2025-03-01")
    first = segment(doc)[0]
    assert first.text == "The deal was extended by 120 days."
    assert doc.text[first.start : first.end] == first.text


def test_latin1_file_is_decoded_with_a_note(tmp_path: Path) -> None:
    (tmp_path / "pounds.txt").write_bytes("Prices\n\nIt cost \xa31.6m last year.\n".encode("latin-1"))
    loaded = load_corpus(tmp_path)
    assert [p.text for p in segment(loaded.documents[0])][-1] == "It cost £1.6m last year."
    assert loaded.notes == ["pounds.txt: not UTF-8, decoded as cp1252"]


def test_bbc_latin1_article_reads_its_pound_sign() -> None:
    folder = requires_shared("bbc-news", "articles")
    doc = read_document(folder / "sport" / "199.txt", folder)
    assert doc.encoding != "utf-8"
    assert "£" in doc.text


def test_binary_empty_and_bad_files_are_skipped_without_stopping(tmp_path: Path) -> None:
    (tmp_path / "good.txt").write_text("A real sentence here.", encoding="utf-8")
    (tmp_path / "blob.txt").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" * 10)
    (tmp_path / "empty.md").write_text("  \n", encoding="utf-8")
    (tmp_path / "notes.pdf").write_bytes(b"%PDF-1.4")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "deep.txt").write_text("Nested files count too.", encoding="utf-8")
    loaded = load_corpus(tmp_path)
    assert [d.id for d in loaded.documents] == ["good.txt", "sub/deep.txt"]
    assert {s.path: s.reason for s in loaded.skipped} == {
        "blob.txt": "binary file (contains NUL bytes)",
        "empty.md": "empty file",
    }


def test_markdown_markup_is_not_quoted_but_offsets_still_point_at_the_words(tmp_path: Path) -> None:
    text = ("# Harbor City Opens New Bridge\n\n"
            "Mayor **Linda Okafor** said the [bridge](https://example.org/b) cost `$40m`.\n"
            "- The span is *1.2 km* long.\n")
    (tmp_path / "bridge.md").write_text(text, encoding="utf-8")
    doc = load_corpus(tmp_path).documents[0]
    assert doc.title == "Harbor City Opens New Bridge"
    passages = segment(doc)
    assert [p.text for p in passages] == [
        "Harbor City Opens New Bridge",
        "Mayor Linda Okafor said the bridge cost $40m.",
        "The span is 1.2 km long.",
    ]
    assert text[passages[1].start : passages[1].end] == (
        "Mayor **Linda Okafor** said the [bridge](https://example.org/b) cost `$40m`.")
    assert text[passages[2].start : passages[2].end] == "The span is *1.2 km* long."


def test_plain_text_keeps_asterisks_and_hashes(tmp_path: Path) -> None:
    assert sentences("#1 seed *wins* again.") == ["#1 seed *wins* again."]
