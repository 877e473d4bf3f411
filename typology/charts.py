"""Charts as PNG bytes: group composition and a participant's affinity profile.

Rendered with matplotlib's object API (`Figure` + Agg canvas), never pyplot, so it is safe to call
from several threads. About 1000 px wide for phone screens; every type gets its own neutral,
equally saturated colour (Okabe–Ito palette, colour-blind safe) so no type looks "better".
"""

from __future__ import annotations

import functools
import io
import math
import threading
from collections.abc import Mapping
from datetime import date

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import to_hex
from matplotlib.figure import Figure
from matplotlib.font_manager import findfont
from PIL import Image, ImageDraw, ImageFont

from typology.group import percent_shares
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
# The composition chart stands alone on a slide: a footer names the workshop, n and the date
# (drawn per call, like the bars) beside the source of the typology (drawn in the template).
SOURCE: dict[str, str] = {
    "de": "Typen: ÖFIT/KGSt (2020) · eigener Fragebogen",
    "en": "Types: ÖFIT/KGSt (2020) · own questionnaire",
}
DATE_FORMAT: dict[str, str] = {"de": "%d.%m.%Y", "en": "%Y-%m-%d"}
FOOTER = 0.08  # share of the height kept free at the bottom for the footer line
FOOTER_PT, FOOTER_INK, FOOTER_GAP = 14, "#444444", 24  # font size, colour, px before the source
WIDTH_IN, HEIGHT_IN, DPI = 10.0, 5.6, 100
XMAX, LABEL_GAP = 1.3, 0.02  # axis units: the longest bar is 1.0
BAR_HEIGHT = 0.62  # y axis units: one type per unit


class _Template:
    """A drawn chart without its bars and value labels, for one language and title.

    matplotlib draws what never changes (names, title, axis, layout) once. Each chart is a copy
    of that picture with the bars and their labels drawn by PIL, in C: about 0.4 ms holding the
    GIL, against 4 ms for matplotlib's blitting of those artists and 50 ms for drawing it all.
    Charts render in threads while a crowd finishes at once; Python code holding the GIL
    there stalls the bot's event loop. Positions, font and text alignment come from
    matplotlib's own layout of the template, so the chart looks as matplotlib draws it.
    """

    def __init__(self, lang: str, title: str, footer: bool = False) -> None:
        names = type_names(lang)
        fig = Figure(figsize=(WIDTH_IN, HEIGHT_IN), dpi=DPI)
        canvas = FigureCanvasAgg(fig)
        ax = fig.add_subplot()
        y = list(range(len(TYPES)))[::-1]  # first type on top
        ax.barh(y, [0.0] * len(TYPES), height=BAR_HEIGHT)  # the layout of the chart with bars
        ax.set_yticks(y, [names[t] for t in TYPES], fontsize=19)
        # Bars are drawn in units of the longest bar, which ends at 1/1.3 of the width: room
        # for its label. The x axis has no ticks, so its units never show.
        ax.set_xlim(0, XMAX)
        ax.set_xticks([])
        for side in ("top", "right", "bottom"):
            ax.spines[side].set_visible(False)
        label = ax.text(0.0, y[0], "", va="center", fontsize=19)  # the labels' font and colour
        ax.set_title(title, fontsize=22, loc="left", pad=14)
        source = None
        if footer:
            source = fig.text(
                0.985, FOOTER / 2, SOURCE[lang], ha="right", va="center", fontsize=FOOTER_PT - 2
            )
            source.set_color(FOOTER_INK)
        fig.tight_layout(rect=(0, FOOTER if footer else 0, 1, 1))
        canvas.draw()  # type: ignore[no-untyped-call]
        renderer = canvas.get_renderer()  # type: ignore[no-untyped-call]
        width, height = canvas.get_width_height()
        rgba = canvas.buffer_rgba()  # type: ignore[no-untyped-call]
        self._background = Image.frombuffer(
            "RGBA", (width, height), rgba, "raw", "RGBA", 0, 1
        ).convert("RGB")
        # Pixel geometry, with PIL's y axis pointing down.
        to_px = ax.transData.transform
        (origin, _), (one, _) = to_px([(0.0, 0.0), (1.0, 0.0)])
        self._unit = one - origin
        # The y axis line is snapped to the centre of the pixel column at the origin; the bars
        # start in the first column it does not cover whole (matplotlib draws it over them).
        line = ax.spines["left"].get_linewidth() * DPI / 72
        self._left = math.floor(round(origin) + 0.5 + line / 2)
        self._origin = origin
        half = BAR_HEIGHT / 2
        self._rows = [
            (height - to_px((0.0, yi + half))[1], height - to_px((0.0, yi - half))[1]) for yi in y
        ]
        # matplotlib centres a label's line box (the height of "lp") on the bar; PIL places
        # text by its baseline, which lies (box height / 2 - descent) below that centre.
        props = label.get_fontproperties()
        _, box, descent = renderer.get_text_width_height_descent("lp", props, ismath=False)
        self._baselines = [height - to_px((0.0, yi))[1] + box / 2 - descent for yi in y]
        self._font = ImageFont.truetype(findfont(props), props.get_size_in_points() * DPI / 72)
        self._ink = to_hex(label.get_color())
        self._colours = [COLOURS[t] for t in TYPES]
        self._lock = threading.Lock()  # FreeType faces are not safe to share between threads
        # The footer line: from the left edge of the type names to just before the source.
        self._footer_font: ImageFont.FreeTypeFont | None = None
        if source is not None:
            self._footer_font = ImageFont.truetype(findfont(props), FOOTER_PT * DPI / 72)
            left = min(t.get_window_extent(renderer).x0 for t in ax.get_yticklabels())
            self._footer_at = (left, height * (1 - FOOTER / 2))
            self._footer_width = source.get_window_extent(renderer).x0 - FOOTER_GAP - left

    def fit_footer(self, workshop: str, tail: str) -> str:
        """Returns "workshop · tail", the workshop title shortened where it would reach the source.

        n and the date (the tail) are always shown whole.
        """
        font = self._footer_font
        if not workshop:
            return tail
        text = f"{workshop} · {tail}"
        if font is None or font.getlength(text) <= self._footer_width:
            return text
        while workshop and font.getlength(f"{workshop}… · {tail}") > self._footer_width:
            workshop = workshop[:-1]
        return f"{workshop.rstrip()}… · {tail}" if workshop.strip() else tail

    def png(
        self,
        values: list[float],
        labels: list[str],
        xmax: float,
        footer: tuple[str, str] | None = None,
    ) -> bytes:
        """Draws the bars, their labels and the footer onto a copy of the background; PNG bytes."""
        with self._lock:
            image = self._background.copy()
            draw = ImageDraw.Draw(image)
            for colour, (top, bottom), baseline, value, label in zip(
                self._colours, self._rows, self._baselines, values, labels, strict=True
            ):
                width = value / xmax if xmax > 0 else 0.0
                end = self._origin + width * self._unit
                if round(end) > self._left:
                    draw.rectangle(
                        (self._left, round(top), round(end) - 1, round(bottom) - 1), fill=colour
                    )
                at = (self._origin + (width + LABEL_GAP) * self._unit, baseline)
                draw.text(at, label, font=self._font, fill=self._ink, anchor="ls")
            if footer is not None and self._footer_font is not None:
                text = self.fit_footer(*footer)
                draw.text(
                    self._footer_at, text, font=self._footer_font, fill=FOOTER_INK, anchor="lm"
                )
        buf = io.BytesIO()
        image.save(buf, format="PNG")  # zlib releases the GIL
        return buf.getvalue()


