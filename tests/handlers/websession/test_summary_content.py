"""The D-Team post explains its balance, shows goals and mixed types, and a next step."""

from __future__ import annotations

import pytest

from handlers.core.i18n import LANGUAGES, Texts
from handlers.websession.summary_text import summary_text
from sandbox.formatting import parse_html
from typology.group import Member, analyse
from typology.profiles import load_profiles
from typology.questionnaire import load_questionnaire
from typology.types import TYPES, TypeId

B, OPT, S, C = TYPES


def _post(counts: dict[TypeId, int], lang: str, *, mixed: int = 0) -> str:
    profile = {"a": -1.0, "b": -0.4, "c": 0.0, "d": 1.1, "g": 0.7, "j": 0.2}
    members = [
        Member(f"{t.value}-{i}", t, profile, {}, mixed=i < mixed and t is OPT)
        for t, n in counts.items()
        for i in range(n)
    ]
    q = load_questionnaire()
    labels = {d: q.dimension_label(d, lang) for d in "abcdefghijk"}
    text = summary_text(
        Texts.load(),
        load_profiles(lang),
        analyse(members, k_threshold=1),  # every member counted: these tests are about wording
        title="Runde",
        lang=lang,
        goal_labels=labels,
    )
    return parse_html(text)[0]


def test_a_high_balance_never_gets_a_negative_verdict() -> None:
    post = _post({B: 10, OPT: 10, S: 10, C: 2}, "de")  # balance 0,91, one type rare
    line = next(x for x in post.splitlines() if x.startswith("Ausgewogenheit"))
    assert "0,91" in line
    assert "überwiegen" not in line
    assert "einseitig" not in line
    assert "1 = alle vier Typen gleich" in line


@pytest.mark.parametrize("lang", LANGUAGES)
def test_the_balance_figure_is_explained(lang: str) -> None:
    post = _post({B: 1, OPT: 8, S: 1, C: 0}, lang)
    line = next(x for x in post.splitlines() if x.startswith(("Ausgewogenheit", "Balance")))
    assert "1 =" in line
    assert "0 =" in line


def test_the_post_names_the_highest_and_lowest_goals() -> None:
    post = _post({B: 3, OPT: 4, S: 3, C: 2}, "de")
    top = next(x for x in post.splitlines() if "am wichtigsten" in x.lower())
    assert "Effiziente Abläufe" in top
    assert "Bürgernähe" in top
    low = next(x for x in post.splitlines() if "am wenigsten" in x.lower())
    assert "Rechtliche Vorgaben" in low


@pytest.mark.parametrize("lang", LANGUAGES)
def test_the_post_counts_mixed_types_and_gives_a_next_step(lang: str) -> None:
    post = _post({B: 3, OPT: 4, S: 3, C: 2}, lang, mixed=3)
    assert ("3 von 12" if lang == "de" else "3 of 12") in post
    assert "/teams 4" in post
    assert len(post) < 4096


@pytest.mark.parametrize("lang", LANGUAGES)
@pytest.mark.parametrize("rare", TYPES)
def test_prompts_name_every_type_grammatically(lang: str, rare: TypeId) -> None:
    counts = {t: 1 if t is rare else 6 for t in TYPES}
    post = _post(counts, lang)
    name = load_profiles(lang)[rare].name  # "Die Bedächtigen" / "The Deliberate"
    assert f"Typs „{name}“" not in post
    assert f"Typ „{name}“" not in post
    assert f"type “{name}”" not in post
    assert any(line.startswith(f"1. {name}") for line in post.splitlines())
