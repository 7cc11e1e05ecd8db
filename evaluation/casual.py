"""The casual-question set (benchmarks/data/casual.jsonl): loader, split rule and checker.

Questions in the register of a chat ("whats the yuan pegged at", "who took over his seat") over
BBC News articles (`../shared/data/bbc-news`), written in our own words, plus out-of-scope
ones about news the corpus does not hold ("how much did musk pay for twitter"). One JSON object
a line:

    {"question": str, "document": "sport/012.txt" | null, "answer": str | null,
     "kind": str, "figure": str | null, "split": "tune" | "test"}

`answer` is a verbatim phrase of the one body sentence (not the headline) that answers;
`figure` is the figure text the "»" line should show for a how-many/how-much/when question
whose answer sentence states one (else null). `split` follows `split_for`, fixed before any
tuning: answerable questions are split by document (all questions of one article land in the
same half), out-of-scope ones by their text.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from bot.corpus import iter_corpus_files, normalise, read_document, segment

if TYPE_CHECKING:
    from bot.answer import Answer
    from bot.embed import Encoder
    from bot.stats import Stat

REPO = Path(__file__).resolve().parents[1]
CASUAL_SET = REPO / "benchmarks" / "data" / "casual.jsonl"
KINDS = frozenset({"who", "when", "why", "how many", "how much", "what", "where",
                   "what did X say", "yes-no", "oos"})
SPLITS = ("tune", "test")


@dataclass(frozen=True)
class CasualQuestion:
    """One row of the casual set; `document`, `answer` are None for out-of-scope questions."""

    qid: str
    question: str
    document: str | None
    answer: str | None
    kind: str
    figure: str | None
    split: str

    @property
    def answerable(self) -> bool:
        """True when the corpus holds the answer (the row names a document)."""
        return self.document is not None


def split_for(key: str) -> str:
    """"tune" when SHA-1 of `key` (UTF-8) is even as an integer, else "test".

    The key is the document id for answerable questions and the question text for
    out-of-scope ones.
    """
    return "tune" if int(hashlib.sha1(key.encode("utf-8")).hexdigest(), 16) % 2 == 0 else "test"


def normalised(text: str) -> str:
    """The product's normalisation of a phrase (NFKC, straight quotes) with spaces collapsed."""
    return " ".join(normalise(text)[0].split())


def load(path: Path = CASUAL_SET) -> list[CasualQuestion]:
    """Read the set; raises ValueError naming the line for a malformed row."""
    out = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            out.append(CasualQuestion(f"casual-{n}", row["question"], row["document"], row["answer"],
                                      row["kind"], row["figure"], row["split"]))
        except (json.JSONDecodeError, KeyError, TypeError) as exc:
            raise ValueError(f"{path}:{n}: malformed row ({exc})") from exc
    return out


def problems(questions: list[CasualQuestion], folder: Path) -> list[str]:
    """Every way the set breaks its own rules, one line each (empty when it is sound).

    Checks: kind and split values; the split follows `split_for`; an answerable row's answer
    occurs verbatim in the article file and, normalised, inside one body passage of the
    product's segmentation (not the headline); its figure occurs in that passage; an
    out-of-scope row has no answer or figure; no question appears twice.
    """
    out: list[str] = []
    seen: set[str] = set()
    passages_of: dict[str, list[str]] = {}
    for q in questions:
        where = f"{q.qid} ({q.question!r})"
        if q.question in seen:
            out.append(f"{where}: duplicate question")
        seen.add(q.question)
        if q.kind not in KINDS:
            out.append(f"{where}: unknown kind {q.kind!r}")
        key = q.document if q.document is not None else q.question
        if q.split != split_for(key):
            out.append(f"{where}: split {q.split!r} should be {split_for(key)!r}")
        if q.document is None:
            if q.kind != "oos" or q.answer is not None or q.figure is not None:
                out.append(f"{where}: an out-of-scope row has kind 'oos' and no answer or figure")
            continue
        if q.kind == "oos" or not q.answer:
            out.append(f"{where}: an answerable row needs an answer and a kind other than 'oos'")
            continue
        path = folder / q.document
        if not path.exists():
            out.append(f"{where}: no article {q.document}")
            continue
        if q.document not in passages_of:
            doc = read_document(path, folder)
            passages_of[q.document] = [p.text for p in segment(doc) if p.text != doc.title]
        if q.answer not in path.read_text(encoding="utf-8"):
            out.append(f"{where}: answer {q.answer!r} is not verbatim in {q.document}")
        answer = normalised(q.answer)
        holding = [t for t in passages_of[q.document] if answer in t]
        if not holding:
            out.append(f"{where}: answer {q.answer!r} is not inside one body sentence of {q.document}")
        elif q.figure is not None and not any(normalised(q.figure) in t for t in holding):
            out.append(f"{where}: figure {q.figure!r} is not in the answering sentence")
    return out


# ------------------------------------------------------------------------ evaluation

