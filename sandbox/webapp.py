"""Mini Apps as Telegram opens them: the URL it loads, with launch data signed by the bot's token.

Telegram signs initData with secret_key = HMAC_SHA256(key="WebAppData", msg=bot_token) and
hash = hex(HMAC_SHA256(key=secret_key, msg=data_check_string)), data_check_string being every
other field as "key=value", sorted, joined by "\\n". It also adds `signature`, an Ed25519
signature by Telegram's own key for third parties; no one here holds that key, so the stand-in
puts 64 random bytes there (covered by `hash`, like the real one, but not verifiable).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import secrets
import time
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode, urlsplit

from sandbox.errors import bad_request
from sandbox.models import JSON, User
from sandbox.state import BotState

VERSION = "8.0"
# The colours of Telegram's default light theme on Android, as a client passes them.
THEME: JSON = {
    "bg_color": "#ffffff",
    "text_color": "#000000",
    "hint_color": "#707579",
    "link_color": "#3390ec",
    "button_color": "#3390ec",
    "button_text_color": "#ffffff",
    "secondary_bg_color": "#f4f4f5",
    "header_bg_color": "#ffffff",
    "accent_text_color": "#3390ec",
    "section_bg_color": "#ffffff",
    "section_header_text_color": "#3390ec",
    "subtitle_text_color": "#707579",
    "destructive_text_color": "#e53935",
}
LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")
START_PARAM = re.compile(r"[A-Za-z0-9_-]{1,512}")


def check_url(url: Any, *, allow_http: bool, what: str = "inline keyboard button") -> None:
    """Refuse a Web App URL as Telegram does: only https:// (http to 127.0.0.1 if allowed)."""
    if not isinstance(url, str) or not url:
        raise bad_request(f"{what} Web App URL is empty")
    parts = urlsplit(url)
    local_http = allow_http and parts.scheme == "http" and parts.hostname in LOCAL_HOSTS
    if parts.scheme != "https" and not local_http:
        raise bad_request(f"{what} Web App URL '{url}' is invalid: Only HTTPS links are allowed")
    if not parts.hostname:
        raise bad_request(f"{what} Web App URL '{url}' is invalid")


def check_button(button: JSON, *, allow_http: bool, what: str) -> None:
    """Check a button's web_app field ({"url": ...}) if it has one."""
    if "web_app" not in button:
        return
    info = button["web_app"]
    if not isinstance(info, dict):
        raise bad_request(f"can't parse {what}: field web_app must be an Object")
    check_url(info.get("url"), allow_http=allow_http, what=what)


def sign(fields: dict[str, str], bot_token: str) -> str:
    """Returns initData: the fields plus `hash`, URL-encoded as Telegram passes them."""
    key = hmac.new(b"WebAppData", bot_token.encode(), hashlib.sha256).digest()
    check = "\n".join(f"{k}={v}" for k, v in sorted(fields.items()))
    digest = hmac.new(key, check.encode(), hashlib.sha256).hexdigest()
    return urlencode({**fields, "hash": digest}, quote_via=quote)


def launch_url(
    bot: BotState,
    user: User,
    url: str,
    *,
    start_param: str | None = None,
    platform: str = "android",
    auth_date: int | None = None,
) -> str:
    """Returns the URL a client loads for user opening the Mini App at url."""
    person: JSON = {k: v for k, v in user.to_api().items() if k != "is_bot"}
    person["allows_write_to_pm"] = True
    fields = {
        "query_id": "AAH" + base64.urlsafe_b64encode(secrets.token_bytes(18)).decode(),
        "user": json.dumps(person, ensure_ascii=False, separators=(",", ":")),
        "auth_date": str(int(time.time()) if auth_date is None else auth_date),
        "signature": base64.urlsafe_b64encode(secrets.token_bytes(64)).decode().rstrip("="),
    }
    if start_param is not None:
        fields["start_param"] = start_param
        fields["chat_type"] = "sender"
        fields["chat_instance"] = str(int.from_bytes(secrets.token_bytes(8), "big") >> 1)
    fragment = urlencode(
        {
            "tgWebAppData": sign(fields, bot.token),
            "tgWebAppVersion": VERSION,
            "tgWebAppPlatform": platform,
            "tgWebAppThemeParams": json.dumps(THEME, separators=(",", ":")),
        },
        quote_via=quote,
    )
    base = url.split("#", 1)[0]
    if start_param is not None:
        joiner = "&" if "?" in base else "?"
        base += f"{joiner}tgWebAppStartParam={quote(start_param)}"
    return f"{base}#{fragment}"


def direct_link(bot: BotState, link: str) -> tuple[str, str | None]:
    """Returns (Main Mini App URL, start_param) for t.me/<bot>?startapp=<param>."""
    parts = urlsplit(link if "://" in link else f"https://{link}")
    name = parts.path.strip("/")
    if parts.hostname not in ("t.me", "telegram.me") or name.lower() != (
        (bot.user.username or "").lower()
    ):
        raise ValueError(f"{link!r} is not a direct link to @{bot.user.username}")
    query = dict(parse_qsl(parts.query, keep_blank_values=True))
    if "startapp" not in query:
        raise ValueError(f"{link!r} has no startapp parameter")
    start = query["startapp"] or None
    if start is not None and not START_PARAM.fullmatch(start):
        raise ValueError("startapp must be 1-512 characters of A-Z, a-z, 0-9, _ and -")
    if bot.main_web_app is None:
        raise ValueError(f"@{bot.user.username} has no Main Mini App (set_main_web_app)")
    return bot.main_web_app, start
