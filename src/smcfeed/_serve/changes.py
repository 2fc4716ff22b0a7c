"""Which public outputs changed, and when: on every swap of content and at every scheduled
instant (an embargo lifting, an age label turning over at local midnight).

:class:`ChangeTracker` subscribes to :attr:`ContentState.on_swap` and keeps its own schedule;
it tells its subscribers (WebSub pings, CDN purges) "these public outputs changed at T" as a
:class:`Change`: the feeds whose first page's bytes changed (worked out exactly, by rendering
the candidate feeds before and after) and the surrogate keys to purge. It works in a
background thread, never on a request's path, and only in the one worker that holds the
server's lock (:class:`Leadership`), so a change is announced once however many workers run.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import itertools
import logging
import os
import tempfile
import threading
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import IO

from .. import urls
from ..ages import next_turnover
from ..catalogue import Catalogue, FeedKey
from ..clock import Clock
from ..exceptions import SmcfeedError
from ..models import Article
from ..service import Request
from . import keys as _keys
from .outbound import Outbound
from .state import Snapshot

log = logging.getLogger("smcfeed")
_UNIQUE = itertools.count()
#: Longest sleep of the scheduler, so a clock that jumps is noticed.
_NAP = 30.0


@dataclass(frozen=True)
class Change:
    """Public outputs that changed at one instant."""

    #: When the outputs changed.
    at: datetime
    #: Absolute URLs of the public feeds whose (first page's) bytes changed, sorted.
    feeds: tuple[str, ...]
    #: Surrogate keys of every public response that may have changed.
    keys: frozenset[str]
    #: The site's WebSub hubs (from the content now served).
    hubs: tuple[str, ...]
    #: True for new content swapped in, False for a scheduled instant.
    swap: bool


Subscriber = Callable[[Change], None]


def _released(catalogue: Catalogue, after: datetime, until: datetime) -> list[Article]:
    """Articles whose embargo lifts in (``after``, ``until``]."""
    found = []
    for article in catalogue.articles:  # newest first: embargoed ones lead
        if article.published <= after:
            break
        if article.published <= until:
            found.append(article)
    return found


def _visible(catalogue: Catalogue, now: datetime) -> Iterable[Article]:
    return (a for a in catalogue.articles if a.published <= now)


def next_age_turnover(catalogue: Catalogue, now: datetime) -> datetime | None:
    """The first instant after ``now`` at which some visible item's age label changes."""
    site = catalogue.site
    zone, days = site.zone, site.age_label_after_days
    return min(
        (next_turnover(a.published, now, zone, days) for a in _visible(catalogue, now)),
        default=None,
    )


def _aged(catalogue: Catalogue, after: datetime, until: datetime) -> list[Article]:
    """Visible articles whose age label turns over in (``after``, ``until``]."""
    site = catalogue.site
    zone, days = site.zone, site.age_label_after_days
    return [
        a
        for a in _visible(catalogue, after)
        if next_turnover(a.published, after, zone, days) <= until
    ]


def all_feeds(catalogue: Catalogue) -> set[FeedKey]:
    """Every feed with an article (embargoed included) and every language's main feed."""
    return {*catalogue.feed_keys(), *(FeedKey(lang) for lang in catalogue.site.languages)}


