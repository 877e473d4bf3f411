"""Start-up checks of `dteam run`: each failure is one line saying what to change.

Run before the bot is assembled, in the order a person would fix things: the database URL,
the listen port, the database itself, the Bot API and the token. A failure is a StartupError
whose message names the setting (or the service) and what to do; `bot/cli.py` prints it as one
line and exits with its code: 2 when a setting must change, 1 when the machine, the network or
a service must. `describe` does the same for the errors that can still happen while the bot
starts (a database that went away between the check and the migration, a port taken since).
"""

from __future__ import annotations

import asyncio
import errno
import os
import socket
from pathlib import Path

import aiohttp
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from bot.extbot import is_loopback
from bot.settings import Settings
from storage.database import (
    URL_FORMS,
    Database,
    DatabaseUrlError,
    ReadOnlyDatabase,
    async_database_url,
)

CONFIG = 2  # a setting must change
ENVIRONMENT = 1  # the machine, the network or a service must change
DATABASE_TIMEOUT = 15.0  # seconds for the database to answer at start-up
BOT_API_TIMEOUT = 15.0  # seconds for getMe


class StartupError(Exception):
    """The bot cannot start; the message is one line for the console, code the exit code."""

    def __init__(self, message: str, code: int) -> None:
        super().__init__(message)
        self.code = code


async def preflight(settings: Settings, *, webhook: bool, delete_webhook: bool) -> None:
    """Checks what `dteam run` needs; raises StartupError for the first thing that is wrong."""
    if delete_webhook:
        await check_bot_api(settings)
        return
    url = database_url(settings)
    if webhook:
        from bot.webhook import webhook_config

        webhook_config(settings)  # SettingsError: printed by the CLI as configuration
    await check_port(settings)
    await check_database(url)
    await check_bot_api(settings)


def database_url(settings: Settings) -> str:
    """Returns DTEAM_DATABASE_URL in the async driver's form, or raises StartupError."""
    try:
        url = async_database_url(settings.database_url)
    except DatabaseUrlError as exc:
        raise StartupError(f"DTEAM_DATABASE_URL: {exc}", CONFIG) from None
    parsed = make_url(url)
    in_memory = (parsed.database or ":memory:") == ":memory:" or "mode=memory" in url
    if parsed.get_backend_name() == "sqlite" and in_memory:
        raise StartupError(
            "DTEAM_DATABASE_URL: an in-memory database loses every answer when the bot "
            f"stops; write {URL_FORMS}",
            CONFIG,
        )
    return url


async def check_port(settings: Settings) -> None:
    """Refuses a listen address that is taken or not this machine's (webhook, /healthz)."""
    host, port = settings.listen_host, settings.listen_port
    if port == 0:
        return
    where = f"{host}:{port}"
    try:
        # As aiohttp's TCPSite binds it later: every address of host, SO_REUSEADDR.
        server = await asyncio.get_running_loop().create_server(
            asyncio.Protocol, host, port, reuse_address=True
        )
    except socket.gaierror:
        raise StartupError(
            f"DTEAM_LISTEN_HOST: {host} is not a known address; use 127.0.0.1 or 0.0.0.0", CONFIG
        ) from None
    except OSError as exc:
        raise _port_error(exc, where) from None
    server.close()
    await server.wait_closed()


def _port_error(exc: OSError, where: str) -> StartupError:
    if exc.errno == errno.EADDRINUSE:
        return StartupError(
            f"DTEAM_LISTEN_PORT: {where} is already in use (another dteam?); stop that program "
            "or choose a free port",
            ENVIRONMENT,
        )
    if exc.errno == errno.EACCES:
        return StartupError(
            f"DTEAM_LISTEN_PORT: not allowed to listen on {where}; choose a port above 1024",
            CONFIG,
        )
    if exc.errno == errno.EADDRNOTAVAIL:
        return StartupError(
            f"DTEAM_LISTEN_HOST: {where} is not an address of this machine; use 127.0.0.1 "
            "or 0.0.0.0",
            CONFIG,
        )
    return StartupError(
        f"DTEAM_LISTEN_PORT: cannot listen on {where}: {_reason(exc)}", ENVIRONMENT
    )


