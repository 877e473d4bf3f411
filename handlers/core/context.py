"""The services handlers use, and a typed CallbackContext that carries them."""

from __future__ import annotations

import asyncio
import os
import socket
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from telegram.ext import Application, CallbackContext, ExtBot

from handlers.core.i18n import Texts
from handlers.core.member_cache import HINT_ENTRIES, MemberCache
from storage.database import Database
from typology.profiles import Profile
from typology.questionnaire import Questionnaire
from typology.scoring import Classifier
from typology.types import TypeId

# Telegram allows about 30 messages per second overall; stay below it so that the rate limiter
# rarely has to wait and the flood control never answers 429.
BROADCAST_RATE = 25.0


def process_name() -> str:
    """Returns a name for this process's claims: host, pid and a random part."""
    return f"{socket.gethostname()[:32]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


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
    pseudonym_key: bytes = b""  # keys the per-workshop pseudonyms of exports (bot/ sets it)
    broadcast_rate: float = BROADCAST_RATE  # messages per second a timed broadcast sends
    clock: Callable[[], datetime] | None = None  # the timeline's now(); None: the real UTC time
    screen_key: bytes = b""  # signs the presenter page's links (bot/ sets it)
    web_root: str = ""  # the root URL of the bot's web pages, without a trailing slash
    # Older questionnaire versions and their models, by version: a run started on one of them
    # is resumed, finished and scored on it (`questionnaire`/`model` are the current version).
    questionnaires: dict[str, Questionnaire] = field(default_factory=dict)
    models: dict[str, Classifier] = field(default_factory=dict)
    # This process's own state, not configuration: its name in claims, Telegram's recent answers
    # about members, and when each group's live message was last edited (monotonic seconds).
    instance_id: str = field(default_factory=process_name)
    admin_cache: MemberCache = field(default_factory=MemberCache)
    membership_cache: MemberCache = field(default_factory=MemberCache)
    # The joins and leaves Telegram reported: where to look first, not proof.
    member_hints: MemberCache = field(default_factory=lambda: MemberCache(HINT_ENTRIES))
    live_edited: dict[int, float] = field(default_factory=dict)
    live_lock: asyncio.Lock = field(default_factory=asyncio.Lock)  # one live tick at a time
    # The Mini App's URL (DTEAM_PUBLIC_URL + its path); None: the questionnaire in chat only.
    webapp_url: str | None = None

    def questionnaire_for(self, version: str | None) -> Questionnaire:
        """Returns the questionnaire a run of this version was started on (else the current)."""
        if version is None or version == self.questionnaire.version:
            return self.questionnaire
        return self.questionnaires.get(version, self.questionnaire)

    def model_for(self, version: str | None) -> Classifier:
        """Returns the model that scores runs of this questionnaire version (else the current)."""
        if version is None or version == self.model.questionnaire_version:
            return self.model
        return self.models.get(version, self.model)

    def all_item_ids(self) -> list[str]:
        """Item ids of the current version, then those only older versions have."""
        ids = [it.id for it in self.questionnaire.items]
        for q in self.questionnaires.values():
            ids += [it.id for it in q.items if it.id not in ids]
        return ids


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
