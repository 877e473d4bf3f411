"""Runs the bot in webhook mode against the sandbox, and a relay standing in for a balancer."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Coroutine
from contextlib import asynccontextmanager
from typing import Any

import aiohttp
from aiohttp import web
from sqlalchemy import func, select
from sqlmodel import col

from bot.settings import Settings
from bot.webhook import SECRET_HEADER, run_webhook
from sandbox.server import BotApiServer
from storage.models import Answer, Participant, Run
from tests.e2e.harness import make_settings
from tests.support.bots import InLoopBot
from tests.support.database import reading
from tests.support.ports import free_port

SECRET = "webhook-Secret_42"


def webhook_settings(
    sandbox: BotApiServer, database_url: str, *, public_url: str | None = None, **extra: object
) -> Settings:
    """Settings for a replica on its own port; public_url is where Telegram posts (a relay)."""
    port = free_port()
    own = f"http://127.0.0.1:{port}/webhook"
    return make_settings(
        sandbox.root,
        database_url,
        webhook_url=public_url or own,
        webhook_secret=SECRET,
        webhook_path="/webhook",
        listen_port=port,
        **extra,
    )


class WebhookProcess(InLoopBot):
    """One bot replica serving the webhook in this event loop."""

    what = "webhook replica"

    def __init__(self, settings: Settings) -> None:
        super().__init__(settings)
        self.base = f"http://127.0.0.1:{settings.listen_port}"

    def _main(self, stop: asyncio.Event, ready: asyncio.Event) -> Coroutine[Any, Any, None]:
        return run_webhook(self.settings, stop=stop, ready=ready)

    async def post(
        self, payload: object, *, secret: str | None = SECRET, raw: bytes | None = None
    ) -> int:
        """POSTs an update (or raw bytes) to the webhook; returns the HTTP status."""
        headers = {SECRET_HEADER: secret} if secret is not None else {}
        async with aiohttp.ClientSession(trust_env=False) as http:
            kwargs: dict[str, Any] = {"data": raw} if raw is not None else {"json": payload}
            async with http.post(f"{self.base}/webhook", headers=headers, **kwargs) as resp:
                return resp.status

    async def get(self, path: str) -> tuple[int, str]:
        """GETs /healthz or /metrics; returns (status, body)."""
        async with (
            aiohttp.ClientSession(trust_env=False) as http,
            http.get(f"{self.base}{path}") as resp,
        ):
            return resp.status, await resp.text()


class Relay:
    """A round-robin load balancer in front of replicas; records what Telegram posted."""

    def __init__(self, targets: list[str]) -> None:
        self.targets = targets
        self._count = 0
        self.payloads: list[dict[str, Any]] = []
        self.statuses: list[int] = []
        self.url = ""
        self._runner: web.AppRunner | None = None
        self._http: aiohttp.ClientSession | None = None

    async def start(self) -> None:
        """Serves the relay on a free loopback port."""
        app = web.Application()
        app.router.add_post("/webhook", self._forward)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        host, port = self._runner.addresses[0][:2]
        self.url = f"http://{host}:{port}/webhook"
        self._http = aiohttp.ClientSession(trust_env=False)

    async def stop(self) -> None:
        """Stops the relay."""
        if self._http is not None:
            await self._http.close()
        if self._runner is not None:
            await self._runner.cleanup()

    async def _forward(self, request: web.Request) -> web.Response:
        body = await request.read()
        self.payloads.append(await request.json())
        target = self.targets[self._count % len(self.targets)]
        self._count += 1
        headers = {k: v for k, v in request.headers.items() if k == SECRET_HEADER}
        headers["Content-Type"] = "application/json"
        assert self._http is not None
        try:
            async with self._http.post(target, data=body, headers=headers) as resp:
                status = resp.status
        except aiohttp.ClientError:
            status = 502
        self.statuses.append(status)
        return web.Response(status=status)


async def count_rows(database_url: str, model: type[Any]) -> int:
    """Counts the rows of a table."""
    async with reading(database_url) as s:
        return int((await s.execute(select(func.count()).select_from(model))).scalar_one())


async def answers_of(database_url: str, user_id: int) -> list[tuple[str, str]]:
    """Returns every stored answer row of the person's runs, duplicates included."""
    async with reading(database_url) as s:
        res = await s.execute(
            select(col(Answer.item_id), col(Answer.option_id))
            .join(Run, col(Answer.run_id) == col(Run.id))
            .join(Participant, col(Run.participant_id) == col(Participant.id))
            .where(col(Participant.telegram_id) == user_id)
        )
        return sorted((str(a), str(b)) for a, b in res.all())


@asynccontextmanager
async def replicas(
    sandbox: BotApiServer, database_url: str, count: int
) -> AsyncIterator[tuple[Relay, list[WebhookProcess]]]:
    """count webhook replicas on one database behind a round-robin relay, stopped after use."""
    sandbox.settings.webhook_backoff = 0.2
    relay = Relay([])
    await relay.start()
    replicas = [
        WebhookProcess(webhook_settings(sandbox, database_url, public_url=relay.url))
        for _ in range(count)
    ]
    relay.targets.extend(f"{r.base}/webhook" for r in replicas)
    try:
        for replica in replicas:
            await replica.start()
        yield relay, replicas
    finally:
        for replica in replicas:
            await replica.stop()
        await relay.stop()


@asynccontextmanager
async def two_replicas(
    sandbox: BotApiServer, database_url: str
) -> AsyncIterator[tuple[Relay, list[WebhookProcess]]]:
    """Two webhook replicas on one database behind a round-robin relay, stopped after use."""
    async with replicas(sandbox, database_url, 2) as running:
        yield running


@asynccontextmanager
async def one_replica(
    sandbox: BotApiServer, database_url: str
) -> AsyncIterator[tuple[Relay, WebhookProcess]]:
    """One webhook process behind the relay (which records every payload), stopped after use."""
    async with replicas(sandbox, database_url, 1) as (relay, (process,)):
        yield relay, process
