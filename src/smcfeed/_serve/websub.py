"""WebSub publisher: tell the site's hubs which feeds changed, so aggregators need not poll.

For every :class:`~smcfeed._serve.changes.Change` with changed feeds, each hub gets one
``hub.mode=publish`` POST per changed feed URL. Changes that arrive within ``window`` seconds
are batched and a URL is sent once per batch; requests to a hub go out concurrently over one
kept-alive connection pool, in the background, with retries and backoff. The form carries the
URL both as ``hub.url`` (the PubSubHubbub convention most hubs read) and as ``hub.topic`` (what
others, such as flask-websub, read): hubs read one of them, so each gets one URL per request.
"""

from __future__ import annotations

import asyncio
import logging
import threading

from .changes import Change
from .outbound import Outbound, send_with_retries

log = logging.getLogger("smcfeed")


class WebSubPublisher:
    """A change subscriber that pings hubs about exactly the changed feed URLs.

    ``settle``: seconds to wait after a swap before pinging, so every worker of the server
    has the new content when the hub fetches the feed (hubs fetch right away).
    """

    def __init__(
        self,
        outbound: Outbound,
        settle: float = 0.0,
        window: float = 0.05,
        attempts: int = 6,
        backoff: float = 0.5,
        concurrency: int = 16,
    ) -> None:
        self.outbound = outbound
        self.settle = settle
        self.window = window
        self.attempts = attempts
        self.backoff = backoff
        self.concurrency = concurrency
        self._pending: dict[str, set[str]] = {}
        self._lock = threading.Lock()
        self.sent = 0

    def __call__(self, change: Change) -> None:
        if not change.hubs or not change.feeds:
            return
        with self._lock:
            for hub in change.hubs:
                self._pending.setdefault(hub, set()).update(change.feeds)
        delay = max(self.window, self.settle if change.swap else 0.0)
        self.outbound.submit(self._flush, delay)

    async def _flush(self) -> None:
        with self._lock:
            pending, self._pending = self._pending, {}
        if not pending:
            return
        limit = asyncio.Semaphore(self.concurrency)
        await asyncio.gather(
            *(
                self._ping(hub, url, limit)
                for hub, feeds in pending.items()
                for url in sorted(feeds)
            )
        )

    async def _ping(self, hub: str, url: str, limit: asyncio.Semaphore) -> None:
        form = {"hub.mode": "publish", "hub.url": url, "hub.topic": url}
        async with limit:
            ok = await send_with_retries(
                self.outbound.client,
                "POST",
                hub,
                what=f"WebSub ping for {url}",
                data=form,
                attempts=self.attempts,
                backoff=self.backoff,
            )
        if ok:
            self.sent += 1
            log.info("WebSub: told %s that %s changed", hub, url)
