"""Access log lines in the Combined Log Format, written by a plain ASGI middleware.

A journalist's private-feed token never reaches the log: in the request line and the referer,
``/private/{token}`` is written as ``/private/id:{short id}``, the start of the token's hash
(what ``smcfeed tokens list`` shows), whether the token is registered or not.
"""

from __future__ import annotations

import logging
import re
import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .tokens import short_id

log = logging.getLogger("smcfeed.access")


class AccessLog:
    """Logs ``host - - [time] "request" status bytes "referer" "agent"`` per HTTP request."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status = 500
        size = 0

        async def logged_send(message: Message) -> None:
            nonlocal status, size
            if message["type"] == "http.response.start":
                status = message["status"]
            elif message["type"] == "http.response.body":
                size += len(message.get("body", b""))
            await send(message)

        try:
            await self.app(scope, receive, logged_send)
        finally:
            log.info("%s", _line(scope, status, size))


def _line(scope: Scope, status: int, size: int) -> str:
    client = scope.get("client")
    host = client[0] if client else "-"
    headers = dict(scope.get("headers") or [])
    query = scope.get("query_string", b"").decode("latin-1")
    target = scope.get("raw_path", b"").decode("latin-1") or scope["path"]
    if query and "?" not in target:
        target += "?" + query
    target = redact(target)
    when = time.strftime("%d/%b/%Y:%H:%M:%S %z")
    referer = redact(headers.get(b"referer", b"-").decode("latin-1"))
    agent = headers.get(b"user-agent", b"-").decode("latin-1")
    request = f"{scope['method']} {target} HTTP/{scope.get('http_version', '1.1')}"
    return f'{host} - - [{when}] "{request}" {status} {size or "-"} "{referer}" "{agent}"'


_PRIVATE = re.compile(r"/private/([^/?#\s]*)")


def redact(text: str) -> str:
    """``text`` with every private-feed token replaced by the short id of its hash."""
    if "/private/" not in text:
        return text
    return _PRIVATE.sub(lambda m: f"/private/id:{short_id(m[1])}", text)
