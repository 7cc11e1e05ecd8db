"""Start-up failures: a missing or malformed token is one clear line and exit code 1."""

from __future__ import annotations

from typing import Any

import pytest

from bot import cli
from bot.config import Settings
from bot.discord_app import run_bot
from tests.discord.api_double import GOOD_TOKEN


@pytest.mark.parametrize("token, expected", [
    (None, "error: DISCORD_TOKEN is not set"),
    ("   ", "error: DISCORD_TOKEN is not set"),
    ("not-a-token", "error: DISCORD_TOKEN is malformed"),
    (f"Bot {GOOD_TOKEN}", "error: DISCORD_TOKEN must be the bare token"),
])
def test_missing_or_malformed_token_is_one_line_and_exit_code_1(
        token: str | None, expected: str, tmp_path: Any, capsys: pytest.CaptureFixture[str]) -> None:
    settings = Settings(_env_file=None, discord_token=token, index_dir=tmp_path)  # type: ignore[call-arg]
    assert run_bot(settings) == 1
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and err.startswith(expected)
    assert token is None or not token.strip() or token not in err


def test_python_m_bot_with_a_malformed_token_exits_1_with_one_line(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Any, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DISCORD_TOKEN", "abc.def")
    assert cli.main([]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: DISCORD_TOKEN is malformed") and len(err.strip().splitlines()) == 1
    assert "abc.def" not in err
