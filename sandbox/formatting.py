"""Text formatting: Telegram's HTML subset, command entities and length rules."""

from __future__ import annotations

import html
import re
from typing import Any

from sandbox.errors import ApiError, bad_request

TAGS = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
    "span": "spoiler",
    "a": "text_link",
    "code": "code",
    "pre": "pre",
    "blockquote": "blockquote",
    "tg-emoji": "custom_emoji",
}
_TOKEN = re.compile(r"<(/?)([a-zA-Z][a-zA-Z0-9-]*)((?:\s+[^<>]*)?)\s*>|&(#?\w+);|[<>&]|[^<>&]+")
_ATTR = re.compile(r"""([a-zA-Z-]+)\s*=\s*(?:"([^"]*)"|'([^']*)'|(\S+))""")
_COMMAND = re.compile(r"(?<![\w/])/[A-Za-z0-9_]{1,32}(?:@[A-Za-z0-9_]{3,32})?")


def utf16_len(text: str) -> int:
    """Return the length of ``text`` in UTF-16 code units, as entity offsets count."""
    return len(text.encode("utf-16-le")) // 2


def _cannot_parse(reason: str) -> ApiError:
    return bad_request(f"can't parse entities: {reason}")


def parse_html(source: str) -> tuple[str, list[dict[str, Any]]]:
    """Parse Telegram's HTML subset into plain text and entities; raise 400 on bad markup."""
    text: list[str] = []
    entities: list[dict[str, Any]] = []
    stack: list[tuple[str, int, dict[str, Any]]] = []
    offset = 0
    byte_pos = 0
    for match in _TOKEN.finditer(source):
        token = match.group(0)
        closing, name, attrs, ref = match.group(1), match.group(2), match.group(3), match.group(4)
        if name is not None:
            tag = name.lower()
            if tag not in TAGS:
                kind = "end" if closing else "start"
                raise _cannot_parse(f'Unsupported {kind} tag "{tag}" at byte offset {byte_pos}')
            if closing:
                if not stack or stack[-1][0] != tag:
                    raise _cannot_parse(f"Unexpected end tag at byte offset {byte_pos}")
                _, start, entity = stack.pop()
                if offset > start:
                    entity.update(offset=start, length=offset - start)
                    entities.append(entity)
            else:
                stack.append((tag, offset, _entity(tag, attrs or "")))
        elif ref is not None:
            decoded = html.unescape(token)
            if decoded == token:
                raise _cannot_parse(f'Unsupported HTML entity "{token}" at byte offset {byte_pos}')
            text.append(decoded)
            offset += utf16_len(decoded)
        elif token in "<>&":  # noqa: S105 - a markup character, not a secret
            raise _cannot_parse(
                f'Unexpected character "{token}" at byte offset {byte_pos}; use HTML entities'
            )
        else:
            text.append(token)
            offset += utf16_len(token)
        byte_pos += len(token.encode())
    if stack:
        raise _cannot_parse(f'Can\'t find end tag corresponding to start tag "{stack[-1][0]}"')
    entities.sort(key=lambda e: (e["offset"], -e["length"]))
    return "".join(text), entities


def _entity(tag: str, attrs: str) -> dict[str, Any]:
    values = {
        m.group(1).lower(): m.group(2) or m.group(3) or m.group(4) for m in _ATTR.finditer(attrs)
    }
    entity: dict[str, Any] = {"type": TAGS[tag]}
    if tag == "a":
        url = values.get("href", "")
        if url.startswith("tg://user?id="):
            entity = {
                "type": "text_mention",
                "user": {"id": int(url[13:] or 0), "is_bot": False, "first_name": ""},
            }
        else:
            entity["url"] = url
    elif tag == "pre" and "language" in values:
        entity["language"] = values["language"]
    elif tag == "code" and "class" in values:
        entity["type"] = "pre"
        entity["language"] = values["class"].removeprefix("language-")
    elif tag == "span" and values.get("class") != "tg-spoiler":
        raise _cannot_parse('Tag "span" must have class "tg-spoiler"')
    elif tag == "blockquote" and "expandable" in attrs:
        entity["type"] = "expandable_blockquote"
    elif tag == "tg-emoji":
        entity["custom_emoji_id"] = values.get("emoji-id", "")
    return entity


def command_entities(text: str) -> list[dict[str, Any]]:
    """Return the ``bot_command`` entities a Telegram client marks in ``text``."""
    entities = []
    for match in _COMMAND.finditer(text):
        entities.append(
            {
                "type": "bot_command",
                "offset": utf16_len(text[: match.start()]),
                "length": utf16_len(match.group(0)),
            }
        )
    return entities


def format_text(
    text: str, parse_mode: str | None, entities: list[dict[str, Any]] | None
) -> tuple[str, list[dict[str, Any]]]:
    """Apply ``parse_mode`` or explicit ``entities`` and return text plus entities."""
    mode = (parse_mode or "").lower()
    if mode == "html":
        return parse_html(text)
    if mode in ("", "markdown", "markdownv2"):
        # Markdown is accepted verbatim: the stand-in does not render it.
        return text, list(entities or [])
    raise bad_request(f"unsupported parse_mode {parse_mode}")
