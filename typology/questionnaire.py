"""Questionnaire as data: structure in questionnaire.toml, texts in questionnaire.<lang>.toml."""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from typology.types import DIMENSION_TYPE, TypeId

DATA = Path(__file__).parent / "data"
# Every questionnaire version that runs may have been started on; new runs use CURRENT_VERSION.
# Version 1 stays loadable so that its runs can be resumed, finished and reported as version 1.
VERSION_PATHS: dict[str, Path] = {
    "1": DATA / "questionnaire.toml",
    "2": DATA / "questionnaire_v2.toml",
}
CURRENT_VERSION = "2"
DEFAULT_PATH = VERSION_PATHS[CURRENT_VERSION]
KINDS: tuple[str, ...] = ("rating", "choice", "context")
MAX_OPTION_ID_BYTES = 20
SKIP = "x"  # the option id of "no answer" on optional context questions (offered by the bot)

Kind = Literal["rating", "choice", "context"]


class QuestionnaireError(ValueError):
    """Invalid questionnaire content; names the file and, where known, the item."""

    def __init__(self, file: str | Path, item: str | None, msg: str) -> None:
        self.file = str(file)
        self.item = item
        self.msg = msg
        where = f"{Path(file).name}: item {item!r}" if item else Path(file).name
        super().__init__(f"{where}: {msg}")


@dataclass(frozen=True, eq=False)
class Option:
    """One answer option: a short ASCII id and its text per language."""

    id: str
    texts: Mapping[str, str] = field(repr=False)

    def text(self, lang: str) -> str:
        """Return the option text in `lang` (KeyError if the language is unknown)."""
        return self.texts[lang]

    @property
    def type(self) -> TypeId | None:
        """The type this option stands for (forced-choice options), else None."""
        try:
            return TypeId(self.id)
        except ValueError:
            return None


@dataclass(frozen=True, eq=False)
class Item:
    """One question: rating (5-point scale), forced choice, or unscored context."""

    id: str
    kind: Kind
    dimension: str | None
    options: list[Option]
    texts: Mapping[str, str] = field(repr=False)
    shorts: Mapping[str, str] = field(repr=False)

    def text(self, lang: str) -> str:
        """Return the question text in `lang`."""
        return self.texts[lang]

    def short(self, lang: str) -> str:
        """Return a short label for charts and summaries in `lang`."""
        return self.shorts.get(lang) or self.texts[lang]

    @property
    def type(self) -> TypeId | None:
        """The type whose goal focus this rating item measures (None for other kinds)."""
        return DIMENSION_TYPE[self.dimension] if self.dimension else None

    def option(self, option_id: str) -> Option:
        """Return the option with this id (KeyError if unknown)."""
        for opt in self.options:
            if opt.id == option_id:
                return opt
        raise KeyError(option_id)


@dataclass(frozen=True, eq=False)
class Questionnaire:
    """A validated questionnaire: items in order ratings, forced choice, context."""

    version: str
    languages: tuple[str, ...]
    _items: tuple[Item, ...]
    meta: Mapping[str, Mapping[str, str]] = field(repr=False)
    dimension_labels: Mapping[str, Mapping[str, str]] = field(repr=False)

    @property
    def items(self) -> list[Item]:
        """All items: ratings, then the forced choice, then context items."""
        return list(self._items)

    @property
    def scored_items(self) -> list[Item]:
        """Items that enter scoring: ratings and the forced choice."""
        return [i for i in self._items if i.kind != "context"]

    @property
    def rating_items(self) -> list[Item]:
        """The 5-point rating items."""
        return [i for i in self._items if i.kind == "rating"]

    @property
    def choice_item(self) -> Item:
        """The forced-choice item."""
        return next(i for i in self._items if i.kind == "choice")

    @property
    def context_items(self) -> list[Item]:
        """Optional context items, never scored."""
        return [i for i in self._items if i.kind == "context"]

    def item(self, item_id: str) -> Item:
        """Return the item with this id (KeyError if unknown)."""
        for it in self._items:
            if it.id == item_id:
                return it
        raise KeyError(item_id)

    def next_item(self, item_id: str, answers: Mapping[str, str]) -> str | None:
        """Returns the question after item_id, or the first unanswered one, or None when done.

        Going back and changing an answer moves on in order; at the end, a question skipped
        on the way (never, with buttons; possible with older runs) is asked before finishing.
        """
        ids = [it.id for it in self._items]
        after = ids[ids.index(item_id) + 1 :]
        if after:
            return after[0]
        missing = [i for i in ids if i not in answers]
        return missing[0] if missing else None

    def accepts(self, item_id: str, option_id: str) -> bool:
        """Whether option_id answers item_id: one of its options, or SKIP on a context item."""
        try:
            item = self.item(item_id)
        except KeyError:
            return False
        return option_id in {o.id for o in item.options} or (
            item.kind == "context" and option_id == SKIP
        )

    def text(self, key: str, lang: str) -> str:
        """Return a questionnaire-level text (title, intro, notice) in `lang`."""
        return self.meta[lang][key]

    def dimension_label(self, dimension: str, lang: str) -> str:
        """Return the short label of a goal dimension in `lang`."""
        return self.dimension_labels[lang][dimension]


