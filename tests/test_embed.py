"""Partner embeds: the widget, the article card and the quote card — what they show, their
strict Content-Security-Policy, caching like the feeds, and nothing embargoed, ever."""

from __future__ import annotations

import base64
import gzip
import hashlib
import re
import warnings
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from functools import cache

import html5lib
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from smcfeed import FeedKey, FixedClock, NotFound, Smcfeed, create_app, load_content, urls
from smcfeed.service import Request

from ._support import NOW, SAMPLE

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

XHTML = "{http://www.w3.org/1999/xhtml}"


@pytest.fixture(scope="module")
def client() -> Iterator[TestClient]:
    with TestClient(create_app(SAMPLE, clock=FixedClock(NOW))) as client:
        yield client


@cache
def _service() -> Smcfeed:
    result = load_content(SAMPLE)
    assert result.catalogue is not None
    return Smcfeed(result.catalogue)


def parse_strict(body: bytes) -> object:
    """The page as an element tree; any HTML parse error fails the test."""
    parser = html5lib.HTMLParser(strict=True, namespaceHTMLElements=True)
    return parser.parse(body)


def _texts(tree: object, tag: str, cls: str | None = None) -> list[str]:
    found = []
    for element in tree.iter(f"{XHTML}{tag}"):  # type: ignore[attr-defined]
        if cls is None or cls in (element.get("class") or "").split():
            found.append(" ".join("".join(element.itertext()).split()))
    return found


def _inline(body: bytes, tag: str) -> bytes:
    match = re.search(rb"<%s>(.*?)</%s>" % (tag.encode(), tag.encode()), body, re.S)
    assert match, f"no inline <{tag}>"
    return match[1]


def _source(content: bytes) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(content).digest()).decode() + "'"


# --- the widget --------------------------------------------------------------------------


def test_widget_lists_the_feeds_latest_items_with_quotes_and_credit(client: TestClient) -> None:
    feed = client.get("/en/feed.json").json()
    response = client.get("/embed/en?limit=3")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    tree = parse_strict(response.content)
    titles = _texts(tree, "h2")
    assert titles == [item["title"] for item in feed["items"][:3]]
    html = response.text
    assert '<html lang="en">' in html
    for item in feed["items"][:3]:
        # Title linked to the item's page, in a new tab without handing over window.opener.
        assert f'<a href="{item["url"]}" target="_blank" rel="noopener"' in html
        assert item["_smc"]["type"]["label"] in _texts(tree, "span", "type")
        first = item["_smc"]["reactions"][:1]
        for reaction in first:
            assert reaction["expert"]["name"] in html
            assert reaction["conflicts"]["text"] in html
    assert len(_texts(tree, "article", "item")) == 3
    assert len(_texts(tree, "p", "credit")) == 3
    # Landmarks for assistive technology.
    for landmark in ("header", "main", "footer"):
        assert len(list(tree.iter(f"{XHTML}{landmark}"))) == 1  # type: ignore[attr-defined]


def test_widget_age_labels_are_text(client: TestClient) -> None:
    feed = client.get("/es/topics/climate/feed.json").json()
    labelled = [i["_smc"]["age"]["label"] for i in feed["items"][:20] if i["_smc"]["age"]]
    assert labelled, "the sample content has old climate items"
    tree = parse_strict(client.get("/embed/es/topics/climate?limit=20").content)
    assert _texts(tree, "p", "age") == labelled


@pytest.mark.parametrize("limit", ["0", "1", "20", "99"])
def test_widget_limit_is_clamped_to_1_to_20(client: TestClient, limit: str) -> None:
    tree = parse_strict(client.get(f"/embed/es?limit={limit}").content)
    visible = len(client.get("/es/feed.json").json()["items"])  # a first page of 10
    expected = min(max(1, int(limit)), 20)
    assert len(_texts(tree, "article", "item")) >= min(expected, visible)
    assert len(_texts(tree, "article", "item")) <= expected


def test_malformed_limit_is_400(client: TestClient) -> None:
    response = client.get("/embed/es?limit=lots")
    assert response.status_code == 400
    assert response.json()["error"]["status"] == 400


@pytest.mark.parametrize(
    "path",
    [
        "/embed/en",
        "/embed/en/articles/ai-weather-forecast-model-ensemble",
        "/embed/en/articles/ai-weather-forecast-model-ensemble/reactions/elena-markovic",
    ],
)
def test_embeds_have_a_strict_csp_that_allows_exactly_their_inline_css_and_script(
    client: TestClient, path: str
) -> None:
    response = client.get(path)
    policy = dict(
        part.strip().split(" ", 1)
        for part in response.headers["content-security-policy"].split(";")
    )
    assert policy["default-src"] == "'none'"
    assert policy["frame-ancestors"] == "*"
    assert policy["style-src"] == _source(_inline(response.content, "style"))
    assert policy["script-src"] == _source(_inline(response.content, "script"))
    assert "unsafe-inline" not in response.headers["content-security-policy"]
    assert "x-frame-options" not in response.headers
    # No other style or script can run: no style attributes, no second element.
    assert b" style=" not in response.content
    assert response.content.count(b"<style") == response.content.count(b"<script") == 1


