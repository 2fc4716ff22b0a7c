"""The file watcher: reloads the content when files under its folder change.

It cannot die: a reload never raises (its failures are logged and reported by the content
state), and if the watch itself fails it is started again, and looks at every file once it
runs. Every look is taken once the watcher runs, never before: an edit made in between would
be seen by neither.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import os
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING

from .state import ContentState

if TYPE_CHECKING:
    from watchfiles import Change

log = logging.getLogger("smcfeed")


async def watch(
    state: ContentState, debounce: int = 100, step: int = 50, retry: float = 1.0
) -> None:
    """Reload when files under the content folder change and the edits have settled."""
    from watchfiles import awatch

    look: Callable[[ContentState], Awaitable[None]] | None = _catch_up
    while True:
        watched = leads_to(state.root)
        moved = False
        try:
            # The watcher says so each second it has seen nothing: its first word, whatever it
            # is, comes once it is running, so the look taken then leaves no edit unseen (an
            # edit from then on is reported; one made before is found by the look).
            changes_seen = awatch(
                state.root,
                **watch_options(debounce, step, retry),  # type: ignore[arg-type]
            )
            async with contextlib.aclosing(changes_seen):
                async for changes in changes_seen:
                    if look is not None:
                        await look(state)
                        look = None
                    if elsewhere(state, watched):
                        moved = True  # a release swapped in: watch where the folder leads now
                        break
                    paths = content_changes(changes)
                    if paths:
                        log.info("content changed (%d file(s)); reloading", len(paths))
                        await asyncio.to_thread(state.reload, paths)
            if not moved:
                log.warning("the file watcher stopped; starting it again")
        except asyncio.CancelledError:
            raise
        except FileNotFoundError:
            log.warning("the content folder %s is missing; looking again", state.root)
        except Exception:
            log.exception("the file watcher failed; starting it again")
        if moved:
            log.info("the content folder now leads to %s: reloading", leads_to(state.root))
        else:
            await asyncio.sleep(retry)
        # Whatever changed while nothing watched (or in the folder now led to): every file is
        # looked at now (so edits show even while no watcher can start: inotify's limits
        # reached), and again once the new watcher runs.
        await _look_at_every_file(state)
        look = _look_at_every_file


def watch_options(debounce: int = 100, step: int = 50, retry: float = 1.0) -> dict[str, object]:
    """How both watchers (this one, and the serving process's in ``workers.py``) run
    watchfiles. It says so each second it has seen nothing, and it reports every change,
    ignored files' too (its default filter is applied afterwards, by ``content_changes``):
    filtered in watchfiles, a stream of changes to ignored files (an editor's swap file, a
    ``git fetch``) kept it from saying anything at all, so neither the look once the watcher
    runs nor the check for a release swapped in behind a link was ever taken, and a swapped
    release's embargo times were not followed."""
    return {
        "debounce": debounce,
        "step": step,
        "recursive": True,
        "yield_on_timeout": True,
        "rust_timeout": max(1, int(retry * 1000)),
        "watch_filter": None,
    }


def content_changes(changes: set[tuple[Change, str]]) -> list[Path]:
    """The changed paths that may be content: not those watchfiles' default filter ignores
    (version control, editors' swap and backup files, caches)."""
    ignored = _default_filter()
    return [Path(path) for change, path in changes if ignored(change, path)]


@functools.cache
def _default_filter() -> Callable[[Change, str], bool]:
    from watchfiles import DefaultFilter

    return DefaultFilter()


def leads_to(root: Path) -> str:
    """The folder ``root`` leads to: itself, or where its symbolic links point now (a deploy
    that swaps releases re-points a link; the watcher then follows)."""
    return os.path.realpath(root)


def elsewhere(state: ContentState, watched: str) -> bool:
    """Whether the folder now leads elsewhere than where the watcher watches, or than where
    the last look at every file read it (a worker forked while a release was swapped in
    holds content read from the old one, whatever its watcher found at start)."""
    now = leads_to(state.root)
    return now != watched or now != state.looked_at


async def _look_at_every_file(state: ContentState) -> None:
    await asyncio.to_thread(state.reload)


async def _catch_up(state: ContentState) -> None:
    """The first look, once the watcher runs, in case a file changed between the load and
    then: every file (unchanged ones are not parsed again), or, in a worker forked from a
    process that took that look already, what changed since that look began."""
    if state.catch_up:
        if await asyncio.to_thread(state.reload):
            log.info("content changed while starting: reloaded")
    elif state.forked_at is not None:
        paths: list[Path] = await asyncio.to_thread(changed_since, state.root, state.forked_at)
        if paths:
            swapped: bool = await asyncio.to_thread(state.reload, paths)
            if swapped:
                log.info("content changed while the workers started: reloaded")


#: Slack for file systems whose times are coarse or a little behind the wall clock.
_SLACK_NS = 2_000_000_000


def changed_since(root: Path, instant: float) -> list[Path]:
    """Files and folders under ``root`` modified at or after ``instant`` (a folder's time moves
    when an entry is added, removed or renamed). Only ``stat``: nothing loaded is touched, so
    the pages a forked worker shares stay shared."""
    threshold = int(instant * 1e9) - _SLACK_NS
    found: list[Path] = []
    stack = [root]
    while stack:
        folder = stack.pop()
        try:
            if folder.stat().st_mtime_ns >= threshold:
                found.append(folder)
            entries = list(os.scandir(folder))
        except OSError:
            continue
        for entry in entries:
            try:
                if entry.is_dir(follow_symlinks=False):
                    stack.append(Path(entry.path))
                elif entry.stat(follow_symlinks=False).st_mtime_ns >= threshold:
                    found.append(Path(entry.path))
            except OSError:
                continue
    return found
