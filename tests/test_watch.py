"""The watcher's second look: every file in a process that loaded the content, only what
changed since the fork in a worker forked after that look (so an edit made while the workers
started is not missed, and nothing loaded is touched)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import threading
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from smcfeed import FixedClock, urls
from smcfeed._serve.health import operator_view
from smcfeed._serve.state import ContentState
from smcfeed._serve.watch import _catch_up, changed_since, watch
from smcfeed._serve.workers import watch_and_reload
from smcfeed.service import Request

from ._support import NOW, SAMPLE, point_link, releases


def _title_in_feed(state: ContentState, text: str) -> bool:
    assert state.snapshot is not None
    body = state.snapshot.service.render(Request(urls.parse("/es/rss.xml")), NOW).body
    return text.encode() in body


async def _until(state: ContentState, text: str) -> bool:
    """Whether the served feed comes to show ``text`` within a few seconds."""
    deadline = time.monotonic() + 6
    while time.monotonic() < deadline:
        if _title_in_feed(state, text):
            return True
        await asyncio.sleep(0.05)
    return False


def test_changed_since_lists_files_and_folders_touched_after_an_instant(tmp_path: Path) -> None:
    root = tmp_path / "content"
    shutil.copytree(SAMPLE, root)
    old = time.time() - 3600
    for path in [root, *root.rglob("*")]:
        os.utime(path, (old, old))
    assert changed_since(root, time.time()) == []
    article = next((root / "articles" / "2026").glob("*.es.md"))
    article.write_text(article.read_text())
    (root / "articles" / "2025" / "gone.es.md").write_text("x")
    (root / "articles" / "2025" / "gone.es.md").unlink()
    found = set(changed_since(root, time.time() - 1))
    assert article in found and root / "articles" / "2025" in found
    assert root / "site.yaml" not in found


def test_a_worker_sees_an_edit_made_while_it_started(tmp_path: Path) -> None:
    root = tmp_path / "content"
    shutil.copytree(SAMPLE, root)
    state = ContentState(root, FixedClock(NOW))
    state.reload()
    # As in a worker forked after the loading process's second look, before its watcher ran.
    state.catch_up, state.forked_at = False, time.time()
    article = next((root / "articles" / "2026").glob("*.es.md"))
    article.write_text(article.read_text().replace("\ntitle: ", '\ntitle: "Visto tarde" #', 1))
    assert not _title_in_feed(state, "Visto tarde")
    asyncio.run(_catch_up(state))
    assert _title_in_feed(state, "Visto tarde")


class _Recorder:
    """Stands in for the content state: notes each look (a reload) in order."""

    def __init__(self, root: Path, events: list[str]) -> None:
        self.root, self.events = root, events
        self.catch_up, self.forked_at = True, None
        self.looked_at = os.path.realpath(root)

    def reload(self, changed: list[Path] | None = None) -> bool:
        self.events.append("look" if changed is None else f"reload {len(changed)}")
        return False


def test_a_restarted_watcher_looks_at_every_file_only_once_it_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A look taken before the new watcher runs would leave an edit made in between unseen
    by both."""
    import watchfiles

    events: list[str] = []
    starts = 0

    async def awatch(*_: object, **options: object) -> AsyncIterator[set[tuple[int, str]]]:
        nonlocal starts
        events.append(f"yield on timeout: {options.get('yield_on_timeout')}")
        starts += 1
        if starts == 1:
            events.append("watching (fails)")
            raise RuntimeError("inotify limit reached")
        events.append("watching")
        yield set()
        yield {(1, str(tmp_path / "a.md"))}
        await asyncio.sleep(3600)

    monkeypatch.setattr(watchfiles, "awatch", awatch)
    state = _Recorder(tmp_path, events)

    async def run() -> None:
        task = asyncio.create_task(watch(state, retry=0.01))  # type: ignore[arg-type]
        deadline = time.monotonic() + 5
        while "reload 1" not in events and time.monotonic() < deadline:
            await asyncio.sleep(0.01)
        task.cancel()

    asyncio.run(run())
    # A look at every file (which covers the first start's catch-up too) after the failure,
    # and one more once the new watcher runs.
    assert events == [
        "yield on timeout: True",
        "watching (fails)",
        "look",  # while no watcher runs
        "yield on timeout: True",
        "watching",
        "look",  # once the new one runs
        "reload 1",
    ]


