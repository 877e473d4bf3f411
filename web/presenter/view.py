"""What the presenter page shows, read from the database (right on every replica, after restarts).

The privacy rule is the one of the live message and the D-Team post, not a second one: the
composition and the goal profile come from `typology.group.analyse` over the workshop's
finishers (nothing below the threshold, then the first floor(n/k)*k finishers only), and a
breakout team's mix is shown only for teams of at least k, as /teams forms them. While the
results are hidden, none of it is even read into the page.
"""

from __future__ import annotations

import base64
from collections import Counter
from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import Any

from markupsafe import Markup

from handlers.core import render
from handlers.core.context import Services
from handlers.core.moderation import join_link
from handlers.core.qr import qr_svg
from storage.groups import finished_members, workshop_counts
from storage.models import Workshop
from storage.screen import team_types
from storage.types import utcnow
from storage.workshops import CLOSED, get_workshop
from typology.group import Member, analyse
from typology.types import TYPES, TypeId

TEAMS_SHOWN = 4  # a screen's worth; the chat's /teams post lists them all


@dataclass(frozen=True)
class TypeRow:
    """One type's count and share in the composition."""

    type_id: TypeId
    count: int
    share: int  # whole percent, as in the D-Team post


@dataclass(frozen=True)
class TeamRow:
    """A breakout team's type mix, without names."""

    number: int
    size: int
    mix: tuple[tuple[TypeId, int], ...]


@dataclass(frozen=True)
class ScreenData:
    """The numbers of one workshop's presenter page, the same in every language."""

    workshop_id: int
    epoch: int
    revealed: bool
    closed: bool
    title: str  # the workshop's own title; "" for the default one
    code: str
    joined: int
    finished: int
    k: int
    counted: int = 0  # how many finishers the composition counts (0: none shown)
    composition: tuple[TypeRow, ...] = ()
    top_goals: tuple[str, ...] = ()
    bottom_goals: tuple[str, ...] = ()
    divisive_goal: str | None = None
    teams: tuple[TeamRow, ...] = field(default_factory=tuple)


def _teams(placed: list[tuple[int, str]], k: int) -> tuple[TeamRow, ...]:
    """Returns the teams /teams formed with their type mixes; teams below k are left out."""
    members: dict[int, list[TypeId]] = {}
    for team, main_type in placed:
        members.setdefault(team, []).append(TypeId(main_type))
    out = []
    for number in sorted(members):
        types = Counter(members[number])
        if len(members[number]) >= k:
            mix = tuple((t, types[t]) for t in TYPES if types[t])
            out.append(TeamRow(number, len(members[number]), mix))
    return tuple(out)


async def load_screen(services: Services, workshop_id: int) -> ScreenData | None:
    """Reads the workshop's presenter page from the database; None if the workshop is gone."""
    async with services.db.read() as session:
        workshop = await get_workshop(session, workshop_id=workshop_id)
        if workshop is None:
            return None
        counts = await workshop_counts(session, workshop_id=workshop_id, stuck_before=utcnow())
        revealed = workshop.screen_revealed
        rows = await finished_members(session, workshop_id=workshop_id) if revealed else []
        placed = await team_types(session, workshop_id=workshop_id) if revealed else []
    base = _base(services, workshop, counts.joined, counts.finished)
    if not workshop.screen_revealed:
        return base
    # The analysis of the D-Team post (typology.group), without the context breakdowns the
    # page does not show: the same counts, shares, goals and steps of k.
    members = [Member(str(r.run_id), TypeId(r.main_type), r.profile) for r in rows]
    analysis = analyse(members, k_threshold=services.privacy_threshold, context_keys=())
    if analysis.below_threshold:
        return base
    return replace(
        base,
        counted=analysis.counted,
        composition=tuple(TypeRow(t, analysis.counts[t], analysis.shares[t]) for t in TYPES),
        top_goals=tuple(analysis.top_goals),
        bottom_goals=tuple(analysis.bottom_goals),
        divisive_goal=analysis.divisive_goal,
        teams=_teams(placed, services.privacy_threshold),
    )


def _base(services: Services, workshop: Workshop, joined: int, finished: int) -> ScreenData:
    assert workshop.id is not None
    return ScreenData(
        workshop_id=workshop.id,
        epoch=workshop.screen_epoch,
        revealed=workshop.screen_revealed,
        closed=workshop.status == CLOSED,
        title=workshop.title,
        code=workshop.code,
        joined=joined,
        finished=finished,
        k=services.privacy_threshold,
    )


@lru_cache(maxsize=64)
def _qr_data_url(link: str) -> str:
    return "data:image/svg+xml;base64," + base64.b64encode(qr_svg(link)).decode()


def page_context(services: Services, data: ScreenData, lang: str) -> dict[str, Any]:
    """Returns what the templates need to show data in lang: labels, names, links, QR."""
    t = services.texts
    labels = services.questionnaire.dimension_labels[lang]
    link = join_link(services, data.code)
    title = data.title or t.plain(lang, "moderation.session.default_title")
    return {
        "lang": lang,
        "data": data,
        "title": title,
        "link": link,
        "qr": _qr_data_url(link),
        "teams_shown": TEAMS_SHOWN,
        "names": {t_id: render.type_name(services, t_id, lang) for t_id in TYPES},
        "goal": lambda dim: labels.get(dim, dim),
        "goals": lambda dims: ", ".join(labels.get(d, d) for d in dims),
        "text": lambda key, **values: t.plain(lang, key, **values),
        # The bot's own texts with <b>/<i> and every value escaped by Texts.get.
        "html": lambda key, **values: Markup(t.get(lang, key, **values)),  # noqa: S704
    }
