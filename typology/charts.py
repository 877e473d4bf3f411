"""Charts as PNG bytes: group composition and a participant's affinity profile.

Rendered with matplotlib's object API (`Figure` + Agg canvas), never pyplot, so it is safe to call
from several threads. About 1000 px wide for phone screens; every type gets its own neutral,
equally saturated colour (Okabe–Ito palette, colour-blind safe) so no type looks "better".
"""

from __future__ import annotations

import functools
import io
import threading
from collections.abc import Mapping

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from PIL import Image

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
XMAX, LABEL_GAP = 1.3, 0.02  # axis units: the longest bar is 1.0


class _Template:
    """A drawn chart without its bars and value labels, for one language and title.

    Drawing everything (ticks, names, title, layout) costs about 50 ms of Python holding the
    GIL, which stalls the bot's event loop while a crowd finishes at once. Only the bars and
    their labels change between charts, so they are drawn onto a copy of the saved background
    (matplotlib's blitting): about 5 ms, and the PNG encoding after it releases the GIL.
    """

    def __init__(self, lang: str, title: str) -> None:
        names = type_names(lang)
        fig = Figure(figsize=(WIDTH_IN, HEIGHT_IN), dpi=DPI)
        self._canvas = FigureCanvasAgg(fig)
        ax = self._ax = fig.add_subplot()
        y = list(range(len(TYPES)))[::-1]  # first type on top
        bars = ax.barh(y, [0.0] * len(TYPES), color=[COLOURS[t] for t in TYPES], height=0.62)
        self._bars = list(bars.patches)
        ax.set_yticks(y, [names[t] for t in TYPES], fontsize=19)
        # Bars are drawn in units of the longest bar, which ends at 1/1.3 of the width: room
        # for its label. The x axis has no ticks, so its units never show.
        ax.set_xlim(0, XMAX)
        ax.set_xticks([])
        for side in ("top", "right", "bottom"):
            ax.spines[side].set_visible(False)
        self._labels = [ax.text(0.0, yi, "", va="center", fontsize=19) for yi in y]
        ax.set_title(title, fontsize=22, loc="left", pad=14)
        fig.tight_layout()
        self._canvas.draw()  # type: ignore[no-untyped-call]
        self._background = self._canvas.copy_from_bbox(fig.bbox)  # type: ignore[no-untyped-call]
        self._lock = threading.Lock()  # one figure, so one drawing at a time

    def png(self, values: list[float], labels: list[str], xmax: float) -> bytes:
        """Draws the bars and their labels onto the background; returns PNG bytes."""
        with self._lock:
            self._canvas.restore_region(self._background)  # type: ignore[no-untyped-call]
            for bar, text, value, label in zip(
                self._bars, self._labels, values, labels, strict=True
            ):
                width = value / xmax if xmax > 0 else 0.0
                bar.set_width(width)
                self._ax.draw_artist(bar)
                text.set_x(width + LABEL_GAP)
                text.set_text(label)
                self._ax.draw_artist(text)
            size = self._canvas.get_width_height()
            rgba = self._canvas.buffer_rgba()  # type: ignore[no-untyped-call]
            image = Image.frombuffer("RGBA", size, rgba, "raw", "RGBA", 0, 1)
            rgb = image.convert("RGB")  # a copy: the canvas is free for the next chart
        buf = io.BytesIO()
        rgb.save(buf, format="PNG")
        return buf.getvalue()


@functools.lru_cache(maxsize=8)  # about 4.5 MB each; in practice 2 languages x 2 titles
def _template(lang: str, title: str) -> _Template:
    return _Template(lang, title)


def _bar_chart(
    values: list[float], labels: list[str], lang: str, title: str, xmax: float
) -> bytes:
    """Horizontal bars in canonical type order, the value label next to each bar."""
    return _template(lang, title).png(values, labels, xmax)


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
