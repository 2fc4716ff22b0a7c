"""Parsing many article files at once, in worker processes."""

from __future__ import annotations

import contextlib
import logging
import os
import threading
from collections.abc import Iterable
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from multiprocessing import get_context
from pathlib import Path

from .parse import MAX_FILE_BYTES, ParsedArticle, digest_of, parse_article
from .parsecache import pack, unpack
from .walk import FILE, read_regular, walk

log = logging.getLogger("smcfeed")

#: Below this many files to parse, worker processes cost more than they save.
PARALLEL_FROM = 2000

#: A file to parse: its path, whether a walk found it as a regular file inside the folder,
#: and its bytes when they were read already.
Todo = tuple[Path, bool, bytes | None]


def _parse_packed(root: Path, path: Path, safe_root: Path, walked: bool) -> bytes:
    """Parse in a worker; the result travels as a parse-cache row."""
    return pack(parse_article(root, path, safe_root, walked))


def parse_many(root: Path, safe_root: Path, todo: list[Todo]) -> Iterable[ParsedArticle]:
    workers = min(os.cpu_count() or 1, 8)
    if len(todo) < PARALLEL_FROM or workers < 2:
        return [parse_article(root, path, safe_root, walked, data) for path, walked, data in todo]
    paths = [path for path, _, _ in todo]
    walked = [w for _, w, _ in todo]
    log.info("parsing %d article files in %d processes", len(paths), workers)
    # Small chunks keep each worker small: it holds one chunk of results at a time.
    chunk = max(1, min(500, len(paths) // (workers * 8)))
    # Reading many small files from a cold disk would leave the workers waiting on one
    # read at a time: ask the kernel to read them all ahead, in the background.
    regular = [path for path, w, _ in todo if w]
    threading.Thread(target=_read_ahead, args=(regular,), daemon=True).start()
    try:
        # spawn: fresh, small worker processes (a fork would count the server's pages
        # again in each), and safe from a reload's thread.
        with ProcessPoolExecutor(workers, mp_context=get_context("spawn")) as pool:
            roots, safe_roots = [root] * len(paths), [safe_root] * len(paths)
            packed = pool.map(_parse_packed, roots, paths, safe_roots, walked, chunksize=chunk)
            return [unpack(data) for data in packed]
    except (BrokenProcessPool, OSError) as e:
        log.warning("parsing in one process: worker processes failed (%s)", e)
        return [parse_article(root, path, safe_root, w, data) for path, w, data in todo]


def digest_files(root: Path) -> dict[str, bytes]:
    """The digest of every regular article file (path relative to ``root``): what a warm
    start checks the parse cache against."""
    digests: dict[str, bytes] = {}
    for rel, (full, kind) in walk(root / "articles", root).items():
        if kind == FILE:
            with contextlib.suppress(OSError):  # unreadable: parsing will say why
                digests[rel] = digest_of(read_regular(full, MAX_FILE_BYTES, walked=True))
    return digests


class DigestsAhead:
    """``digest_files`` run in a worker process while this one does something else (loads
    the parse cache): the two take about as long, and a warm start needs both."""

    def __init__(self, root: Path) -> None:
        self._pool: ProcessPoolExecutor | None = None
        try:
            self._pool = ProcessPoolExecutor(1, mp_context=get_context("spawn"))
            self._future: Future[dict[str, bytes]] | None = self._pool.submit(digest_files, root)
        except (OSError, RuntimeError) as e:
            log.warning("digests in this process: no worker process (%s)", e)
            self._future = None
        self.root = root

    def result(self) -> dict[str, bytes]:
        try:
            if self._future is not None:
                return self._future.result()
        except (BrokenProcessPool, OSError) as e:
            log.warning("digests in this process: the worker process failed (%s)", e)
        finally:
            self.close()
        return digest_files(self.root)

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None


def _read_ahead(paths: list[Path]) -> None:
    """Only regular files that a walk found (a FIFO's open would block)."""
    advise = getattr(os, "posix_fadvise", None)
    if advise is None:
        return
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
    for path in paths:
        try:
            fd = os.open(path, flags)
        except OSError:
            continue
        try:
            advise(fd, 0, 0, os.POSIX_FADV_WILLNEED)
        except OSError:
            pass
        finally:
            os.close(fd)
