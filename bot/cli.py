"""The console command `dteam`: run, demo, sandbox, typology fit/evaluate."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
from pathlib import Path

from bot.logs import setup_logging
from bot.settings import Settings, SettingsError, load_settings

log = logging.getLogger(__name__)

NO_TOKEN = (
    "DTEAM_BOT_TOKEN is not set. Create a bot with @BotFather in Telegram and set its token "  # noqa: S105 - a message, not a secret
    "(see README), or try everything offline with `dteam demo`."
)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="dteam", description="D-Team workshop bot")
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="run the bot (long polling by default)")
    run.add_argument("--webhook", action="store_true", help="serve a webhook instead of polling")
    run.add_argument("--delete-webhook", action="store_true", help="remove the webhook and exit")
    demo = sub.add_parser("demo", help="offline demo against the local Bot API stand-in")
    demo.add_argument("--participants", type=int, default=40)
    demo.add_argument("--out", type=Path, default=Path("demo-output"))
    sandbox = sub.add_parser("sandbox", help="serve the local Bot API stand-in")
    sandbox.add_argument("args", nargs=argparse.REMAINDER)
    typ = sub.add_parser("typology", help="calibrate the typology model")
    tsub = typ.add_subparsers(dest="action", required=True)
    fit = tsub.add_parser("fit", help="refit the model on responses (CSV)")
    fit.add_argument("csv", type=Path)
    fit.add_argument("--out", type=Path, default=None, help="model file to write")
    ev = tsub.add_parser("evaluate", help="print fit quality")
    ev.add_argument("csv", type=Path, nargs="?")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Runs the command line; returns the exit code."""
    args = _parser().parse_args(argv)
    # Opt in to PTB's future RetryAfter.retry_after type now; the old one warns on every 429.
    os.environ.setdefault("PTB_TIMEDELTA", "1")
    try:
        settings = load_settings()
    except SettingsError as exc:
        print(f"dteam: configuration error: {exc}", file=sys.stderr)  # noqa: T201
        return 2
    setup_logging(settings.log_level)
    if args.command == "run":
        if settings.bot_token is None:
            print(f"dteam: {NO_TOKEN}", file=sys.stderr)  # noqa: T201
            return 2
        return _run(settings, webhook=args.webhook, delete_webhook=args.delete_webhook)
    if args.command == "demo":
        from bot.demo import run_demo

        code: int = asyncio.run(run_demo(settings, participants=args.participants, out=args.out))
        return code
    if args.command == "sandbox":
        from sandbox.cli import main as sandbox_main

        return sandbox_main(args.args)
    return _typology(args)


def _run(settings: Settings, *, webhook: bool, delete_webhook: bool) -> int:
    """Runs the bot; a start-up failure is one line: exit 2 for a setting, 1 for the machine."""
    from bot.startup import StartupError, describe, preflight

    try:
        asyncio.run(preflight(settings, webhook=webhook, delete_webhook=delete_webhook))
        from bot.runner import run_polling
        from bot.webhook import run_webhook

        try:
            if webhook or delete_webhook:
                asyncio.run(run_webhook(settings, delete_only=delete_webhook))
            else:
                asyncio.run(run_polling(settings))
        except Exception as exc:  # a known kind is one line; anything else is a bug: traceback
            known = describe(exc, settings)
            if known is None:
                raise
            raise known from exc
    except SettingsError as exc:
        print(f"dteam: configuration error: {exc}", file=sys.stderr)  # noqa: T201
        return 2
    except StartupError as exc:
        log.debug("start-up failed", exc_info=True)
        print(f"dteam: {exc}", file=sys.stderr)  # noqa: T201
        return exc.code
    return 0


def _typology(args: argparse.Namespace) -> int:
    from typology.calibration import CalibrationError, evaluate_command, fit_command

    try:
        if args.action == "fit":
            out = args.out or args.csv.with_suffix(".model.json")
            print(fit_command(args.csv, out))  # noqa: T201
        else:
            print(evaluate_command(args.csv))  # noqa: T201
    except (CalibrationError, OSError) as exc:
        print(f"dteam: {exc}", file=sys.stderr)  # noqa: T201
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
