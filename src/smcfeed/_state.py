"""The content being served, swapped whole when new content has loaded without errors."""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from ._cache import ResponseCache
from ._loader import LoadResult, load_content
from .catalogue import Catalogue, FeedKey
from .clock import Clock
from .core import Smcfeed
from .exceptions import ContentError
from .render._view import FILE_NAMES, MEDIA_TYPES

FEED_MEDIA_TYPES = frozenset(MEDIA_TYPES.values())

log = logging.getLogger("smcfeed")


@dataclass(frozen=True)
class Snapshot:
    """One loaded catalogue with its service and response cache; never changed, only replaced."""

    catalogue: Catalogue
    service: Smcfeed
    cache: ResponseCache
    #: When this content was loaded.
    loaded_at: datetime

    def link_header(self, path: str, query: bytes, media_type: str) -> str | None:
        """WebSub discovery (``rel="hub"`` and ``rel="self"``) for a feed, when hubs are set."""
        site = self.catalogue.site
        if not site.websub_hubs or media_type not in FEED_MEDIA_TYPES:
            return None
        url = f"{site.root}{path}" + (f"?{query.decode('latin-1')}" if query else "")
        return ", ".join(
            [*(f'<{hub}>; rel="hub"' for hub in site.websub_hubs), f'<{url}>; rel="self"']
        )


def hot_paths(catalogue: Catalogue) -> Iterable[str]:
    """What aggregators poll most: every language's main feeds, the OPML and the index."""
    yield "/"
    yield "/feeds.opml"
    for lang in catalogue.site.languages:
        for name in FILE_NAMES.values():
            yield f"{FeedKey(lang).path}/{name}"


def prepare(catalogue: Catalogue, now: datetime, max_entries: int = 4096) -> Snapshot:
    """Build a snapshot and render its hot responses before anyone can see it."""
    service = Smcfeed(catalogue)
    cache = ResponseCache(service, max_entries=max_entries)
    cache.warm(hot_paths(catalogue), now)
    return Snapshot(catalogue, service, cache, now)


@dataclass
class ContentState:
    """What is being served and what the last loads said: the app's only mutable state."""

    root: Path
    clock: Clock
    #: Overrides site.yaml's base_url (e.g. for serving on localhost).
    base_url: str | None = None
    snapshot: Snapshot | None = None
    #: Errors of the most recent load (empty when it was clean).
    errors: list[ContentError] = field(default_factory=list)
    #: When the most recent load finished, and the last one that was swapped in.
    last_load: datetime | None = None
    last_good_load: datetime | None = None

    #: Fingerprint of the folder's files when the most recent load began.
    fingerprint: str = ""

    def changed_on_disk(self) -> bool:
        """Whether any file was added, removed or modified since the last load began."""
        return fingerprint(self.root) != self.fingerprint

    def reload(self) -> bool:
        """Load the folder again; swap the new content in only if it has no errors.

        On the first load, content with errors is still served (minus the broken files), so a
        broken file cannot keep the service from starting. Returns whether content was swapped.
        """
        self.fingerprint = fingerprint(self.root)
        result: LoadResult = load_content(self.root, self.base_url)
        now = self.clock()
        self.last_load = now
        self.errors = result.errors
        for error in result.errors:
            log.error("%s", error)
        if result.catalogue is None or (result.errors and self.snapshot is not None):
            if self.snapshot is not None:
                log.error(
                    "content has errors: still serving the content loaded %s",
                    self.last_good_load.isoformat() if self.last_good_load else "never",
                )
            return False
        self.snapshot = prepare(result.catalogue, now)
        if not result.errors:
            self.last_good_load = now
        log.info("content loaded: %d articles", len(result.catalogue))
        return True


def fingerprint(root: Path) -> str:
    """A digest of every file's path, size and modification time under ``root``."""
    digest = hashlib.blake2b(digest_size=16)
    stack = [root]
    while stack:
        folder = stack.pop()
        try:
            entries = sorted(os.scandir(folder), key=lambda e: e.name)
        except OSError:
            continue
        for entry in entries:
            if entry.is_dir(follow_symlinks=False):
                stack.append(Path(entry.path))
                continue
            try:
                stat = entry.stat(follow_symlinks=False)
            except OSError:
                continue
            digest.update(f"{entry.path}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode())
    return digest.hexdigest()
