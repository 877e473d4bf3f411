"""Adds the web pages to an aiohttp app: the one entry point bot/ wires in both run modes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import jinja2
from aiohttp import web
from telegram.ext import Application

from handlers.core.context import SERVICES_KEY, Services
from web.initdata import Verifier
from web.pages import STATIC_DIR, environment, render
from web.security import secure

AnyApp = Application[Any, Any, Any, Any, Any, Any]
APP_PATH = "/app/"  # the Mini App's page; its URL is public_url + APP_PATH
STATIC_PATH = "/static/"


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

    @property
    def services(self) -> Services:
        """Returns the handlers' services (database, questionnaire, texts)."""
        services = self.application.bot_data[SERVICES_KEY]
        assert isinstance(services, Services)
        return services


WEB: web.AppKey[Web] = web.AppKey("dteam_web", Web)


def add_web_routes(web_app: web.Application, application: AnyApp, config: WebConfig) -> Web:
    """Adds the pages, static files and security headers to web_app; returns the shared state."""
    secure(web_app)
    state = Web(application, config, Verifier(config.bot_token, config.max_age), environment())
    web_app[WEB] = state
    web_app.router.add_static(STATIC_PATH, STATIC_DIR, follow_symlinks=False)
    web_app.router.add_get(APP_PATH, _app_page)
    return state


def app_url(config: WebConfig) -> str | None:
    """Returns the Mini App's public URL, or None when the Mini App is off."""
    return None if config.public_url is None else config.public_url + APP_PATH


async def _app_page(request: web.Request) -> web.Response:
    """Serves the Mini App's shell; its script reads the launch data and asks the API."""
    state = request.app[WEB]
    lang = state.services.default_language
    return render(state.templates, "app.html", {"lang": lang})
