"""Small talk: greetings, thanks and requests for help get a short reply instead of a search.

Front-end neutral and pure: `small_talk(text)` says whether a message is small talk and what
to answer; the console and Discord both ask it before searching, so "hi" never gets
"not covered" plus a random passage.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

#: What small talk can be: a greeting, thanks, or a request for help.
KINDS = ("greeting", "thanks", "help")

_GREETING = re.compile(
    r"(?:hi+|hello+|hey+|hiya|howdy|yo|greetings|good (?:morning|afternoon|evening|day)|hallo|hola"
    r"|morning|evening)(?: there| all| everyone| bot| newsbot)?")
_THANKS = re.compile(r"(?:thanks?(?: you| a lot| so much| very much)?|thx|ty|cheers|much appreciated"
                     r"|(?:great|nice|perfect|ok|okay|cool),? thanks?(?: you)?)")
_HELP = re.compile(r"(?:help|help me|\?+|what can you do|what do you do|how do(?:es)? (?:this|it|you) work"
                   r"|how do i (?:use|ask)(?: this| you)?|commands|usage|who are you)")
_TRAIL = re.compile(r"[\s!.,?:;)(*~-]+$|^[\s!.,:;(*~-]+")
#: Emoji and emoticons people add ("hi 👋", "thanks :)").
_DECOR = re.compile(r"[\U0001F300-\U0001FAFF\u2600-\u27BF]|[:;]-?[)(DP]")


@dataclass(frozen=True)
class SmallTalk:
    """A message that is small talk: its `kind` (one of `KINDS`) and the short `reply`."""

    kind: str
    reply: str


GREETING_REPLY = ("Hi! Ask me a question about the news articles, e.g. “How many North Korean soldiers "
                  "were deployed?”, and I'll quote the sentences that answer it, with citations.")
THANKS_REPLY = "You're welcome! Ask another question whenever you like."


def small_talk(text: str, help_text: str) -> SmallTalk | None:
    """The reply to a greeting, thanks or help request, or None for anything else (a question).

    Only whole messages match ("hi", "thanks!", "help?"), never a question that starts with
    such a word ("hi, how many soldiers were deployed?" is a question). `help_text` is what
    the calling front end says for "help" (its own commands).
    """
    words = " ".join(_DECOR.sub(" ", text or "").split()).lower()
    words = _TRAIL.sub("", words).strip()
    if words in ("", "?"):
        return SmallTalk("help", help_text) if (text or "").strip() else None
    if _GREETING.fullmatch(words):
        return SmallTalk("greeting", GREETING_REPLY)
    if _THANKS.fullmatch(words):
        return SmallTalk("thanks", THANKS_REPLY)
    if _HELP.fullmatch(words):
        return SmallTalk("help", help_text)
    return None
