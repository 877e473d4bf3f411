"""Calibration: refit the centroids with k-means (k = 4) on response data; report fit quality."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pandas as pd
import sklearn
from scipy.optimize import linear_sum_assignment
from sklearn.cluster import KMeans
from sklearn.metrics import adjusted_rand_score, silhouette_score

from typology.evaluation import synthetic_report
from typology.questionnaire import (
    CURRENT_VERSION,
    VERSION_PATHS,
    Questionnaire,
    load_questionnaire,
)
from typology.scoring import Classifier, features, load_model
from typology.synthetic import SAMPLE_PATHS
from typology.types import TYPES, TypeId

SAMPLE_PATH = SAMPLE_PATHS[CURRENT_VERSION]
STABILITY_SEEDS = (1, 2, 3, 4, 5)
SILHOUETTE_SAMPLE = 2000


class CalibrationError(ValueError):
    """Malformed response data; names the file line and the column."""

    def __init__(self, row: int | None, column: str | None, msg: str) -> None:
        self.row, self.column, self.msg = row, column, msg
        where = " ".join(
            part
            for part in (f"line {row}" if row else "", f"column {column!r}" if column else "")
            if part
        )
        super().__init__(f"{where}: {msg}" if where else msg)


def read_responses(path: str | Path, q: Questionnaire) -> npt.NDArray[np.int64]:
    """Read a responses CSV into raw answer rows (ratings, choice index); reject bad cells."""
    try:
        df = pd.read_csv(path, dtype=str, keep_default_na=False, skip_blank_lines=False)
    except (OSError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise CalibrationError(None, None, f"cannot read {Path(path).name}: {exc}") from exc
    required = [it.id for it in q.scored_items]
    missing = [c for c in required if c not in df.columns]
    if missing:
        raise CalibrationError(1, missing[0], f"missing column(s): {', '.join(missing)}")
    if df.empty:
        raise CalibrationError(None, None, "no responses")
    df = df.apply(lambda col: col.str.strip())
    for item in q.scored_items + [it for it in q.context_items if it.id in df.columns]:
        allowed = {o.id for o in item.options} | ({""} if item.kind == "context" else set())
        values = df[item.id]
        bad = ~values.isin(allowed)
        if bad.any():
            i = int(np.argmax(bad.to_numpy()))
            scope = "outside the scale 1..5" if item.kind == "rating" else "not an option"
            # line numbers: the header is line 1, the first response line 2
            raise CalibrationError(i + 2, item.id, f"value {values.iloc[i]!r} is {scope}")
    ratings = df[[it.id for it in q.rating_items]].astype(np.int64).to_numpy()
    choice_idx = {t.value: i for i, t in enumerate(TYPES)}
    choices = df[q.choice_item.id].map(choice_idx).to_numpy(dtype=np.int64)
    return np.column_stack([ratings, choices])


def prior_model(q: Questionnaire, *, choice_weight: float = 2.0) -> Classifier:
    """The shipped model: centroids derived from the item-to-type design assumption."""
    centroids: dict[TypeId, list[float]] = {}
    for t in TYPES:
        ideal = np.array([[5.0 if it.type == t else 3.0 for it in q.rating_items]])
        centred = ideal - ideal.mean()
        choice = [choice_weight if u == t else 0.0 for u in TYPES]
        centroids[t] = [float(v) for v in centred[0]] + choice
    return Classifier(
        version=f"prior-{q.version}",
        questionnaire_version=q.version,
        rating_items=[it.id for it in q.rating_items],
        centroids=centroids,
        choice_weight=choice_weight,
        temperature=16.0,
        mixed_margin=10.0,
        provenance={
            "method": "prior",
            "description": (
                "Not fitted to data. Each type's centroid is the centred profile of a respondent "
                "who rates that type's three goals 'very important' (5) and all others 'in "
                "between' (3) and picks that type's goal focus in the forced choice. The item-to-"
                "type mapping is the project's design assumption, inspired by the published "
                "ÖFIT/KGSt type descriptions; the study's own items and model are not public."
            ),
        },
    )


def match_clusters(centers: npt.NDArray[np.float64], q: Questionnaire) -> list[TypeId]:
    """Name k-means clusters: Hungarian assignment maximising each type's own-feature mean."""
    n = len(q.rating_items)
    score = np.empty((centers.shape[0], len(TYPES)))
    for j, t in enumerate(TYPES):
        cols = [i for i, it in enumerate(q.rating_items) if it.type == t] + [n + j]
        score[:, j] = centers[:, cols].mean(axis=1)
    rows, cols = linear_sum_assignment(-score)
    names = [TYPES[0]] * centers.shape[0]
    for r, c in zip(rows, cols, strict=True):
        names[r] = TYPES[c]
    return names


