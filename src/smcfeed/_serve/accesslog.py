"""Access log lines in the Combined Log Format, buffered as nginx buffers its log.

A request only notes one tuple, its entry: the second it was answered in (kept by the writer
thread, which wakes at each second's start, so no request reads the clock), the parts of its
line (client, method, path, query, HTTP version, referer, agent), status and size. Equal
entries are shared: a request notes the tuple already in :attr:`AccessLog.seen` that equals its
own (under load the same client asks the same thing many times a second), so the queue holds
references to a few tuples, not a tuple and seven strings per request, and the writer makes
each distinct entry's line once and finds every request's by the identity of the entry it
shares. A writer thread takes the queue four times a second and writes its lines as one batch,
and everything left at shutdown. Batches of 5 and 20 ms were tried: no gain, and many more
wake-ups. The output responder, which answers nearly every request, makes its entries itself
from what it has already read of the request.

A journalist's private-feed token never reaches the log: in the request line and the referer,
``/private/{token}`` is written as ``/private/id:{short id}``, the start of the token's hash
(what ``smcfeed tokens list`` shows), whether the token is registered or not.
"""

from __future__ import annotations

import atexit
import logging
import os
import re
import threading
import time
import weakref
from collections import deque
from collections.abc import Callable
from functools import partial
from itertools import repeat
from urllib.parse import unquote

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .tokens import short_id

log = logging.getLogger("smcfeed.access")

#: What a request leaves in the queue: the second it was answered in, then its line's parts
#: (client, method, path, query, HTTP version, referer, agent), status and size. Only
#: strings, bytes and numbers: equal tuples make equal lines.
Entry = tuple[int, str, str, bytes | str, bytes, str, bytes, bytes, int, int]
_now = time.time
#: Distinct lines kept between batches before the table starts over.
_KEPT_LINES = 4096
#: Longest path, referer and agent (together, in bytes) of a line kept for the next batches.
_KEPT_SIZE = 2048


