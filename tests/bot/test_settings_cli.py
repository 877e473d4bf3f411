"""Settings from the environment and the `dteam` command line: clear one-line errors."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from bot.settings import DEFAULT_DB, SettingsError, load_settings

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in list(__import__("os").environ):
        if name.startswith("DTEAM_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)  # no stray .env


def test_defaults_are_the_documented_ones() -> None:
    s = load_settings()
    assert s.api_url == "https://api.telegram.org"
    assert s.database_url == DEFAULT_DB
    assert s.moderators == frozenset()
    assert (s.language, s.timezone, s.privacy_threshold, s.retention_days) == (
        "de",
        "Europe/Berlin",
        3,
        30,
    )
    assert s.bot_token is None


def test_values_come_from_environment_and_dotenv(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    (tmp_path / ".env").write_text("DTEAM_LANGUAGE=en\nDTEAM_MODERATORS=5\n", encoding="utf-8")
    monkeypatch.setenv("DTEAM_MODERATORS", "1, 2;3")
    monkeypatch.setenv("DTEAM_BOT_TOKEN", "123456:ABCDEFGH")
    s = load_settings()
    assert s.language == "en"  # from .env
    assert s.moderators == frozenset({1, 2, 3})  # the environment wins
    assert s.channel_groups == frozenset()
    assert s.bot_token is not None
    assert "ABCDEFGH" not in repr(s)  # a secret is never printed


def test_channel_groups_are_a_list_of_chat_ids(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DTEAM_CHANNEL_GROUPS", "-1001234567890, -4001")
    assert load_settings().channel_groups == frozenset({-1001234567890, -4001})


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("DTEAM_MODERATORS", "alice", "DTEAM_MODERATORS: must be Telegram user ids"),
        ("DTEAM_CHANNEL_GROUPS", "Kreis A", "DTEAM_CHANNEL_GROUPS: must be group chat ids"),
        ("DTEAM_TIMEZONE", "Mars/Olympus", "DTEAM_TIMEZONE: unknown time zone"),
        ("DTEAM_BOT_TOKEN", "your-token-here", "DTEAM_BOT_TOKEN: does not look like"),
        ("DTEAM_LANGUAGE", "fr", "DTEAM_LANGUAGE"),
        ("DTEAM_PRIVACY_THRESHOLD", "0", "DTEAM_PRIVACY_THRESHOLD"),
    ],
)
def test_malformed_setting_is_one_line_naming_it(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str, expected: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError) as info:
        load_settings()
    assert expected in str(info.value)
    assert "\n" not in str(info.value)


def _dteam(*args: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - our own console entry point
        [sys.executable, "-m", "bot.cli", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,
        timeout=60,
        check=False,
    )


def test_cli_reports_config_errors_in_one_line_without_traceback(tmp_path: Path) -> None:
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT), "DTEAM_TIMEZONE": "Nowhere/Land"}
    done = _dteam("run", env=env, cwd=tmp_path)
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert done.stderr.strip().count("\n") == 0
    assert "DTEAM_TIMEZONE" in done.stderr


def test_run_without_token_points_to_botfather_and_the_demo(tmp_path: Path) -> None:
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT)}
    done = _dteam("run", env=env, cwd=tmp_path)
    assert done.returncode == 2
    assert "BotFather" in done.stderr
    assert "dteam demo" in done.stderr


def test_typology_evaluate_prints_a_report(tmp_path: Path) -> None:
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT)}
    done = _dteam("typology", "evaluate", env=env, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "silhouette" in done.stdout.lower()


def test_typology_fit_rejects_a_malformed_csv_naming_row_and_column(tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("g01,g02\n1,9\n", encoding="utf-8")
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT)}
    done = _dteam("typology", "fit", str(bad), env=env, cwd=tmp_path)
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert "column" in done.stderr.lower()
