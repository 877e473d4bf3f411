"""Loopback ports for servers a test or benchmark starts."""

from __future__ import annotations

import socket


def free_port() -> int:
    """Returns a loopback port that was free a moment ago (nothing listens on it now)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
