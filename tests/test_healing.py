"""Broken files and faults (issue 12): an unusable index heals itself, an empty corpus is an
empty index, a missing CORPUS_DIR is named, settings are checked at start, and `-v` shows the
traceback. Real model, real FAISS, real files; the CLI runs in-process."""

from __future__ import annotations

import json
import logging
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from pydantic import ValidationError

from bot import cli
from bot.config import Settings
from bot.errors import EmptyCorpusError
from bot.index import current_build
from bot.service import QAService
from tests.conftest import SEED_QUESTIONS, make_settings

QUESTION, PHRASE = SEED_QUESTIONS[0]


def truncate(folder: Path, name: str = "passages.sqlite") -> None:
    path = folder / name
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def two_builds(service: QAService, corpus: Path) -> tuple[Path, Path]:
    """Build, add an article, build again: returns (previous, current) build folders."""
    service.rebuild()
    first = current_build(service.settings.index_dir)
    (corpus / "extra.txt").write_text("The Lindholm ferry resumed service on Monday.\n", encoding="utf-8")
    service.rebuild()
    second = current_build(service.settings.index_dir)
    assert first and second and first != second and first.is_dir()
    return first, second


def test_a_truncated_index_is_set_aside_and_the_previous_build_answers_while_it_is_rebuilt(
        seed_corpus: Path, service_for: Callable[..., QAService]) -> None:
    builder = service_for(seed_corpus)
    previous, broken = two_builds(builder, seed_corpus)
    truncate(broken)
    service = QAService(builder.settings, encoder=builder.encoder)  # a fresh start
    assert service.ensure_index() is None
    [notice] = service.notices
    assert f"broken-{broken.name}" in notice and f"previous build {previous.name}" in notice
    assert "\n" not in notice
    answer = service.ask(QUESTION)
    assert answer.answered and PHRASE.lower() in " ".join(h.passage.text.lower() for h in answer.hits)
    service.wait_for_healing(120)
    healed = current_build(service.settings.index_dir)
    assert healed not in (previous, broken) and (broken.parent / f"broken-{broken.name}").is_dir()
    assert any(p.document == "extra.txt" for p in service.index.passages)  # rebuilt from the corpus
    assert not any(notice in w for w in service.ask(QUESTION).warnings)


def test_with_no_good_build_left_the_rebuild_runs_first(seed_corpus: Path,
                                                        service_for: Callable[..., QAService]) -> None:
    builder = service_for(seed_corpus)
    builder.rebuild()
    only = current_build(builder.settings.index_dir)
    assert only is not None
    truncate(only, "embeddings.npy")
    service = QAService(builder.settings, encoder=builder.encoder)
    report = service.ensure_index()
    assert report is not None and report.passages > 0
    assert "no earlier build is usable, so the index is rebuilt first" in service.notices[0]
    assert service.ask(QUESTION).answered


def test_reindex_sets_an_unusable_build_aside_and_says_so(seed_corpus: Path,
                                                          service_for: Callable[..., QAService]) -> None:
    service = service_for(seed_corpus)
    _, broken = two_builds(service, seed_corpus)
    truncate(broken, "index.faiss")
    report = service.rebuild()
    assert any(f"broken-{broken.name}" in n for n in report.notes)
    assert service.ask(QUESTION).answered


