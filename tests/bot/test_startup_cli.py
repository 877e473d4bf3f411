"""`dteam run` as a user starts it: pasted database URLs run, each start-up failure is one line.

Each test runs the real command line (`python -m bot.cli run`) in a subprocess against the Bot
API stand-in in this process: the forms of DTEAM_DATABASE_URL people paste start the bot, and
every way start-up can fail (database, token, Bot API, port) ends with one line on stderr, no
traceback, exit 2 when a setting must change and exit 1 when the machine or a service must.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import struct
import sys
import tempfile
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import pytest

from sandbox.server import BotApiServer
from tests.support.database import opened
from tests.support.ports import free_port

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "424242:startup-cli-token"
CONFIG, ENVIRONMENT = 2, 1
# Root writes read-only files: those cases run as root without the capability to override
# file permissions (what an unprivileged user is refused, root without it is refused too).
AS_ROOT = os.geteuid() == 0
SETPRIV = shutil.which("setpriv")


@dataclass
class Done:
    """How `dteam run` ended."""

    code: int
    stderr: str

    @property
    def line(self) -> str:
        """The one line a failing start-up printed (fails the test if there were more)."""
        lines = self.stderr.strip().splitlines()
        assert len(lines) == 1, f"expected one line on stderr, got:\n{self.stderr}"
        assert "Traceback" not in self.stderr
        return lines[0]


@pytest.fixture
async def api() -> AsyncIterator[BotApiServer]:
    server = BotApiServer()
    await server.start()
    server.add_bot(TOKEN, username="dteam_startup_bot")
    yield server
    await server.stop()


def _env(api: BotApiServer, database_url: str, **extra: str) -> dict[str, str]:
    return {
        "PATH": "/usr/bin:/bin",
        "PYTHONPATH": str(ROOT),
        "HOME": os.environ.get("HOME", tempfile.gettempdir()),
        "MPLCONFIGDIR": tempfile.gettempdir(),
        "DTEAM_BOT_TOKEN": TOKEN,
        "DTEAM_API_URL": api.root,
        "DTEAM_DATABASE_URL": database_url,
        "DTEAM_LISTEN_PORT": "0",
        "DTEAM_LOG_LEVEL": "WARNING",
        "PYTHONUNBUFFERED": "1",
        **extra,
    }


async def _dteam_run(
    env: dict[str, str], cwd: Path, *args: str, unprivileged: bool = False, running: bool = False
) -> Done:
    """Runs `dteam run`; with running=True waits until it polls, then stops it with SIGTERM."""
    prefix: list[str] = []
    if unprivileged and AS_ROOT:
        if SETPRIV is None:
            pytest.skip("running as root without setpriv: cannot make a file read-only for root")
        prefix = [SETPRIV, "--bounding-set=-dac_override,-dac_read_search"]
    proc = await asyncio.create_subprocess_exec(
        *prefix,
        sys.executable,
        "-m",
        "bot.cli",
        "run",
        *args,
        env={**env, "DTEAM_LOG_LEVEL": "INFO"} if running else env,
        cwd=cwd,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    assert proc.stderr is not None
    err: list[str] = []
    try:
        if running:
            async with asyncio.timeout(90):
                while line := (await proc.stderr.readline()).decode(errors="replace"):
                    err.append(line)
                    if "polling http" in line or "webhook http" in line:
                        proc.terminate()
        err.append((await asyncio.wait_for(proc.stderr.read(), 45)).decode(errors="replace"))
        code = await asyncio.wait_for(proc.wait(), 30)
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    return Done(code, "".join(err))


# --- the forms people paste run ------------------------------------------------------------


@pytest.mark.parametrize(
    ("form", "expected"),
    [
        ("sqlite:///rel.db", "rel.db"),  # relative to the working folder
        ("sqlite:///{dir}/abs.db", "abs.db"),  # sqlite:////absolute/path
        ("sqlite+aiosqlite:///{dir}/explicit.db", "explicit.db"),
    ],
)
async def test_sqlite_url_forms_run(
    api: BotApiServer, tmp_path: Path, form: str, expected: str
) -> None:
    url = form.format(dir=tmp_path)
    done = await _dteam_run(_env(api, url), tmp_path, running=True)
    assert done.code == 0, done.stderr
    assert "polling http" in done.stderr
    assert (tmp_path / expected).stat().st_size > 0  # migrated there


def _pg_url(admin_url: str, name: str, scheme: str, query: str = "") -> str:
    parts = urlsplit(admin_url)
    return urlunsplit((scheme, parts.netloc, f"/{name}", query, ""))


@pytest.fixture
async def pg_database(postgres_url: str) -> AsyncIterator[tuple[str, str]]:
    """A fresh PostgreSQL database: (admin URL, its name)."""
    admin = _pg_url(postgres_url, urlsplit(postgres_url).path.lstrip("/"), "postgresql")
    name = f"dteam_s_{uuid.uuid4().hex[:12]}"
    conn = await asyncpg.connect(admin)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    yield postgres_url, name
    conn = await asyncpg.connect(admin)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


@pytest.mark.postgres
@pytest.mark.parametrize(
    ("scheme", "query"),
    [
        ("postgresql", ""),
        ("postgres", ""),  # what managed services show
        ("postgresql+asyncpg", ""),
        ("postgresql+psycopg2", ""),  # a sync driver's URL from another program
        ("postgres", "sslmode=disable"),  # libpq's parameter, translated for asyncpg
        ("postgres", "sslmode=prefer&application_name=dteam"),
    ],
)
async def test_postgres_url_forms_run(
    api: BotApiServer, tmp_path: Path, pg_database: tuple[str, str], scheme: str, query: str
) -> None:
    admin, name = pg_database
    done = await _dteam_run(_env(api, _pg_url(admin, name, scheme, query)), tmp_path, running=True)
    assert done.code == 0, done.stderr
    assert "polling http" in done.stderr
    conn = await asyncpg.connect(_pg_url(admin, name, "postgresql"))
    try:
        assert await conn.fetchval("SELECT count(*) FROM alembic_version") == 1
    finally:
        await conn.close()


# --- a setting that cannot work: one line, exit 2 ----------------------------------------------


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("mysql://dteam:pw@localhost/dteam", "sqlite:///"),
        ("postgresql+psycopg://dteam:secret@localhost/dteam", "postgresql://dteam:***@"),
        ("dteam.sqlite", "sqlite:///"),
        ("sqlite://", "sqlite:///"),  # in memory: every answer lost at the next start
        ("postgres://u@localhost/d?sslmode=required", "require"),
        ("postgres://u@localhost/d?sslrootcert=/ca.pem", "PGSSLROOTCERT"),
    ],
)
async def test_unusable_database_url_is_one_line_saying_what_to_write(
    api: BotApiServer, tmp_path: Path, url: str, says: str
) -> None:
    done = await _dteam_run(_env(api, url), tmp_path)
    assert done.code == CONFIG
    assert "DTEAM_DATABASE_URL" in done.line
    assert says in done.line
    assert "secret" not in done.stderr


async def test_missing_folder_of_the_sqlite_file_is_a_setting(
    api: BotApiServer, tmp_path: Path
) -> None:
    done = await _dteam_run(_env(api, f"sqlite:///{tmp_path}/nowhere/dteam.sqlite"), tmp_path)
    assert done.code == CONFIG
    assert "DTEAM_DATABASE_URL" in done.line
    assert f"{tmp_path}/nowhere" in done.line


async def test_token_refused_by_the_bot_api_is_one_line(api: BotApiServer, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/dteam.sqlite"
    done = await _dteam_run(_env(api, url, DTEAM_BOT_TOKEN="999999:not-known-here"), tmp_path)
    assert done.code == CONFIG
    assert "DTEAM_BOT_TOKEN" in done.line
    assert "not-known-here" not in done.stderr  # a token is never printed
    calls = [c for c in api.world.calls if c.method == "getMe"]
    assert calls
    assert calls[-1].status == 401  # the stand-in refused it, as Telegram does


async def test_api_url_that_is_no_bot_api_is_one_line(api: BotApiServer, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/dteam.sqlite"
    done = await _dteam_run(_env(api, url, DTEAM_API_URL=f"{api.root}/control"), tmp_path)
    assert done.code == CONFIG
    assert "DTEAM_API_URL" in done.line


# --- the machine or a service is not ready: one line, exit 1 ---------------------------------


async def test_bot_api_unreachable_is_one_line(api: BotApiServer, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/dteam.sqlite"
    dead = f"http://127.0.0.1:{free_port()}"
    done = await _dteam_run(_env(api, url, DTEAM_API_URL=dead), tmp_path)
    assert done.code == ENVIRONMENT
    assert dead in done.line
    assert TOKEN.split(":")[1] not in done.stderr


async def test_database_unreachable_is_one_line(api: BotApiServer, tmp_path: Path) -> None:
    port = free_port()
    done = await _dteam_run(_env(api, f"postgres://dteam@127.0.0.1:{port}/dteam"), tmp_path)
    assert done.code == ENVIRONMENT
    assert f"127.0.0.1:{port}" in done.line


class RefusingPostgres:
    """Speaks PostgreSQL's start-up protocol and refuses the password (SQLSTATE 28P01)."""

    def __init__(self) -> None:
        self.server: asyncio.Server | None = None
        self.port = 0

    async def __aenter__(self) -> RefusingPostgres:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self.server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self.server is not None
        self.server.close()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            length, code = struct.unpack("!ii", await reader.readexactly(8))
            while code in (80877103, 80877104):  # SSLRequest, GSSENCRequest: not offered
                writer.write(b"N")
                length, code = struct.unpack("!ii", await reader.readexactly(8))
            await reader.readexactly(length - 8)  # the start-up message's parameters
            writer.write(b"R" + struct.pack("!ii", 8, 3))  # AuthenticationCleartextPassword
            await reader.readexactly(1)  # 'p'
            (size,) = struct.unpack("!i", await reader.readexactly(4))
            await reader.readexactly(size - 4)
            fields = (
                b'SFATAL\0VFATAL\0C28P01\0Mpassword authentication failed for user "dteam"\0\0'
            )
            writer.write(b"E" + struct.pack("!i", len(fields) + 4) + fields)
            await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()


