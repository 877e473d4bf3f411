"""Switchable flood limits, injected faults and latency."""

from __future__ import annotations

import itertools
import math
import random
import time
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field

from sandbox.errors import ApiError, fault_error, too_many_requests

# Methods that send or change a message: they count against the flood limits.
MESSAGE_METHODS = frozenset(
    {
        "sendmessage",
        "sendphoto",
        "senddocument",
        "sendsticker",
        "sendanimation",
        "sendvideo",
        "sendaudio",
        "sendvoice",
        "sendmediagroup",
        "sendpoll",
        "sendlocation",
        "sendcontact",
        "copymessage",
        "forwardmessage",
        "editmessagetext",
        "editmessagecaption",
        "editmessagereplymarkup",
        "editmessagemedia",
    }
)


@dataclass
class RateLimiter:
    """About 1 message/s per chat (bursts tolerated), 20/min per group, 30/s overall."""

    enabled: bool = False
    per_chat_per_sec: float = 1.0
    burst: int = 3
    per_group_per_min: int = 20
    overall_per_sec: int = 30
    _buckets: dict[int, tuple[float, float]] = field(default_factory=dict)
    _groups: dict[int, deque[float]] = field(default_factory=dict)
    _overall: deque[float] = field(default_factory=deque)

    def configure(
        self,
        *,
        enabled: bool = True,
        per_chat_per_sec: float = 1.0,
        burst: int = 3,
        per_group_per_min: int = 20,
        overall_per_sec: int = 30,
    ) -> None:
        """Switch the limits on or off and set their rates; clears the counters."""
        self.enabled = enabled
        self.per_chat_per_sec = per_chat_per_sec
        self.burst = burst
        self.per_group_per_min = per_group_per_min
        self.overall_per_sec = overall_per_sec
        self._buckets.clear()
        self._groups.clear()
        self._overall.clear()

    def check(self, chat_id: int, is_group: bool) -> None:
        """Count one message to ``chat_id`` or raise 429 with ``retry_after``."""
        if not self.enabled:
            return
        now = time.monotonic()
        waits: list[float] = []
        tokens, stamp = self._buckets.get(chat_id, (float(self.burst), now))
        tokens = min(float(self.burst), tokens + (now - stamp) * self.per_chat_per_sec)
        if tokens < 1.0:
            waits.append((1.0 - tokens) / self.per_chat_per_sec)
        window = self._groups.setdefault(chat_id, deque()) if is_group else None
        if window is not None:
            while window and now - window[0] >= 60.0:
                window.popleft()
            if len(window) >= self.per_group_per_min:
                waits.append(60.0 - (now - window[0]))
        while self._overall and now - self._overall[0] >= 1.0:
            self._overall.popleft()
        if len(self._overall) >= self.overall_per_sec:
            waits.append(1.0 - (now - self._overall[0]))
        if waits:
            self._buckets[chat_id] = (tokens, now)
            raise too_many_requests(math.ceil(max(waits)))
        self._buckets[chat_id] = (tokens - 1.0, now)
        if window is not None:
            window.append(now)
        self._overall.append(now)


@dataclass
class Fault:
    """An injected failure for matching calls."""

    id: int
    methods: frozenset[str] | None
    status: int
    count: int | None
    rate: float | None
    retry_after: int
    chat_id: int | None

    def matches(self, method: str, chat_id: int | None) -> bool:
        """Whether this fault applies to a call of ``method`` for ``chat_id``."""
        if self.methods is not None and method not in self.methods:
            return False
        return self.chat_id is None or self.chat_id == chat_id


class Faults:
    """Injected faults (429, 403, 5xx) and latency."""

    def __init__(self, seed: int = 0) -> None:
        self.faults: list[Fault] = []
        self.latency = 0.0
        self.jitter = 0.0
        self.random = random.Random(seed)
        self._ids = itertools.count(1)

    def add(
        self,
        method: str | Sequence[str] | None,
        status: int,
        count: int | None,
        rate: float | None,
        retry_after: int,
        chat_id: int | None,
    ) -> int:
        """Register a fault; without ``count`` or ``rate`` it fires once."""
        if status not in (400, 403, 429, 500, 502, 504):
            raise ValueError(f"unsupported fault status {status}")
        if rate is not None and not 0.0 <= rate <= 1.0:
            raise ValueError("rate must be between 0 and 1")
        if count is None and rate is None:
            count = 1
        names = [method] if isinstance(method, str) else method
        methods = None if names is None else frozenset(n.lower() for n in names)
        fault = Fault(next(self._ids), methods, status, count, rate, retry_after, chat_id)
        self.faults.append(fault)
        return fault.id

    def clear(self, fault_id: int | None = None) -> None:
        """Remove one fault, or all of them."""
        self.faults = [f for f in self.faults if fault_id is not None and f.id != fault_id]

    def check(self, method: str, chat_id: int | None) -> ApiError | None:
        """Return the error the first matching fault produces for this call, if any."""
        for fault in self.faults:
            if not fault.matches(method, chat_id):
                continue
            if fault.rate is not None and self.random.random() >= fault.rate:
                continue
            if fault.count is not None:
                fault.count -= 1
                if fault.count <= 0:
                    self.faults.remove(fault)
            return fault_error(fault.status, fault.retry_after)
        return None

    def delay(self) -> float:
        """Return the latency to add to the next call."""
        if self.latency <= 0 and self.jitter <= 0:
            return 0.0
        return max(0.0, self.latency + self.random.uniform(-self.jitter, self.jitter))
