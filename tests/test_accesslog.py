"""The access log: Combined Log Format lines, buffered off the request path, written at least
every second and at shutdown, never more than one line per request."""

from __future__ import annotations

import asyncio
import logging
import os
import re
import threading
import time
import warnings
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.types import Message

from smcfeed._serve import accesslog
from smcfeed._serve.accesslog import AccessLog
from smcfeed._serve.tokens import short_id
from smcfeed.app import create_app
from smcfeed.clock import FixedClock

from ._support import NOW, SAMPLE

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

LINE = re.compile(
    r"^(?P<host>\S+) - - \[(?P<when>\d\d/\w{3}/\d{4}:\d\d:\d\d:\d\d [+-]\d{4})\] "
    r'"(?P<request>(?:[^"\\]|\\.)*)" (?P<status>\d{3}) (?P<size>\d+|-) '
    r'"(?P<referer>(?:[^"\\]|\\.)*)" "(?P<agent>(?:[^"\\]|\\.)*)"$'
)


class Lines(logging.Handler):
    """Collects the access log's lines, and says when a batch arrived."""

    def __init__(self) -> None:
        super().__init__()
        self.lines: list[str] = []
        self.batches = 0
        self.arrived = threading.Event()

    def emit(self, record: logging.LogRecord) -> None:
        self.lines += record.getMessage().split("\n")
        self.batches += 1
        self.arrived.set()


@pytest.fixture
def lines() -> Iterator[Lines]:
    logger = logging.getLogger("smcfeed.access")
    handler = Lines()
    level, propagate = logger.level, logger.propagate
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    try:
        yield handler
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
        logger.propagate = propagate


def _scope(path: str, **headers: str) -> dict[str, object]:
    route, _, query = path.partition("?")
    return {
        "type": "http",
        "method": "GET",
        "path": route,
        "raw_path": route.encode(),
        "query_string": query.encode(),
        "http_version": "1.1",
        "client": ("203.0.113.9", 5000),
        "headers": [(k.replace("_", "-").encode(), v.encode()) for k, v in headers.items()],
    }


def test_lines_are_combined_log_format_and_wait_for_a_flush(lines: Lines) -> None:
    access = AccessLog(interval=3600)
    access.record(
        _scope("/es/rss.xml?page=2", referer="https://r.example/", user_agent="UA/1"), 200, 512
    )
    access.record(_scope("/nope"), 404, 0)
    # Buffered: nothing is written on the request path.
    assert lines.lines == []
    access.flush()
    assert lines.batches == 1
    first, second = (LINE.match(line) for line in lines.lines)
    assert first and second
    assert first["host"] == "203.0.113.9"
    assert first["request"] == "GET /es/rss.xml?page=2 HTTP/1.1"
    assert (first["status"], first["size"]) == ("200", "512")
    assert (first["referer"], first["agent"]) == ("https://r.example/", "UA/1")
    assert (second["status"], second["size"], second["agent"]) == ("404", "-", "-")
    access.close()


def test_a_client_cannot_forge_or_split_lines(lines: Lines) -> None:
    access = AccessLog(interval=3600)
    forged = 'x" 200 1 "-" "-"\n1.2.3.4 - - [01/Jan/2000:00:00:00 +0000] "GET / HTTP/1.1'
    access.record(_scope("/", user_agent=forged, referer='a"b\\c'), 200, 1)
    access.close()
    assert len(lines.lines) == 1
    match = LINE.match(lines.lines[0])
    assert match, lines.lines[0]
    assert match["agent"].startswith('x\\" 200')
    assert match["referer"] == 'a\\"b\\\\c'


def test_percent_signs_in_a_request_are_written_as_sent(lines: Lines) -> None:
    """The batch goes to logging as its message: a client's "%s" or "%(x)s" is never taken
    for a format (which would fail, or print something else)."""
    access = AccessLog(interval=3600)
    access.record(_scope("/a%s%(x)s%%?q=100%", user_agent="agg %d %(name)s"), 200, 1)
    access.close()
    (line,) = lines.lines
    match = LINE.match(line)
    assert match, line
    assert (match["request"], match["agent"]) == (
        "GET /a%s%(x)s%%?q=100% HTTP/1.1",
        "agg %d %(name)s",
    )


def test_the_writer_writes_within_the_interval_without_being_asked(lines: Lines) -> None:
    access = AccessLog(interval=0.05)
    access.record(_scope("/es/atom.xml"), 200, 10)
    assert lines.arrived.wait(5), "the writer thread wrote nothing"
    assert len(lines.lines) == 1
    access.close()


