"""/help for a first-time moderator: in the group and privately, one line per command."""

from __future__ import annotations

from sandbox.server import BotApiServer
from tests.e2e.harness import BotProcess, Person
from tests.e2e.websession import command, make_group

GROUP, MOD, MEMBER = -2301, 2301, 2351
MODERATOR_COMMANDS = (
    "/session",
    "/status",
    "/summary",
    "/teams",
    "/close",
    "/reopen",
    "/export",
    "/reset",
    "/schedule",
    "/unschedule",
    "/reminders",
)


def _lines_starting_with_commands(text: str) -> dict[str, str]:
    """Maps each command that starts a line to that line."""
    return {
        line.split()[0]: line for line in text.splitlines() if line.startswith("/") and " " in line
    }


async def test_help_in_the_group_explains_every_moderator_command(
    sandbox: BotApiServer, bot: BotProcess
) -> None:
    make_group(sandbox, GROUP, MOD)
    reply = await command(sandbox, MOD, GROUP, "/help")
    lines = _lines_starting_with_commands(reply.text or "")
    for name in MODERATOR_COMMANDS:
        assert name in lines, name
        assert len(lines[name]) > len(name) + 10, lines[name]  # says what it does
    text = reply.text or ""
    for key in ("day=", "soon=", "nudge=", "last=", "retention=", "notice="):
        assert key in text, key
    assert "[" not in text  # nothing invites typing brackets
    assert "/session " in lines["/session"]  # an example with a title to copy


async def test_help_in_the_group_points_members_to_the_private_chat(
    sandbox: BotApiServer, bot: BotProcess
) -> None:
    make_group(sandbox, GROUP, MOD)
    sandbox.add_user(MEMBER, "Mitglied")
    sandbox.set_member(GROUP, MEMBER, "member")
    reply = await command(sandbox, MEMBER, GROUP, "/help")
    assert "/reset" not in (reply.text or "")
    assert "privaten Chat" in (reply.text or "")
    assert reply.buttons
    assert reply.buttons[0]["url"].startswith("https://t.me/")


async def test_private_help_also_explains_the_moderator_commands(
    sandbox: BotApiServer, bot: BotProcess
) -> None:
    ann = Person(sandbox, 2361, "Ann", language="en")
    text = (await ann.say("/help")).text or ""
    lines = _lines_starting_with_commands(text)
    for name in ("/start", "/delete_me", *MODERATOR_COMMANDS):
        assert name in lines, name
    assert "nudge=" in text
    assert "Fragebogen" not in text


async def test_the_moderators_command_menu_lists_every_moderator_command(
    sandbox: BotApiServer, bot: BotProcess
) -> None:
    commands = sandbox.bot_state().commands
    for language in ("", "en"):
        admin = [c["command"] for c in commands[("all_chat_administrators", language)]]
        for name in MODERATOR_COMMANDS:
            if name != "/reminders":  # a participant's command, in the private menu
                assert name.lstrip("/") in admin, (language, name)
        assert "help" in admin
