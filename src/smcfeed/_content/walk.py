"""Finding and reading content files: only regular files are ever opened.

A named pipe under the content folder would block a reader forever, and a device file may
do anything when opened, so each entry's type is looked at (without following links) before
anything opens it, and again on the open file itself.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

#: Flags that keep an open from blocking (a FIFO swapped in) or taking a terminal.
_OPEN_FLAGS = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0)
_OPEN_FLAGS |= getattr(os, "O_CLOEXEC", 0)

#: What a walk found at a path: a regular file, a link (to be resolved and checked when
#: read), or a description of something that is not a file at all.
FILE = "file"
LINK = "link"


class NotRegular(OSError):
    """The path is not a regular file; ``kind`` says what it is."""

    def __init__(self, kind: str) -> None:
        super().__init__(kind)
        self.kind = kind


class TooLarge(OSError):
    def __init__(self, size: int) -> None:
        super().__init__(size)
        self.size = size


def kind_of(mode: int) -> str:
    """``file``, or what a non-regular file is, in words."""
    if stat.S_ISREG(mode):
        return FILE
    if stat.S_ISFIFO(mode):
        return "a named pipe (FIFO)"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISDIR(mode):
        return "a folder"
    return "not a regular file"


def read_regular(path: Path | str, limit: int, walked: bool = False) -> bytes:
    """The bytes of a regular file of at most ``limit`` bytes (links followed).

    Raises NotRegular without opening anything else, TooLarge, or OSError. ``walked``: a
    walk has just seen a regular file (not a link) there, so it is opened without another
    look first (and not through a link that took its place).
    """
    if walked:
        fd = os.open(path, _OPEN_FLAGS | getattr(os, "O_NOFOLLOW", 0))
    else:
        kind = kind_of(os.stat(path).st_mode)
        if kind != FILE:
            raise NotRegular(kind)
        fd = os.open(path, _OPEN_FLAGS)
    try:
        info = os.fstat(fd)
        # Swapped for something else between the look and the open.
        kind = kind_of(info.st_mode)
        if kind != FILE:
            raise NotRegular(kind)
        if info.st_size > limit:
            raise TooLarge(info.st_size)
        chunks = []
        left = limit + 1
        while left > 0:
            chunk = os.read(fd, min(left, max(info.st_size, 65536)))
            if not chunk:
                break
            chunks.append(chunk)
            left -= len(chunk)
        data = b"".join(chunks)
        if len(data) > limit:
            raise TooLarge(len(data))
        return data
    finally:
        os.close(fd)


def walk(folder: Path, root: Path) -> dict[str, tuple[str, str]]:
    """Every entry below ``folder`` that may be an article: its path relative to ``root``,
    its full path, and what it is (FILE, LINK or the words for a non-regular file). Hidden
    names are skipped; linked folders are listed, not entered, so they are reported rather
    than followed."""
    found: dict[str, tuple[str, str]] = {}
    skip = len(str(root)) + 1
    stack = [str(folder)]
    while stack:
        current = stack.pop()
        try:
            entries = list(os.scandir(current))
        except OSError:
            continue
        for entry in entries:
            name, full = entry.name, entry.path
            if name.startswith("."):
                continue
            try:
                if entry.is_dir(follow_symlinks=False):
                    if not name.endswith(".md"):
                        stack.append(full)
                        continue
                    kind = "a folder"
                elif entry.is_symlink():
                    kind = LINK
                elif entry.is_file(follow_symlinks=False):
                    kind = FILE
                else:
                    kind = kind_of(entry.stat(follow_symlinks=False).st_mode)
            except OSError:
                kind = LINK  # gone or unreadable: reading it will say which
            found[full[skip:].replace(os.sep, "/")] = (full, kind)
    return found


def kind_at(path: Path) -> str | None:
    """What is at ``path`` (not following a link: LINK), or None when nothing is."""
    try:
        mode = os.lstat(path).st_mode
    except OSError:
        return None
    return LINK if stat.S_ISLNK(mode) else kind_of(mode)
