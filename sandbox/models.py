"""Records of the simulated world: users, chats, members, files and messages."""

from __future__ import annotations

import base64
import struct
from dataclasses import dataclass, field
from typing import Any

JSON = dict[str, Any]

ADMIN_RIGHTS = (
    "can_manage_chat",
    "can_delete_messages",
    "can_manage_video_chats",
    "can_restrict_members",
    "can_promote_members",
    "can_change_info",
    "can_invite_users",
    "can_post_stories",
    "can_edit_stories",
    "can_delete_stories",
    "can_post_messages",
    "can_edit_messages",
    "can_pin_messages",
    "can_manage_topics",
)
RESTRICTED_RIGHTS = (
    "can_change_info",
    "can_invite_users",
    "can_pin_messages",
    "can_send_messages",
    "can_send_polls",
    "can_send_other_messages",
    "can_add_web_page_previews",
    "can_manage_topics",
    "can_send_audios",
    "can_send_documents",
    "can_send_photos",
    "can_send_videos",
    "can_send_video_notes",
    "can_send_voice_notes",
    "can_edit_tag",
)
STATUSES = ("creator", "administrator", "member", "restricted", "left", "kicked")


@dataclass
class User:
    """A Telegram user or bot account."""

    id: int
    first_name: str
    is_bot: bool = False
    username: str | None = None
    last_name: str | None = None
    language_code: str | None = None

    def to_api(self) -> JSON:
        """Return the User object as the Bot API serialises it."""
        out: JSON = {"id": self.id, "is_bot": self.is_bot, "first_name": self.first_name}
        for key in ("last_name", "username", "language_code"):
            if (value := getattr(self, key)) is not None:
                out[key] = value
        return out


@dataclass
class Member:
    """A user's membership in a chat, with administrator or restriction rights."""

    user: User
    status: str
    rights: dict[str, bool] = field(default_factory=dict)

    def to_api(self) -> JSON:
        """Return the ChatMember object for this membership."""
        out: JSON = {"status": self.status, "user": self.user.to_api()}
        if self.status == "creator":
            out["is_anonymous"] = False
        elif self.status == "administrator":
            out.update(can_be_edited=False, is_anonymous=False)
            out.update({r: self.rights.get(r, True) for r in ADMIN_RIGHTS})
        elif self.status == "restricted":
            out.update(is_member=self.rights.get("is_member", True), until_date=0)
            out.update({r: self.rights.get(r, False) for r in RESTRICTED_RIGHTS})
        elif self.status == "kicked":
            out["until_date"] = 0
        return out

    @property
    def is_member(self) -> bool:
        """Whether this membership counts as being in the chat."""
        if self.status == "restricted":
            return self.rights.get("is_member", True)
        return self.status in ("creator", "administrator", "member")

    def can(self, right: str) -> bool:
        """Whether this member holds an administrator ``right`` (the creator holds all)."""
        if self.status == "creator":
            return True
        return self.status == "administrator" and self.rights.get(right, True)


@dataclass
class Chat:
    """A private chat, group, supergroup or channel."""

    id: int
    type: str
    title: str | None = None
    username: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    migrated_to: int | None = None
    members: dict[int, Member] = field(default_factory=dict)

    def to_api(self) -> JSON:
        """Return the short Chat object used inside messages."""
        out: JSON = {"id": self.id, "type": self.type}
        for key in ("title", "username", "first_name", "last_name"):
            if (value := getattr(self, key)) is not None:
                out[key] = value
        return out

    def full_info(self) -> JSON:
        """Return the ChatFullInfo object ``getChat`` answers with."""
        out = self.to_api()
        out.update(accent_color_id=0, max_reaction_count=11)
        out["accepted_gift_types"] = {
            "unlimited_gifts": False,
            "limited_gifts": False,
            "unique_gifts": False,
            "premium_subscription": False,
            "gifts_from_channels": False,
        }
        return out


