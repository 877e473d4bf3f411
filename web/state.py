"""What the web handlers share: configuration, the verifier, templates, texts, the bot."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
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

    @property
    def services(self) -> Services:
        """Returns the handlers' services (database, questionnaire, texts)."""
        services = self.application.bot_data[SERVICES_KEY]
        assert isinstance(services, Services)
        return services


WEB: web.AppKey[Web] = web.AppKey("dteam_web", Web)