def test_feeds_carry_no_embed_policy(client: TestClient) -> None:
    assert "content-security-policy" not in client.get("/es/rss.xml").headers


def test_embeds_are_cached_like_feeds(client: TestClient) -> None:
    first = client.get("/embed/es", headers={"accept-encoding": "gzip"})
    assert first.headers["content-encoding"] == "gzip"
    assert first.headers["vary"] == "Accept-Encoding"
    assert first.headers["cache-control"].startswith("public, max-age=")
    plain = client.get("/embed/es", headers={"accept-encoding": "identity"})
    raw = client.get("/embed/es", headers={"accept-encoding": "gzip"}).content
    assert raw == plain.content  # httpx decoded it; the server compressed it
    assert gzip.compress(plain.content) != plain.content
    again = client.get("/embed/es", headers={"if-none-match": plain.headers["etag"]})
    assert again.status_code == 304
    assert again.content == b""
    since = client.get("/embed/es", headers={"if-modified-since": plain.headers["last-modified"]})
    assert since.status_code == 304


def test_text_is_escaped_exactly_once(make_content: object, tmp_path: object) -> None:
    content = make_content()  # type: ignore[operator]
    content.write(
        "articles/2024/screens-sleep-2.en.md",
        """\
        ---
        type: reaction
        title: "Screens <b>&</b> sleep"
        published: 2024-02-01T09:00:00+01:00
        topics: [public-health]
        summary: Tags like <script>alert(1)</script> stay text.
        reactions:
          - expert: john-smith
            conflicts: "Consults for <Acme & Co>"
            quote: Kids & screens <i>really</i> matter.
        ---
        Body.
        """,
    )
    service = Smcfeed(load_content(content).catalogue)  # type: ignore[arg-type]
    when = datetime(2025, 1, 1, tzinfo=UTC)
    for path in (
        "/embed/en",
        "/embed/en/articles/screens-sleep-2",
        "/embed/en/articles/screens-sleep-2/reactions/john-smith",
    ):
        body = service.get(path, "", when).body
        parse_strict(body)
        assert b"Screens &lt;b&gt;&amp;&lt;/b&gt; sleep" in body
        assert b"<b>&" not in body
        assert b"Consults for &lt;Acme &amp; Co&gt;" in body
        assert b"Kids &amp; screens &lt;i&gt;really&lt;/i&gt; matter." in body
        assert b"&amp;amp;" not in body


# --- the quote card ----------------------------------------------------------------------


def test_quote_card_keeps_the_questions_apart_from_the_experts_words(client: TestClient) -> None:
    article = client.get("/en/articles/ai-weather-forecast-model-ensemble.json").json()
    reaction = article["_smc"]["reactions"][0]
    expert = reaction["expert"]
    response = client.get(
        f"/embed/en/articles/ai-weather-forecast-model-ensemble/reactions/{expert['id']}"
    )
    assert response.status_code == 200
    tree = parse_strict(response.content)
    questions = re.findall(r"<h3>(.*?)</h3>", reaction["quote_html"])
    assert len(questions) >= 2
    assert _texts(tree, "h2", "question") == [f"Question: {q}" for q in questions]
    words = " ".join(_texts(tree, "blockquote"))
    for question in questions:
        assert question not in words  # the editor's question is never in the expert's mouth
    assert "The evaluation is thorough." in words
    heading = _texts(tree, "h1")[0]
    assert expert["name"] in heading and expert["organisation"] in heading
    assert _texts(tree, "p", "conflicts") == [reaction["conflicts"]["text"]]
    credit = _texts(tree, "p", "credit")[0]
    assert article["_smc"]["license"]["attribution"] in credit
    assert article["_smc"]["license"]["name"] in credit
    assert f'href="{article["url"]}"' in response.text  # the link back


def test_quote_card_credit_names_the_sister_centre(make_content: object) -> None:
    content = make_content()  # type: ignore[operator]
    service = Smcfeed(load_content(content).catalogue)  # type: ignore[arg-type]
    body = service.get("/embed/es/articles/mars-samples/reactions/lucia-perez", "", NOW).body
    tree = parse_strict(body)
    credit = _texts(tree, "p", "credit")[0]
    assert credit.startswith("Fuente: Centro de prueba (CC BY 4.0), vía SMC Demo Francia")
    declared = _texts(tree, "p", "conflicts")[0]
    assert declared == "Conflictos de interés: Ha asesorado a la agencia espacial en otro proyecto."
    # In the widget too, on the item that shows it.
    widget = parse_strict(service.get("/embed/es/topics/space", "", NOW).body)
    assert "vía SMC Demo Francia" in _texts(widget, "p", "credit")[0]


