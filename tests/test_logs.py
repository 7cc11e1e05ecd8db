"""LOG_FORMAT=json gives one JSON object a line; the token never appears in a log line; shard
settings are checked."""

from __future__ import annotations

import json
import logging

import pytest
from pydantic import ValidationError

from bot.config import Settings
from bot.logs import REDACTED, configure

TOKEN = "OTAwMDAwMDAwMDAwMDAwMDAy.GdoubL.abcdefghijklmnopqrstuvwxyz0123456789AB"


def test_json_logs_are_one_object_a_line_and_never_show_the_token(capsys: pytest.CaptureFixture[str]) -> None:
    root = logging.getLogger()
    saved = (list(root.handlers), root.level)
    try:
        configure("json", logging.INFO, TOKEN)
        logging.getLogger("bot.discord").info("answered /ask question from user %s", 42)
        logging.getLogger("discord.http").warning("sent Authorization: Bot %s", TOKEN)
        try:
            raise RuntimeError(f"bad token {TOKEN}")
        except RuntimeError:
            logging.getLogger("bot").exception("start-up failed")
    finally:
        root.handlers[:] = saved[0]
        root.setLevel(saved[1])
    err = capsys.readouterr().err
    lines = [json.loads(line) for line in err.splitlines() if line.startswith("{")]
    assert [(r["level"], r["logger"]) for r in lines] == [("INFO", "bot.discord"), ("WARNING", "discord.http"),
                                                          ("ERROR", "bot")]
    assert lines[0]["message"] == "answered /ask question from user 42" and lines[0]["time"].endswith("+00:00")
    assert lines[1]["message"] == f"sent Authorization: Bot {REDACTED}"
    assert TOKEN not in err and "RuntimeError" in err


def test_unknown_log_format_and_bad_shards_are_one_line_errors() -> None:
    with pytest.raises(ValidationError, match="must be text or json"):
        Settings(_env_file=None, log_format="xml")  # type: ignore[call-arg]
    with pytest.raises(ValidationError, match="SHARD_IDS needs SHARD_COUNT"):
        Settings(_env_file=None, shard_ids="0,1")  # type: ignore[call-arg]
    with pytest.raises(ValidationError, match=r"SHARD_IDS \[2\] out of range for SHARD_COUNT 2"):
        Settings(_env_file=None, shard_count=2, shard_ids="1,2")  # type: ignore[call-arg]
    ok = Settings(_env_file=None, shard_count="4", shard_ids="2, 3", metrics_port="")  # type: ignore[call-arg]
    assert (ok.shard_count, ok.shard_ids, ok.metrics_port, ok.metrics_host) == (4, [2, 3], None, "127.0.0.1")
