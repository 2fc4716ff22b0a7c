"""Outbound HTTP (WebSub pings, CDN purges) in a background thread of its own.

One daemon thread runs an asyncio loop with one ``httpx.AsyncClient``: requests to hubs and
CDNs never run on a request's or a reload's path, and a slow or dead endpoint only delays its
own retries. :func:`send_with_retries` retries connection errors, timeouts and 5xx/408/429
answers with exponential backoff and jitter.
"""

from __future__ import annotations

import asyncio
import logging
import random
import threading
from collections.abc import Awaitable, Callable, Mapping

import httpx

log = logging.getLogger("smcfeed")

#: Answers worth trying again.
RETRY_STATUS = frozenset({408, 425, 429, 500, 502, 503, 504})


class Outbound:
    """A background asyncio loop for outbound requests; ``submit`` from any thread."""

    def __init__(self, timeout: float = 10.0) -> None:
        self.timeout = timeout
        self._loop: asyncio.AbstractEventLoop | None = None
        self._client: httpx.AsyncClient | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._busy = 0
        self._idle = threading.Condition()

    @property
    def client(self) -> httpx.AsyncClient:
        assert self._client is not None, "Outbound.start() first"
        return self._client

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="smcfeed-outbound", daemon=True)
            self._thread.start()
            self._ready.wait(10)

    def _run(self) -> None:
        loop = self._loop = asyncio.new_event_loop()
        self._client = httpx.AsyncClient(timeout=self.timeout, trust_env=False)
        self._ready.set()
        try:
            loop.run_forever()
        finally:
            loop.run_until_complete(self._client.aclose())
            loop.close()

    def submit(self, make: Callable[[], Awaitable[None]], delay: float = 0.0) -> None:
        """Run ``make()`` on the loop after ``delay`` seconds; errors are logged."""
        self.start()
        loop = self._loop
        assert loop is not None
        with self._idle:
            self._busy += 1

        async def run() -> None:
            try:
                if delay > 0:
                    await asyncio.sleep(delay)
                await make()
            except Exception:
                log.exception("outbound request failed")
            finally:
                with self._idle:
                    self._busy -= 1
                    self._idle.notify_all()

        asyncio.run_coroutine_threadsafe(run(), loop)

    def drain(self, timeout: float = 30.0) -> bool:
        """Wait until nothing submitted is still running (for tests and shutdown)."""
        with self._idle:
            return self._idle.wait_for(lambda: self._busy == 0, timeout)

    def stop(self) -> None:
        loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=5)
        self._thread = self._loop = None


async def send_with_retries(
    client: httpx.AsyncClient,
    method: str,
    url: str,
    *,
    what: str,
    data: Mapping[str, str | list[str]] | None = None,
    headers: Mapping[str, str] | None = None,
    attempts: int = 6,
    backoff: float = 0.5,
) -> bool:
    """Send until a 2xx answer, retrying what may pass (exponential backoff with jitter:
    ``backoff`` × 2ⁿ × [0.5, 1)); False when it never succeeded."""
    for attempt in range(attempts):
        problem: str
        try:
            response = await client.request(method, url, data=data, headers=headers)
        except httpx.HTTPError as e:
            problem = f"{type(e).__name__}: {e}"
        else:
            if response.is_success:
                return True
            problem = f"{response.status_code} {response.reason_phrase}"
            if response.status_code not in RETRY_STATUS:
                log.error("%s at %s refused: %s", what, url, problem)
                return False
        if attempt + 1 < attempts:
            await asyncio.sleep(backoff * 2**attempt * random.uniform(0.5, 1.0))
    log.error("%s at %s failed after %d attempts: %s", what, url, attempts, problem)
    return False
