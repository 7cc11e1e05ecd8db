"""Stats stage: the figures the corpus states (areas, counts, money, dates), with citations.

Placeholder until the key-stats issue lands: extraction returns no stats yet.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from bot.corpus import Passage


@dataclass(frozen=True)
class Stat:
    """One figure stated in the corpus."""

    display: str

    def to_json(self) -> dict[str, Any]:
        return {"display": self.display}


def extract_stats(passages: Sequence[Passage]) -> list[Stat]:
    """Extract the figures stated in `passages` (not implemented yet: returns [])."""
    return []
