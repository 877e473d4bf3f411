"""Webhook mode: answers Telegram only after an update's writes are committed (at-least-once)."""

from __future__ import annotations

import asyncio
import hmac
import logging
from urllib.parse import urlsplit

from aiohttp import web
from telegram import Bot, Update

from bot.metrics import METRICS_KEY, Metrics
from bot.monitor import AnyApp, add_monitor_routes, add_web_pages, note_web_root, serving
from bot.processor import PerUserProcessor
from bot.runner import _stop_on_signals, running_app
from bot.settings import Settings, SettingsError
from bot.update_guard import parsed
from handlers.core import outcome

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"  # noqa: S105 (a header name)
MAX_CONNECTIONS = 40
MAX_BODY = 1024 * 1024  # updates are small; anything larger is not from Telegram
DROPPED = Update(update_id=0)  # what _parse returns for a flood's message it refused


def webhook_config(settings: Settings) -> tuple[str, str, str]:
    """Returns (url, secret, path) for webhook mode; raises SettingsError when incomplete."""
    missing = [
        name
        for name, value in (
            ("DTEAM_WEBHOOK_URL", settings.webhook_url),
            ("DTEAM_WEBHOOK_SECRET", settings.webhook_secret),
        )
        if not value
    ]
    if missing:
        raise SettingsError(f"webhook mode needs {' and '.join(missing)} (see .env.example)")
    assert settings.webhook_url is not None
    assert settings.webhook_secret is not None
    parts = urlsplit(settings.webhook_url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise SettingsError("DTEAM_WEBHOOK_URL: must be an https:// URL Telegram can reach")
    path = settings.webhook_path or parts.path
    path = path if path.startswith("/") and path != "/" else "/webhook"
    return settings.webhook_url, settings.webhook_secret.get_secret_value(), path


class Receiver:
    """POST handler: checks the secret, processes the update, answers only when it is stored."""

    def __init__(self, application: AnyApp, secret: str) -> None:
        self.application = application
        self.secret = secret.encode()
        self.metrics: Metrics = application.bot_data[METRICS_KEY]

    async def handle(self, request: web.Request) -> web.Response:
        """Answers 200 once processed, 403 on a wrong secret, 400 if malformed, 500 to retry."""
        given = request.headers.get(SECRET_HEADER, "").encode()
        if not hmac.compare_digest(given, self.secret):
            self.metrics.webhook_rejected += 1
            log.warning("webhook request from %s with a wrong secret: refused", request.remote)
            return web.Response(status=403, text="forbidden")
        update = await self._parse(request)
        if update is DROPPED:
            # A flood's message, already counted and logged: answered at once, before it takes
            # a slot, a lock or a parse that everyone else's updates would wait behind.
            return web.Response(text="dropped")
        if update is None:
            self.metrics.webhook_malformed += 1
            return web.Response(status=400, text="not an update")
        if not self.application.running:
            return web.Response(status=503, text="shutting down")
        tracked = outcome.track(update, redelivered=True)
        app = self.application
        try:
            # Through the update processor, as polling does: the same per-user serialisation
            # and the same limit on concurrent updates.
            await app.update_processor.process_update(update, app.process_update(update))
        except Exception:  # never crash the server; Telegram will deliver it again
            log.exception("update %s: processing failed", update.update_id)
            return web.Response(status=500, text="failed")
        if tracked.error is not None and tracked.retry:
            log.info("update %s: failed transiently; asking for redelivery", update.update_id)
            return web.Response(status=500, text="try again")
        return web.Response(text="ok")

    async def _parse(self, request: web.Request) -> Update | None:
        try:
            data = await request.json()
            if not isinstance(data, dict) or type(data.get("update_id")) is not int:
                raise ValueError("no integer update_id")
            processor = self.application.update_processor
            if isinstance(processor, PerUserProcessor) and processor.refuses(data):
                return DROPPED
            # A malformed update becomes an empty one and is answered 200: a retry could never
            # succeed, and Telegram would hold back the chat's later updates behind it.
            update, _ = parsed(data, self.application.bot)
        except Exception as exc:  # anything malformed is answered 400, never raised
            log.warning("malformed webhook request: %s", exc)
            return None
        return update


def build_web_app(
    application: AnyApp, secret: str, path: str, settings: Settings
) -> web.Application:
    """Returns the aiohttp app: POST path (updates), /healthz, /metrics and the web pages."""
    web_app = web.Application(client_max_size=MAX_BODY)
    web_app.router.add_post(path, Receiver(application, secret).handle)
    add_monitor_routes(web_app, application)
    add_web_pages(web_app, application, settings)
    return web_app


async def run_webhook(
    settings: Settings,
    *,
    delete_only: bool = False,
    stop: asyncio.Event | None = None,
    ready: asyncio.Event | None = None,
) -> None:
    """Serves the webhook until stop is set (or SIGINT/SIGTERM); or only removes it."""
    if delete_only:
        await delete_webhook(settings)
        return
    url, secret, path = webhook_config(settings)
    stop = stop or _stop_on_signals()
    async with running_app(settings) as app:
        web_app = build_web_app(app, secret, path, settings)
        async with serving(settings, web_app, required=True) as bound:
            note_web_root(app, settings, bound)
            await app.bot.set_webhook(
                url=url,
                secret_token=secret,
                allowed_updates=Update.ALL_TYPES,
                max_connections=MAX_CONNECTIONS,
            )
            log.info("webhook %s set; serving %s on %s", url, path, bound)
            if ready is not None:
                ready.set()
            await stop.wait()
    # The webhook stays set: other replicas may still serve it, and Telegram keeps updates
    # for a stopped bot until it is back. `dteam run --delete-webhook` removes it.


async def delete_webhook(settings: Settings) -> None:
    """Removes the webhook, so that polling may take over; pending updates are kept."""
    assert settings.bot_token is not None
    root = settings.api_url.rstrip("/")
    bot = Bot(
        settings.bot_token.get_secret_value(),
        base_url=f"{root}/bot",
        base_file_url=f"{root}/file/bot",
    )
    async with bot:
        await bot.delete_webhook()
    log.info("webhook removed")
