"""The HTTP app: one error shape, content types, conditional GET, codings, CORS, freshness,
embargoes and age labels turning over as the injected clock moves (never sleeping)."""

from __future__ import annotations

import gzip
import shutil
import warnings
from collections.abc import Iterator
from datetime import datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import brotli
import pytest

from smcfeed import FixedClock, create_app, urls

from ._support import NOW, SAMPLE

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

EMBARGO = datetime.fromisoformat("2029-06-01T11:00:00+02:00")
OPERATOR = "operator-secret"
OPERATOR_HEADERS = {"authorization": f"Bearer {OPERATOR}"}


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(NOW)


@pytest.fixture(scope="module")
def client() -> Iterator[TestClient]:
    """A client on the sample content at NOW, for tests that do not move the clock."""
    with TestClient(create_app(SAMPLE, clock=FixedClock(NOW))) as client:
        yield client


def _embargoed_slug() -> str:
    for path in (SAMPLE / "articles" / "2029").glob("*.md"):
        return path.name.split(".")[0]
    raise AssertionError("the sample content has an embargoed article in articles/2029")


@pytest.mark.parametrize(
    ("path", "media_type"),
    [
        ("/es/rss.xml", "application/rss+xml; charset=utf-8"),
        ("/en/atom.xml", "application/atom+xml; charset=utf-8"),
        ("/es/feed.json", "application/feed+json; charset=utf-8"),
        ("/feeds.opml", "text/x-opml; charset=utf-8"),
        ("/", "text/html; charset=utf-8"),
        ("/es/topics/climate/rss.xml", "application/rss+xml; charset=utf-8"),
        ("/en/types/reaction/feed.json", "application/feed+json; charset=utf-8"),
    ],
)
def test_content_types_and_caching_headers(client: TestClient, path: str, media_type: str) -> None:
    response = client.get(path)
    assert response.status_code == 200
    assert response.headers["content-type"] == media_type
    assert response.headers["etag"].startswith('"')
    # A feed's URL also answers browsers with an HTML page, so feeds vary on Accept too.
    feed = media_type.split(";")[0] in {f.media_type for f in urls.FORMATS}
    assert response.headers["vary"] == ("Accept, Accept-Encoding" if feed else "Accept-Encoding")
    assert response.headers["cache-control"].startswith("public, max-age=")
    assert response.headers["access-control-allow-origin"] == "*"
    assert "ETag" in response.headers["access-control-expose-headers"]
    assert response.headers["last-modified"].endswith("GMT")


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/xx/rss.xml", 404),
        ("/es/topics/no-such-topic/rss.xml", 404),
        ("/es/types/no-such-type/atom.xml", 404),
        ("/es/experts/nobody/feed.json", 404),
        ("/es/articles/no-such-article.json", 404),
        ("/es/page/99/rss.xml", 404),
        ("/es/page/1/rss.xml", 404),
        ("/es/rss.xml?page=0", 400),
        ("/es/rss.xml?page=abc", 400),
        ("/es/rss.xml?page=-1", 400),
        ("/nothing/here", 404),
    ],
)
def test_errors_have_one_shape(client: TestClient, path: str, status: int) -> None:
    response = client.get(path)
    assert response.status_code == status
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert set(body) == {"error"}
    assert body["error"]["status"] == status
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]


@pytest.mark.parametrize(
    ("query", "location"),
    [
        ("page=2", "/es/page/2/rss.xml"),
        ("page=02", "/es/page/2/rss.xml"),
        ("page=0002&utm_source=x", "/es/page/2/rss.xml"),
        ("page=1", "/es/rss.xml"),
        ("page=01", "/es/rss.xml"),
        ("page=99", "/es/page/99/rss.xml"),
    ],
)
def test_page_queries_redirect_to_the_one_canonical_path(
    client: TestClient, query: str, location: str
) -> None:
    response = client.get(f"/es/rss.xml?{query}", follow_redirects=False)
    assert response.status_code == 301
    assert response.headers["location"] == location


