"""The group chat a workshop runs in, set up on the stand-in."""

from __future__ import annotations

from sandbox.server import BotApiServer


def make_group(
    sandbox: BotApiServer,
    chat_id: int,
    moderator: int,
    *,
    bot_id: int,
    title: str | None = None,
    moderator_name: str | None = None,
    moderator_status: str = "creator",
    bot_status: str = "administrator",
    **bot_rights: bool,
) -> None:
    """A group with a moderator (its creator unless told) and the bot (an admin unless told).

    bot_rights are the bot's administrator rights, e.g. can_pin_messages=True.
    """
    sandbox.add_group(chat_id, title or f"Gruppe {chat_id}")
    sandbox.add_user(moderator, moderator_name or f"Moderatorin {moderator}")
    sandbox.set_member(chat_id, moderator, moderator_status)
    sandbox.set_member(chat_id, bot_id, bot_status, **bot_rights)
