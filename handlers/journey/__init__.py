"""A participant's journey in private chat: start, consent, questions, result and card."""

from __future__ import annotations

from typing import Any

from telegram.ext import BaseHandler

from handlers.core.context import DTeamContext
from handlers.journey import cards, offer, questionnaire, start


def handlers() -> list[BaseHandler[Any, DTeamContext, Any]]:
    """/start and its buttons, answers, the card's "more" button, the workshop offer.

    `info`'s guards, commands and catch-alls are registered by `bot/app.py` around all features.
    """
    return [*start.handlers(), *questionnaire.handlers(), *cards.handlers(), *offer.handlers()]
