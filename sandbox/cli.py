"""Command line: serve the sandbox Bot API on a loopback port for manual trials."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys
from collections.abc import Sequence

from sandbox.control import ACTIONS, QUERIES
from sandbox.server import BotApiServer

DEFAULT_TOKEN = "123456:sandbox-token"  # noqa: S105 - a token only this stand-in knows


def summary(root: str, token: str) -> str:
    """Return the text printed at start-up: where to point the bot and how to drive it."""
    return "\n".join(
        [
            f"Sandbox Bot API at {root}",
            f"  bot token      {token}",
            f"  PTB            base_url={root}/bot  base_file_url={root}/file/bot",
            f"  DTEAM_API_URL  {root}",
            "Control API (JSON):",
            f"  POST {root}/control/<action>  body = keyword arguments",
            f"       actions: {', '.join(ACTIONS)}",
            f"  GET  {root}/control/<query>?…  queries: {', '.join(QUERIES)}",
            f"  GET  {root}/control/calls?since=N&method=sendMessage",
            f"  POST {root}/control/wait  {{chat_id, text_contains, has_keyboard, timeout}}",
            'Example: curl -X POST -d \'{"user_id": 1, "first_name": "Ada"}\' '
            f"{root}/control/add_user",
        ]
    )


async def serve(
    host: str = "127.0.0.1",
    port: int = 8081,
    token: str = DEFAULT_TOKEN,
    username: str = "dteam_bot",
    stop: asyncio.Event | None = None,
) -> None:
    """Serve the sandbox until ``stop`` is set (or the task is cancelled)."""
    server = BotApiServer()
    root = await server.start(host, port)
    server.add_bot(token, username=username)
    sys.stdout.write(summary(root, token) + "\n")
    sys.stdout.flush()
    try:
        await (stop or asyncio.Event()).wait()
    finally:
        await server.stop()


def main(argv: Sequence[str] | None = None) -> int:
    """Parse arguments and serve until interrupted; return the exit code."""
    parser = argparse.ArgumentParser(
        prog="python -m sandbox", description="Local Telegram Bot API stand-in."
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default loopback)")
    parser.add_argument("--port", type=int, default=8081, help="port (0 picks a free one)")
    parser.add_argument("--token", default=DEFAULT_TOKEN, help="bot token to accept")
    parser.add_argument("--username", default="dteam_bot", help="the bot's username")
    args = parser.parse_args(argv)
    if ":" not in args.token or not args.token.split(":", 1)[0].isdigit():
        parser.error("--token must look like <digits>:<secret>")
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(args.host, args.port, args.token, args.username))
    return 0
