"""The evaluation harness: metric arithmetic, and the CI regression gate on seed + a SQuAD sample.

The gate fails when MRR@10 of the default retrieval mode on the fixed 500-question SQuAD dev
sample drops more than `TOLERANCE` below the figure recorded in benchmarks/baseline.json
(refresh that file with `python -m evaluation squad-dev-sample --json` when a change is meant to
move it).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.config import Settings
from bot.embed import Encoder
from evaluation import harness as evaluation
from tests.conftest import REPO, requires_shared

BASELINE = json.loads((REPO / "benchmarks" / "baseline.json").read_text(encoding="utf-8"))
TOLERANCE = 0.01
#: The casual sample gate: distractor stride, and floors measured on main minus a margin.
CASUAL_TEST_STRIDE = 200
CASUAL_TOP3_FLOOR = 0.60
CASUAL_COVERED_FLOOR = 0.80
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


def test_casual_set_answers_are_verbatim_body_sentences_and_splits_follow_the_rule() -> None:
    from evaluation import casual

    folder = requires_shared("bbc-news", "articles")
    questions = casual.load()
    assert casual.problems(questions, folder) == []
    answerable = [q for q in questions if q.answerable]
    assert {q.document.split("/")[0] for q in answerable if q.document} == {
        "business", "entertainment", "politics", "sport", "tech"}
    assert {q.split for q in questions} == {"tune", "test"}
    assert any(not q.answerable for q in questions)


def test_casual_checker_reports_a_paraphrased_answer_and_a_wrong_split(tmp_path: Path) -> None:
    from evaluation import casual

    folder = tmp_path / "articles"
    (folder / "tech").mkdir(parents=True)
    (folder / "tech" / "001.txt").write_text(
        "Chip firm grows\n\nThe firm sold 11,000 chips in May. Its boss was pleased.\n", encoding="utf-8")
    doc = "tech/001.txt"
    good = casual.CasualQuestion("q1", "how many chips", doc, "sold 11,000 chips", "how many", "11,000",
                                 casual.split_for(doc))
    assert casual.problems([good], folder) == []
    wrong_split = "test" if good.split == "tune" else "tune"
    bad = [
        casual.CasualQuestion("q2", "how many chips did they sell", doc, "sold 11000 chips", "how many",
                              None, good.split),
        casual.CasualQuestion("q3", "who was pleased", doc, "Chip firm grows", "who", None, good.split),
        casual.CasualQuestion("q4", "whos the boss", doc, "boss was pleased", "who", None, wrong_split),
        casual.CasualQuestion("q5", "when did they sell chips in may", doc, "11,000 chips in May. Its boss",
                              "when", None, good.split),
    ]
    found = casual.problems(bad, folder)
    assert any("q2" in p and "not verbatim" in p for p in found)
    assert any("q3" in p and "body sentence" in p for p in found)
    assert any("q4" in p and "split" in p for p in found)
    assert any("q5" in p and "one body sentence" in p for p in found)


def test_casual_sample_finds_the_answering_sentence_in_the_top_three(encoder: Encoder) -> None:
    """A user's casual questions (both halves of the CI sample) over their articles plus every
    200th BBC article: the sentence that answers is among the three shown for most of them, and
    answerable questions are not turned away as "not covered"."""
    requires_shared("bbc-news", "articles")
    rows = evaluation.eval_casual(encoder, ("default",), None, sample=True, stride=CASUAL_TEST_STRIDE)
    n = sum(r.questions for r in rows)
    top3 = sum(r.metrics["top3"] * r.questions for r in rows) / n
    covered = sum(r.metrics["covered"] * r.questions for r in rows) / n
    assert n >= 60
    assert top3 >= CASUAL_TOP3_FLOOR, f"top-3 hit rate {top3:.3f} fell below {CASUAL_TOP3_FLOOR}"
    assert covered >= CASUAL_COVERED_FLOOR, f"covered {covered:.3f} fell below {CASUAL_COVERED_FLOOR}"


def test_markdown_table_puts_the_modes_side_by_side_and_bolds_the_best() -> None:
    rows = [evaluation.Row("wikiqa-test", "test", m, {"MAP": v, "MRR": v + 0.01}, 243)
            for m, v in (("dense", 0.72), ("bm25", 0.60), ("hybrid", 0.70), ("rerank", 0.73))]
    table = evaluation.markdown_table(rows, "rerank")
    head, _, line = table.splitlines()
    assert head == "| dataset | dense | bm25 | hybrid (old default) | rerank (default) |"
    assert line == ("| WikiQA test, MAP / MRR (n=243) | 0.720 / 0.730 | 0.600 / 0.610 | 0.700 / 0.710 "
                    "| **0.730** / **0.740** |")


def test_casual_metrics_give_precision_and_recall_of_both_decisions() -> None:
    from evaluation import casual

    def outcome(answerable: bool, covered: bool) -> casual.Outcome:
        q = casual.CasualQuestion("q", "whats up", "tech/001.txt" if answerable else None,
                                  "up" if answerable else None, "what" if answerable else "oos", None, "test")
        return casual.Outcome(q, "rerank", 1 if answerable else None, covered, None)

    m = casual.metrics([outcome(True, True), outcome(True, True), outcome(True, False),
                        outcome(False, False), outcome(False, True)])
    assert m["covered"] == pytest.approx(2 / 3)
    assert m["P(covered)"] == pytest.approx(2 / 3)
    assert m["oos-not-covered"] == pytest.approx(1 / 2)
    assert m["P(not covered)"] == pytest.approx(1 / 2)
