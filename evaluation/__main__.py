"""`python -m evaluation DATASET [--mode dense|bm25|hybrid|rerank|all] [--json] [--markdown FILE]` (see `harness`)."""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m evaluation",
                                description="Measure retrieval and answer quality on QA data.")
    p.add_argument("dataset", help="seed, squad-dev, squad-dev-sample, wikiqa-test, trecqa-test, "
                   "bbc-paraphrase, casual, casual-sample, threshold or all")
    p.add_argument("--mode", default="all", help="dense, bm25, hybrid, rerank, default or all (default)")
    p.add_argument("--backend", default=None, help="encoder backend (default: EMBEDDING_BACKEND)")
    p.add_argument("--json", action="store_true", help="print the rows as JSON")
    p.add_argument("--cache", default=str(Path(tempfile.gettempdir()) / "newsqa-eval-cache"),
                   help="folder for cached corpus embeddings (outside the repo)")
    p.add_argument("--no-cache", action="store_true", help="embed everything afresh")
    p.add_argument("--markdown", metavar="FILE", help="also write the README's side-by-side table")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    from bot.config import Settings
    from bot.embed import Encoder
    from evaluation import harness

    try:
        modes = harness.modes_for(args.mode)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    s = Settings()
    encoder = Encoder(s.model_name_or_path, args.backend or s.embedding_backend, s.embedding_batch_size)
    cache = None if args.no_cache else Path(args.cache)
    try:
        rows = harness.run(args.dataset, encoder, modes, cache, lambda m: print(m, file=sys.stderr))
    except (ValueError, FileNotFoundError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(json.dumps([asdict(r) for r in rows], indent=1) if args.json else harness.format_table(rows))
    if args.markdown:
        Path(args.markdown).write_text(harness.markdown_table(rows, s.retrieval_mode), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
