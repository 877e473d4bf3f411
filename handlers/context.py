"""The services handlers use, and a typed CallbackContext that carries them."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from telegram.ext import Application, CallbackContext, ExtBot

from handlers.i18n import Texts
from storage.database import Database
from typology.profiles import Profile
from typology.questionnaire import Questionnaire
from typology.scoring import Classifier
from typology.types import TypeId


@dataclass
class Services:
    """Everything a handler needs besides the update; built once by bot/."""

    db: Database
    questionnaire: Questionnaire
    model: Classifier
    profiles: dict[str, dict[TypeId, Profile]]
    texts: Texts
    moderators: frozenset[int] = frozenset()
    default_language: str = "de"
    timezone: ZoneInfo = field(default_factory=lambda: ZoneInfo("Europe/Berlin"))
    privacy_threshold: int = 3
    channel_id: int | None = None
    channel_groups: frozenset[int] = frozenset()  # groups allowed to post to the channel
    bot_username: str = ""
    live_interval: float = 5.0
    admin_cache_seconds: float = 30.0
    retention_days: int = 30
    controller: str = ""
    pseudonym_key: bytes = b""  # keys the per-session pseudonyms of exports (bot/ sets it)
    extra: dict[str, Any] = field(default_factory=dict)


SERVICES_KEY = "services"


class DTeamContext(CallbackContext[ExtBot[None], dict[Any, Any], dict[Any, Any], dict[Any, Any]]):
    """CallbackContext with typed access to the services."""

    @property
    def services(self) -> Services:
        """Returns the services stored in bot_data by bot/."""
        services = self.application.bot_data[SERVICES_KEY]
        assert isinstance(services, Services)
        return services


DTeamApp = Application[
    ExtBot[None], DTeamContext, dict[Any, Any], dict[Any, Any], dict[Any, Any], Any
]
