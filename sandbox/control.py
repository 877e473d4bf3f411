"""HTTP control API under /control/ so other processes can drive the sandbox."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from aiohttp import web

from sandbox.errors import ApiError
from sandbox.models import StoredMessage

if TYPE_CHECKING:
    from sandbox.server import BotApiServer

# POST /control/<action> with a JSON object of keyword arguments calls the Python API.
ACTIONS = (
    "add_bot",
    "add_user",
    "add_group",
    "add_channel",
    "set_member",
    "change_member",
    "block_bot",
    "migrate_group",
    "set_privacy_mode",
    "send_text",
    "send_sticker",
    "edit_text",
    "press_button",
    "open_web_app",
    "set_main_web_app",
    "inject_update",
    "add_to_group",
    "set_limits",
    "inject_fault",
    "clear_faults",
    "set_latency",
    "reset",
)
# GET /control/<query>?… answers from the outbox and counters.
QUERIES = ("messages", "history", "last_message", "callback_answer", "stats", "mark")
INT_ARGS = {"chat_id", "since", "user_id", "message_id"}


def to_json(value: Any) -> Any:
    """Turn API results (messages, call records) into JSON-ready values."""
    if isinstance(value, StoredMessage):
        return value.to_dict()
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    if isinstance(value, list | tuple):
        return [to_json(v) for v in value]
    return value


def _reply(result: Any) -> web.Response:
    return web.json_response({"ok": True, "result": to_json(result)}, dumps=_dumps)


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=str)


def _fail(status: int, error: str) -> web.Response:
    return web.json_response({"ok": False, "error": error}, status=status)


def control_routes(app: web.Application, server: BotApiServer) -> None:
    """Add the control routes for ``server`` to ``app``."""

    async def summary(_request: web.Request) -> web.Response:
        return _reply(
            {"root": server.root, "actions": ACTIONS, "queries": (*QUERIES, "calls", "wait")}
        )

    async def action(request: web.Request) -> web.Response:
        name = request.match_info["name"]
        if name not in ACTIONS:
            return _fail(404, f"unknown action {name!r}")
        try:
            kwargs = await request.json() if request.can_read_body else {}
        except ValueError:
            return _fail(400, "body must be a JSON object")
        if not isinstance(kwargs, dict):
            return _fail(400, "body must be a JSON object")
        method: Callable[..., Any] = getattr(server, name)
        try:
            return _reply(method(**kwargs))
        except (TypeError, ValueError, KeyError, LookupError, ApiError) as exc:
            return _fail(400, f"{exc.__class__.__name__}: {exc}")

    async def query(request: web.Request) -> web.Response:
        name = request.match_info["name"]
        if name not in QUERIES:
            return _fail(404, f"unknown query {name!r}")
        kwargs: dict[str, Any] = dict(request.query)
        for key in INT_ARGS & kwargs.keys():
            kwargs[key] = int(kwargs[key])
        try:
            return _reply(getattr(server, name)(**kwargs))
        except (TypeError, ValueError, KeyError, LookupError) as exc:
            return _fail(400, f"{exc.__class__.__name__}: {exc}")

    async def calls(request: web.Request) -> web.Response:
        since = int(request.query.get("since", "0"))
        method = request.query.get("method", "").lower()
        records = [
            c for c in server.calls if c.seq > since and (not method or c.method.lower() == method)
        ]
        return _reply(records)

    async def wait(request: web.Request) -> web.Response:
        spec = await request.json()
        text = spec.get("text_contains")
        keyboard = spec.get("has_keyboard")

        def matches(message: StoredMessage) -> bool:
            if text is not None and text not in message.body:
                return False
            return keyboard is None or message.has_keyboard == bool(keyboard)

        try:
            found = await server.wait_for(
                matches,
                float(spec.get("timeout", 5.0)),
                chat_id=spec.get("chat_id"),
                since=spec.get("since"),
                token=spec.get("token"),
            )
        except TimeoutError as exc:
            return _fail(408, str(exc))
        return _reply(found)

    app.router.add_get("/control", summary)
    app.router.add_get("/control/calls", calls)
    app.router.add_post("/control/wait", wait)
    app.router.add_post("/control/{name}", action)
    app.router.add_get("/control/{name}", query)
