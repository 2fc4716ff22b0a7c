"""CDN purges: on every change, purge exactly the affected surrogate keys at each endpoint.

An endpoint is a URL. Varnish (with the xkey vmod, see ``deploy/varnish/smcfeed.vcl``) gets a
``PURGE`` request with an ``xkey-purge`` header; an endpoint whose path is
``/service/{id}/purge`` is Fastly's API and gets a ``POST`` with a ``Surrogate-Key`` header
(and ``Fastly-Key`` from ``SMCFEED_FASTLY_KEY``). Keys are sent in batches of at most 256
(Fastly's limit per request) and about 4 KB of header.
"""

from __future__ import annotations

import asyncio
import os
import re
from collections.abc import Iterator, Sequence
from urllib.parse import urlsplit

from .changes import Change
from .outbound import Outbound, send_with_retries

#: Fastly's purge-by-key API path.
_FASTLY = re.compile(r"^/service/[^/]+/purge/?$")
#: Keys per purge request, and bytes of keys per header.
MAX_KEYS, MAX_HEADER = 256, 4000


def batches(keys: Sequence[str]) -> Iterator[str]:
    """``keys`` as space-separated header values, each within the limits."""
    batch: list[str] = []
    size = 0
    for key in keys:
        if batch and (len(batch) >= MAX_KEYS or size + len(key) + 1 > MAX_HEADER):
            yield " ".join(batch)
            batch, size = [], 0
        batch.append(key)
        size += len(key) + 1
    if batch:
        yield " ".join(batch)


def is_fastly(endpoint: str) -> bool:
    return bool(_FASTLY.match(urlsplit(endpoint).path))


class Purger:
    """A change subscriber that purges the change's surrogate keys at every endpoint.

    ``settle``: with several workers, purge once more this many seconds later, so a worker
    that swapped a moment after the announcing one cannot leave the CDN its older bytes.
    """

    def __init__(
        self,
        endpoints: Sequence[str],
        outbound: Outbound,
        settle: float = 0.0,
        attempts: int = 6,
        backoff: float = 0.25,
    ) -> None:
        self.endpoints = list(endpoints)
        self.outbound = outbound
        self.settle = settle
        self.attempts = attempts
        self.backoff = backoff
        self.purged = 0

    def __call__(self, change: Change) -> None:
        if not change.keys or not self.endpoints:
            return
        keys = sorted(change.keys)
        self.outbound.submit(lambda: self._purge(keys))
        if self.settle and change.swap:
            self.outbound.submit(lambda: self._purge(keys), self.settle)

    async def _purge(self, keys: list[str]) -> None:
        await asyncio.gather(
            *(self._send(endpoint, value) for endpoint in self.endpoints for value in batches(keys))
        )

    async def _send(self, endpoint: str, keys: str) -> None:
        if is_fastly(endpoint):
            method, headers = "POST", {"surrogate-key": keys}
            token = os.environ.get("SMCFEED_FASTLY_KEY")
            if token:
                headers["fastly-key"] = token
        else:
            method, headers = "PURGE", {"xkey-purge": keys}
        if await send_with_retries(
            self.outbound.client,
            method,
            endpoint,
            what="CDN purge",
            headers=headers,
            attempts=self.attempts,
            backoff=self.backoff,
        ):
            self.purged += 1
