"""Access log lines in the Combined Log Format, written by a plain ASGI middleware."""

from __future__ import annotations

import logging
import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

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
    when = time.strftime("%d/%b/%Y:%H:%M:%S %z")
    referer = headers.get(b"referer", b"-").decode("latin-1")
    agent = headers.get(b"user-agent", b"-").decode("latin-1")
    request = f"{scope['method']} {target} HTTP/{scope.get('http_version', '1.1')}"
    return f'{host} - - [{when}] "{request}" {status} {size or "-"} "{referer}" "{agent}"'
