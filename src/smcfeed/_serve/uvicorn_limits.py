"""uvicorn's httptools protocol with the two limits uvicorn lacks: a header read timeout and a
maximum header size (uvicorn bounds only idle keep-alive time and, with h11, header size).

``smcfeed serve --server uvicorn`` passes this class as uvicorn's ``http`` protocol; the limits
come from the :class:`~smcfeed.settings.Settings` that ``serve`` hands to every worker.
"""

from __future__ import annotations

import asyncio
from functools import cache

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from ..settings import Settings
from .http import error_body

_TOO_LARGE_BODY = error_body(431, "request headers are too large")
_TOO_LARGE = (
    b"HTTP/1.1 431 Request Header Fields Too Large\r\ncontent-type: application/json\r\n"
    b"connection: close\r\ncontent-length: %d\r\n\r\n%s" % (len(_TOO_LARGE_BODY), _TOO_LARGE_BODY)
)


@cache
def _limits() -> tuple[float, int]:
    settings = Settings.from_env()
    return settings.header_timeout, settings.max_header_size


class LimitedHttpToolsProtocol(HttpToolsProtocol):
    """Closes a connection whose request headers take longer than the header timeout (from
    connecting, or from the first byte of a later request; idle time between requests is
    uvicorn's keep-alive timeout), and answers 431 to headers over the size limit."""

    _header_timer: asyncio.TimerHandle | None = None
    _header_bytes = 0
    _reading_headers = True

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm()

    def _arm(self) -> None:
        self._header_timer = self.loop.call_later(_limits()[0], self._header_timeout)

    def _disarm(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None

    def _header_timeout(self) -> None:
        self._header_timer = None
        if self._reading_headers and not self.transport.is_closing():
            self.transport.close()

    def data_received(self, data: bytes) -> None:
        if self._reading_headers:
            self._header_bytes += len(data)
            if self._header_bytes > _limits()[1]:
                self._disarm()
                self.transport.write(_TOO_LARGE)
                self.transport.close()
                return
        super().data_received(data)

    def on_message_begin(self) -> None:
        super().on_message_begin()
        if self._header_timer is None:
            self._arm()

    def on_headers_complete(self) -> None:
        self._disarm()
        self._reading_headers = False
        self._header_bytes = 0
        super().on_headers_complete()

    def on_response_complete(self) -> None:
        # Idle time until the next request is uvicorn's keep-alive timeout; its headers are
        # counted and timed from their first byte.
        super().on_response_complete()
        self._reading_headers = True

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)
