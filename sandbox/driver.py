"""Python API to set up the world and inject updates built like Telegram's."""

from __future__ import annotations

import hashlib
import itertools
import time
from typing import Any

from sandbox.formatting import command_entities
from sandbox.models import JSON, Chat, Member, StoredMessage, User
from sandbox.state import BotState, CallbackQuery, World


class Driver:
    """Setting up users and chats, and acting as them; base of ``BotApiServer``."""

    world: World

    def __init__(self) -> None:
        self.world = World()
        self._query_ids = itertools.count(1)

    def bot_state(self, token: str | None = None) -> BotState:
        """Return the state of ``token``, or of the first bot added."""
        if token is None:
            if not self.world.bots:
                raise LookupError("no bot registered; call add_bot first")
            return next(iter(self.world.bots.values()))
        return self.world.bots[token]

    def add_bot(self, token: str, username: str = "dteam_bot", first_name: str = "D-Team") -> JSON:
        """Register a bot token (``<id>:<secret>``); unknown tokens get 401."""
        return self.world.add_bot(token, username, first_name).user.to_api()

    def set_privacy_mode(self, enabled: bool, token: str | None = None) -> None:
        """Switch group privacy mode (on by default, as with BotFather)."""
        self.bot_state(token).privacy_mode = enabled

    def add_user(
        self,
        user_id: int,
        first_name: str,
        language_code: str | None = "de",
        username: str | None = None,
        last_name: str | None = None,
    ) -> JSON:
        """Register a user who can then write to the bot."""
        user = User(user_id, first_name, False, username, last_name, language_code)
        self.world.users[user_id] = user
        return user.to_api()

    def add_group(self, chat_id: int, title: str, type: str = "group") -> JSON:
        """Register a group or supergroup (negative ids, supergroups -100…)."""
        if type not in ("group", "supergroup"):
            raise ValueError("type must be 'group' or 'supergroup'")
        chat = Chat(chat_id, type, title=title)
        self.world.chats[chat_id] = chat
        return chat.to_api()

    def add_channel(self, chat_id: int, title: str, username: str | None = None) -> JSON:
        """Register a channel; the bot posts only as an administrator with can_post_messages."""
        chat = Chat(chat_id, "channel", title=title, username=username)
        self.world.chats[chat_id] = chat
        return chat.to_api()

    def set_member(self, chat_id: int, user_id: int, status: str, **rights: bool) -> JSON:
        """Set a user's (or the bot's) status and rights in a chat, silently."""
        chat = self.world.chat(chat_id)
        member = Member(self.world.user(user_id), status, dict(rights))
        chat.members[user_id] = member
        return member.to_api()

    def change_member(
        self,
        chat_id: int,
        user_id: int,
        status: str,
        by_user_id: int | None = None,
        **rights: bool,
    ) -> JSON:
        """Change a user's status as an admin would (promote, demote, ban, remove).

        Like Telegram, only bots that administer the chat get a ``chat_member`` update, and
        only when they asked for it in ``allowed_updates`` (it is off by default).
        """
        chat = self.world.chat(chat_id)
        user = self.world.user(user_id)
        old = chat.members.get(user_id, Member(user, "left"))
        new = Member(user, status, dict(rights))
        chat.members[user_id] = new
        body = self._member_update(chat, self._actor(chat, by_user_id), old, new)
        for bot in self.world.bots.values():
            me = chat.members.get(bot.user.id)
            if me is None or me.status not in ("administrator", "creator"):
                continue
            bot.updates.push({"chat_member": dict(body)})
        return new.to_api()

    def block_bot(self, user_id: int, blocked: bool = True, token: str | None = None) -> None:
        """Make ``user_id`` block (or unblock) the bot; the bot gets ``my_chat_member``."""
        bot = self.bot_state(token)
        if blocked == (user_id in bot.blocked):
            return
        (bot.blocked.add if blocked else bot.blocked.discard)(user_id)
        self._push_my_chat_member(bot, user_id, blocked)

    def _push_my_chat_member(self, bot: BotState, user_id: int, blocked: bool) -> None:
        user = self.world.user(user_id)
        chat = self.world.private_chat(user)
        old, new = ("member", "kicked") if blocked else ("kicked", "member")
        body = self._member_update(chat, user, Member(bot.user, old), Member(bot.user, new))
        bot.updates.push({"my_chat_member": body})

    def _member_update(self, chat: Chat, actor: User, old: Member, new: Member) -> JSON:
        """The body of a chat_member or my_chat_member update."""
        return {
            "chat": chat.to_api(),
            "from": actor.to_api(),
            "date": self.world.now(),
            "old_chat_member": old.to_api(),
            "new_chat_member": new.to_api(),
        }

    def migrate_group(self, old_id: int, new_id: int, by_user_id: int | None = None) -> None:
        """Upgrade a group to a supergroup; sends to the old id then fail with 400 migrate."""
        old = self.world.chat(old_id)
        new = Chat(new_id, "supergroup", title=old.title, members=dict(old.members))
        self.world.chats[new_id] = new
        old.migrated_to = new_id
        for bot in self.world.bots.values():
            member = old.members.get(bot.user.id)
            if member is None or not member.is_member:
                continue
            sender = self._actor(old, by_user_id)
            for chat, field, value in (
                (old, "migrate_to_chat_id", new_id),
                (new, "migrate_from_chat_id", old_id),
            ):
                message = self._user_message(bot, sender, chat, extra={field: value})
                bot.updates.push({"message": message.to_api()})

    def _actor(self, chat: Chat, user_id: int | None) -> User:
        if user_id is not None:
            return self.world.user(user_id)
        for member in chat.members.values():
            if member.status == "creator":
                return member.user
        return next(m.user for m in chat.members.values() if not m.user.is_bot)

    def _user_message(self, bot: BotState, user: User, chat: Chat, **fields: Any) -> StoredMessage:
        message = StoredMessage(
            chat=chat,
            message_id=bot.allocate_message_id(chat.id),
            sender=user,
            date=self.world.now(),
            **fields,
        )
        bot.chat_messages(chat.id)[message.message_id] = message
        message.seq = self.world.notifier.bump(message.chat_id)
        return message

    def _chat_for(self, bot: BotState, user: User, chat_id: int | None) -> Chat:
        if chat_id is None or chat_id == user.id:
            bot.started.add(user.id)
            if user.id in bot.blocked:
                self.block_bot(user.id, blocked=False, token=bot.token)
            return self.world.private_chat(user)
        chat = self.world.chat(chat_id)
        self.world.private_chat(user)  # the bot now knows the user, but may not write first
        return chat

    def _visible(self, bot: BotState, chat: Chat, message: StoredMessage) -> bool:
        """Whether group privacy mode lets the bot see ``message``."""
        if chat.type in ("private", "channel") or not bot.privacy_mode:
            return True
        member = chat.members.get(bot.user.id)
        if member is None or not member.is_member:
            return False
        if member.status in ("administrator", "creator"):
            return True
        text = message.text or ""
        for entity in message.entities:
            if entity["type"] == "bot_command" and entity["offset"] == 0:
                command = text[: entity["length"]]
                return "@" not in command or command.lower().endswith(
                    f"@{bot.user.username}".lower()
                )
        reply = message.extra.get("reply_to_message")
        return isinstance(reply, dict) and reply.get("from", {}).get("id") == bot.user.id

    def send_text(
        self,
        user_id: int,
        text: str,
        chat_id: int | None = None,
        *,
        reply_to: int | None = None,
        token: str | None = None,
    ) -> JSON:
        """Send ``text`` from the user (private chat by default); return the update."""
        bot = self.bot_state(token)
        user = self.world.user(user_id)
        chat = self._chat_for(bot, user, chat_id)
        extra: JSON = {}
        if reply_to is not None:
            target = bot.find_message(chat.id, reply_to)
            if target is None:
                raise ValueError(f"no message {reply_to} in chat {chat.id}")
            extra["reply_to_message"] = target.to_api()
        message = self._user_message(
            bot, user, chat, text=text, entities=command_entities(text), extra=extra
        )
        update: JSON = {"message": message.to_api()}
        if self._visible(bot, chat, message):
            update["update_id"] = bot.updates.push(dict(update))
        return update

    def send_sticker(
        self, user_id: int, chat_id: int | None = None, emoji: str = "👍", token: str | None = None
    ) -> JSON:
        """Send a sticker from the user; return the update."""
        bot = self.bot_state(token)
        user = self.world.user(user_id)
        chat = self._chat_for(bot, user, chat_id)
        sticker = {
            "file_id": f"CAACAgIAAxkBAAE{user_id}",
            "file_unique_id": f"AgAD{user_id}",
            "type": "regular",
            "width": 512,
            "height": 512,
            "is_animated": False,
            "is_video": False,
            "emoji": emoji,
        }
        message = self._user_message(bot, user, chat, extra={"sticker": sticker})
        update: JSON = {"message": message.to_api()}
        if self._visible(bot, chat, message):
            update["update_id"] = bot.updates.push(dict(update))
        return update

    def edit_text(
        self,
        user_id: int,
        message_id: int,
        text: str,
        chat_id: int | None = None,
        token: str | None = None,
    ) -> JSON:
        """Edit a message the user sent earlier; the bot gets ``edited_message``."""
        bot = self.bot_state(token)
        chat_key = user_id if chat_id is None else chat_id
        message = bot.find_message(chat_key, message_id)
        if message is None or message.sender.id != user_id:
            raise ValueError(f"user {user_id} has no message {message_id} in chat {chat_key}")
        message.text, message.entities = text, command_entities(text)
        message.edit_count += 1
        message.edit_date = self.world.now()
        message.seq = self.world.notifier.bump(message.chat_id)
        update: JSON = {"edited_message": message.to_api()}
        if self._visible(bot, message.chat, message):
            update["update_id"] = bot.updates.push(dict(update))
        return update

    def press_button(
        self,
        user_id: int,
        message_id: int,
        callback_data: str,
        chat_id: int | None = None,
        *,
        check: bool = True,
        token: str | None = None,
    ) -> str:
        """Press an inline button; return the callback query id (see ``callback_answer``)."""
        bot = self.bot_state(token)
        user = self.world.user(user_id)
        chat = self.world.chat(user_id if chat_id is None else chat_id)
        message = bot.find_message(chat.id, message_id)
        if check and (
            message is None
            or message.sender.id != bot.user.id
            or not any(b.get("callback_data") == callback_data for b in message.buttons)
        ):
            raise ValueError(
                f"message {message_id} in chat {chat.id} has no button {callback_data!r}"
            )
        query_id = str(4_611_686_018_427_387_904 + next(self._query_ids) * 7919)
        digest = hashlib.sha256(f"{bot.token}:{chat.id}".encode()).digest()
        body: JSON = {
            "id": query_id,
            "from": user.to_api(),
            "message": message.to_api()
            if message is not None
            else {"chat": chat.to_api(), "message_id": message_id, "date": 0},
            "chat_instance": str(int.from_bytes(digest[:8], "big") >> 1),
            "data": callback_data,
        }
        bot.callback_queries[query_id] = CallbackQuery(query_id, user_id, time.monotonic())
        bot.updates.push({"callback_query": body})
        return query_id

    def inject_update(self, update: JSON, token: str | None = None) -> int:
        """Queue a raw update as given (``update_id`` assigned when missing)."""
        return self.bot_state(token).updates.push(dict(update))

    def add_to_group(
        self, chat_id: int, by_user_id: int, status: str = "member", token: str | None = None
    ) -> None:
        """Add the bot to a group or channel as a user would; the bot gets the updates."""
        bot = self.bot_state(token)
        chat = self.world.chat(chat_id)
        user = self.world.user(by_user_id)
        old = chat.members.get(bot.user.id, Member(bot.user, "left"))
        new = Member(bot.user, status)
        chat.members[bot.user.id] = new
        bot.updates.push({"my_chat_member": self._member_update(chat, user, old, new)})
        if chat.type != "channel":
            service = self._user_message(
                bot, user, chat, extra={"new_chat_members": [bot.user.to_api()]}
            )
            bot.updates.push({"message": service.to_api()})
