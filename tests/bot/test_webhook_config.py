"""Webhook settings: required values, the served path, and one-line errors from `dteam run`."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.cli import main
from bot.settings import SettingsError, load_settings
from bot.webhook import webhook_config

TOKEN = "123456:TEST-token-for-config"


@pytest.mark.parametrize(
    ("url", "path", "served"),
    [
        ("https://bot.example.org/telegram", None, "/telegram"),
        ("https://bot.example.org", None, "/webhook"),
        ("https://bot.example.org/", None, "/webhook"),
        ("https://bot.example.org/public/hook", "/hook", "/hook"),
    ],
)
def test_path_from_url_or_setting(url: str, path: str | None, served: str) -> None:
    settings = load_settings(
        bot_token=TOKEN,
        webhook_url=url,
        webhook_secret="s-1",
        webhook_path=path,
    )
    assert webhook_config(settings) == (url, "s-1", served)


@pytest.mark.parametrize(
    ("values", "named"),
    [
        ({}, "DTEAM_WEBHOOK_URL and DTEAM_WEBHOOK_SECRET"),
        ({"webhook_url": "https://bot.example.org/t"}, "needs DTEAM_WEBHOOK_SECRET"),
        ({"webhook_secret": "abc"}, "needs DTEAM_WEBHOOK_URL"),
        ({"webhook_url": "bot.example.org", "webhook_secret": "abc"}, "must be an https://"),
    ],
)
def test_incomplete_settings_are_refused(values: dict[str, str], named: str) -> None:
    with pytest.raises(SettingsError, match=named):
        webhook_config(load_settings(None, bot_token=TOKEN, **values))


def test_dteam_run_webhook_without_url_is_one_line(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)  # no .env from the working tree
    for name in ("DTEAM_WEBHOOK_URL", "DTEAM_WEBHOOK_SECRET"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DTEAM_BOT_TOKEN", TOKEN)
    # main() points the root logger at the stderr of this moment, which pytest closes after.
    monkeypatch.setattr("bot.cli.setup_logging", lambda _level: None)
    assert main(["run", "--webhook"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert err.startswith("dteam: configuration error: webhook mode needs DTEAM_WEBHOOK_URL")
