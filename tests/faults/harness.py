"""The fault suite's harness: the bot as a real subprocess against a sandbox in this process."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import sys
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlmodel import col

from bot.demo_crowd import Walker, answer_sheets
from sandbox.context import Settings as SandboxSettings
from sandbox.models import StoredMessage
from sandbox.server import BotApiServer
from storage.models import Answer, Participant, Run
from tests.support.bots import spawn, stop_process
from tests.support.database import reading
from tests.support.groups import make_group
from tests.support.ports import free_port
from typology.questionnaire import load_questionnaire

TOKEN = "777777:fault-suite-token"
SECRET = "fault-Secret_7"
GROUP, MODERATOR = -100_7777, 7777
FULL = os.environ.get("DTEAM_FAULTS_FULL") == "1"  # scripts/faults: the documented full size
_CODE = re.compile(r"\?start=([A-Za-z0-9_-]+)$")


def make_sandbox() -> BotApiServer:
    """A sandbox that retries webhook deliveries quickly, with a group and its moderator."""
    return BotApiServer(
        settings=SandboxSettings(webhook_backoff=0.05, webhook_backoff_max=0.5, webhook_timeout=10)
    )


def make_world(server: BotApiServer) -> None:
    """Registers the bot, a group with the bot as admin, and the moderator as its creator."""
    server.add_bot(TOKEN, username="dteam_fault_bot")
    make_group(
        server,
        GROUP,
        MODERATOR,
        bot_id=int(TOKEN.split(":")[0]),
        title="Störfall-Gruppe",
        moderator_name="Moderatorin",
        can_pin_messages=True,
    )


class BotSubprocess:
    """`python -m bot.cli run [--webhook]` pointed at the sandbox; start, kill, restart."""

    def __init__(
        self, server: BotApiServer, database_url: str, log: Path, *, webhook: bool = False
    ) -> None:
        self.webhook, self.log = webhook, log
        port = free_port()
        self.env = {
            **os.environ,
            "DTEAM_BOT_TOKEN": TOKEN,
            "DTEAM_API_URL": server.root,
            "DTEAM_DATABASE_URL": database_url,
            "DTEAM_LISTEN_PORT": str(port),
            "DTEAM_LOG_LEVEL": "INFO",
            "DTEAM_THROTTLE": "false",  # the sandbox's limits are off; measure the faults
            "DTEAM_LIVE_INTERVAL": "1.0",
            "PYTHONUNBUFFERED": "1",
        }
        if webhook:
            self.env.update(
                DTEAM_WEBHOOK_URL=f"http://127.0.0.1:{port}/hook", DTEAM_WEBHOOK_SECRET=SECRET
            )
        self.proc: asyncio.subprocess.Process | None = None
        self.starts = 0

    async def start(self) -> None:
        """Starts the bot and waits until it polls (or its webhook is set)."""
        cmd = [sys.executable, "-m", "bot.cli", "run", *(["--webhook"] if self.webhook else [])]
        with self.log.open("ab") as sink:
            sink.write(f"=== start {self.starts + 1}: {' '.join(cmd[2:])}\n".encode())
        self.starts += 1
        marker = "webhook http" if self.webhook else "polling http"
        self.proc = await spawn(cmd, self.env, marker, log=self.log)

    async def kill(self) -> None:
        """SIGKILL: no shutdown code runs, whatever was in memory is gone."""
        if self.proc is not None and self.proc.returncode is None:
            self.proc.send_signal(signal.SIGKILL)
            await self.proc.wait()

    async def stop(self) -> None:
        """SIGTERM, as `docker stop` does; kills after 30 s."""
        if self.proc is not None:
            await stop_process(self.proc)

    @property
    def alive(self) -> bool:
        """Whether the process is running."""
        return self.proc is not None and self.proc.returncode is None

    def log_text(self) -> str:
        """Everything the bot logged in this test, all starts together."""
        return self.log.read_text(encoding="utf-8", errors="replace")


async def open_session(server: BotApiServer) -> str:
    """Sends /session as the moderator; returns the join code from the QR message."""
    mark = server.mark()
    server.send_text(MODERATOR, "/session Störfall", chat_id=GROUP)
    qr: StoredMessage = await server.wait_for(
        lambda m: m.photo is not None, 30, chat_id=GROUP, since=mark
    )
    match = _CODE.search(str(qr.buttons[0].get("url", "")))
    assert match, qr.buttons
    return match[1]


def walkers(
    server: BotApiServer, code: str, n: int, *, first: int = 50_000, patience: float = 3.0
) -> list[Walker]:
    """n participants with answer sheets that lean to different types."""
    sheets = answer_sheets(load_questionnaire(), n, seed=first)
    return [
        Walker(server, first + i, code, sheet, token=TOKEN, patience=patience, deadline=180)
        for i, sheet in enumerate(sheets)
    ]


@dataclass
class Stored:
    """What the database holds for one participant."""

    runs: int
    finished: int
    answers: dict[str, str]


async def stored_runs(database_url: str, user_ids: list[int]) -> dict[int, Stored]:
    """Reads runs and the finished run's answers for each Telegram user id."""
    out: dict[int, Stored] = {}
    async with reading(database_url) as s:
        rows = (
            await s.execute(
                select(col(Participant.telegram_id), col(Run.id), col(Run.status))
                .join(Run, col(Run.participant_id) == col(Participant.id))
                .where(col(Participant.telegram_id).in_(user_ids))
            )
        ).all()
        for uid in user_ids:
            mine = [r for r in rows if r[0] == uid]
            done = [r[1] for r in mine if r[2] == "finished"]
            answers: dict[str, str] = {}
            if done:
                got = await s.execute(
                    select(col(Answer.item_id), col(Answer.option_id)).where(
                        col(Answer.run_id) == done[-1]
                    )
                )
                answers = {str(i): str(o) for i, o in got.all()}
            out[uid] = Stored(len(mine), len(done), answers)
    return out


async def answered(people: list[Walker], share: float) -> None:
    """Waits until the participants together pressed `share` of all their answers."""
    total = sum(len(w.sheet) for w in people)
    notifier = people[0].server.world.notifier
    while sum(len(w.pressed) for w in people) < share * total:
        await notifier.wait(0.1)