@dataclass
class _Candidates:
    """What may have changed: feeds to compare and keys to purge."""

    feeds: set[FeedKey]
    keys: set[str]
    #: Feeds known to have changed without rendering them (an age label on the first page).
    certain: set[FeedKey] = field(default_factory=set)

    def entered_or_left(self, catalogue: Catalogue, article: Article, now: datetime) -> None:
        """``article`` appeared in or left its feeds: their pages shift (an embargoed one
        shows nowhere yet, so it changes nothing now)."""
        if article.published > now:
            return
        feeds = _keys.feeds_of(article)
        self.feeds.update(feeds)
        self.keys.update(_keys.feed_key(f) for f in feeds)
        self.keys.add(_keys.article_key(article))
        self.translations(catalogue, article, now)

    def edited(self, catalogue: Catalogue, article: Article, now: datetime) -> None:
        """``article``'s text changed where it stands: only feeds showing it on their first
        page (the one WebSub subscribers follow) can have changed; its key purges the rest."""
        if article.published > now:
            return
        self.feeds.update(_on_first_page(catalogue, article, now))
        self.keys.add(_keys.article_key(article))
        self.translations(catalogue, article, now)

    def aged(self, catalogue: Catalogue, article: Article, now: datetime) -> None:
        """``article``'s age label turned over: every format of every feed showing it on its
        first page shows the label, so those changed (no need to render hundreds of feeds
        at a midnight); its key purges the other pages."""
        self.certain.update(_on_first_page(catalogue, article, now))
        self.keys.add(_keys.article_key(article))

    def translations(self, catalogue: Catalogue, article: Article, now: datetime) -> None:
        """Items of other languages link to ``article`` by title."""
        if article.published > now:
            return
        for other in catalogue.translations(article, now):
            self.feeds.update(_on_first_page(catalogue, other, now))
            self.keys.add(_keys.article_key(other))


def _on_first_page(catalogue: Catalogue, article: Article, now: datetime) -> list[FeedKey]:
    """The feeds whose first page shows ``article`` at ``now`` (old items are on few)."""
    size = catalogue.site.feed_size
    found = []
    for key in _keys.feeds_of(article):
        try:
            first = catalogue.items(key, now)[:size]
        except SmcfeedError:
            continue
        if any(item is article for item in first):
            found.append(key)
    return found


def _bodies(snapshot: Snapshot, key: FeedKey, now: datetime) -> dict[str, bytes]:
    """A feed's first page in every format; empty when there is no such feed."""
    try:
        return snapshot.service.feed_bodies(key, 1, now)
    except SmcfeedError:
        return {}


def _render(snapshot: Snapshot, request: Request, now: datetime) -> bytes | None:
    try:
        return snapshot.service.render(request, now).body
    except SmcfeedError:
        return None


def _compare(
    old: Snapshot, old_at: datetime, new: Snapshot, new_at: datetime, found: _Candidates
) -> Change:
    """Render the candidates before and after: the feeds whose bytes differ changed.

    A feed links to the same feed in the other languages while that one exists (has a
    public item): a feed that appears or vanishes also changes its other-language twins.
    """
    root = new.catalogue.site.root
    languages = [*old.catalogue.site.languages, *new.catalogue.site.languages]
    feeds = [urls.url(root, urls.Feed(k, f.name)) for k in found.certain for f in urls.FORMATS]
    todo = sorted(found.feeds - found.certain)
    done = found.feeds | found.certain
    while todo:
        key = todo.pop()
        before, after = _bodies(old, key, old_at), _bodies(new, key, new_at)
        for fmt in urls.FORMATS:
            if before.get(fmt.name) != after.get(fmt.name):
                feeds.append(urls.url(root, urls.Feed(key, fmt.name)))
        if bool(before) == bool(after):
            continue
        for lang in dict.fromkeys(languages):
            twin = key._replace(lang=lang)
            found.keys.add(_keys.feed_key(twin))
            if twin not in done:
                done.add(twin)
                todo.append(twin)
    lists: list[urls.Route] = [urls.Index(), urls.Opml()]
    lists += [urls.Opml(f.name) for f in urls.FORMATS]
    for route in lists:
        if _render(old, Request(route), old_at) != _render(new, Request(route), new_at):
            found.keys.add(_keys.LISTS)
    return Change(
        at=new_at,
        feeds=tuple(sorted(set(feeds))),
        keys=frozenset(found.keys),
        hubs=tuple(new.catalogue.site.websub_hubs),
        swap=old is not new,
    )


def time_change(snapshot: Snapshot, after: datetime, until: datetime) -> Change:
    """What changed in ``snapshot``'s outputs between ``after`` and ``until``."""
    catalogue = snapshot.catalogue
    found = _Candidates(set(), set())
    for article in _released(catalogue, after, until):
        found.entered_or_left(catalogue, article, until)
    for article in _aged(catalogue, after, until):
        found.aged(catalogue, article, until)
    return _compare(snapshot, after, snapshot, until, found)


