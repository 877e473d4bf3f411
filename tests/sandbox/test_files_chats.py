"""Photos and documents round trip; members, pins, commands and chat migration."""

from __future__ import annotations

import asyncio
import os
import struct
import zlib
from collections.abc import AsyncIterator

import pytest
from aiohttp import ClientSession
from telegram import Bot, BotCommand, BotCommandScopeAllChatAdministrators
from telegram.error import BadRequest, ChatMigrated, Forbidden

from sandbox.server import BotApiServer
from tests.sandbox.conftest import TOKEN, USER


def png(width: int, height: int) -> bytes:
    """A minimal valid PNG of the given size."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    raw = b"".join(b"\x00" + b"\x80" * width for _ in range(height))
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


async def test_photo_round_trip(server: BotApiServer, bot: Bot) -> None:
    server.send_text(USER, "/start")
    image = png(40, 30)
    sent = await bot.send_photo(USER, image, caption="<b>Ihr Typ</b>", parse_mode="HTML")
    assert sent.caption == "Ihr Typ"
    photo = sent.photo[-1]
    assert (photo.width, photo.height) == (40, 30)
    stored = server.last_message(USER)
    assert stored is not None
    assert stored.photo is not None
    assert stored.photo.data == image
    file = await bot.get_file(photo.file_id)
    assert bytes(await file.download_as_bytearray()) == image
    again = await bot.send_photo(USER, photo.file_id)
    assert again.photo[-1].file_id == photo.file_id
    with pytest.raises(BadRequest, match="Message caption is too long"):
        await bot.send_photo(USER, image, caption="x" * 1025)
    with pytest.raises(BadRequest, match="Wrong file identifier"):
        await bot.send_photo(USER, "nonexistent-file-id")


async def test_document_and_caption_edit(server: BotApiServer, bot: Bot) -> None:
    server.send_text(USER, "/start")
    sent = await bot.send_document(USER, b"a;b\n1;2\n", filename="export.csv", caption="Export")
    assert sent.document is not None
    assert sent.document.file_name == "export.csv"
    edited = await bot.edit_message_caption(USER, sent.message_id, caption="Export (neu)")
    assert isinstance(edited, type(sent))
    assert edited.caption == "Export (neu)"
    with pytest.raises(BadRequest, match="There is no text in the message to edit"):
        await bot.edit_message_text("x", USER, sent.message_id)


async def test_members_and_admins(server: BotApiServer, bot: Bot) -> None:
    server.add_user(2002, "Max")
    server.add_group(-42, "Workshop", type="supergroup")
    server.set_member(-42, USER, "creator")
    server.set_member(-42, 2002, "member")
    server.set_member(-42, bot.id, "administrator", can_pin_messages=False)
    member = await bot.get_chat_member(-42, 2002)
    assert member.status == "member"
    admins = await bot.get_chat_administrators(-42)
    assert {a.user.id for a in admins} == {USER, bot.id}
    me = await bot.get_chat_member(-42, bot.id)
    assert me.status == "administrator"
    assert getattr(me, "can_pin_messages", None) is False
    assert await bot.get_chat_member_count(-42) == 3
    chat = await bot.get_chat(-42)
    assert (chat.type, chat.title) == ("supergroup", "Workshop")
    sent = await bot.send_message(-42, "Ergebnis")
    with pytest.raises(BadRequest, match="Not enough rights to manage pinned messages"):
        await bot.pin_chat_message(-42, sent.message_id)
    server.set_member(-42, bot.id, "administrator", can_pin_messages=True)
    assert await bot.pin_chat_message(-42, sent.message_id)
    assert server.messages(-42)[-1].pinned
    assert await bot.delete_message(-42, sent.message_id)
    assert server.messages(-42)[-1].deleted
    assert server.last_message(-42) is None


async def test_not_a_member(server: BotApiServer, bot: Bot) -> None:
    server.add_group(-7, "Fremd")
    with pytest.raises(Forbidden, match="bot is not a member of the group chat"):
        await bot.send_message(-7, "hi")
    server.add_to_group(-7, USER)
    assert (await bot.send_message(-7, "Hallo Gruppe")).chat.id == -7
    updates = await bot.get_updates()
    assert updates[0].my_chat_member is not None
    assert updates[1].message is not None
    assert [u.id for u in updates[1].message.new_chat_members] == [bot.id]


async def test_migration(server: BotApiServer, bot: Bot) -> None:
    server.add_group(-10, "Workshop")
    server.set_member(-10, USER, "creator")
    server.set_member(-10, bot.id, "member")
    server.migrate_group(-10, -1000000000010)
    with pytest.raises(ChatMigrated) as info:
        await bot.send_message(-10, "hi")
    assert info.value.new_chat_id == -1000000000010
    updates = await bot.get_updates()
    messages = [u.message for u in updates if u.message]
    assert messages[0].migrate_to_chat_id == -1000000000010
    assert messages[1].migrate_from_chat_id == -10
    assert (await bot.send_message(-1000000000010, "weiter")).chat.type == "supergroup"


async def test_commands_per_scope_and_language(server: BotApiServer, bot: Bot) -> None:
    await bot.set_my_commands([BotCommand("start", "Start")], language_code="de")
    admin = BotCommandScopeAllChatAdministrators()
    await bot.set_my_commands([BotCommand("session", "Session")], scope=admin)
    assert [c.command for c in await bot.get_my_commands(language_code="de")] == ["start"]
    assert await bot.get_my_commands() == ()
    assert [c.command for c in await bot.get_my_commands(scope=admin)] == ["session"]
    assert server.bot_state().commands[("all_chat_administrators", "")][0]["command"] == "session"
    with pytest.raises(BadRequest):
        await bot.set_my_commands([BotCommand("Bad-Name", "x")])
    await bot.delete_my_commands(scope=admin)
    assert await bot.get_my_commands(scope=admin) == ()
    await bot.set_my_description("Typologie-Bot", language_code="de")
    await bot.set_my_short_description("Kurz")
    assert (await bot.get_my_description("de")).description == "Typologie-Bot"
    assert (await bot.get_my_short_description()).short_description == "Kurz"


async def test_upload_arriving_in_uneven_pieces(server: BotApiServer, http: ClientSession) -> None:
    """A multipart upload whose bytes arrive in uneven pieces (slow link, odd TCP segments).

    When a read returns less than a boundary and the next one more than a chunk, aiohttp's
    multipart reader pushes the surplus back with a call it has deprecated. The stand-in must
    still store the upload and answer like Telegram, not fail with a 500.
    """
    server.send_text(USER, "/start")
    payload = os.urandom(20_000)
    boundary = "dteam-boundary-7f3a"
    head = (
        f"--{boundary}\r\n"
        'Content-Disposition: form-data; name="chat_id"\r\n\r\n'
        f"{USER}\r\n"
        f"--{boundary}\r\n"
        'Content-Disposition: form-data; name="document"; filename="answers.csv"\r\n'
        "Content-Type: text/csv\r\n\r\n"
    ).encode()
    pieces = [head, payload[:3], payload[3:] + f"\r\n--{boundary}--\r\n".encode()]

    async def uneven() -> AsyncIterator[bytes]:
        for piece in pieces:
            yield piece
            await asyncio.sleep(0.02)

    async with http.post(
        f"{server.root}/bot{TOKEN}/sendDocument",
        data=uneven(),
        headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
    ) as response:
        reply = await response.json()
    assert response.status == 200, reply
    assert reply["ok"] is True
    stored = server.last_message(USER)
    assert stored is not None
    assert stored.document is not None
    assert stored.document.data == payload


async def test_a_client_hanging_up_mid_upload_breaks_nothing(server: BotApiServer) -> None:
    """A bot killed while uploading: nothing is stored or logged as broken; the next call works."""
    boundary = "dteam-boundary-hangup"
    head = (
        f"--{boundary}\r\n"
        'Content-Disposition: form-data; name="chat_id"\r\n\r\n'
        f"{USER}\r\n"
        f"--{boundary}\r\n"
        'Content-Disposition: form-data; name="document"; filename="answers.csv"\r\n'
        "Content-Type: text/csv\r\n\r\n"
    ).encode() + b"a;b\r\n" * 100
    host, port = server.root.removeprefix("http://").split(":")
    _reader, writer = await asyncio.open_connection(host, int(port))
    writer.write(
        (
            f"POST /bot{TOKEN}/sendDocument HTTP/1.1\r\nHost: {host}\r\n"
            f"Content-Type: multipart/form-data; boundary={boundary}\r\n"
            "Content-Length: 100000\r\n\r\n"
        ).encode()
        + head
    )
    await writer.drain()
    await asyncio.sleep(0.1)
    writer.close()  # 100,000 bytes promised, about 900 sent
    await writer.wait_closed()
    await asyncio.sleep(0.3)  # the stand-in sees the hang-up; the fixture checks its log
    assert server.stats().get("requests", 0) == 0  # no answer, no message: nothing happened
    assert server.last_message(USER) is None
    server.send_text(USER, "/start")
    async with Bot(TOKEN, base_url=f"{server.root}/bot") as bot:
        assert (await bot.send_message(USER, "weiter")).text == "weiter"


async def test_member_changes_reach_only_administering_bots_that_asked(
    server: BotApiServer, bot: Bot
) -> None:
    server.add_group(-8, "Werkstatt")
    server.set_member(-8, USER, "administrator")
    server.set_member(-8, bot.id, "member")
    server.change_member(-8, USER, "member")  # the bot is no admin here: Telegram says nothing
    assert await bot.get_updates(allowed_updates=["chat_member", "message"]) == ()
    server.set_member(-8, bot.id, "administrator")
    server.change_member(-8, USER, "administrator")
    server.change_member(-8, USER, "member")
    updates = await bot.get_updates(allowed_updates=["chat_member", "message"])
    changes = [u.chat_member for u in updates if u.chat_member is not None]
    assert [(c.old_chat_member.status, c.new_chat_member.status) for c in changes] == [
        ("member", "administrator"),
        ("administrator", "member"),
    ]
    assert (await bot.get_chat_member(-8, USER)).status == "member"
    server.change_member(-8, USER, "kicked")
    assert await bot.get_updates(offset=updates[-1].update_id + 1, allowed_updates=[]) == ()
