"""A large web session through both flows, with the stand-in's Telegram limits on.

The real bot runs as `dteam run` (a separate process, production pacing, DTEAM_PUBLIC_URL at
its own web server) against the stand-in in this process, which enforces Telegram's flood
limits (1 message/s per chat with a burst of 3, 20/min per group, 30/s overall -> 429).
A moderator opens one session per flow; participants join from its link at a human pace
(a think time of 3-7 s before every answer):

- chat: /start <code>, the consent button, one button per question (the chat flow);
- app: the session's t.me/<bot>?startapp= link opens the Mini App; its API calls are made
  as the page makes them (open, consent, one POST per answer), with the launch data the
  stand-in signs.

Printed per flow: wall time (first join to the last profile card in a chat), p50/p99 from
an answer to the next question (chat: the edited message; app: the API's answer), how long
the result took to reach the chat, rate-limited Bot API calls per participant and 429s from
the stand-in's log, and whether /summary's counts equal the results the participants were
shown. The privacy threshold is 1 so that /summary shows exact counts.

Run: .venv/bin/python bench/bench_miniapp.py [N_APP] [N_CHAT]   (default 500 and 200)
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import re
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import aiohttp

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sandbox.context import Settings  # noqa: E402
from sandbox.models import StoredMessage  # noqa: E402
from sandbox.server import BotApiServer  # noqa: E402
from tests.support.ports import free_port  # noqa: E402
from typology.profiles import load_profiles  # noqa: E402

TOKEN = "333333:miniapp-bench-token"
USERNAME = "dteam_bench_bot"
MODERATOR = 900
THINK = (3.0, 7.0)  # seconds before each answer: about 5 s, a human reading the question
ARRIVAL = 30.0  # seconds over which people join (scanning the QR code)
if os.environ.get("DTEAM_BENCH_QUICK"):  # a trial of the bench itself, not a measurement
    THINK, ARRIVAL = (0.1, 0.3), 2.0
TIMEOUT = 600.0
_PROGRESS = re.compile(r"^(?:Frage|Question) (\d+) (?:von|of) (\d+)")
TYPE_OF_NAME = {p.name: t.value for t, p in load_profiles("de").items()}
RATE_LIMITED = ("send", "edit", "copy", "forward")


@dataclass
class Flow:
    """What one flow's crowd measured."""

    label: str
    participants: int
    latencies: list[float] = field(default_factory=list)  # answer -> next question
    deliveries: list[float] = field(default_factory=list)  # last answer -> card in the chat
    shown: Counter[str] = field(default_factory=Counter)  # result types the people were shown
    failures: list[str] = field(default_factory=list)
    elapsed: float = 0.0
    calls_per_person: float = 0.0
    too_many: int = 0
    summary_ok: bool | None = None
    summary: dict[str, int] = field(default_factory=dict)

    def pct(self, values: list[float], q: float) -> float:
        if not values:
            return float("nan")
        ordered = sorted(values)
        return 1000 * ordered[min(len(ordered) - 1, int(q * len(ordered)))]

    def report(self) -> str:
        return "\n".join(
            [
                f"--- {self.label}: {self.participants} participants",
                f"wall time {self.elapsed:7.1f} s (first join to the last card in a chat)",
                f"answer -> next question  p50 {self.pct(self.latencies, 0.5):8.1f} ms"
                f"  p99 {self.pct(self.latencies, 0.99):8.1f} ms  ({len(self.latencies)} answers)",
                f"last answer -> card in chat  p50 {self.pct(self.deliveries, 0.5):8.1f} ms"
                f"  p99 {self.pct(self.deliveries, 0.99):8.1f} ms",
                f"rate-limited Bot API calls per participant {self.calls_per_person:5.2f}",
                f"429 answers from the stand-in {self.too_many}",
                f"/summary equals the announced tally: {self.summary_ok}"
                f"  (summary {self.summary}, shown {dict(self.shown)})",
                f"failures {len(self.failures)} {self.failures[:3]}",
            ]
        )


async def _spawn(env: dict[str, str]) -> asyncio.subprocess.Process:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot.cli",
        "run",
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        cwd=ROOT,
    )
    assert proc.stdout is not None
    while True:
        line = await asyncio.wait_for(proc.stdout.readline(), 60)
        if not line:
            raise RuntimeError("the bot exited before it was ready")
        if b"polling" in line:
            asyncio.get_running_loop().create_task(_drain(proc))
            return proc


