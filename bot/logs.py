"""Log output: plain lines by default, one JSON object a line with `LOG_FORMAT=json` (for log
shippers), and the Discord token redacted from every record whatever logged it."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime

#: What replaces the token if anything ever logs it.
REDACTED = "[token redacted]"
FORMATS = ("text", "json")


class JsonFormatter(logging.Formatter):
    """One JSON object per record: `time` (ISO 8601, UTC), `level`, `logger`, `message`, and
    `exception` (the formatted traceback) when there is one."""

    def format(self, record: logging.LogRecord) -> str:
        out = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            out["exception"] = self.formatException(record.exc_info)
        elif record.exc_text:  # already formatted (and redacted) by `RedactSecret`
            out["exception"] = record.exc_text
        return json.dumps(out, ensure_ascii=False)


class RedactSecret(logging.Filter):
    """Replace `secret` in a record's message, arguments and traceback text with `REDACTED`."""

    def __init__(self, secret: str) -> None:
        super().__init__()
        self.secret = secret

    def filter(self, record: logging.LogRecord) -> bool:
        if not self.secret:
            return True
        message = record.getMessage()
        if self.secret in message:
            record.msg, record.args = message.replace(self.secret, REDACTED), None
        if record.exc_info and record.exc_info[1] is not None and self.secret in str(record.exc_info[1]):
            record.exc_text = logging.Formatter().formatException(record.exc_info).replace(self.secret, REDACTED)
            record.exc_info = None
        return True


def configure(log_format: str, level: int, secret: str = "") -> None:
    """Send logs to stderr in `log_format` ("text" or "json") at `level`, replacing handlers set
    before, with `secret` (the token) redacted from every record.

    Raises:
        ValueError: an unknown format.
    """
    if log_format not in FORMATS:
        raise ValueError(f"LOG_FORMAT must be one of {', '.join(FORMATS)}")
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter() if log_format == "json"
                         else logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(RedactSecret(secret))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