def test_repeated_requests_share_their_parts_but_not_their_numbers(lines: Lines) -> None:
    access = AccessLog(interval=3600)
    for number in range(5):
        access.record(_scope("/es/rss.xml", user_agent="agg/1"), 200 + number, number)
    access.record(_scope("/es/rss.xml", user_agent="agg/2"), 304, 0)
    access.close()
    got = [LINE.match(line) for line in lines.lines]
    assert [(m["status"], m["size"], m["agent"]) for m in got] == [  # type: ignore[index]
        ("200", "-", "agg/1"),
        ("201", "1", "agg/1"),
        ("202", "2", "agg/1"),
        ("203", "3", "agg/1"),
        ("204", "4", "agg/1"),
        ("304", "-", "agg/2"),
    ]


def test_close_writes_everything_left_exactly_once(lines: Lines) -> None:
    access = AccessLog(interval=3600)
    for number in range(1000):
        access.record(_scope(f"/{number}"), 200, number)
    access.close()
    access.flush()
    assert len(lines.lines) == 1000
    assert [LINE.match(line)["request"] for line in lines.lines[:2]] == [  # type: ignore[index]
        "GET /0 HTTP/1.1",
        "GET /1 HTTP/1.1",
    ]


def test_a_forked_child_starts_with_an_empty_queue_and_its_own_writer(lines: Lines) -> None:
    access = AccessLog(interval=3600)
    access.record(_scope("/parent"), 200, 1)
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child reports through the pipe
        ok = access._thread is None and not access._pending
        access.record(_scope("/child"), 200, 1)
        ok = ok and access._thread is not None and access._thread.is_alive()
        os.write(write, b"1" if ok else b"0")
        os._exit(0)
    os.close(write)
    assert os.read(read, 1) == b"1"
    os.close(read)
    assert os.waitpid(pid, 0)[1] == 0
    access.close()
    assert [LINE.match(line)["request"] for line in lines.lines] == [  # type: ignore[index]
        "GET /parent HTTP/1.1"
    ]


def test_the_app_logs_every_request_once_and_flushes_at_shutdown(
    lines: Lines, tmp_path: Path
) -> None:
    access = AccessLog(interval=3600)
    app = create_app(SAMPLE, clock=FixedClock(NOW), cache_file=None, access_log=access)
    paths = ["/es/rss.xml", "/healthz", "/nothing", "/es/rss.xml?page=2", "/feed.xsl"]
    with TestClient(app) as client:
        statuses = [client.get(p, follow_redirects=False).status_code for p in paths]
        client.head("/en/atom.xml")
        assert lines.lines == []
    # The lifespan's shutdown wrote them.
    got = [LINE.match(line) for line in lines.lines]
    assert all(got), lines.lines
    assert [(m["request"].split()[1], int(m["status"])) for m in got] == [  # type: ignore[index]
        *zip(paths, statuses, strict=True),
        ("/en/atom.xml", 200),
    ]
    assert got[-1]["size"] == "-"  # type: ignore[index]


def test_the_output_responders_own_entries_carry_the_whole_request(lines: Lines) -> None:
    """Feeds are noted by the responder itself, from what it read of the request: the same
    line as any other request's, query, referer and agent included, for a 200 and a 304."""
    access = AccessLog(interval=3600)
    app = create_app(SAMPLE, clock=FixedClock(NOW), cache_file=None, access_log=access)
    said = {"referer": "https://news.example/a?b=1", "user-agent": "agg/1 (+https://agg.example)"}
    with TestClient(app) as client:
        first = client.get("/es/rss.xml?utm_source=x", headers=said)
        again = client.get(
            "/es/rss.xml?utm_source=x", headers={**said, "if-none-match": first.headers["etag"]}
        )
    assert (first.status_code, again.status_code) == (200, 304)
    got = [LINE.match(line) for line in lines.lines]
    assert all(got), lines.lines
    assert [
        (m["host"], m["request"], m["status"], m["size"], m["referer"], m["agent"])  # type: ignore[index]
        for m in got
    ] == [
        (
            "testclient",
            "GET /es/rss.xml?utm_source=x HTTP/1.1",
            status,
            size,
            said["referer"],
            said["user-agent"],
        )
        for status, size in (("200", first.headers["content-length"]), ("304", "-"))
    ]


