"""Bot API methods with files: sendPhoto, sendDocument, getFile."""

from __future__ import annotations

from sandbox.checks import (
    caption_text,
    check_can_send,
    count_message,
    inline_markup,
    new_message,
    reply_target,
    resolve_chat,
)
from sandbox.context import Ctx, Handler
from sandbox.errors import bad_request
from sandbox.models import JSON, StoredFile
from sandbox.params import Params, Upload

MAX_PHOTO = 10 * 1024 * 1024
MAX_DOCUMENT = 50 * 1024 * 1024


def _input_file(ctx: Ctx, p: Params, kind: str) -> StoredFile:
    value = p.get(kind)
    if isinstance(value, str) and value.startswith("attach://"):
        value = p.get(value.removeprefix("attach://"))
    if isinstance(value, Upload):
        if not value.data:
            raise bad_request("file must be non-empty")
        limit = MAX_PHOTO if kind == "photo" else MAX_DOCUMENT
        if len(value.data) > limit:
            reason = "PHOTO_INVALID_DIMENSIONS" if kind == "photo" else "file is too big"
            raise bad_request(reason)
        mime = value.content_type if kind == "document" else None
        return ctx.world.store_file(value.data, kind, value.filename, mime)
    if not isinstance(value, str) or not value:
        raise bad_request(f"there is no {kind} in the request")
    stored = ctx.world.files.get(value)
    if stored is None:
        raise bad_request("wrong file identifier/HTTP URL specified")
    if stored.kind != kind:
        raise bad_request(
            f"can't use file of type {stored.kind.capitalize()} as {kind.capitalize()}"
        )
    return stored


async def _send_media(ctx: Ctx, p: Params, kind: str) -> JSON:
    chat = resolve_chat(ctx, p)
    check_can_send(ctx, chat)
    stored = _input_file(ctx, p, kind)
    caption, entities = caption_text(p)
    markup = inline_markup(ctx, p)
    reply = reply_target(ctx, p, chat)
    count_message(ctx, chat)
    message = new_message(
        ctx,
        chat,
        caption=caption,
        caption_entities=entities,
        reply_markup=markup,
        reply_to=reply,
        **{kind: stored},
    )
    return message.to_api()


async def send_photo(ctx: Ctx, p: Params) -> JSON:
    """sendPhoto: multipart upload or a known file_id; caption ≤ 1024."""
    return await _send_media(ctx, p, "photo")


async def send_document(ctx: Ctx, p: Params) -> JSON:
    """sendDocument: multipart upload or a known file_id; caption ≤ 1024."""
    return await _send_media(ctx, p, "document")


async def get_file(ctx: Ctx, p: Params) -> JSON:
    """getFile: the file's path for download under /file/bot<token>/."""
    stored = ctx.world.files.get(p.string("file_id") or "")
    if stored is None:
        raise bad_request("invalid file_id")
    return {
        "file_id": stored.file_id,
        "file_unique_id": stored.file_unique_id,
        "file_size": len(stored.data),
        "file_path": stored.file_path,
    }


METHODS: dict[str, Handler] = {
    "sendPhoto": send_photo,
    "sendDocument": send_document,
    "getFile": get_file,
}