class AccessLog:
    """Collects requests and writes their lines in batches through the ``smcfeed.access``
    logger (one record per batch, the lines joined), so a logging configuration still
    decides where they go."""

    def __init__(self, interval: float = 0.25) -> None:
        #: Longest time a line waits before it is written (also bounds the queue: a quarter
        #: of a second of requests).
        self.interval = interval
        self._pending: deque[Entry] = deque()
        #: Notes one answered request's entry: the queue's own ``append`` once the writer
        #: runs (no Python frame per request); until then, a function that starts the writer.
        self.note: Callable[[Entry], None] = self._first_note
        #: Set to stop (and wake) the running writer; each writer has its own, so a writer
        #: started while another is being stopped (a request answered during a close) never
        #: keeps the old one running.
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()
        self._write_lock = threading.Lock()
        #: Lines made so far, by their entry (mostly this second's repeated requests).
        self._lines: dict[Entry, str] = {}
        #: This batch's distinct entries, each by itself: a request notes the one already
        #: here equal to its own, so the queue holds a few shared tuples, not one per request.
        self.seen: dict[Entry, Entry] = {}
        #: The current second, kept by the writer thread (which wakes at every second's
        #: start), so a request reads one attribute instead of the clock.
        self.second = int(_now())
        #: The time stamp of each second seen lately.
        self._stamps: dict[int, str] = {}
        # A forked worker starts with no writer thread and nothing of its parent's queue.
        ref = weakref.ref(self)
        os.register_at_fork(after_in_child=partial(_call, ref, "_forked"))
        atexit.register(partial(_call, ref, "close"))

    def record(
        self,
        scope: Scope,
        status: int,
        size: int,
    ) -> None:
        """Note one answered request (the line is made later, off the request path). The
        output responder, which answers nearly every request, makes its entries itself, from
        what it has already read of the request, and hands them to :attr:`note`."""
        referer = agent = b"-"
        for name, value in scope["headers"]:
            if name == b"user-agent":
                agent = value
            elif name == b"referer":
                referer = value
        client = scope.get("client")
        entry = (
            self.second,
            client[0] if client else "-",
            scope["method"],
            scope.get("raw_path") or scope["path"],
            scope.get("query_string", b""),
            scope.get("http_version", "1.1"),
            referer,
            agent,
            status,
            size,
        )
        self.note(self.seen.setdefault(entry, entry))

    def _first_note(self, entry: Entry) -> None:
        """The first note (in this process, or after a close): starts the writer, then notes
        straight into the queue. The entry's second is read again: no writer kept it."""
        self.second = int(_now())
        self._pending.append((self.second, *entry[1:]))
        with self._start_lock:
            if self._thread is None:
                self._start()

    def _start(self) -> None:
        self.note = self._pending.append
        self.second = int(_now())
        self._stop = stop = threading.Event()
        thread = threading.Thread(
            target=self._run, args=(stop,), name="smcfeed-access-log", daemon=True
        )
        self._thread = thread
        thread.start()

    def _forked(self) -> None:
        self._pending.clear()
        self.seen = {}
        self.note = self._first_note
        self.second = int(_now())
        self._stop = threading.Event()
        self._write_lock = threading.Lock()
        self._start_lock = threading.Lock()
        self._thread = None

    def _run(self, stop: threading.Event) -> None:
        due = _now() + self.interval
        while not stop.is_set():
            now = _now()
            self.second = int(now)
            if now >= due:
                try:
                    self.flush()
                except Exception:  # the writer must not die: the queue would grow unbounded
                    logging.getLogger("smcfeed").exception("the access log could not be written")
                due = now + self.interval
            # Awake at the next second's start (to keep ``second``) or when the batch is due.
            stop.wait(max(0.0, min(due, self.second + 1) - now))
        self.second = int(_now())

    def flush(self) -> None:
        """Write every line waiting, as one batch."""
        with self._write_lock:
            # Taken one by one (deque's append and popleft are atomic; ``map`` calls popleft
            # in C): a request answered meanwhile waits for the next batch.
            queue = self._pending
            pending = list(map(deque.popleft, repeat(queue, len(queue))))
            # This batch's distinct entries (the requests share them); lines are kept across
            # batches, up to a bound (and only short ones: a key holds its request's texts).
            distinct, self.seen = self.seen, {}
            if len(self._lines) > _KEPT_LINES:
                self._lines = {}
            if not pending or not log.isEnabledFor(logging.INFO):
                return
            # Each distinct entry's line is found once; a request's, by the identity of the
            # entry it shares (``distinct`` and ``pending`` keep theirs alive, so no two have
            # the same id): no tuple is hashed or compared per request. An entry noted while
            # the batch was taken is not in ``distinct``, and is looked up by its value.
            # (Taken whole first, in one C call: a request that read ``seen`` just before
            # it was swapped may still add to ``distinct``.)
            by_id = {id(entry): self._line_of(entry) for entry in tuple(distinct.values())}
            lines = list(map(by_id.get, map(id, pending)))
            for i, line in enumerate(lines) if None in lines else ():
                if line is None:
                    lines[i] = self._line_of(pending[i])
            # The batch is the message itself: with no arguments, logging never %-formats it
            # (a client's "%" stays as it is), and the batch is not copied once more.
            log.info("\n".join(lines))  # type: ignore[arg-type]

    def _line_of(self, entry: Entry) -> str:
        """The line of ``entry``: made once, then kept for the next batches (if short)."""
        line = self._lines.get(entry)
        if line is None:
            line = self._line(entry)
            if len(entry[3]) + len(entry[6]) + len(entry[7]) <= _KEPT_SIZE:
                self._lines[entry] = line
        return line

    def close(self) -> None:
        """Stop the writer and write what is left (at shutdown)."""
        with self._start_lock:
            thread, self._thread = self._thread, None
            stop = self._stop
            self.note = self._first_note
        if thread is not None:
            stop.set()
            thread.join(5)
        self.flush()

    def _line(self, entry: Entry) -> str:
        second = entry[0]
        stamp = self._stamps.get(second)
        if stamp is None:
            if len(self._stamps) > 64:
                self._stamps = {}
            stamp = time.strftime("%d/%b/%Y:%H:%M:%S %z", time.localtime(second))
            self._stamps[second] = stamp
        before, between, after = _parts(*entry[1:8])
        return f"{before}{stamp}{between}{entry[8]} {entry[9] or '-'}{after}"


