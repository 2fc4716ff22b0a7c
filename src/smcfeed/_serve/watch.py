"""The file watcher: reloads the content when files under its folder change.

It cannot die: a reload never raises (its failures are logged and reported by the content
state), and if the watch itself fails it is started again, after a look at every file.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

from .state import ContentState

log = logging.getLogger("smcfeed")


async def watch(
    state: ContentState, debounce: int = 100, step: int = 50, retry: float = 1.0
) -> None:
    """Reload when files under the content folder change and the edits have settled."""
    from watchfiles import awatch

    catch_up = asyncio.create_task(_catch_up(state)) if state.catch_up else None
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
    """Look at every file once more after the watcher has started, in case one changed
    between the first load and then (unchanged files are not parsed again)."""
    await asyncio.sleep(delay)
    if await asyncio.to_thread(state.reload):
        log.info("content changed while starting: reloaded")
