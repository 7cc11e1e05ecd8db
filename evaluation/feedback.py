"""Votes as test data: `python -m evaluation FILE.jsonl` (or `make eval DATASET=FILE.jsonl`)
runs a `python -m bot feedback export` file against the bot's corpus (CORPUS_DIR).

Each row is a question with the passages people judged: 👍 rows list them as `hits`, 👎 rows
as `misses` (each `{document, sentence, text}`). Reported, for the current retriever over the
current corpus: of the 👍 questions, the share whose top-3 still holds a passage voted good
("kept"), and of the 👎 questions, the share whose top-3 still shows a passage voted bad
("still shown"; lower is better).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

from bot.corpus import load_corpus
from bot.embed import Encoder
from bot.retrieve import retrieve_vector
from evaluation.harness import Row, build_corpus

TOP = 3


def load_feedback(path: Path) -> list[dict]:  # type: ignore[type-arg]
    """The rows of an export file.

    Raises:
        ValueError: a line is not a JSON object with a `question` and `hits`/`misses` lists.
    """
    rows = []
    for n, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise ValueError(f"{path}:{n}: not JSON ({exc.msg})") from None
        if not isinstance(row, dict) or not isinstance(row.get("question"), str) \
                or not isinstance(row.get("hits", []), list) or not isinstance(row.get("misses", []), list):
            raise ValueError(f"{path}:{n}: expected an object with question, hits and misses "
                             "(python -m bot feedback export)")
        rows.append(row)
    return rows


def eval_feedback(path: Path, encoder: Encoder, corpus_dir: Path, modes: Sequence[str],
                  cache_dir: Path | None) -> list[Row]:
    """Top-3 "kept" (👍) and "still shown" (👎) rates per mode over `corpus_dir`."""
    rows = load_feedback(path)
    corpus = build_corpus(load_corpus(corpus_dir).documents, encoder, cache_dir)
    index = corpus.index
    up = [r for r in rows if r.get("hits")]
    down = [r for r in rows if r.get("misses")]
    out = []
    def judged(row: dict, key: str) -> set[tuple[str, int]]:  # type: ignore[type-arg]
        return {(p["document"], int(p["sentence"])) for p in row.get(key, [])}

    for mode in modes:
        shown = {}
        for r in rows:
            hits = retrieve_vector(index, encoder.encode_query(r["question"]), r["question"], TOP, mode=mode).hits
            shown[id(r)] = {(h.passage.document, h.passage.sentence) for h in hits}
        kept = sum(bool(shown[id(r)] & judged(r, "hits")) for r in up)
        still = sum(bool(shown[id(r)] & judged(r, "misses")) for r in down)
        metrics = {"top-3 kept (up)": kept / max(len(up), 1), "top-3 still shown (down)": still / max(len(down), 1)}
        out.append(Row(f"feedback {Path(path).name}", "-", mode, metrics, len(rows),
                       {"passages": index.size, "up": len(up), "down": len(down)}))
    return out
