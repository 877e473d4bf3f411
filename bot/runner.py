"""Starts and stops the bot: database, migrations, Application, polling."""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from typing import Any

from aiohttp import web
from telegram import Update
from telegram.ext import Application

from bot.app import build_application, build_services, publish_commands
from bot.monitor import add_monitor_routes, add_web_pages, note_web_root, serving
from bot.processor import PerUserProcessor
from bot.scheduler import start_scheduler
from bot.selfcheck import self_check
from bot.settings import Settings
from storage.database import Database
from storage.migrate import migrate

log = logging.getLogger(__name__)


@asynccontextmanager
async def running_app(
    settings: Settings,
) -> AsyncIterator[Application[Any, Any, Any, Any, Any, Any]]:
    """Yields an initialised and started Application on a migrated database; stops it after."""
    db = Database(settings.database_url)
    try:
        await migrate(db)
        services = build_services(settings, db)
        app = build_application(settings, services)
        async with app:
            await publish_commands(app)
            await app.start()
            await start_scheduler(app, settings)
            await self_check(app, settings, db)
            try:
                yield app
            finally:
                if app.updater is not None and app.updater.running:
                    await app.updater.stop()
                if isinstance(app.update_processor, PerUserProcessor):
                    app.update_processor.close_queues()
                await app.stop()
    finally:
        await db.dispose()


async def run_polling(
    settings: Settings, stop: asyncio.Event | None = None, ready: asyncio.Event | None = None
) -> None:
    """Runs the bot with long polling until stop is set (or SIGINT/SIGTERM)."""
    stop = stop or _stop_on_signals()
    required = settings.public_url is not None  # the Mini App needs it; else only /healthz
    async with (
        running_app(settings) as app,
        serving(settings, _monitor(app, settings), required=required) as bound,
    ):
        note_web_root(app, settings, bound)
        assert app.updater is not None
        await app.updater.start_polling(allowed_updates=Update.ALL_TYPES, timeout=30)
        log.info("polling %s; stop with Ctrl+C", settings.api_url)
        if ready is not None:
            ready.set()
        await stop.wait()


def _monitor(
    app: Application[Any, Any, Any, Any, Any, Any], settings: Settings
) -> web.Application:
    web_app = web.Application()
    add_monitor_routes(web_app, app)  # the Docker HEALTHCHECK asks /healthz in polling mode too
    add_web_pages(web_app, app, settings)
    return web_app


def _stop_on_signals() -> asyncio.Event:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    return stop
