"""GET /healthz, GET /metrics, the web pages, and serving an aiohttp app on the listen address."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from aiohttp import web
from telegram.ext import Application

from bot.metrics import METRICS_KEY, Metrics
from bot.settings import Settings
from handlers.core.context import SERVICES_KEY, Services
from handlers.journey.questionnaire import deliver_result
from storage.migrate import current_revision
from web.routes import WebConfig, add_web_routes

log = logging.getLogger(__name__)

AnyApp = Application[Any, Any, Any, Any, Any, Any]
_APP: web.AppKey[AnyApp] = web.AppKey("dteam_application", Application)


def add_monitor_routes(web_app: web.Application, application: AnyApp) -> None:
    """Adds GET /healthz and GET /metrics for this Application to web_app."""
    web_app[_APP] = application
    web_app.router.add_get("/healthz", _healthz)
    web_app.router.add_get("/metrics", _metrics)


def add_web_pages(web_app: web.Application, application: AnyApp, settings: Settings) -> None:
    """Adds the web pages (the Mini App) with their security headers to web_app."""
    assert settings.bot_token is not None
    config = WebConfig(
        bot_token=settings.bot_token.get_secret_value(),
        public_url=settings.public_url,
        max_age=settings.webapp_max_age,
    )
    add_web_routes(web_app, application, config, deliver_result)


def note_web_root(application: AnyApp, settings: Settings, bound: tuple[str, int] | None) -> None:
    """Tells the handlers where the web pages are: DTEAM_PUBLIC_URL, else the bound address."""
    services: Services = application.bot_data[SERVICES_KEY]
    if settings.public_url is not None or bound is None:
        return
    host, port = bound
    services.web_root = f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


async def _healthz(request: web.Request) -> web.Response:
    """Answers 200 when the database answers and the bot runs, else 503; JSON either way."""
    application = request.app[_APP]
    services: Services = application.bot_data[SERVICES_KEY]
    database = await services.db.ping()
    schema: str | None = None
    if database:
        try:
            schema = await current_revision(services.db)
        except Exception:  # a failing health probe must answer, not raise
            log.warning("could not read the schema revision", exc_info=True)
            database = False
    bot = application.running
    body = {"database": database, "bot": bot, "schema": schema}
    return web.json_response(body, status=200 if database and bot else 503)


async def _metrics(request: web.Request) -> web.Response:
    """Answers the counters in the Prometheus text format."""
    application = request.app[_APP]
    metrics: Metrics = application.bot_data[METRICS_KEY]
    services: Services = application.bot_data[SERVICES_KEY]
    text = await metrics.render(services.db)
    return web.Response(text=text, content_type="text/plain", charset="utf-8")


@asynccontextmanager
async def serving(
    settings: Settings, web_app: web.Application, *, required: bool
) -> AsyncIterator[tuple[str, int] | None]:
    """Serves web_app on listen_host:listen_port; yields the bound (host, port), or None."""
    # Not required in polling mode without a Mini App, where it only carries the health check.
    # `dteam run`
    # refuses a taken port before it starts (bot/startup.py); taken in the moments since, it is
    # logged and the bot runs on without it.
    runner = web.AppRunner(web_app, access_log=None, shutdown_timeout=10)
    await runner.setup()
    try:
        site = web.TCPSite(runner, settings.listen_host, settings.listen_port)
        try:
            await site.start()
        except OSError as exc:
            if required:
                raise
            log.warning(
                "cannot serve /healthz on %s:%s (%s); running without it",
                settings.listen_host,
                settings.listen_port,
                exc,
            )
            yield None
            return
        host, port = runner.addresses[0][:2]
        log.info("serving /healthz, /metrics and the web pages on http://%s:%s", host, port)
        yield str(host), int(port)
    finally:
        await runner.cleanup()
