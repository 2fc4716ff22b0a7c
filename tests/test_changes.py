"""Which public outputs changed: the change tracker against an oracle that renders everything.

After any sequence of edits, new and removed articles and moves of the clock (embargoes
lifting, age labels turning over), the feeds the tracker reports are exactly those whose first
page's bytes changed, and every public response whose bytes changed carried a purged key.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    MultipleResults,
    RuleBasedStateMachine,
    consumes,
    initialize,
    invariant,
    multiple,
    rule,
)

from smcfeed import FixedClock, urls
from smcfeed._serve.changes import Change, ChangeTracker, Leadership, all_feeds
from smcfeed._serve.keys import surrogate_keys
from smcfeed._serve.state import ContentState, Snapshot
from smcfeed.catalogue import FeedKey
from smcfeed.exceptions import SmcfeedError
from smcfeed.service import Request

from ._support import NOW, SAMPLE
from .conftest import write_valid_content

TYPES = ("reaction", "expert-voice", "what-we-know", "guide", "briefing")
TOPICS = ("climate", "public-health", "space")
EXPERTS = ("ana-garcia", "john-smith", "lucia-perez")
#: heat-deaths is a translation pair of the starting content (a reaction, like index 0).
SLUGS = ("heat-deaths", "alpha", "beta")


def outputs(snapshot: Snapshot, now: datetime) -> dict[Request, bytes]:
    """Every public output at ``now``: each page of each feed, each article, index, OPML."""
    catalogue = snapshot.catalogue
    site = catalogue.site
    found: dict[Request, bytes] = {}
    requests: list[Request] = [Request(urls.Index()), Request(urls.Opml())]
    requests += [Request(urls.Opml(f.name)) for f in urls.FORMATS]
    keys = [FeedKey(lang) for lang in site.languages]
    for lang in site.languages:
        keys += [FeedKey(lang, "topics", t) for t in catalogue.topics]
        keys += [FeedKey(lang, "types", t) for t in site.types]
        keys += [FeedKey(lang, "experts", e) for e in catalogue.experts]
    for key in keys:
        for fmt in urls.FORMATS:
            for page in range(1, 100):
                request = Request(urls.Feed(key, fmt.name, page))
                try:
                    found[request] = snapshot.service.render(request, now).body
                except SmcfeedError:
                    break
                page_request = Request(request.route, html=True)  # its HTML page
                found[page_request] = snapshot.service.render(page_request, now).body
    requests += [
        Request(urls.Article(a.lang, a.slug, fmt))
        for a in catalogue.articles
        for fmt in ("json", "html")
    ]
    requests += [Request(urls.ArticleCard(a.lang, a.slug)) for a in catalogue.articles]
    requests += [Request(urls.Widget(key)) for key in keys]
    for request in requests:
        with contextlib.suppress(SmcfeedError):
            found[request] = snapshot.service.render(request, now).body
    return found


def _article(slug: str, lang: str, published: datetime, title: int, topics: list[str]) -> str:
    kind = TYPES[SLUGS.index(slug) % len(TYPES)]  # translations must share a type
    experts = EXPERTS[: 1 + title % 3]
    reactions = "".join(
        f"  - expert: {e}\n    conflicts: none\n    quote: Quote {title} by {e}.\n" for e in experts
    )
    return (
        f"---\ntype: {kind}\ntitle: Title {slug} {lang} {title}\n"
        f"published: {published.isoformat()}\ntopics: [{', '.join(topics)}]\n"
        f"summary: Summary {title}.\nreactions:\n{reactions}---\nBody {title}.\n"
    )


class Changes(RuleBasedStateMachine):
    """Edits and clock moves on a small content folder, each checked against the oracle."""

    files = Bundle("files")

    def __init__(self) -> None:
        super().__init__()
        self.folder = Path(tempfile.mkdtemp(prefix="smcfeed-changes-"))
        self.root = write_valid_content(self.folder / "content")
        self.clock = FixedClock(NOW)
        self.state = ContentState(self.root, self.clock)
        self.state.reload()
        self.changes: list[Change] = []
        self.tracker = ChangeTracker(self.clock, [self.changes.append])
        assert self.state.snapshot is not None
        self.tracker.on_swap(None, self.state.snapshot)
        self.state.on_swap.append(self.tracker.on_swap)
        self.before = outputs(self.state.snapshot, NOW)
        self.before_at = NOW
        self.before_snapshot = self.state.snapshot
        self.stepped = False

    def teardown(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)

    @initialize(target=files)
    def translated(self) -> MultipleResults[tuple[str, str]]:
        """The starting content's translation pair."""
        return multiple(("heat-deaths", "es"), ("heat-deaths", "en"))

    @rule(
        target=files,
        slug=st.sampled_from(SLUGS),
        lang=st.sampled_from(("es", "en")),
        hours=st.integers(-24 * 800, 24 * 4),
        title=st.integers(0, 5),
        topics=st.lists(st.sampled_from(TOPICS), min_size=1, max_size=2, unique=True),
    )
    def write(
        self, slug: str, lang: str, hours: int, title: int, topics: list[str]
    ) -> tuple[str, str]:
        """Add an article, or rewrite one (in place, moved in time, or into an embargo)."""
        published = (self.clock() + timedelta(hours=hours)).replace(minute=0, second=0)
        path = self.root / f"articles/{published.year}/{slug}.{lang}.md"
        moved = [old for old in self.root.glob(f"articles/*/{slug}.{lang}.md") if old != path]
        for old in moved:
            old.unlink()
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(_article(slug, lang, published, title, topics), encoding="utf-8")
        self.state.reload([*moved, path])
        self.stepped = True
        return slug, lang

    @rule(file=files, title=st.integers(0, 9))
    def retitle(self, file: tuple[str, str], title: int) -> None:
        """Edit an article in place: only its title changes."""
        slug, lang = file
        for path in self.root.glob(f"articles/*/{slug}.{lang}.md"):
            text = re.sub(r"(?m)^title: .*$", f"title: Retitled {slug} {title}", path.read_text())
            path.write_text(text, encoding="utf-8")
            self.state.reload([path])
        self.stepped = True

    @rule(file=consumes(files))
    def remove(self, file: tuple[str, str]) -> None:
        slug, lang = file
        gone = list(self.root.glob(f"articles/*/{slug}.{lang}.md"))
        for path in gone:
            path.unlink()
        self.state.reload(gone)
        self.stepped = True

    @rule(hours=st.one_of(st.integers(1, 30), st.integers(24 * 20, 24 * 200)))
    def wait(self, hours: int) -> None:
        """Let time pass: embargoes lift, age labels turn over at local midnight."""
        self.clock.advance(hours=hours)
        self.stepped = True

    @invariant()
    def exactly_the_changed_outputs(self) -> None:
        if not self.stepped:
            return
        self.stepped = False
        now, snapshot = self.clock(), self.state.snapshot
        assert snapshot is not None
        self.changes.clear()
        reported = self.tracker.run_due(now)
        assert reported == self.changes
        after = outputs(snapshot, now)
        before = self.before
        differ = {r for r in before.keys() | after.keys() if before.get(r) != after.get(r)}
        root = snapshot.catalogue.site.root
        expected = {
            urls.url(root, r.route)
            for r in differ
            if isinstance(r.route, urls.Feed) and r.route.page == 1 and not r.html
        }
        feeds = {url for change in reported for url in change.feeds}
        assert feeds == expected
        purged = {key for change in reported for key in change.keys}
        if not differ:
            assert not purged
        for request in differ & before.keys():
            old_keys = surrogate_keys(self.before_snapshot.catalogue, request, self.before_at)
            assert purged & set(old_keys), (urls.path(request.route), old_keys, purged)
        self.before, self.before_at, self.before_snapshot = after, now, snapshot