def test_the_cli_ask_heals_a_corrupt_index_with_one_warning(seed_corpus: Path, tmp_path: Path,
                                                            service_for: Callable[..., QAService],
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    builder = service_for(seed_corpus)
    _, broken = two_builds(builder, seed_corpus)
    truncate(broken)
    code = cli.main(["ask", QUESTION, "--corpus", str(seed_corpus), "--index", str(builder.settings.index_dir)])
    out, err = capsys.readouterr()
    assert code == 0 and PHRASE.lower() in out.lower()
    warnings = [line for line in err.splitlines() if line.startswith("warning:")]
    assert len(warnings) == 1 and "set it aside" in warnings[0] and "Traceback" not in err


def test_a_model_change_rebuilds_at_start(seed_corpus: Path, service_for: Callable[..., QAService]) -> None:
    builder = service_for(seed_corpus)
    builder.rebuild()
    folder = current_build(builder.settings.index_dir)
    assert folder is not None
    manifest = json.loads((folder / "manifest.json").read_text())
    (folder / "manifest.json").write_text(json.dumps({**manifest, "model": "another-model"}))
    service = QAService(builder.settings, encoder=builder.encoder)
    assert service.ensure_index() is not None
    assert "built with model 'another-model'" in service.notices[0] and "rebuilding" in service.notices[0]
    assert service.ask(QUESTION).answered


def test_deleting_every_article_gives_an_empty_index_that_says_so(seed_corpus: Path,
                                                                 service_for: Callable[..., QAService]) -> None:
    service = service_for(seed_corpus)
    service.rebuild()
    for f in seed_corpus.iterdir():
        f.unlink()
    report = service.rebuild()
    assert report.passages == 0 and any("the index is empty" in n for n in report.notes)
    answer = service.ask(QUESTION)
    assert not answer.hits and not answer.answered
    assert any(w.startswith("no articles are indexed") for w in answer.warnings)
    assert service.sources()[0] == []
    restarted = QAService(service.settings, encoder=service.encoder)
    assert restarted.ensure_index() is None and restarted.index.size == 0  # loads, no rebuild


def test_a_missing_corpus_dir_is_a_clear_error_naming_the_setting(seed_corpus: Path, tmp_path: Path,
                                                                 service_for: Callable[..., QAService]) -> None:
    with pytest.raises(EmptyCorpusError, match=r"^CORPUS_DIR .*missing does not exist"):
        service_for(tmp_path / "missing").rebuild()
    service = service_for(seed_corpus)
    service.rebuild()
    shutil.rmtree(seed_corpus)
    warnings = service.ask(QUESTION).warnings
    assert any(w.startswith(f"CORPUS_DIR {seed_corpus} does not exist") for w in warnings)
    assert not any("removed:" in w for w in warnings)


@pytest.mark.parametrize(("name", "value"), [("RETRIEVAL_MODE", "hybird"), ("EMBEDDING_BACKEND", "cuda")])
def test_a_mistyped_mode_or_backend_is_refused_at_start(name: str, value: str, tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(ValidationError):
        make_settings(tmp_path, tmp_path, **{name.lower(): value})
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv(name, value)
    assert cli.main(["stats"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: invalid setting {name.upper()}") and value in err


def test_the_environment_wins_over_dotenv(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / ".env").write_text("TOP_K=7\nCONTEXT_SENTENCES=2\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("TOP_K", "5")
    settings = Settings()
    assert (settings.top_k, settings.context_sentences) == (5, 2)


def test_the_start_logs_the_effective_corpus_index_and_model_never_the_token(
        seed_service: QAService, caplog: pytest.LogCaptureFixture) -> None:
    secret = "MTIzNDU2Nzg5MDEyMzQ1Njc4.GhIjKl.abcdefghijklmnopqrstuvwxyz0123456"
    service = QAService(seed_service.settings.model_copy(update={"discord_token": secret}),
                        encoder=seed_service.encoder)
    with caplog.at_level(logging.INFO, logger="bot"):
        service.ensure_index()
    text = caplog.text
    s = seed_service.settings
    assert str(s.corpus_dir.resolve()) in text and str(s.index_dir.resolve()) in text and s.embedding_model in text
    assert secret not in text


def test_verbose_shows_the_traceback_of_an_unexpected_error(monkeypatch: pytest.MonkeyPatch,
                                                            caplog: pytest.LogCaptureFixture,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    def boom(args: object) -> int:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(cli, "cmd_stats", boom)
    assert cli.main(["stats"]) == 1
    assert capsys.readouterr().err.strip() == "error: RuntimeError: disk on fire (run with -v for details)"
    assert not [r for r in caplog.records if r.exc_info]
    assert cli.main(["-v", "stats"]) == 1
    assert [r for r in caplog.records if r.exc_info and r.levelno >= logging.INFO]
