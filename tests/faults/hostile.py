"""Hypothesis strategies for malformed and hostile Telegram updates."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from tests.faults.harness import GROUP, MODERATOR

USERS = (81_001, 81_002, 81_003)  # registered in the sandbox, so the bot can answer them
COMMANDS = (
    "/start",
    "/session",
    "/close",
    "/reopen",
    "/reset",
    "/summary",
    "/teams",
    "/status",
    "/export",
    "/schedule",
    "/unschedule",
    "/reminders",
    "/help",
    "/language",
    "/privacy",
    "/about",
    "/delete_me",
    "/start@dteam_fault_bot",
    "/unknown",
)
NASTY = (
    "' OR 1=1 --",
    "-1",
    "0",
    "99999999999999999999",
    "../../etc",
    "../../etc/passwd",
    "<b>unclosed",
    "<script>alert(1)</script>",
    "%s%s%s",
    "{title}",
    "\x00",
    "\u202e",
    "2030-01-01 25:61",
    "a:1:g01:5",
    "; DROP TABLE run;",
    "ИМЯ",
    "🎉" * 40,
)
CALLBACKS = (
    "a:1:g01:5",
    "a:-1:g01:5",
    "a:1:../../etc:x",
    "a:1:g01:' OR 1=1",
    "b:1:g01",
    "c:0",
    "c:-5",
    "c:abc",
    "x:1:yes",
    "x:999:yes",
    "s:on",
    "d:yes",
    "j:1",
    "r:1",
    "n:0",
    "_",
    "a",
    ":",
    "a::::",
    "l:xx",
    "m:off",
)

ids = st.one_of(st.sampled_from(USERS), st.integers(-(2**63), 2**63), st.just(MODERATOR))
junk: st.SearchStrategy[Any] = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=True),
    st.text(max_size=20),
    st.lists(st.integers(), max_size=3),
    st.dictionaries(st.text(max_size=5), st.integers()),
)
texts = st.one_of(
    st.sampled_from(COMMANDS),
    st.builds(lambda c, a: f"{c} {a}", st.sampled_from(COMMANDS), st.sampled_from(NASTY)),
    st.builds(lambda c, a: f"{c} {a}", st.sampled_from(COMMANDS), st.text(max_size=80)),
    st.text(max_size=200),
    st.integers(4097, 70_000).map(lambda n: "/start " + "A" * n),
)


@st.composite
def users(draw: st.DrawFn) -> Any:
    """A user object, sometimes broken."""
    user = {
        "id": draw(ids),
        "is_bot": draw(st.booleans()),
        "first_name": draw(st.text(max_size=70)),
    }
    if draw(st.booleans()):
        user["language_code"] = draw(st.sampled_from(["de", "en", "xx", "", "de-AT"]))
    return draw(st.one_of(st.just(user), junk)) if draw(st.integers(0, 9)) == 0 else user


@st.composite
def chats(draw: st.DrawFn, user: Any) -> Any:
    """A chat: the user's private chat, the session group, a channel, or garbage."""
    uid = user.get("id") if isinstance(user, dict) else draw(ids)
    return draw(
        st.sampled_from(
            [
                {"id": uid, "type": "private", "first_name": "x"},
                {"id": GROUP, "type": "supergroup", "title": "Störfall-Gruppe"},
                {"id": -100_123, "type": "channel", "title": "c"},
                {"id": uid, "type": "nonsense"},
                {"type": "private"},
                "chat",
            ]
        )
    )


@st.composite
def messages(draw: st.DrawFn) -> Any:
    """A message with a command, an injection-looking argument, or garbage."""
    user = draw(users())
    message: dict[str, Any] = {
        "message_id": draw(st.one_of(st.integers(1, 10**6), junk)),
        "date": draw(st.one_of(st.integers(0, 2**31), junk)),
        "chat": draw(chats(user)),
        "from": user,
        "text": draw(st.one_of(texts, junk)),
    }
    text = message["text"]
    if isinstance(text, str) and text.startswith("/") and draw(st.booleans()):
        message["entities"] = [
            {"type": "bot_command", "offset": 0, "length": len(text.split()[0])}
        ]
    for key in draw(st.sets(st.sampled_from(list(message)), max_size=2)):
        del message[key]
    return message


@st.composite
def callback_queries(draw: st.DrawFn) -> Any:
    """A button press with forged data, a foreign message, or fields missing."""
    user = draw(users())
    query: dict[str, Any] = {
        "id": draw(st.one_of(st.text(min_size=1, max_size=20), junk)),
        "from": user,
        "chat_instance": draw(st.one_of(st.text(min_size=1, max_size=10), junk)),
        "data": draw(st.one_of(st.sampled_from(CALLBACKS), st.text(max_size=100), junk)),
        "message": {
            "message_id": draw(st.integers(-5, 10**6)),
            "date": 0,
            "chat": draw(chats(user)),
        },
    }
    for key in draw(st.sets(st.sampled_from(list(query)), max_size=2)):
        del query[key]
    return query


updates = st.one_of(
    st.builds(lambda m: {"message": m}, messages()),
    st.builds(lambda m: {"edited_message": m}, messages()),
    st.builds(lambda q: {"callback_query": q}, callback_queries()),
    st.builds(lambda m: {"my_chat_member": m}, st.dictionaries(st.text(max_size=8), junk)),
    st.dictionaries(st.text(max_size=12), junk, max_size=3),
    # Telegram always sends an integer update_id (the sandbox assigns it); the rest is open.
    st.builds(lambda m: {"message": m}, junk),
)


def generate(n: int) -> list[dict[str, Any]]:
    """Returns n hostile updates drawn by hypothesis (derandomised: the same list each run)."""
    found: list[dict[str, Any]] = []

    @settings(
        max_examples=n,
        database=None,
        derandomize=True,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
        deadline=None,
    )
    @given(updates)
    def collect(update: dict[str, Any]) -> None:
        found.append(update)

    collect()
    return found
