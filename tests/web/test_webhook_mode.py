"""In webhook mode the same server serves the Mini App: a whole run through its API."""

from __future__ import annotations

import json
from urllib.parse import parse_qsl

import aiohttp

from sandbox.context import Settings as StandInSettings
from sandbox.server import BotApiServer
from tests.e2e.harness import BOT_USERNAME, TOKEN, make_settings
from tests.e2e.webhook_harness import SECRET, WebhookProcess
from tests.support.ports import free_port
from web.security import CONTENT_SECURITY_POLICY

USER = 5501


async def test_a_run_through_the_app_in_webhook_mode(sqlite_url: str) -> None:
    stand_in = BotApiServer(settings=StandInSettings(allow_http_webapps=True))
    await stand_in.start()
    stand_in.add_bot(TOKEN, username=BOT_USERNAME)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    settings = make_settings(
        stand_in.root,
        sqlite_url,
        webhook_url=f"{base}/webhook",
        webhook_secret=SECRET,
        webhook_path="/webhook",
        listen_port=port,
        public_url=base,
    )
    replica = WebhookProcess(settings)
    await replica.start()
    try:
        stand_in.add_user(USER, "Wera", language_code="de")
        mark = stand_in.mark()
        stand_in.send_text(USER, "/start")  # delivered by the stand-in's webhook
        welcome = await stand_in.wait_for(lambda m: m.has_keyboard, 20, chat_id=USER, since=mark)
        assert welcome.buttons[0]["web_app"] == {"url": f"{base}/app/"}
        url = stand_in.open_web_app(USER, welcome.message_id)
        init_data = dict(parse_qsl(url.split("#", 1)[1]))["tgWebAppData"]
        headers = {"Authorization": f"tma {init_data}"}
        async with aiohttp.ClientSession(headers=headers) as http:
            async with http.get(f"{base}/app/") as page:
                assert page.status == 200
                assert page.headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY

            async def post(action: str, body: dict[str, object]) -> dict[str, object]:
                async with http.post(f"{base}/app/api/{action}", data=json.dumps(body)) as r:
                    assert r.status == 200, await r.text()
                    return dict(await r.json())

            view = await post("open", {})
            items = view["items"]
            assert isinstance(items, list)
            first = {it["id"]: it["options"][0]["id"] for it in items}
            view = await post("consent", {"request_id": "consent-webhook"})
            n = 0
            while isinstance(run := view["run"], dict):
                n += 1
                body = {"request_id": f"answer-{n:04d}", "run": run["id"], "item": run["current"]}
                view = await post("answer", body | {"option": first[run["current"]]})
        result = view["result"]
        assert isinstance(result, dict)
        card = await stand_in.wait_for(
            lambda m: (m.text or "").startswith("Steckbrief:"), 20, chat_id=USER
        )
        assert str(result["name"]) in (card.text or "")
    finally:
        await replica.stop()
        await stand_in.stop()
