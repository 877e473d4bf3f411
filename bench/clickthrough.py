"""Drives N simulated participants through a bot's buttons and measures press-to-answer time.

Each participant takes the way forward: the consent button, then one answer per question
(never a language switch or a back button, which would not move them on), and is counted as
finished only when the bot's final message arrives, so that the run's time includes the
whole result (for D-Team: text, chart and profile card), not just the first reply to the last
press.
"""

from __future__ import annotations

import asyncio
import random
import time
from dataclasses import dataclass, field

from sandbox.models import StoredMessage
from sandbox.participants import SimulatedParticipant
from sandbox.server import BotApiServer

# Callback data both the bare bot and D-Team use (handlers/core/callbacks.py): consent and answer
# buttons lead forward; the final message (D-Team's profile card) has a button to start again.
FORWARD = ("c", "a:")
AGAIN = "n"


def finished(message: StoredMessage) -> bool:
    """Tells the bot's final message: the one with the button to start again."""
    return any(b.get("callback_data") == AGAIN for b in message.buttons)


@dataclass
class Figures:
    """Throughput and latency of one click-through run."""

    label: str
    participants: int
    presses: int = 0
    elapsed: float = 0.0
    latencies: list[float] = field(default_factory=list)
    failures: int = 0
    cpu: float = 0.0  # CPU seconds the bot process spent, when measured

    @property
    def per_second(self) -> float:
        """Button presses answered per second."""
        return self.presses / self.elapsed if self.elapsed else 0.0

    def pct(self, q: float) -> float:
        """Latency percentile in milliseconds."""
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        return 1000 * ordered[min(len(ordered) - 1, int(q * len(ordered)))]

    def line(self) -> str:
        """One printable line."""
        return (
            f"{self.label:<22} {self.participants:>4} participants  {self.presses:>6} presses  "
            f"{self.per_second:8.1f} updates/s  p50 {self.pct(0.5):7.1f} ms  "
            f"p99 {self.pct(0.99):7.1f} ms  bot CPU {1000 * self.cpu / max(self.presses, 1):5.2f}"
            f" ms/press  failures {self.failures}"
        )


async def _one(
    server: BotApiServer,
    token: str,
    user_id: int,
    figures: Figures,
    presses: int,
    timeout: float,
) -> None:
    rng = random.Random(user_id)
    person = SimulatedParticipant(
        server, user_id, f"P{user_id}", "de", timeout=timeout, token=token
    )
    begin = person.mark  # the same users may have met another bot of this run before
    await person.start()
    await person.wait_for_keyboard()
    for _ in range(presses):
        message = person.keyboard_message()
        if message is None:
            raise RuntimeError(f"participant {user_id} has no button to press")
        forward = [b for b in message.buttons if str(b["callback_data"]).startswith(FORWARD)]
        if not forward:
            raise RuntimeError(f"participant {user_id} has no way forward on {message.body!r}")
        button = rng.choice(forward[:5])
        started = time.perf_counter()
        await person.press_data(message, button["callback_data"])
        await person.wait_for(lambda m: True)
        figures.latencies.append(time.perf_counter() - started)
        figures.presses += 1
    await person.wait_for(finished, since=begin)


async def click_through(
    server: BotApiServer,
    token: str,
    n: int,
    label: str,
    *,
    presses: int,
    timeout: float = 60,
) -> Figures:
    """Runs n participants concurrently, each pressing `presses` buttons; returns figures.

    A participant who does not get the final message is a failure.
    """
    figures = Figures(label, n)
    started = time.perf_counter()
    results = await asyncio.gather(
        *(_one(server, token, 900_000 + i, figures, presses, timeout) for i in range(n)),
        return_exceptions=True,
    )
    figures.elapsed = time.perf_counter() - started
    figures.failures = sum(isinstance(r, BaseException) for r in results)
    return figures
