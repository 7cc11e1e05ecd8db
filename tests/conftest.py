"""Shared fixtures: the real packaged model (loaded once per session), real FAISS, real files.

Third-party data is read from `../shared/data` beside the checkout (never copied here).
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from bot.config import Settings
from bot.embed import Encoder
from bot.service import QAService
from evaluation.harness import SEED_QUESTIONS as EVAL_SEED_QUESTIONS
from tests.web_server import WebServer

REPO = Path(__file__).resolve().parents[1]
SEED_CORPUS = REPO / "corpus"
#: The bundled article. Tests copy this one file, so articles a user adds to corpus/ never
#: change what the tests see.
SHARED_DATA = REPO.parent / "shared" / "data"
#: ... read from the pristine copy beside the checkout when there is one, so that even editing
#: corpus/'s own copy changes nothing the tests see.
_PRISTINE = REPO.parent / "shared" / "corpus" / "ukraine-holds-kursk-foothold.txt"
SEED_ARTICLE = _PRISTINE if _PRISTINE.is_file() else SEED_CORPUS / "ukraine-holds-kursk-foothold.txt"
#: The invented multi-outlet story (three outlets, three dates, two figures, one wire paragraph).
STORY = REPO / "tests" / "data" / "story"

SEED_QUESTIONS = EVAL_SEED_QUESTIONS  # the five seed questions and a phrase of each answer


def copy_seed(dest: Path) -> Path:
    """Make `dest` a corpus folder holding only a copy of the bundled article; returns `dest`."""
    dest.mkdir(parents=True, exist_ok=True)
    shutil.copy2(SEED_ARTICLE, dest / SEED_ARTICLE.name)
    return dest


def make_settings(tmp: Path, corpus: Path, **overrides: object) -> Settings:
    """Settings for a test: its own corpus and index folders, no `.env`, no token."""
    return Settings(_env_file=None, corpus_dir=corpus, index_dir=tmp / "index",  # type: ignore[call-arg]
                    discord_token=None, **overrides)


@pytest.fixture(scope="session")
def encoder() -> Encoder:
    """The real packaged all-MiniLM-L6-v2, loaded once for the whole run."""
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    return Encoder(settings.model_name_or_path)


@pytest.fixture
def seed_corpus(tmp_path: Path) -> Path:
    """A writable copy of the bundled corpus."""
    return copy_seed(tmp_path / "corpus")


@pytest.fixture
def service_for(tmp_path: Path, encoder: Encoder) -> Callable[..., QAService]:
    """Factory: a QAService over a given corpus folder with a fresh index folder in tmp_path."""

    def make(corpus: Path, **overrides: object) -> QAService:
        return QAService(make_settings(tmp_path, corpus, **overrides), encoder=encoder)

    return make


@pytest.fixture(scope="session")
def seed_service(tmp_path_factory: pytest.TempPathFactory, encoder: Encoder) -> QAService:
    """A QAService over a copy of the seed corpus, built once per session (read-only use)."""
    tmp = tmp_path_factory.mktemp("seed")
    corpus = copy_seed(tmp / "corpus")
    service = QAService(make_settings(tmp, corpus), encoder=encoder)
    service.rebuild()
    return service


def requires_shared(*parts: str) -> Path:
    """Path under ../shared/data; skip the test when that data is not beside the checkout."""
    path = SHARED_DATA.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"{path} not present (CI keeps ../shared beside the checkout)")
    return path


@pytest.fixture
def web() -> Iterator[WebServer]:
    """A real HTTP server on 127.0.0.1 (a free port) serving what the test routes; stopped after."""
    server = WebServer().start()
    try:
        yield server
    finally:
        server.stop()


def copy_story(dest: Path) -> Path:
    """Make `dest` a corpus folder holding the three outlets' pages of the invented story."""
    dest.mkdir(parents=True, exist_ok=True)
    for page in sorted(STORY.glob("*.html")):
        shutil.copy2(page, dest / page.name)
    return dest


@pytest.fixture(scope="session")
def story_service(tmp_path_factory: pytest.TempPathFactory, encoder: Encoder) -> QAService:
    """A QAService over the invented multi-outlet story (three HTML pages), built once."""
    tmp = tmp_path_factory.mktemp("story")
    service = QAService(make_settings(tmp, copy_story(tmp / "corpus")), encoder=encoder)
    service.rebuild()
    return service
