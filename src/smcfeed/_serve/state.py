"""The content being served, swapped whole when new content has loaded without errors."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from .. import urls
from .._content.loader import LoadResult, ParseCache, load_content
from ..catalogue import Catalogue, FeedKey
from ..clock import Clock
from ..exceptions import ContentError
from ..service import Request, Smcfeed
from .responses import ResponseCache

log = logging.getLogger("smcfeed")
#: Seconds between writes of the parse cache (a write of 100,000 articles takes seconds).
SAVE_EVERY = 120.0


@dataclass(frozen=True)
class Snapshot:
    """One loaded catalogue with its service and response cache; never changed, only replaced."""

    catalogue: Catalogue
    service: Smcfeed
    cache: ResponseCache
    #: When this content was loaded.
    loaded_at: datetime

    def link_header(self, request: Request) -> str | None:
        """WebSub discovery (``rel="hub"`` and ``rel="self"``) for a public feed, when hubs are
        set; built from the canonical route only, never from what the client sent."""
        site = self.catalogue.site
        route = request.route
        if not site.websub_hubs or not isinstance(route, urls.Feed) or request.audience:
            return None
        self_url = urls.url(site.root, route)
        return ", ".join(
            [*(f'<{hub}>; rel="hub"' for hub in site.websub_hubs), f'<{self_url}>; rel="self"']
        )


def hot_requests(catalogue: Catalogue) -> Iterable[Request]:
    """What aggregators poll most: every language's main feeds, the OPML and the index."""
    yield Request(urls.Index())
    yield Request(urls.Opml())
    for lang in catalogue.site.languages:
        for fmt in urls.FORMATS:
            yield Request(urls.Feed(FeedKey(lang), fmt.name))


def build_snapshot(catalogue: Catalogue, now: datetime, warm: bool = True) -> Snapshot:
    """Build a snapshot; with ``warm``, render its hot responses before anyone can see it."""
    service = Smcfeed(catalogue)
    cache = ResponseCache(service)
    if warm:
        cache.warm(hot_requests(catalogue), now)
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

    #: Where parsed article files are kept across restarts (None: not kept).
    cache_file: Path | None = None
    #: Parsed article files, reused by reloads.
    parsed: ParseCache = field(default_factory=ParseCache)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _saved_at: float = -SAVE_EVERY

    def reload(self, changed: Iterable[Path] | None = None) -> bool:
        """Load the folder again; swap the new content in only if it has no errors.

        ``changed`` names the files a watcher saw change: only those are read again.
        On the first load, content with errors is still served (minus the broken files), so a
        broken file cannot keep the service from starting. Returns whether content was swapped.
        """
        with self._lock:
            return self._reload(changed)

    def _reload(self, changed: Iterable[Path] | None) -> bool:
        started = time.perf_counter()
        first = self.snapshot is None and not self.parsed.entries
        if first and self.cache_file is not None:
            self.parsed = ParseCache.load(self.cache_file)
        previous = self.snapshot.catalogue if self.snapshot else None
        result: LoadResult = load_content(
            self.root, self.base_url, self.parsed, changed, previous=previous
        )
        now = self.clock()
        self.last_load = now
        self.errors = result.errors
        for error in result.errors:
            log.error("%s", error)
        if result.unchanged:
            return False
        if result.catalogue is None or (result.errors and self.snapshot is not None):
            if self.snapshot is not None:
                log.error(
                    "content has errors: still serving the content loaded %s",
                    self.last_good_load.isoformat() if self.last_good_load else "never",
                )
            return False
        if self.snapshot is None:
            self.snapshot = build_snapshot(result.catalogue, now)
        else:
            # Swap first, then render the hot responses: an edit shows as soon as it can, and
            # a request in between renders the one response it asks for.
            snapshot = self.snapshot = build_snapshot(result.catalogue, now, warm=False)
            snapshot.cache.warm(hot_requests(result.catalogue), now)
        if not result.errors:
            self.last_good_load = now
        log.info(
            "content loaded: %d articles in %.2f s",
            len(result.catalogue),
            time.perf_counter() - started,
        )
        self._save_soon()
        return True

    def _save_soon(self) -> None:
        """Save the parse cache off the reload path, at most every SAVE_EVERY seconds; a
        stale cache costs only re-parsing, as each file's stamp is checked."""
        parsed = self.parsed
        if self.cache_file is None or not parsed.dirty:
            return
        if time.monotonic() - self._saved_at < SAVE_EVERY:
            return
        self._saved_at = time.monotonic()
        parsed.dirty = False
        copy = parsed.copy()
        threading.Thread(target=self._save_cache, args=(copy,), daemon=True).start()

    def _save_cache(self, cache: ParseCache) -> None:
        assert self.cache_file is not None
        try:
            cache.save(self.cache_file)
        except OSError as e:
            log.warning("cannot write the parse cache %s: %s", self.cache_file, e)
            self.parsed.dirty = True
