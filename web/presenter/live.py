"""One database watcher per session, shared by all of its open presenter pages.

Each watched workshop is polled every POLL_SECONDS with one cheap query (`screen_marker`);
only when that changes is the page's data read again and handed to every open page of the
workshop. So 50 open pages cost what one does, and the page follows the database, whichever
replica wrote to it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass, field
from typing import Any

from handlers.core.context import Services
from storage.screen import screen_marker
from web.presenter.view import ScreenData, load_screen

log = logging.getLogger(__name__)

POLL_SECONDS = 0.5
MAX_PAGES_PER_WORKSHOP = 200  # open pages of one workshop; more are refused (503)


@dataclass
class Frame:
    """One state of a workshop's page, rendered once per language on demand."""

    data: ScreenData
    rendered: dict[str, str] = field(default_factory=dict)


class Closing:
    """The server is shutting down: a page's stream ends, and its browser reconnects later."""


CLOSING = Closing()
Update = Frame | None | Closing  # what a page's queue carries (None: the workshop is gone)


class Full(Exception):
    """The workshop has as many open pages as allowed."""


class _Watch:
    def __init__(self) -> None:
        self.pages: set[asyncio.Queue[Update]] = set()
        self.frame: Frame | None = None
        self.task: asyncio.Task[None] | None = None


class ScreenHub:
    """Hands each open page the newest Frame of its workshop (None: the workshop is gone)."""

    def __init__(
        self, services: Callable[[], Services], *, poll_seconds: float = POLL_SECONDS
    ) -> None:
        self._services = services
        self.poll_seconds = poll_seconds
        self._watches: dict[int, _Watch] = {}
        self.reads = 0  # full reads of a page's data (for the bench and tests)

    @asynccontextmanager
    async def subscribe(self, workshop_id: int) -> AsyncIterator[asyncio.Queue[Update]]:
        """Yields a queue that gets the current frame at once and each new one after."""
        watch = self._watches.setdefault(workshop_id, _Watch())
        if len(watch.pages) >= MAX_PAGES_PER_WORKSHOP:
            raise Full(workshop_id)
        queue: asyncio.Queue[Update] = asyncio.Queue(maxsize=1)
        watch.pages.add(queue)
        if watch.frame is not None:
            queue.put_nowait(watch.frame)
        if watch.task is None or watch.task.done():
            watch.task = asyncio.create_task(
                self._watch(workshop_id, watch), name=f"screen-{workshop_id}"
            )
        try:
            yield queue
        finally:
            watch.pages.discard(queue)

    async def _watch(self, workshop_id: int, watch: _Watch) -> None:
        marker: Any = object()
        while watch.pages:
            try:
                marker = await self._step(workshop_id, watch, marker)
            except Exception:  # a database hiccup: the pages keep their view and we try again
                log.warning("presenter page of %s: reading failed", workshop_id, exc_info=True)
            await asyncio.sleep(self.poll_seconds)
        if self._watches.get(workshop_id) is watch:
            del self._watches[workshop_id]

    async def _step(self, workshop_id: int, watch: _Watch, marker: Any) -> Any:
        services = self._services()
        async with services.db.read() as session:
            fresh = await screen_marker(session, workshop_id=workshop_id)
        if fresh == marker:
            return marker
        data = None if fresh is None else await load_screen(services, workshop_id)
        self.reads += 1
        watch.frame = None if data is None else Frame(data)
        for page in list(watch.pages):
            _put_latest(page, watch.frame)
        return fresh

    async def close(self) -> None:
        """Ends every open page's stream and stops the watchers (the server is shutting down).

        Without it the server would wait its whole shutdown timeout for the open streams.
        """
        for watch in self._watches.values():
            for page in list(watch.pages):
                _put_latest(page, CLOSING)
        tasks = [w.task for w in self._watches.values() if w.task is not None]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with suppress(asyncio.CancelledError):
                await task
        self._watches.clear()


def _put_latest(queue: asyncio.Queue[Update], frame: Update) -> None:
    """Replaces what a slow page has not taken yet: it only ever needs the newest frame."""
    with suppress(asyncio.QueueEmpty):
        queue.get_nowait()
    queue.put_nowait(frame)