@pytest.mark.parametrize(
    "path",
    [
        "/embed/en/articles/ai-weather-forecast-model-ensemble/reactions/nobody",
        "/embed/en/articles/no-such-article/reactions/elena-markovic",
        "/embed/en/articles/no-such-article",
        "/embed/xx",
        "/embed/es/topics/no-such-topic",
        "/embed/es/experts/nobody",
    ],
)
def test_unknown_things_are_404(client: TestClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 404
    assert response.json()["error"]["status"] == 404


# --- embargoes ---------------------------------------------------------------------------

LIFT = datetime.fromisoformat("2030-03-01T10:00:00+01:00")
EMBARGOED = """\
    ---
    type: briefing
    title: Secret comet briefing
    published: 2030-03-01T10:00:00+01:00
    topics: [comets]
    summary: Nobody may know yet.
    reactions:
      - expert: zelda-hidden
        conflicts: none
        quote: Hidden words.
    ---
    Body.
    """


def test_nothing_embargoed_appears_and_empty_slices_are_unknown(make_content: object) -> None:
    content = make_content()  # type: ignore[operator]
    content.write(
        "topics.yaml",
        """\
        climate: {es: Clima, en: Climate}
        public-health: {es: Salud pública, en: Public health}
        space: {es: Espacio, en: Space}
        comets: {es: Cometas, en: Comets}
        """,
    )
    content.write(
        "experts/zelda-hidden.yaml",
        "name: Zelda Hidden\nrole: {es: Astrónoma, en: Astronomer}\norganisation: Obs\n",
    )
    content.write("articles/2030/secret-comet.en.md", EMBARGOED)
    service = Smcfeed(load_content(content).catalogue)  # type: ignore[arg-type]
    before = LIFT - timedelta(seconds=1)
    hidden = [
        "/embed/en/topics/comets",
        "/embed/en/experts/zelda-hidden",
        "/embed/en/types/briefing",
        "/embed/en/articles/secret-comet",
        "/embed/en/articles/secret-comet/reactions/zelda-hidden",
    ]
    for path in hidden:
        with pytest.raises(NotFound):
            service.get(path, "", before)
        assert service.get(path, "", LIFT).body  # and there it is, at the instant
    for limit in ("1", "20"):
        body = service.get("/embed/en", f"limit={limit}", before).body
        assert b"Secret comet" not in body and b"Zelda" not in body
        assert b"Secret comet" in service.get("/embed/en", f"limit={limit}", LIFT).body


def test_404_of_a_slice_with_nothing_public_is_the_unknown_one(make_content: object) -> None:
    content = make_content()  # type: ignore[operator]
    content.write(
        "topics.yaml",
        """\
        climate: {es: Clima, en: Climate}
        public-health: {es: Salud pública, en: Public health}
        space: {es: Espacio, en: Space}
        comets: {es: Cometas, en: Comets}
        """,
    )
    with TestClient(create_app(content, clock=FixedClock(NOW))) as client:
        empty = client.get("/embed/en/topics/comets")
        unknown = client.get("/embed/en/topics/comett")
    assert empty.status_code == unknown.status_code == 404
    assert dict(empty.headers) == dict(unknown.headers)
    assert empty.content.replace(b"comets", b"comett") == unknown.content


@cache
def _timeline() -> list[tuple[datetime, str, str]]:
    """The sample's Spanish articles: (published, slug, title), read from the catalogue."""
    catalogue = _service().catalogue
    return [(a.published, a.slug, a.title) for a in catalogue.articles if a.lang == "es"]


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    limit=st.integers(min_value=1, max_value=20),
    when=st.datetimes(
        min_value=datetime(2019, 1, 1), max_value=datetime(2030, 12, 31), timezones=st.just(UTC)
    ),
)
def test_widget_shows_the_newest_public_items_and_nothing_else(limit: int, when: datetime) -> None:
    """At any instant, the widget shows exactly the ``limit`` newest items published by then,
    newest first (ties by slug), and nothing published later."""
    visible = sorted(
        (entry for entry in _timeline() if entry[0] <= when),
        key=lambda entry: (-entry[0].timestamp(), entry[1]),
    )
    body = _service().render(Request(urls.Widget(FeedKey("es"), limit)), when).body
    shown = _texts(parse_strict(body), "h2")
    assert shown == [title for _, _, title in visible[:limit]]
    later = {title for published, _, title in _timeline() if published > when}
    assert not later & set(shown)


def test_every_embed_of_the_sample_parses_strictly() -> None:
    service = _service()
    catalogue = service.catalogue
    pages: list[urls.Route] = [urls.Widget(key) for key in catalogue.listed_feeds(NOW)[:12]]
    for article in catalogue.articles:
        if article.published > NOW:
            continue
        pages.append(urls.ArticleCard(article.lang, article.slug))
        for reaction in catalogue.content(article).reactions[:1]:
            pages.append(urls.QuoteCard(article.lang, article.slug, reaction.expert_id))
    assert len(pages) > 40
    for route in pages:
        body = service.get(urls.path(route).partition("?")[0], "", NOW).body
        parse_strict(body)
        assert b'type="application/json+oembed"' in body