def _kmeans(x: npt.NDArray[np.float64], seed: int) -> KMeans:
    return KMeans(n_clusters=len(TYPES), n_init=10, random_state=seed).fit(x)


@dataclass(frozen=True)
class Evaluation:
    """Fit quality of a k-means refit against the current model."""

    n: int
    fitted_sizes: dict[TypeId, int]
    current_sizes: dict[TypeId, int]
    agreement: float
    agreement_ari: float
    silhouette: float
    stability_mean: float
    stability_min: float
    mixed_share: float


def fit(
    matrix: npt.NDArray[np.int64],
    q: Questionnaire,
    base: Classifier,
    *,
    seed: int = 0,
    provenance: dict[str, object] | None = None,
) -> tuple[Classifier, Evaluation]:
    """Refit centroids with k-means on centred profiles; evaluate against `base`."""
    if len(matrix) < 4 * len(TYPES):
        raise CalibrationError(None, None, f"need at least {4 * len(TYPES)} responses")
    # k-means on the centred rating profiles; the forced-choice part of each centroid is the
    # cluster's mean of the weighted one-hot choice (what k-means would compute for it).
    x = features(matrix, base.choice_weight)
    n_items = len(base.rating_items)
    km = _kmeans(x[:, :n_items], seed)
    centers = np.vstack([x[km.labels_ == k].mean(axis=0) for k in range(len(TYPES))])
    names = match_clusters(centers, q)
    centroids = {names[k]: [float(v) for v in centers[k]] for k in range(len(TYPES))}
    version = "fit-" + str((provenance or {}).get("sha256", "unknown"))[:10]
    model = Classifier(
        version=version,
        questionnaire_version=q.version,
        rating_items=base.rating_items,
        centroids=centroids,
        choice_weight=base.choice_weight,
        temperature=base.temperature * _spread(centers) / _spread(base.centroids),
        mixed_margin=base.mixed_margin,
        provenance={
            "method": "kmeans",
            "temperature": "scaled by the centroid spread relative to the inherited model",
            "k": len(TYPES),
            "n_init": 10,
            "seed": seed,
            "n_respondents": len(matrix),
            "matching": "Hungarian assignment on each type's own-item and choice means",
            "inherited_from": base.version,
            "sklearn": sklearn.__version__,
            "created": datetime.now(UTC).isoformat(timespec="seconds"),
            **(provenance or {}),
        },
    )
    fitted_labels = np.array([TYPES.index(names[k]) for k in km.labels_])
    current = base.classify_batch(matrix)
    runs = [_kmeans(x[:, :n_items], s).labels_ for s in STABILITY_SEEDS]
    aris = [float(adjusted_rand_score(km.labels_, r)) for r in runs]
    sil = silhouette_score(
        x[:, :n_items], km.labels_, sample_size=min(len(x), SILHOUETTE_SAMPLE), random_state=seed
    )
    evaluation = Evaluation(
        n=len(matrix),
        fitted_sizes=_sizes(fitted_labels),
        current_sizes=_sizes(current.main),
        agreement=float(np.mean(fitted_labels == current.main)),
        agreement_ari=float(adjusted_rand_score(current.main, fitted_labels)),
        silhouette=float(sil),
        stability_mean=float(np.mean(aris)),
        stability_min=float(np.min(aris)),
        mixed_share=float(np.mean(model.classify_batch(matrix).mixed)),
    )
    return model, evaluation


