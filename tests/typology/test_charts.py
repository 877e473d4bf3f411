"""Charts are valid PNGs of a phone-friendly size."""

from __future__ import annotations

import io
import threading
from datetime import date

import numpy as np
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from PIL import Image

from typology.charts import (
    COLOURS,
    DPI,
    FOOTER,
    HEIGHT_IN,
    WIDTH_IN,
    _template,
    affinity_chart,
    composition_chart,
    footer_text,
)
from typology.profiles import type_names
from typology.types import TYPES, TypeId

PNG = b"\x89PNG\r\n\x1a\n"


def _check(data: bytes) -> None:
    assert data.startswith(PNG)
    with Image.open(io.BytesIO(data)) as img:
        img.verify()
    with Image.open(io.BytesIO(data)) as img:
        width, height = img.size
    assert 800 <= width <= 1300
    assert 400 <= height <= 900


@pytest.mark.parametrize("lang", ["de", "en"])
def test_composition_chart(lang: str) -> None:
    _check(composition_chart({TypeId.OPTIMIERER: 7, TypeId.COMMUNITY: 2}, lang=lang))


def test_composition_chart_of_an_empty_group() -> None:
    _check(composition_chart({}, title="Noch niemand fertig"))


@pytest.mark.parametrize("lang", ["de", "en"])
def test_affinity_chart(lang: str) -> None:
    _check(affinity_chart(dict(zip(TYPES, [10.0, 55.5, 20.0, 14.5], strict=True)), lang=lang))


def test_bad_input() -> None:
    with pytest.raises(ValueError, match="negative"):
        composition_chart({TypeId.OPTIMIERER: -1})
    with pytest.raises(ValueError, match="language"):
        affinity_chart({}, lang="fr")


def test_charts_render_in_parallel_threads() -> None:
    out: list[bytes] = []
    threads = [
        threading.Thread(target=lambda: out.append(composition_chart({TypeId.BEDAECHTIGE: 3})))
        for _ in range(4)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(out) == 4
    assert len(set(out)) == 1


def _reference(values: list[float], labels: list[str], lang: str, title: str) -> bytes:
    """The chart drawn in full, artist by artist, as before the template: the yardstick."""
    names = type_names(lang)
    fig = Figure(figsize=(WIDTH_IN, HEIGHT_IN), dpi=DPI)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    y = list(range(len(TYPES)))[::-1]
    xmax = max(values)
    ax.barh(y, values, color=[COLOURS[t] for t in TYPES], height=0.62)
    ax.set_yticks(y, [names[t] for t in TYPES], fontsize=19)
    ax.set_xlim(0, xmax * 1.3)
    ax.set_xticks([])
    for side in ("top", "right", "bottom"):
        ax.spines[side].set_visible(False)
    for yi, value, label in zip(y, values, labels, strict=True):
        ax.text(value + xmax * 0.02, yi, label, va="center", fontsize=19)
    ax.set_title(title, fontsize=22, loc="left", pad=14)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI)
    return buf.getvalue()


def _pixels(png: bytes) -> np.ndarray:
    with Image.open(io.BytesIO(png)) as img:
        return np.asarray(img.convert("RGB"), dtype=float)