def test_a_scope_without_the_optional_keys_is_still_logged(lines: Lines) -> None:
    """ASGI makes ``client``, ``raw_path`` and ``http_version`` optional (granian and uvicorn
    give them): a server that leaves them out still gets its answer and its line."""
    access = AccessLog(interval=3600)
    app = create_app(SAMPLE, clock=FixedClock(NOW), cache_file=None, access_log=access)
    sent: list[Message] = []

    async def receive() -> Message:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Message) -> None:
        sent.append(message)

    scope = {"type": "http", "method": "GET", "path": "/es/rss.xml", "query_string": b""}
    scope["headers"] = [(b"user-agent", b"bare/1")]
    asyncio.run(app(scope, receive, send))
    access.close()
    assert sent[0]["status"] == 200
    (line,) = lines.lines
    match = LINE.match(line)
    assert match, line
    assert (match["host"], match["request"], match["agent"]) == (
        "-",
        "GET /es/rss.xml HTTP/1.1",
        "bare/1",
    )


def test_equal_requests_share_one_entry_and_still_get_a_line_each(lines: Lines) -> None:
    """Under load the same client asks the same thing many times a second: the queue holds
    one shared tuple for those requests (not a tuple and its strings each), and each request
    still gets its own line."""
    access = AccessLog(interval=3600)
    app = create_app(SAMPLE, clock=FixedClock(NOW), cache_file=None, access_log=access)
    with TestClient(app) as client:
        client.get("/healthz")  # the first request starts the writer
        for _ in range(5):
            assert client.get("/es/rss.xml", headers={"user-agent": "agg/1"}).status_code == 200
        queued = list(access._pending)[1:]
        # One shared tuple per second (the five may straddle a second's start).
        assert len(queued) == 5, queued
        seconds = len({entry[0] for entry in queued})
        assert len({id(entry) for entry in queued}) == seconds
    feeds = lines.lines[1:]
    assert len(feeds) == 5 and len(set(feeds)) == seconds, lines.lines


def test_each_line_carries_the_second_its_request_was_answered_in(lines: Lines) -> None:
    """The writer thread keeps the current second (requests do not read the clock): a request
    answered after a second's start is stamped with the new second."""
    access = AccessLog(interval=3600)
    access.record(_scope("/first"), 200, 1)  # starts the writer
    before = time.time()
    time.sleep(int(before) + 1.2 - before)  # into the next second
    access.record(_scope("/second"), 200, 1)
    access.close()
    stamps = [
        datetime.strptime(LINE.match(line)["when"], "%d/%b/%Y:%H:%M:%S %z").timestamp()  # type: ignore[index]
        for line in lines.lines
    ]
    assert stamps == [int(before), int(before) + 1]


def test_a_log_used_again_after_close_waits_instead_of_spinning(lines: Lines) -> None:
    access = AccessLog(interval=3600)
    access.record(_scope("/before"), 200, 1)
    access.close()
    access.record(_scope("/after"), 200, 1)  # a request answered during shutdown
    assert access._thread is not None and not access._stop.is_set()
    access.close()
    assert [LINE.match(line)["request"] for line in lines.lines] == [  # type: ignore[index]
        "GET /before HTTP/1.1",
        "GET /after HTTP/1.1",
    ]


def test_a_new_line_after_a_pause_waits_at_most_a_quarter_second(lines: Lines) -> None:
    access = AccessLog()  # the default interval
    access.record(_scope("/busy"), 200, 1)
    assert lines.arrived.wait(5)
    time.sleep(1.2)  # idle
    lines.arrived.clear()
    access.record(_scope("/after-a-pause"), 200, 1)
    started = time.perf_counter()
    assert lines.arrived.wait(5)
    assert time.perf_counter() - started < 0.25 + 0.2  # the interval, and slack
    access.close()
    assert [LINE.match(line)["request"] for line in lines.lines] == [  # type: ignore[index]
        "GET /busy HTTP/1.1",
        "GET /after-a-pause HTTP/1.1",
    ]


