"""`dteam demo`: a whole workshop through the real bot against the local Bot API stand-in."""

from __future__ import annotations

import asyncio
import logging
import re
import socket
import sys
import time
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

import aiohttp
from pydantic import SecretStr
from tqdm import tqdm

from bot.demo_crowd import AppWalker, Walker, answer_sheets
from bot.settings import Settings
from sandbox.context import Settings as StandInSettings
from sandbox.models import StoredMessage
from sandbox.server import BotApiServer
from typology.questionnaire import load_questionnaire
from web.pages import STATIC_DIR

log = logging.getLogger(__name__)

TOKEN = "424242:demo-token-for-the-local-sandbox"  # noqa: S105 - the sandbox's, not Telegram's
GROUP, MODERATOR, FIRST_PARTICIPANT = -100_4242, 4242, 10_001
_CODE = re.compile(r"\?start(?:app)?=([A-Za-z0-9_-]+)$")
TIMEOUT = 60.0
README = """D-Team offline demo
===================

What ran: the real bot (the `dteam run` code, long polling) against a local stand-in of the
Telegram Bot API on {root} (loopback only, no token, no network). A moderator opened a session
with /session in the group "{title}", {n} simulated participants joined from its link and
consented and answered (each leaning to one of the four types, with noise): {n_chat} in the chat
with the bot, {n_app} in the Mini App (the bot's web page at {web}, opened from the link as
Telegram opens it, with launch data signed by the stand-in). Then the moderator sent /summary,
/beamer and /beamer reveal (the presenter page), and /export.

Files:
  dteam-post.md     the D-Team post the bot posted in the group (Markdown)
  dteam-post.png    its composition chart
  presenter.html    the presenter page for the shared screen (/beamer, then /beamer reveal),
                    saved as a static snapshot (open it in a browser)
  {exports}
  demo.sqlite       the bot's database for this demo (SQLite)
  bot.log           the bot's log

The demo always uses its own fresh SQLite file in this folder, never DTEAM_DATABASE_URL: it
writes {n} made-up participants, which must not end up in a real workshop's database.

Next: create a bot with @BotFather, put DTEAM_BOT_TOKEN=... into .env and run `scripts/run`.
"""


def _demo_settings(settings: Settings, root: str, db_path: Path, port: int) -> Settings:
    return settings.model_copy(
        update={
            "bot_token": SecretStr(TOKEN),
            "api_url": root,
            "database_url": f"sqlite+aiosqlite:///{db_path}",
            "channel_id": None,
            "webhook_url": None,
            # A port free a moment ago, never a running bot's: the Mini App's URL needs it.
            "listen_port": port,
            "public_url": f"http://127.0.0.1:{port}",
            "live_interval": 1.0,
        }
    )


@contextmanager
def _log_to(path: Path) -> Any:
    """Sends all log records to a file while the demo runs, so the console shows progress."""
    root = logging.getLogger()
    saved, level = root.handlers[:], root.level
    handler = logging.FileHandler(path, mode="w", encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)-7s %(name)s: %(message)s"))
    root.handlers = [handler]
    root.setLevel(min(level or logging.INFO, logging.INFO))
    try:
        yield
    finally:
        handler.close()
        root.handlers, root.level = saved, level


def _world(server: BotApiServer, title: str) -> None:
    server.add_bot(TOKEN, username="dteam_demo_bot")
    server.add_group(GROUP, title)
    server.add_user(MODERATOR, "Moderatorin", "de")
    server.set_member(GROUP, MODERATOR, "creator")
    bot_id = int(TOKEN.split(":")[0])
    server.set_member(GROUP, bot_id, "administrator", can_pin_messages=True)


async def _command(server: BotApiServer, text: str, chat: int, predicate: Any) -> StoredMessage:
    mark = server.mark()
    server.send_text(MODERATOR, text, chat_id=chat)
    found: StoredMessage = await server.wait_for(predicate, TIMEOUT, chat_id=chat, since=mark)
    return found


