"""News in, news out (issue 9), through the real model and index: HTML pages read from the
corpus, `add` and `feeds --once` from a server on 127.0.0.1, outlet and date on every citation,
"also reported by", a disputed figure side by side, `--as-of` and present-tense questions."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from bot import cli
from bot.answer import render_text
from bot.corpus import read_document
from bot.service import QAService
from tests.conftest import STORY
from tests.web_server import WebServer

AREA = "How much farmland did the floodwater cover?"
WIRE_LINE = "Floodwater covered about 90 square kilometres of farmland in the Vell valley"


def test_html_pages_are_read_as_their_article_text_only(story_service: QAService) -> None:
    index = story_service.index
    texts = " ".join(p.text for p in index.passages)
    for boilerplate in ("cookies", "Related stories", "Most read", "Terrible news", "Copyright", "Front page"):
        assert boilerplate not in texts
    record = index.documents["coastal-herald-floods.html"]
    assert (record.source, record.published, record.url) == (
        "Coastal Herald", "2025-03-03", "https://coastalherald.example/news/vell-valley-recovery")
    doc = read_document(STORY / "coastal-herald-floods.html", STORY)
    for start, end, text in record.sentences:  # citations point into the extracted text
        assert " ".join(doc.text[start:end].split()) == text


def test_a_sentence_several_outlets_carry_is_one_passage_also_reported_by_the_others(
        story_service: QAService) -> None:
    answer = story_service.ask(AREA)
    wire = [h for h in answer.hits if h.passage.text.startswith(WIRE_LINE)]
    assert len(wire) == 1 and not any("Sunday evening" in h.passage.text for h in answer.hits)
    text = render_text(answer)
    assert ("River Alder floods Vell valley farmland, sentence 3 · Northern Wire · 12 Jan 2025" in text)
    assert "also reported by Valley Courier (13 Jan 2025)" in text
    first = answer.to_json()["passages"][[h.passage.text for h in answer.hits].index(wire[0].passage.text)]
    assert (first["source"], first["published"]) == ("Northern Wire", "2025-01-12")
    assert [(a["source"], a["published"]) for a in first["also"]] == [("Valley Courier", "2025-01-13")]


def test_differing_figures_are_shown_side_by_side_newest_first(story_service: QAService) -> None:
    text = render_text(story_service.ask(AREA))
    assert ("» The sources differ (farmland), newest first:\n"
            "   about 70 square kilometres of farmland — Coastal Herald · 3 Mar 2025\n"
            "   about 90 square kilometres of farmland — Northern Wire · 12 Jan 2025; Valley Courier · 13 Jan 2025"
            ) in text


def test_stats_mark_the_figure_disputed_with_the_sources_of_each_value(
        story_service: QAService, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(cli, "_service", lambda args: story_service)
    assert cli.main(["stats", "--json"]) == 0
    stats = json.loads(capsys.readouterr().out)
    area = next(s for s in stats if s["unit"] == "km²")
    assert area["disputed"] is True and area["value"] == 70
    assert [h["value"] for h in area["history"]] == [90]
    assert sorted(c["source"] for c in area["history"][0]["citations"]) == ["Northern Wire", "Valley Courier"]
    assert not any(s["disputed"] for s in stats if s["unit"] != "km²")
    assert cli.main(["stats"]) == 0
    out = capsys.readouterr().out
    assert "» about 70 square kilometres of farmland  (2025-03-03)  [disputed]" in out
    assert "other value: about 90 square kilometres of farmland — Northern Wire · 12 Jan 2025" in out


def test_as_of_answers_only_from_articles_published_by_then(story_service: QAService) -> None:
    answer = story_service.ask(AREA, as_of="2025-01-31")
    assert answer.answered and {h.passage.source for h in answer.hits} == {"Northern Wire"}
    assert [f.value for f in answer.figures] == [90] and not answer.figures[0].disputed
    early = story_service.ask(AREA, as_of="12 January 2025")
    assert all(h.passage.also == () for h in early.hits)  # the Courier's copy came a day later
    assert not story_service.ask(AREA, as_of="2024-12-31").answered


def test_as_of_that_is_not_a_date_is_a_usage_error(story_service: QAService, monkeypatch: pytest.MonkeyPatch,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(cli, "_service", lambda args: story_service)
    assert cli.main(["ask", AREA, "--as-of", "last week"]) == 2
    assert "is not a date" in capsys.readouterr().err


# Without the present-tense rule, each of these ranks a Northern Wire sentence first.
@pytest.mark.parametrize("question", ["How much farmland is flooded now?", "How much farmland is currently flooded?",
                                      "What is the latest on the flooded farmland?"])
def test_a_question_about_the_present_puts_the_newest_evidence_first(story_service: QAService,
                                                                     question: str) -> None:
    answer = story_service.ask(question)
    texts = [h.passage.text for h in answer.hits]
    assert answer.hits[0].passage.source == "Coastal Herald"
    newer = next(i for i, t in enumerate(texts) if "about 70 square kilometres" in t)
    older = next((i for i, t in enumerate(texts) if "about 90 square kilometres" in t), len(texts))
    assert newer < older
    shown = [h.shown_score for h in answer.hits]  # the newest put first still reads in score order
    assert shown == sorted(shown, reverse=True)


def test_sources_list_outlet_and_date(story_service: QAService) -> None:
    docs, _ = story_service.sources()
    assert sorted((d.source, d.published) for d in docs) == [
        ("Coastal Herald", "2025-03-03"), ("Northern Wire", "2025-01-12"), ("Valley Courier", "2025-01-13")]
    assert all(d.passages >= 3 for d in docs)


def test_add_then_ask_cites_the_page_with_outlet_and_date(
        web: WebServer, tmp_path: Path, service_for: Callable[..., QAService], monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "note.txt").write_text("The harbour of Orsk reopened to fishing boats in May.\n", encoding="utf-8")
    service = service_for(corpus)
    service.rebuild()
    monkeypatch.setattr(cli, "_service", lambda args: service)
    url = web.page("/floods", (STORY / "northern-wire-floods.html").read_text(encoding="utf-8"))
    assert cli.main(["add", url, web.url("/missing")]) == 0
    out = capsys.readouterr().out
    assert "added: River Alder floods Vell valley farmland (Northern Wire · 2025-01-12) → web/" in out
    assert f"failed: {web.url('/missing')}: HTTP 404 Not Found" in out
    assert "index: 2 documents" in out and "(2 embedded" not in out  # the note's passage was reused
    assert cli.main(["ask", "How many residents were evacuated?", "--json"]) == 0
    hit = json.loads(capsys.readouterr().out)["passages"][0]
    assert "1,200 residents" in hit["text"]
    assert (hit["source"], hit["published"], hit["url"]) == (
        "Northern Wire", "2025-01-12", "https://northernwire.example/news/alder-floods")
    assert cli.main(["add", url]) == 0  # again: nothing added, said so
    assert "already in the corpus as web/" in capsys.readouterr().out


def test_a_failed_add_exits_non_zero(web: WebServer, tmp_path: Path, service_for: Callable[..., QAService],
                                     monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    service = service_for(tmp_path / "corpus")
    monkeypatch.setattr(cli, "_service", lambda args: service)
    assert cli.main(["add", web.url("/missing")]) == 1
    assert "HTTP 404" in capsys.readouterr().out


def test_feeds_once_adds_the_items_and_the_next_question_cites_them(
        web: WebServer, tmp_path: Path, service_for: Callable[..., QAService], monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    web.page("/herald", (STORY / "coastal-herald-floods.html").read_text(encoding="utf-8"))
    feed = web.page("/rss.xml", '<?xml version="1.0"?><rss version="2.0"><channel><title>H</title>'
                    f"<item><title>Recovery</title><link>{web.url('/herald')}</link></item></channel></rss>",
                    content_type="application/rss+xml")
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "note.txt").write_text("The harbour of Orsk reopened to fishing boats in May.\n", encoding="utf-8")
    service = service_for(corpus, feeds=[feed], data_dir=tmp_path / "data")
    service.rebuild()
    monkeypatch.setattr(cli, "_service", lambda args: service)
    assert cli.main(["feeds", "--once"]) == 0
    out = capsys.readouterr().out
    assert "articles added: 1" in out and "index: 2 documents" in out
    text = render_text(service.ask("How many farms were affected by the flooding?"))
    assert "300 farms" in text and "Coastal Herald · 3 Mar 2025" in text
    assert cli.main(["feeds", "--once"]) == 0
    assert "articles added: 0" in capsys.readouterr().out and web.hits("/herald") == 1


def test_as_of_says_how_many_undated_articles_it_left_out(tmp_path: Path,
                                                         service_for: Callable[..., QAService]) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "dated.md").write_text("---\nsource: Vell Post\npublished: 2025-01-10\n---\nFerry resumes\n\n"
                                     "The Lindholm ferry resumed crossings on Monday after the storm.\n",
                                     encoding="utf-8")
    (corpus / "undated.txt").write_text("Ferry fares\n\nThe Lindholm ferry raised its fares by 5% this winter.\n",
                                        encoding="utf-8")
    service = service_for(corpus)
    service.rebuild()
    answer = service.ask("When did the Lindholm ferry resume crossings?", as_of="2025-02-01")
    assert answer.notes == ("answering from articles published on or before 2025-02-01 (1 undated article left out)",)
    assert {h.passage.document for h in answer.hits} == {"dated.md"}
