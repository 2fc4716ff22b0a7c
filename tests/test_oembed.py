"""oEmbed 1.0: rich responses for our article, quote card, widget and feed URLs, in JSON and
XML, sized within maxwidth/maxheight; 404 for anything else, 501 for other formats; every HTML
page advertises the endpoint; and a real consumer (micawber) embeds from a pasted link."""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import warnings
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit

import html5lib
import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree

from smcfeed import FixedClock, NotFound, Smcfeed, create_app, load_content

from ._support import NOW, SAMPLE

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

ROOT = "https://feeds.smc-demo.org"
ARTICLE = f"{ROOT}/en/articles/ai-weather-forecast-model-ensemble"
CARD = f"{ROOT}/embed/en/articles/ai-weather-forecast-model-ensemble"
QUOTE = f"{CARD}/reactions/elena-markovic"


@pytest.fixture(scope="module")
def client() -> Iterator[TestClient]:
    with TestClient(create_app(SAMPLE, clock=FixedClock(NOW))) as client:
        yield client


def oembed(client: TestClient, url: str, **params: str | int) -> dict[str, object]:
    response = client.get("/oembed?" + urlencode({"url": url, **params}))
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json; charset=utf-8"
    body: dict[str, object] = response.json()
    return body


def iframe_src(html: str) -> str:
    match = re.fullmatch(r'<iframe src="([^"]+)" width="(\d+)" height="(\d+)" .*</iframe>', html)
    assert match, html
    return match[1].replace("&amp;", "&")


@pytest.mark.parametrize(
    ("url", "embedded"),
    [
        (ARTICLE, CARD),
        (ARTICLE + ".json", CARD),
        (ARTICLE + "#reaction-elena-markovic", QUOTE),
        (ARTICLE + "#elena-markovic", QUOTE),
        (ARTICLE + "#reaction-nobody", CARD),
        (QUOTE, QUOTE),
        (CARD, CARD),
        (f"{ROOT}/en/topics/climate/rss.xml", f"{ROOT}/embed/en/topics/climate"),
        (f"{ROOT}/en/topics/climate/atom.xml?page=2", f"{ROOT}/embed/en/topics/climate"),
        (f"{ROOT}/es/page/2/feed.json", f"{ROOT}/embed/es"),
        (f"{ROOT}/embed/es/types/reaction?limit=3", f"{ROOT}/embed/es/types/reaction?limit=3"),
        (f"{ROOT}/", f"{ROOT}/embed/es"),
        (
            "http://feeds.smc-demo.org/en/topics/climate/feed.json",
            f"{ROOT}/embed/en/topics/climate",
        ),
    ],
)
def test_our_urls_get_a_rich_iframe_of_their_card_or_widget(
    client: TestClient, url: str, embedded: str
) -> None:
    body = oembed(client, url)
    assert body["version"] == "1.0" and body["type"] == "rich"
    assert body["provider_url"] == "https://smc-demo.org"
    src = iframe_src(str(body["html"]))
    assert src == embedded
    page = client.get(src.removeprefix(ROOT))
    assert page.status_code == 200
    assert page.headers["content-type"] == "text/html; charset=utf-8"
    assert str(body["title"]) and str(body["author_name"])
    assert isinstance(body["width"], int) and isinstance(body["height"], int)


def test_a_quote_is_authored_by_its_expert(client: TestClient) -> None:
    body = oembed(client, QUOTE)
    assert body["author_name"] == "Elena Marković"
    assert body["author_url"] == "https://example.org/aic/staff/emarkovic"


def test_xml_says_the_same_as_json(client: TestClient) -> None:
    as_json = oembed(client, QUOTE)
    response = client.get("/oembed?" + urlencode({"url": QUOTE, "format": "xml"}))
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/xml; charset=utf-8"
    root = etree.fromstring(response.content)
    assert root.tag == "oembed"
    as_xml = {child.tag: child.text for child in root}
    assert as_xml == {k: str(v) for k, v in as_json.items()}