@pytest.mark.parametrize(
    "path",
    [
        "/%70rivate/{t}/es/rss.xml",
        "/private%2F{t}/es/rss.xml",
        "/%2Fprivate/{t}/x",
        # Decoded, these are tokens with a space, tab, "?" or "#" in them (the server takes
        # everything up to the next slash): no part of the token may show.
        "/private/%20{t}/es/rss.xml",
        "/private/x%09{t}/es/rss.xml",
        "/private/x%3F{t}/es/rss.xml",
        "/private/x%23{t}/es/rss.xml",
        "/%70rivate/x%3F{t}/es/rss.xml",
    ],
)
def test_a_percent_encoded_private_path_never_shows_its_token(lines: Lines, path: str) -> None:
    """The server routes the decoded path, so ``/%70rivate/<token>`` reads the private feed:
    its line must not carry the token either (in the request or the referer)."""
    token = "iDxKgJ2hYufLsTOKYbEFAoLNLJ85d0-mMLyHzjhXhao"
    target = path.format(t=token)
    access = AccessLog(interval=3600)
    scope = _scope("/", referer="https://r.example" + target)
    scope["raw_path"] = target.encode()
    access.record(scope, 200, 1)
    access.close()
    (line,) = lines.lines
    assert token not in line and token[:8] not in line, line
    assert line.count("/private/id:") == 2, line  # shown decoded, with the short id


def test_a_token_mistyped_with_an_encoded_slash_keeps_the_rest_of_the_path(lines: Lines) -> None:
    """``/private/TOKEN%2Fes/rss.xml`` is routed as the token followed by ``/es/rss.xml``:
    the line shows that token's id, then the rest of the path."""
    token = "iDxKgJ2hYufLsTOKYbEFAoLNLJ85d0-mMLyHzjhXhao"
    access = AccessLog(interval=3600)
    scope = _scope("/")
    scope["raw_path"] = f"/private/{token}%2Fes/rss.xml".encode()
    access.record(scope, 404, 1)
    access.close()
    (line,) = lines.lines
    assert f'"GET /private/id:{short_id(token)}/es/rss.xml HTTP/1.1"' in line, line


def test_nothing_is_kept_while_the_access_logger_is_off(lines: Lines) -> None:
    """An operator's logging configuration may turn the access log below INFO: requests are
    still noted, and the tables that share them are emptied batch by batch all the same."""
    logging.getLogger("smcfeed.access").setLevel(logging.WARNING)
    access = AccessLog(interval=3600)
    for number in range(3 * 4096):
        access.record(_scope("/es/rss.xml", user_agent=f"agent {number}"), 200, 1)
        if number % 1000 == 999:
            access.flush()
    access.close()
    assert (len(access.seen), len(access._lines), len(access._pending)) == (0, 0, 0)
    assert lines.lines == []


def test_long_lines_are_not_kept_between_batches(lines: Lines) -> None:
    """A kept line's key holds its request's whole texts: lines of long requests are made
    each time instead, so hostile requests cannot fill memory with them."""
    access = AccessLog(interval=3600)
    for number in range(50):
        access.record(_scope("/a", user_agent=f"{number} " + "x" * 4000), 200, 1)
    access.record(_scope("/short", user_agent="agg/1"), 200, 1)
    access.close()
    assert len(lines.lines) == 51
    assert len(access._lines) == 1


