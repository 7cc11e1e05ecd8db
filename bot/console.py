"""The console chat: the same bot as in Discord, in a terminal.

It understands what Discord does: questions, follow-ups (a question right after another is
read with the earlier one as context when it needs it), `/stats [topic]`, `/sources`, `/help`,
and greetings, thanks and "help" as small talk. Output is plain text; in a terminal the cited
sentence among its context is shown in bold (ANSI), never as raw Markdown.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from typing import IO, Any

from bot.answer import render_text
from bot.dates import display_date, outlet_line
from bot.errors import BotError, UsageError
from bot.smalltalk import small_talk

PROMPT = "ask> "
QUIT = frozenset({"quit", "exit", ":q", "/quit", "/exit"})
#: ANSI bold on and off, for the cited sentence among its context in a terminal.
ANSI_BOLD = ("\033[1m", "\033[0m")
#: Without a terminal (a pipe, a file): the cited sentence between guillemets.
PLAIN_MARK = ("«", "»")

CONSOLE_HELP = (
    "I answer questions about the news articles in the index by quoting the sentences that best "
    "match, each cited with its article, sentence number, outlet and date.\n"
    "  a question          a cited answer; ask a follow-up right after (\"and how many russians?\")\n"
    "  /stats [topic]      key figures from the articles (all, or about a topic)\n"
    "  /sources            the articles in the index, by outlet and date\n"
    "  /help               this help\n"
    "  quit                leave (or Ctrl-D)"
)


def stats_lines(stats: Sequence[Any], topic: str | None = None) -> list[str]:
    """Key figures as console lines: `» figure (date) [disputed]`, then each citation and any
    earlier or other values. `stats` are `bot.stats.Stat` objects."""
    if not stats:
        return ["No figures found" + (f" about {topic!r}." if topic else ".")]
    lines = []
    for stat in stats:
        dated = stat.date and stat.unit != "date"
        flag = "  [disputed]" if stat.disputed else ""
        lines.append(f"» {stat.display}" + (f"  ({stat.date})" if dated else "") + flag)
        for c in stat.citations:
            where = outlet_line(c.source, c.published)
            lines.append(f'   "{c.text}" — {c.title}, {c.document} sentence {c.sentence}'
                         + (f" · {where}" if where else ""))
        for old in stat.history:
            first = old.citations[0]
            lines.append(f"   {'other value' if stat.disputed else 'earlier'}: {old.display} — "
                         f"{outlet_line(first.source or first.title, first.published)}")
    return lines


def sources_lines(docs: Sequence[Any], built_at: str) -> list[str]:
    """The indexed documents for `/sources`, by outlet (A-Z, unknown last), newest first, with
    passage counts, and the build time. `docs` are `bot.service.SourceInfo`."""
    total = sum(d.passages for d in docs)
    lines = [f"{len(docs)} documents, {total} passages (index built {built_at})"]
    ordered = sorted(docs, key=lambda d: (d.source is None, (d.source or "").lower(),
                                          -int((d.published or "0").replace("-", "")[:8] or 0),
                                          d.title.lower()))
    outlet: object = object()
    for doc in ordered:
        if doc.source != outlet:
            lines.append(doc.source or "Unknown outlet")
            outlet = doc.source
        when = display_date(doc.published)
        lines.append(f"  • {doc.title}" + (f" · {when}" if when else "") + f": {doc.passages} passages "
                     f"({doc.document})" + (f" {doc.url}" if doc.url else ""))
    return lines


class Console:
    """One console conversation over a `QAService`: turns each input line into output text.

    `bold` is the pair of strings around the cited sentence when context is shown.
    """

    def __init__(self, service: Any, bold: tuple[str, str] = PLAIN_MARK) -> None:
        self.service = service
        self.bold = bold
        self.earlier: list[Any] = []  # bot.followup.Turn, oldest first

    def handle(self, line: str) -> str | None:
        """The reply to one input line, or None for a blank line.

        Raises:
            BotError: a usage or index error (the caller prints it as one line).
        """
        text = line.strip()
        if not text:
            return None
        if text.startswith("/"):
            return self.command(text)
        talk = small_talk(text, CONSOLE_HELP)
        if talk is not None:
            return talk.reply
        return self.question(text)

    def command(self, text: str) -> str:
        """Run a `/command`: `/stats [topic]`, `/sources` or `/help`."""
        name, _, rest = text[1:].partition(" ")
        name = name.lower()
        if name == "help":
            return CONSOLE_HELP
        if name == "sources":
            docs, built_at = self.service.sources()
            return "\n".join(sources_lines(docs, built_at))
        if name == "stats":
            topic = rest.strip() or None
            return "\n".join(stats_lines(self.service.stats(topic), topic))
        if name == "ask" and rest.strip():
            return self.question(rest.strip())
        raise UsageError(f"unknown command /{name}: use /stats [topic], /sources or /help")

    def question(self, text: str) -> str:
        """Answer a question, with the conversation so far as context for a follow-up."""
        answer = self.service.ask(text, earlier=tuple(self.earlier))
        from bot.followup import Turn

        self.earlier = [*self.earlier, Turn.of(answer)][-3:]
        return render_text(answer, bold=self.bold)


def chat(service: Any, stdin: IO[str] | None = None, stdout: IO[str] | None = None,
         progress: Callable[[], tuple[Callable[[int, int], None], Callable[[], None]]] | None = None) -> int:
    """Interactive console that answers as the Discord bot does; `quit` or EOF ends it."""
    stdin = stdin or sys.stdin
    stdout = stdout or sys.stdout
    interactive = stdin.isatty()
    update, close = progress() if progress else (None, lambda: None)
    try:
        built = service.ensure_index(update)
    finally:
        close()
    if built is not None:
        print(f"Built the index: {built.summary()}", file=stdout)
    for notice in service.notices:
        print(f"⚠ {notice}", file=stdout)
    docs = len(service.index.documents)
    print(f"Ask about the {docs} article(s) in {service.corpus_dir}/ ('/help' for commands, "
          "'quit' to leave).", file=stdout)
    terminal = getattr(stdout, "isatty", lambda: False)()
    console = Console(service, ANSI_BOLD if terminal else PLAIN_MARK)
    while True:
        if interactive:
            print(PROMPT, end="", file=stdout, flush=True)
        line = stdin.readline()
        if not line:
            if interactive:
                print(file=stdout)
            break
        if line.strip().lower() in QUIT:
            break
        try:
            reply = console.handle(line)
        except BotError as exc:
            reply = f"error: {exc}"
        if reply is not None:
            print(reply + "\n", file=stdout, flush=True)
    return 0
