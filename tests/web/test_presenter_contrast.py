"""The presenter page's colours meet WCAG AA: text 4.5:1, the bars 3:1, against what is behind."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

CSS = (Path(__file__).resolve().parents[2] / "web" / "static" / "screen.css").read_text("utf-8")
COLOURS = dict(re.findall(r"--([a-z]+):\s*(#[0-9a-f]{6});", CSS))
TYPES = ("bedaechtige", "optimierer", "serviceorientierte", "community")


def luminance(hex_colour: str) -> float:
    """Relative luminance (WCAG 2.x) of an sRGB colour like #10151c."""
    channels = [int(hex_colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(a: str, b: str) -> float:
    high, low = sorted((luminance(a), luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def test_the_known_ratio_is_computed() -> None:
    assert contrast("#000000", "#ffffff") == pytest.approx(21.0)


@pytest.mark.parametrize("text", ["ink", "muted", "accent"])
@pytest.mark.parametrize("behind", ["bg", "panel"])
def test_text_has_at_least_4_5_to_1(text: str, behind: str) -> None:
    assert contrast(COLOURS[text], COLOURS[behind]) >= 4.5


def test_the_button_label_has_at_least_4_5_to_1() -> None:
    assert contrast(COLOURS["bg"], COLOURS["accent"]) >= 4.5  # dark label on the accent


@pytest.mark.parametrize("type_id", TYPES)
@pytest.mark.parametrize("behind", ["panel", "track"])
def test_each_bar_stands_out_3_to_1(type_id: str, behind: str) -> None:
    assert contrast(COLOURS[type_id], COLOURS[behind]) >= 3.0
