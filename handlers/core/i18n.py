"""UI strings per language from texts/<feature>.<lang>.toml beside this module, {name} filled."""

from __future__ import annotations

import html
import string
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

TEXTS_DIR = Path(__file__).parent / "texts"
LANGUAGES = ("de", "en")


class Html(str):
    """Text that is already safe to put into a Telegram HTML message."""


def escape(value: object) -> Html:
    """Escapes a value for Telegram's HTML parse mode and marks it safe."""
    return value if isinstance(value, Html) else Html(html.escape(str(value)))


def _safe(value: object) -> object:
    """Escapes strings not marked safe; numbers and other values pass unchanged."""
    return escape(value) if isinstance(value, str) else value


class TextsError(ValueError):
    """The UI text files are inconsistent."""


def _flatten(data: Mapping[str, Any], prefix: str = "") -> dict[str, str]:
    out: dict[str, str] = {}
    for key, value in data.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            out.update(_flatten(value, name + "."))
        elif isinstance(value, str):
            out[name] = value
        else:
            raise TextsError(f"{name}: expected a string, got {type(value).__name__}")
    return out


def placeholders(template: str) -> set[str]:
    """Returns the {names} a template uses."""
    return {f for _, f, _, _ in string.Formatter().parse(template) if f}


class Texts:
    """All UI strings; `get(lang, "section.key", name=value)`."""

    def __init__(self, by_lang: Mapping[str, Mapping[str, str]], default: str = "de") -> None:
        self._by_lang = {lang: dict(t) for lang, t in by_lang.items()}
        self.default = default
        self._check()

    @classmethod
    def load(cls, directory: Path = TEXTS_DIR, default: str = "de") -> Texts:
        """Loads and checks every language file."""
        by_lang: dict[str, dict[str, str]] = {}
        for lang in LANGUAGES:
            merged: dict[str, str] = {}
            for path in sorted(directory.glob(f"*.{lang}.toml")):
                with path.open("rb") as fh:
                    texts = _flatten(tomllib.load(fh))
                clash = set(texts) & set(merged)
                if clash:
                    raise TextsError(
                        f"{path.name}: keys defined in another file too: {sorted(clash)}"
                    )
                merged.update(texts)
            by_lang[lang] = merged
        return cls(by_lang, default)

    def _check(self) -> None:
        ref_lang = LANGUAGES[0]
        ref = self._by_lang[ref_lang]
        for lang, texts in self._by_lang.items():
            missing = set(ref) ^ set(texts)
            if missing:
                raise TextsError(f"{lang} and {ref_lang} texts differ in keys: {sorted(missing)}")
            for key, template in texts.items():
                if placeholders(template) != placeholders(ref[key]):
                    raise TextsError(f"{lang}: {key} has other placeholders than in {ref_lang}")

    def language(self, lang: str | None) -> str:
        """Returns lang if supported, else the default language."""
        return lang if lang in self._by_lang else self.default

    def get(self, lang: str | None, key: str, **values: object) -> str:
        """Returns the text for key in lang as HTML (an `Html`); string values are escaped here.

        Every message goes out with HTML parse mode, so a value (a workshop title, a first
        name) is escaped in this one place; pass `escape(...)`/`Html` for text that already
        is markup. Button labels and chart titles are plain text: use `plain`.
        """
        return Html(self.plain(lang, key, **{k: _safe(v) for k, v in values.items()}))

    def template(self, lang: str | None, key: str) -> str:
        """Returns the unfilled template for key in lang."""
        return self._by_lang[self.language(lang)][key]  # KeyError: a missing key is a bug

    def plain(self, lang: str | None, key: str, **values: object) -> str:
        """Returns the text for key in lang with placeholders filled, nothing escaped."""
        template = self.template(lang, key)
        return template.format(**values) if values or placeholders(template) else template

    def keys(self) -> set[str]:
        """Returns every text key."""
        return set(self._by_lang[self.default])
