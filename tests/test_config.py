"""Settings as a user writes them: the shipped .env.example, comma-separated ids, bad values."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bot import cli
from bot.config import Settings
from tests.conftest import REPO


def test_env_example_copied_as_is_loads_with_defaults(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    shutil.copy(REPO / ".env.example", tmp_path / ".env")
    monkeypatch.chdir(tmp_path)
    settings = Settings()
    assert settings.ask_channel_ids == []
    assert settings.discord_guild_id is None
    assert (settings.top_k, settings.corpus_dir, settings.index_dir) == (3, Path("corpus"), Path("index"))
    assert not (settings.discord_token and settings.discord_token.get_secret_value())


@pytest.mark.parametrize(("raw", "ids"), [("123,456", [123, 456]), (" 123 , 456 ", [123, 456]),
                                          ("[7, 8]", [7, 8]), ("42", [42]), ("", [])])
def test_ask_channel_ids_accept_the_documented_forms(raw: str, ids: list[int],
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ASK_CHANNEL_IDS", raw)
    assert Settings(_env_file=None).ask_channel_ids == ids  # type: ignore[call-arg]


@pytest.mark.parametrize(("env", "message"), [
    ({"TOP_K": "0"}, "error: invalid setting TOP_K: Input should be greater than or equal to 1 (got '0')"),
    ({"SCORE_THRESHOLD": "5"}, "error: invalid setting SCORE_THRESHOLD: Input should be less than or equal to 1"),
    ({"DISCORD_GUILD_ID": "notanumber"}, "error: invalid setting DISCORD_GUILD_ID: Input should be a valid integer"),
])
def test_a_bad_setting_is_one_line_naming_the_variable(tmp_path: Path, env: dict[str, str], message: str,
                                                      monkeypatch: pytest.MonkeyPatch,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    # In-process (the CLI's own `main`): a subprocess per case cost seconds of start-up each.
    monkeypatch.chdir(tmp_path)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert cli.main(["ask", "Who?"]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1
    assert err.startswith(message)


def test_missing_model_folder_is_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("EMBEDDING_MODEL", "/nonexistent/model")
    assert cli.main(["ask", "Who?"]) == 1
    assert capsys.readouterr().err.strip() == "error: EMBEDDING_MODEL folder /nonexistent/model does not exist"
