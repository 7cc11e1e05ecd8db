"""The build on Ray (`--engine ray`) against the local build, on a real 2-CPU local cluster.

The Ray tests are marked `ray`: `make test` leaves them out, `make test-ray` installs the extra
and runs them; without Ray installed they are skipped.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from bot.config import Settings
from bot.embed import Encoder
from bot.errors import RayBuildError
from bot.index import Index, current_build, load_index
from bot.service import QAService
from tests.conftest import REPO, SEED_QUESTIONS, copy_seed, copy_story, make_settings

MODEL = "all-MiniLM-L6-v2 (packaged)"


def test_nothing_of_ray_is_imported_without_engine_ray() -> None:
    code = ("import sys, bot.cli, bot.build, bot.service, bot.index\n"
            "bot.cli.parser().parse_args(['build'])\n"
            "print(sorted(m for m in sys.modules if m == 'ray' or m.startswith('ray.')))")
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True,
                         timeout=120, check=True)
    assert out.stdout.strip() == "[]"


def test_engine_ray_without_ray_installed_says_how_to_install(tmp_path: Path) -> None:
    code = ("import sys; sys.modules['ray'] = None\n"  # as if not installed
            "from bot.ray_engine import RayEngine\n"
            "from bot.errors import RayBuildError\n"
            "try:\n    RayEngine('m')\nexcept RayBuildError as e:\n    print(e)\n")
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True,
                         timeout=120, check=True)
    assert "pip install '.[ray]'" in out.stdout


@pytest.fixture(scope="module")
def cluster() -> Iterator[object]:
    """A real local Ray cluster of 2 CPUs for this module, shut down at the end."""
    ray = pytest.importorskip("ray")
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, object_store_memory=256 * 1024 * 1024)
    try:
        yield ray
    finally:
        ray.shutdown()


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return copy_story(copy_seed(tmp_path_factory.mktemp("raycorpus") / "corpus"))


@pytest.fixture(scope="module")
def local_service(tmp_path_factory: pytest.TempPathFactory, corpus: Path, encoder: Encoder) -> QAService:
    service = QAService(make_settings(tmp_path_factory.mktemp("local"), corpus), encoder=encoder)
    service.rebuild()
    return service


@pytest.fixture(scope="module")
def local(local_service: QAService) -> Index:
    return local_service.index


@pytest.fixture
def engine(cluster: object) -> Iterator[object]:
    from bot.ray_engine import RayEngine

    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    # Small tasks, so that a build of this corpus is many of them and a kill lands mid-build.
    with RayEngine(settings.model_name_or_path, workers=2, texts_per_task=8) as ray_engine:
        yield ray_engine


def assert_same_index(ray_index: Index, local: Index) -> None:
    assert list(ray_index.passages) == list(local.passages)  # format 3: SQLite-backed sequences
    assert dict(ray_index.documents) == dict(local.documents)
    assert [s.to_json() for s in ray_index.stats] == [s.to_json() for s in local.stats]
    cosines = np.sum(np.asarray(ray_index.embeddings) * np.asarray(local.embeddings), axis=1)
    assert ray_index.embeddings.shape == local.embeddings.shape and float(cosines.min()) >= 0.9999
    assert ray_index.path.name.startswith("build-")
    assert not list(ray_index.path.parent.glob(".tmp-build-*"))


@pytest.mark.ray
def test_ray_build_gives_the_local_index(tmp_path: Path, corpus: Path, local: Index, engine: object,
                                         encoder: Encoder, local_service: QAService) -> None:
    service = QAService(make_settings(tmp_path, corpus), encoder=encoder)
    report = service.rebuild(engine=engine)  # type: ignore[arg-type]
    assert report.embedded == report.passages == local.size
    ray_index = load_index(tmp_path / "index", MODEL, 384)
    assert ray_index.manifest["engine"] == "ray"
    assert_same_index(ray_index, local)
    for question, _ in SEED_QUESTIONS:
        mine, theirs = service.ask(question), local_service.ask(question)
        assert [h.passage for h in mine.hits] == [h.passage for h in theirs.hits]
        assert [f.to_json() for f in mine.figures] == [f.to_json() for f in theirs.figures]
    # Incremental: an unchanged corpus reuses everything, on Ray as locally.
    again = service.rebuild(engine=engine)  # type: ignore[arg-type]
    assert (again.embedded, again.reused) == (0, local.size)


@pytest.mark.ray
def test_a_worker_killed_mid_build_is_retried_and_the_index_is_whole(
        tmp_path: Path, corpus: Path, local: Index, engine: object, encoder: Encoder,
        cluster: object) -> None:
    pids = cluster.get([w.pid.remote() for w in engine.workers])  # type: ignore[attr-defined]
    killed: list[int] = []

    def progress(done: int, total: int) -> None:
        if not killed and done < total:
            os.kill(pids[0], signal.SIGKILL)  # a worker process dies mid-build
            killed.append(pids[0])

    service = QAService(make_settings(tmp_path, corpus), encoder=encoder)
    report = service.rebuild(progress, engine=engine)  # type: ignore[arg-type]
    assert killed and report.embedded == local.size
    assert_same_index(load_index(tmp_path / "index", MODEL, 384), local)
    after = cluster.get([w.pid.remote() for w in engine.workers])  # type: ignore[attr-defined]
    assert after[0] != pids[0]  # restarted


@pytest.mark.ray
def test_a_worker_lost_for_good_fails_the_build_and_the_old_index_serves(
        tmp_path: Path, corpus: Path, local: Index, cluster: object, encoder: Encoder,
        local_service: QAService) -> None:
    from bot.ray_engine import RayEngine

    service = QAService(make_settings(tmp_path, corpus), encoder=encoder)
    service.rebuild()  # the old index, built locally
    before = current_build(tmp_path / "index")
    (corpus / "late.txt").write_text("Late news\n\nA bridge over the Severn closed on Tuesday.\n", encoding="utf-8")
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    try:
        with RayEngine(settings.model_name_or_path, workers=1, retries=0, texts_per_task=1) as fragile:
            pid = cluster.get(fragile.workers[0].pid.remote())  # type: ignore[attr-defined]

            def progress(done: int, total: int) -> None:
                os.kill(pid, signal.SIGKILL)

            with pytest.raises(RayBuildError, match="keeps serving"):
                service.rebuild(progress, engine=fragile)
    finally:
        (corpus / "late.txt").unlink()
    assert current_build(tmp_path / "index") == before
    assert not list((tmp_path / "index").glob(".tmp-build-*"))
    assert load_index(tmp_path / "index", MODEL, 384).size == local.size
    question, _ = SEED_QUESTIONS[1]
    assert service.ask(question).hits[0].passage.text == local_service.ask(question).hits[0].passage.text