def _host(host: str) -> str:
    """The first field: it comes from the server (or a proxy header it trusts), and has no
    spaces: escaped like any client text, spaces too, and never empty."""
    return _clean(host).replace(" ", "\\x20") or "-"


def _parts(
    host: str,
    method: str,
    target: bytes | str,
    query: bytes,
    version: str,
    referer: bytes,
    agent: bytes,
) -> tuple[str, str, str]:
    """A line's text before the time, between the time and the status, and after the size."""
    path = target.decode("latin-1") if isinstance(target, bytes) else target
    text = query.decode("latin-1")
    if text and "?" not in path:
        path += "?" + text
    request = _clean(f"{method} {redact(path)} HTTP/{version}")
    shown = _clean(redact(referer.decode("latin-1")))
    return (
        f"{_host(host)} - - [",
        f'] "{request}" ',
        f' "{shown}" "{_clean(agent.decode("latin-1"))}"',
    )


#: A private feed's token in a URL as sent: up to the end of its path segment.
_PRIVATE = re.compile(r"/private/([^/?#]*)")
#: The same in a URL decoded whole (its prefix was percent-encoded): the server's own rule,
#: everything up to the next slash; tokens already written as ids are left alone.
_PRIVATE_DECODED = re.compile(r"/private/(?!id:)([^/]*)")


def redact(text: str) -> str:
    """``text`` with every private-feed token replaced by the short id of its hash (of the
    token as the server reads it: percent-decoded, up to the next slash). A path
    percent-encoded so that it decodes to a private feed (``/%70rivate/…``, ``/private%2F…``;
    the server routes the decoded path) is written decoded, so its token is found too."""
    if "/private/" in text:
        text = _PRIVATE.sub(_shown, text)
    if "%" in text and _PRIVATE_DECODED.search(decoded := unquote(text)):
        text = _PRIVATE_DECODED.sub(lambda m: f"/private/id:{short_id(m[1])}", decoded)
    return text


def _shown(match: re.Match[str]) -> str:
    """A token's path segment as sent (``%20abc``, ``abc%3Fdef``, ``abc%2Fes``) written as
    the id of the token the server reads from it, and what follows that token."""
    token, slash, rest = unquote(match[1]).partition("/")
    return f"/private/id:{short_id(token)}{slash}{rest}"


def _call(ref: weakref.ref[AccessLog], method: str) -> None:
    """Call ``method`` of the log ``ref`` points at, if it is still alive."""
    found = ref()
    if found is not None:
        getattr(found, method)()


#: Longest client text (request line, referer, user agent) written to a log line.
MAX_FIELD = 512


def _clean(text: str) -> str:
    """A client's text in a log line: quotes and control characters escaped, so one request
    is one line and cannot forge another, and cut at MAX_FIELD characters, so no request
    floods the log."""
    if len(text) <= MAX_FIELD and text.isprintable() and '"' not in text and "\\" not in text:
        return text
    out = []
    for char in text[:MAX_FIELD]:
        if char in '"\\':
            out.append("\\" + char)
        elif char.isprintable():
            out.append(char)
        else:
            out.append(f"\\x{ord(char):02x}")
    return "".join(out) + ("…" if len(text) > MAX_FIELD else "")


class AccessLogMiddleware:
    """Records requests the app does not record itself (``/healthz`` and other Starlette
    paths); the output responder records its own without wrapping ``send``."""

    def __init__(self, app: ASGIApp, access: AccessLog) -> None:
        self.app = app
        self.access = access

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        status = 500
        size = 0

        async def logged_send(message: Message) -> None:
            nonlocal status, size
            if message["type"] == "http.response.start":
                status = message["status"]
            elif message["type"] == "http.response.body" and scope["method"] != "HEAD":
                size += len(message.get("body", b""))  # a HEAD's body is never sent
            await send(message)

        try:
            await self.app(scope, receive, logged_send)
        finally:
            self.access.record(scope, status, size)
