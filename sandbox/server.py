"""The local Bot API stand-in: aiohttp routes, dispatch, limits, faults and lifecycle."""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import Sequence
from typing import Any

from aiohttp import web

from sandbox import api_chats, api_files, api_messages, api_updates, webapp
from sandbox.context import Ctx, Handler, Services, Settings
from sandbox.control import control_routes
from sandbox.errors import ApiError
from sandbox.limits import Faults, RateLimiter
from sandbox.outbox import Outbox
from sandbox.params import Params, Upload, read_params
from sandbox.webhook import WebhookDeliverer

log = logging.getLogger(__name__)
MAX_REQUEST = 60 * 1024 * 1024


def _method_table() -> dict[str, tuple[str, Handler]]:
    table: dict[str, tuple[str, Handler]] = {}
    for module in (api_chats, api_updates, api_messages, api_files):
        for name, handler in module.METHODS.items():
            table[name.lower()] = (name, handler)
    return table


def _loggable(raw: dict[str, Any]) -> dict[str, Any]:
    return {
        k: f"<file {v.filename!r}, {len(v.data)} bytes>" if isinstance(v, Upload) else v
        for k, v in raw.items()
    }


def _chat_id_of(raw: dict[str, Any]) -> int | None:
    try:
        return int(raw["chat_id"])
    except (KeyError, TypeError, ValueError):
        return None


