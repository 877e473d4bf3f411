"""web/initdata.py against launch data signed here by hand and by the stand-in."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from urllib.parse import parse_qsl, quote, urlencode, urlsplit

import pytest

from sandbox.context import Settings
from sandbox.server import BotApiServer
from web.initdata import InitDataError, Verifier, secret_key, verify

TOKEN = "123456:TEST-token-for-initdata"
NOW = 1_764_000_000
USER = {"id": 4242, "first_name": "Erika", "last_name": "Muster", "language_code": "de"}


def signed(fields: dict[str, str], token: str = TOKEN) -> str:
    """Signs fields the way Telegram's documentation spells it out, step by step."""
    key = hmac.new(b"WebAppData", token.encode(), hashlib.sha256).digest()
    lines = sorted(f"{name}={value}" for name, value in fields.items())
    digest = hmac.new(key, "\n".join(lines).encode(), hashlib.sha256).hexdigest()
    return urlencode({**fields, "hash": digest}, quote_via=quote)


def fields(**overrides: str) -> dict[str, str]:
    values = {
        "query_id": "AAHdF6IQAAAAAN0XohDhrOrc",
        "user": json.dumps(USER, separators=(",", ":")),
        "auth_date": str(NOW - 60),
        "signature": "c2lnbmF0dXJl",
    }
    values.update(overrides)
    return values


# Computed outside Python with openssl:
#   printf %s "$TOKEN" | openssl dgst -sha256 -hmac WebAppData            -> KEY
#   printf '%s\n%s\n%s\n%s' auth_date=... query_id=... signature=... user=... \
#     | openssl dgst -sha256 -mac HMAC -macopt hexkey:$KEY                  -> HASH
KEY = "4c7f30cb7f47e9b127633e70f02f5c4817ceeba3faa3f84d058a9b0471535a7f"
HASH = "48668b3db01657abdcb9d4e97313ec67d79ffd176460002d6c026654c4c3bc78"


def test_known_vector() -> None:
    assert secret_key(TOKEN).hex() == KEY
    raw = urlencode({**fields(), "hash": HASH}, quote_via=quote)
    assert raw == signed(fields())  # the step-by-step signing here agrees with openssl
    data = verify(raw, key=bytes.fromhex(KEY), max_age=86400, now=NOW)
    assert data.user.id == 4242
    assert data.user.first_name == "Erika"
    assert data.user.language_code == "de"
    assert data.auth_date == NOW - 60
    assert data.query_id == "AAHdF6IQAAAAAN0XohDhrOrc"
    assert data.start_param is None


def test_start_param_is_read() -> None:
    raw = signed(fields(start_param="s-ABC123", chat_type="sender", chat_instance="77"))
    data = Verifier(TOKEN, 86400)(raw, now=NOW)
    assert data.start_param == "s-ABC123"
    assert data.chat_type == "sender"


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("user", json.dumps({**USER, "id": 1})),  # someone else's id
        ("auth_date", str(NOW)),  # refreshed by hand
        ("start_param", "s-OTHER"),  # a field added after signing
        ("signature", "b3RoZXI"),
    ],
)
def test_tampered_field_is_refused(field: str, value: str) -> None:
    good = dict(parse_qsl(signed(fields())))
    good[field] = value
    with pytest.raises(InitDataError, match="hash"):
        Verifier(TOKEN, 86400)(urlencode(good), now=NOW)


def test_wrong_token_is_refused() -> None:
    raw = signed(fields(), token="654321:another-bots-token")
    with pytest.raises(InitDataError, match="hash"):
        Verifier(TOKEN, 86400)(raw, now=NOW)


def test_expired_and_future_are_refused() -> None:
    verifier = Verifier(TOKEN, 3600)
    old = signed(fields(auth_date=str(NOW - 3601)))
    with pytest.raises(InitDataError, match="expired"):
        verifier(old, now=NOW)
    assert verifier(signed(fields(auth_date=str(NOW - 3599))), now=NOW).user.id == 4242
    ahead = signed(fields(auth_date=str(NOW + 3600)))
    with pytest.raises(InitDataError, match="future"):
        verifier(ahead, now=NOW)


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "hash=",
        "query_id=x&auth_date=1",  # no hash at all
        "a=1&a=2&hash=00",
        "x" * 5000,
        "no-equals-sign",
    ],
)
def test_missing_or_malformed_is_refused(raw: str) -> None:
    with pytest.raises(InitDataError):
        Verifier(TOKEN, 86400)(raw, now=NOW)


@pytest.mark.parametrize(
    "user",
    ['{"first_name":"X"}', '{"id":"5","first_name":"X"}', "[1]", "not json", '{"id":0}'],
)
def test_signed_but_unusable_user_is_refused(user: str) -> None:
    with pytest.raises(InitDataError, match="user"):
        Verifier(TOKEN, 86400)(signed(fields(user=user)), now=NOW)


def test_missing_user_is_refused() -> None:
    values = fields()
    del values["user"]
    with pytest.raises(InitDataError, match="user"):
        Verifier(TOKEN, 86400)(signed(values), now=NOW)


async def test_stand_in_launch_data_is_accepted() -> None:
    server = BotApiServer(settings=Settings(allow_http_webapps=True))
    await server.start()
    try:
        server.add_bot(TOKEN, username="dteam_test_bot")
        server.add_user(4242, "Erika", language_code="de", username="erika")
        server.set_main_web_app("http://127.0.0.1:9/app/")
        url = server.open_web_app(4242, link="https://t.me/dteam_test_bot?startapp=s-ABC")
    finally:
        await server.stop()
    parts = urlsplit(url)
    assert parts.path == "/app/"
    assert dict(parse_qsl(parts.query)) == {"tgWebAppStartParam": "s-ABC"}
    launch = dict(parse_qsl(parts.fragment))
    assert launch["tgWebAppVersion"] == "8.0"
    assert json.loads(launch["tgWebAppThemeParams"])["bg_color"].startswith("#")
    data = Verifier(TOKEN, 86400)(launch["tgWebAppData"], now=time.time())
    assert data.user.id == 4242
    assert data.user.username == "erika"
    assert data.start_param == "s-ABC"
    signed_fields = dict(parse_qsl(launch["tgWebAppData"]))
    assert {"query_id", "user", "auth_date", "signature", "hash"} <= signed_fields.keys()
    with pytest.raises(InitDataError, match="hash"):
        Verifier("654321:another-bots-token", 86400)(launch["tgWebAppData"])