async def check_database(url: str) -> None:
    """Connects and opens a write transaction; raises StartupError saying what is wrong."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        _sqlite_path_usable(Path(parsed.database or ""))
    db = Database(url)
    try:
        await asyncio.wait_for(db.check_writable(), DATABASE_TIMEOUT)
    except TimeoutError:
        raise StartupError(
            f"the database at {_where(url)} did not answer within {DATABASE_TIMEOUT:.0f} s; "
            "is it running and reachable?",
            ENVIRONMENT,
        ) from None
    except Exception as exc:  # each driver error is explained below, or shown in one line
        raise describe_database(url, exc) from None
    finally:
        await db.dispose()


def _sqlite_path_usable(path: Path) -> None:
    folder = path.absolute().parent
    if not folder.is_dir():
        raise StartupError(
            f"DTEAM_DATABASE_URL: the folder {folder} does not exist; create it or write "
            "another path (sqlite:///relative.db, sqlite:////absolute/path.db)",
            CONFIG,
        )
    if path.is_dir():
        raise StartupError(
            f"DTEAM_DATABASE_URL: {path.absolute()} is a folder; name a file in it, "
            f"e.g. sqlite:///{path.absolute() / 'dteam.sqlite'}",
            CONFIG,
        )
    # Found before connecting: a connection that fails inside aiosqlite's worker thread can
    # answer after the event loop closed and print a traceback after our one line.
    if not path.exists() and not os.access(folder, os.W_OK | os.X_OK):
        raise _sqlite_error(path.absolute(), PermissionError("folder not writable"))


def describe_database(url: str, exc: BaseException) -> StartupError:
    """Turns a driver's error at start-up into one line naming what to change."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return _sqlite_error(Path(parsed.database or "").absolute(), exc)
    where = _where(url)
    if isinstance(exc, ReadOnlyDatabase):
        return StartupError(
            f"PostgreSQL at {where} accepts no writes (a standby or read-only role); point "
            "DTEAM_DATABASE_URL at the primary",
            ENVIRONMENT,
        )
    state = _sqlstate(exc)
    user = parsed.username or "(none)"
    if state == "28P01":
        return StartupError(
            f"DTEAM_DATABASE_URL: PostgreSQL at {where} refused the password of user {user}; "
            "check the user and password in the URL",
            CONFIG,
        )
    if state is not None and state.startswith("28"):
        return StartupError(
            f"DTEAM_DATABASE_URL: PostgreSQL at {where} refused user {user}: {_reason(exc)}",
            CONFIG,
        )
    if state == "3D000":
        return StartupError(
            f"DTEAM_DATABASE_URL: the database {parsed.database} does not exist at {where}; "
            "create it (createdb) or correct the name",
            CONFIG,
        )
    if state is not None:
        return StartupError(f"PostgreSQL at {where}: {_reason(exc)}", ENVIRONMENT)
    if "rejected SSL upgrade" in _reason(exc):
        return StartupError(
            f"DTEAM_DATABASE_URL: PostgreSQL at {where} offers no SSL, but the URL requires it "
            "(sslmode); enable SSL on the server or write sslmode=prefer",
            CONFIG,
        )
    return StartupError(
        f"cannot reach PostgreSQL at {where}: {_reason(exc)}; is it running, and are host and "
        "port in DTEAM_DATABASE_URL right?",
        ENVIRONMENT,
    )


def _sqlite_error(path: Path, exc: BaseException) -> StartupError:
    text = _reason(exc)
    folder = path.parent
    if "readonly" in text.replace(" ", "") or (path.exists() and not os.access(path, os.W_OK)):
        return StartupError(
            f"DTEAM_DATABASE_URL: the SQLite file {path} is read-only for this user; make it "
            "and its folder writable",
            ENVIRONMENT,
        )
    if not os.access(folder, os.W_OK | os.X_OK):
        return StartupError(
            f"DTEAM_DATABASE_URL: the folder {folder} is not writable for this user; SQLite "
            f"keeps {path.name} and its -wal and -shm files there",
            ENVIRONMENT,
        )
    if "not a database" in text:
        return StartupError(
            f"DTEAM_DATABASE_URL: {path} is not a SQLite database; name another file",
            CONFIG,
        )
    return StartupError(
        f"DTEAM_DATABASE_URL: cannot use the SQLite file {path}: {text}", ENVIRONMENT
    )


def _sqlstate(exc: BaseException) -> str | None:
    for link in _chain(exc):
        state = getattr(link, "sqlstate", None)
        if isinstance(state, str) and state:
            return state
    return None


