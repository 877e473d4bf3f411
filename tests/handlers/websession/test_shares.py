"""One rounding rule: the D-Team post, its chart and the live message show the same shares."""

from __future__ import annotations

import random
import re
from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from handlers.core.context import Services
from handlers.core.i18n import LANGUAGES, Texts
from handlers.core.render import result_text
from handlers.websession.live import render_live
from handlers.websession.summary_text import summary_text
from storage.groups import WorkshopCounts
from storage.models import Workshop
from typology.charts import composition_labels
from typology.group import Member, analyse
from typology.profiles import load_profiles
from typology.questionnaire import load_questionnaire
from typology.scoring import load_model
from typology.types import TYPES

_SHARE = re.compile(r"^• .+?: (\d+) \((\d+)[  ]?%\)$", re.MULTILINE)
_LABEL = re.compile(r"^(\d+) \((\d+)[  ]?%\)$")


@pytest.fixture(scope="module")
def services() -> Services:
    return Services(
        db=None,  # type: ignore[arg-type]  # rendering reads no database
        questionnaire=load_questionnaire(),
        model=load_model(),
        profiles={lang: load_profiles(lang) for lang in LANGUAGES},
        texts=Texts.load(),
        privacy_threshold=1,
        bot_username="dteam_test_bot",
    )


def _shown(text: str) -> list[tuple[int, int]]:
    return [(int(c), int(s)) for c, s in _SHARE.findall(text)]


def _members(counts: list[int]) -> list[Member]:
    types = [t for t, c in zip(TYPES, counts, strict=True) for _ in range(c)]
    return [Member(id=f"p{i}", main_type=t) for i, t in enumerate(types)]


counts_strategy = st.lists(st.integers(0, 60), min_size=4, max_size=4).filter(any)


@settings(max_examples=150, deadline=None)
@given(counts=counts_strategy, lang=st.sampled_from(LANGUAGES))
def test_post_chart_and_live_message_agree_and_add_up_to_100(
    services: Services, counts: list[int], lang: str
) -> None:
    analysis = analyse(_members(counts), k_threshold=1)
    post = _shown(
        summary_text(services.texts, services.profiles[lang], analysis, title="T", lang=lang)
    )
    labels = composition_labels(analysis.counts, lang=lang)
    chart = [(int(m[1]), int(m[2])) for m in map(_LABEL.match, labels) if m]
    workshop = Workshop(code="abc", chat_id=-1, title="T", created_by=1)
    types = Counter({t.value: c for t, c in zip(TYPES, counts, strict=True)})
    joined = WorkshopCounts(sum(counts), sum(counts), 0, {}, 0)
    live = _shown(render_live(services, workshop, joined, types, lang))
    assert [c for c, _ in post] == counts
    assert post == chart == live
    assert sum(s for _, s in post) == 100


def test_the_case_from_the_issue(services: Services) -> None:
    """4, 4 and 1 of 9 are 44.4, 44.4 and 11.1 %: shown as 45, 44 and 11, never 101 in total."""
    analysis = analyse(_members([4, 4, 1, 0]), k_threshold=1)
    text = summary_text(services.texts, services.profiles["de"], analysis, title="T", lang="de")
    assert _shown(text) == [(4, 45), (4, 44), (1, 11), (0, 0)]
    assert composition_labels(analysis.counts) == ["4 (45 %)", "4 (44 %)", "1 (11 %)", "0 (0 %)"]


def test_a_participants_affinities_add_up_to_100(services: Services) -> None:
    """The result text rounds affinities by the same rule (rounded alone they summed to 101)."""
    rng = random.Random(11)
    q, corrected = services.questionnaire, 0
    for _ in range(300):
        answers = {item.id: rng.choice(item.options).id for item in q.scored_items}
        result = services.model.classify(q, answers)
        text = result_text(services, result, "de")
        shares = [int(s) for s in re.findall(r"^• .+?: (\d+) %$", text, re.MULTILINE)]
        assert len(shares) == len(TYPES)
        assert sum(shares) == 100, (result.affinities, shares)
        naive = [round(v) for v in result.affinities.values()]
        corrected += sum(naive) != 100
    assert corrected  # the plain rounding of these results would not add up to 100
