"""Command-line front end: `python -m bot [build|ask|chat|stats|add|feeds]`.

Exit status: 0 on success, 2 on a usage error, 1 on any other error (one line on stderr).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from bot.answer import render_text
from bot.config import Settings
from bot.errors import BotError, IndexCorruptError, ModelMismatchError, UsageError

log = logging.getLogger("bot")



def _settings(args: argparse.Namespace) -> Settings:
    overrides: dict[str, Any] = {}
    if getattr(args, "corpus", None):
        overrides["corpus_dir"] = Path(args.corpus)
    if getattr(args, "index", None):
        overrides["index_dir"] = Path(args.index)
    return Settings(**overrides)


def _service(args: argparse.Namespace):  # type: ignore[no-untyped-def]
    from bot.service import QAService

    return QAService(_settings(args))


def _progress_bar() -> tuple[Callable[[int, int], None], Callable[[], None]]:
    """An embedding progress bar on stderr, shown only when stderr is a terminal (tqdm's
    `disable=None`), so piped or logged output carries no carriage-return frames."""
    from tqdm import tqdm

    bar: list[tqdm] = []

    def update(done: int, total: int) -> None:
        if not bar:
            bar.append(tqdm(total=total, unit="passage", desc="embedding", file=sys.stderr, disable=None))
        bar[0].update(done - bar[0].n)

    def close() -> None:
        if bar:
            bar[0].close()

    return update, close


def cmd_build(args: argparse.Namespace) -> int:
    """Build the index and print what went in."""
    service = _service(args)
    update, close = _progress_bar()
    engine = None
    if args.engine == "ray":  # imports Ray only here
        from bot.ray_engine import RayEngine

        s = service.settings
        engine = RayEngine(s.model_name_or_path, s.embedding_backend, s.embedding_batch_size,
                           address=args.address, workers=args.workers)
    elif args.address or args.workers:
        raise UsageError("--address and --workers go with --engine ray")
    try:
        report = service.rebuild(update, engine=engine)
    finally:
        close()
        if engine is not None:
            engine.close()
    for note in report.notes:
        print(f"note: {note}")
    for skipped in report.skipped:
        print(f"skipped: {skipped.path} ({skipped.reason})")
    print(
        f"documents: {report.documents}\npassages: {report.passages}\n"
        f"duplicates dropped: {report.duplicates}\nskipped files: {len(report.skipped)}\n"
        f"stats: {report.stats}\nembedded: {report.embedded} (reused {report.reused})\n"
        f"seconds: {report.seconds:.2f}\nindex: {report.path}"
    )
    return 0


def cmd_ask(args: argparse.Namespace) -> int:
    """Answer one question, or one per line of standard input."""
    service = _service(args)
    as_of = getattr(args, "as_of", None)
    if args.question is not None:
        try:
            answer = service.ask(args.question, k=args.k, context=args.context, as_of=as_of)
        except (IndexCorruptError, ModelMismatchError):
            _heal(service)
            answer = service.ask(args.question, k=args.k, context=args.context, as_of=as_of)
        print(json.dumps(answer.to_json(), ensure_ascii=False) if args.json else render_text(answer, _bold()))
        service.wait_for_healing()
        return 0
    try:
        service.warm()  # load once, before the first question, so its `seconds` is the answer's alone
    except (IndexCorruptError, ModelMismatchError):
        _heal(service)
    status = 0
    asked = 0
    for line in sys.stdin:
        asked += 1
        question = line.rstrip("\r\n")
        try:
            question, context = _batch_line(question) if args.json else (question, [])
            earlier = _turns(service, context, args.k)
            answer = service.ask(question, k=args.k, context=args.context, as_of=as_of, earlier=earlier)
        except UsageError as exc:
            status = 2
            _emit_error(args, question, exc)
            continue
        if args.json:
            print(json.dumps(answer.to_json(), ensure_ascii=False), flush=True)
        else:
            print(f"Q: {question}\n{render_text(answer, _bold())}\n", flush=True)
    service.wait_for_healing()  # a rebuild started to heal the index finishes before exit
    if not asked:
        raise UsageError("no question: give one (python -m bot ask \"How many …?\") or pipe one per line")
    return status


def _bold() -> tuple[str, str]:
    from bot.console import ANSI_BOLD, PLAIN_MARK

    return ANSI_BOLD if sys.stdout.isatty() else PLAIN_MARK


def _turns(service: Any, context: Sequence[str], k: int | None) -> tuple[Any, ...]:
    """The conversation `context` (earlier questions, oldest first) as `bot.followup.Turn`s,
    each answered in turn as the console would have, so its cited documents are known."""
    from bot.followup import MAX_TURNS, Turn

    turns: list[Turn] = []
    for earlier in context[-MAX_TURNS:]:
        turns.append(Turn.of(service.ask(earlier, k=k, earlier=tuple(turns))))
    return tuple(turns)


def _batch_line(line: str) -> tuple[str, list[str]]:
    """A batch input line: a plain question, or `{"question": "…", "context": ["earlier", …]}`
    (earlier questions oldest first) for a follow-up. Returns the question and the context.

    Raises:
        UsageError: a JSON object without a string `question`, or a `context` not a list of strings.
    """
    if not line.lstrip().startswith("{"):
        return line, []
    try:
        row = json.loads(line)
    except json.JSONDecodeError as exc:
        raise UsageError(f"the line is not valid JSON ({exc.msg} at column {exc.colno})") from None
    if not isinstance(row, dict):
        raise UsageError('a JSON line must be an object {"question": …, "context": […]}')
    question, context = row.get("question"), row.get("context", [])
    if not isinstance(question, str):
        raise UsageError('a JSON line needs "question": a string')
    if not isinstance(context, list) or not all(isinstance(c, str) for c in context):
        raise UsageError('"context" must be a list of earlier questions (strings), oldest first')
    return question, [c for c in context if c.strip()]


def _heal(service) -> None:  # type: ignore[no-untyped-def]
    """Set an unusable index aside and serve the previous good build (or rebuild first); say so."""
    service.ensure_index(build_missing=False)
    for notice in service.notices:
        print(f"warning: {notice}", file=sys.stderr)


def _emit_error(args: argparse.Namespace, question: str, exc: Exception) -> None:
    if args.json:
        print(json.dumps({"question": question, "error": str(exc)}), flush=True)
    print(f"error: {exc}", file=sys.stderr)


def chat(service, stdin=None, stdout=None) -> int:  # type: ignore[no-untyped-def]
    """Interactive console that answers as the Discord bot does (see `bot.console`)."""
    from bot.console import chat as console_chat

    return console_chat(service, stdin, stdout, _progress_bar)


def cmd_stats(args: argparse.Namespace) -> int:
    """Print the corpus's key figures (all, or those about --topic) with their citations."""
    stats = _service(args).stats(args.topic)
    if args.json:
        print(json.dumps([s.to_json() for s in stats], ensure_ascii=False, indent=1))
        return 0
    from bot.console import stats_lines

    print("\n".join(stats_lines(stats, args.topic)))
    return 0


