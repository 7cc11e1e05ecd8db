"""Votes on answers (👍 / 👎), stored in SQLite under DATA_DIR, exported as evaluation data.

One row per person per answer (voting again changes it): the question, the cited document and
sentence of each passage shown, the vote, an optional reason, guild and channel ids, a salted
SHA-256 of the user id (the salt is random per database; the raw id is never stored) and the
time (UTC). The standard library's `sqlite3` in WAL mode, a connection per call and a busy
timeout make it safe for several servers voting at once. A corrupt, unreadable or unwritable
database is a logged warning and a False return, never an exception: answers never depend on it.
"""

from __future__ import annotations

import hashlib
import json
import logging
import secrets
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bot.answer import Answer

log = logging.getLogger(__name__)

#: The file under DATA_DIR.
VOTES_FILE = "votes.sqlite3"
#: Seconds a writer waits for another's lock before giving up (SQLite busy timeout).
BUSY_SECONDS = 10.0
#: Longest reason kept, in characters.
MAX_REASON = 300

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS votes (
    answer_id TEXT NOT NULL,
    user_hash TEXT NOT NULL,
    question TEXT NOT NULL,
    passages TEXT NOT NULL,
    vote INTEGER NOT NULL CHECK (vote IN (-1, 1)),
    reason TEXT NOT NULL DEFAULT '',
    guild_id TEXT,
    channel_id TEXT,
    at TEXT NOT NULL,
    PRIMARY KEY (answer_id, user_hash)
);
CREATE INDEX IF NOT EXISTS votes_at ON votes (at);
"""


@dataclass(frozen=True)
class ShownPassage:
    """One passage an answer showed: document id, sentence number (from 1) and text."""

    document: str
    sentence: int
    text: str


def shown_passages(answer: Answer) -> tuple[ShownPassage, ...]:
    """The passages `answer` shows, as stored with a vote."""
    return tuple(ShownPassage(h.passage.document, h.passage.sentence, h.passage.text) for h in answer.hits)


@dataclass(frozen=True)
class VoteCounts:
    """`feedback stats`: votes up and down, answers voted on, and reasons given."""

    up: int
    down: int
    answers: int
    reasons: int


class VoteStore:
    """The votes database at `path` (created with its folder on first write)."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        self._salt: str | None = None

    @classmethod
    def in_data_dir(cls, data_dir: Path) -> VoteStore:
        return cls(Path(data_dir) / VOTES_FILE)

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(self.path, timeout=BUSY_SECONDS)
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            conn.executescript(_SCHEMA)
            with conn:
                yield conn
        finally:
            conn.close()

    def _user_hash(self, conn: sqlite3.Connection, user_id: int) -> str:
        if self._salt is None:
            conn.execute("INSERT OR IGNORE INTO meta (key, value) VALUES ('salt', ?)", (secrets.token_hex(16),))
            self._salt = str(conn.execute("SELECT value FROM meta WHERE key = 'salt'").fetchone()[0])
        return hashlib.sha256(f"{self._salt}:{user_id}".encode()).hexdigest()

    def _warn(self, what: str, exc: BaseException) -> None:
        log.warning("votes database %s: could not %s (%s: %s); answers are unaffected",
                    self.path, what, type(exc).__name__, exc)

    def record(self, answer_id: int | str, user_id: int, vote: int, question: str,
               passages: Sequence[ShownPassage], guild_id: int | None = None,
               channel_id: int | None = None, reason: str = "") -> bool:
        """Store one person's vote (+1 or -1) on one answer, replacing an earlier vote of theirs
        on it. Returns False (after a logged warning) when the database cannot be written.

        Raises:
            ValueError: `vote` is not +1 or -1.
        """
        if vote not in (1, -1):
            raise ValueError("a vote is +1 or -1")
        rows = json.dumps([{"document": p.document, "sentence": p.sentence, "text": p.text} for p in passages],
                          ensure_ascii=False)
        at = datetime.now(UTC).isoformat(timespec="seconds")
        try:
            with self._lock, self._connect() as conn:
                conn.execute(
                    "INSERT INTO votes (answer_id, user_hash, question, passages, vote, reason,"
                    " guild_id, channel_id, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
                    " ON CONFLICT (answer_id, user_hash) DO UPDATE SET"
                    " question = excluded.question, passages = excluded.passages, vote = excluded.vote,"
                    " reason = excluded.reason, guild_id = excluded.guild_id, channel_id = excluded.channel_id,"
                    " at = excluded.at",
                    (str(answer_id), self._user_hash(conn, user_id), question, rows, vote, reason[:MAX_REASON],
                     None if guild_id is None else str(guild_id), None if channel_id is None else str(channel_id), at))
            return True
        except (sqlite3.Error, OSError) as exc:
            self._warn("record a vote", exc)
            return False

    def set_reason(self, answer_id: int | str, user_id: int, reason: str) -> bool:
        """Add a reason to this person's vote on this answer. False when there is no such vote
        or the database cannot be written (logged)."""
        try:
            with self._lock, self._connect() as conn:
                cur = conn.execute("UPDATE votes SET reason = ? WHERE answer_id = ? AND user_hash = ?",
                                   (reason.strip()[:MAX_REASON], str(answer_id), self._user_hash(conn, user_id)))
                return cur.rowcount == 1
        except (sqlite3.Error, OSError) as exc:
            self._warn("save a reason", exc)
            return False

    def rows(self, since: datetime | None = None) -> list[dict[str, Any]]:
        """Every vote (at or after `since`, UTC), oldest first, as dicts.

        Raises:
            sqlite3.DatabaseError: the file is not a votes database (the CLI reports it).
        """
        if not self.path.exists():
            return []
        conn = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, timeout=BUSY_SECONDS)
        try:
            query = "SELECT answer_id, question, passages, vote, reason, guild_id, channel_id, at FROM votes"
            args: tuple[str, ...] = ()
            if since is not None:
                query += " WHERE at >= ?"
                args = ((since if since.tzinfo else since.replace(tzinfo=UTC)).astimezone(UTC)
                        .isoformat(timespec="seconds"),)
            out = []
            found = conn.execute(query + " ORDER BY at, rowid", args)
            for answer, question, passages, vote, reason, guild, channel, at in found:
                out.append({"answer": answer, "question": question, "vote": "up" if vote > 0 else "down",
                            "passages": json.loads(passages), "reason": reason, "guild_id": guild,
                            "channel_id": channel, "at": at})
            return out
        finally:
            conn.close()

    def counts(self) -> VoteCounts:
        """Votes up and down, answers voted on, reasons given.

        Raises:
            sqlite3.DatabaseError: the file is not a votes database.
        """
        rows = self.rows()
        up = sum(r["vote"] == "up" for r in rows)
        answers = len({r["answer"] for r in rows})
        return VoteCounts(up, len(rows) - up, answers, sum(bool(r["reason"]) for r in rows))


def export_row(row: dict[str, Any]) -> dict[str, Any]:
    """One vote as an evaluation row: 👍 → the passages shown are `hits`; 👎 → `misses`."""
    cited = [{"document": p["document"], "sentence": p["sentence"], "text": p["text"]} for p in row["passages"]]
    good = row["vote"] == "up"
    return {"question": row["question"], "vote": row["vote"], "hits": cited if good else [],
            "misses": [] if good else cited, "reason": row["reason"], "at": row["at"],
            "answer": row["answer"]}