@functools.lru_cache(maxsize=8)  # about 1.7 MB each; in practice 2 languages x 2 titles
def _template(lang: str, title: str, footer: bool = False) -> _Template:
    # Keyed by what every chart of a kind shares; workshop, n and date are drawn per call.
    return _Template(lang, title, footer)


def _bar_chart(
    values: list[float], labels: list[str], lang: str, title: str, xmax: float
) -> bytes:
    """Horizontal bars in canonical type order, the value label next to each bar."""
    return _template(lang, title).png(values, labels, xmax)


def footer_text(
    n: int, *, lang: str, workshop: str | None = None, day: date | None = None
) -> tuple[str, str]:
    """The composition chart's footer: the workshop title, and "n = … · date" (as far as given)."""
    tail = f"n = {n}" + (f" · {day.strftime(DATE_FORMAT[lang])}" if day is not None else "")
    return " ".join((workshop or "").split()), tail


def _title(lang: str, kind: str, title: str | None) -> str:
    if title is not None:
        return title
    if lang not in TITLES:
        raise ValueError(f"unsupported language {lang!r}")
    return TITLES[lang][kind]


def composition_chart(
    counts: Mapping[TypeId, int],
    *,
    lang: str = "de",
    title: str | None = None,
    workshop: str | None = None,
    day: date | None = None,
) -> bytes:
    """Render a group's type composition (count and percent per type) as PNG bytes.

    A footer names the workshop, n (the counted members) and the day, and the source of the
    typology, so that the picture stands alone on a slide.
    """
    values = [int(counts.get(t, 0)) for t in TYPES]
    if any(v < 0 for v in values):
        raise ValueError("counts must not be negative")
    template = _template(lang, _title(lang, "composition", title), footer=True)
    return template.png(
        [float(v) for v in values],
        composition_labels(counts, lang=lang),
        max(values),
        footer_text(sum(values), lang=lang, workshop=workshop, day=day),
    )


def composition_labels(counts: Mapping[TypeId, int], *, lang: str = "de") -> list[str]:
    """Returns the composition chart's bar labels, "count (share %)", in canonical type order."""
    values = [int(counts.get(t, 0)) for t in TYPES]
    if not sum(values):
        return ["0"] * len(values)
    sign = " %" if lang == "de" else "%"
    return [
        f"{v} ({share}{sign})" for v, share in zip(values, percent_shares(values), strict=True)
    ]


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
