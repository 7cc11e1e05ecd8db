"""Domain errors. Each front end translates them at its edge: the CLI prints the message as
one line and exits non-zero, Discord shows it as a short ephemeral reply. Anything that is not
a `BotError` is a bug and is logged with its traceback.
"""

from __future__ import annotations


class BotError(Exception):
    """Base of every error whose message is meant for the user (one line, says the fix)."""


class UsageError(BotError):
    """The user asked for something malformed: an empty question, a bad option."""


class UnsupportedLanguageError(UsageError):
    """The question is in a language the configured model does not read."""


class IndexMissingError(BotError):
    """No built index where one is expected."""


class IndexCorruptError(BotError):
    """An index file is unreadable, truncated or inconsistent with its manifest."""


class ModelMismatchError(BotError):
    """The index was built with another embedding model or dimension than configured."""


class ReindexInProgressError(BotError):
    """A rebuild was asked for while another one is running."""


class EmptyCorpusError(BotError):
    """The corpus folder is missing or holds no readable article; nothing was built."""


class ModelLoadError(BotError):
    """The configured embedding model could not be loaded."""


class RayBuildError(BotError):
    """`--engine ray`: Ray is not installed, the cluster cannot be reached, or a worker kept
    failing; nothing was swapped in."""


class FetchError(BotError):
    """A page or feed could not be fetched or used: HTTP error, timeout, too big, wrong type,
    blocked by robots.txt, too many redirects, or no article text (the message says which)."""


REBUILD_HINT = "run `make build` (or `python -m bot build` in the virtual environment)"
