"""How well `bot.language.detect` tells English questions from others.

English: every SQuAD v1.1 dev question, the WikiQA test and TrecQA raw-test questions (from
`../shared/data`), each also lower-cased with its punctuation stripped (casual typing). Other
languages: `evaluation/data/questions-other-languages.tsv`, news questions we wrote in 22
languages. Reported: English questions refused (should be 0), others caught, per language.

Run: `python -m evaluation.language`.
"""

from __future__ import annotations

import csv
import json
import re
import sys
from collections import Counter
from pathlib import Path

from bot.language import detect
from evaluation.data import SQUAD_DEV, TRECQA_TEST, WIKIQA_TEST

OTHER = Path(__file__).resolve().parent / "data" / "questions-other-languages.tsv"


def english_questions() -> list[str]:
    """SQuAD dev, WikiQA test and TrecQA raw-test questions (deduplicated, in file order)."""
    out: list[str] = []
    if SQUAD_DEV.exists():
        for article in json.loads(SQUAD_DEV.read_text(encoding="utf-8"))["data"]:
            for para in article["paragraphs"]:
                out += [qa["question"] for qa in para["qas"]]
    if WIKIQA_TEST.exists():
        with WIKIQA_TEST.open(encoding="utf-8") as f:
            out += [row["Question"] for row in csv.DictReader(f, delimiter="\t")]
    toks = TRECQA_TEST / "a.toks"
    if toks.exists():
        out += toks.read_text(encoding="utf-8").splitlines()
    return list(dict.fromkeys(q.strip() for q in out if q.strip()))


def other_questions() -> list[tuple[str, str]]:
    """`(language code, question)` rows of our own multilingual set."""
    rows = [line.split("\t", 1) for line in OTHER.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [(code, text) for code, text in rows]


def casual(question: str) -> str:
    """Lower case, punctuation dropped: how questions are typed in a chat."""
    return " ".join(re.sub(r"[^\w\s']", " ", question.lower()).split())


def main() -> int:
    english = english_questions()
    refused = [q for q in english if detect(q) is not None]
    refused_casual = [q for q in english if detect(casual(q)) is not None]
    others = other_questions()
    caught = Counter(code for code, q in others if detect(q) is not None)
    total = Counter(code for code, _ in others)
    print(f"English questions: {len(english)}; refused {len(refused)} as written, "
          f"{len(refused_casual)} typed casually")
    for q in (refused + refused_casual)[:10]:
        print(f"  refused: {q}")
    print(f"Other languages: caught {sum(caught.values())} of {len(others)}")
    for code in sorted(total, key=lambda c: -total[c]):
        missed = [q for c, q in others if c == code and detect(q) is None]
        print(f"  {code}: {caught[code]}/{total[code]}" + (f"  missed: {missed[:3]}" if missed else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
