"""The Mini App's JSON API: every request carries Telegram's signed launch data, checked here.

POST /app/api/<action> with `Authorization: tma <initData>` and a small JSON body. Launch data
that is missing, forged or older than DTEAM_WEBAPP_MAX_AGE gets 401 before anything is read
or written; the user is the one in the verified data, never one named in the body.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web
from telegram import User

from handlers.core.callbacks import MAX_ID
from handlers.core.context import DTeamContext
from web import journey, present
from web.initdata import InitData, InitDataError
from web.journey import Refused, View
from web.state import WEB, Web

log = logging.getLogger(__name__)

MAX_BODY = 2048  # the largest request (an answer) is under 200 bytes
_REQUEST_ID = re.compile(r"^[A-Za-z0-9_-]{8,64}$")
_ITEM = re.compile(r"^[A-Za-z0-9_-]{1,32}$")
_CODE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
JSON = dict[str, Any]


class Invalid(Exception):
    """A malformed request (HTTP 400)."""


class TooLarge(Exception):
    """A request body over MAX_BODY (HTTP 413)."""


def _user(data: InitData) -> User:
    person = data.user
    return User(
        person.id,
        person.first_name,
        is_bot=False,
        last_name=person.last_name,
        username=person.username,
        language_code=person.language_code,
    )


def _refusal(state: Web, status: int, reason: str) -> web.Response:
    """Answers 401 in both languages: who is asking is unknown, so is their language."""
    key = "app.expired" if reason == "expired" else "app.unauthorized"
    messages = {lang: state.texts.plain(lang, key) for lang in ("de", "en")}
    body = {"error": "expired" if reason == "expired" else "unauthorized", "messages": messages}
    return _json(body, status=status)


def _json(body: JSON, *, status: int = 200) -> web.Response:
    response = web.json_response(body, status=status, dumps=_dumps)
    response.headers["Cache-Control"] = "no-store"
    return response


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


async def _body(request: web.Request) -> JSON:
    if request.content_length is not None and request.content_length > MAX_BODY:
        raise TooLarge
    raw = b""
    # read(n) returns what has arrived so far: read on until the end, or one byte too many.
    while chunk := await request.content.read(MAX_BODY + 1 - len(raw)):
        raw += chunk
        if len(raw) > MAX_BODY:  # sent in chunks, without a length
            raise TooLarge
    try:
        body = json.loads(raw or b"{}")
    except ValueError:
        raise Invalid("body is not JSON") from None
    if not isinstance(body, dict):
        raise Invalid("body is not an object")
    return body


def _text(body: JSON, name: str, pattern: re.Pattern[str]) -> str:
    value = body.get(name)
    if not isinstance(value, str) or not pattern.match(value):
        raise Invalid(f"{name} missing or malformed")
    return value


def _update_id(body: JSON, user: User) -> int:
    return journey.update_id_for(user.id, _text(body, "request_id", _REQUEST_ID))


def _run_id(body: JSON) -> int:
    value = body.get("run")
    # Beyond MAX_ID (PostgreSQL's integer column, as the chat's buttons) the driver would fail.
    if type(value) is not int or not 0 < value <= MAX_ID:
        raise Invalid("run missing or malformed")
    return value


async def _open(state: Web, user: User, data: InitData, _body: JSON) -> View:
    return await journey.open_app(state.services, user, join=data.start_param)


async def _consent(state: Web, user: User, _data: InitData, body: JSON) -> View:
    return await journey.consent(state.services, user, update_id=_update_id(body, user))


async def _answer(state: Web, user: User, _data: InitData, body: JSON) -> View:
    return await journey.answer(
        state.services,
        user,
        run_id=_run_id(body),
        item_id=_text(body, "item", _ITEM),
        option_id=_text(body, "option", _ITEM),
        update_id=_update_id(body, user),
    )


async def _back(state: Web, user: User, _data: InitData, body: JSON) -> View:
    return await journey.back(
        state.services,
        user,
        run_id=_run_id(body),
        item_id=_text(body, "item", _ITEM),
        update_id=_update_id(body, user),
    )


async def _switch(state: Web, user: User, data: InitData, body: JSON) -> View:
    code = _text(body, "code", _CODE)
    # Only the workshop of the link the app was opened with (signed by Telegram) is offered.
    if code != data.start_param:
        raise Refused("not the workshop the app was opened for")
    return await journey.switch(
        state.services,
        user,
        run_id=_run_id(body),
        code=code,
        update_id=_update_id(body, user),
    )


async def _resume(state: Web, user: User, _data: InitData, _body: JSON) -> View:
    return await journey.resume(state.services, user)


async def _restart(state: Web, user: User, _data: InitData, body: JSON) -> View:
    return await journey.restart(state.services, user, update_id=_update_id(body, user))


async def _language(state: Web, user: User, _data: InitData, body: JSON) -> View:
    lang = body.get("lang")
    if lang not in ("de", "en"):
        raise Invalid("lang must be de or en")
    return await journey.language(
        state.services, user, lang=str(lang), update_id=_update_id(body, user)
    )


Action = Callable[[Web, User, InitData, JSON], Awaitable[View]]
# Actions after which the page needs the questions and texts again (a new run, a language).
ACTIONS: dict[str, tuple[Action, bool]] = {
    "open": (_open, True),
    "consent": (_consent, True),
    "answer": (_answer, False),
    "back": (_back, False),
    "restart": (_restart, True),
    "switch": (_switch, False),
    "resume": (_resume, False),
    "language": (_language, True),
}


async def handle(request: web.Request) -> web.Response:
    """Verifies the launch data, runs one action, answers with what the app shows next."""
    state = request.app[WEB]
    entry = ACTIONS.get(request.match_info["action"])
    if entry is None:
        return _json({"error": "not found"}, status=404)
    scheme, _, raw = request.headers.get("Authorization", "").partition(" ")
    try:
        if scheme.lower() != "tma":
            raise InitDataError("missing")
        data = state.verify(raw.strip())
    except InitDataError as exc:
        log.info("Mini App request refused: launch data %s", exc)
        return _refusal(state, 401, str(exc))
    user = _user(data)
    with state.in_flight.enter(user.id) as admitted:
        if not admitted:
            response = _json({"error": "busy"}, status=429)
            response.headers["Retry-After"] = "1"
            return response
        return await _run(state, request, user, data, entry)


async def _run(
    state: Web, request: web.Request, user: User, data: InitData, entry: tuple[Action, bool]
) -> web.Response:
    action, full = entry
    try:
        view = await action(state, user, data, await _body(request))
    except Invalid as exc:
        return _json({"error": "invalid", "detail": str(exc)}, status=400)
    except TooLarge:
        return _json({"error": "too large", "max": MAX_BODY}, status=413)
    except Refused as exc:
        # Like a forged button: nothing written, and no word on what exists.
        log.info("Mini App request from %s refused: %s", user.id, exc)
        lang = state.services.texts.language(user.language_code)
        message = present.plain(state.services.texts.plain(lang, "question.invalid"))
        return _json({"error": "invalid", "message": message}, status=400)
    if view.finished_now is not None and view.result is not None:
        _deliver(state, user, view)
    return _json(_render(state, view, full=full))


def _deliver(state: Web, user: User, view: View) -> None:
    """Sends the result, chart and card to the chat, as after the chat's last answer."""
    run, result = view.finished_now, view.result
    assert run is not None
    assert result is not None
    ctx = DTeamContext(state.application, chat_id=user.id, user_id=user.id)
    # Not awaited: the app shows the result at once; the chat's messages follow at Telegram's
    # pace (three messages, within the chat's burst).
    state.application.create_task(
        state.deliver(ctx, user.id, run.message_id, result, view.lang, run),
        name=f"webapp-result-{run.id}",
    )


def _render(state: Web, view: View, *, full: bool) -> JSON:
    services, lang = state.services, view.lang
    run = view.run
    body: JSON = {
        "lang": lang,
        "consent": view.consent,
        "workshop": view.workshop,
        "run": None,
        "answers": view.answers,
        "result": None if view.result is None else present.result(services, view.result, lang),
        "sent_to_chat": view.finished_now is not None,
        "notice": None,
        "switch": None if view.switch is None else present.switch(services, view.switch, lang),
    }
    if view.notice is not None:
        template = services.texts.get(lang, view.notice, **view.notice_values)
        body["notice"] = present.plain(template)
    if run is not None:
        ids = [it.id for it in services.questionnaire_for(run.questionnaire_version).items]
        body["run"] = {
            "id": run.id,
            "version": run.questionnaire_version,
            "current": run.current_item,
            "position": ids.index(run.current_item) + 1 if run.current_item in ids else 1,
            "total": len(ids),
        }
    if full:
        version = run.questionnaire_version if run is not None else services.questionnaire.version
        body["items"] = present.items(services, version, lang)
        body["texts"] = present.ui_texts(services, state.texts, lang)
        if not view.consent:
            body["welcome"] = present.welcome(services, lang, view.workshop)
    return body
