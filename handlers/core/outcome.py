"""What became of the update being processed: failed, worth delivering again, a duplicate."""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass


@dataclass
class UpdateOutcome:
    """Filled in while one update is processed; read by whoever started the processing."""

    update: object = None
    redelivered: bool = False  # the sender delivers it again when we report a failure (webhook)
    error: BaseException | None = None
    retry: bool = False  # the failure is transient: processing it again may succeed
    duplicate: bool = False


# A mutable object in a context variable: handlers run in the task that awaits them, and even a
# copied context shares the object, so whoever called track() sees what the handlers recorded.
_CURRENT: ContextVar[UpdateOutcome | None] = ContextVar("dteam_update_outcome", default=None)


def track(update: object, *, redelivered: bool = False) -> UpdateOutcome:
    """Starts recording the outcome of the update about to be processed in this context."""
    outcome = UpdateOutcome(update=update, redelivered=redelivered)
    _CURRENT.set(outcome)
    return outcome


def current(update: object) -> UpdateOutcome | None:
    """Returns the outcome being recorded for this update in this context, if any."""
    outcome = _CURRENT.get()
    return outcome if outcome is not None and outcome.update is update else None


def failed(error: BaseException | None, *, retry: bool) -> None:
    """Records that a handler failed; retry when processing it again may succeed."""
    outcome = _CURRENT.get()
    if outcome is not None:
        outcome.error, outcome.retry = error, retry


def duplicate() -> None:
    """Records that the update had been processed before."""
    outcome = _CURRENT.get()
    if outcome is not None:
        outcome.duplicate = True


def will_be_redelivered() -> bool:
    """Tells whether a reported failure makes the sender deliver this update again."""
    outcome = _CURRENT.get()
    return outcome is not None and outcome.redelivered