async def test_wrong_database_password_is_one_line(api: BotApiServer, tmp_path: Path) -> None:
    async with RefusingPostgres() as pg:
        url = f"postgresql://dteam:wrong-pw@127.0.0.1:{pg.port}/dteam"
        done = await _dteam_run(_env(api, url), tmp_path)
    assert done.code == CONFIG
    assert "DTEAM_DATABASE_URL" in done.line
    assert "password" in done.line
    assert "wrong-pw" not in done.stderr


async def test_ssl_required_of_a_server_without_it_is_one_line(
    api: BotApiServer, tmp_path: Path
) -> None:
    async with RefusingPostgres() as pg:  # answers "N" to the SSL request, as without ssl=on
        url = f"postgres://dteam@127.0.0.1:{pg.port}/dteam?sslmode=require"
        done = await _dteam_run(_env(api, url), tmp_path)
    assert done.code == CONFIG
    assert "DTEAM_DATABASE_URL" in done.line
    assert "sslmode" in done.line


def _read_only_files(folder: Path) -> None:
    """Makes every file in folder read-only; the folder stays writable."""
    for path in folder.iterdir():
        path.chmod(0o444)


def _read_only_folder(folder: Path) -> Path:
    folder.mkdir()
    folder.chmod(0o555)
    return folder


