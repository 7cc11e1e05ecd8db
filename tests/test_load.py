"""Faults under load (issue 12), bounded and on this machine only: questions keep being answered
from a whole index while rebuilds run, and a build that dies writing (the disk "full": a file-size
limit on the build process) leaves the old index serving. Issue 12: 200 questions while three
rebuilds run and one build process is killed: 0 errors, every answer from a whole index."""

from __future__ import annotations

import os
import resource
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

from bot.index import LOCK, current_build, load_index
from bot.service import QAService
from tests.conftest import REPO, SEED_QUESTIONS

MODEL = "all-MiniLM-L6-v2 (packaged)"


def holds_build_lock(pid: int, index_dir: Path) -> bool:
    """Whether process `pid` holds the flock on `index_dir`'s build lock (Linux /proc/locks)."""
    try:
        inode = (index_dir / LOCK).stat().st_ino
    except FileNotFoundError:
        return False
    for line in Path("/proc/locks").read_text().splitlines():
        fields = line.split()
        if "FLOCK" in fields and str(pid) in fields and any(f.endswith(f":{inode}") for f in fields):
            return True
    return False


def test_200_questions_while_three_rebuilds_run_and_a_build_process_is_killed(
        seed_corpus: Path, service_for: Callable[..., QAService]) -> None:
    service = service_for(seed_corpus)
    service.rebuild()
    service.warm()
    index_dir = service.settings.index_dir
    errors: list[BaseException] = []
    answers: list[tuple[str, str, bool]] = []
    faults_over = threading.Event()

    def ask(at_least: int) -> None:  # asks all through the faults, and at least `at_least` questions
        i = 0
        while (i < at_least or not faults_over.is_set()) and i < 5000:
            question, phrase = SEED_QUESTIONS[i % len(SEED_QUESTIONS)]
            i += 1
            try:
                answer = service.ask(question)
                text = " ".join(h.passage.text for h in answer.hits).lower()
                answers.append((question, phrase, answer.answered and phrase.lower() in text))
            except BaseException as exc:  # noqa: BLE001 - counted: the test asserts there are none
                errors.append(exc)
            time.sleep(0.2)  # paced: the questions span the faults without starving the builds

    def rebuild(round_: int) -> None:
        try:
            (seed_corpus / f"update-{round_}.txt").write_text(
                f"Update {round_}: the Lindholm ferry ran {round_ + 2} extra crossings on Monday.\n",
                encoding="utf-8")
            service.rebuild(wait=True)
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    askers = [threading.Thread(target=ask, args=(50,)) for _ in range(4)]
    for t in askers:
        t.start()
    try:
        # A build process (the CLI) with a long new article, SIGKILLed while it holds the build lock
        # and works on it: it leaves a dead lock holder and perhaps a half-written temporary folder.
        (seed_corpus / "archive.txt").write_text("Archive\n\n" + " ".join(
            f"Ferry log {i}: the Lindholm ferry carried {100 + i} passengers on crossing {i}." for i in range(200)),
            encoding="utf-8")
        proc = subprocess.Popen(
            [sys.executable, "-m", "bot", "build", "--corpus", str(seed_corpus), "--index", str(index_dir)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=seed_corpus.parent,
            env={**os.environ, "PYTHONPATH": str(REPO), "DISCORD_TOKEN": ""})
        try:
            deadline = time.monotonic() + 120
            while not holds_build_lock(proc.pid, index_dir):
                assert proc.poll() is None, "the build process ended before it was killed"
                assert time.monotonic() < deadline, "the build process never took the build lock"
                time.sleep(0.005)
            time.sleep(0.2)  # reading, segmenting and embedding the long article
            assert proc.poll() is None, "the build process ended before it was killed"
        finally:
            proc.kill()
            proc.wait(timeout=30)
        assert proc.returncode == -signal.SIGKILL
        builders = [threading.Thread(target=rebuild, args=(r,)) for r in range(3)]
        for t in builders:
            t.start()
        for t in builders:
            t.join(timeout=600)
    finally:
        faults_over.set()
        for t in askers:
            t.join(timeout=600)
    assert errors == []
    assert len(answers) >= 200
    assert [q for q, _, ok in answers if not ok] == []
    assert sum(p.document.startswith("update-") for p in service.index.passages) == 3
    assert sum(p.document == "archive.txt" for p in service.index.passages) >= 200
    assert not list(index_dir.glob(".tmp-build-*"))  # what the killed build left was cleaned up
    answer = service.ask("How many passengers did the Lindholm ferry carry on crossing 117?")
    assert "217 passengers" in answer.hits[0].passage.text


def test_a_build_that_cannot_write_leaves_the_old_index_serving(seed_corpus: Path,
                                                                service_for: Callable[..., QAService]) -> None:
    service = service_for(seed_corpus)
    service.rebuild()
    before = current_build(service.settings.index_dir)
    (seed_corpus / "new.txt").write_text("The Lindholm ferry resumed service on Monday.\n", encoding="utf-8")

    def disk_full() -> None:  # the build process may write files of at most 8 KiB (embeddings: 25)
        resource.setrlimit(resource.RLIMIT_FSIZE, (8 * 1024, 8 * 1024))

    proc = subprocess.run(
        [sys.executable, "-m", "bot", "build", "--corpus", str(seed_corpus),
         "--index", str(service.settings.index_dir)],
        capture_output=True, text=True, timeout=300, cwd=seed_corpus.parent, preexec_fn=disk_full,
        env={**os.environ, "PYTHONPATH": str(REPO), "DISCORD_TOKEN": ""})
    assert proc.returncode != 0  # killed by SIGXFSZ, or a clean "File too large" error
    assert current_build(service.settings.index_dir) == before
    index = load_index(service.settings.index_dir, MODEL, 384)  # whole, and still the old one
    assert not any(p.document == "new.txt" for p in index.passages)
    question, phrase = SEED_QUESTIONS[0]
    fresh = QAService(service.settings, encoder=service.encoder)
    answer = fresh.ask(question)
    assert answer.answered and phrase.lower() in " ".join(h.passage.text.lower() for h in answer.hits)
    assert any("added: new.txt" in w for w in answer.warnings)  # the stale check says what is missing
    report = fresh.rebuild()  # the next build cleans up and succeeds
    assert report.documents == 2 and not list(service.settings.index_dir.glob(".tmp-build-*"))