def swap_change(old: Snapshot, new: Snapshot, now: datetime) -> Change:
    """What changed in the outputs at ``now`` when ``new`` content replaced ``old``."""
    before, after = old.catalogue, new.catalogue
    found = _Candidates(set(), set())
    if (before.site, before.topics, before.experts) != (after.site, after.topics, after.experts):
        # Labels, names or settings every item may show: everything may have changed.
        found.feeds = all_feeds(before) | all_feeds(after)
        found.keys = {*before.site.languages, *after.site.languages, _keys.LISTS}
        return _compare(old, now, new, now, found)
    kept = {id(a) for a in after.articles}
    removed = {(a.lang, a.slug): a for a in before.articles if id(a) not in kept}
    kept = {id(a) for a in before.articles}
    for article in after.articles:
        if id(article) in kept:
            continue
        previous = removed.pop((article.lang, article.slug), None)
        if previous == article:  # read again, but the same
            continue
        if previous is not None and _place(previous) == _place(article):
            found.edited(after, article, now)
            found.translations(before, previous, now)
        else:
            found.entered_or_left(after, article, now)
            if previous is not None:
                found.entered_or_left(before, previous, now)
    for article in removed.values():
        found.entered_or_left(before, article, now)
    return _compare(old, now, new, now, found)


def _place(article: Article) -> tuple[datetime, tuple[FeedKey, ...]]:
    """Where an article stands: a change of either moves it between or within feeds."""
    return article.published, tuple(sorted(_keys.feeds_of(article)))


