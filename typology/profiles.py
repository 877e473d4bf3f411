"""Profile cards (Steckbriefe) of the four types, as data per language."""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from typology.types import TYPES, TypeId

DATA_DIR = Path(__file__).parent / "data"


class ProfileError(ValueError):
    """Invalid profile data; names the file and the type."""


@dataclass(frozen=True)
class Profile:
    """One type's profile card in one language."""

    type: TypeId
    name: str
    heading: str
    strengths: tuple[str, ...]
    way_of_working: str
    brings: str
    learn_from: Mapping[TypeId, str]
    reflection: tuple[str, ...]


def _text(path: Path, t: TypeId, data: Mapping[str, Any], key: str) -> str:
    value = data.get(key)
    if not isinstance(value, str) or not value.strip():
        raise ProfileError(f"{path.name}: {t.value}: missing {key}")
    return value


def _texts(
    path: Path, t: TypeId, data: Mapping[str, Any], key: str, lo: int, hi: int
) -> tuple[str, ...]:
    value = data.get(key)
    if (
        not isinstance(value, list)
        or not lo <= len(value) <= hi
        or not all(isinstance(v, str) and v.strip() for v in value)
    ):
        raise ProfileError(f"{path.name}: {t.value}: {key} needs {lo}–{hi} texts")
    return tuple(value)


def _profile(path: Path, t: TypeId, data: Mapping[str, Any]) -> Profile:
    learn = data.get("learn_from")
    others = {u.value for u in TYPES if u != t}
    if not isinstance(learn, dict) or set(learn) != others:
        raise ProfileError(f"{path.name}: {t.value}: learn_from needs exactly {sorted(others)}")
    return Profile(
        type=t,
        name=_text(path, t, data, "name"),
        heading=_text(path, t, data, "heading"),
        strengths=_texts(path, t, data, "strengths", 2, 6),
        way_of_working=_text(path, t, data, "way_of_working"),
        brings=_text(path, t, data, "brings"),
        learn_from={TypeId(k): _text(path, t, learn, k) for k in sorted(learn, key=TYPES.index)},
        reflection=_texts(path, t, data, "reflection", 2, 3),
    )


def load_profiles_from(path: str | Path) -> dict[TypeId, Profile]:
    """Load and validate profile cards from one TOML file."""
    path = Path(path)
    try:
        with path.open("rb") as fh:
            data = tomllib.load(fh)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ProfileError(f"{path.name}: {exc}") from exc
    missing = [t.value for t in TYPES if not isinstance(data.get(t.value), dict)]
    if missing:
        raise ProfileError(f"{path.name}: missing types {missing}")
    return {t: _profile(path, t, data[t.value]) for t in TYPES}


@cache
def _cached(lang: str) -> dict[TypeId, Profile]:
    path = DATA_DIR / f"profiles.{lang}.toml"
    if not path.exists():
        raise ProfileError(f"no profiles for language {lang!r}")
    return load_profiles_from(path)


def load_profiles(lang: str) -> dict[TypeId, Profile]:
    """Return the four profile cards in `lang` ("de" or "en"), in canonical order."""
    return dict(_cached(lang))


def type_names(lang: str) -> dict[TypeId, str]:
    """Return the display names of the four types in `lang`."""
    return {t: p.name for t, p in load_profiles(lang).items()}
