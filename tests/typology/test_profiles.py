"""Profile cards: complete in both languages, no numbers, learn from every other type."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from typology.profiles import DATA_DIR, ProfileError, load_profiles, load_profiles_from
from typology.types import TYPES


@pytest.mark.parametrize("lang", ["de", "en"])
def test_profiles_complete(lang: str) -> None:
    profiles = load_profiles(lang)
    assert list(profiles) == list(TYPES)
    for t, p in profiles.items():
        assert p.type is t
        assert p.name
        assert p.heading
        assert p.brings
        assert p.way_of_working
        assert set(p.learn_from) == set(TYPES) - {t}
        assert 2 <= len(p.reflection) <= 3
        texts = [p.heading, p.way_of_working, p.brings, *p.strengths, *p.learn_from.values()]
        assert not any(re.search(r"\d", s) for s in texts), "no invented statistics"


def test_published_headings() -> None:
    de = load_profiles("de")
    assert [de[t].heading for t in TYPES[:3]] == [
        "Recht und Ordnung bewahren",
        "Effizienz und Effektivität steigern",
        "Eine gute Nutzererfahrung bieten",
    ]
    assert load_profiles("en")[TYPES[3]].heading == "Focus on business and citizens"


def test_unknown_language() -> None:
    with pytest.raises(ProfileError, match="language"):
        load_profiles("fr")


def test_missing_learn_from_is_rejected(tmp_path: Path) -> None:
    text = (DATA_DIR / "profiles.en.toml").read_text(encoding="utf-8")
    broken = tmp_path / "profiles.en.toml"
    broken.write_text(text.replace('bedaechtige = "Legal requirements', 'x = "'), encoding="utf-8")
    with pytest.raises(ProfileError, match="community: learn_from"):
        load_profiles_from(broken)