def _chain(exc: BaseException) -> list[BaseException]:
    seen: list[BaseException] = []
    todo: list[BaseException | None] = [exc]
    while todo:
        link = todo.pop()
        if link is None or any(link is s for s in seen):
            continue
        seen.append(link)
        orig = link.orig if isinstance(link, DBAPIError) else None
        todo += [orig if isinstance(orig, BaseException) else None]
        todo += [link.__cause__, link.__context__]
    return seen


def _reason(exc: BaseException) -> str:
    """The innermost useful message of exc, on one line, without SQLAlchemy's decorations."""
    for link in _chain(exc):
        if isinstance(link, socket.gaierror) and link.strerror:
            return link.strerror  # "Name or service not known"
        if isinstance(link, OSError) and link.errno and link.errno > 0:
            return os.strerror(link.errno)  # "Connection refused"
    for link in _chain(exc):
        if isinstance(link, DBAPIError):
            continue
        text = " ".join(str(link).split())
        if text:
            return text.removeprefix("(sqlite3.OperationalError) ")
    return type(exc).__name__


def _where(url: str) -> str:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return str(Path(parsed.database or "").absolute())
    return f"{parsed.host or 'localhost'}:{parsed.port or 5432}"


async def check_bot_api(settings: Settings) -> None:
    """Asks the Bot API getMe: refused token, wrong API URL or no answer is a StartupError."""
    assert settings.bot_token is not None
    root = settings.api_url.rstrip("/")
    # The token is part of the path: no message below may contain the URL, only root.
    url = f"{root}/bot{settings.bot_token.get_secret_value()}/getMe"
    timeout = aiohttp.ClientTimeout(total=BOT_API_TIMEOUT)
    try:
        async with (
            aiohttp.ClientSession(timeout=timeout, trust_env=not is_loopback(root)) as session,
            session.get(url) as response,
        ):
            status = response.status
            body = await response.json(content_type=None) if status == 200 else None
    except TimeoutError:
        raise StartupError(
            f"the Bot API at {root} did not answer within {BOT_API_TIMEOUT:.0f} s; check the "
            "network (and HTTPS_PROXY)",
            ENVIRONMENT,
        ) from None
    except aiohttp.ClientConnectorError as exc:
        raise StartupError(
            f"cannot reach the Bot API at {root}: {_reason(exc.os_error)}; check the network "
            "(and HTTPS_PROXY) or DTEAM_API_URL",
            ENVIRONMENT,
        ) from None
    except (aiohttp.ClientError, ValueError) as exc:
        raise StartupError(
            f"DTEAM_API_URL: {root} does not answer like the Bot API ({type(exc).__name__}); "
            "leave it unset for https://api.telegram.org",
            CONFIG,
        ) from None
    _check_get_me(root, status, body)


def _check_get_me(root: str, status: int, body: object) -> None:
    if status == 401:
        raise StartupError(
            "DTEAM_BOT_TOKEN: Telegram refused the token (401 Unauthorized); copy it again from "
            "@BotFather (/mybots → API Token)",
            CONFIG,
        )
    if status == 404:
        raise StartupError(
            f"DTEAM_API_URL: {root} answers getMe with 404 Not Found; it must be the Bot API "
            "root (leave it unset for https://api.telegram.org)",
            CONFIG,
        )
    if status != 200:
        raise StartupError(
            f"the Bot API at {root} answered getMe with HTTP {status}; try again later",
            ENVIRONMENT,
        )
    if not (isinstance(body, dict) and body.get("ok") is True):
        raise StartupError(
            f"DTEAM_API_URL: {root} does not answer like the Bot API; leave it unset for "
            "https://api.telegram.org",
            CONFIG,
        )


def describe(exc: BaseException, settings: Settings) -> StartupError | None:
    """The one-line form of an error raised while the bot started, if it is a known kind."""
    from telegram.error import InvalidToken, NetworkError

    if isinstance(exc, InvalidToken):
        return StartupError(
            "DTEAM_BOT_TOKEN: Telegram refused the token; check it with @BotFather", CONFIG
        )
    if isinstance(exc, NetworkError):
        return StartupError(
            f"cannot reach the Bot API at {settings.api_url.rstrip('/')}; check the network "
            "(and HTTPS_PROXY) or DTEAM_API_URL",
            ENVIRONMENT,
        )
    if isinstance(exc, DBAPIError | ReadOnlyDatabase):
        return describe_database(async_database_url(settings.database_url), exc)
    if isinstance(exc, OSError) and exc.errno in (errno.EADDRINUSE, errno.EADDRNOTAVAIL):
        return _port_error(exc, f"{settings.listen_host}:{settings.listen_port}")
    return None