Changes.TestCase.settings = settings(
    max_examples=8,
    stateful_step_count=5,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
test_changes_are_exact = Changes.TestCase


# --- examples ---------------------------------------------------------------------------


@pytest.fixture
def tracked(make_content: object) -> Iterator[tuple[ContentState, FixedClock, list[Change]]]:
    root = make_content()  # type: ignore[operator]
    clock = FixedClock(NOW)
    state = ContentState(root, clock)
    state.reload()
    changes: list[Change] = []
    tracker = ChangeTracker(clock, [changes.append])
    assert state.snapshot is not None
    tracker.on_swap(None, state.snapshot)
    state.on_swap.append(tracker.on_swap)
    yield state, clock, changes
    tracker.close()


def test_an_edit_changes_the_feeds_of_its_article_and_its_translation(
    tracked: tuple[ContentState, FixedClock, list[Change]],
) -> None:
    state, clock, _ = tracked
    path = state.root / "articles/2024/heat-deaths.en.md"
    path.write_text(path.read_text().replace("Heat and mortality", "Heat, and mortality"))
    state.reload([path])
    tracker_changes = _run(state, clock)
    assert len(tracker_changes) == 1 and tracker_changes[0].swap
    feeds = tracker_changes[0].feeds
    base = "https://feeds.example.org"
    # The English items, and the Spanish ones that link to their translation by its title.
    for folder in (
        "/en",
        "/en/topics/climate",
        "/en/experts/ana-garcia",
        "/es",
        "/es/topics/climate",
    ):
        for name in ("rss.xml", "atom.xml", "feed.json"):
            assert f"{base}{folder}/{name}" in feeds
    assert f"{base}/es/topics/space/rss.xml" not in feeds
    assert f"{base}/en/types/what-we-know/rss.xml" not in feeds


def _run(state: ContentState, clock: FixedClock) -> list[Change]:
    tracker = next(h for h in state.on_swap).__self__  # type: ignore[attr-defined]
    assert isinstance(tracker, ChangeTracker)
    return tracker.run_due(clock())


def test_an_embargo_lifts_at_its_instant_and_not_before(
    tracked: tuple[ContentState, FixedClock, list[Change]],
) -> None:
    state, clock, _ = tracked
    lift = NOW + timedelta(hours=3)
    text = _article("alpha", "es", lift, 1, ["space"])
    path = state.root / f"articles/{lift.year}/alpha.es.md"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    state.reload([path])
    assert _run(state, clock) == []  # embargoed: nothing public changed
    tracker = next(h for h in state.on_swap).__self__  # type: ignore[attr-defined]
    assert tracker.next_change() == lift
    clock.set(lift - timedelta(microseconds=1))
    assert _run(state, clock) == []
    clock.set(lift)
    (change,) = _run(state, clock)
    assert change.at == lift and not change.swap
    assert "https://feeds.example.org/es/topics/space/atom.xml" in change.feeds
    assert "https://feeds.example.org/en/rss.xml" not in change.feeds
    assert {"f:es/topics/space", "f:es", "lists"} <= change.keys  # the OPML's date moves too
    assert "f:en" not in change.keys


def test_one_worker_leads_and_another_takes_over(tmp_path: Path) -> None:
    first = Leadership.for_server(tmp_path, "server-1")
    second = Leadership.for_server(tmp_path, "server-1")
    other_server = Leadership.for_server(tmp_path, "server-2")
    assert first.path == second.path != other_server.path
    try:
        assert first.held() and first.held()
        assert not second.held()
        assert other_server.held()
        first.release()
        assert second.held()
    finally:
        for lock in (first, second, other_server):
            lock.release()


def test_a_forked_worker_does_not_inherit_the_lead(tmp_path: Path) -> None:
    lock = Leadership.for_server(tmp_path, "server-1")
    try:
        assert lock.held()
        pid = os.fork()
        if pid == 0:  # the child: must not lead while the parent does
            os._exit(3 if lock.held() else 0)
        assert os.waitpid(pid, 0)[1] == 0
        assert lock.held()
    finally:
        lock.release()


def test_all_feeds_lists_main_feeds_of_every_language(valid_content: Path) -> None:
    state = ContentState(valid_content, FixedClock(NOW))
    state.reload()
    assert state.snapshot is not None
    assert {FeedKey("es"), FeedKey("en")} <= all_feeds(state.snapshot.catalogue)


def test_a_forked_worker_neither_announces_nor_keeps_snapshots(tmp_path: Path) -> None:
    """Workers forked from the process that loads the content reload on their own; their
    tracker must not queue those swaps (nobody would ever take them: the snapshots would pile
    up, one per edit)."""
    shutil.copytree(SAMPLE, tmp_path / "content")
    state = ContentState(tmp_path / "content", FixedClock(NOW))
    state.reload()
    assert state.snapshot is not None
    tracker = ChangeTracker(FixedClock(NOW), [])
    tracker.on_swap(None, state.snapshot)
    assert len(tracker._queue) == 1  # the process that made it queues
    pid = os.fork()
    if pid == 0:  # a worker
        tracker.on_swap(state.snapshot, state.snapshot)
        tracker.start()
        os._exit(0 if len(tracker._queue) == 1 and tracker._thread is None else 1)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
