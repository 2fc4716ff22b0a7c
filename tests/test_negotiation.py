"""Content negotiation on feed URLs: browsers get an HTML page, feed readers get the feed.

The readers' ``Accept`` headers below are the real ones, collected from each reader's source
or documentation (where each came from is noted beside it); the Python libraries' are checked
against what the installed library actually sends.
"""

from __future__ import annotations

import http.server
import threading
import warnings
from collections.abc import Callable, Iterator
from datetime import timedelta

import feedparser
import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from smcfeed import FixedClock, create_app, urls
from smcfeed._content.loader import load_content
from smcfeed._serve import http as _http
from smcfeed.catalogue import FeedKey
from smcfeed.service import Request, Smcfeed

from ._support import NOW, SAMPLE
from .conftest import ContentDir

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

FEEDPARSER = (
    "application/atom+xml,application/rdf+xml,application/rss+xml,application/x-netcdf,"
    "application/xml;q=0.9,text/xml;q=0.2,*/*;q=0.1"
)
READER = (
    "application/atom+xml,application/rdf+xml,application/rss+xml,application/x-netcdf,"
    "application/feed+json,application/xml;q=0.9,application/json;q=0.9,text/xml;q=0.2,"
    "*/*;q=0.1"
)

#: Feed readers and libraries, with the Accept header each sends when it fetches a feed.
#: None: no Accept header at all.
READERS: dict[str, str | None] = {
    # kurtmckee/feedparser, feedparser/http.py: ACCEPT_HEADER (6.0.x).
    "feedparser": FEEDPARSER,
    # lemon24/reader, src/reader/_parser: the Accept of its mounted parsers, joined (feedparser's
    # types, then JSON Feed's, then the */* fallback); 3.x.
    "reader": READER,
    # newsboat/newsboat, rss/parser.cpp: sets no Accept (only If-None-Match and A-IM), so
    # libcurl sends its default.
    "newsboat": "*/*",
    # rbren/rss-parser, lib/parser.js: DEFAULT_HEADERS.
    "rss-parser": "application/rss+xml",
    # feedly.com/fetcher.html documents only the User-Agent ("Feedly/1.0 …"), not an Accept:
    # both shapes an undocumented fetcher can take are covered, none and the generic one.
    "Feedly (no Accept)": None,
    "Feedly (*/*)": "*/*",
    # inoreader.com/feed-fetcher documents only the User-Agent ("Inoreader/1.0 …") either.
    "Inoreader (no Accept)": None,
    "Inoreader (*/*)": "*/*",
    # Ranchero-Software/NetNewsWire, Modules/RSWeb (Downloader.swift, DownloadSession.swift):
    # only a User-Agent is added, so URLSession sends its default.
    "NetNewsWire": "*/*",
    # miniflux/v2, internal/reader/fetcher/request_builder.go: defaultAcceptHeader. It names
    # text/html at the same q as the feed types: a tie goes to the feed.
    "Miniflux": (
        "application/xml, application/atom+xml, application/rss+xml, application/rdf+xml, "
        "application/feed+json, text/html, */*;q=0.9"
    ),
    # FreshRSS/FreshRSS fetches RSS and Atom with its bundled SimplePie,
    # lib/simplepie/simplepie/src/SimplePie.php: DEFAULT_HTTP_ACCEPT_HEADER.
    "FreshRSS (RSS/Atom, SimplePie)": (
        "application/atom+xml, application/rss+xml, application/rdf+xml;q=0.9, "
        "application/xml;q=0.8, text/xml;q=0.8, text/html;q=0.7, unknown/unknown;q=0.1, "
        "application/unknown;q=0.1, */*;q=0.1"
    ),
    # FreshRSS/FreshRSS, lib/lib_rss.php httpGet(): JSON feeds.
    "FreshRSS (JSON Feed)": (
        "application/json,application/feed+json,application/javascript;q=0.9,"
        "text/javascript;q=0.8,*/*;q=0.7"
    ),
    # mozilla/releases-comm-central, mailnews/extensions/newsblog/FeedUtils.sys.mjs:
    # REQUEST_ACCEPT, sent by Feed.sys.mjs's download().
    "Thunderbird": (
        "application/atom+xml,application/rss+xml;q=0.9,application/rdf+xml;q=0.8,"
        "application/xml;q=0.7,text/xml;q=0.7,*/*;q=0.1"
    ),
}

