"""The presenter page's routes: the page, its event stream, and the reveal switch.

GET /screen/<token> renders the page; GET /screen/<token>/events streams each new state
as Server-Sent Events (aiohttp-sse: the event format, keep-alive pings and disconnects, so
this module only decides what to send); POST /screen/<token>/reveal and /hide set the
database flag. Every route checks the token's signature, expiry and the workshop's current
revocation epoch, and answers a refused one with 403 and nothing of the workshop.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable

import jinja2
from aiohttp import web
from aiohttp_sse import sse_response

from handlers.core.context import Services
from handlers.core.screen_token import SCREEN_PATH, ScreenClaim, TokenRefused, verify
from storage.screen import set_revealed
from storage.workshops import get_workshop
from web.presenter.live import Closing, Frame, Full, ScreenHub, Update
from web.presenter.view import ScreenData, load_screen, page_context

log = logging.getLogger(__name__)


class Screens:
    """What the presenter routes share: services, templates and the per-workshop watchers."""

    def __init__(self, services: Callable[[], Services], templates: jinja2.Environment) -> None:
        self.services = services
        self.templates = templates
        self.hub = ScreenHub(services)

    def render(self, name: str, data: ScreenData, lang: str, token: str) -> str:
        """Renders a template for one workshop's data in lang."""
        context = page_context(self.services(), data, lang)
        context["base"] = f"{SCREEN_PATH}{token}"
        return self.templates.get_template(name).render(**context)

    def language(self, request: web.Request) -> str:
        """Returns ?lang= if supported, else the bot's default language."""
        services = self.services()
        asked = request.query.get("lang")
        return asked if asked in ("de", "en") else services.default_language


SCREENS: web.AppKey[Screens] = web.AppKey("dteam_screens", Screens)


def add_screen_routes(
    web_app: web.Application, services: Callable[[], Services], templates: jinja2.Environment
) -> Screens:
    """Adds the presenter routes to web_app; its watchers stop with the app."""
    screens = Screens(services, templates)
    web_app[SCREENS] = screens
    web_app.router.add_get(SCREEN_PATH + "{token}", _page)
    web_app.router.add_get(SCREEN_PATH + "{token}/events", _events)
    web_app.router.add_post(SCREEN_PATH + "{token}/{action:reveal|hide}", _switch)

    async def _stop(_app: web.Application) -> None:
        await screens.hub.close()

    web_app.on_shutdown.append(_stop)
    return screens


def _refused(screens: Screens, request: web.Request) -> web.Response:
    lang = screens.language(request)
    text = screens.services().texts.plain(lang, "screen.page.refused")
    return web.Response(status=403, text=text, headers={"Cache-Control": "no-store"})


async def _claim(screens: Screens, request: web.Request) -> ScreenClaim | None:
    """Returns the token's claim if it is valid now and not revoked, else None."""
    services = screens.services()
    try:
        claim = verify(services.screen_key, request.match_info["token"])
    except TokenRefused as exc:
        log.info("presenter link refused: %s", exc)
        return None
    async with services.db.read() as session:
        workshop = await get_workshop(session, workshop_id=claim.workshop_id)
    if workshop is None or workshop.screen_epoch != claim.epoch:
        log.info("presenter link of workshop %s refused: revoked", claim.workshop_id)
        return None
    return claim


async def _page(request: web.Request) -> web.Response:
    """Serves the presenter page with the workshop's current state."""
    screens = request.app[SCREENS]
    claim = await _claim(screens, request)
    data = None if claim is None else await load_screen(screens.services(), claim.workshop_id)
    if data is None:
        return _refused(screens, request)
    lang = screens.language(request)
    html = screens.render("screen.html", data, lang, request.match_info["token"])
    return web.Response(
        text=html,
        content_type="text/html",
        charset="utf-8",
        headers={"Cache-Control": "no-store"},
    )


async def _events(request: web.Request) -> web.StreamResponse:
    """Streams the page's body as `view` events until the link expires or is revoked (`gone`)."""
    screens = request.app[SCREENS]
    claim = await _claim(screens, request)
    if claim is None:
        return _refused(screens, request)
    lang, token = screens.language(request), request.match_info["token"]
    try:
        async with (
            screens.hub.subscribe(claim.workshop_id) as queue,
            sse_response(request, headers={"Cache-Control": "no-store"}) as stream,
        ):
            while stream.is_connected():
                frame = await _next(queue, claim)
                if isinstance(frame, Closing):
                    break  # no "gone": the page reconnects once the server is back
                if frame is None or frame.data.epoch != claim.epoch:
                    await stream.send("", event="gone")
                    break
                await stream.send(_body(screens, frame, lang, token), event="view")
            return stream
    except Full:
        return web.Response(status=503, text="too many open pages", headers={"Retry-After": "30"})


async def _next(queue: asyncio.Queue[Update], claim: ScreenClaim) -> Update:
    """Waits for the next frame; None once the link has expired."""
    left = claim.expires - time.time()
    if left <= 0:
        return None
    with contextlib.suppress(TimeoutError):
        return await asyncio.wait_for(queue.get(), timeout=left)
    return None


def _body(screens: Screens, frame: Frame, lang: str, token: str) -> str:
    """Returns the page's body for frame in lang, rendered once for all pages in that language."""
    if lang not in frame.rendered:
        frame.rendered[lang] = screens.render("screen_body.html", frame.data, lang, token)
    return frame.rendered[lang]


async def _switch(request: web.Request) -> web.Response:
    """Reveals or hides the results (the page's button; the link is the moderator's)."""
    screens = request.app[SCREENS]
    claim = await _claim(screens, request)
    if claim is None:
        return _refused(screens, request)
    revealed = request.match_info["action"] == "reveal"
    async with screens.services().db.write() as session:
        await set_revealed(session, workshop_id=claim.workshop_id, revealed=revealed)
    log.info("presenter page of workshop %s: results revealed=%s", claim.workshop_id, revealed)
    return web.Response(status=204)