def _differs(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.asarray(np.abs(a - b).sum(axis=-1) > 60)


def _ink_boxes(ink: np.ndarray) -> list[tuple[int, int, int, int, int]]:
    """Top, bottom, left, right and pixel count of each label: ink rows split at gaps."""
    rows = np.nonzero(ink.any(axis=1))[0]
    bands = np.split(rows, np.nonzero(np.diff(rows) > 5)[0] + 1)
    boxes = []
    for band in bands:
        cols = np.nonzero(ink[band].any(axis=0))[0]
        boxes.append((band[0], band[-1], cols[0], cols[-1], int(ink[band].sum())))
    return boxes


@pytest.mark.parametrize(
    "shares", [[10.0, 55.5, 20.0, 14.5], [97.0, 1.0, 1.0, 1.0], [25.0, 25.0, 25.0, 25.0]]
)
def test_fast_chart_looks_like_the_chart_drawn_in_full(shares: list[float]) -> None:
    """Bars, axis, names and title as matplotlib draws them; each label in its place.

    The labels' glyphs are rasterised by PIL's FreeType rather than matplotlib's, which
    antialiases edges a little differently; so labels are compared by where their ink is and
    how much of it there is, everything else pixel by pixel.
    """
    labels = [f"{v:.1f}".replace(".", ",") + " %" for v in shares]
    blank = [""] * len(shares)
    title = "Nähe zu den vier Typen"
    # Another chart first: nothing of it may remain on the shared template.
    affinity_chart(dict(zip(TYPES, [70.0, 10.0, 10.0, 10.0], strict=True)), title=title)
    fast = _pixels(affinity_chart(dict(zip(TYPES, shares, strict=True)), title=title))
    fast_bare = _pixels(_template("de", title).png(shares, blank, max(shares)))
    full = _pixels(_reference(shares, labels, "de", title))
    full_bare = _pixels(_reference(shares, blank, "de", title))
    assert fast.shape == full.shape
    assert _differs(fast_bare, full_bare).mean() < 0.0005  # a few antialiased bar edges
    ours, theirs = _ink_boxes(_differs(fast, fast_bare)), _ink_boxes(_differs(full, full_bare))
    assert len(ours) == len(theirs) == len(shares)
    for mine, yardstick in zip(ours, theirs, strict=True):
        assert max(abs(a - b) for a, b in zip(mine[:4], yardstick[:4], strict=True)) <= 1
        assert abs(mine[4] - yardstick[4]) <= 0.15 * yardstick[4]


def _band(png: bytes) -> tuple[np.ndarray, np.ndarray]:
    """The chart above the footer band, and the band."""
    pixels = _pixels(png)
    cut = round(pixels.shape[0] * (1 - FOOTER))
    return pixels[:cut], pixels[cut:]


def test_composition_chart_names_session_n_and_date_for_a_slide() -> None:
    counts = {TypeId.OPTIMIERER: 10, TypeId.COMMUNITY: 2}
    day = date(2026, 12, 2)
    plain = composition_chart(counts)
    named = composition_chart(counts, workshop="Websession Köln", day=day)
    other = composition_chart(counts, workshop="Kreis Wesel", day=day)
    _check(named)
    top, band = _band(named)
    assert np.array_equal(top, _band(other)[0])  # bars, names and title: the same picture
    assert _differs(band, _band(other)[1]).any()  # the footer is drawn per call
    assert _differs(band, _band(plain)[1]).any()
    assert footer_text(12, lang="de", workshop=" Websession  Köln ", day=day) == (
        "Websession Köln",
        "n = 12 · 02.12.2026",
    )
    assert footer_text(12, lang="en", day=day) == ("", "n = 12 · 2026-12-02")


def test_the_template_cache_is_not_keyed_by_session_n_or_date() -> None:
    composition_chart({TypeId.BEDAECHTIGE: 3}, workshop="first", day=date(2026, 1, 1))
    before = _template.cache_info()
    for n in range(5):
        composition_chart(
            {TypeId.BEDAECHTIGE: n + 1}, workshop=f"Session {n}", day=date(2026, 1, n + 1)
        )
    after = _template.cache_info()
    assert after.currsize == before.currsize
    assert after.misses == before.misses


def test_a_long_session_title_is_shortened_but_n_and_date_stay_whole() -> None:
    template = _template("de", "Zusammensetzung des D-Teams", True)
    tail = "n = 240 · 02.12.2026"
    text = template.fit_footer("Sehr lange Websession " * 20, tail)
    assert text.endswith(f"… · {tail}")
    assert template.fit_footer("Kurz", tail) == f"Kurz · {tail}"
    assert template.fit_footer("", tail) == tail
    composition_chart({TypeId.OPTIMIERER: 240}, workshop="Sehr lange Websession " * 20)
