"""Security headers on every response of the bot's web server."""

from __future__ import annotations

from aiohttp import web

# Telegram's web clients embed a Mini App in an iframe; the apps open it in a web view, which
# frame-ancestors does not restrict. No other site may frame the pages.
TELEGRAM_WEB_CLIENTS = (
    "https://web.telegram.org",
    "https://webk.telegram.org",
    "https://webz.telegram.org",
)
CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "base-uri 'none'",
        "form-action 'none'",
        "frame-ancestors " + " ".join(TELEGRAM_WEB_CLIENTS),
    )
)
HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


async def add_security_headers(_request: web.Request, response: web.StreamResponse) -> None:
    """Sets the strict headers on a response about to be sent (errors and files included)."""
    # A response-prepare signal rather than a middleware: it also sees the router's 404/405,
    # static files and responses raised as HTTPException, which a middleware would miss.
    for name, value in HEADERS.items():
        response.headers[name] = value


def secure(web_app: web.Application) -> None:
    """Makes every response of web_app carry the security headers (idempotent)."""
    if add_security_headers not in web_app.on_response_prepare:
        web_app.on_response_prepare.append(add_security_headers)