#: Browsers opening a link, with the Accept of a navigation request.
BROWSERS = {
    # What Chromium 156 sends (seen by our server from tests/test_browser.py's Chromium).
    "Chromium": (
        "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,"
        "image/apng,*/*;q=0.8,application/signed-exchange;v=b3;q=0.7"
    ),
    # MDN, "List of default Accept values" (Firefox 92 and later; Safari and Chrome).
    "Firefox": (
        "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8"
    ),
    "Safari": (
        "text/html,application/xhtml+xml,application/xml;q=0.9,image/webp,image/apng,*/*;q=0.8"
    ),
    "Firefox 66-71": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
    "Edge (legacy)": "text/html, application/xhtml+xml, image/jxr, */*",
}

FEEDS = [
    "/es/rss.xml",
    "/en/atom.xml",
    "/es/feed.json",
    "/es/page/2/rss.xml",
    "/en/topics/climate/atom.xml",
]


@pytest.fixture(scope="module")
def client() -> Iterator[TestClient]:
    with TestClient(create_app(SAMPLE, clock=FixedClock(NOW))) as client:
        yield client


def _get(client: TestClient, path: str, accept: str | None, **headers: str) -> httpx.Response:
    sent = {k.replace("_", "-"): v for k, v in headers.items()}
    if accept is not None:
        sent["accept"] = accept
    # Starlette types its client against httpx2 (absent here, so Any); it is httpx's.
    response: httpx.Response = client.get(path, headers=sent)
    return response


@pytest.mark.parametrize("path", FEEDS)
@pytest.mark.parametrize("reader", list(READERS))
def test_readers_get_the_feed_byte_for_byte(client: TestClient, reader: str, path: str) -> None:
    plain = client.get(path, headers={"accept-encoding": "identity"})
    assert plain.status_code == 200
    response = _get(client, path, READERS[reader], accept_encoding="identity")
    assert response.status_code == 200
    assert response.content == plain.content
    assert response.headers["content-type"] == plain.headers["content-type"]
    assert response.headers["vary"] == "Accept, Accept-Encoding"


@pytest.mark.parametrize("path", FEEDS)
@pytest.mark.parametrize("browser", list(BROWSERS))
def test_browsers_get_an_html_page_of_the_feed(client: TestClient, browser: str, path: str) -> None:
    response = _get(client, path, BROWSERS[browser])
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert response.headers["vary"] == "Accept, Accept-Encoding"
    assert response.text.startswith("<!doctype html>")


def test_each_representation_has_its_own_validator(client: TestClient) -> None:
    browser = BROWSERS["Chromium"]
    page = _get(client, "/es/rss.xml", browser)
    feed = client.get("/es/rss.xml")
    page_tag, feed_tag = page.headers["etag"], feed.headers["etag"]
    assert page_tag != feed_tag
    assert _get(client, "/es/rss.xml", browser, if_none_match=page_tag).status_code == 304
    # A browser holding the feed's tag gets the page, not a 304 for bytes it does not have.
    assert _get(client, "/es/rss.xml", browser, if_none_match=feed_tag).status_code == 200
    not_modified = _get(client, "/es/rss.xml", browser, if_none_match=page_tag)
    assert not_modified.headers["vary"] == "Accept, Accept-Encoding"
    head = client.head("/es/rss.xml", headers={"accept": browser})
    assert head.headers["etag"] == page_tag and head.content == b""


def test_only_feeds_vary_on_accept(client: TestClient) -> None:
    for path in ("/", "/feeds.opml", "/en/articles/ai-weather-forecast-model-ensemble"):
        response = _get(client, path, BROWSERS["Chromium"])
        assert response.headers["vary"] == "Accept-Encoding", path
    json = _get(client, "/en/articles/ai-weather-forecast-model-ensemble.json", "text/html")
    assert json.headers["content-type"] == "application/json; charset=utf-8"


