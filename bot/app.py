"""Assembles the Application: services, handlers in order, rate limiter, commands."""

from __future__ import annotations

import logging
from typing import Any

from telegram import (
    BotCommand,
    BotCommandScopeAllChatAdministrators,
    BotCommandScopeAllPrivateChats,
)
from telegram.ext import Application, ApplicationBuilder, BaseHandler, ContextTypes

from bot.extbot import make_bot
from bot.logs import redact_secrets
from bot.metrics import METRICS_KEY, CountingRateLimiter, Metrics
from bot.processor import PerUserProcessor, dropped_notice
from bot.settings import Settings
from handlers import core, journey, timeline, websession
from handlers.core import errors
from handlers.core.context import SERVICES_KEY, DTeamContext, Services
from handlers.core.i18n import Texts
from handlers.journey import info
from handlers.websession import live
from storage.database import Database
from typology.profiles import load_profiles
from typology.questionnaire import load_questionnaire, load_questionnaires
from typology.scoring import load_model, load_models
from web.routes import APP_PATH

log = logging.getLogger(__name__)


def build_services(settings: Settings, db: Database) -> Services:
    """Loads questionnaire, model, profile cards and texts (validated) into Services."""
    texts = Texts.load(default=settings.language)
    return Services(
        db=db,
        questionnaire=load_questionnaire(),
        model=load_model(),
        profiles={lang: load_profiles(lang) for lang in ("de", "en")},
        texts=texts,
        moderators=settings.moderators,
        default_language=settings.language,
        timezone=settings.zone,
        privacy_threshold=settings.privacy_threshold,
        channel_id=settings.channel_id,
        channel_groups=settings.channel_groups,
        live_interval=settings.live_interval,
        retention_days=settings.retention_days,
        controller=settings.controller.strip(),
        pseudonym_key=settings.pseudonym_key,
        screen_key=settings.screen_key,
        # Without a public URL, the listen address (bot/monitor.py puts the bound one in).
        web_root=settings.public_url or f"http://{settings.listen_host}:{settings.listen_port}",
        questionnaires=load_questionnaires(),
        models=load_models(),
        webapp_url=None if settings.public_url is None else settings.public_url + APP_PATH,
    )


# Telegram counts messages in sliding windows (30 in any second, 20 per group in any minute).
# The buckets (bot/pacing.py) let `max_rate` through at once and then drain at
# max_rate/period, so within one window they admit up to burst + rate x window. Small buckets
# keep that sum inside Telegram's windows with slack for requests that arrive bunched up:
# 3 + 25/s x 1 s = 28 of 30 (sustained 25/s); 6 + 12/min x 1 min = 18 of 20. The bursts are
# for people: replies to updates that arrived together (a getUpdates batch, parallel webhook
# deliveries) go out at once instead of 40 ms apart, and a moderator's /summary and /close
# at once in a group; broadcasts and live edits leave them alone. Every chat, a group too,
# also gets about one message a second.
PACING = {
    "overall_max_rate": 3,
    "overall_time_period": 0.12,
    "group_max_rate": 6,
    "group_time_period": 30,
}


def all_handlers() -> list[BaseHandler[Any, DTeamContext, Any]]:
    """Returns every handler in the order they are tried. Order matters!"""
    return [
        *info.guards(),  # first: catches buttons with empty data (see its docstring)
        *journey.handlers(),
        # Group commands asked privately, migration, and chat_member updates (cached rights).
        *core.handlers(),
        *websession.handlers(),
        *timeline.handlers(),  # /schedule, /unschedule, /reminders and the opt-out button
        *info.handlers(),
        # Catch-alls last: they answer whatever no feature handled.
        *info.fallbacks(),
    ]


def build_application(
    settings: Settings, services: Services
) -> Application[Any, Any, Any, Any, Any, Any]:
    """Builds the PTB Application pointed at settings.api_url, with all handlers."""
    assert settings.bot_token is not None
    secret = settings.webhook_secret.get_secret_value() if settings.webhook_secret else None
    redact_secrets(settings.bot_token.get_secret_value(), secret)
    root = settings.api_url.rstrip("/")
    metrics = Metrics()
    limiter = CountingRateLimiter(
        metrics,
        max_retries=settings.max_retries,
        pace_chats=settings.throttle,
        **(PACING if settings.throttle else {"overall_max_rate": 0, "group_max_rate": 0}),
    )
    bot = make_bot(
        token=settings.bot_token.get_secret_value(),
        api_root=root,
        rate_limiter=limiter,
        pool_size=settings.concurrency + 8,
    )
    processor = PerUserProcessor(
        settings.concurrency,
        on_done=metrics.observe,
        on_dropped=dropped_notice(services, metrics.dropped),
    )
    bot.gate_floods(processor.refuses)  # polling: a flood is dropped before it is parsed
    app = (
        ApplicationBuilder()
        .bot(bot)
        .context_types(ContextTypes(context=DTeamContext))
        .concurrent_updates(processor)
        .build()
    )
    app.bot_data[SERVICES_KEY] = services
    app.bot_data[METRICS_KEY] = metrics
    app.add_handlers(all_handlers())
    live.register_jobs(app)
    app.add_error_handler(errors.on_error)
    return app


async def publish_commands(app: Application[Any, Any, Any, Any, Any, Any]) -> None:
    """Learns the bot's username and publishes the command menus."""
    services: Services = app.bot_data[SERVICES_KEY]
    services.bot_username = app.bot.username
    texts = services.texts
    for lang in ("de", "en"):
        private = [
            BotCommand(cmd, texts.get(lang, f"commands.{cmd}"))
            for cmd in ("start", "help", "language", "privacy", "about", "reminders", "delete_me")
        ]
        admin = [
            BotCommand(cmd, texts.get(lang, f"commands.{cmd}"))
            for cmd in (
                "help",  # in the group: one line per moderator command
                "session",
                "close",
                "reopen",
                "summary",
                "teams",
                "beamer",
                "status",
                "export",
                "schedule",
                "unschedule",
                "reset",
            )
        ]
        code = None if lang == services.default_language else lang
        await app.bot.set_my_commands(
            private, scope=BotCommandScopeAllPrivateChats(), language_code=code
        )
        await app.bot.set_my_commands(
            admin, scope=BotCommandScopeAllChatAdministrators(), language_code=code
        )
    log.info("bot @%s ready", app.bot.username)
