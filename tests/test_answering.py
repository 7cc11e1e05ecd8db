"""Answers a user sees: the seed questions, unanswerable and malformed questions, the CLI."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot import cli
from bot.answer import NOT_COVERED, render_text
from bot.errors import REBUILD_HINT, UsageError
from bot.service import QAService
from tests.conftest import REPO, SEED_QUESTIONS, copy_seed

SEED_FILE = "ukraine-holds-kursk-foothold.txt"

ENV = {**os.environ, "PYTHONPATH": str(REPO), "DISCORD_TOKEN": ""}


@pytest.mark.parametrize(("question", "expected"), SEED_QUESTIONS)
def test_seed_question_puts_the_answering_sentence_first(seed_service: QAService, question: str,
                                                         expected: str) -> None:
    answer = seed_service.ask(question)
    assert answer.answered
    assert [h.rank for h in answer.hits] == list(range(1, len(answer.hits) + 1))
    top = answer.hits[0]
    assert expected in top.passage.text
    assert top.passage.title == "Ukraine Maintains Stronghold in Kursk Despite Russian Offensive"
    assert top.passage.document == "ukraine-holds-kursk-foothold.txt"
    text = render_text(answer)
    assert f'1. "{top.passage.text}"' in text
    assert f"sentence {top.passage.sentence} · ukraine-holds-kursk-foothold.txt" in text


def test_question_the_articles_do_not_cover_says_so(seed_service: QAService) -> None:
    answer = seed_service.ask("What is the capital of France?")
    assert not answer.answered
    assert len(answer.hits) <= 1
    text = render_text(answer)
    assert text.startswith(NOT_COVERED)
    assert "Nearest passage" in text and "below the threshold" in text


@pytest.mark.parametrize("question", ["", "   ", "\n\t"])
def test_empty_question_is_a_usage_error(seed_service: QAService, question: str) -> None:
    with pytest.raises(UsageError, match="the question is empty"):
        seed_service.ask(question)


def test_very_long_question_is_truncated_with_a_note(seed_service: QAService) -> None:
    question = "How many North Korean soldiers were deployed? " + "Please tell me more. " * 480
    assert len(question) > 10_000
    answer = seed_service.ask(question)
    assert answer.notes and answer.notes[0].startswith("the question was cut to its first")
    assert "254 word pieces" in answer.notes[0]
    assert answer.hits


def test_mentions_in_a_question_are_just_text(seed_service: QAService) -> None:
    answer = seed_service.ask("@everyone how many North Korean soldiers were deployed?")
    assert "11,000" in answer.hits[0].passage.text


def test_context_adds_the_neighbouring_sentences(seed_service: QAService) -> None:
    answer = seed_service.ask("Who is Ukraine's commander-in-chief?", context=1)
    top = answer.hits[0]
    assert top.passage.text.startswith("Commander-in-chief Oleksandr Syrsky revealed")
    assert top.before == ("The incursion, which began in August 2024, saw Ukrainian forces seize over "
                          "1,000 square kilometers (386 sq miles) of Russian land, prompting a fierce "
                          "response from Moscow.",)
    assert top.after == ("Despite repeated assertions from Russia that it has reclaimed the Kursk region, "
                         "Syrsky declared on Sunday that approximately 90 square kilometers (35 square "
                         "miles) remain under Ukrainian control.",)
    assert "«" + top.passage.text + "»" in render_text(answer)  # never raw Markdown in a terminal


def test_near_duplicate_passages_are_collapsed(tmp_path: Path, service_for) -> None:  # type: ignore[no-untyped-def]
    corpus = tmp_path / "c"
    corpus.mkdir()
    (corpus / "a.txt").write_text("Around 11,000 North Korean soldiers were deployed to Kursk.",
                                  encoding="utf-8")
    (corpus / "b.txt").write_text("Around 11,000 North Korean soldiers were deployed to Kursk!\n"
                                  "The weather was cold.", encoding="utf-8")
    service = service_for(corpus)
    service.rebuild()
    answer = service.ask("How many North Korean soldiers were deployed?", k=3)
    texts = [h.passage.text for h in answer.hits]
    assert sum("11,000" in t for t in texts) == 1


def run_cli(*args: str, stdin: str | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "bot", *args], input=stdin, capture_output=True,
                          text=True, timeout=300, cwd=cwd or REPO, env=ENV)


def test_ask_json_batch_answers_one_question_per_line(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    copy_seed(corpus)
    index = tmp_path / "index"
    build = run_cli("build", "--corpus", str(corpus), "--index", str(index))
    assert build.returncode == 0, build.stderr
    assert "documents: 1\npassages: 16\n" in build.stdout and "skipped files: 0" in build.stdout
    assert "embedding" not in build.stderr and "\r" not in build.stderr  # no progress bar into a pipe
    assert "DEBUG" not in build.stderr  # bm25s sets its logger to DEBUG on import
    questions = "\n".join(q for q, _ in SEED_QUESTIONS) + "\nWhat is the capital of France?\n\n"
    proc = run_cli("ask", "--json", "--k", "2", "--corpus", str(corpus), "--index", str(index),
                   stdin=questions)
    assert proc.returncode == 2, proc.stderr  # the blank last line is a usage error
    rows = [json.loads(line) for line in proc.stdout.splitlines()]
    assert [r["question"] for r in rows] == [q for q, _ in SEED_QUESTIONS] + ["What is the capital of France?", ""]
    assert rows.pop() == {"question": "", "error": "the question is empty: type a question about the news articles"}
    for row, (_, expected) in zip(rows, SEED_QUESTIONS, strict=False):
        assert row["answered"] is True and row["warnings"] == []
        first = row["passages"][0]
        assert expected in first["text"]
        assert {"text", "score", "document", "title", "sentence"} <= set(first)
        assert first["sentence"] >= 1 and 0 < first["score"] <= 1
    assert rows[-1]["answered"] is False


def test_ask_cli_exit_codes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                            capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)  # in-process: no start-up per case, and no .env of the checkout
    assert cli.main(["ask", "  ", "--index", str(tmp_path / "none")]) == 2
    assert capsys.readouterr().err.strip() == "error: the question is empty: type a question about the news articles"
    assert cli.main(["ask", "Who?", "--index", str(tmp_path / "none")]) == 1
    assert capsys.readouterr().err.strip() == (
        f"error: no index in {tmp_path / 'none'}: {REBUILD_HINT} to build it")
    assert cli.main(["ask", "Who?", "--k", "0", "--index", str(tmp_path / "none")]) == 2


def test_run_command_without_token_is_the_console_chat_building_on_first_use(tmp_path: Path) -> None:
    copy_seed(tmp_path / "corpus")
    proc = run_cli(stdin="How many North Korean soldiers were deployed?\n\nquit\n", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "No DISCORD_TOKEN configured" in proc.stderr
    assert "Built the index: 1 documents, 16 passages" in proc.stdout
    first = proc.stdout.split("\n1. ", 1)[1]
    assert first.startswith('"The situation has become increasingly complicated, particularly following '
                            'the deployment of around 11,000 North Korean soldiers')
    assert (tmp_path / "index" / "CURRENT").is_file()


def test_sources_command_lists_the_indexed_articles(seed_service: QAService, monkeypatch: pytest.MonkeyPatch,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(cli, "_service", lambda args: seed_service)
    assert cli.main(["sources"]) == 0
    out = capsys.readouterr().out
    assert "Ukraine Maintains Stronghold in Kursk" in out and "16 passages" in out
    assert cli.main(["sources", "--json"]) == 0
    [doc] = json.loads(capsys.readouterr().out)["documents"]
    assert (doc["document"], doc["passages"]) == (SEED_FILE, 16)


def test_ask_with_no_question_and_nothing_on_stdin_is_a_usage_error(
        seed_service: QAService, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(cli, "_service", lambda args: seed_service)
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    assert cli.main(["ask"]) == 2
    assert capsys.readouterr().err.startswith("error: no question: give one")


def test_output_into_a_closed_pipe_ends_quietly(seed_service: QAService, monkeypatch: pytest.MonkeyPatch,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    """`python -m bot stats --json | head -c 10`: the reader has gone; no traceback, exit 0."""
    monkeypatch.setattr(cli, "_service", lambda args: seed_service)
    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader has stopped: every write fails with EPIPE (BrokenPipeError)
    with capsys.disabled(), open(write_end, "w", encoding="utf-8") as closed:
        monkeypatch.setattr("sys.stdout", closed)
        assert cli.main(["stats", "--json"]) == 0
        monkeypatch.undo()
