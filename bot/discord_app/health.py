"""The bot's `/healthz` verdict, and starting the metrics server from settings."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from bot.metrics import HealthServer

if TYPE_CHECKING:
    from bot.discord_app.app import NewsBot

log = logging.getLogger("bot.discord")


def health(bot: NewsBot) -> tuple[bool, str]:
    """`(healthy, reason)`: healthy when every shard of this process is connected to Discord and
    an index is loaded; otherwise the first reason it is not."""
    index = bot.service.loaded_index
    if index is None:
        return False, "no index loaded"
    if bot.is_closed():
        return False, "not connected to Discord: the client is closed"
    if not bot.is_ready():
        return False, "not connected to Discord yet"
    shards = getattr(bot, "shards", {})
    down = sorted(i for i, shard in shards.items() if shard.is_closed())
    if down:
        return False, f"not connected to Discord: shard {', '.join(map(str, down))} disconnected"
    count = len(shards) or 1
    return True, f"ok: {count} shard(s) connected, {len(index.passages)} passages indexed"


def start_health_server(bot: NewsBot) -> HealthServer | None:
    """Serve `/healthz` and `/metrics` when METRICS_PORT is set (None otherwise)."""
    s = bot.settings
    if s.metrics_port is None:
        return None
    return HealthServer(bot.metrics, lambda: health(bot), s.metrics_host, s.metrics_port).start()