def test_the_first_line_after_a_quiet_spell_has_its_own_second(
    lines: Lines, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No writer keeps the current second before the first request: that request's line is
    stamped with the second it was answered in, not the second the log was made in."""
    access = AccessLog(interval=3600)
    later = access.second + 7200
    monkeypatch.setattr(accesslog, "_now", lambda: float(later))
    access.record(_scope("/first"), 200, 1)
    access.close()
    (line,) = lines.lines
    when = datetime.strptime(LINE.match(line)["when"], "%d/%b/%Y:%H:%M:%S %z")  # type: ignore[index]
    assert when.timestamp() == later


@pytest.mark.parametrize(
    ("client", "shown"),
    [(('1.2.3.4" 200 9 "x', 1), r"1.2.3.4\"\x20200\x209\x20\"x"), (("", 1), "-")],
)
def test_the_client_field_cannot_forge_a_line_either(
    lines: Lines, client: tuple[str, int], shown: str
) -> None:
    """A client address comes from the server (or a proxy header it trusts): escaped like
    any text, and never empty."""
    access = AccessLog(interval=3600)
    scope = _scope("/")
    scope["client"] = client
    access.record(scope, 200, 1)
    access.close()
    (line,) = lines.lines
    match = LINE.match(line)
    assert match, line
    assert match["host"] == shown, line


def test_a_head_request_for_a_starlette_path_is_logged_without_a_size(lines: Lines) -> None:
    access = AccessLog(interval=3600)
    app = create_app(SAMPLE, clock=FixedClock(NOW), cache_file=None, access_log=access)
    with TestClient(app) as client:
        assert client.head("/healthz").status_code == 200
    (line,) = lines.lines
    assert LINE.match(line)["size"] == "-", line  # type: ignore[index]


def test_a_bug_on_a_private_path_is_logged_without_the_token(
    caplog: pytest.LogCaptureFixture,
) -> None:
    token = "iDxKgJ2hYufLsTOKYbEFAoLNLJ85d0-mMLyHzjhXhao"
    app = create_app(SAMPLE, clock=FixedClock(NOW), cache_file=None)

    async def broken(scope: object, receive: object, send: object) -> None:
        raise RuntimeError("a bug")

    app.outputs = broken  # type: ignore[assignment]
    with TestClient(app, raise_server_exceptions=False) as client:
        assert client.get(f"/private/{token}/es/rss.xml").status_code == 500
    (record,) = [r for r in caplog.records if r.name == "smcfeed" and r.exc_info]
    assert token not in record.getMessage() and "/private/id:" in record.getMessage()


def test_a_writer_started_while_another_stops_never_keeps_it_running(lines: Lines) -> None:
    """A request answered while ``close`` runs (the server shutting down) starts a new writer:
    the one being stopped still stops, at once, and every line is written once."""
    access = AccessLog(interval=3600)
    access.record(_scope("/before"), 200, 1)
    first, first_stop = access._thread, access._stop
    assert first is not None
    # What a note racing with close() does: the writer detached, then a new one started.
    access._thread = None
    access.record(_scope("/during"), 200, 1)  # noted straight into the queue
    access._start()
    first_stop.set()
    first.join(2)
    assert not first.is_alive()
    access.close()
    assert access._thread is None
    assert [LINE.match(line)["request"] for line in lines.lines] == [  # type: ignore[index]
        "GET /before HTTP/1.1",
        "GET /during HTTP/1.1",
    ]


_REQUESTS = [
    _scope("/es/rss.xml", user_agent="agg/1"),
    _scope("/es/rss.xml", user_agent="agg/2"),
    _scope("/en/atom.xml?page=2", referer="https://r.example/"),
]


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    steps=st.lists(
        st.one_of(
            st.tuples(st.just("request"), st.integers(0, len(_REQUESTS) - 1)),
            st.tuples(st.just("begin"), st.integers(0, len(_REQUESTS) - 1)),
            st.just(("end", 0)),
            st.just(("flush", 0)),
        ),
        max_size=30,
    )
)
def test_every_request_gets_its_own_line_whenever_batches_are_taken(
    lines: Lines, steps: list[tuple[str, int]]
) -> None:
    """A batch finds most lines by the identity of the entry its requests share. Requests
    interleave with the batches: one can take its shared entry just before a batch is taken
    and queue it just after (so the next batch has an entry it never shared), or queue an
    entry equal to one already there. Each request still gets exactly its own line, in the
    order the requests were answered."""
    lines.lines.clear()
    access = AccessLog(interval=3600)
    answered: list[accesslog.Entry] = []
    started: list[accesslog.Entry] = []
    try:
        for step, which in steps:
            if step == "request":
                scope = _REQUESTS[which]
                access.record(scope, 200, 10)
                answered.append(access._pending[-1])
            elif step == "begin":  # the entry is shared now, and queued at "end"
                access.record(_REQUESTS[which], 200, 10)
                started.append(access._pending.pop())
            elif step == "end" and started:
                entry = started.pop(0)
                access.note(entry)
                answered.append(entry)
            elif step == "flush":
                access.flush()
        for entry in started:
            access.note(entry)
            answered.append(entry)
    finally:
        access.close()
    assert lines.lines == [access._line(entry) for entry in answered]


def test_the_writer_keeps_running_after_a_batch_fails(
    lines: Lines, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """A batch that cannot be written (a bug in making a line) is logged; the writer goes on,
    and later requests get their lines (a dead writer left the queue to grow unbounded)."""
    access = AccessLog(interval=0.05)
    made = AccessLog._line

    def broken(self: AccessLog, entry: accesslog.Entry) -> str:
        if b"/broken" in entry[3]:
            raise RuntimeError("a bug")
        return made(self, entry)

    monkeypatch.setattr(AccessLog, "_line", broken)
    try:
        access.record(_scope("/broken"), 200, 1)
        deadline = time.monotonic() + 5
        while "the access log could not be written" not in caplog.text:
            assert time.monotonic() < deadline, caplog.text
            time.sleep(0.01)
        access.record(_scope("/after"), 200, 1)
        while not any("/after" in line for line in lines.lines):
            assert time.monotonic() < deadline, lines.lines
            time.sleep(0.01)
    finally:
        access.close()