async def _crowd(
    server: BotApiServer, link: str, n: int, lang: str, web: str
) -> list[Walker | AppWalker]:
    """Every second participant answers in the chat, the others in the Mini App."""
    sheets = answer_sheets(load_questionnaire(), n)
    code = link.rsplit("=", 1)[1]
    walkers: list[Walker | AppWalker] = [
        Walker(server, FIRST_PARTICIPANT + i, code, sheet, token=TOKEN, language=lang)
        if i % 2 == 0
        else AppWalker(server, FIRST_PARTICIPANT + i, link, sheet, web, TOKEN, language=lang)
        for i, sheet in enumerate(sheets)
    ]
    bar = tqdm(total=n, desc="participants", unit="done", file=sys.stderr, leave=True)

    async def one(i: int, walker: Walker | AppWalker, http: aiohttp.ClientSession) -> None:
        await asyncio.sleep(i * 0.05)  # they scan the QR code one after another
        await (walker.walk(http) if isinstance(walker, AppWalker) else walker.walk())
        bar.update(1)

    try:
        async with aiohttp.ClientSession() as http:
            await asyncio.gather(*(one(i, w, http) for i, w in enumerate(walkers)))
    finally:
        bar.close()
    return walkers


def markdown(message: StoredMessage) -> str:
    """Returns a message's text with its bold and italic entities as Markdown."""
    text = message.body
    units = text.encode("utf-16-le")
    marks: dict[int, list[str]] = {}
    for entity in message.entities or message.caption_entities:
        sign = {"bold": "**", "italic": "_"}.get(entity["type"])
        if sign:
            marks.setdefault(entity["offset"], []).append(sign)
            marks.setdefault(entity["offset"] + entity["length"], []).insert(0, sign)
    out, pos = [], 0
    for at in sorted(marks):
        out += [units[2 * pos : 2 * at].decode("utf-16-le"), "".join(marks[at])]
        pos = at
    out.append(units[2 * pos :].decode("utf-16-le"))
    return "".join(out)


async def _summary(server: BotApiServer, out: Path) -> list[Path]:
    chart = await _command(server, "/summary", GROUP, lambda m: m.photo is not None)
    post = await server.wait_for(
        lambda m: m.text is not None and m.message_id > chart.message_id,
        TIMEOUT,
        chat_id=GROUP,
    )
    assert chart.photo is not None
    (out / "dteam-post.png").write_bytes(chart.photo.data)
    text = f"{markdown(chart)}\n\n{markdown(post)}\n"
    (out / "dteam-post.md").write_text(text, encoding="utf-8")
    return [out / "dteam-post.md", out / "dteam-post.png"]


_STYLESHEET = re.compile(r'<link rel="stylesheet" href="/static/([a-z]+\.css)">')
_SCRIPT = re.compile(r"<script [^>]*></script>\n?")
_LINK = re.compile(r"https?://\S+/screen/\S+")


def snapshot(html: str) -> str:
    """Returns a served page as one static file: its stylesheet inlined, its script left out."""
    html = _SCRIPT.sub("", html)
    return _STYLESHEET.sub(
        lambda m: "<style>\n" + (STATIC_DIR / m[1]).read_text(encoding="utf-8") + "</style>", html
    )


async def _presenter(server: BotApiServer, out: Path) -> list[Path]:
    """Asks for the presenter link privately, reveals the results and saves the page."""
    answer = await _command(server, "/beamer", MODERATOR, lambda m: "/screen/" in (m.text or ""))
    link = _LINK.search(answer.text or "")
    if link is None:
        raise RuntimeError(f"no presenter link in /beamer's answer: {answer.text!r}")
    await _command(server, "/beamer reveal", MODERATOR, lambda _m: True)
    async with aiohttp.ClientSession() as http, http.get(link[0]) as response:
        if response.status != 200:
            raise RuntimeError(f"the presenter page answered {response.status}")
        html = await response.text()
    path = out / "presenter.html"
    path.write_text(snapshot(html), encoding="utf-8")
    return [path]