def cmd_sources(args: argparse.Namespace) -> int:
    """Print the indexed articles by outlet and date (what `/sources` shows), or --json."""
    docs, built_at = _service(args).sources()
    if args.json:
        print(json.dumps({"built_at": built_at, "documents": [
            {"document": d.document, "title": d.title, "source": d.source, "published": d.published,
             "url": d.url, "passages": d.passages} for d in docs]}, ensure_ascii=False, indent=1))
        return 0
    from bot.console import sources_lines

    print("\n".join(sources_lines(docs, built_at)))
    return 0


def cmd_add(args: argparse.Namespace) -> int:
    """Fetch pages into the corpus and rebuild; exit 1 when none could be added."""
    report, built = _service(args).add_urls(args.urls)
    for line in report.lines():
        print(line)
    if built is not None:
        print(f"index: {built.summary()}")
    failed = [r for r in report.refused if not r.duplicate]
    return 1 if failed and not report.added else 0


def cmd_feeds(args: argparse.Namespace) -> int:
    """One polling round over FEEDS (for cron), then a rebuild when anything was added."""
    service = _service(args)
    if not service.settings.feeds:
        raise UsageError("FEEDS is empty: set it to one or more RSS/Atom addresses, comma-separated")
    found, built = service.poll_feeds()
    for line in found.lines():
        print(line)
    print(f"feeds: {len(service.settings.feeds)}, articles added: {len(found.added)}")
    if built is not None:
        print(f"index: {built.summary()}")
    return 0


