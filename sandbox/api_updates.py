"""Bot API methods for receiving updates: getUpdates and the webhook settings."""

from __future__ import annotations

import ipaddress
import re
from typing import Any
from urllib.parse import urlsplit

from sandbox.checks import check_can_send, resolve_chat
from sandbox.context import Ctx, Handler
from sandbox.errors import CONFLICT_WEBHOOK, ApiError, bad_request
from sandbox.models import JSON
from sandbox.params import Params
from sandbox.state import WebhookConfig

_SECRET = re.compile(r"^[A-Za-z0-9_-]{1,256}$")


def is_loopback_url(url: str) -> bool:
    """Whether ``url`` is http(s) to this machine; the sandbox never sends traffic elsewhere."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return False
    if parts.hostname == "localhost":
        return True
    try:
        return ipaddress.ip_address(parts.hostname).is_loopback
    except ValueError:
        return False


async def get_updates(ctx: Ctx, p: Params) -> list[dict[str, Any]]:
    """getUpdates: confirm by offset, limit 1–100, long-poll up to 50 s; 409 on conflicts."""
    if ctx.bot.webhook is not None:
        raise ApiError(409, CONFLICT_WEBHOOK)
    queue = ctx.bot.updates
    queue.set_allowed(p.json("allowed_updates"))
    return await queue.get(
        offset=p.integer("offset", 0) or 0,
        limit=p.integer("limit", 100) or 100,
        poll=p.number("timeout", 0.0),
    )


async def set_webhook(ctx: Ctx, p: Params) -> bool:
    """setWebhook: loopback URLs only; an empty URL removes the webhook."""
    url = p.string("url") or ""
    if not url:
        return await delete_webhook(ctx, p)
    if not is_loopback_url(url):
        raise bad_request("bad webhook: the sandbox delivers only to loopback http(s) URLs")
    secret = p.string("secret_token")
    if secret is not None and not _SECRET.match(secret):
        raise bad_request("bad webhook: secret token contains unallowed characters")
    max_connections = p.integer("max_connections", 40) or 40
    if not 1 <= max_connections <= 100:
        raise bad_request("bad webhook: max_connections must be between 1 and 100")
    ctx.bot.updates.set_allowed(p.json("allowed_updates"))
    if p.flag("drop_pending_updates"):
        ctx.bot.updates.drop_all()
    ctx.bot.webhook = WebhookConfig(url, secret, max_connections)
    ctx.bot.updates.terminate_poller()
    ctx.services.webhook_changed(ctx.bot)
    return True


async def delete_webhook(ctx: Ctx, p: Params) -> bool:
    """deleteWebhook: back to polling, optionally dropping pending updates."""
    if p.flag("drop_pending_updates"):
        ctx.bot.updates.drop_all()
    if ctx.bot.webhook is not None:
        ctx.bot.webhook = None
        ctx.services.webhook_changed(ctx.bot)
    return True


async def get_webhook_info(ctx: Ctx, _p: Params) -> JSON:
    """getWebhookInfo: URL, pending count and the last delivery error."""
    queue = ctx.bot.updates
    queue.expire(now=True)
    hook = ctx.bot.webhook
    info: JSON = {
        "url": hook.url if hook else "",
        "has_custom_certificate": False,
        "pending_update_count": len(queue),
    }
    if hook is not None:
        info["max_connections"] = hook.max_connections
        if hook.last_error_date is not None:
            info["last_error_date"] = hook.last_error_date
            info["last_error_message"] = hook.last_error_message
    if queue.allowed is not None:
        info["allowed_updates"] = sorted(queue.allowed)
    return info


async def send_chat_action(ctx: Ctx, p: Params) -> bool:
    """sendChatAction: checks the chat like a send, shows nothing."""
    check_can_send(ctx, resolve_chat(ctx, p))
    return True


METHODS: dict[str, Handler] = {
    "getUpdates": get_updates,
    "setWebhook": set_webhook,
    "deleteWebhook": delete_webhook,
    "getWebhookInfo": get_webhook_info,
    "sendChatAction": send_chat_action,
}
