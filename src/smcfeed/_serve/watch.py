"""The file watcher: reloads the content when files under its folder change.

It cannot die: a reload never raises (its failures are logged and reported by the content
state), and if the watch itself fails it is started again, after a look at every file.
"""

from __future__ import annotations

import asyncio
import logging
import os
from pathlib import Path

from .state import ContentState

log = logging.getLogger("smcfeed")


async def watch(
    state: ContentState, debounce: int = 100, step: int = 50, retry: float = 1.0
) -> None:
    """Reload when files under the content folder change and the edits have settled."""
    from watchfiles import awatch

    catch_up = asyncio.create_task(_catch_up(state))
    try:
        while True:
            try:
                async for changes in awatch(
                    state.root, debounce=debounce, step=step, recursive=True
                ):
                    log.info("content changed (%d file(s)); reloading", len(changes))
                    paths = [Path(path) for _, path in changes]
                    await asyncio.to_thread(state.reload, paths)
                log.warning("the file watcher stopped; starting it again")
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("the file watcher failed; starting it again")
            await asyncio.sleep(retry)
            # Whatever changed while nothing watched: every file is looked at.
            await asyncio.to_thread(state.reload)
    finally:
        if catch_up is not None:
            catch_up.cancel()


async def _catch_up(state: ContentState, delay: float = 1.0) -> None:
    """Look at files once more after the watcher has started, in case one changed between
    the load and then: every file (unchanged ones are not parsed again), or, in a worker
    forked from a process that took that look already, what changed since the fork."""
    await asyncio.sleep(delay)
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
