"""Webhook mode against the sandbox: delivery, secret, retries, duplicates, replicas, health."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import urlsplit

import asyncpg
import pytest

from sandbox.server import BotApiServer
from storage.migrate import head_revision
from storage.models import Participant, ProcessedUpdate, Result
from tests.e2e.harness import Person, progress
from tests.e2e.webhook_harness import (
    WebhookProcess,
    answers_of,
    count_rows,
    one_replica,
    two_replicas,
    webhook_settings,
)


@pytest.fixture
async def hook(sandbox: BotApiServer, database_url: str) -> AsyncIterator[WebhookProcess]:
    sandbox.settings.webhook_backoff = 0.2
    process = WebhookProcess(webhook_settings(sandbox, database_url))
    await process.start()
    yield process
    await process.stop()


def _metric(text: str, name: str) -> int:
    for line in text.splitlines():
        if line.startswith(f"{name} "):
            return int(line.split()[1])
    raise AssertionError(f"{name} missing from /metrics")


async def test_full_run_via_webhook(sandbox: BotApiServer, hook: WebhookProcess) -> None:
    assert sandbox.bot_state().webhook is not None
    ada = Person(sandbox, 501, "Ada")
    card = await ada.answer_all(await ada.join())
    assert card.text
    assert dict(await answers_of(hook.settings.database_url, ada.user_id)) == ada.pressed
    assert await count_rows(hook.settings.database_url, Result) == 1
    status, body = await hook.get("/healthz")
    assert status == 200
    assert json.loads(body) == {"database": True, "bot": True, "schema": head_revision()}
    status, text = await hook.get("/metrics")
    assert status == 200
    assert "# TYPE dteam_updates_processed_total counter" in text
    assert _metric(text, "dteam_updates_processed_total") >= len(ada.pressed) + 2
    assert _metric(text, "dteam_update_errors_total") == 0
    assert _metric(text, "dteam_participants_finished") == 1
    assert sandbox.stats().get("webhook_failed", 0) == 0


async def test_wrong_or_missing_secret_is_refused(
    sandbox: BotApiServer, hook: WebhookProcess
) -> None:
    update = {
        "update_id": 9001,
        "message": {
            "message_id": 1,
            "date": 0,
            "chat": {"id": 77, "type": "private", "first_name": "Eve"},
            "from": {"id": 77, "is_bot": False, "first_name": "Eve"},
            "text": "/start",
        },
    }
    assert await hook.post(update, secret="not-the-secret") == 403
    assert await hook.post(update, secret=None) == 403
    assert await hook.post(update, raw=b"{not json") == 400
    assert await hook.post({"update_id": "x"}) == 400
    assert await hook.post([1, 2]) == 400
    url = hook.settings.database_url
    assert await count_rows(url, ProcessedUpdate) == 0
    assert await count_rows(url, Participant) == 0
    _, text = await hook.get("/metrics")
    assert _metric(text, "dteam_webhook_rejected_total") == 2
    assert _metric(text, "dteam_webhook_malformed_total") == 3
    assert _metric(text, "dteam_updates_processed_total") == 0
    # Still serving: what the sandbox delivers with the right secret is processed.
    await Person(sandbox, 77, "Eve").say("/start")
    assert await count_rows(url, ProcessedUpdate) == 1


async def test_same_update_twice_is_stored_once(sandbox: BotApiServer, database_url: str) -> None:
    async with one_replica(sandbox, database_url) as (relay, process):
        bob = Person(sandbox, 502, "Bob")
        first = await bob.join()
        shown = progress(first)
        assert shown is not None
        total = shown[1]
        buttons = [b for b in first.buttons if b["callback_data"].startswith("a:")]
        second = await bob.press_and_wait(
            first, buttons[0]["callback_data"], lambda m: progress(m) == (2, total)
        )
        assert second.message_id
        pressed = relay.payloads[-1]
        assert pressed["callback_query"]["data"] == buttons[0]["callback_data"]
        stored = await answers_of(database_url, bob.user_id)
        processed = await count_rows(database_url, ProcessedUpdate)
        mark = sandbox.mark()
        # Telegram re-delivers after a timeout: the same update again, even twice at once.
        statuses = await asyncio.gather(process.post(pressed), process.post(pressed))
        assert list(statuses) == [200, 200]
        assert await process.post(pressed) == 200
        assert await answers_of(database_url, bob.user_id) == stored
        assert len(stored) == 1
        assert await count_rows(database_url, ProcessedUpdate) == processed
        current = bob.question()
        assert current is not None
        assert progress(current) == (2, total)
        replies = [m.text or "" for m in sandbox.messages(bob.user_id) if m.seq > mark]
        assert not [t for t in replies if "schiefgegangen" in t]
        # A /start delivered again meets its processed_update row in the write transaction.
        started = relay.payloads[0]
        assert started["message"]["text"] == "/start"
        assert await process.post(started) == 200
        assert await count_rows(database_url, ProcessedUpdate) == processed
        _, text = await process.get("/metrics")
        assert _metric(text, "dteam_duplicates_skipped_total") >= 1
        assert _metric(text, "dteam_update_errors_total") == 0


async def test_locked_database_is_retried_and_stored_once(
    sandbox: BotApiServer, sqlite_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("storage.database.SQLITE_BUSY_TIMEOUT_MS", 300)
    sandbox.settings.webhook_backoff = 0.3
    process = WebhookProcess(webhook_settings(sandbox, sqlite_url))
    await process.start()
    try:
        cy = Person(sandbox, 503, "Cy")
        first = await cy.join()
        total = progress(first)[1]  # type: ignore[index]
        option = next(b for b in first.buttons if b["callback_data"].startswith("a:"))
        blocker = sqlite3.connect(tmp_path / "dteam.sqlite", isolation_level=None)
        blocker.execute("BEGIN EXCLUSIVE")
        try:
            sandbox.press_button(cy.user_id, first.message_id, option["callback_data"])
            async with asyncio.timeout(10):
                while sandbox.stats().get("webhook_failed", 0) < 2:  # noqa: ASYNC110 - polls
                    await asyncio.sleep(0.1)
            assert await answers_of(sqlite_url, cy.user_id) == []
        finally:
            blocker.execute("COMMIT")
            blocker.close()
        nxt = await sandbox.wait_for(
            lambda m: progress(m) == (2, total), 15, chat_id=cy.user_id, since=0
        )
        assert nxt.message_id
        item, opt = option["callback_data"].split(":")[2:4]
        assert await answers_of(sqlite_url, cy.user_id) == [(item, opt)]
        # Telegram's retry made it: the user was not told to tap again.
        assert not [m for m in sandbox.messages(cy.user_id) if "speichern" in (m.text or "")]
        _, text = await process.get("/metrics")
        assert _metric(text, "dteam_updates_redelivery_requested_total") >= 2
    finally:
        await process.stop()


async def test_two_replicas_store_every_answer_once(
    sandbox: BotApiServer, database_url: str
) -> None:
    async with two_replicas(sandbox, database_url) as (relay, replicas):
        people = [Person(sandbox, 600 + n, f"P{n}", timeout=40) for n in range(6)]

        async def journey(person: Person) -> None:
            await person.answer_all(await person.join())

        await asyncio.gather(*(journey(p) for p in people))
        for person in people:
            rows = await answers_of(database_url, person.user_id)
            assert len(rows) == len(person.pressed)
            assert dict(rows) == person.pressed
        assert await count_rows(database_url, Result) == len(people)
        delivered = {p["update_id"] for p in relay.payloads}
        assert await count_rows(database_url, ProcessedUpdate) == len(delivered)
        for replica in replicas:
            _, text = await replica.get("/metrics")
            assert _metric(text, "dteam_updates_processed_total") > 0
            assert _metric(text, "dteam_participants_finished") == len(people)


async def test_delete_webhook_removes_it(sandbox: BotApiServer, hook: WebhookProcess) -> None:
    from bot.webhook import run_webhook

    assert sandbox.bot_state().webhook is not None
    await run_webhook(hook.settings, delete_only=True)
    assert sandbox.bot_state().webhook is None


async def test_unreachable_postgres_is_retried_and_stored_once(
    sandbox: BotApiServer, database_url: str, request: pytest.FixtureRequest
) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("closes a PostgreSQL database to new connections")
    admin_url = request.getfixturevalue("postgres_url")
    admin_dsn = admin_url.replace("postgresql+asyncpg://", "postgresql://", 1)
    name = urlsplit(database_url).path.lstrip("/")
    sandbox.settings.webhook_backoff = 0.3
    process = WebhookProcess(webhook_settings(sandbox, database_url))
    await process.start()
    admin = await asyncpg.connect(admin_dsn)
    try:
        dee = Person(sandbox, 504, "Dee")
        first = await dee.join()
        total = progress(first)[1]  # type: ignore[index]
        option = next(b for b in first.buttons if b["callback_data"].startswith("a:"))
        await admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false')
        await admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1", name
        )
        try:
            sandbox.press_button(dee.user_id, first.message_id, option["callback_data"])
            async with asyncio.timeout(10):
                while sandbox.stats().get("webhook_failed", 0) < 2:  # noqa: ASYNC110 - polls
                    await asyncio.sleep(0.1)
            status, _ = await process.get("/healthz")
            assert status == 503
        finally:
            await admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')
        await sandbox.wait_for(lambda m: progress(m) == (2, total), 15, chat_id=dee.user_id)
        item, opt = option["callback_data"].split(":")[2:4]
        assert await answers_of(database_url, dee.user_id) == [(item, opt)]
        status, _ = await process.get("/healthz")
        assert status == 200
    finally:
        await admin.close()
        await process.stop()