@pytest.mark.parametrize("query", ["utm_source=x", "_=123", "a=%3E;rel=self", "page"])
def test_unknown_query_parameters_are_ignored(client: TestClient, query: str) -> None:
    plain = client.get("/es/atom.xml")
    response = client.get(f"/es/atom.xml?{query}", follow_redirects=False)
    if query == "page":
        assert response.status_code == 400  # ``page`` is known: empty is malformed
        return
    assert response.status_code == 200
    assert response.content == plain.content
    assert response.headers["etag"] == plain.headers["etag"]


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "PATCH"])
def test_other_methods_are_405_with_allow(client: TestClient, method: str) -> None:
    response = client.request(method, "/es/rss.xml")
    assert response.status_code == 405
    assert response.headers["allow"] == "GET, HEAD, OPTIONS"
    assert response.json()["error"]["status"] == 405


def test_cors_preflight_allows_conditional_headers(client: TestClient) -> None:
    response = client.options(
        "/es/feed.json",
        headers={"origin": "https://news.example", "access-control-request-method": "GET"},
    )
    assert response.status_code == 204
    assert "If-None-Match" in response.headers["access-control-allow-headers"]


def test_head_has_headers_and_no_body(client: TestClient) -> None:
    get = client.get("/es/rss.xml", headers={"accept-encoding": "identity"})
    head = client.head("/es/rss.xml", headers={"accept-encoding": "identity"})
    assert head.status_code == 200
    assert head.content == b""
    assert head.headers["etag"] == get.headers["etag"]
    assert int(head.headers["content-length"]) == len(get.content)


def test_if_none_match_gives_304(client: TestClient) -> None:
    first = client.get("/es/atom.xml")
    etag = first.headers["etag"]
    for header in (etag, f"W/{etag}", f'"other", {etag}', "*"):
        again = client.get("/es/atom.xml", headers={"if-none-match": header})
        assert again.status_code == 304, header
        assert again.content == b""
        assert again.headers["etag"] == etag
    changed = client.get("/es/atom.xml", headers={"if-none-match": '"not-it"'})
    assert changed.status_code == 200


def test_if_modified_since_gives_304(client: TestClient) -> None:
    first = client.get("/en/rss.xml")
    last_modified = first.headers["last-modified"]
    assert (
        client.get("/en/rss.xml", headers={"if-modified-since": last_modified}).status_code == 304
    )
    earlier = datetime.strptime(last_modified, "%a, %d %b %Y %H:%M:%S GMT") - timedelta(seconds=1)
    older = earlier.strftime("%a, %d %b %Y %H:%M:%S GMT")
    assert client.get("/en/rss.xml", headers={"if-modified-since": older}).status_code == 200
    assert client.get("/en/rss.xml", headers={"if-modified-since": "garbage"}).status_code == 200


@pytest.mark.parametrize(
    ("accept", "coding"),
    [
        ("gzip", "gzip"),
        ("br", "br"),
        ("gzip, br", "br"),
        ("br;q=0.5, gzip;q=0.8", "gzip"),
        ("br;q=0, gzip;q=0", None),
        ("*", "br"),
        ("identity", None),
        ("", None),
    ],
)
def test_codings_follow_accept_encoding(
    client: TestClient, accept: str, coding: str | None
) -> None:
    identity = client.get("/es/feed.json", headers={"accept-encoding": "identity"}).content
    # Ask without letting the client decode, to see the bytes on the wire.
    response = client.get("/es/feed.json", headers={"accept-encoding": accept})
    assert response.headers.get("content-encoding") == coding
    raw = response.read() if coding is None else _raw(client, "/es/feed.json", accept)
    decoded = {None: lambda b: b, "gzip": gzip.decompress, "br": brotli.decompress}[coding](raw)
    assert decoded == identity


def _raw(client: TestClient, path: str, accept: str) -> bytes:
    with client.stream("GET", path, headers={"accept-encoding": accept}) as response:
        return b"".join(response.iter_raw())