def test_the_serving_process_looks_again_and_forks_only_once_its_watcher_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import watchfiles

    events: list[str] = []
    stop = threading.Event()

    def watch_files(*_: object, **options: object) -> Iterator[set[tuple[int, str]]]:
        events.append(f"yield on timeout: {options.get('yield_on_timeout')}")
        if options.get("stop_event") is not stop or len(events) > 10:
            stop.set()  # a watcher that cannot be stopped, or started again and again
        events.append("watching")
        yield set()
        yield set()
        yield {(1, str(tmp_path / "a.md"))}
        stop.set()

    monkeypatch.setattr(watchfiles, "watch", watch_files)
    state = _Recorder(tmp_path, events)
    before = time.time()
    watch_and_reload(state, lambda: events.append("fork"), stop)  # type: ignore[arg-type]
    assert events == ["yield on timeout: True", "watching", "look", "fork", "reload 1"]
    # The new workers look again at what changed since the look began.
    assert state.forked_at is not None and before <= state.forked_at <= time.time()


def test_with_no_watcher_at_all_every_try_still_looks_and_the_workers_are_forked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """inotify's limits reached: no watcher can start. Edits still show within a try (a
    second), as a look at every file follows each, and the workers are forked anew once."""
    import watchfiles

    events: list[str] = []
    stop = threading.Event()

    def watch_files(*_: object, **__: object) -> Iterator[set[tuple[int, str]]]:
        events.append("cannot watch")
        if events.count("cannot watch") == 3:
            stop.set()
        raise OSError(28, "inotify watch limit reached")
        yield set()  # a generator, as watchfiles' own

    async def awatch(*_: object, **__: object) -> AsyncIterator[set[tuple[int, str]]]:
        events.append("cannot watch")
        raise OSError(28, "inotify watch limit reached")
        yield set()

    monkeypatch.setattr(watchfiles, "watch", watch_files)
    monkeypatch.setattr(watchfiles, "awatch", awatch)
    monkeypatch.setattr(stop, "wait", lambda timeout: stop.is_set())  # no real second
    watch_and_reload(_Recorder(tmp_path, events), lambda: events.append("fork"), stop)  # type: ignore[arg-type]
    assert events == ["cannot watch", "look", "fork", "cannot watch", "look", "cannot watch"]

    events.clear()

    async def run() -> None:
        task = asyncio.create_task(watch(_Recorder(tmp_path, events), retry=0.01))  # type: ignore[arg-type]
        deadline = time.monotonic() + 5
        while events.count("look") < 3 and time.monotonic() < deadline:
            await asyncio.sleep(0.01)
        task.cancel()

    asyncio.run(run())
    assert events[:6] == ["cannot watch", "look"] * 3


def test_a_release_swapped_in_behind_a_link_is_followed(tmp_path: Path) -> None:
    """A deploy re-points the content folder's link at a new release: what is served follows
    within a second or two, and edits are then watched in the new release, not the old."""
    link, first, second = releases(tmp_path)
    state = ContentState(link, FixedClock(NOW))
    state.reload()

    async def run() -> None:
        task = asyncio.create_task(watch(state))
        try:
            await asyncio.sleep(1.5)  # the watcher runs
            assert not _title_in_feed(state, "Segunda entrega")
            assert state.looked_at == str(first)
            point_link(link, second)
            assert await _until(state, "Segunda entrega")
            assert state.looked_at == state.serving_from == str(second)
            assert operator_view(state, NOW, watching=True)["serving_from"] == str(second)
            # The old release is no longer watched; the new one is.
            old = next((first / "articles" / "2026").glob("*.es.md"))
            old.write_text(old.read_text().replace("\ntitle: ", '\ntitle: "Ya no" #', 1))
            new = next((second / "articles" / "2026").glob("*.es.md"))
            new.write_text(new.read_text().replace("Segunda entrega", "Tercera entrega"))
            assert await _until(state, "Tercera entrega")
            assert not _title_in_feed(state, "Ya no")
        finally:
            task.cancel()

    asyncio.run(run())