class Leadership:
    """One worker of a server announces changes: the one holding an exclusive lock on a file
    named after the server (workers of one server share its ``instance``). Another worker
    takes over when the holder exits, as the kernel drops its lock."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._file: IO[bytes] | None = None
        #: The process that took the lock (a forked child inherits the file, not the lead).
        self._pid = 0

    @classmethod
    def for_server(cls, content: Path, instance: str | None = None) -> Leadership:
        """The lock of the server ``instance`` serving ``content`` (default: a lock of this
        object's own, so an app made in-process leads on its own)."""
        instance = instance or f"pid-{os.getpid()}-{id(cls)}-{next(_UNIQUE)}"
        # The folder as given: a worker started after a deploy re-pointed a link agrees.
        name = f"{os.path.abspath(content)}\0{instance}".encode()
        digest = hashlib.blake2b(name, digest_size=8).hexdigest()
        return cls(Path(tempfile.gettempdir()) / f"smcfeed-{digest}.lock")

    def held(self) -> bool:
        """Whether this process leads (taking the lock if it is free)."""
        if self._file is not None and self._pid != os.getpid():
            # Forked from the leader: the inherited descriptor shares its lock; let it go
            # here (the parent keeps it) and ask for one of our own.
            self._file.close()
            self._file = None
        if self._file is not None:
            return True
        handle = open(self.path, "ab")  # noqa: SIM115 - kept open while leading
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            handle.close()
            return False
        self._file, self._pid = handle, os.getpid()
        return True

    def release(self) -> None:
        """Give up leading (at shutdown); the holder removes the file."""
        if self._file is not None and self._pid == os.getpid():
            with contextlib.suppress(OSError):
                self.path.unlink()
            self._file.close()
            self._file = None


class ChangeTracker:
    """Turns swaps and the passing of time into :class:`Change` values for its subscribers.

    ``on_swap`` only queues (it runs on the reload path); the work happens in
    :meth:`run_due`, called by the background thread :meth:`start` runs, or by a test that
    moves a fixed clock. ``enabled`` says whether anyone wants the changes of a snapshot
    (hubs set, or purge endpoints); when not, nothing is rendered.
    """

    def __init__(
        self,
        clock: Clock,
        subscribers: Sequence[Subscriber],
        leadership: Leadership | None = None,
        enabled: Callable[[Snapshot], bool] = lambda snapshot: True,
        outbound: Outbound | None = None,
    ) -> None:
        self.clock = clock
        self.outbound = outbound
        self.subscribers = list(subscribers)
        self.leadership = leadership
        self.enabled = enabled
        self._queue: deque[tuple[Snapshot, datetime]] = deque()
        self._snapshot: Snapshot | None = None
        self._seen: datetime | None = None
        self._next_age: datetime | None = None
        self._age_for: datetime | None = None
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        #: The process that made the tracker announces; a worker forked from it does not.
        self._home = os.getpid()
        #: Held while working out changes, so a worker is never forked from the middle of it
        #: (set by the forking server to its content state's fork lock).
        self.fork_lock: contextlib.AbstractContextManager[object] = contextlib.nullcontext()

    def on_swap(self, old: Snapshot | None, new: Snapshot) -> None:
        """ContentState's hook: note the swap, work it out off the reload path."""
        if os.getpid() != self._home:
            return  # a forked worker announces nothing: it must not keep the snapshots either
        self._queue.append((new, new.loaded_at))
        self._wake.set()

    def next_change(self) -> datetime | None:
        """The next scheduled instant at which the served outputs change (None in a worker
        that does not announce changes: it has nothing to wake up for)."""
        snapshot, seen = self._snapshot, self._seen
        if snapshot is None or seen is None or not self._leading(snapshot):
            return None
        if self._age_for != seen:  # one pass over the articles per instant, not per call
            self._next_age, self._age_for = next_age_turnover(snapshot.catalogue, seen), seen
        release = snapshot.catalogue.next_release(seen)
        return min((t for t in (release, self._next_age) if t is not None), default=None)

    def run_due(self, now: datetime | None = None) -> list[Change]:
        """Work out every change up to ``now`` (queued swaps, then scheduled instants) and
        hand each to the subscribers; returns them."""
        with self._lock:
            now = self.clock() if now is None else now
            changes: list[Change] = []
            while self._queue:
                snapshot, at = self._queue.popleft()
                changes += self._advance(min(at, now))
                changes += self._swap(snapshot, at)
            changes += self._advance(now)
            changes = [c for c in changes if c.feeds or c.keys]
        for change in changes:
            for subscriber in self.subscribers:
                try:
                    subscriber(change)
                except Exception:  # a subscriber's bug must not stop the schedule
                    log.exception("change subscriber failed")
        return changes

    def _leading(self, snapshot: Snapshot) -> bool:
        if not self.enabled(snapshot):
            return False
        return self.leadership is None or self.leadership.held()

    def _swap(self, new: Snapshot, at: datetime) -> list[Change]:
        old, seen = self._snapshot, self._seen
        self._snapshot, self._seen = new, max(at, seen) if seen else at
        self._age_for = None
        if old is None or not self._leading(new):
            return []
        return [swap_change(old, new, self._seen)]

    def _advance(self, now: datetime) -> list[Change]:
        """Changes of the current snapshot's outputs from the last instant seen to ``now``."""
        snapshot, seen = self._snapshot, self._seen
        if snapshot is None or seen is None or now <= seen:
            return []
        if not self._leading(snapshot):
            self._seen = now
            return []
        upcoming = self.next_change()
        if upcoming is None or upcoming > now:
            return []
        self._seen = now
        return [time_change(snapshot, seen, now)]

    # --- the background thread ------------------------------------------------------------

    def start(self) -> None:
        """Run :meth:`run_due` in a background thread at each scheduled instant and swap."""
        if os.getpid() != self._home:
            return  # a forked worker: the process that forked it announces
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="smcfeed-changes", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
        if self.leadership is not None:
            self.leadership.release()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                with self.fork_lock:
                    self.run_due()
            except Exception:
                log.exception("working out changed outputs failed")
            upcoming = self.next_change()
            wait = _NAP
            if upcoming is not None:
                wait = min(_NAP, max(0.0, (upcoming - self.clock()).total_seconds()) + 0.001)
            self._wake.wait(wait)
            self._wake.clear()

    def close(self, grace: float = 2.0) -> None:
        """Stop the schedule, give requests under way ``grace`` seconds, stop sending."""
        if os.getpid() != self._home:
            return
        self.stop()
        if self.outbound is not None:
            self.outbound.drain(grace)
            self.outbound.stop()
