"""Hostile requests against the real ASGI app as the servers run it (with the access log):
any path, query, method and header bytes get 200, 204, 304 or a 4xx in the one error shape,
never a 5xx, never a traceback, and the log lines stay one line each."""

from __future__ import annotations

import asyncio
import logging
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from smcfeed import FixedClock, create_app, urls
from smcfeed._serve import http as _http
from smcfeed._serve.accesslog import AccessLog

from ._support import NOW, SAMPLE

OVERFLOWING_DATE = b"Fri, 31 Dec 99999999999 23:59:59 GMT"


class Recorder(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


OPERATOR_TOKEN = "hostile-operator"
OPERATOR_AUTH = b"Bearer " + OPERATOR_TOKEN.encode()


@pytest.fixture(scope="module")
def app() -> Iterator[Any]:
    """The app as servers run it, access log on (written when ``call`` flushes it), with an
    operator token (requests may carry it: ``OPERATOR_AUTH``)."""
    access = AccessLog(interval=3600)
    yield create_app(
        SAMPLE, clock=FixedClock(NOW), access_log=access, operator_token=OPERATOR_TOKEN
    )
    access.close()


@pytest.fixture(scope="module")
def logs() -> Iterator[Recorder]:
    recorder = Recorder()
    for name in ("smcfeed", "smcfeed.access"):
        logging.getLogger(name).addHandler(recorder)
    logging.getLogger("smcfeed.access").setLevel(logging.INFO)
    yield recorder
    for name in ("smcfeed", "smcfeed.access"):
        logging.getLogger(name).removeHandler(recorder)


def call(
    app: Any, method: str, path: str, query: bytes, headers: list[tuple[bytes, bytes]]
) -> tuple[int, dict[bytes, bytes], bytes]:
    """One request through the ASGI interface, as a server hands it over."""
    messages: list[dict[str, Any]] = []
    scope = {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode("utf-8", "surrogatepass"),
        "query_string": query,
        "root_path": "",
        "headers": headers,
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
    }

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        messages.append(message)

    asyncio.run(app(scope, receive, send))
    if app.outputs.access is not None:
        app.outputs.access.flush()
    starts = [m for m in messages if m["type"] == "http.response.start"]
    assert len(starts) == 1, messages
    body = b"".join(m.get("body", b"") for m in messages if m["type"] == "http.response.body")
    return starts[0]["status"], dict(starts[0]["headers"]), body


def assert_answered_well(
    status: int,
    headers: dict[bytes, bytes],
    body: bytes,
    method: str,
    logs: Recorder,
    oembed_format: bool = False,
) -> None:
    """200, 204, 301, 304 or a 4xx in the one error shape; the one 5xx allowed is oEmbed's
    501 for a ``format`` it does not speak, which the oEmbed specification prescribes."""
    allowed = status in (200, 204, 301, 304) or 400 <= status < 500
    assert allowed or (status == 501 and oembed_format), (status, body[:300])
    assert b"Traceback" not in body
    problems = [r for r in logs.records if r.levelno >= logging.ERROR]
    assert not problems, problems[0].getMessage()
    # ``call`` flushes the log after each request: one record per request, and each request
    # is one line (the log writes a batch as lines joined by newlines), bounded.
    for record in logs.records:
        if record.name == "smcfeed.access":
            message = record.getMessage()
            assert "\n" not in message and "\r" not in message and len(message) < 4096
    logs.records.clear()
    if status >= 400 and method != "HEAD":
        error = orjson.loads(body)
        assert set(error) == {"error"} and error["error"]["status"] == status
        assert isinstance(error["error"]["message"], str)
        assert len(error["error"]["message"]) <= _http.MAX_MESSAGE
        assert headers[b"content-type"].startswith(b"application/json")


# -- the cases of the issue, one by one ------------------------------------------------------


def test_if_modified_since_past_any_datetime_is_ignored(app: Any, logs: Recorder) -> None:
    """Finding 3: this date was an uncaught OverflowError, a 500."""
    status, headers, body = call(
        app, "GET", "/es/rss.xml", b"", [(b"if-modified-since", OVERFLOWING_DATE)]
    )
    assert status == 200 and body.startswith(b"<?xml")
    assert_answered_well(status, headers, body, "GET", logs)


@pytest.mark.parametrize(
    "value",
    [
        b"Fri, 31 Dec 9999 23:59:59 GMT",
        b"Mon, 01 Jan 0001 00:00:00 GMT",
        b"Fri, 31 Dec 99999999999999999999999999 23:59:59 GMT",
        b"Fri, 31 Dec -1 23:59:59 GMT",
        b"Fri, 99 Foo 2020 99:99:99 GMT",
        b"Fri, 31 Dec 2020 23:59:59 +9999",
        b"Fri, 31 Dec 2020 23:59:59",
        b"0",
        b"",
        b"\xff\xfe\x00",
        b"Fri, 31 Dec 2020 23:59:59 GMT" * 2000,
    ],
)
def test_malformed_if_modified_since_sends_the_full_response(
    app: Any, logs: Recorder, value: bytes
) -> None:
    status, headers, body = call(app, "GET", "/en/atom.xml", b"", [(b"if-modified-since", value)])
    assert status in (200, 304)
    assert_answered_well(status, headers, body, "GET", logs)


@pytest.mark.parametrize(
    "value",
    [
        b'"',
        b'W/"',
        b",,,,",
        b'"a", W/"b", *',
        b"\x00\xff",
        b'"' + b"a" * 100_000 + b'"',
        b'"x",' * 20_000,
        "\u00e9t\u00e9".encode(),
    ],
)
def test_weird_if_none_match_is_no_match(app: Any, logs: Recorder, value: bytes) -> None:
    status, headers, body = call(app, "GET", "/es/feed.json", b"", [(b"if-none-match", value)])
    assert status == 200
    assert_answered_well(status, headers, body, "GET", logs)


@pytest.mark.parametrize(
    ("value", "coding"),
    [
        (b"gzip;q=nan, br;q=inf", "identity"),
        (b"br;q=1e999", "identity"),
        (b"gzip;q=0.5;;;, br;q=0.4", "gzip"),
        (b"gzip;q=0.5;q=, br;q=0.4", "gzip"),
        (b"gzip;q=-1, br;q=2", "identity"),
        (b"*;q=0.1, gzip;q=0", "br"),
        (b";;;,,,=;q", "identity"),
        (b"\xff\xfe gzip", "identity"),
        (b"br" + b", junk" * 10_000, "br"),
    ],
)
def test_junk_accept_encoding_is_read_leniently(
    app: Any, logs: Recorder, value: bytes, coding: str
) -> None:
    status, headers, body = call(app, "GET", "/es/rss.xml", b"", [(b"accept-encoding", value)])
    assert status == 200
    assert headers.get(b"content-encoding", b"identity").decode() == coding
    assert_answered_well(status, headers, body, "GET", logs)


def test_error_messages_quoting_a_path_are_short(app: Any, logs: Recorder) -> None:
    status, headers, body = call(app, "GET", "/" + "x" * 100_000, b"", [])
    assert status == 404 and len(body) < 1000
    assert_answered_well(status, headers, body, "GET", logs)


def test_access_log_lines_cannot_be_forged(app: Any, logs: Recorder) -> None:
    agent = b'x" 200 1 "-" "forged\x1b[31m'
    call(app, "GET", "/es/rss.xml", b"", [(b"user-agent", agent)])
    line = next(r.getMessage() for r in logs.records if r.name == "smcfeed.access")
    logs.records.clear()
    assert line.endswith('"x\\" 200 1 \\"-\\" \\"forged\\x1b[31m"'), line
    call(app, "GET", "/es/rss.xml", b"", [(b"user-agent", b"a" * 20_000)])
    line = next(r.getMessage() for r in logs.records if r.name == "smcfeed.access")
    logs.records.clear()
    assert line.endswith('"' + "a" * 512 + '…"') and len(line) < 1000


def test_a_bug_is_a_500_in_the_one_shape_and_logged(logs: Recorder) -> None:
    """A failure that is ours (here a broken cache) is still a 5xx, never hidden as a 4xx,
    answered in the one error shape without a traceback, and logged with one."""
    app = create_app(SAMPLE, clock=FixedClock(NOW))
    snapshot = app.state.content.snapshot
    assert snapshot is not None

    def broken(*args: object) -> object:
        raise RuntimeError("a bug")

    snapshot.cache.get = broken
    status, _, body = call(app, "GET", "/es/rss.xml", b"", [])
    assert status == 500 and orjson.loads(body) == {
        "error": {"status": 500, "message": "server error"}
    }
    assert b"a bug" not in body and b"Traceback" not in body
    errors = [r for r in logs.records if r.levelno >= logging.ERROR]
    logs.records.clear()
    assert errors and errors[0].exc_info is not None


# -- the property: anything a client sends -----------------------------------------------------

_SEGMENTS = [
    "", "es", "en", "xx", "rss.xml", "atom.xml", "feed.json", "feeds.opml", "healthz",
    "feed.xsl", "topics", "types", "experts", "articles", "climate", "reaction", "..", ".",
    "%2e%2e", "%00", "\x00", "é", "\ud800", "😀", "a" * 300, "<script>", "?", "#", ";", "//",
    "private", "operator", "status", "page", "2", "01", "embed", "oembed", "openapi.json",
]  # fmt: skip
_paths = st.lists(st.sampled_from(_SEGMENTS) | st.text(max_size=20), max_size=6).map(
    lambda parts: "/" + "/".join(parts)
)
_queries = st.one_of(
    st.just(b""),
    st.sampled_from(
        [
            b"utm_source=x",
            b"_=123",
            b"page=01",
            b"page=001",
            b"page=2",
            b"page=0",
            b"page=-1",
            b"page=99999999999999999999",
            b"page=1&page=2",
            b"page=2&utm=%3E;rel=%22self%22,<https://evil.example/>",
            b"page",
            b"page=%ff%fe",
            b"page=\xff",
            b"&&&==",
            b"a=" + b"x" * 50_000,
            b"=" * 1000,
            b"page=1e3",
            b"page=\xd9\xa3",
            b"url=javascript:alert(1)",
            b"url=https://evil.example/&format=xml",
            b"url=https://feeds.smc-demo.org/es/rss.xml&format=yaml",
            b"url=https://feeds.smc-demo.org/es/rss.xml&maxwidth=-5&format=json",
            b"format=%00&maxwidth=-1&maxheight=99999999999999999999",
        ]
    ),
    st.binary(max_size=60),
)
_methods = st.sampled_from(
    ["GET", "HEAD", "OPTIONS", "POST", "PUT", "DELETE", "PATCH", "TRACE", "CONNECT", "get", "X"]
)
_header_names = st.sampled_from(
    [
        b"accept-encoding",
        b"if-none-match",
        b"if-modified-since",
        b"accept",
        b"host",
        b"range",
        b"if-range",
        b"if-match",
        b"if-unmodified-since",
        b"cookie",
        b"user-agent",
        b"referer",
        b"origin",
        b"access-control-request-method",
        b"access-control-request-headers",
        b"content-length",
        b"transfer-encoding",
        b"x-forwarded-for",
        b"x-forwarded-proto",
        b"authorization",
        b"connection",
        b"upgrade",
    ]
) | st.binary(min_size=1, max_size=20)
_header_values = st.one_of(
    st.binary(max_size=80),
    st.sampled_from(
        [
            OVERFLOWING_DATE,
            b"Fri, 31 Dec 2100 23:59:59 GMT",
            b"*",
            b'W/"x", "y"',
            b"gzip;q=nan",
            b"br;q=1, gzip;q=0.5",
            b"bytes=0-10",
            b"-1",
            b"99999999999999999999",
            b"chunked",
            OPERATOR_AUTH,
            b"\xff" * 100,
            b"A" * 20_000,
            "é\u202e😀".encode(),
        ]
    ),
)
_headers = st.lists(st.tuples(_header_names, _header_values), max_size=8)


@settings(
    max_examples=600,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(method=_methods, path=_paths, query=_queries, headers=_headers)
def test_no_request_gets_a_5xx(
    app: Any,
    logs: Recorder,
    method: str,
    path: str,
    query: bytes,
    headers: list[tuple[bytes, bytes]],
) -> None:
    headers = [(name.lower(), value) for name, value in headers]
    status, response_headers, body = call(app, method, path, query, headers)
    formats = parse_qs(query.decode("latin-1")).get("format", ["json"])
    oembed_format = path == "/oembed" and formats[-1] not in ("json", "xml")
    assert_answered_well(status, response_headers, body, method, logs, oembed_format)
    if method == "HEAD":
        assert body == b""
    for name, value in response_headers.items():
        # Nothing the client sent is echoed in a header we send.
        assert b"evil.example" not in value, (name, value)


# -- the query-string findings (2 and 5), through the same app -----------------------------


def test_unknown_query_parameters_are_ignored(app: Any, logs: Recorder) -> None:
    """Finding 2: any query string without ``page`` was a 400."""
    plain = call(app, "GET", "/es/rss.xml", b"", [])
    for query in (b"utm_source=x", b"_=123", b"utm_source=x&utm_medium=rss&fbclid=abc"):
        status, headers, body = call(app, "GET", "/es/rss.xml", query, [])
        assert (status, body) == (200, plain[2]), query
        assert headers[b"etag"] == plain[1][b"etag"]
        assert_answered_well(status, headers, body, "GET", logs)


@pytest.mark.parametrize(
    "auth", [[], [(b"authorization", OPERATOR_AUTH)]], ids=["nobody", "operator"]
)
def test_the_operator_path_takes_a_query_that_is_not_utf8(
    app: Any, logs: Recorder, auth: list[tuple[bytes, bytes]]
) -> None:
    """Found by the property above: ``/operator/status?\\xf2\\x8f…`` without the token was a
    500 (its 404 named the path through ``request.url``, which decodes the query)."""
    status, headers, body = call(app, "GET", urls.OPERATOR_PATH, b"\xf2\x8feV", auth)
    assert status == (200 if auth else 404), body
    assert_answered_well(status, headers, body, "GET", logs)


def test_each_page_has_one_canonical_url(app: Any, logs: Recorder) -> None:
    """Finding 2: ``?page=01``, ``?page=001`` … each made a new cache entry."""

    def location(query: bytes) -> bytes:
        status, headers, body = call(app, "GET", "/es/rss.xml", query, [])
        assert_answered_well(status, headers, body, "GET", logs)
        assert status == 301, (query, status)
        return headers[b"location"]

    assert location(b"page=2") == location(b"page=02") == location(b"page=002")
    assert location(b"page=2&utm_source=x") == location(b"page=2")
    assert location(b"page=1") == location(b"page=01") == location(b"page=0001")
    path = "/" + location(b"page=2").decode().split("://", 1)[-1].split("/", 1)[1]
    status, headers, body = call(app, "GET", path, b"", [])
    assert status == 200 and b"<rss" in body
    assert_answered_well(status, headers, body, "GET", logs)


def test_websub_link_header_is_never_built_from_the_request(tmp_path: Path) -> None:
    """Finding 5: after one request to ``?page=2&utm=%3E;…evil.example…``, every client got
    that ``rel="self"`` URL."""
    content = tmp_path / "content"
    shutil.copytree(SAMPLE, content)
    site_yaml = content / "site.yaml"
    lines = [line for line in site_yaml.read_text().splitlines() if "websub_hubs" not in line]
    site_yaml.write_text("\n".join([*lines, "websub_hubs: [https://hub.example.org/]", ""]))
    app = create_app(content, clock=FixedClock(NOW))
    poison = b"page=2&utm=%3E;%20rel=%22self%22,%20%3Chttps://evil.example/%3E"
    answers = [
        call(app, "GET", "/es/rss.xml", poison, []),
        call(app, "GET", "/es/rss.xml", b"page=2&utm=x", []),
        call(app, "GET", "/es/rss.xml", b"", []),
        call(app, "GET", "/es/rss.xml", b"utm=%3E;evil.example", []),
    ]
    for status, headers, _ in answers:
        assert status in (200, 301)
        assert not any(b"evil" in value for value in headers.values()), headers
    links = {headers[b"link"] for status, headers, _ in answers if status == 200}
    site = (content / "site.yaml").read_text().splitlines()
    root = next(line.split(": ", 1)[1] for line in site if line.startswith("base_url")).strip()
    hub = '<https://hub.example.org/>; rel="hub"'
    assert links == {f'{hub}, <{root.rstrip("/")}/es/rss.xml>; rel="self"'.encode()}
