"""The browser stylesheet (static/feed.xsl) turns our real RSS and Atom feeds into a readable page.

Feeds are rendered through the same core as the web app, at a fixed instant, and run
through lxml's XSLT (libxslt, the engine Chromium uses too).
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from functools import cache
from pathlib import Path

import lxml.html
import pytest
from lxml import etree

from smcfeed import urls
from smcfeed._content.loader import load_content
from smcfeed.clock import FixedClock
from smcfeed.service import Smcfeed

ROOT = Path(__file__).resolve().parents[1]
STYLESHEET = ROOT / "src" / "smcfeed" / "static" / "feed.xsl"
CONTENT = ROOT / "content"
#: The instant the feeds are rendered at: fixed, never the wall clock.
CLOCK = FixedClock(datetime(2026, 11, 25, 12, tzinfo=UTC))

ATOM = "http://www.w3.org/2005/Atom"
NS = {"atom": ATOM}


@cache
def _core() -> Smcfeed:
    catalogue = load_content(CONTENT).catalogue
    assert catalogue is not None
    return Smcfeed(catalogue)


@cache
def _transform() -> etree.XSLT:
    return etree.XSLT(etree.parse(str(STYLESHEET)))


@cache
def _feed(path: str, page: str | None = None) -> bytes:
    route = urls.parse(path)
    assert isinstance(route, urls.Feed)
    if page:
        route = dataclasses.replace(route, page=int(page))
    return _core().get(urls.path(route), "", CLOCK()).body


def _render(
    path: str, page: str | None = None
) -> tuple[etree._Element, lxml.html.HtmlElement, str]:
    """The feed's XML root, and the page the stylesheet makes of it (parsed and as text)."""
    body = _feed(path, page)
    feed = etree.fromstring(body)
    transform = _transform()
    result = transform(feed.getroottree())
    assert not [e for e in transform.error_log if e.level_name == "ERROR"], transform.error_log
    text = str(result)
    return feed, lxml.html.fromstring(text), text


def _items(feed: etree._Element) -> list[tuple[str, str]]:
    """(title, link) of each item, read from the feed itself."""
    if feed.tag == "rss":
        return [
            (i.findtext("title", "").strip(), i.findtext("link", "").strip())
            for i in feed.iterfind("channel/item")
        ]
    items = []
    for entry in feed.iterfind("atom:entry", NS):
        alternates = entry.xpath("atom:link[not(@rel) or @rel='alternate']", namespaces=NS)
        lang = feed.get("{http://www.w3.org/XML/1998/namespace}lang", "")
        main = [a for a in alternates if a.get("hreflang") in (None, lang)] or alternates
        items.append((entry.findtext("atom:title", "", NS).strip(), main[0].get("href")))
    return items


def _feed_link(feed: etree._Element, rel: str) -> str | None:
    links = feed.xpath(
        "channel/atom:link[@rel=$rel] | atom:link[@rel=$rel]", namespaces=NS, rel=rel
    )
    return links[0].get("href") if links else None


def _text(el: lxml.html.HtmlElement) -> str:
    return " ".join(el.text_content().split())


FEEDS = ["/es/rss.xml", "/en/atom.xml"]


@pytest.mark.parametrize("path", FEEDS)
def test_title_and_subtitle(path: str) -> None:
    feed, page, _ = _render(path)
    title = " ".join(feed.xpath("string(channel/title | atom:title)", namespaces=NS).split())
    subtitle = feed.xpath("string(channel/description | atom:subtitle)", namespaces=NS)
    subtitle = " ".join(subtitle.split())
    assert title and subtitle
    assert _text(page.xpath("//h1")[0]) == title
    assert title in page.findtext(".//title")
    assert subtitle in _text(page)


@pytest.mark.parametrize("path", FEEDS)
@pytest.mark.parametrize("page_number", [None, "2"])
def test_every_item_is_linked(path: str, page_number: str | None) -> None:
    feed, page, _ = _render(path, page_number)
    items = _items(feed)
    assert items, "the sample content should fill this page"
    headings = page.xpath("//*[contains(concat(' ', @class, ' '), ' item-title ')]/a")
    assert [(_text(a), a.get("href")) for a in headings] == items


@pytest.mark.parametrize("path", FEEDS)
def test_summaries_and_categories(path: str) -> None:
    feed, page, _ = _render(path)
    text = _text(page)
    first = feed.xpath("(channel/item | atom:entry)[1]", namespaces=NS)[0]
    summary = first.findtext("description") or first.findtext("atom:summary", namespaces=NS)
    assert " ".join(summary.split()) in text
    for category in first.xpath("category | atom:category", namespaces=NS):
        label = category.get("label") or category.text
        assert label.strip() in text


@pytest.mark.parametrize(
    ("path", "lang", "wording"),
    [
        ("/es/rss.xml", "es", "Esto es un feed"),
        ("/en/rss.xml", "en", "This is a feed"),
        ("/es/atom.xml", "es", "Esto es un feed"),
        ("/en/atom.xml", "en", "This is a feed"),
    ],
)
def test_banner_speaks_the_feed_language(path: str, lang: str, wording: str) -> None:
    feed, page, _ = _render(path)
    banner = page.get_element_by_id("about-feeds")
    assert banner.get("lang") == lang
    assert wording in _text(banner)
    other = "This is a feed" if lang == "es" else "Esto es un feed"
    assert other not in _text(page)
    # The address to subscribe to is the feed's first page.
    first = _feed_link(feed, "first")
    assert first is not None
    assert first in _text(banner)


@pytest.mark.parametrize("path", FEEDS)
def test_paging_links(path: str) -> None:
    feed, page, _ = _render(path)
    next_href = _feed_link(feed, "next")
    assert next_href, "feed_size 10 in the sample content gives a second page"
    assert [a.get("href") for a in page.xpath("//a[@rel='next']")] == [next_href]
    assert not page.xpath("//a[@rel='prev']")

    feed2, page2, _ = _render(path, "2")
    previous = _feed_link(feed2, "previous")
    assert previous
    assert [a.get("href") for a in page2.xpath("//a[@rel='prev']")] == [previous]
    if _feed_link(feed2, "next") is None:
        assert not page2.xpath("//a[@rel='next']")


@pytest.mark.parametrize("path", FEEDS)
def test_plain_html_page(path: str) -> None:
    _, page, text = _render(path)
    assert not page.xpath("//script | //iframe | //object | //embed | //link[@rel='stylesheet']")
    assert not page.xpath("//@*[starts-with(name(), 'on')]")
    # Nothing loaded from elsewhere: only links to follow.
    assert not page.xpath("//img | //@src")
    assert page.xpath("//meta[@name='viewport']")
    assert page.xpath("//style")
    assert text.lower().startswith("<!doctype html")
    # Full content stays out: it is escaped HTML the stylesheet must not half-render.
    assert "&lt;p&gt;" not in text and "<blockquote" not in text
