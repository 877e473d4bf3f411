"""Logging set-up: one readable line per event, quiet libraries."""

from __future__ import annotations

import logging


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