def test_a_worker_forked_as_a_release_is_swapped_in_follows_it(tmp_path: Path) -> None:
    """The worker holds what the main process read from the old release, but its watcher
    started once the link led to the new one; the new release's files keep their old times
    (cp -a, rsync -a, tar), so the look at what changed since the fork finds nothing."""
    link, _, second = releases(tmp_path)
    old = time.time() - 3600
    for path in [second, *second.rglob("*")]:
        os.utime(path, (old, old))
    state = ContentState(link, FixedClock(NOW))
    state.reload()  # in the main process, from the first release
    state.catch_up, state.forked_at = False, time.time()  # the fork
    point_link(link, second)  # the deploy, before the worker's watcher runs

    async def run() -> bool:
        task = asyncio.create_task(watch(state))
        try:
            deadline = time.monotonic() + 6
            while time.monotonic() < deadline:
                if _title_in_feed(state, "Segunda entrega"):
                    return True
                await asyncio.sleep(0.05)
            return False
        finally:
            task.cancel()

    assert asyncio.run(run())


def test_a_release_refused_for_its_errors_is_looked_at_not_served(tmp_path: Path) -> None:
    link, first, second = releases(tmp_path)
    (second / "articles/2026/roto.es.md").write_text("---\ntitle: [roto\n---\n")
    state = ContentState(link, FixedClock(NOW))
    state.reload()
    point_link(link, second)
    state.reload()
    assert state.errors and not _title_in_feed(state, "Segunda entrega")
    # Watched and looked at (no look again every second), but the first is what is served.
    assert state.looked_at == str(second) and state.serving_from == str(first)
    assert operator_view(state, NOW, watching=True)["serving_from"] == str(first)


@contextlib.contextmanager
def _churn(folder: Path) -> Iterator[None]:
    """Changes to files the watchers ignore, every tenth of a second (``git fetch`` in a
    checkout, an editor's swap file): they must not keep the watchers from their checks."""
    done = threading.Event()
    (folder / ".git").mkdir(exist_ok=True)

    def write() -> None:
        number = 0
        while not done.wait(0.1):
            number += 1
            (folder / ".git" / "FETCH_HEAD").write_text(str(number))
            (folder / ".notes.md.swp").write_text(str(number))

    thread = threading.Thread(target=write, daemon=True)
    thread.start()
    try:
        yield
    finally:
        done.set()
        thread.join()


def test_changes_to_ignored_files_never_keep_a_swapped_release_from_being_followed(
    tmp_path: Path,
) -> None:
    """watchfiles said nothing at all, not even its word each quiet second, while ignored
    files kept changing: the look once the watcher runs and the check for a swapped release
    waited for the churn to stop, and the old release's embargo times stayed in force."""
    link, first, second = releases(tmp_path)
    state = ContentState(link, FixedClock(NOW))
    state.reload()
    article = next((first / "articles" / "2026").glob("*.es.md"))

    async def run() -> None:
        task = asyncio.create_task(watch(state))
        try:
            # An edit while the watcher starts: the look once it runs finds it.
            article.write_text(article.read_text().replace("\ntitle: ", '\ntitle: "Visto" #', 1))
            assert await _until(state, "Visto")
            point_link(link, second)
            assert await _until(state, "Segunda entrega")
            assert state.looked_at == str(second)
        finally:
            task.cancel()

    with _churn(first):
        asyncio.run(run())


def test_the_serving_processs_watcher_is_not_kept_silent_by_ignored_files(tmp_path: Path) -> None:
    """The same in the process that forks the workers: its look and fork once its watcher
    runs, and its following of a swapped release (it announces changes and forks anew)."""
    link, first, second = releases(tmp_path)
    state = ContentState(link, FixedClock(NOW))
    state.reload()
    forks: list[float] = []
    stop = threading.Event()
    with _churn(first):
        thread = threading.Thread(
            target=watch_and_reload, args=(state, lambda: forks.append(time.time()), stop)
        )
        thread.start()
        try:
            deadline = time.monotonic() + 5
            while not forks and time.monotonic() < deadline:
                time.sleep(0.05)
            assert forks, "no look and no fork while ignored files changed"
            point_link(link, second)
            while state.looked_at != str(second) and time.monotonic() < deadline + 5:
                time.sleep(0.05)
            assert state.looked_at == str(second)
            assert _title_in_feed(state, "Segunda entrega")
        finally:
            stop.set()
            thread.join(10)
