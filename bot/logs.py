"""Logging set-up: one readable line per event, quiet libraries, and no secrets in any record."""

from __future__ import annotations

import logging
import re
import threading
from typing import Any

REDACTED = "<token>"
# A Bot API URL carries the token as its first path segment (/bot<id>:<secret>/method, and
# /file/bot<id>:<secret>/path): PTB logs it at DEBUG, aiohttp puts it into timeout texts.
_URL_TOKEN = re.compile(r"(/bot)\d+:[^/\s'\"]+")
_secrets: tuple[str, ...] = ()  # replaced, never changed in place: read without the lock
_installed = False
_lock = threading.Lock()


def setup_logging(level: str = "INFO") -> None:
    """Configures the root logger for the console."""
    logging.basicConfig(
        level=level,
        format="%(asctime)s %(levelname)-7s %(name)s: %(message)s",
        datefmt="%Y-%m-%d %H:%M:%S",
        force=True,
    )
    for noisy in ("httpx", "httpcore", "apscheduler", "aiohttp.access", "telegram.ext.ExtBot"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, logging.getLogger().level))


def redact(text: str) -> str:
    """Returns text with every registered secret and every Bot API URL token replaced."""
    for secret in _secrets:
        text = text.replace(secret, REDACTED)
    return _URL_TOKEN.sub(r"\1" + REDACTED, text)


def redact_secrets(*secrets: str | None) -> None:
    """Registers secrets that no log record may contain, and redacts every record from now on.

    The redaction runs where a record is made (the record factory), not in a handler's
    filter: a filter on the root logger never sees records of child loggers, and handlers
    added later (a test's capture, an operator's file handler) would miss a handler filter.
    """
    global _installed, _secrets  # one process-wide factory
    with _lock:
        _secrets = tuple(sorted({*_secrets, *(s for s in secrets if s)}, key=len, reverse=True))
        if _installed:
            return
        _installed = True
        make = logging.getLogRecordFactory()

        def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
            record = make(*args, **kwargs)
            _scrub(record)
            return record

        logging.setLogRecordFactory(factory)


def _scrub(record: logging.LogRecord) -> None:
    try:
        message = record.getMessage()
    except Exception:  # a malformed record is the logging module's to report, not ours
        return
    clean = redact(message)
    if clean != message:
        record.msg, record.args = clean, None
    if record.exc_info and record.exc_info[1] is not None and not record.exc_text:
        record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
    if record.stack_info:
        record.stack_info = redact(record.stack_info)
