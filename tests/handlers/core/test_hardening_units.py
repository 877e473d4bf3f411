"""Pure parts of the issue-11 hardening: callback ids in range, refused-command log lines."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from bot.settings import SettingsError, load_settings
from handlers.core.callbacks import MAX_ID, BadCallback, parse
from handlers.core.member_cache import MemberCache
from handlers.timeline.plan import ScheduleError, parse_request
from handlers.websession.export_table import workshop_pseudonym


@pytest.mark.parametrize(
    "field",
    [str(MAX_ID + 1), str(2**31), str(2**63 - 1), "99999999999999999999", "-1", "1_0", "+5"],
)
def test_int_arg_refuses_ids_no_database_column_holds(field: str) -> None:
    with pytest.raises(BadCallback):
        parse(f"r:{field}").int_arg(0)


@pytest.mark.parametrize("field", ["0", "7", str(MAX_ID)])
def test_int_arg_accepts_every_id_a_column_holds(field: str) -> None:
    assert parse(f"r:{field}").int_arg(0) == int(field)


@pytest.mark.parametrize(
    "args", [["31.12.9999", "23:00", "24h"], ["9999-12-31", "23:59"], ["01.01.2100", "10:00"]]
)
def test_schedule_refuses_dates_more_than_a_year_ahead(args: list[str]) -> None:
    now = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)
    with pytest.raises(ScheduleError) as caught:
        parse_request(args, ZoneInfo("Europe/Berlin"), now)
    assert caught.value.key == "schedule.too_far"


def test_schedule_accepts_a_date_within_a_year() -> None:
    now = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)
    request = parse_request(["01.12.2027", "10:00"], ZoneInfo("Europe/Berlin"), now)
    assert request.starts_at.year == 2027


def test_admin_cache_drops_the_least_recently_used_beyond_its_bound() -> None:
    cache = MemberCache(max_entries=3)
    for user in (1, 2, 3):
        cache.put(-1, user, True, now=0.0)
    assert cache.get(-1, 1, now=1.0, max_age=30) is True  # 1 is now the most recent
    cache.put(-1, 4, False, now=1.0)
    assert len(cache) == 3
    assert cache.get(-1, 2, now=1.0, max_age=30) is None  # the oldest unused went
    assert cache.get(-1, 4, now=1.0, max_age=30) is False


def test_admin_cache_expires_and_forgets() -> None:
    cache = MemberCache()
    cache.put(-1, 7, True, now=0.0)
    assert cache.get(-1, 7, now=29.9, max_age=30) is True
    assert cache.get(-1, 7, now=30.0, max_age=30) is None
    assert len(cache) == 0
    cache.put(-1, 7, True, now=0.0)
    assert cache.forget(-1, 7)
    assert not cache.forget(-1, 7)
    assert cache.get(-1, 7, now=0.0, max_age=30) is None


def test_pseudonym_key_comes_from_the_setting_or_one_way_from_the_token() -> None:
    token = "123456:TEST-token-for-the-units"
    derived = load_settings(bot_token=token).pseudonym_key
    assert len(derived) == 32
    assert token.encode() not in derived
    assert load_settings(bot_token="123456:other-token-x").pseudonym_key != derived
    secret = "s" * 16
    assert load_settings(bot_token=token, pseudonym_secret=secret).pseudonym_key == secret.encode()
    with pytest.raises(SettingsError, match="PSEUDONYM_SECRET"):
        load_settings(bot_token=token, pseudonym_secret="short")


def test_session_pseudonyms_differ_between_sessions_and_keys() -> None:
    one = workshop_pseudonym(b"k" * 32, 1, "p-abcdefghij")
    assert one == workshop_pseudonym(b"k" * 32, 1, "p-abcdefghij")
    assert one != workshop_pseudonym(b"k" * 32, 2, "p-abcdefghij")
    assert one != workshop_pseudonym(b"j" * 32, 1, "p-abcdefghij")
    assert one.startswith("p-")
    assert "abcdefghij" not in one
