"""Scoring: ipsative priority profile, nearest-centroid classification, affinities in percent.

Feature vector per respondent (order fixed by the model file):
  * one column per rating item: the rating minus the respondent's own mean rating (ipsative),
  * one column per type: `choice_weight` if the forced choice named that type's goal focus, else 0.
The main type is the nearest centroid, as scikit-learn's NearestCentroid predicts it, except that
distances are rounded to 1e-9 so that exact ties (common with integer ratings) go to the type that
comes first in canonical order instead of to floating-point noise. Affinity to type t is
softmax(-d_t² / temperature) in percent, rounded to one decimal by largest remainder so that
the four values add up to exactly 100.0.
A result is *mixed* when the two highest affinities differ by less than `mixed_margin` percentage
points, or when all ratings are equal (then only the forced choice decided the main type).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from typology.errors import (
    AnswerError,
    IncompleteAnswers,
    ModelError,
    UnknownItem,
    UnknownOption,
    VersionMismatch,
)
from typology.questionnaire import CURRENT_VERSION, Questionnaire
from typology.types import TYPES, TypeId

__all__ = [
    "AnswerError",
    "BatchResult",
    "Classifier",
    "IncompleteAnswers",
    "ModelError",
    "Result",
    "UnknownItem",
    "UnknownOption",
    "VersionMismatch",
    "encode_answers",
    "features",
    "load_model",
    "load_models",
]

# One model per questionnaire version: a run is scored by the model of the version it started on.
MODEL_PATHS: dict[str, Path] = {
    "1": Path(__file__).parent / "data" / "model.json",
    "2": Path(__file__).parent / "data" / "model_v2.json",
}
DEFAULT_MODEL_PATH = MODEL_PATHS[CURRENT_VERSION]
MODEL_FORMAT = 1
FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.intp]


@dataclass(frozen=True)
class Result:
    """One respondent's classification."""

    main_type: TypeId
    second_type: TypeId
    mixed: bool
    affinities: dict[TypeId, float]
    deciding: list[str]
    profile: dict[str, float]
    model_version: str
    questionnaire_version: str


@dataclass(frozen=True)
class BatchResult:
    """Vectorised classification of many respondents (type indices in canonical order)."""

    main: IntArray
    second: IntArray
    affinities: FloatArray
    mixed: npt.NDArray[np.bool_]

    def main_types(self) -> list[TypeId]:
        """Return the main types as TypeId values."""
        return [TYPES[i] for i in self.main]


def encode_answers(
    q: Questionnaire, answers: Mapping[str, str], *, questionnaire_version: str | None = None
) -> npt.NDArray[np.int64]:
    """Validate one answer set; return ratings (1..5) then the chosen type's index."""
    if questionnaire_version is not None and questionnaire_version != q.version:
        raise VersionMismatch(q.version, questionnaire_version)
    known = {it.id: it for it in q.items}
    for item_id, option_id in answers.items():
        if item_id not in known:
            raise UnknownItem(item_id)
        if option_id not in {o.id for o in known[item_id].options}:
            raise UnknownOption(item_id, option_id)
    missing = [it.id for it in q.scored_items if it.id not in answers]
    if missing:
        raise IncompleteAnswers(missing)
    row = [int(answers[it.id]) for it in q.rating_items]
    row.append(TYPES.index(TypeId(answers[q.choice_item.id])))
    return np.asarray(row, dtype=np.int64)


def centre(ratings: npt.ArrayLike) -> FloatArray:
    """Centre each row of ratings on its own mean (ipsative priorities)."""
    r = np.asarray(ratings, dtype=np.float64)
    centred: FloatArray = r - r.mean(axis=1, keepdims=True)
    return centred


def features(matrix: npt.ArrayLike, choice_weight: float) -> FloatArray:
    """Turn raw answer rows (ratings..., choice index) into the model's feature matrix."""
    m = np.asarray(matrix)
    if m.ndim != 2 or m.shape[1] < 2:
        raise ValueError("expected a 2-d matrix: rating columns, then the choice index")
    choice = np.zeros((m.shape[0], len(TYPES)), dtype=np.float64)
    choice[np.arange(m.shape[0]), m[:, -1].astype(np.intp)] = choice_weight
    return np.hstack([centre(m[:, :-1]), choice])


def round_percent(p: FloatArray) -> FloatArray:
    """Round rows of shares (summing to 1) to percent with one decimal, summing to 100.0."""
    tenths = p * 1000.0
    floor = np.floor(tenths)
    deficit = np.clip(np.rint(1000.0 - floor.sum(axis=1)), 0, p.shape[1]).astype(np.intp)
    order = np.argsort(floor - tenths, axis=1, kind="stable")  # largest remainder first
    rank = np.empty_like(order)
    rows = np.arange(p.shape[0])[:, None]
    rank[rows, order] = np.arange(p.shape[1])
    rounded: FloatArray = (floor + (rank < deficit[:, None])) / 10.0
    return rounded


