"""What the web handlers share: configuration, the verifier, templates, texts, the bot."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jinja2
from aiohttp import web
from telegram.ext import Application

from handlers.core.context import SERVICES_KEY, DTeamContext, Services
from handlers.core.i18n import Texts
from storage.models import Run
from typology.scoring import Result
from web.initdata import Verifier

AnyApp = Application[Any, Any, Any, Any, Any, Any]
TEXTS_DIR = Path(__file__).resolve().parent / "texts"
# Sends a finished run's result, chart and profile card to the chat (what the chat's last
# answer does); bot/ passes the journey's function in, so web/ depends on no feature.
Deliver = Callable[[DTeamContext, int, int | None, Result, str, Run], Awaitable[None]]


# The page sends one request at a time; more at once from one user is a script. They are
# refused before they reach the database, as the chat's per-user queue drops a flood.
MAX_IN_FLIGHT = 2


class InFlight:
    """Counts each user's requests being processed; refuses those beyond a limit."""

    def __init__(self, limit: int = MAX_IN_FLIGHT) -> None:
        self.limit = limit
        self._count: dict[int, int] = {}

    @contextmanager
    def enter(self, user_id: int) -> Iterator[bool]:
        """Yields whether this request may go on (and counts it while it does)."""
        if self._count.get(user_id, 0) >= self.limit:
            yield False
            return
        self._count[user_id] = self._count.get(user_id, 0) + 1
        try:
            yield True
        finally:
            left = self._count[user_id] - 1
            if left:
                self._count[user_id] = left
            else:
                del self._count[user_id]  # idle users take no memory

    def __len__(self) -> int:
        return len(self._count)


@dataclass(frozen=True)
class WebConfig:
    """What the pages need from the settings (bot/ builds it; web/ never reads settings)."""

    bot_token: str
    public_url: str | None = None  # None: no Mini App buttons in the chat (pages still served)
    max_age: int = 86400


@dataclass
class Web:
    """The state the page and API handlers share, kept in the aiohttp app."""

    application: AnyApp
    config: WebConfig
    verify: Verifier
    templates: jinja2.Environment
    texts: Texts  # the app's own strings (web/texts/), checked like the chat's
    deliver: Deliver
    in_flight: InFlight = field(default_factory=InFlight)

    @property
    def services(self) -> Services:
        """Returns the handlers' services (database, questionnaire, texts)."""
        services = self.application.bot_data[SERVICES_KEY]
        assert isinstance(services, Services)
        return services


WEB: web.AppKey[Web] = web.AppKey("dteam_web", Web)
