"""Adds the web pages to an aiohttp app: the one entry point bot/ wires in both run modes."""

from __future__ import annotations

from aiohttp import web

from handlers.core.i18n import Texts
from web import api
from web.initdata import Verifier
from web.pages import STATIC_DIR, environment, render
from web.presenter.routes import add_screen_routes
from web.security import secure
from web.state import TEXTS_DIR, WEB, AnyApp, Deliver, Web, WebConfig

APP_PATH = "/app/"  # the Mini App's page; its URL is public_url + APP_PATH
STATIC_PATH = "/static/"

__all__ = ["APP_PATH", "WebConfig", "add_web_routes", "app_url"]


def add_web_routes(
    web_app: web.Application, application: AnyApp, config: WebConfig, deliver: Deliver
) -> Web:
    """Adds the pages, the Mini App's API, static files and security headers to web_app."""
    secure(web_app)
    state = Web(
        application,
        config,
        Verifier(config.bot_token, config.max_age),
        environment(),
        Texts.load(TEXTS_DIR),
        deliver,
    )
    web_app[WEB] = state
    web_app.router.add_static(STATIC_PATH, STATIC_DIR, follow_symlinks=False)
    web_app.router.add_get(APP_PATH, _app_page)
    web_app.router.add_post(APP_PATH + "api/{action}", api.handle)
    add_screen_routes(web_app, lambda: state.services, state.templates)
    return state


def app_url(config: WebConfig) -> str | None:
    """Returns the Mini App's public URL, or None when the Mini App is off."""
    return None if config.public_url is None else config.public_url + APP_PATH


async def _app_page(request: web.Request) -> web.Response:
    """Serves the Mini App's page; its script reads the launch data and asks the API."""
    state = request.app[WEB]
    lang = state.services.default_language
    return render(
        state.templates,
        "app.html",
        {
            "lang": lang,
            "loading": state.texts.plain(lang, "app.loading"),
            "outside": state.texts.plain(lang, "app.unauthorized"),
        },
    )
