"""Votes in SQLite: one per person per answer, salted user hashes, many threads at once, a
corrupt database as a warning, and `feedback export` output run through the evaluation."""

from __future__ import annotations

import hashlib
import json
import logging
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from bot.votes import ShownPassage, VoteStore
from tests.conftest import REPO, copy_seed
from tests.test_answering import ENV

SOLDIERS = "How many North Korean soldiers were deployed?"
PASSAGE = ShownPassage("ukraine-holds-kursk-foothold.txt", 12, "The situation has become increasingly complicated")


def test_one_vote_per_person_per_answer_and_voting_again_changes_it(tmp_path: Path) -> None:
    store = VoteStore(tmp_path / "data" / "votes.sqlite3")
    assert store.record(1001, 42, 1, SOLDIERS, [PASSAGE], guild_id=7, channel_id=8)
    assert store.record(1001, 42, -1, SOLDIERS, [PASSAGE], guild_id=7, channel_id=8)
    assert store.set_reason(1001, 42, "  about another event  ")
    assert store.record(1001, 43, 1, SOLDIERS, [PASSAGE])
    rows = store.rows()
    assert [(r["vote"], r["reason"]) for r in rows] == [("down", "about another event"), ("up", "")]
    assert rows[0]["passages"] == [{"document": PASSAGE.document, "sentence": 12, "text": PASSAGE.text}]
    assert (rows[0]["guild_id"], rows[0]["channel_id"]) == ("7", "8")
    counts = store.counts()
    assert (counts.up, counts.down, counts.answers, counts.reasons) == (1, 1, 1, 1)
    raw = sqlite3.connect(store.path).execute("SELECT user_hash FROM votes").fetchall()
    plain = hashlib.sha256(b"42").hexdigest()
    assert all(len(h) == 64 and h not in ("42", plain) for (h,) in raw)  # salted SHA-256, never the id


def test_threads_voting_at_once_lose_nothing(tmp_path: Path) -> None:
    store = VoteStore(tmp_path / "votes.sqlite3")
    results: list[bool] = []
    lock = threading.Lock()

    def voter(user: int) -> None:
        mine = VoteStore(store.path)  # as separate processes would: their own store objects
        for answer in range(20):
            ok = mine.record(answer, user, 1 if (user + answer) % 2 else -1, SOLDIERS, [PASSAGE], guild_id=user)
            with lock:
                results.append(ok)

    threads = [threading.Thread(target=voter, args=(u,)) for u in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert len(results) == 160 and all(results)
    assert len(store.rows()) == 160
    assert store.counts().up == 80


def test_a_corrupt_database_is_a_warning_not_an_error(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "votes.sqlite3"
    path.write_bytes(b"this is not a database\n" * 100)
    store = VoteStore(path)
    with caplog.at_level(logging.WARNING, logger="bot.votes"):
        assert store.record(1, 2, 1, SOLDIERS, [PASSAGE]) is False
        assert store.set_reason(1, 2, "x") is False
    assert any("could not record a vote" in r.getMessage() and "answers are unaffected" in r.getMessage()
               for r in caplog.records)


def run(*args: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, *args], capture_output=True, text=True, timeout=300, cwd=cwd,
                          env={**ENV, **env})


def test_feedback_export_runs_through_the_evaluation(tmp_path: Path) -> None:
    corpus = copy_seed(tmp_path / "corpus")
    data = tmp_path / "data"
    store = VoteStore.in_data_dir(data)
    good = ShownPassage("ukraine-holds-kursk-foothold.txt", 12, "…11,000 North Korean soldiers…")
    bad = ShownPassage("ukraine-holds-kursk-foothold.txt", 1, "Ukraine's commander says…")
    assert store.record(1, 10, 1, SOLDIERS, [good])
    assert store.record(2, 10, -1, "When did the incursion begin?", [bad])
    env = {"CORPUS_DIR": str(corpus), "DATA_DIR": str(data), "INDEX_DIR": str(tmp_path / "index")}
    stats = run("-m", "bot", "feedback", "stats", cwd=tmp_path, env=env)
    assert stats.returncode == 0, stats.stderr
    assert stats.stdout.startswith("votes: 2 (1 up, 1 down)\nanswers voted on: 2\nreasons given: 0\n")
    out = tmp_path / "votes.jsonl"
    export = run("-m", "bot", "feedback", "export", "--since", "2020-01-01", "--out", str(out), cwd=tmp_path, env=env)
    assert export.returncode == 0, export.stderr
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [(r["vote"], len(r["hits"]), len(r["misses"])) for r in rows] == [("up", 1, 0), ("down", 0, 1)]
    later = run("-m", "bot", "feedback", "export", "--since", "2999-01-01", cwd=tmp_path, env=env)
    assert later.returncode == 0 and later.stdout == ""
    evaluated = run("-m", "evaluation", str(out), "--mode", "hybrid", "--no-cache", cwd=REPO, env=env)
    assert evaluated.returncode == 0, evaluated.stderr
    assert "feedback votes.jsonl" in evaluated.stdout
    assert "top-3 kept (up) 1.000" in evaluated.stdout and "(n=2)" in evaluated.stdout
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "votes.sqlite3").write_bytes(b"garbage" * 200)
    corrupt = run("-m", "bot", "feedback", "stats", cwd=tmp_path, env={**env, "DATA_DIR": str(broken)})
    assert corrupt.returncode == 1 and corrupt.stderr.startswith("error: ") and "not a readable votes database" \
        in corrupt.stderr