@settings(max_examples=30, deadline=None)
@given(
    maxwidth=st.none() | st.integers(min_value=1, max_value=3000),
    maxheight=st.none() | st.integers(min_value=1, max_value=3000),
    url=st.sampled_from([ARTICLE, QUOTE, f"{ROOT}/en/feed.json", f"{ROOT}/es/topics/climate"]),
)
def test_size_never_exceeds_maxwidth_or_maxheight(
    maxwidth: int | None, maxheight: int | None, url: str
) -> None:
    params: dict[str, int] = {}
    if maxwidth is not None:
        params["maxwidth"] = maxwidth
    if maxheight is not None:
        params["maxheight"] = maxheight
    client = _shared_client()
    response = client.get("/oembed?" + urlencode({"url": url, **params}))
    if url.endswith("/es/topics/climate"):  # the feed's folder is no page of ours
        assert response.status_code == 404
        return
    body = response.json()
    width, height = body["width"], body["height"]
    assert 1 <= width <= (maxwidth or width) and 1 <= height <= (maxheight or height)
    assert f'width="{width}" height="{height}"' in body["html"]


_CLIENTS: list[TestClient] = []


def _shared_client() -> TestClient:
    if not _CLIENTS:
        _CLIENTS.append(TestClient(create_app(SAMPLE, clock=FixedClock(NOW))))
    return _CLIENTS[0]


@pytest.mark.parametrize(
    "url",
    [
        "https://elsewhere.example/en/articles/ai-weather-forecast-model-ensemble",
        f"{ROOT}/en/articles/no-such-article",
        f"{ROOT}/en/articles/antibiotico-nueva-clase-gramnegativas",  # embargoed until 2029
        f"{ROOT}/es/articles/antibiotico-nueva-clase-gramnegativas",
        f"{ROOT}/private/abcdef/es/rss.xml",
        f"{ROOT}/feeds.opml",
        f"{ROOT}/openapi.json",
        f"{ROOT}/oembed?url={ROOT}/",
        f"{ROOT}/es/topics/no-such-topic/rss.xml",
        f"{ROOT}/es/rss.xml?page=zero",
        "javascript:alert(1)",
        "not a url",
    ],
)
def test_anything_else_is_404(client: TestClient, url: str) -> None:
    response = client.get("/oembed?" + urlencode({"url": url}))
    assert response.status_code == 404
    assert response.json()["error"]["status"] == 404


@pytest.mark.parametrize("fmt", ["yaml", "html", "JSON", "jsonp"])
def test_other_formats_are_501_as_the_spec_says(client: TestClient, fmt: str) -> None:
    response = client.get("/oembed?" + urlencode({"url": ARTICLE, "format": fmt}))
    assert response.status_code == 501
    assert response.json()["error"] == {
        "status": 501,
        "message": f"oembed format must be json or xml, not '{fmt}'",
    }


def test_a_missing_url_is_400(client: TestClient) -> None:
    assert client.get("/oembed").status_code == 400


def _discovery(html: bytes) -> dict[str, str]:
    tree = html5lib.parse(html, namespaceHTMLElements=False)
    links: dict[str, str] = {}
    for link in tree.iter("link"):
        kind = link.get("type") or ""
        if link.get("rel") == "alternate" and "oembed" in kind:
            href = link.get("href")
            assert href is not None, f"a {kind} link without href"
            links[kind] = href
    return links


@pytest.mark.parametrize(
    ("page", "target"),
    [
        ("/", f"{ROOT}/"),
        ("/embed/en", f"{ROOT}/embed/en"),
        ("/embed/en/topics/climate?limit=3", f"{ROOT}/embed/en/topics/climate?limit=3"),
        (CARD.removeprefix(ROOT), CARD),
        (QUOTE.removeprefix(ROOT), QUOTE),
        (ARTICLE.removeprefix(ROOT), ARTICLE),
        ("/es/topics/climate/atom.xml", f"{ROOT}/es/topics/climate/atom.xml"),
        ("/en/page/2/feed.json", f"{ROOT}/en/page/2/feed.json"),
    ],
)
def test_every_html_page_advertises_oembed_for_itself(
    client: TestClient, page: str, target: str
) -> None:
    response = client.get(page, headers={"accept": "text/html,application/xhtml+xml;q=0.9"})
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    links = _discovery(response.content)
    assert set(links) == {"application/json+oembed", "text/xml+oembed"}
    for media, href in links.items():
        parts = urlsplit(href)
        assert f"{parts.scheme}://{parts.netloc}" == ROOT and parts.path == "/oembed"
        query = parse_qs(parts.query)
        assert query["url"] == [target]
        assert query.get("format", ["json"]) == ["json" if "json" in media else "xml"]
        response = client.get(f"{parts.path}?{parts.query}")
        assert response.status_code == 200


