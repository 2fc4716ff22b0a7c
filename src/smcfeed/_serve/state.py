"""The content being served, swapped whole when new content has loaded without errors."""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from .. import urls
from .._content.loader import LoadResult, load_content
from .._content.parallel import DigestsAhead
from .._content.parsecache import ParseCache
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


#: Parse caches from this size (bytes; 100,000 articles make about 300 MB) are checked
#: against the files' digests worked out in another process while the cache loads.
DIGESTS_AHEAD_FROM = 5_000_000


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def warm(snapshot: Snapshot, now: datetime) -> list[ContentError]:
    """Render ``snapshot``'s hot responses; return one error per output that fails."""
    failures = []
    for request in hot_requests(snapshot.catalogue):
        try:
            snapshot.cache.warm([request], now)
        except Exception as e:
            path = urls.path(request.route)
            log.exception("cannot render %s", path)
            failures.append(
                ContentError(path, None, f"cannot be rendered ({type(e).__name__}: {e})")
            )
    return failures


def _within(folder: Path, root: Path, path: Path) -> Path:
    """``path``, reported under ``root``, in ``folder`` (where ``root`` leads)."""
    return folder / path.relative_to(root) if path.is_relative_to(root) else path


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
    #: Called as ``hook(old, new)`` right after each swap (``old`` is None on the first
    #: load), on the reload path: hooks only note the swap and work elsewhere.
    on_swap: list[Callable[[Snapshot | None, Snapshot], None]] = field(default_factory=list)
    #: Save the parse cache from a forked child (set when workers share this process's
    #: memory: see _save_in_child).
    fork_saves: bool = False
    #: Whether a watcher looks at every file once more a second after it starts. Workers
    #: forked after the loading process took that look set it False and ``forked_at`` to the
    #: (wall-clock) instant of the fork: their watchers look only at what changed since.
    catch_up: bool = True
    forked_at: float | None = None
    _saver: threading.Thread | None = field(default=None, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _saved_at: float = -SAVE_EVERY
    #: Where the folder led at the last look at every file (``root`` itself, or where its
    #: links pointed then): a watcher that finds it leads elsewhere now looks again.
    looked_at: str | None = None
    #: Where the folder led when what is served was read (a release refused for its errors
    #: is looked at, not served).
    serving_from: str | None = None
    #: After a failed reload, the next one reads every file, not only those reported.
    _look_at_everything: bool = False

    @property
    def fork_lock(self) -> threading.Lock:
        """Held while a reload runs; a process forking workers takes it first, so no worker
        starts from half a reload."""
        return self._lock

    def reload(self, changed: Iterable[Path] | None = None) -> bool:
        """Load the folder again; swap the new content in only if it has no errors and its
        main outputs render.

        ``changed`` names the files a watcher saw change: only those are read again.
        On the first load, content with errors is still served (minus the broken files), so a
        broken file cannot keep the service from starting. Returns whether content was swapped.
        Never raises: a failure is logged and reported with the content's errors, the last
        good content stays, and the next reload looks at every file again.
        """
        with self._lock:
            try:
                if self._look_at_everything:
                    changed = None
                # Read from where the folder leads now, resolved once per load: a link a deploy
                # re-points mid-load never gives a load half of one release and half of another.
                target = os.path.realpath(self.root)
                swapped = self._reload(Path(target), changed)
                if changed is None:
                    self.looked_at = target
                if swapped or not self.errors:
                    self.serving_from = target
                self._look_at_everything = False
                return swapped
            except Exception as e:
                log.exception("reload failed")
                # Whatever it left half done, the next reload reads and judges every file.
                self._look_at_everything = True
                self.parsed.verdicts.clear()
                self.parsed.slugs.clear()
                self.parsed.fingerprint = None
                self.last_load = self.clock()
                self.errors = [
                    *self.errors,
                    ContentError(
                        str(self.root),
                        None,
                        f"reload failed ({type(e).__name__}: {e}); "
                        f"still serving the content loaded {self._good_load_text()}",
                    ),
                ]
                return False

    def _good_load_text(self) -> str:
        return self.last_good_load.isoformat() if self.last_good_load else "never"

    def _reload(self, folder: Path, changed: Iterable[Path] | None) -> bool:
        started = time.perf_counter()
        if changed is not None:
            # Reported under the folder as given (a watcher watches the link): read them in
            # the folder it leads to now.
            changed = [_within(folder, self.root, Path(path)) for path in changed]
        first = self.snapshot is None and not self.parsed.entries
        digests = None
        if first and self.cache_file is not None:
            if _size(self.cache_file) < DIGESTS_AHEAD_FROM:
                self.parsed = ParseCache.load(self.cache_file)
            else:
                # A large folder: the files' digests are worked out in another process while
                # this one loads the cache; a warm start needs both, and they take as long.
                ahead = DigestsAhead(folder)
                try:
                    self.parsed = ParseCache.load(self.cache_file)
                    digests = ahead.result() if self.parsed.entries else None
                finally:
                    ahead.close()
        previous = self.snapshot.catalogue if self.snapshot else None
        result: LoadResult = load_content(
            folder, self.base_url, self.parsed, changed, previous=previous, digests=digests
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
                    self._good_load_text(),
                )
            return False
        # Render the main outputs before anyone can see the new content: one that cannot be
        # rendered is reported, and is never swapped in in place of content that renders.
        snapshot = build_snapshot(result.catalogue, now, warm=False)
        failures = warm(snapshot, now)
        if failures:
            self.errors = [*result.errors, *failures]
            for failure in failures:
                log.error("%s", failure)
            if self.snapshot is not None:
                log.error(
                    "new content does not render: still serving the content loaded %s",
                    self._good_load_text(),
                )
                return False
        old, self.snapshot = self.snapshot, snapshot
        for hook in self.on_swap:
            hook(old, snapshot)
        if not self.errors:
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
        self._saver = threading.Thread(target=self._save_cache, args=(copy,), daemon=True)
        self._saver.start()

    def wait_saved(self) -> None:
        """Wait for a parse-cache save in progress, if any."""
        if self._saver is not None:
            self._saver.join()

    def _save_cache(self, cache: ParseCache) -> None:
        assert self.cache_file is not None
        if self.fork_saves:
            self._save_in_child(cache)
            return
        try:
            cache.save(self.cache_file)
        except OSError as e:
            log.warning("cannot write the parse cache %s: %s", self.cache_file, e)
            self.parsed.dirty = True

    def _save_in_child(self, cache: ParseCache) -> None:
        """Save from a forked child, as Redis saves: serialising touches every object (their
        reference counts), which in this process would copy every page it shares with the
        workers forked from it; in a child only the child's copies are made, and dropped."""
        assert self.cache_file is not None
        pid = os.fork()
        if pid == 0:  # pragma: no cover - the child only saves and leaves
            try:
                cache.save(self.cache_file)
            except BaseException:
                os._exit(1)
            os._exit(0)
        _, status = os.waitpid(pid, 0)
        if status != 0:
            log.warning("cannot write the parse cache %s (status %d)", self.cache_file, status)
            self.parsed.dirty = True
