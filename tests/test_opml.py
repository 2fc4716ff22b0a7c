"""The two OPML lists: ``/feeds.opml``, safe to import whole (one feed per language, one
format), and ``/feeds/{fmt}.opml``, the catalogue of every feed with something public in one
format, grouped language → kind. Parsed with listparser, as many readers' importers do."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

import listparser
import pytest
from lxml import etree

from smcfeed import FeedKey, Smcfeed, load_content, urls
from smcfeed.service import Request

from ._support import NOW, SAMPLE
from .conftest import ContentDir


@pytest.fixture(scope="module")
def service() -> Smcfeed:
    catalogue = load_content(SAMPLE).catalogue
    assert catalogue is not None
    return Smcfeed(catalogue)


def _opml(service: Smcfeed, fmt: str | None, now: datetime = NOW) -> bytes:
    return service.render(Request(urls.Opml(fmt)), now).body


def _public_keys(service: Smcfeed) -> list[FeedKey]:
    catalogue = service.catalogue
    return [k for k in catalogue.listed_feeds(NOW) if catalogue.items(k, NOW)]


def test_default_opml_lists_one_feed_per_language_in_one_format(service: Smcfeed) -> None:
    parsed = listparser.parse(_opml(service, None))

    assert not parsed.bozo, parsed.get("bozo_exception")
    site = service.site
    assert [f.url for f in parsed.feeds] == [
        urls.url(site.root, urls.Feed(FeedKey(lang), "atom")) for lang in site.languages
    ]
    assert [f.title for f in parsed.feeds] == [site.title[lang] for lang in site.languages]
    document = etree.fromstring(_opml(service, None))
    outlines = document.findall(".//outline")
    assert {(o.get("type"), o.get("version")) for o in outlines} == {("rss", "ATOM")}


@pytest.mark.parametrize("fmt", ["rss", "atom", "json"])
def test_catalogue_lists_every_public_feed_in_one_format_grouped(
    service: Smcfeed, fmt: str
) -> None:
    parsed = listparser.parse(_opml(service, fmt))

    assert not parsed.bozo, parsed.get("bozo_exception")
    site = service.site
    keys = _public_keys(service)
    assert [f.url for f in parsed.feeds] == [
        urls.url(site.root, urls.Feed(key, fmt)) for key in keys
    ]
    # Grouped language → kind: listparser reports each feed's enclosing outlines.
    names = {"es": "Español", "en": "English"}
    kinds = {
        "es": {
            "all": "Todos los artículos",
            "topics": "Temas",
            "types": "Tipos",
            "experts": "Expertos",
        },
        "en": {"all": "All articles", "topics": "Topics", "types": "Types", "experts": "Experts"},
    }
    assert [f.categories for f in parsed.feeds] == [
        [[names[k.lang], kinds[k.lang][k.kind]]] for k in keys
    ]
    assert {k.kind for k in keys} == {"all", "topics", "types", "experts"}
    other = {f.name for f in urls.FORMATS} - {fmt}
    body = _opml(service, fmt).decode()
    for name in other:
        assert urls.BY_NAME[name].file not in body
    document = etree.fromstring(_opml(service, fmt))
    feeds = [o for o in document.iter("outline") if o.get("xmlUrl")]
    version = {"rss": "RSS2", "atom": "ATOM", "json": "JSONFEED"}[fmt]
    assert {(o.get("type"), o.get("version")) for o in feeds} == {("rss", version)}


def test_json_feed_is_only_in_the_json_catalogue(service: Smcfeed) -> None:
    for fmt in (None, "rss", "atom"):
        assert b"feed.json" not in _opml(service, fmt)
    assert b"feed.json" in _opml(service, "json")


def test_opml_paths(service: Smcfeed) -> None:
    assert urls.path(urls.Opml()) == "/feeds.opml"
    for fmt in ("rss", "atom", "json"):
        assert urls.parse(f"/feeds/{fmt}.opml") == urls.Opml(fmt)
        assert service.get(f"/feeds/{fmt}.opml", "", NOW).media_type == urls.OPML_TYPE


def test_a_feed_with_only_embargoed_items_is_listed_nowhere_until_the_lift(
    make_content: Callable[[], ContentDir],
) -> None:
    content = make_content()
    lift = NOW + timedelta(days=3)
    content.write(
        "articles/2026/secret.en.md",
        f"""\
        ---
        type: briefing
        title: A secret briefing
        published: {lift.isoformat()}
        topics: [space]
        summary: Embargoed.
        ---
        Text.
        """,
    )
    # No public article of the type "briefing" in English: its feed has nothing public yet.
    result = load_content(content)
    assert result.catalogue is not None and not result.errors
    service = Smcfeed(result.catalogue)
    before = {fmt: _opml(service, fmt, NOW) for fmt in (None, "rss", "atom", "json")}
    after = {fmt: _opml(service, fmt, lift) for fmt in (None, "rss", "atom", "json")}

    for fmt in ("rss", "atom", "json"):
        assert b"/en/types/briefing/" not in before[fmt]
        assert b"/en/types/briefing/" in after[fmt]
    assert b"/en/types/briefing/" not in after[None]