# --- a real consumer ---------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def live(tmp_path: Path) -> Iterator[str]:
    """``smcfeed serve`` on a free port, with our base URL pointing at it."""
    shutil.copytree(SAMPLE, tmp_path / "content")
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    log = open(tmp_path / "server.log", "wb")  # noqa: SIM115
    process = subprocess.Popen(
        [sys.executable, "-m", "smcfeed", "serve", "--content", str(tmp_path / "content"),
         "--host", "127.0.0.1", "--port", str(port), "--base-url", base, "--server", "uvicorn",
         "--no-watch", "--cache", "off", "--no-access-log"],
        stdout=log, stderr=log, start_new_session=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(base + "/healthz", timeout=2).close()
                break
            except OSError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise AssertionError((tmp_path / "server.log").read_text()) from None
                time.sleep(0.1)
        yield base
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=10)
        log.close()


@pytest.mark.e2e
def test_micawber_embeds_a_pasted_link_after_discovering_our_provider(live: str) -> None:
    micawber = pytest.importorskip("micawber", reason="micawber (test extra) is not installed")
    article = f"{live}/en/articles/ai-weather-forecast-model-ensemble"
    # A CMS discovers the provider from our page, as oEmbed section 4 describes.
    card = f"{live}/embed/en/articles/ai-weather-forecast-model-ensemble"
    with urllib.request.urlopen(card, timeout=10) as response:
        links = _discovery(response.read())
    endpoint = links["application/json+oembed"].split("?", 1)[0]
    assert endpoint == f"{live}/oembed"
    providers = micawber.ProviderRegistry()
    providers.register(re.escape(live) + r"/\S+", micawber.Provider(endpoint))
    quote = article + "#reaction-elena-markovic"
    data = providers.request(quote, maxwidth=400)
    assert data["type"] == "rich" and data["width"] <= 400
    src = iframe_src(data["html"])
    assert src == f"{card}/reactions/elena-markovic"
    with urllib.request.urlopen(src, timeout=10) as response:
        assert "Elena Marković" in response.read().decode()
    # And the way a CMS uses it: a pasted link in a story becomes the card.
    story = providers.parse_text(f"Read what the experts said:\n{quote}\n")
    assert f'<iframe src="{card}/reactions/elena-markovic"' in story


# --- embargoes ---------------------------------------------------------------------------


def _sample_articles() -> list[tuple[str, str, datetime]]:
    catalogue = load_content(SAMPLE).catalogue
    assert catalogue is not None
    return [(a.lang, a.slug, a.published) for a in catalogue.articles]


ARTICLES = _sample_articles()
SERVICE = Smcfeed(load_content(SAMPLE).catalogue)  # type: ignore[arg-type]


@settings(max_examples=40, deadline=None)
@given(
    article=st.sampled_from(ARTICLES),
    when=st.datetimes(
        min_value=datetime(2019, 1, 1), max_value=datetime(2030, 12, 31), timezones=st.just(UTC)
    ),
    shape=st.sampled_from(["page", "json", "card"]),
)
def test_oembed_knows_an_article_exactly_when_it_is_public(
    article: tuple[str, str, datetime], when: datetime, shape: str
) -> None:
    """Before its publication instant an article is unknown to oEmbed (404, like any unknown
    URL), from that instant on it embeds; the embedded page agrees."""
    lang, slug, published = article
    page = {
        "page": f"{ROOT}/{lang}/articles/{slug}",
        "json": f"{ROOT}/{lang}/articles/{slug}.json",
        "card": f"{ROOT}/embed/{lang}/articles/{slug}",
    }[shape]
    try:
        body = SERVICE.get("/oembed", urlencode({"url": page}), when).body
    except NotFound:
        assert when < published
        return
    assert when >= published
    src = iframe_src(orjson.loads(body)["html"])
    assert SERVICE.get(urlsplit(src).path, urlsplit(src).query, when).body
