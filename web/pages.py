"""HTML templates (Jinja2, autoescaped) and the static folder of the web pages."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jinja2
from aiohttp import web

STATIC_DIR = Path(__file__).resolve().parent / "static"


def environment() -> jinja2.Environment:
    """Returns the template environment: package templates, every value HTML-escaped."""
    return jinja2.Environment(
        loader=jinja2.PackageLoader("web", "templates"),
        autoescape=True,  # every template is HTML; escaping is never left to the author
        undefined=jinja2.StrictUndefined,  # a missing value is an error, not an empty string
        trim_blocks=True,
        lstrip_blocks=True,
    )


def render(
    env: jinja2.Environment, name: str, context: dict[str, Any], *, status: int = 200
) -> web.Response:
    """Renders a template into an HTML response that no cache keeps (pages carry user data)."""
    text = env.get_template(name).render(**context)
    response = web.Response(text=text, status=status, content_type="text/html", charset="utf-8")
    response.headers["Cache-Control"] = "no-store"
    return response