def cmd_feedback(args: argparse.Namespace) -> int:
    """`feedback export [--since DATE] [--out FILE]`: votes as JSON Lines `make eval` reads;
    `feedback stats`: counts."""
    import sqlite3

    from bot.dates import iso_date
    from bot.votes import VoteStore, export_row

    settings = _settings(args)
    store = VoteStore.in_data_dir(settings.data_dir)
    try:
        if args.action == "stats":
            counts = store.counts()
            print(f"votes: {counts.up + counts.down} ({counts.up} up, {counts.down} down)\n"
                  f"answers voted on: {counts.answers}\nreasons given: {counts.reasons}\ndatabase: {store.path}")
            return 0
        since = None
        if args.since:
            day = iso_date(args.since)
            if day is None:
                raise UsageError(f"--since {args.since!r} is not a date (e.g. 2025-01-31)")
            from datetime import UTC, datetime

            since = datetime.fromisoformat(day).replace(tzinfo=UTC)
        rows = [export_row(r) for r in store.rows(since)]
    except sqlite3.DatabaseError as exc:
        raise BotError(f"{store.path} is not a readable votes database ({exc}); move it aside and the bot "
                       "starts a new one") from None
    lines = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)
    if args.out:
        Path(args.out).write_text(lines, encoding="utf-8")
        print(f"wrote {len(rows)} votes to {args.out}", file=sys.stderr)
    else:
        sys.stdout.write(lines)
    return 0


def cmd_chat(args: argparse.Namespace) -> int:
    return chat(_service(args))


def cmd_default(args: argparse.Namespace) -> int:
    """Start the Discord bot when a token is configured, else the console chat."""
    settings = _settings(args)
    if settings.discord_token is not None and settings.discord_token.get_secret_value().strip():
        from bot.discord_app import run_bot

        return run_bot(settings)
    print("No DISCORD_TOKEN configured: starting the local console chat instead.", file=sys.stderr)
    from bot.service import QAService

    return chat(QAService(settings))


def _context(value: str) -> int:
    number = int(value)
    if not 0 <= number <= 10:
        raise argparse.ArgumentTypeError("must be between 0 and 10")
    return number