def _read(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError as exc:
        raise QuestionnaireError(path, None, "file not found") from exc
    except tomllib.TOMLDecodeError as exc:
        raise QuestionnaireError(path, None, f"invalid TOML: {exc}") from exc


def _entries(path: Path, data: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """Return the [[items]] of a file by id, rejecting missing and duplicate ids."""
    out: dict[str, dict[str, Any]] = {}
    items = data.get("items")
    if not isinstance(items, list) or not items:
        raise QuestionnaireError(path, None, "no [[items]]")
    for n, entry in enumerate(items, start=1):
        item_id = entry.get("id") if isinstance(entry, dict) else None
        if not isinstance(item_id, str) or not item_id:
            raise QuestionnaireError(path, f"#{n}", "item without an id")
        if item_id in out:
            raise QuestionnaireError(path, item_id, "duplicate id")
        out[item_id] = entry
    return out


def _option_ids(path: Path, item_id: str, ids: Any) -> list[str]:
    if not isinstance(ids, list) or not ids or not all(isinstance(o, str) for o in ids):
        raise QuestionnaireError(path, item_id, "options must be a non-empty list of ids")
    if len(set(ids)) != len(ids):
        raise QuestionnaireError(path, item_id, "duplicate option id")
    for oid in ids:
        if not oid.isascii() or not oid or len(oid.encode()) > MAX_OPTION_ID_BYTES or ":" in oid:
            raise QuestionnaireError(path, item_id, f"option id {oid!r} is not short ASCII")
    return list(ids)


def _structure(path: Path, spec: dict[str, Any], scales: Mapping[str, Any]) -> list[str]:
    """Validate one structural item and return its option ids."""
    item_id, kind = spec["id"], spec.get("kind")
    if kind not in KINDS:
        raise QuestionnaireError(path, item_id, f"unknown kind {kind!r}")
    if kind == "rating":
        dim = spec.get("dimension")
        if dim not in DIMENSION_TYPE:
            raise QuestionnaireError(path, item_id, f"unknown dimension {dim!r}")
        scale = spec.get("scale")
        if not isinstance(scale, str) or scale not in scales:
            raise QuestionnaireError(path, item_id, f"unknown scale {scale!r}")
        ids = _option_ids(path, item_id, scales[scale].get("options"))
        if ids != [str(n) for n in range(1, 6)]:
            raise QuestionnaireError(path, item_id, "a rating scale must be '1'..'5'")
        return ids
    if "dimension" in spec:
        raise QuestionnaireError(path, item_id, f"a {kind} item has no dimension")
    ids = _option_ids(path, item_id, spec.get("options"))
    if kind == "choice" and sorted(ids) != sorted(TypeId):
        raise QuestionnaireError(path, item_id, "forced-choice options must be the type ids")
    return ids


def _texts(
    lang_path: Path,
    lang_data: Mapping[str, Any],
    entries: Mapping[str, dict[str, Any]],
    spec: dict[str, Any],
    option_ids: list[str],
) -> tuple[str, str, dict[str, str]]:
    """Return (text, short, option texts) of one item in one language, validated."""
    item_id = spec["id"]
    entry = entries.get(item_id)
    if entry is None:
        raise QuestionnaireError(lang_path, item_id, "id missing in this language")
    text = entry.get("text")
    if not isinstance(text, str) or not text.strip():
        raise QuestionnaireError(lang_path, item_id, "missing text")
    if spec["kind"] == "rating":
        labels = lang_data.get("scales", {}).get(spec["scale"], {})
        where = f"scale {spec['scale']!r}"
    else:
        labels = entry.get("options", {})
        where = "options"
    missing = [o for o in option_ids if not str(labels.get(o, "")).strip()]
    if missing:
        raise QuestionnaireError(lang_path, item_id, f"{where} without labels for {missing}")
    return text, str(entry.get("short", "")), {o: str(labels[o]) for o in option_ids}


def load_questionnaire(
    path: str | Path | None = None, *, version: str | None = None
) -> Questionnaire:
    """Load and validate a questionnaire (the current version unless `path` or `version` says).

    Language files sit next to it as <stem>.<lang>.toml.
    """
    if path is None:
        if version is not None and version not in VERSION_PATHS:
            raise QuestionnaireError(DEFAULT_PATH, None, f"unknown version {version!r}")
        path = VERSION_PATHS[version or CURRENT_VERSION]
    path = Path(path)
    data = _read(path)
    found, languages = data.get("version"), data.get("languages")
    if not isinstance(found, str) or not found:
        raise QuestionnaireError(path, None, "missing version")
    if version is not None and found != version:
        raise QuestionnaireError(path, None, f"is version {found!r}, not {version!r}")
    version = found
    if not isinstance(languages, list) or not languages:
        raise QuestionnaireError(path, None, "missing languages")
    specs = _entries(path, data)
    scales = data.get("scales", {})
    option_ids = {iid: _structure(path, spec, scales) for iid, spec in specs.items()}
    kinds = [spec["kind"] for spec in specs.values()]
    if kinds.count("choice") != 1:
        raise QuestionnaireError(path, None, "exactly one forced-choice item is required")
    rated = {DIMENSION_TYPE[s["dimension"]] for s in specs.values() if s["kind"] == "rating"}
    if rated != set(TypeId):
        raise QuestionnaireError(path, None, "every type needs at least one rating item")

    texts: dict[str, dict[str, tuple[str, str, dict[str, str]]]] = {iid: {} for iid in specs}
    meta: dict[str, dict[str, str]] = {}
    dim_labels: dict[str, dict[str, str]] = {}
    for lang in languages:
        lang_path = path.with_name(f"{path.stem}.{lang}.toml")
        lang_data = _read(lang_path)
        entries = _entries(lang_path, lang_data)
        for iid, spec in specs.items():
            texts[iid][lang] = _texts(lang_path, lang_data, entries, spec, option_ids[iid])
        extra = set(entries) - set(specs)
        if extra:
            raise QuestionnaireError(lang_path, sorted(extra)[0], "id not in the structure file")
        dims = lang_data.get("dimensions", {})
        missing = [d for d in DIMENSION_TYPE if not dims.get(d)]
        if missing:
            raise QuestionnaireError(lang_path, None, f"dimension labels missing for {missing}")
        dim_labels[lang] = {d: str(dims[d]) for d in DIMENSION_TYPE}
        meta[lang] = {k: str(v) for k, v in lang_data.get("questionnaire", {}).items()}

    items = [
        Item(
            id=iid,
            kind=spec["kind"],
            dimension=spec.get("dimension"),
            options=[
                Option(oid, {lang: texts[iid][lang][2][oid] for lang in languages})
                for oid in option_ids[iid]
            ],
            texts={lang: texts[iid][lang][0] for lang in languages},
            shorts={lang: texts[iid][lang][1] for lang in languages},
        )
        for iid, spec in specs.items()
    ]
    items.sort(key=lambda it: KINDS.index(it.kind))  # stable: ratings, choice, context
    return Questionnaire(version, tuple(languages), tuple(items), meta, dim_labels)


def load_questionnaires() -> dict[str, Questionnaire]:
    """Load every version in VERSION_PATHS, keyed by version (the current one included)."""
    return {v: load_questionnaire(version=v) for v in VERSION_PATHS}