@pytest.mark.parametrize(
    ("accept", "html"),
    [
        ("text/html", True),
        ("TEXT/HTML; charset=utf-8", True),
        ("text/html;q=0.5, application/rss+xml;q=0.4", True),
        ("text/html;q=0.5, application/rss+xml;q=0.5", False),
        ("text/html;q=0.5, application/xml", False),
        ("text/html, application/atom+xml", False),
        ("text/html;q=0, */*", False),
        ("text/html;q=nonsense", False),
        ("text/html;q=2", False),
        ("text/*", False),
        ("*/*", False),
        ("", False),
        ("application/xhtml+xml", False),
        ("text/html, application/xhtml+xml;q=1", True),
        ("text/html;q=0.9, application/feed+json", False),
        ("text/html;q=0.9, application/json", False),
        ("text/html, " + "x/y, " * 400, False),
    ],
)
def test_prefers_html_reads_q_values(accept: str, html: bool) -> None:
    assert _http.prefers_html(accept) is html


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=300))
def test_prefers_html_never_fails_and_needs_text_html(accept: str) -> None:
    result = _http.prefers_html(accept)
    if "text/html" not in accept.lower():
        assert result is False


_RANGES = ["application/rss+xml", "application/atom+xml", "application/xml", "text/xml"]
_RANGES += ["application/feed+json", "application/json", "image/webp", "*/*", "text/*"]


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(_RANGES),
            st.integers(0, 1000),
        ),
        max_size=6,
    ),
    st.integers(0, 1000),
)
def test_html_wins_exactly_when_ranked_above_every_feed_type(
    others: list[tuple[str, int]], html_q: int
) -> None:
    parts = [f"text/html;q={html_q / 1000}"] + [f"{m};q={q / 1000}" for m, q in others]
    feed_qs = [q for m, q in others if "*" not in m and m != "image/webp"]
    assert _http.prefers_html(", ".join(parts)) is (html_q > max(feed_qs, default=0))


class _Recorder(http.server.BaseHTTPRequestHandler):
    seen: list[str | None] = []  # noqa: RUF012 - one list per test run, read by the test

    def do_GET(self) -> None:
        _Recorder.seen.append(self.headers.get("Accept"))
        self.send_response(404)
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def recorder() -> Iterator[str]:
    """A throwaway HTTP server on 127.0.0.1 that records each request's Accept header."""
    _Recorder.seen = []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def test_the_python_readers_send_what_the_table_says(recorder: str) -> None:
    from reader import make_reader

    feedparser.parse(recorder + "/feedparser.xml")
    reader = make_reader(":memory:")
    try:
        reader.add_feed(recorder + "/reader.xml")
        reader.update_feeds()
    finally:
        reader.close()
    assert _Recorder.seen == [READERS["feedparser"], READERS["reader"]]


def test_page_for_browsers_lists_nothing_embargoed(make_content: Callable[[], ContentDir]) -> None:
    content = make_content()
    # The only English article on space is embargoed: the Spanish space feed must not link
    # to an English one until it lifts, and must change when it does.
    lift = NOW + timedelta(days=3)
    content.write(
        "articles/2026/comet-flyby.en.md",
        f"""\
        ---
        type: briefing
        title: A comet flies by
        published: {lift.isoformat()}
        topics: [space]
        summary: Astronomers will brief on the comet.
        ---
        Text.
        """,
    )
    catalogue = load_content(content).catalogue
    assert catalogue is not None
    service = Smcfeed(catalogue)
    request = Request(urls.Feed(FeedKey("es", "topics", "space"), "rss"), html=True)
    before = service.render(request, NOW)
    assert b"/en/topics/space/" not in before.body
    assert before.expires == lift
    after = service.render(request, lift)
    assert b"/en/topics/space/rss.xml" in after.body
    assert after.last_modified == lift


_MEDIA = st.sampled_from([*_RANGES, "text/html", "application/xhtml+xml", "text/plain"])
_ELEMENT = st.builds(
    lambda media, q: media if q is None else f"{media};q={q}",
    _MEDIA,
    st.none() | st.sampled_from(["0", "0.1", "0.5", "0.9", "1", "1.0", "x", ""]),
)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(_ELEMENT, max_size=6).map(", ".join)
    # Anything a client can put in a header line (no control characters).
    | st.text(st.characters(blacklist_categories=("Cc", "Cs")), max_size=80)
)
def test_any_accept_gets_the_feed_or_its_page_never_an_error(
    client: TestClient, accept: str
) -> None:
    feed = client.get("/en/atom.xml", headers={"accept-encoding": "identity"})
    try:
        header = accept.encode("latin-1")
    except UnicodeEncodeError:
        header = accept.encode("utf-8")
    response = client.get("/en/atom.xml", headers={"accept": header, "accept-encoding": "identity"})
    assert response.status_code == 200
    if _http.prefers_html(header.decode("latin-1")):
        assert response.headers["content-type"] == "text/html; charset=utf-8"
    else:
        assert response.content == feed.content
