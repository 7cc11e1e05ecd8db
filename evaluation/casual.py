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
from dataclasses import dataclass
from pathlib import Path

from bot.corpus import normalise, read_document, segment

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