class BotApiServer(Outbox):
    """A faithful local Telegram Bot API over aiohttp, with a Python and an HTTP control API."""

    def __init__(self, *, seed: int = 0, settings: Settings | None = None) -> None:
        super().__init__()
        self.settings = settings or Settings()
        self.limiter = RateLimiter()
        self.faults = Faults(seed)
        self.counters: Counter[str] = Counter()
        self.services = Services(
            self.world, self.limiter, self.faults, self.settings, self.counters, self._hook
        )
        self.webhooks = WebhookDeliverer(self.services)
        self.root = ""
        self._methods = _method_table()
        self._runner: web.AppRunner | None = None

    def _hook(self, bot: Any) -> None:
        self.webhooks.changed(bot)

    def build_app(self) -> web.Application:
        """Return the aiohttp application serving the Bot API, files and control API."""
        app = web.Application(client_max_size=MAX_REQUEST)
        app.router.add_route("*", "/bot{token}/{method}", self._handle_api)
        app.router.add_get("/file/bot{token}/{path:.+}", self._handle_file)
        control_routes(app, self)
        return app

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        """Serve on ``host:port`` (0 picks a free port); return the root URL."""
        runner = web.AppRunner(self.build_app(), handler_cancellation=True, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, host, port)
        await site.start()
        self._runner = runner
        bound = runner.addresses[0]
        shown = f"[{bound[0]}]" if ":" in str(bound[0]) else bound[0]
        self.root = f"http://{shown}:{bound[1]}"
        return self.root

    async def stop(self) -> None:
        """Stop webhook delivery and the HTTP server."""
        await self.webhooks.close()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> BotApiServer:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    async def _handle_api(self, request: web.Request) -> web.Response:
        token = request.match_info["token"]
        name = request.match_info["method"]
        bot = self.world.bots.get(token)
        entry = self._methods.get(name.lower())
        raw: dict[str, Any] = {}
        ctx: Ctx | None = None
        try:
            if bot is None:
                raise ApiError(401, "Unauthorized")
            if entry is None:
                raise ApiError(404, "Not Found")
            name = entry[0]
            if (delay := self.faults.delay()) > 0:
                await asyncio.sleep(delay)
            raw = await read_params(request)
            ctx = Ctx(self.services, bot)
            fault = self.faults.check(name.lower(), _chat_id_of(raw))
            if fault is not None:
                self.counters["faults"] += 1
                raise fault
            result = await entry[1](ctx, Params(raw))
        except ApiError as exc:
            self._count(token, name, raw, exc.code, exc.description, ctx)
            return web.json_response(exc.envelope(), status=exc.code)
        except Exception:
            log.exception("sandbox failed on %s", name)
            self._count(token, name, raw, 500, "Internal Server Error", ctx)
            body = {"ok": False, "error_code": 500, "description": "Internal Server Error"}
            return web.json_response(body, status=500)
        self._count(token, name, raw, 200, None, ctx)
        return web.json_response({"ok": True, "result": result})

    def _count(
        self,
        token: str,
        method: str,
        raw: dict[str, Any],
        status: int,
        description: str | None,
        ctx: Ctx | None,
    ) -> None:
        self.counters["requests"] += 1
        self.counters[f"status_{status}"] += 1
        self.counters[f"method_{method}"] += 1
        chat_id = ctx.chat_id if ctx is not None else _chat_id_of(raw)
        self.world.record_call(token, method, _loggable(raw), status, description, chat_id)

    async def _handle_file(self, request: web.Request) -> web.Response:
        if request.match_info["token"] not in self.world.bots:
            return web.json_response(
                {"ok": False, "error_code": 401, "description": "Unauthorized"}, status=401
            )
        path = request.match_info["path"]
        for stored in self.world.files.values():
            if stored.file_path == path:
                ctype = stored.mime_type or (
                    "image/jpeg" if stored.kind == "photo" else "application/octet-stream"
                )
                return web.Response(body=stored.data, content_type=ctype)
        return web.json_response(
            {"ok": False, "error_code": 404, "description": "Not Found"}, status=404
        )

    def set_limits(
        self,
        enabled: bool = True,
        per_chat_per_sec: float = 1.0,
        burst: int = 3,
        per_group_per_min: int = 20,
        overall_per_sec: int = 30,
    ) -> None:
        """Switch Telegram's flood limits on (429 with retry_after) or off."""
        self.limiter.configure(
            enabled=enabled,
            per_chat_per_sec=per_chat_per_sec,
            burst=burst,
            per_group_per_min=per_group_per_min,
            overall_per_sec=overall_per_sec,
        )

    def inject_fault(
        self,
        method: str | Sequence[str] | None = None,
        status: int = 429,
        count: int | None = None,
        rate: float | None = None,
        retry_after: int = 1,
        chat_id: int | None = None,
    ) -> int:
        """Fail matching calls with ``status`` (count times, or at ``rate``); return its id."""
        return self.faults.add(method, status, count, rate, retry_after, chat_id)

    def clear_faults(self, fault_id: int | None = None) -> None:
        """Remove one injected fault, or all."""
        self.faults.clear(fault_id)

    def set_latency(self, seconds: float, jitter: float = 0.0) -> None:
        """Delay every Bot API call by ``seconds`` ± ``jitter``."""
        self.faults.latency, self.faults.jitter = seconds, jitter

    def set_main_web_app(self, url: str, token: str | None = None) -> None:
        """Set the bot's Main Mini App (BotFather), which t.me/<bot>?startapp= links open."""
        allow = self.settings.allow_http_webapps
        try:
            webapp.check_url(url, allow_http=allow, what="Main Mini App")
        except ApiError as exc:
            raise ValueError(exc.description) from None
        self.bot_state(token).main_web_app = url

    def open_web_app(
        self,
        user_id: int,
        message_id: int | None = None,
        *,
        chat_id: int | None = None,
        text: str | None = None,
        link: str | None = None,
        platform: str = "android",
        auth_date: int | None = None,
        token: str | None = None,
    ) -> str:
        """Open a Mini App as user_id's client would; return the URL it loads.

        From a message's web_app button (the one labelled text, else the first), or from a
        direct link t.me/<bot>?startapp=<param> to the bot's Main Mini App.
        """
        bot = self.bot_state(token)
        user = self.world.user(user_id)
        if link is not None:
            url, start = webapp.direct_link(bot, link)
            # Launch data says allows_write_to_pm: the user let the bot message them, as
            # Telegram asks when a Main Mini App is opened before any /start.
            bot.started.add(user_id)
            self.world.private_chat(user)
            return webapp.launch_url(
                bot, user, url, start_param=start, platform=platform, auth_date=auth_date
            )
        if message_id is None:
            raise ValueError("give message_id (a web_app button) or link (t.me/...?startapp=)")
        chat = self.world.chat(user_id if chat_id is None else chat_id)
        message = bot.find_message(chat.id, message_id)
        buttons = [] if message is None else message.web_app_buttons
        chosen = [b for b in buttons if text is None or b.get("text") == text]
        if not chosen:
            raise ValueError(f"message {message_id} in chat {chat.id} has no web_app button")
        url = str(chosen[0]["web_app"]["url"])
        return webapp.launch_url(bot, user, url, platform=platform, auth_date=auth_date)

    def reset(self) -> None:
        """Switch limits, faults and latency off and zero the counters."""
        self.limiter.configure(enabled=False)
        self.faults.clear()
        self.set_latency(0.0)
        self.counters.clear()

    def stats(self) -> dict[str, int]:
        """Counters: requests, status_<code>, method_<name>, rate_limited, faults, webhook_*."""
        out = dict(self.counters)
        out.setdefault("rate_limited", 0)
        out["status_429"] = out.get("status_429", 0)
        return out