@dataclass
class StoredFile:
    """An uploaded file with the ids Telegram would assign."""

    file_id: str
    file_unique_id: str
    data: bytes
    kind: str
    file_path: str
    file_name: str | None = None
    mime_type: str | None = None

    def dimensions(self) -> tuple[int, int]:
        """Return (width, height) read from a PNG header, else a plausible default."""
        if self.data[:8] == b"\x89PNG\r\n\x1a\n" and len(self.data) >= 24:
            width, height = struct.unpack(">II", self.data[16:24])
            return int(width), int(height)
        return 512, 512

    def to_api(self) -> JSON:
        """Return the PhotoSize or Document object for this file."""
        out: JSON = {
            "file_id": self.file_id,
            "file_unique_id": self.file_unique_id,
            "file_size": len(self.data),
        }
        if self.kind == "photo":
            out["width"], out["height"] = self.dimensions()
        else:
            if self.file_name:
                out["file_name"] = self.file_name
            if self.mime_type:
                out["mime_type"] = self.mime_type
        return out


@dataclass
class StoredMessage:
    """A message in a chat as the simulated client sees it now."""

    chat: Chat
    message_id: int
    sender: User
    date: int
    text: str | None = None
    entities: list[JSON] = field(default_factory=list)
    caption: str | None = None
    caption_entities: list[JSON] = field(default_factory=list)
    reply_markup: JSON | None = None
    # A reply keyboard shows on the client only; kept so its web_app buttons can be opened.
    reply_keyboard: JSON | None = None
    photo: StoredFile | None = None
    document: StoredFile | None = None
    extra: JSON = field(default_factory=dict)
    pinned: bool = False
    deleted: bool = False
    edit_count: int = 0
    edit_date: int | None = None
    seq: int = 0

    @property
    def chat_id(self) -> int:
        """The id of the chat this message is in."""
        return self.chat.id

    @property
    def from_bot(self) -> bool:
        """Whether a bot sent this message."""
        return self.sender.is_bot

    @property
    def buttons(self) -> list[JSON]:
        """All inline keyboard buttons, row by row, flattened."""
        if not self.reply_markup:
            return []
        rows = self.reply_markup.get("inline_keyboard") or []
        return [button for row in rows for button in row]

    @property
    def web_app_buttons(self) -> list[JSON]:
        """Buttons that open a Mini App: inline first, then the reply keyboard's."""
        rows = (self.reply_keyboard or {}).get("keyboard") or []
        keys = [b for row in rows for b in row if isinstance(b, dict)]
        return [b for b in (*self.buttons, *keys) if isinstance(b.get("web_app"), dict)]

    @property
    def has_keyboard(self) -> bool:
        """Whether the message currently carries an inline keyboard."""
        return bool(self.buttons)

    @property
    def body(self) -> str:
        """The text or caption, whichever the message has."""
        return self.text if self.text is not None else (self.caption or "")

    def to_api(self) -> JSON:
        """Return the Message object as the Bot API serialises it."""
        out: JSON = {
            "message_id": self.message_id,
            "from": self.sender.to_api(),
            "chat": self.chat.to_api(),
            "date": self.date,
        }
        if self.chat.type == "channel":
            del out["from"]
            out["sender_chat"] = self.chat.to_api()
        if self.edit_date is not None:
            out["edit_date"] = self.edit_date
        if self.text is not None:
            out["text"] = self.text
            if self.entities:
                out["entities"] = self.entities
        if self.photo is not None:
            out["photo"] = [self.photo.to_api()]
        if self.document is not None:
            out["document"] = self.document.to_api()
        if self.caption is not None:
            out["caption"] = self.caption
            if self.caption_entities:
                out["caption_entities"] = self.caption_entities
        out.update(self.extra)
        if self.reply_markup:
            out["reply_markup"] = self.reply_markup
        return out

    def to_dict(self) -> JSON:
        """Return a JSON summary for the control API, file bytes base64-encoded."""
        out: JSON = {
            "chat_id": self.chat.id,
            "message_id": self.message_id,
            "from_bot": self.from_bot,
            "sender_id": self.sender.id,
            "date": self.date,
            "text": self.text,
            "caption": self.caption,
            "entities": self.entities,
            "reply_markup": self.reply_markup,
            "pinned": self.pinned,
            "deleted": self.deleted,
            "edit_count": self.edit_count,
            "seq": self.seq,
        }
        for kind in ("photo", "document"):
            stored: StoredFile | None = getattr(self, kind)
            out[kind] = None
            if stored is not None:
                out[kind] = {
                    "file_id": stored.file_id,
                    "size": len(stored.data),
                    "data_base64": base64.b64encode(stored.data).decode(),
                }
        return out
