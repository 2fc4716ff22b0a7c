"""``smcfeed build``: every public output written as files, byte-identical to the server's.

The export asks the same service and the same response class as the server, so bodies,
compressed bodies and ETags cannot differ. Files go to ``OUT/public`` (what a web server or an
object store serves) with ``.gz`` and ``.br`` siblings; ``OUT/nginx`` gets a configuration
that serves them with the server's types and ETags. A new export is written beside the old
one and swapped in whole, so a server never sees half of one and removed outputs disappear.
"""

from __future__ import annotations

import os
import shutil
import sys
import time
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TextIO

from .. import urls
from .._serve.responses import CachedResponse
from ..catalogue import Catalogue
from ..service import Request, Smcfeed
from . import nginx

#: Marks a folder as an export, so a rebuild may replace it (and nothing else).
MARKER = ".smcfeed-export"
#: The codings written beside each file, with their file suffixes.
SIBLINGS = {"gzip": ".gz", "br": ".br"}


@dataclass(frozen=True)
class File:
    """One output as written: where it lives and what the server would send with it."""

    #: The output's URL path (``/es/rss.xml``).
    path: str
    #: Its file under ``public/``, relative (``es/rss.xml``, ``es/articles/x/index.html``).
    file: str
    #: Media type without parameters.
    media_type: str
    #: The server's strong ETag of the identity body, without quotes or coding suffix.
    etag: str
    #: When the output last changed (the file's modification time, nginx's Last-Modified).
    last_modified: datetime
    size: int


@dataclass
class Export:
    """What a build wrote."""

    out: Path
    files: list[File] = field(default_factory=list)
    #: The soonest instant an output changes (an embargo lifting, an age label turning over).
    next_change: datetime | None = None
    #: Bytes written, all codings.
    written: int = 0
    #: The site's embargo grid: public responses are fresh up to its next line.
    grid_minutes: int = 5

    @property
    def public(self) -> Path:
        return self.out / "public"


def file_for(path: str) -> str:
    """The file an output's path is kept in: itself, or ``index.html`` in a folder named after
    it when its last segment has no extension (``/`` and HTML pages), so that ``/a`` and
    ``/a/b`` can both exist on a file system."""
    last = path.rpartition("/")[2]
    if "." in last:
        return path.lstrip("/")
    return f"{path.strip('/')}/index.html".lstrip("/")


class Progress:
    """One updating line on a terminal; silent when stderr is not one."""

    def __init__(self, total: int, stream: TextIO | None = None) -> None:
        self.total = total
        self.stream = stream if stream is not None else sys.stderr
        self.live = self.stream.isatty()
        self.done = 0
        self._shown = 0.0

    def advance(self) -> None:
        self.done += 1
        if not self.live:
            return
        now = time.monotonic()
        if now - self._shown >= 0.1 or self.done == self.total:
            self._shown = now
            width = 30
            filled = width * self.done // max(1, self.total)
            bar = "#" * filled + "-" * (width - filled)
            self.stream.write(f"\rbuilding [{bar}] {self.done}/{self.total} outputs")
            if self.done == self.total:
                self.stream.write("\n")
            self.stream.flush()


def build(
    catalogue: Catalogue,
    out: Path,
    now: datetime,
    *,
    max_age: int = 300,
    listen: str = "127.0.0.1:8080",
    brotli: bool | None = None,
    progress: Callable[[int], Progress] | None = None,
) -> Export:
    """Write every public output of ``catalogue`` at ``now`` under ``out`` (replaced whole).

    ``listen`` and ``brotli`` go into the nginx configuration (``brotli=None``: use Brotli when
    this machine's nginx has the module). Raises FileExistsError when ``out`` exists and is not
    an earlier export.
    """
    out = out.resolve()
    if out.exists() and not (out / MARKER).is_file():
        raise FileExistsError(f"{out} exists and is not an smcfeed export: not replacing it")
    staging = out.with_name(f".{out.name}.building-{os.getpid()}")
    shutil.rmtree(staging, ignore_errors=True)
    (staging / "public").mkdir(parents=True)
    export = Export(staging, grid_minutes=catalogue.site.embargo_grid_minutes)
    service = Smcfeed(catalogue)
    routes = list(urls.public_routes(catalogue, now))
    bar = (progress or Progress)(len(routes))
    expiries: list[datetime] = []
    # Rendering holds the GIL; zlib and Brotli release it, so compression and writes overlap.
    with ThreadPoolExecutor(max_workers=max(1, min(4, os.cpu_count() or 1))) as pool:
        pending: list[Future[int]] = []
        for route in routes:
            path = urls.path(route)
            response = CachedResponse(service.render(Request(route), now))
            output = response.output
            if output.expires is not None:
                expiries.append(output.expires)
            entry = File(
                path,
                file_for(path),
                output.media_type,
                response.etag,
                output.last_modified,
                len(output.body),
            )
            export.files.append(entry)
            pending.append(pool.submit(_write, export.public / entry.file, response))
            if len(pending) >= 64:
                export.written += sum(f.result() for f in pending)
                pending.clear()
            bar.advance()
        export.written += sum(f.result() for f in pending)
    export.next_change = min(expiries, default=None)
    nginx.write_config(export, max_age=max_age, listen=listen, brotli=brotli, now=now, final=out)
    (staging / MARKER).write_text(f"{now.isoformat()}\n")
    _swap(staging, out)
    export.out = out
    return export


def _write(target: Path, response: CachedResponse) -> int:
    """Write the identity body and its compressed siblings, dated when the output changed."""
    target.parent.mkdir(parents=True, exist_ok=True)
    stamp = response.output.last_modified.timestamp()
    written = 0
    for coding, suffix in (("identity", ""), *SIBLINGS.items()):
        body = response.body(coding)
        name = target.with_name(target.name + suffix)
        name.write_bytes(body)
        os.utime(name, (stamp, stamp))
        written += len(body)
    return written


def _swap(staging: Path, out: Path) -> None:
    """Put the new export where the old one was; the old one is removed after."""
    old = out.with_name(f".{out.name}.old-{os.getpid()}")
    if out.exists():
        out.rename(old)
    staging.rename(out)
    shutil.rmtree(old, ignore_errors=True)


def describe(export: Export, now: datetime) -> Iterable[str]:
    """The lines ``smcfeed build`` prints when done."""
    megabytes = export.written / 1e6
    yield (
        f"{len(export.files)} outputs written to {export.public}"
        f" ({megabytes:.1f} MB with .gz and .br)"
    )
    yield f"nginx configuration: {export.out / 'nginx' / 'nginx.conf'} (server block: site.conf)"
    if export.next_change is None:
        yield "nothing is scheduled to change: rebuild when the content changes"
    else:
        wait = export.next_change - now
        yield (
            f"next rebuild due at {export.next_change.isoformat()}"
            f" (in {_duration(wait.total_seconds())}): an embargo lifts or an age label turns"
            " over then; rebuild also whenever the content changes"
        )


def _duration(seconds: float) -> str:
    seconds = max(0, int(seconds))
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, seconds = divmod(rest, 60)
    if days:
        return f"{days} d {hours} h"
    if hours:
        return f"{hours} h {minutes} min"
    if minutes:
        return f"{minutes} min {seconds} s"
    return f"{seconds} s"
