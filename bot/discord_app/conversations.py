"""Which Discord messages continue a conversation: replies to an answer, messages in a thread
started from an answer, and the Follow up button. Keeps each answer's turns in memory."""

from __future__ import annotations

from collections import OrderedDict

import discord

from bot.followup import MAX_TURNS, Turn

#: Answers remembered (message and thread ids), oldest forgotten first.
MAX_CONVERSATIONS = 10_000


class Conversations:
    """The turns behind each answer message (and each thread continuing one), bounded LRU.

    An answer's entry is the conversation up to and including it (oldest first, at most
    `MAX_TURNS`), so a follow-up to it is asked with those turns as `earlier`.
    """

    def __init__(self, limit: int = MAX_CONVERSATIONS) -> None:
        self.limit = limit
        self._turns: OrderedDict[int, tuple[Turn, ...]] = OrderedDict()

    def remember(self, key: int, turns: tuple[Turn, ...]) -> None:
        """Record the turns of the answer message (or thread) `key`."""
        self._turns[key] = turns[-MAX_TURNS:]
        self._turns.move_to_end(key)
        while len(self._turns) > self.limit:
            self._turns.popitem(last=False)

    def get(self, key: int | None) -> tuple[Turn, ...] | None:
        """The turns behind `key`, or None when it is not one of our answers (or forgotten)."""
        if key is None:
            return None
        return self._turns.get(key)

    def earlier_for(self, message: discord.Message, bot_id: int) -> tuple[tuple[Turn, ...], int | None] | None:
        """The conversation `message` continues, and the key to remember its answer under
        (a thread's id, so the thread goes on; None for a reply): a reply to one of our answers
        (forgotten ones are read back from the answer's title), or a message in a thread started
        from an answer. None when it starts nothing of ours."""
        ref = message.reference
        if ref is not None and ref.message_id is not None:
            known = self.get(ref.message_id)
            if known is not None:
                return known, None
            resolved = ref.resolved
            if isinstance(resolved, discord.Message) and resolved.author.id == bot_id and resolved.embeds:
                title = resolved.embeds[0].title
                if title:
                    return (Turn(title, title),), None
        channel = message.channel
        if isinstance(channel, discord.Thread):
            known = self.get(channel.id)
            if known is not None:
                return known, channel.id
        return None
