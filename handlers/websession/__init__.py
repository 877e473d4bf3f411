"""The moderated workshop in a group: opening, live message, D-Team post, teams, export."""

from __future__ import annotations

from typing import Any

from telegram.ext import BaseHandler

from handlers.core.context import DTeamContext
from handlers.websession import beamer, moderator_tools, summary, teams, workshop


def handlers() -> list[BaseHandler[Any, DTeamContext, Any]]:
    """/session, /close, /reopen, /reset, /summary, /teams, /status, /export and /beamer."""
    return [
        *workshop.handlers(),
        *summary.handlers(),
        *teams.handlers(),
        *moderator_tools.handlers(),
        *beamer.handlers(),
    ]