class Classifier:
    """Nearest-centroid classifier over priority profiles, loaded from a versioned JSON file."""

    def __init__(
        self,
        *,
        version: str,
        questionnaire_version: str,
        rating_items: Sequence[str],
        centroids: Mapping[TypeId, Sequence[float]],
        choice_weight: float,
        temperature: float,
        mixed_margin: float,
        provenance: Mapping[str, Any],
    ) -> None:
        self.version = version
        self.questionnaire_version = questionnaire_version
        self.rating_items = tuple(rating_items)
        self.choice_weight = float(choice_weight)
        self.temperature = float(temperature)
        self.mixed_margin = float(mixed_margin)
        self.provenance = dict(provenance)
        width = len(self.rating_items) + len(TYPES)
        cents = np.asarray([centroids[t] for t in TYPES], dtype=np.float64)
        if cents.shape != (len(TYPES), width) or not np.isfinite(cents).all():
            raise ModelError(f"centroids must be {len(TYPES)} finite rows of {width} values")
        if self.temperature <= 0 or self.choice_weight < 0 or self.mixed_margin < 0:
            raise ModelError("temperature must be > 0, choice_weight and mixed_margin >= 0")
        self._centroids = cents

    @property
    def centroids(self) -> FloatArray:
        """The centroids, one row per type in canonical order."""
        return self._centroids

    @property
    def estimator(self) -> Any:
        """The model as a fitted scikit-learn NearestCentroid (for refits, checks and export).

        Built on demand: classifying needs only the centroids, and importing scikit-learn costs
        the running bot about 80 MB of memory.
        """
        from sklearn.neighbors import NearestCentroid

        # Fit on two points around each centroid (defined, non-zero within-class spread), then
        # pin the centroids to the stored values bit for bit.
        labels = np.tile(np.arange(len(TYPES)), 2)
        cents = self._centroids
        est = NearestCentroid().fit(np.vstack([cents + 1.0, cents - 1.0]), labels)
        est.centroids_ = cents
        return est

    def _check(self, q: Questionnaire) -> None:
        if q.version != self.questionnaire_version:
            raise ModelError(
                f"model {self.version} is for questionnaire {self.questionnaire_version}, "
                f"not {q.version}"
            )
        if tuple(it.id for it in q.rating_items) != self.rating_items:
            raise ModelError(f"model {self.version} expects rating items {self.rating_items}")

    def _distances(self, x: FloatArray) -> FloatArray:
        """Squared distances to the centroids, rounded so that exact ties stay ties."""
        diff = x[:, None, :] - self.centroids[None, :, :]
        d: FloatArray = np.round(np.einsum("ijk,ijk->ij", diff, diff), 9)
        return d

    def classify_batch(self, matrix: npt.ArrayLike) -> BatchResult:
        """Classify rows of raw answers (ratings 1..5 in item order, then choice type index)."""
        m = np.asarray(matrix)
        if m.ndim != 2 or m.shape[1] != len(self.rating_items) + 1:
            raise ValueError(f"expected rows of {len(self.rating_items)} ratings + choice index")
        if m.size and (
            m[:, :-1].min() < 1
            or m[:, :-1].max() > 5
            or m[:, -1].min() < 0
            or m[:, -1].max() >= len(TYPES)
        ):
            raise ValueError("ratings must be 1..5 and the choice index 0..3")
        x = features(m, self.choice_weight)
        d = self._distances(x)
        order = np.argsort(d, axis=1, kind="stable")
        logits = -(d - d.min(axis=1, keepdims=True)) / self.temperature
        expd = np.exp(logits)
        aff = round_percent(expd / expd.sum(axis=1, keepdims=True))
        main, second = order[:, 0], order[:, 1]
        rows = np.arange(m.shape[0])
        margin = aff[rows, main] - aff[rows, second]
        flat = np.ptp(m[:, :-1], axis=1) == 0
        mixed = (margin < self.mixed_margin) | flat
        return BatchResult(main, second, aff, mixed)

    def classify(
        self,
        q: Questionnaire,
        answers: Mapping[str, str],
        *,
        questionnaire_version: str | None = None,
    ) -> Result:
        """Classify one respondent; context answers are allowed and ignored."""
        self._check(q)
        row = encode_answers(q, answers, questionnaire_version=questionnaire_version)
        batch = self.classify_batch(row[None, :])
        main, second = int(batch.main[0]), int(batch.second[0])
        x = features(row[None, :], self.choice_weight)[0]
        return Result(
            main_type=TYPES[main],
            second_type=TYPES[second],
            mixed=bool(batch.mixed[0]),
            affinities={t: float(batch.affinities[0, i]) for i, t in enumerate(TYPES)},
            deciding=self._deciding(q, x, main, second),
            profile=_profile(q, x),
            model_version=self.version,
            questionnaire_version=q.version,
        )

    def _deciding(self, q: Questionnaire, x: FloatArray, main: int, second: int) -> list[str]:
        """Two or three answers that decided main over second type (see docs/typology.md).

        Ranked by their share of the distance margin between the two centroids; answers that
        point at the main type (its goals rated above one's own mean, or its goal focus chosen)
        come first, so the explanation names what the person stressed, not what they played down.
        """
        n = len(self.rating_items)
        if np.ptp(x[:n]) == 0:  # flat profile: only the forced choice separates the types
            return [q.choice_item.id]
        c1, c2 = self.centroids[main], self.centroids[second]
        contrib = (x - c2) ** 2 - (x - c1) ** 2
        per_item = [*contrib[:n], contrib[n:].sum()]
        ids = [*self.rating_items, q.choice_item.id]
        main_type = TYPES[main]
        pointing = [q.item(i).type == main_type and x[k] > 0 for k, i in enumerate(ids[:n])]
        pointing.append(bool(x[n + main] > 0))
        ranked = sorted(range(len(ids)), key=lambda i: (not pointing[i], -per_item[i]))
        chosen = [ids[i] for i in ranked if per_item[i] > 0][:3]
        return chosen if len(chosen) >= 2 else [ids[i] for i in ranked[:2]]

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON-serialisable model description."""
        return {
            "format": MODEL_FORMAT,
            "version": self.version,
            "questionnaire_version": self.questionnaire_version,
            "rating_items": list(self.rating_items),
            "choice_weight": self.choice_weight,
            "temperature": self.temperature,
            "mixed_margin": self.mixed_margin,
            "centroids": {
                t.value: [round(float(v), 6) for v in row]
                for t, row in zip(TYPES, self.centroids, strict=True)
            },
            "provenance": self.provenance,
        }

    def save(self, path: str | Path) -> None:
        """Write the model as JSON (never pickle)."""
        text = json.dumps(self.to_dict(), indent=2, ensure_ascii=False)
        Path(path).write_text(text + "\n", encoding="utf-8")


def _profile(q: Questionnaire, x: FloatArray) -> dict[str, float]:
    """Mean centred rating per goal dimension."""
    sums: dict[str, list[float]] = {}
    for it, value in zip(q.rating_items, x, strict=False):
        sums.setdefault(str(it.dimension), []).append(float(value))
    return {dim: sum(v) / len(v) for dim, v in sorted(sums.items())}


def model_from_dict(data: Mapping[str, Any]) -> Classifier:
    """Build a Classifier from its JSON description (ModelError if malformed)."""
    if data.get("format") != MODEL_FORMAT:
        raise ModelError(f"unsupported model format {data.get('format')!r}")
    try:
        cents = {TypeId(k): v for k, v in data["centroids"].items()}
        return Classifier(
            version=str(data["version"]),
            questionnaire_version=str(data["questionnaire_version"]),
            rating_items=data["rating_items"],
            centroids=cents,
            choice_weight=data["choice_weight"],
            temperature=data["temperature"],
            mixed_margin=data["mixed_margin"],
            provenance=data.get("provenance", {}),
        )
    except (KeyError, TypeError, ValueError) as exc:
        if isinstance(exc, ModelError):
            raise
        raise ModelError(f"malformed model: {exc!r}") from exc


def load_model(
    path: str | Path | None = None, *, questionnaire_version: str | None = None
) -> Classifier:
    """Load the classifier for a questionnaire version (default: the current one) or `path`."""
    if path is None:
        version = questionnaire_version or CURRENT_VERSION
        if version not in MODEL_PATHS:
            raise ModelError(f"no model for questionnaire version {version!r}")
        path = MODEL_PATHS[version]
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise ModelError(f"{path.name}: cannot read model: {exc}") from exc
    model = model_from_dict(data)
    if questionnaire_version is not None and model.questionnaire_version != questionnaire_version:
        raise ModelError(
            f"{path.name}: model {model.version} is for questionnaire "
            f"{model.questionnaire_version}, not {questionnaire_version}"
        )
    return model


def load_models() -> dict[str, Classifier]:
    """Load the model of every questionnaire version, keyed by that version."""
    return {v: load_model(questionnaire_version=v) for v in MODEL_PATHS}
