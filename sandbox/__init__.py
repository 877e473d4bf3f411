"""Local Telegram Bot API stand-in and simulated participants; imports no project package."""

from sandbox.context import Settings
from sandbox.server import BotApiServer

__all__ = ["BotApiServer", "Settings"]
