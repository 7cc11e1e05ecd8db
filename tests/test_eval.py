"""The evaluation harness: metric arithmetic, and the CI regression gate on seed + a SQuAD sample.

The gate fails when MRR@10 of the default retrieval mode on the fixed 500-question SQuAD dev
sample drops more than `TOLERANCE` below the figure recorded in benchmarks/baseline.json
(refresh that file with `python -m evaluation squad-dev-sample --json` when a change is meant to
move it).
"""

from __future__ import annotations

import json

import pytest

from bot.config import Settings
from bot.embed import Encoder
from evaluation import harness as evaluation
from tests.conftest import REPO, requires_shared

BASELINE = json.loads((REPO / "benchmarks" / "baseline.json").read_text(encoding="utf-8"))
TOLERANCE = 0.01
DEFAULT_MODE = Settings(_env_file=None).retrieval_mode  # type: ignore[call-arg]


@pytest.mark.parametrize(
    ("ranks", "expected"),
    [
        ([1, 2, None, 10], {"R@1": 0.25, "R@5": 0.5, "R@10": 0.75, "MRR@10": (1 + 0.5 + 0.1) / 4}),
        ([None, None], {"R@1": 0.0, "R@5": 0.0, "R@10": 0.0, "MRR@10": 0.0}),
        ([11], {"R@1": 0.0, "R@5": 0.0, "R@10": 0.0, "MRR@10": 0.0}),
        ([], {"R@1": 0.0, "R@5": 0.0, "R@10": 0.0, "MRR@10": 0.0}),
    ],
)
def test_recall_mrr_counts_first_hit_ranks(ranks: list[int | None], expected: dict[str, float]) -> None:
    assert evaluation.recall_mrr(ranks) == pytest.approx(expected)


@pytest.mark.parametrize(
    ("labels", "ap"),
    [([1, 0, 0], 1.0), ([0, 1, 0, 1], (1 / 2 + 2 / 4) / 2), ([0, 0], 0.0), ([1, 1], 1.0)],
)
def test_average_precision_matches_hand_computed(labels: list[int], ap: float) -> None:
    assert evaluation.average_precision(labels) == pytest.approx(ap)


def test_first_hit_rank_is_one_based_and_none_when_missing() -> None:
    assert evaluation.first_hit_rank([7, 3, 9], {3, 9}) == 2
    assert evaluation.first_hit_rank([7], {3}) is None


def test_squad_sample_is_fixed_and_from_tuning_articles() -> None:
    requires_shared("squad-v1.1", "dev-v1.1.json")
    _, questions = evaluation.eval_data.squad_dev()
    sample = evaluation.squad_sample(questions)
    assert len(sample) == 500
    assert sample == evaluation.squad_sample(questions)
    assert {q.split for q in sample} == {"tuning"}


def test_seed_questions_rank_their_sentence_first_in_default_mode(encoder: Encoder) -> None:
    [row] = evaluation.eval_seed(encoder, (DEFAULT_MODE,))
    assert row.metrics["R@1"] == 1.0


def test_squad_sample_mrr_holds_the_recorded_baseline(encoder: Encoder) -> None:
    requires_shared("squad-v1.1", "dev-v1.1.json")
    rows = evaluation.eval_squad(encoder, (DEFAULT_MODE,), None, sample=500)
    mrr = rows[0].metrics["MRR@10"]
    recorded = BASELINE["squad-dev-sample500"][DEFAULT_MODE]["MRR@10"]
    assert mrr >= recorded - TOLERANCE, f"MRR@10 {mrr:.4f} fell below the recorded {recorded:.4f}"
