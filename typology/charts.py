"""Charts as PNG bytes: group composition and a participant's affinity profile.

Rendered with matplotlib's object API (`Figure` + Agg canvas), never pyplot, so it is safe to call
from several threads. About 1000 px wide for phone screens; every type gets its own neutral,
equally saturated colour (Okabe–Ito palette, colour-blind safe) so no type looks "better".
"""

from __future__ import annotations

import io
from collections.abc import Mapping

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from typology.profiles import type_names
from typology.types import TYPES, TypeId

COLOURS: dict[TypeId, str] = {
    TypeId.BEDAECHTIGE: "#0072B2",
    TypeId.OPTIMIERER: "#E69F00",
    TypeId.SERVICEORIENTIERTE: "#009E73",
    TypeId.COMMUNITY: "#CC79A7",
}
TITLES: dict[str, dict[str, str]] = {
    "de": {"composition": "Zusammensetzung der Gruppe", "affinity": "Nähe zu den vier Typen"},
    "en": {"composition": "Group composition", "affinity": "Affinity to the four types"},
}
WIDTH_IN, HEIGHT_IN, DPI = 10.0, 5.6, 100


def _bar_chart(
    values: list[float], labels: list[str], lang: str, title: str, xmax: float
) -> bytes:
    """Draw horizontal bars in canonical type order, the value label next to each bar."""
    names = type_names(lang)
    fig = Figure(figsize=(WIDTH_IN, HEIGHT_IN), dpi=DPI)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    y = list(range(len(TYPES)))[::-1]  # first type on top
    ax.barh(y, values, color=[COLOURS[t] for t in TYPES], height=0.62)
    ax.set_yticks(y, [names[t] for t in TYPES], fontsize=19)
    ax.set_xlim(0, xmax * 1.3 if xmax > 0 else 1.0)
    ax.set_xticks([])
    for side in ("top", "right", "bottom"):
        ax.spines[side].set_visible(False)
    for yi, value, label in zip(y, values, labels, strict=True):
        ax.text(value + max(xmax, 1.0) * 0.02, yi, label, va="center", fontsize=19)
    ax.set_title(title, fontsize=22, loc="left", pad=14)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI)
    return buf.getvalue()


def _title(lang: str, kind: str, title: str | None) -> str:
    if title is not None:
        return title
    if lang not in TITLES:
        raise ValueError(f"unsupported language {lang!r}")
    return TITLES[lang][kind]


def composition_chart(
    counts: Mapping[TypeId, int], *, lang: str = "de", title: str | None = None
) -> bytes:
    """Render a group's type composition (count and percent per type) as PNG bytes."""
    values = [int(counts.get(t, 0)) for t in TYPES]
    if any(v < 0 for v in values):
        raise ValueError("counts must not be negative")
    total = sum(values)
    labels = [f"{v} ({v / total:.0%})" if total else "0" for v in values]
    labels = [label.replace("%", " %") if lang == "de" else label for label in labels]
    return _bar_chart(
        [float(v) for v in values], labels, lang, _title(lang, "composition", title), max(values)
    )


def affinity_chart(
    affinities: Mapping[TypeId, float], *, lang: str = "de", title: str | None = None
) -> bytes:
    """Render a participant's affinity to each type (percent) as PNG bytes."""
    values = [float(affinities.get(t, 0.0)) for t in TYPES]
    if any(v < 0 for v in values):
        raise ValueError("affinities must not be negative")
    sep = "," if lang == "de" else "."
    labels = [f"{v:.1f}".replace(".", sep) + " %" for v in values]
    return _bar_chart(values, labels, lang, _title(lang, "affinity", title), max(values))