def test_etags_differ_per_coding_and_match_across_codings(client: TestClient) -> None:
    plain = client.get("/es/rss.xml", headers={"accept-encoding": "identity"}).headers["etag"]
    brotli_tag = client.get("/es/rss.xml", headers={"accept-encoding": "br"}).headers["etag"]
    assert plain != brotli_tag
    again = client.get(
        "/es/rss.xml", headers={"accept-encoding": "identity", "if-none-match": brotli_tag}
    )
    assert again.status_code == 304


def test_etag_is_stable_across_restarts(clock: FixedClock) -> None:
    tags = []
    for _ in range(2):
        with TestClient(create_app(SAMPLE, clock=clock)) as client:
            tags.append([client.get(p).headers["etag"] for p in ("/es/rss.xml", "/feeds.opml")])
    assert tags[0] == tags[1]


def test_embargo_lifts_at_the_exact_second(clock: FixedClock) -> None:
    slug = _embargoed_slug()
    paths = ["/es/rss.xml", "/es/atom.xml", "/es/feed.json", "/feeds.opml", "/"]
    with TestClient(create_app(SAMPLE, clock=clock)) as client:
        clock.set(EMBARGO - timedelta(seconds=1))
        for path in paths:
            assert slug not in client.get(path).text, path
        assert client.get(f"/es/articles/{slug}.json").status_code == 404
        before = client.get("/es/rss.xml").headers["etag"]
        clock.set(EMBARGO)
        assert slug in client.get("/es/rss.xml").text
        assert slug in client.get("/es/feed.json").text
        assert client.get(f"/es/articles/{slug}.json").status_code == 200
        after = client.get("/es/rss.xml", headers={"if-none-match": before})
        assert after.status_code == 200


def test_max_age_never_reaches_past_the_next_change(clock: FixedClock) -> None:
    app = create_app(SAMPLE, clock=clock, max_age=10**9, operator_token=OPERATOR)
    with TestClient(app) as client:
        clock.set(EMBARGO - timedelta(seconds=90))
        response = client.get("/es/rss.xml")
        assert response.headers["cache-control"] == "public, max-age=90"
        status = client.get("/operator/status", headers=OPERATOR_HEADERS).json()
        upcoming = datetime.fromisoformat(status["serving"]["next_scheduled_change"])
        assert upcoming <= EMBARGO


def test_age_labels_turn_over_at_local_midnight(clock: FixedClock) -> None:
    app = create_app(SAMPLE, clock=clock, max_age=10**9)
    with TestClient(app) as client:
        snapshot = app.state.content.snapshot
        midnight = snapshot.service.get("/en/feed.json", "", NOW).expires
        local = midnight.astimezone(ZoneInfo("Europe/Madrid"))
        assert (local.hour, local.minute, local.second) == (0, 0, 0) and midnight < EMBARGO
        # The turnover is on the grid: just before it, max-age reaches exactly to it.
        clock.set(midnight - timedelta(seconds=37))
        response = client.get("/en/feed.json")
        assert response.headers["cache-control"] == "public, max-age=37"
        labels = [i["_smc"]["age"] for i in response.json()["items"]]
        clock.set(midnight)
        later = client.get("/en/feed.json")
        assert later.headers["etag"] != response.headers["etag"]
        assert [i["_smc"]["age"] for i in later.json()["items"]] != labels