async def test_read_only_sqlite_file_is_one_line(api: BotApiServer, tmp_path: Path) -> None:
    path = tmp_path / "dteam.sqlite"
    async with opened(f"sqlite:///{path}", migrated=True):
        pass  # a database with the schema: the bot would start and fail at each tap
    _read_only_files(tmp_path)
    done = await _dteam_run(_env(api, f"sqlite:///{path}"), tmp_path, unprivileged=True)
    assert done.code == ENVIRONMENT
    assert str(path) in done.line
    assert "read-only" in done.line


async def test_read_only_folder_is_one_line(api: BotApiServer, tmp_path: Path) -> None:
    folder = _read_only_folder(tmp_path / "ro")
    url = f"sqlite:///{folder}/dteam.sqlite"
    done = await _dteam_run(_env(api, url), tmp_path, unprivileged=True)
    assert done.code == ENVIRONMENT
    assert str(folder) in done.line
    assert "writable" in done.line


@pytest.mark.parametrize("webhook", [False, True])
async def test_taken_listen_port_is_one_line(
    api: BotApiServer, tmp_path: Path, webhook: bool
) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        env = _env(api, f"sqlite:///{tmp_path}/dteam.sqlite", DTEAM_LISTEN_PORT=str(port))
        if webhook:
            env.update(
                DTEAM_WEBHOOK_URL=f"http://127.0.0.1:{port}/hook", DTEAM_WEBHOOK_SECRET="s3cret"
            )
        done = await _dteam_run(env, tmp_path, *(["--webhook"] if webhook else []))
    assert done.code == ENVIRONMENT
    assert "DTEAM_LISTEN_PORT" in done.line
    assert f"127.0.0.1:{port}" in done.line