#: The CI sample: the questions of the first few documents (path order) of each section, every
#: few-th out-of-scope question, and every `SAMPLE_STRIDE`-th BBC article as distractors.
SAMPLE_DOCS_PER_SECTION, SAMPLE_OOS_EVERY, SAMPLE_STRIDE = 4, 4, 20
#: How deep the ranking metrics look (MRR@10).
DEPTH = 10
#: Questions that ask for a figure or a date, whatever the product's own question classifier
#: says: the "»" line is judged on these and on every row with a `figure`.
ASKS_FIGURE = re.compile(r"\b(?:how (?:many|much|long|old|big|far|high|fast|bad)|when|what year)\b", re.I)
FIGURE_OUTCOMES = ("right", "wrong", "rightly absent", "wrongly absent")


@dataclass(frozen=True)
class Outcome:
    """What the product did with one question in one mode.

    `rank`: 1-based rank of the first passage (of `DEPTH`, every hit kept) that answers
    (`is_hit`), or None. `covered`: the product's own decision
    (`Answer.answered`) with its default threshold. `figure`: one of `FIGURE_OUTCOMES`, or None
    for a question that neither asks for nor expects a figure.
    """

    question: CasualQuestion
    mode: str
    rank: int | None
    covered: bool
    figure: str | None
    shown: str | None = None


def sample(questions: Sequence[CasualQuestion]) -> list[CasualQuestion]:
    """The fixed CI subset (see `SAMPLE_DOCS_PER_SECTION`)."""
    docs = sorted({q.document for q in questions if q.document is not None})
    chosen: set[str] = set()
    for section in sorted({d.split("/")[0] for d in docs}):
        chosen.update([d for d in docs if d.startswith(section + "/")][:SAMPLE_DOCS_PER_SECTION])
    oos = [q for q in questions if q.document is None][::SAMPLE_OOS_EVERY]
    return [q for q in questions if q.document in chosen or q in oos]


def corpus_files(folder: Path, questions: Sequence[CasualQuestion], stride: int) -> list[Path]:
    """The questions' articles plus every `stride`-th article of `folder` (path order)."""
    keep = {q.document for q in questions if q.document is not None}
    return [f for i, f in enumerate(iter_corpus_files(folder))
            if i % stride == 0 or f.relative_to(folder).as_posix() in keep]


@contextmanager
def product_index(folder: Path, files: Sequence[Path] | None, encoder: Encoder) -> Iterator[tuple[Path, Path]]:
    """Build the product's index (`QAService.rebuild`, i.e. `bot.build.build`) in a temporary
    folder; yields `(corpus_dir, index_dir)`. `files` (under `folder`) are copied into a
    temporary corpus first; None indexes `folder` itself. Deleted afterwards."""
    from bot.config import Settings
    from bot.service import QAService

    with tempfile.TemporaryDirectory(prefix="newsqa-casual-") as tmp:
        root = Path(tmp)
        corpus = folder
        if files is not None:
            corpus = root / "corpus"
            for f in files:
                target = corpus / f.relative_to(folder)
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(f, target)
        settings = Settings(_env_file=None, corpus_dir=corpus, index_dir=root / "index",  # type: ignore[call-arg]
                            data_dir=root / "data", embedding_model=encoder.name)
        QAService(settings, encoder).rebuild()
        yield corpus, root / "index"


def is_hit(text: str, q: CasualQuestion) -> bool:
    """A passage (its normalised sentence `text`) answers `q` when it holds the normalised answer
    phrase: from `q.document`, from a document that also reports that sentence, or from a
    retelling: the BBC set files many stories twice in other words (`business/193.txt` and
    `business/219.txt`), and a retelling that states the same phrase answers the user as well.
    The set's answer phrases are specific enough not to occur in other stories (checked by
    hand over the corpus when they were written)."""
    return q.answer is not None and normalised(q.answer) in text


def figure_matches(stat: Stat, expected: str) -> bool:
    """Whether a shown figure is `expected` (verbatim figure text): same value(s) or date as
    `bot.quantities` reads from `expected`, or the same text once spaces and case are ignored."""
    from bot.quantities import find_quantities

    squash = "".join(normalised(expected).lower().split())
    if squash and squash in "".join(stat.display.lower().split()):
        return True
    for qty in find_quantities(normalised(expected)):
        if stat.unit == "date" and qty.date is not None and qty.date == stat.date:
            return True
        values = (qty.value, qty.low, qty.high)
        if any(v is not None for v in values) and values == (stat.value, stat.low, stat.high):
            return True
    return False


def figure_outcome(q: CasualQuestion, answer: Answer) -> tuple[str | None, str | None]:
    """`(outcome, shown display)` of the "»" line for `q` (see `FIGURE_OUTCOMES`)."""
    shown = answer.figures[0] if answer.figures else None
    display = shown.display if shown is not None else None
    if q.figure is None:
        if shown is None:
            return ("rightly absent" if ASKS_FIGURE.search(q.question) else None), None
        return "wrong", display
    if shown is None:
        return "wrongly absent", None
    return ("right" if any(figure_matches(f, q.figure) for f in answer.figures) else "wrong"), display