async def _drain(proc: asyncio.subprocess.Process) -> None:
    assert proc.stdout is not None
    path = os.environ.get("DTEAM_BENCH_LOG")
    with Path(path or os.devnull).open("ab") as sink:
        while line := await proc.stdout.readline():
            sink.write(line)


def _progress(message: StoredMessage) -> int | None:
    match = _PROGRESS.match(message.text or "")
    answers = [b for b in message.buttons if str(b.get("callback_data", "")).startswith("a:")]
    return int(match[1]) if match and answers else None


def _is_card(message: StoredMessage) -> bool:
    return (message.text or "").startswith("Steckbrief:")


def _shown_type(server: BotApiServer, uid: int) -> str:
    for message in reversed(server.messages(uid)):
        caption = message.caption or ""
        if caption.startswith("Ihr Ergebnis: "):
            return TYPE_OF_NAME[caption.removeprefix("Ihr Ergebnis: ").strip()]
    raise AssertionError(f"no result caption for {uid}")


async def _open_session(server: BotApiServer, group: int, title: str) -> str:
    mark = server.mark()
    server.send_text(MODERATOR, f"/session {title}", chat_id=group)
    qr = await server.wait_for(lambda m: m.photo is not None, 60, chat_id=group, since=mark)
    link = str(qr.buttons[0]["url"])
    assert "?startapp=" in link, link
    return link


async def _chat_person(server: BotApiServer, uid: int, link: str, flow: Flow) -> None:
    rng = random.Random(uid)
    code = link.rsplit("=", 1)[1]
    server.add_user(uid, f"C{uid}", language_code="de")
    mark = begin = server.mark()
    server.send_text(uid, f"/start {code}")
    welcome = await server.wait_for(
        lambda m: any(b.get("callback_data") == "c" for b in m.buttons),
        TIMEOUT,
        chat_id=uid,
        since=mark,
    )
    mark = server.mark()
    server.press_button(uid, welcome.message_id, "c")
    question = await server.wait_for(
        lambda m: _progress(m) is not None, TIMEOUT, chat_id=uid, since=mark
    )
    while True:
        await asyncio.sleep(rng.uniform(*THINK))
        n = _progress(question) or 0
        buttons = [b for b in question.buttons if str(b["callback_data"]).startswith("a:")]
        mark = server.mark()
        started = time.perf_counter()
        server.press_button(uid, question.message_id, rng.choice(buttons)["callback_data"])

        def moved(m: StoredMessage, n: int = n) -> bool:
            return (_progress(m) or 0) > n or (m.text or "").startswith("Vielen")

        question = await server.wait_for(
            moved,
            TIMEOUT,
            chat_id=uid,
            since=mark,
        )
        flow.latencies.append(time.perf_counter() - started)
        if _progress(question) is None:
            break
    await server.wait_for(_is_card, TIMEOUT, chat_id=uid, since=begin)
    flow.deliveries.append(time.perf_counter() - started)
    flow.shown[_shown_type(server, uid)] += 1


async def _app_person(
    server: BotApiServer, http: aiohttp.ClientSession, base: str, uid: int, link: str, flow: Flow
) -> None:
    rng = random.Random(uid)
    server.add_user(uid, f"A{uid}", language_code="de")
    url = server.open_web_app(uid, link=link)
    init_data = dict(parse_qsl(url.split("#", 1)[1]))["tgWebAppData"]
    headers = {"Authorization": f"tma {init_data}", "Content-Type": "application/json"}
    count = 0

    async def post(action: str, body: dict[str, Any]) -> dict[str, Any]:
        nonlocal count
        count += 1
        body = {"request_id": f"{uid}-{count:04d}-bench", **body}
        async with http.post(
            f"{base}/app/api/{action}", data=json.dumps(body), headers=headers
        ) as r:
            if r.status != 200:
                raise RuntimeError(f"{action}: HTTP {r.status} {await r.text()}")
            return dict(await r.json())

    view = await post("open", {})
    items = {it["id"]: it for it in view["items"]}
    view = await post("consent", {})
    while view.get("run"):
        await asyncio.sleep(rng.uniform(*THINK))
        run = view["run"]
        assert isinstance(run, dict)
        option = rng.choice(items[run["current"]]["options"])["id"]
        started = time.perf_counter()
        mark = server.mark()
        view = await post("answer", {"run": run["id"], "item": run["current"], "option": option})
        flow.latencies.append(time.perf_counter() - started)
    result = view["result"]
    assert isinstance(result, dict), view
    flow.shown[str(result["type"])] += 1
    await server.wait_for(_is_card, TIMEOUT, chat_id=uid, since=mark)
    flow.deliveries.append(time.perf_counter() - started)


