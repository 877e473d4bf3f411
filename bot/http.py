"""PTB's networking on aiohttp instead of httpx: the same Bot API calls for less CPU.

PTB documents BaseRequest as the seam for other asyncio HTTP libraries. Each Bot API call
through HTTPXRequest costs about a millisecond of CPU in httpx, httpcore, h11 and anyio, all
pure Python; aiohttp's client parses HTTP in C. With two calls per button press (answer the
press, show the next question) that was the largest share of the bot's CPU after the
database (bench/bench_journey.py; figures in the commit message). aiohttp is already one of
the project's fixed libraries (webhook server, stand-in), so nothing new is installed.
"""

from __future__ import annotations

from typing import Any

import aiohttp
from telegram._utils.defaultvalue import DefaultValue
from telegram._utils.types import ODVInput
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData

from bot.logs import redact


class AiohttpRequest(BaseRequest):
    """A BaseRequest on one aiohttp ClientSession, with a bounded connection pool.

    Timeouts mean what they mean for PTB's HTTPXRequest: connect and pool timeouts bound the
    wait for a connection (aiohttp counts both as "connect"), the read timeout bounds the wait
    for the answer, and the write timeout (longer for uploads) is added to the overall limit.
    """

    def __init__(
        self,
        *,
        connection_pool_size: int = 16,
        read_timeout: float | None = 5.0,
        write_timeout: float | None = 5.0,
        connect_timeout: float | None = 5.0,
        pool_timeout: float | None = 1.0,
        media_write_timeout: float | None = 20.0,
        trust_env: bool = True,
    ) -> None:
        self._pool_size = connection_pool_size
        self._read_timeout = read_timeout
        self._write_timeout = write_timeout
        self._connect_timeout = connect_timeout
        self._pool_timeout = pool_timeout
        self._media_write_timeout = media_write_timeout
        self._trust_env = trust_env
        self._session: aiohttp.ClientSession | None = None

    @property
    def read_timeout(self) -> float | None:
        """The default read timeout (PTB adds the long-polling time to it for getUpdates)."""
        return self._read_timeout

    async def initialize(self) -> None:
        """Opens the session (again, after a shutdown)."""
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=self._pool_size),
                headers={"User-Agent": self.USER_AGENT},
                # As httpx does for PTB: HTTPS_PROXY, HTTP_PROXY and NO_PROXY are honoured, so a
                # bot behind an administration's outbound proxy reaches Telegram.
                trust_env=self._trust_env,
            )

    async def shutdown(self) -> None:
        """Closes the session and its connections."""
        if self._session is not None and not self._session.closed:
            await self._session.close()
        self._session = None

    def _timeout(
        self,
        *,
        files: bool,
        read: ODVInput[float],
        write: ODVInput[float],
        connect: ODVInput[float],
        pool: ODVInput[float],
    ) -> aiohttp.ClientTimeout:
        def pick(value: ODVInput[float], default: float | None) -> float | None:
            return default if isinstance(value, DefaultValue) else value

        read_s = pick(read, self._read_timeout)
        write_s = pick(write, self._media_write_timeout if files else self._write_timeout)
        connect_s = pick(connect, self._connect_timeout)
        pool_s = pick(pool, self._pool_timeout)
        waits = (read_s, write_s, connect_s, pool_s)
        total = None if None in waits else sum(w for w in waits if w is not None)
        acquire = None if connect_s is None or pool_s is None else connect_s + pool_s
        return aiohttp.ClientTimeout(
            total=total, connect=acquire, sock_connect=connect_s, sock_read=read_s
        )

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        write_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        connect_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        pool_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        """Sends one request; returns the status code and the body."""
        session = self._session
        if session is None or session.closed:
            raise RuntimeError("This AiohttpRequest is not initialized!")
        files = request_data.multipart_data if request_data else None
        fields = request_data.json_parameters if request_data else None
        data: Any = fields or None
        if files:
            form = aiohttp.FormData()
            for name, value in (fields or {}).items():
                form.add_field(name, value)
            for name, (filename, content, mimetype) in files.items():
                form.add_field(name, content, filename=filename, content_type=mimetype)
            data = form
        timeout = self._timeout(
            files=bool(files),
            read=read_timeout,
            write=write_timeout,
            connect=connect_timeout,
            pool=pool_timeout,
        )
        failure: NetworkError
        try:
            async with session.request(method, url, data=data, timeout=timeout) as response:
                return response.status, await response.read()
        except TimeoutError as err:
            failure = TimedOut(f"aiohttp: {err.__class__.__name__}: {redact(str(err))}")
        except aiohttp.ClientError as err:
            failure = NetworkError(f"aiohttp.{err.__class__.__name__}: {redact(str(err))}")
        # Raised outside the except clause, so that aiohttp's own exception, whose text names
        # the URL with the bot token, is neither its cause nor its context in a traceback.
        raise failure
