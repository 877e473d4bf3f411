"""Renders an example D-Team post (chart PNG and text) into docs/img for the README.

Run: .venv/bin/python scripts/render_dteam_post.py
"""

from __future__ import annotations

import re
import sys
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from handlers.core.i18n import Texts  # noqa: E402
from handlers.websession.summary_text import summary_caption, summary_text  # noqa: E402
from typology.charts import composition_chart  # noqa: E402
from typology.group import Member, analyse  # noqa: E402
from typology.profiles import load_profiles  # noqa: E402
from typology.questionnaire import load_questionnaire  # noqa: E402
from typology.types import DIMENSION_TYPE, TypeId  # noqa: E402

DAY = date(2020, 10, 29)  # the study's web session; fixed so the picture is reproducible
# An example group of 24: many Optimierer, few Community Manager (illustrative, not study data).
# A multiple of the threshold 3, so that the post counts everyone (it counts in steps of 3).
EXAMPLE = {
    TypeId.BEDAECHTIGE: 6,
    TypeId.OPTIMIERER: 10,
    TypeId.SERVICEORIENTIERTE: 5,
    TypeId.COMMUNITY: 3,
}


QUESTIONNAIRE = load_questionnaire()  # the current version (2): its goals, its labels


def _profile(t: TypeId) -> dict[str, float]:
    """An illustrative priority profile over the current version's goals: the type's own high."""
    dims = {it.dimension for it in QUESTIONNAIRE.rating_items if it.dimension}
    return {d: (1.0 if DIMENSION_TYPE[d] is t else -0.3) for d in sorted(dims)}


def render(out: Path = ROOT / "docs" / "img", lang: str = "de") -> tuple[Path, Path]:
    """Writes dteam-post.png and dteam-post.txt; returns their paths."""
    members = [
        Member(f"{t.value}-{i}", t, _profile(t), mixed=i == 0)
        for t, count in EXAMPLE.items()
        for i in range(count)
    ]
    analysis = analyse(members, k_threshold=3)
    texts, profiles = Texts.load(), load_profiles(lang)
    title = "Digitale Kommune – Websession"
    png = composition_chart(
        analysis.counts,
        lang=lang,
        title=texts.get(lang, "moderation.summary.chart_title"),
        session=title,
        day=DAY,
    )
    html = "\n\n".join(
        [
            summary_caption(texts, analysis, title=title, lang=lang),
            summary_text(
                texts,
                profiles,
                analysis,
                title=title,
                lang=lang,
                goal_labels=QUESTIONNAIRE.dimension_labels[lang],
            ),
        ]
    )
    out.mkdir(parents=True, exist_ok=True)
    png_path, txt_path = out / "dteam-post.png", out / "dteam-post.txt"
    png_path.write_bytes(png)
    txt_path.write_text(re.sub(r"</?[a-z]+>", "", html) + "\n", encoding="utf-8")
    return png_path, txt_path


if __name__ == "__main__":
    for path in render():
        print(path.relative_to(ROOT))  # noqa: T201