def _settings_error(exc: ValidationError) -> str:
    """One line naming each bad setting as its environment variable."""
    parts = []
    for err in exc.errors():
        name = "_".join(str(x) for x in err.get("loc", ())).upper() or "setting"
        parts.append(f"{name}: {err.get('msg', 'invalid')} (got {err.get('input')!r})")
    return "invalid setting " + "; ".join(parts) + " (see .env.example)"


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m bot", description="Cited answers from news articles.")
    p.add_argument("-v", "--verbose", action="store_true", help="log more")
    sub = p.add_subparsers(dest="command")

    def paths(sp: argparse.ArgumentParser) -> None:
        sp.add_argument("--corpus", metavar="DIR", help="corpus folder (default: CORPUS_DIR or corpus/)")
        sp.add_argument("--index", metavar="DIR", help="index folder (default: INDEX_DIR or index/)")

    b = sub.add_parser("build", help="build the index from the corpus")
    paths(b)
    b.add_argument("--engine", choices=("local", "ray"), default="local",
                   help="where to segment and embed: this process (default) or a Ray cluster "
                        "(pip install '.[ray]')")
    b.add_argument("--address", metavar="ADDR", default=None,
                   help="Ray cluster to use (e.g. ray://head:10001 or auto); default: start one here")
    b.add_argument("--workers", type=int, metavar="N", default=None,
                   help="Ray actors, each with a model copy (default: one per CPU of the cluster)")
    b.set_defaults(func=cmd_build)

    a = sub.add_parser("ask", help="answer a question (or one per line of stdin)")
    a.add_argument("question", nargs="?", help="the question; omit to read questions from stdin")
    a.add_argument("--k", type=int, default=None, help="passages to show (1-25, default TOP_K)")
    a.add_argument("--context", type=_context, default=None,
                   help="neighbouring sentences to add on each side (0-10, default CONTEXT_SENTENCES)")
    a.add_argument("--json", action="store_true", help="print JSON (JSON Lines from stdin)")
    a.add_argument("--as-of", metavar="DATE", dest="as_of",
                   help="answer only from articles published on or before DATE (e.g. 2025-01-31)")
    paths(a)
    a.set_defaults(func=cmd_ask)

    ad = sub.add_parser("add", help="fetch web pages into the corpus and rebuild")
    ad.add_argument("urls", nargs="+", metavar="URL", help="http(s) addresses of articles")
    paths(ad)
    ad.set_defaults(func=cmd_add)

    fd = sub.add_parser("feeds", help="poll the RSS/Atom feeds in FEEDS")
    fd.add_argument("--once", action="store_true", required=True,
                    help="one round, then exit (the running bot polls every FEED_POLL_MINUTES)")
    paths(fd)
    fd.set_defaults(func=cmd_feeds)

    st = sub.add_parser("stats", help="list the key figures (all, or about a topic)")
    st.add_argument("--topic", metavar="TEXT", help="only figures about this topic (matched by meaning)")
    st.add_argument("--json", action="store_true", help="print a JSON list")
    paths(st)
    st.set_defaults(func=cmd_stats)

    so = sub.add_parser("sources", help="list the indexed articles by outlet and date")
    so.add_argument("--json", action="store_true", help="print JSON")
    paths(so)
    so.set_defaults(func=cmd_sources)

    fb = sub.add_parser("feedback", help="votes on answers: export as eval data, or counts")
    fb.add_argument("action", choices=["export", "stats"])
    fb.add_argument("--since", metavar="DATE", help="export only votes on or after DATE (UTC)")
    fb.add_argument("--out", metavar="FILE", help="write the JSON Lines here (default: stdout)")
    fb.set_defaults(func=cmd_feedback)

    c = sub.add_parser("chat", help="interactive console chat")
    paths(c)
    c.set_defaults(func=cmd_chat)

    p.set_defaults(func=cmd_default, corpus=None, index=None)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    level = logging.INFO if args.verbose else logging.WARNING
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")
    for handler in logging.getLogger().handlers:  # a library that sets its own logger to DEBUG
        handler.setLevel(level)                    # (bm25s does, on import) prints nothing below it
    try:
        settings = Settings()
    except ValidationError:
        settings = None  # reported by the command that reads the settings
    if settings is not None and settings.log_format == "json":
        from bot.logs import configure

        token = settings.discord_token.get_secret_value().strip() if settings.discord_token else ""
        configure("json", logging.INFO if args.verbose else logging.WARNING, token)
    if not args.verbose:
        for noisy in ("sentence_transformers", "transformers", "faiss", "bm25s", "httpx"):
            logging.getLogger(noisy).setLevel(logging.ERROR)
    try:
        status = int(args.func(args))
        sys.stdout.flush()  # inside the try: a reader that has gone shows here, not at exit
        return status
    except UsageError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except ValidationError as exc:
        print(f"error: {_settings_error(exc)}", file=sys.stderr)
        return 2
    except BotError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # `... | head` stopped reading: nothing more to say
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())  # so the interpreter's final flush is quiet too
        return 0
    except Exception as exc:  # noqa: BLE001 - last resort at the edge: one line, then the log
        # -v shows the traceback (INFO and above are shown with -v); without it, one line.
        if args.verbose:
            log.error("unexpected error", exc_info=True)
            print(f"error: {type(exc).__name__}: {exc}", file=sys.stderr)
        else:
            print(f"error: {type(exc).__name__}: {exc} (run with -v for details)", file=sys.stderr)
        return 1
