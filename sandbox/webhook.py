"""Webhook delivery: per-chat (callbacks per-user) ordering, parallel chats, retry with backoff."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time

import aiohttp

from sandbox.context import Services
from sandbox.state import BotState, WebhookConfig
from sandbox.updates import PendingUpdate

log = logging.getLogger(__name__)
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"  # noqa: S105 - a header name


class WebhookDeliverer:
    """Runs one delivery loop per bot with a webhook set."""

    def __init__(self, services: Services) -> None:
        self.services = services
        self._loops: dict[str, asyncio.Task[None]] = {}
        self._session: aiohttp.ClientSession | None = None

    def changed(self, bot: BotState) -> None:
        """Start or stop the loop after setWebhook/deleteWebhook."""
        task = self._loops.pop(bot.token, None)
        if task is not None:
            task.cancel()
        if bot.webhook is not None:
            self._loops[bot.token] = asyncio.get_running_loop().create_task(
                self._run(bot, bot.webhook), name=f"webhook-{bot.user.id}"
            )

    async def close(self) -> None:
        """Stop all loops and the HTTP client."""
        tasks = list(self._loops.values())
        self._loops.clear()
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if self._session is not None:
            await self._session.close()
            self._session = None

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None:
            self._session = aiohttp.ClientSession(trust_env=False)
        return self._session

    async def _run(self, bot: BotState, hook: WebhookConfig) -> None:
        queue = bot.updates
        in_flight: dict[str, asyncio.Task[None]] = {}
        try:
            while bot.webhook is hook:
                queue.expire()
                now = time.monotonic()
                wait = 30.0
                # One update per ordering key at a time, oldest first: its line's head.
                for item in sorted(queue.heads(), key=lambda u: u.serial):
                    if item.key in in_flight:
                        continue
                    if not queue.is_allowed(item):
                        queue.remove(item)
                        continue
                    if item.next_try > now:
                        wait = min(wait, item.next_try - now)
                        continue
                    if len(in_flight) >= hook.max_connections:
                        break
                    in_flight[item.key] = asyncio.create_task(
                        self._deliver(bot, hook, item, in_flight)
                    )
                await queue.changed(wait)
        finally:
            for task in in_flight.values():
                task.cancel()

    async def _deliver(
        self,
        bot: BotState,
        hook: WebhookConfig,
        item: PendingUpdate,
        in_flight: dict[str, asyncio.Task[None]],
    ) -> None:
        stats = self.services.stats
        settings = self.services.settings
        headers = {SECRET_HEADER: hook.secret_token} if hook.secret_token else {}
        error: str | None = None
        try:
            timeout = aiohttp.ClientTimeout(total=settings.webhook_timeout)
            async with self._client().post(
                hook.url, json=item.payload, headers=headers, timeout=timeout
            ) as response:
                await response.read()
                if not 200 <= response.status < 300:
                    error = f"Wrong response from the webhook: {response.status} {response.reason}"
        except TimeoutError:
            error = "Read timeout expired"
        except aiohttp.ClientError as exc:
            error = f"Connection failed: {exc.__class__.__name__}"
        finally:
            in_flight.pop(item.key, None)
        if error is None:
            stats["webhook_delivered"] += 1
            bot.updates.remove(item)
        else:
            stats["webhook_failed"] += 1
            item.attempts += 1
            backoff = settings.webhook_backoff * 2 ** (item.attempts - 1)
            item.next_try = time.monotonic() + min(backoff, settings.webhook_backoff_max)
            hook.last_error_date = int(time.time())
            hook.last_error_message = error
            log.debug("webhook delivery of %s failed: %s", item.update_id, error)
        bot.updates.poke()