def _spread(centers: npt.NDArray[np.float64]) -> float:
    """Mean squared distance between distinct centroids."""
    d = ((centers[:, None, :] - centers[None, :, :]) ** 2).sum(axis=-1)
    return float(d.sum() / (len(centers) * (len(centers) - 1)))


def _sizes(labels: Sequence[int] | npt.NDArray[np.intp]) -> dict[TypeId, int]:
    counts = np.bincount(np.asarray(labels, dtype=np.intp), minlength=len(TYPES))
    return {t: int(counts[i]) for i, t in enumerate(TYPES)}


def report(ev: Evaluation, *, source: str, current: Classifier) -> str:
    """Format an Evaluation as a printable plain-text report."""
    lines = [
        f"responses: {ev.n} from {source}",
        f"current model: {current.version} ({current.provenance.get('method', '?')})",
        f"{'type':<20}{'refit':>8}{'current':>9}",
    ]
    lines += [f"{t.value:<20}{ev.fitted_sizes[t]:>8}{ev.current_sizes[t]:>9}" for t in TYPES]
    lines += [
        f"agreement refit vs current model: {ev.agreement:.1%} (ARI {ev.agreement_ari:.3f})",
        f"silhouette (refit clusters, -1..1): {ev.silhouette:.3f}",
        f"stability over {len(STABILITY_SEEDS)} reseeded runs (ARI): "
        f"mean {ev.stability_mean:.3f}, min {ev.stability_min:.3f}",
        f"mixed results under the refit: {ev.mixed_share:.1%}",
    ]
    return "\n".join(lines)


def _source(path: Path) -> dict[str, object]:
    return {"source": path.name, "sha256": hashlib.sha256(path.read_bytes()).hexdigest()}


def version_of_csv(path: str | Path) -> str:
    """Returns the version whose scored items are all columns of the CSV, else the current one.

    With the current one, read_responses then names the missing columns.
    """
    try:
        columns = set(pd.read_csv(path, dtype=str, nrows=0).columns)
    except (OSError, pd.errors.ParserError, pd.errors.EmptyDataError):
        return CURRENT_VERSION
    fitting = [
        v
        for v in VERSION_PATHS
        if {it.id for it in load_questionnaire(version=v).scored_items} <= columns
    ]
    return fitting[0] if len(fitting) == 1 else CURRENT_VERSION


def fit_command(csv_path: str | Path, out_path: str | Path) -> str:
    """Refit the model of the CSV's questionnaire version, write the model JSON, report."""
    path = Path(csv_path)
    version = version_of_csv(path)
    q, current = load_questionnaire(version=version), load_model(questionnaire_version=version)
    matrix = read_responses(path, q)
    model, ev = fit(matrix, q, current, provenance=_source(path))
    model.save(out_path)
    head = f"wrote model {model.version} (questionnaire version {version}) to {out_path}"
    return head + "\n" + report(ev, source=path.name, current=current)


def evaluate_command(csv_path: str | Path | None = None) -> str:
    """Reports how well the models fit: synthetic recovery, and k-means structure in responses.

    Without a file: every questionnaire version on synthetic prototype respondents side by
    side, then the refit report on the current version's synthetic sample. With a file: how
    well k-means structure in the responses matches the model of their version.
    """
    if csv_path is None:
        label = f"{SAMPLE_PATH.name} (synthetic sample)"
        refit = _refit_report(SAMPLE_PATH, CURRENT_VERSION, label)
        return (
            f"{synthetic_report()}\n\n"
            f"k-means refit, questionnaire version {CURRENT_VERSION}:\n{refit}"
        )
    path = Path(csv_path)
    version = version_of_csv(path)
    return f"questionnaire version {version}\n" + _refit_report(path, version, path.name)


def _refit_report(path: Path, version: str, label: str) -> str:
    """Fits k-means to the responses in path and reports it against the version's model."""
    q, current = load_questionnaire(version=version), load_model(questionnaire_version=version)
    _, ev = fit(read_responses(path, q), q, current, provenance=_source(path))
    return report(ev, source=label, current=current)
