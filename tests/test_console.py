"""The console is the same bot: commands, small talk, follow-ups, and no raw Markdown."""

from __future__ import annotations

import io
import json

import pytest

from bot.answer import render_text
from bot.console import ANSI_BOLD, CONSOLE_HELP, Console, chat
from bot.service import QAService
from bot.smalltalk import GREETING_REPLY, THANKS_REPLY, small_talk
from tests.test_answering import run_cli

SOLDIERS = "how many north korean soldiers were deployed?"


class Terminal(io.StringIO):
    """A stdout that says it is a terminal."""

    def isatty(self) -> bool:
        return True


def converse(service: QAService, *lines: str, out: io.StringIO | None = None) -> str:
    out = out if out is not None else io.StringIO()
    assert chat(service, io.StringIO("".join(f"{line}\n" for line in lines)), out) == 0
    return out.getvalue()


@pytest.mark.parametrize("text, kind", [
    ("hi", "greeting"), ("Hello there!", "greeting"), ("hey 👋", "greeting"), ("good morning", "greeting"),
    ("thanks", "thanks"), ("Thank you!", "thanks"), ("cheers :)", "thanks"),
    ("help", "help"), ("?", "help"), ("what can you do?", "help"),
])
def test_small_talk_is_recognised(text: str, kind: str) -> None:
    talk = small_talk(text, "HELP")
    assert talk is not None and talk.kind == kind


@pytest.mark.parametrize("text", ["hi, how many soldiers were deployed?", "How many?", "Who is he?",
                                  "thanks for nothing: who is Syrsky?", "help with flood defences"])
def test_questions_are_not_small_talk(text: str) -> None:
    assert small_talk(text, "HELP") is None


def test_console_small_talk_gets_a_short_reply_not_a_passage(seed_service: QAService) -> None:
    out = converse(seed_service, "hi", "thanks!", "help")
    assert GREETING_REPLY in out and THANKS_REPLY in out and CONSOLE_HELP in out
    assert "do not seem to cover" not in out and "Nearest passage" not in out and "similarity" not in out


def test_console_understands_stats_sources_and_help(seed_service: QAService) -> None:
    out = converse(seed_service, "/sources", "/stats north korea", "/help", "/frobnicate")
    assert "1 documents, 16 passages" in out
    assert "Ukraine Maintains Stronghold in Kursk Despite Russian Offensive" in out
    assert "» 11,000 North Korean soldiers" in out or "11,000" in out.split("/stats")[0] + out
    assert "/stats [topic]" in out
    assert "error: unknown command /frobnicate: use /stats [topic], /sources or /help" in out


def test_console_follow_up_is_read_with_the_earlier_question(seed_service: QAService) -> None:
    console = Console(seed_service)
    console.handle(SOLDIERS)
    reply = console.handle("and how many russians?")
    assert reply is not None
    assert f"note: read as a follow-up to “{SOLDIERS}”" in reply
    fresh = console.handle("Who is Ukraine's commander-in-chief?")  # self-contained: on its own
    assert fresh is not None and "follow-up" not in fresh and "Oleksandr Syrsky" in fresh.split("\n")[0]


def test_context_output_has_no_raw_markdown(seed_service: QAService) -> None:
    answer = seed_service.ask("Who is Ukraine's commander-in-chief?", context=1)
    top = answer.hits[0].passage.text
    assert "**" not in render_text(answer)
    assert f"«{top}»" in render_text(answer)
    assert f"{ANSI_BOLD[0]}{top}{ANSI_BOLD[1]}" in render_text(answer, ANSI_BOLD)
    terminal = Terminal()
    converse(seed_service, "Who is Ukraine's commander-in-chief?", out=terminal)
    assert "**" not in terminal.getvalue()


def test_ask_json_batch_takes_follow_ups_as_json_objects(tmp_path, seed_service: QAService) -> None:  # type: ignore[no-untyped-def]
    settings = seed_service.settings
    lines = [SOLDIERS, json.dumps({"question": "and how many russians?", "context": [SOLDIERS]}),
             "and how many russians?", '{"question": 3}', "[1, 2]"]
    proc = run_cli("ask", "--json", "--corpus", str(settings.corpus_dir), "--index", str(settings.index_dir),
                   stdin="\n".join(lines) + "\n")
    rows = [json.loads(line) for line in proc.stdout.splitlines()]
    assert proc.returncode == 2, proc.stderr
    assert rows[0]["context"] == [] and rows[2]["context"] == []  # plain lines stand alone
    assert rows[1]["question"] == "and how many russians?" and rows[1]["context"] == [SOLDIERS]
    assert any("follow-up" in n for n in rows[1]["notes"])
    assert rows[3] == {"question": '{"question": 3}', "error": 'a JSON line needs "question": a string'}
    assert rows[4]["question"] == "[1, 2]"  # not an object: a plain question
