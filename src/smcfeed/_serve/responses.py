"""Rendered outputs kept as bytes, with their validators and compressed bodies.

A :class:`CachedResponse` is computed once per content version and time window: it stays
valid from the instant its output last changed until the next scheduled change (an embargo
lifting, an age label turning over). Requests only pick a representation.
"""

from __future__ import annotations

import gzip
import hashlib
import math
import threading
from collections import OrderedDict
from collections.abc import Iterable
from datetime import UTC, datetime
from email.utils import format_datetime

import brotli

from ..service import Output, Request, Smcfeed

#: Content codings we can send, best first.
ENCODINGS = ("br", "gzip")


class CachedResponse:
    """One output with everything a response needs, compressed on first demand."""

    __slots__ = (
        "_bodies",
        "_lock",
        "etag",
        "expires",
        "expires_at",
        "headers",
        "last_modified",
        "matching_tags",
        "media_type",
        "not_modified_headers",
        "output",
        "since",
    )

    def __init__(self, output: Output) -> None:
        self.output = output
        self.media_type = output.media_type
        self.expires = output.expires
        digest = hashlib.blake2b(output.body, digest_size=12).hexdigest()
        #: Strong validator of the identity body; codings append a suffix.
        self.etag = digest
        self.last_modified = format_datetime(output.last_modified.astimezone(UTC), usegmt=True)
        self._bodies: dict[str, bytes] = {"identity": output.body}
        #: Response headers per coding, filled in by the HTTP layer on first use; and those of
        #: a 304 per coding.
        self.headers: dict[str, list[tuple[bytes, bytes]]] = {}
        self.not_modified_headers: dict[str, list[tuple[bytes, bytes]]] = {}
        self._lock = threading.Lock()
        # The validity window as POSIX timestamps: comparing datetimes in the site's time
        # zone costs a tz lookup per request.
        #: When the output started to be valid, and when it stops (inf: not scheduled).
        self.since = output.last_modified.timestamp()
        self.expires_at = math.inf if output.expires is None else output.expires.timestamp()
        #: If-None-Match values that match exactly as sent (every coding's tag, weak or not).
        tags = [self.etag_for(c) for c in ("identity", *ENCODINGS)]
        self.matching_tags = frozenset(tags + [f"W/{t}" for t in tags])

    def valid_at(self, now: datetime) -> bool:
        return self.valid_at_timestamp(now.timestamp())

    def valid_at_timestamp(self, now: float) -> bool:
        """Whether the output is current at the POSIX time ``now``."""
        return self.since <= now < self.expires_at

    def body(self, coding: str) -> bytes:
        """The body in ``coding`` (``identity``, ``gzip`` or ``br``)."""
        found = self._bodies.get(coding)
        if found is None:
            with self._lock:
                found = self._bodies.get(coding)
                if found is None:
                    found = _compress(self._bodies["identity"], coding)
                    self._bodies[coding] = found
        return found

    def etag_for(self, coding: str) -> str:
        return f'"{self.etag}"' if coding == "identity" else f'"{self.etag}-{coding}"'


def _weight(entry: CachedResponse) -> int:
    """Bytes an entry may come to hold: its body, plus about as much for compressed copies."""
    return 2 * len(entry.output.body)


def _compress(body: bytes, coding: str) -> bytes:
    if coding == "gzip":
        return gzip.compress(body, compresslevel=9, mtime=0)
    if coding == "br":
        # A window no larger than the body (Brotli's default is 4 MB): the same bytes or
        # fewer, and about a third of the time, most of which went to setting up the window.
        window = max(_BROTLI_WINDOWS[0], min(_BROTLI_WINDOWS[1], (len(body) - 1).bit_length() + 1))
        return bytes(brotli.compress(body, quality=9, lgwin=window))
    raise ValueError(coding)


#: The smallest and largest Brotli window, as powers of two (RFC 7932, section 9.1).
_BROTLI_WINDOWS = (10, 24)


class ResponseCache:
    """CachedResponse responses for one catalogue, by path and page, bounded in number and bytes.

    Hits take no lock and reorder nothing, so the oldest render is evicted first; the hot
    paths rendered before a swap are pinned and never evicted.
    """

    def __init__(
        self, service: Smcfeed, max_entries: int = 4096, max_bytes: int = 256 * 1024 * 1024
    ) -> None:
        self.service = service
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self._entries: OrderedDict[Request, CachedResponse] = OrderedDict()
        self._pinned: set[Request] = set()
        self._lock = threading.Lock()
        self._bytes = 0

    def get(self, request: Request, now: datetime) -> CachedResponse:
        """The response to ``request`` as of ``now``: from the cache, or rendered and kept."""
        key = request
        entry = self._entries.get(key)
        if entry is not None and entry.valid_at_timestamp(now.timestamp()):
            return entry
        entry = CachedResponse(self.service.render(request, now))
        with self._lock:
            replaced = self._entries.pop(key, None)
            if replaced is not None:
                self._bytes -= _weight(replaced)
            self._entries[key] = entry
            self._bytes += _weight(entry)
            if len(self._entries) > self.max_entries or self._bytes > self.max_bytes:
                self._evict()
        return entry

    def _evict(self) -> None:
        for key in [k for k in self._entries if k not in self._pinned]:
            if len(self._entries) <= self.max_entries and self._bytes <= self.max_bytes:
                break
            self._bytes -= _weight(self._entries.pop(key))

    def warm(self, requests: Iterable[Request], now: datetime, pin: bool = True) -> int:
        """Render ``requests`` ahead of time; pinned ones are never evicted."""
        count = 0
        for request in requests:
            self.get(request, now)
            if pin:
                self._pinned.add(request)
            count += 1
        return count

    def next_expiry(self) -> datetime | None:
        """The soonest instant at which a kept response goes stale."""
        return min((e.expires for e in self._entries.values() if e.expires), default=None)

    def __len__(self) -> int:
        return len(self._entries)