async def _export(server: BotApiServer, out: Path) -> list[Path]:
    mark = server.mark()
    server.send_text(MODERATOR, "/export", chat_id=GROUP)
    deadline = time.monotonic() + TIMEOUT
    while True:
        docs = [
            m for m in server.messages(MODERATOR, TOKEN) if m.document is not None and m.seq > mark
        ]
        if len(docs) >= 2 or time.monotonic() > deadline:
            break
        await server.world.notifier.wait(1.0)
    paths = []
    for message in docs:
        assert message.document is not None
        name = Path(message.document.file_name or f"export-{message.message_id}").name
        path = out / name
        path.write_bytes(message.document.data)
        paths.append(path)
    return paths


async def _run_workshop(
    server: BotApiServer, n: int, lang: str, out: Path, web: str
) -> list[Path]:
    """Plays the moderator and the participants; returns the files written."""
    await _command(server, "/start", MODERATOR, lambda _m: True)  # so /export may reach her
    qr = await _command(server, "/session Demo-Workshop", GROUP, lambda m: m.photo is not None)
    link = str(qr.buttons[0].get("url", ""))
    if _CODE.search(link) is None:
        raise RuntimeError(f"no join link on the session message: {qr.buttons}")
    walkers = await _crowd(server, link, n, lang, web)
    retries = sum(w.retries for w in walkers if isinstance(w, Walker))
    log.info("%d participants finished, %d taps repeated", n, retries)
    summary = [*await _summary(server, out), *await _presenter(server, out)]
    return [*summary, *await _export(server, out)]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _prepare(out: Path) -> Path:
    """Creates the folder and removes an earlier demo's database; returns its path."""
    out.mkdir(parents=True, exist_ok=True)
    db_path = out / "demo.sqlite"
    for stale in (db_path, out / "demo.sqlite-wal", out / "demo.sqlite-shm"):
        stale.unlink(missing_ok=True)
    return db_path


async def run_demo(settings: Settings, *, participants: int = 40, out: Path) -> int:
    """Runs the demo into `out`; returns the exit code."""
    if not 3 <= participants <= 500:
        print("dteam demo: --participants must be between 3 and 500", file=sys.stderr)  # noqa: T201
        return 2
    db_path = _prepare(out)
    started = time.monotonic()
    server = BotApiServer(settings=StandInSettings(allow_http_webapps=True))
    root = await server.start("127.0.0.1", 0)
    _world(server, "Demo-Workshop")
    port = _free_port()
    web = f"http://127.0.0.1:{port}"
    server.set_main_web_app(f"{web}/app/")  # what BotFather's Main Mini App setting does
    stop, ready = asyncio.Event(), asyncio.Event()
    print(f"dteam demo: local Bot API stand-in on {root}; bot log in {out / 'bot.log'}")  # noqa: T201
    with _log_to(out / "bot.log"):
        from bot.runner import run_polling  # here: alembic logs while it is imported

        bot = asyncio.create_task(
            run_polling(_demo_settings(settings, root, db_path, port), stop, ready)
        )
        try:
            waiter = asyncio.create_task(ready.wait())
            await asyncio.wait({bot, waiter}, timeout=TIMEOUT, return_when="FIRST_COMPLETED")
            if not ready.is_set():
                waiter.cancel()
                raise RuntimeError("the bot did not start; see bot.log")
            files = await _run_workshop(server, participants, settings.language, out, web)
        except (RuntimeError, TimeoutError) as exc:
            log.exception("demo failed")
            print(f"dteam demo: failed: {exc}", file=sys.stderr)  # noqa: T201
            return 1
        finally:
            stop.set()
            with suppress(Exception):
                await asyncio.wait_for(bot, 30)
            await server.stop()
    exports = "  ".join(p.name for p in files[3:]) + "   the export sent to the moderator"
    n_app = participants // 2
    readme = README.format(
        root=root,
        title="Demo-Workshop",
        n=participants,
        n_chat=participants - n_app,
        n_app=n_app,
        web=web,
        exports=exports,
    )
    (out / "README.txt").write_text(readme, encoding="utf-8")
    print(f"dteam demo: {participants} participants in {time.monotonic() - started:.0f} s; wrote")  # noqa: T201
    for path in [*files, out / "README.txt"]:
        print(f"  {path}")  # noqa: T201
    return 0
