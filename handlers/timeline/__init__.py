"""Scheduled messages: planning (`plan`, pure), commands, the runner, actions and retention."""

from __future__ import annotations

from typing import Any

from telegram.ext import BaseHandler

from handlers.core.context import DTeamContext
from handlers.timeline import schedule


def handlers() -> list[BaseHandler[Any, DTeamContext, Any]]:
    """/schedule, /unschedule, /reminders and the reminders' opt-out button."""
    return schedule.handlers()