async def _summary(server: BotApiServer, group: int) -> dict[str, int]:
    mark = server.mark()
    server.send_text(MODERATOR, "/summary", chat_id=group)
    post = await server.wait_for(
        lambda m: "Das D-Team" in (m.text or ""), 120, chat_id=group, since=mark
    )
    counts = {}
    for name, type_id in TYPE_OF_NAME.items():
        match = re.search(rf"• {re.escape(name)}: (\d+) \(", post.text or "")
        counts[type_id] = int(match[1]) if match else 0
    return counts


async def _crowd(
    server: BotApiServer,
    flow: Flow,
    group: int,
    person: Callable[[int, str], Awaitable[None]],
    ids: range,
) -> None:
    link = await _open_session(server, group, flow.label)
    seq, started = server.mark(), time.perf_counter()

    async def one(i: int, uid: int) -> None:
        await asyncio.sleep(ARRIVAL * i / max(len(ids), 1))
        try:
            await person(uid, link)
        except Exception as exc:  # a failure is counted, not fatal for the others
            flow.failures.append(f"{uid}: {exc!r}"[:200])

    await asyncio.gather(*(one(i, uid) for i, uid in enumerate(ids)))
    flow.elapsed = time.perf_counter() - started
    calls = [c for c in server.calls if c.seq > seq]
    private = [c for c in calls if c.chat_id in ids and c.method.lower().startswith(RATE_LIMITED)]
    flow.calls_per_person = len(private) / max(len(ids), 1)
    flow.too_many = sum(c.status == 429 for c in calls)
    flow.summary = await _summary(server, group)
    flow.summary_ok = flow.summary == {t: flow.shown.get(t, 0) for t in flow.summary}


async def main(n_app: int, n_chat: int) -> None:
    server = BotApiServer(settings=Settings(allow_http_webapps=True))
    root = await server.start()
    server.add_bot(TOKEN, username=USERNAME)
    server.set_limits(enabled=True)
    bot_id = int(TOKEN.split(":")[0])
    server.add_user(MODERATOR, "Moderatorin")
    groups = {"app": -100_901, "chat": -100_902}
    for group in groups.values():
        server.add_group(group, f"Sitzung {group}", type="supergroup")
        server.set_member(group, MODERATOR, "creator")
        server.set_member(group, bot_id, "administrator")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server.set_main_web_app(f"{base}/app/")
    with tempfile.TemporaryDirectory() as tmp:
        env = dict(
            os.environ,
            DTEAM_BOT_TOKEN=TOKEN,
            DTEAM_API_URL=root,
            DTEAM_DATABASE_URL=os.environ.get(
                "DTEAM_BENCH_DATABASE_URL", f"sqlite+aiosqlite:///{tmp}/bench.sqlite"
            ),
            DTEAM_LISTEN_PORT=str(port),
            DTEAM_PUBLIC_URL=base,
            DTEAM_PRIVACY_THRESHOLD="1",
            DTEAM_THROTTLE="true",
            DTEAM_LOG_LEVEL="INFO",
        )
        bot = await _spawn(env)
        connector = aiohttp.TCPConnector(limit=0)
        try:
            async with aiohttp.ClientSession(connector=connector) as http:
                app = Flow("app", n_app)
                await _crowd(
                    server,
                    app,
                    groups["app"],
                    lambda uid, link: _app_person(server, http, base, uid, link, app),
                    range(10_000, 10_000 + n_app),
                )
                print(app.report(), flush=True)
                chat = Flow("chat", n_chat)
                await _crowd(
                    server,
                    chat,
                    groups["chat"],
                    lambda uid, link: _chat_person(server, uid, link, chat),
                    range(20_000, 20_000 + n_chat),
                )
                print(chat.report(), flush=True)
                async with http.get(f"{base}/metrics") as answer:
                    metrics = [
                        line
                        for line in (await answer.text()).splitlines()
                        if line.startswith(("dteam_private", "dteam_group_messages", "dteam_send"))
                    ]
                print("--- the bot's /metrics over both flows")
                print("\n".join(metrics))
        finally:
            bot.terminate()
            await asyncio.wait_for(bot.wait(), 30)
            await server.stop()


if __name__ == "__main__":
    args = [int(a) for a in sys.argv[1:3]]
    asyncio.run(main(*(args + [500, 200][len(args) :])))
