"""Discord front end: `run_bot(settings)` starts the bot; `create_bot` builds it for tests.

The only package that imports `discord` (a folder named `discord/` would shadow the library).
"""

from bot.discord_app.app import NewsBot, create_bot
from bot.discord_app.runner import run_bot

__all__ = ["NewsBot", "create_bot", "run_bot"]