def evaluate(questions: Sequence[CasualQuestion], encoder: Encoder, modes: Sequence[str],
             folder: Path, files: Sequence[Path] | None) -> list[Outcome]:
    """Ask every question through `QAService.ask` over the product's own index of `folder`
    (or `files` of it), once per mode ("default": every setting at its default; otherwise
    RETRIEVAL_MODE set to the mode).

    Ranking comes from an ask with `k=DEPTH` and SCORE_THRESHOLD -1 (every hit kept, in the
    order the product shows them); "covered" and the figure from an ask with the default
    settings, exactly as a user gets it.
    """
    from bot.config import Settings
    from bot.service import QAService
    from evaluation.vector_cache import CachedEncoder

    out: list[Outcome] = []
    if isinstance(encoder, CachedEncoder):  # one batch instead of one forward pass per ask
        encoder.encode([" ".join(q.question.split()) for q in questions])
    with product_index(folder, files, encoder) as (corpus, index_dir):
        for mode in modes:
            base = {"corpus_dir": corpus, "index_dir": index_dir, "data_dir": index_dir.parent / "data",
                    "embedding_model": encoder.name}
            if mode != "default":
                base["retrieval_mode"] = mode
            user = QAService(Settings(_env_file=None, **base), encoder)  # type: ignore[call-arg, arg-type]
            ranking = QAService(Settings(_env_file=None, score_threshold=-1.0, **base), encoder)  # type: ignore[call-arg, arg-type]
            for q in questions:
                ranked = ranking.ask(q.question, k=DEPTH)
                rank = None
                if q.document is not None:
                    rank = next((h.rank for h in ranked.hits if is_hit(h.passage.text, q)), None)
                answer = user.ask(q.question)
                figure, shown = figure_outcome(q, answer)
                out.append(Outcome(q, mode, rank, answer.answered, figure, shown))
    return out


def metrics(outcomes: Sequence[Outcome]) -> dict[str, float]:
    """top1, top3, MRR@10 over answerable questions; "covered" recall (answerable marked
    covered) and precision (`P(covered)`: of those marked covered, the answerable share);
    "not covered" recall (`oos-not-covered`: out-of-scope marked not covered) and precision
    (`P(not covered)`: of those marked not covered, the out-of-scope share); figure outcome
    counts."""
    ans = [o for o in outcomes if o.question.answerable]
    oos = [o for o in outcomes if not o.question.answerable]
    n = max(len(ans), 1)
    covered_right = sum(o.covered for o in ans)
    covered_wrong = sum(o.covered for o in oos)
    m = {
        "top1": sum(1 for o in ans if o.rank == 1) / n,
        "top3": sum(1 for o in ans if o.rank is not None and o.rank <= 3) / n,
        "MRR@10": sum(1 / o.rank for o in ans if o.rank is not None) / n,
        "covered": covered_right / n,
        "oos-not-covered": (len(oos) - covered_wrong) / len(oos) if oos else 0.0,
        "P(covered)": covered_right / (covered_right + covered_wrong) if covered_right + covered_wrong else 0.0,
        "P(not covered)": ((len(oos) - covered_wrong) / (len(ans) - covered_right + len(oos) - covered_wrong)
                           if len(ans) - covered_right + len(oos) - covered_wrong else 0.0),
    }
    for name in FIGURE_OUTCOMES:
        m[f"fig {name}"] = float(sum(o.figure == name for o in outcomes))
    return m


def outcome_json(o: Outcome) -> dict[str, object]:
    """One outcome as a JSON object (for `python -m evaluation.casual`)."""
    q = o.question
    return {"qid": q.qid, "split": q.split, "mode": o.mode, "question": q.question, "document": q.document,
            "answer": q.answer, "kind": q.kind, "rank": o.rank, "covered": o.covered,
            "figure_expected": q.figure, "figure_shown": o.shown, "figure": o.figure}


def main(argv: Sequence[str] | None = None) -> int:
    """`python -m evaluation.casual [--sample] [--mode M]...`: one JSON line per question and
    mode (rank, covered, figure outcome) on stdout, to see which questions miss."""
    import argparse
    import sys

    from bot.config import Settings
    from bot.embed import Encoder
    from evaluation.data import BBC_NEWS
    from evaluation.vector_cache import CachedEncoder

    p = argparse.ArgumentParser(prog="python -m evaluation.casual", description=main.__doc__)
    p.add_argument("--sample", action="store_true", help="the CI sample instead of the whole set")
    p.add_argument("--mode", action="append", help="dense, bm25, hybrid or default (repeatable; default: default)")
    p.add_argument("--cache", default=str(Path(tempfile.gettempdir()) / "newsqa-eval-cache"))
    args = p.parse_args(argv)
    s = Settings()
    encoder = CachedEncoder(Encoder(s.model_name_or_path, s.embedding_backend, s.embedding_batch_size),
                            Path(args.cache))
    questions = load()
    files = None
    if args.sample:
        questions = sample(questions)
        files = corpus_files(BBC_NEWS, questions, SAMPLE_STRIDE)
    for o in evaluate(questions, encoder, args.mode or ["default"], BBC_NEWS, files):
        sys.stdout.write(json.dumps(outcome_json(o), ensure_ascii=False) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