def test_healthz_says_only_whether_content_is_served(client: TestClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.content == b'{"status":"ok"}'
    assert response.headers["cache-control"] == "no-store"


def test_operator_view_needs_the_operator_token(clock: FixedClock) -> None:
    app = create_app(SAMPLE, clock=clock, operator_token=OPERATOR)
    with TestClient(app) as client:
        body = client.get("/operator/status", headers=OPERATOR_HEADERS).json()
        assert body["status"] == "ok"
        assert body["errors"] == []
        serving = body["serving"]
        assert serving["articles"] > serving["published"] > 0
        assert serving["embargoed"] == serving["articles"] - serving["published"]
        assert datetime.fromisoformat(serving["next_embargo_lift"]) == EMBARGO
        unknown = client.get("/operator/statuz")
        for headers in ({}, {"authorization": "Bearer wrong"}, {"authorization": OPERATOR}):
            refused = client.get("/operator/status", headers=headers)
            assert refused.status_code == 404
            assert refused.json()["error"]["message"] == "nothing at /operator/status"
            assert refused.headers["content-type"] == unknown.headers["content-type"]
    # Without an operator token set, nobody gets the view.
    with TestClient(create_app(SAMPLE, clock=clock)) as client:
        assert client.get("/operator/status", headers=OPERATOR_HEADERS).status_code == 404


def test_broken_edit_keeps_last_good_content(tmp_path: Path, clock: FixedClock) -> None:
    content = tmp_path / "content"
    shutil.copytree(SAMPLE, content)
    app = create_app(content, clock=clock, operator_token=OPERATOR)
    with TestClient(app) as client:
        before = client.get("/en/rss.xml").content
        article = next((content / "articles").rglob("*.en.md"))
        article.write_text("---\ntitle: [unclosed\n---\n", encoding="utf-8")
        assert app.state.content.reload() is False
        assert client.get("/en/rss.xml").content == before
        assert client.get("/healthz").json() == {"status": "ok"}
        health = client.get("/operator/status", headers=OPERATOR_HEADERS).json()
        assert health["status"] == "degraded"
        rel = article.relative_to(content).as_posix()
        assert any(e.startswith(f"{rel}:") for e in health["errors"])
        assert health["last_good_load"] is not None


def test_good_edit_is_swapped_in(tmp_path: Path, clock: FixedClock) -> None:
    content = tmp_path / "content"
    shutil.copytree(SAMPLE, content)
    app = create_app(content, clock=clock)
    with TestClient(app) as client:
        newest = client.get("/en/feed.json").json()["items"][0]
        path = next(
            p for p in (content / "articles").rglob("*.en.md") if _title_in(p, newest["title"])
        )
        text = path.read_text(encoding="utf-8")
        path.write_text(text.replace(newest["title"], "An edited headline", 1), encoding="utf-8")
        assert app.state.content.reload() is True
        edited = client.get("/en/feed.json").json()["items"][0]
        assert edited["title"] == "An edited headline"
        assert edited["id"] == newest["id"]


def _title_in(path: Path, title: str) -> bool:
    return title in path.read_text(encoding="utf-8")


def test_last_modified_is_an_http_date(client: TestClient) -> None:
    value = client.get("/es/rss.xml").headers["last-modified"]
    parsed = datetime.strptime(value, "%a, %d %b %Y %H:%M:%S GMT").replace(tzinfo=NOW.tzinfo)
    assert value == format_datetime(parsed, usegmt=True)
    assert parsed <= NOW


def test_response_cache_is_bounded_in_entries_and_bytes() -> None:
    from smcfeed import Smcfeed, load_content, urls
    from smcfeed._serve.responses import ResponseCache
    from smcfeed.service import Request

    def req(path: str) -> Request:
        return Request(urls.parse(path))

    catalogue = load_content(SAMPLE).catalogue
    assert catalogue is not None
    cache = ResponseCache(Smcfeed(catalogue), max_entries=3, max_bytes=10**9)
    cache.warm([req("/es/rss.xml")], NOW)
    paths = ["/en/rss.xml", "/en/atom.xml", "/es/feed.json", "/en/feed.json", "/feeds.opml"]
    for path in paths:
        cache.get(req(path), NOW)
    assert len(cache) == 3
    pinned = cache.get(req("/es/rss.xml"), NOW)
    assert cache.get(req("/es/rss.xml"), NOW) is pinned
    small = ResponseCache(Smcfeed(catalogue), max_entries=100, max_bytes=200_000)
    for path in paths:
        small.get(req(path), NOW)
    assert 0 < len(small) < len(paths)
