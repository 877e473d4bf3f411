"""Charts are valid PNGs of a phone-friendly size."""

from __future__ import annotations

import io
import threading

import pytest
from PIL import Image

from typology.charts import affinity_chart, composition_chart
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
