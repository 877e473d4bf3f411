"""The plumbing every feature shares; its own handlers watch the group and its admins."""

from __future__ import annotations

from typing import Any

from telegram.ext import BaseHandler

from handlers.core import moderation, permissions
from handlers.core.context import DTeamContext


def handlers() -> list[BaseHandler[Any, DTeamContext, Any]]:
    """Group commands asked privately, group migration, and member changes (cached rights)."""
    return [*moderation.handlers(), *permissions.handlers()]
