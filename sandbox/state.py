"""The simulated world (users, chats, files) and the per-bot state (updates, messages)."""

from __future__ import annotations

import asyncio
import itertools
import secrets
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from sandbox.errors import bad_request
from sandbox.models import JSON, Chat, StoredFile, StoredMessage, User
from sandbox.updates import UpdateQueue


@dataclass
class CallRecord:
    """One Bot API call as the server saw it."""

    seq: int
    token: str
    method: str
    params: dict[str, Any]
    status: int
    timestamp: float
    description: str | None = None
    chat_id: int | None = None


@dataclass
class CallbackQuery:
    """A callback query sent to the bot and its answer, if any."""

    id: str
    user_id: int
    created: float
    answer: JSON | None = None


@dataclass
class WebhookConfig:
    """What ``setWebhook`` configured."""

    url: str
    secret_token: str | None = None
    max_connections: int = 40
    last_error_date: int | None = None
    last_error_message: str | None = None


class Notifier:
    """Wakes waiters on every change, or on a chat's changes only, without busy polling."""

    def __init__(self) -> None:
        self.seq = 0
        self._event = asyncio.Event()
        self._chats: dict[int, asyncio.Event] = {}  # only chats someone waits on

    def bump(self, chat_id: int | None = None) -> int:
        """Record a change (in chat_id, or anywhere) and wake its waiters; return the seq.

        A waiter on one chat wakes for that chat's changes and for those of no known chat;
        everyone waking on every change cost the stand-in most of its time under a flood.
        """
        self.seq += 1
        self._event.set()
        self._event = asyncio.Event()
        if chat_id is None:
            chats, self._chats = self._chats, {}
            for event in chats.values():
                event.set()
        elif chat_id in self._chats:
            self._chats.pop(chat_id).set()
        return self.seq

    async def wait(self, seconds: float, chat_id: int | None = None) -> bool:
        """Wait for the next change (in chat_id); False when ``seconds`` passed first."""
        if chat_id is None:
            event = self._event
        else:
            event = self._chats.setdefault(chat_id, asyncio.Event())
        try:
            await asyncio.wait_for(event.wait(), seconds)
        except TimeoutError:
            return False
        return True


@dataclass
class BotState:
    """Everything that belongs to one bot token."""

    token: str
    user: User
    updates: UpdateQueue = field(default_factory=UpdateQueue)
    privacy_mode: bool = True
    webhook: WebhookConfig | None = None
    commands: dict[tuple[str, str], list[JSON]] = field(default_factory=dict)
    descriptions: dict[tuple[str, str], str] = field(default_factory=dict)
    menu_buttons: dict[int | None, JSON] = field(default_factory=dict)
    started: set[int] = field(default_factory=set)
    blocked: set[int] = field(default_factory=set)
    callback_queries: dict[str, CallbackQuery] = field(default_factory=dict)
    chats: dict[int, dict[int, StoredMessage]] = field(default_factory=dict)
    next_message_id: dict[int, int] = field(default_factory=dict)
    main_web_app: str | None = None  # the Main Mini App's URL, as set in BotFather

    def chat_messages(self, chat_id: int) -> dict[int, StoredMessage]:
        """Return this bot's view of the messages in ``chat_id``."""
        return self.chats.setdefault(chat_id, {})

    def allocate_message_id(self, chat_id: int) -> int:
        """Return the next message id in ``chat_id`` (ids increase per chat)."""
        message_id = self.next_message_id.get(chat_id, 1)
        self.next_message_id[chat_id] = message_id + 1
        return message_id

    def find_message(self, chat_id: int, message_id: int) -> StoredMessage | None:
        """Return a message that still exists, else None."""
        message = self.chats.get(chat_id, {}).get(message_id)
        return None if message is None or message.deleted else message


class World:
    """Users, chats, memberships and files shared by all bots of one server."""

    def __init__(self) -> None:
        self.users: dict[int, User] = {}
        self.chats: dict[int, Chat] = {}
        self.files: dict[str, StoredFile] = {}
        self.bots: dict[str, BotState] = {}
        self.calls: deque[CallRecord] = deque(maxlen=200_000)
        self.notifier = Notifier()
        self._call_seq = itertools.count(1)
        self._file_seq = itertools.count(1)

    def now(self) -> int:
        """Return the current Unix time as Telegram stamps messages."""
        return int(time.time())

    def add_bot(self, token: str, username: str, first_name: str) -> BotState:
        """Register a bot token; its user id is the token's numeric prefix."""
        bot_id = int(token.split(":", 1)[0])
        user = User(bot_id, first_name, is_bot=True, username=username)
        self.users[bot_id] = user
        state = BotState(token, user)
        self.bots[token] = state
        return state

    def chat(self, chat_id: int | str) -> Chat:
        """Resolve a chat id or ``@username``; 400 "chat not found" when unknown."""
        if isinstance(chat_id, str):
            name = chat_id.removeprefix("@").lower()
            for candidate in self.chats.values():
                if candidate.username and candidate.username.lower() == name:
                    return candidate
            raise bad_request("chat not found")
        found = self.chats.get(chat_id)
        if found is None:
            raise bad_request("chat not found")
        return found

    def private_chat(self, user: User) -> Chat:
        """Return (creating if needed) the private chat with ``user``."""
        chat = self.chats.get(user.id)
        if chat is None:
            chat = Chat(
                user.id,
                "private",
                first_name=user.first_name,
                last_name=user.last_name,
                username=user.username,
            )
            self.chats[user.id] = chat
        return chat

    def user(self, user_id: int) -> User:
        """Return a known user; KeyError names the missing id."""
        try:
            return self.users[user_id]
        except KeyError:
            raise KeyError(f"unknown user {user_id}; call add_user first") from None

    def store_file(
        self, data: bytes, kind: str, file_name: str | None, mime_type: str | None
    ) -> StoredFile:
        """Keep uploaded bytes under new file ids, as Telegram does."""
        number = next(self._file_seq)
        folder = {"photo": "photos", "document": "documents", "sticker": "stickers"}[kind]
        suffix = ".jpg" if kind == "photo" else ""
        if file_name and "." in file_name:
            suffix = "." + file_name.rsplit(".", 1)[1][:8]
        stored = StoredFile(
            file_id=f"{kind[:2].upper()}AC{number:06d}{secrets.token_urlsafe(24)}",
            file_unique_id=f"AQAD{number:06d}{secrets.token_urlsafe(6)}",
            data=data,
            kind=kind,
            file_path=f"{folder}/file_{number}{suffix}",
            file_name=file_name,
            mime_type=mime_type,
        )
        self.files[stored.file_id] = stored
        return stored

    def record_call(
        self,
        token: str,
        method: str,
        params: dict[str, Any],
        status: int,
        description: str | None,
        chat_id: int | None,
    ) -> CallRecord:
        """Append a call to the chronological log."""
        record = CallRecord(
            next(self._call_seq), token, method, params, status, time.time(), description, chat_id
        )
        self.calls.append(record)
        return record
