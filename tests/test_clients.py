"""Real clients read our feeds right: the link matrix (each entry's own link as feedparser,
lemon24's reader, newsboat and rss-parser read it) and the OPML imported whole into reader
and newsboat, parsed by listparser."""

from __future__ import annotations

import io
from pathlib import Path

import feedparser
import pytest
from lxml import etree

from smcfeed import FeedKey, urls

from ._support import NOW, SAMPLE
from .clients import (
    Read,
    feed_pages,
    fetch,
    newsboat,
    newsboat_items,
    read_feedparser,
    read_newsboat,
    read_reader,
    read_rss_parser,
    rss_parser_files,
    serving,
)

pytestmark = pytest.mark.e2e
ATOM = "{http://www.w3.org/2005/Atom}"

CLIENTS = ("feedparser", "reader", "newsboat", "rss-parser")


def _read(client: str, feed_urls: list[str], folder: Path) -> Read:
    if client == "feedparser":
        return read_feedparser(feed_urls)
    if client == "reader":
        return read_reader(feed_urls, folder / "reader.sqlite")
    if client == "newsboat":
        return read_newsboat(feed_urls, folder / "newsboat")
    return read_rss_parser(feed_urls, folder / "rss-parser")


def _links(read: Read) -> dict[str, dict[str, str | None]]:
    return {url: {i: link for i, (link, _) in items.items()} for url, items in read.items()}


@pytest.mark.parametrize("fmt", ["atom", "rss"])
@pytest.mark.parametrize("client", CLIENTS)
def test_each_client_reads_every_entrys_own_link(tmp_path: Path, client: str, fmt: str) -> None:
    with serving(SAMPLE) as (_base, service):
        expected, images = feed_pages(service, fmt)
        read = _read(client, list(expected), tmp_path)
    # Every public article, each in its own language's feed, with translations among them.
    visible = {a.path for a in service.catalogue.articles if a.published <= NOW}
    assert sum(len(items) for items in expected.values()) == len(visible)
    assert any(service.catalogue.translations(a, NOW) for a in service.catalogue.articles)

    assert _links(read) == _links(expected)

    # The picture, as far as the client reads one.
    pictures = {i: e for items in read.values() for i, (_, e) in items.items() if e}
    if (client == "rss-parser" and fmt == "atom") or client == "newsboat":
        # rss-parser reads no Atom enclosure; newsboat keeps enclosures for podcasts
        # (audio and video) only.
        wanted = {}
    elif fmt == "rss" and client in ("feedparser", "reader", "rss-parser"):
        # They read <enclosure>, which RSS gives only with a length (media:content always).
        wanted = {i: image.url for i, image in images.items() if image.length}
    else:
        wanted = {i: image.url for i, image in images.items()}
    assert pictures == wanted
    assert images and any(image.length for image in images.values())


def _with_translations_as_alternates(atom: bytes, first: bool) -> bytes:
    """The feed as it would be with each translation as another rel="alternate" link of type
    text/html, before (``first``) or after the entry's own link."""
    document = etree.fromstring(atom)
    for entry in document.iter(f"{ATOM}entry"):
        own = entry.find(f"{ATOM}link[@rel='alternate']")
        assert own is not None
        for related in entry.findall(f"{ATOM}link[@rel='related']"):
            related.set("rel", "alternate")
            entry.remove(related)
            (own.addprevious if first else own.addnext)(related)
    return bytes(etree.tostring(document, xml_declaration=True, encoding="UTF-8"))


@pytest.mark.parametrize("first", [True, False], ids=["translations-first", "own-first"])
def test_no_order_of_several_alternates_suits_every_client(tmp_path: Path, first: bool) -> None:
    """Why translations are rel="related": with them as alternates, whichever order, some
    client reads a translation as the entry's link (see README, "Atom entry links")."""
    with serving(SAMPLE) as (base, service):
        body = fetch(f"{base}/es/atom.xml")
    expected = {
        i: link for i, (link, _) in next(iter(feed_pages(service, "atom")[0].values())).items()
    }
    path = tmp_path / "variant.xml"
    path.write_bytes(_with_translations_as_alternates(body, first))
    reads = {
        "feedparser": {e.id: e.link for e in feedparser.parse(path.read_bytes()).entries},
        "rss-parser": {i: v[0] for i, v in rss_parser_files([str(path)])[str(path)].items()},
    }
    (tmp_path / "nb").mkdir()
    (tmp_path / "nb" / "urls").write_text(f"{path.as_uri()}\n")
    newsboat(tmp_path / "nb", "-x", "reload")
    reads["newsboat"] = {i: v[0] for i, v in newsboat_items(tmp_path / "nb")[path.as_uri()].items()}
    wrong = {name for name, links in reads.items() if links != expected}
    # Translations first: rss-parser (first alternate) goes wrong; own link first: newsboat
    # (last alternate) and feedparser (last HTML alternate) do.
    assert wrong == ({"rss-parser"} if first else {"feedparser", "newsboat"})


def test_default_opml_imported_whole_into_reader_gives_each_article_once_per_language(
    tmp_path: Path,
) -> None:
    from reader import make_reader

    with serving(SAMPLE) as (base, service):
        opml = fetch(f"{base}/feeds.opml")
        reader = make_reader(str(tmp_path / "reader.sqlite"))
        try:
            reader.import_feeds(io.BytesIO(opml))
            reader.update_feeds()
            feeds = [f.url for f in reader.get_feeds()]
            entries = [(e.feed_url, e.id, e.link) for e in reader.get_entries()]
        finally:
            reader.close()
    site, catalogue = service.site, service.catalogue
    assert sorted(feeds) == sorted(
        urls.url(site.root, urls.Feed(FeedKey(lang), "atom")) for lang in site.languages
    )
    # Each entry is one article in one language, and no article in a language comes twice.
    by_link = {a_link for _, _, a_link in entries}
    assert len(by_link) == len(entries)
    assert len({i for _, i, _ in entries}) == len(entries)
    per_language = {
        lang: min(site.feed_size, len(catalogue.items(FeedKey(lang), NOW)))
        for lang in site.languages
    }
    counted: dict[str, int] = {}
    for feed_url, _, _ in entries:
        lang = feed_url.removeprefix(site.root + "/").split("/", 1)[0]
        counted[lang] = counted.get(lang, 0) + 1
    assert counted == per_language


def test_default_opml_imported_whole_into_newsboat_leaves_no_feed_empty(tmp_path: Path) -> None:
    folder = tmp_path / "newsboat"
    with serving(SAMPLE) as (base, service):
        opml = tmp_path / "feeds.opml"
        opml.write_bytes(fetch(f"{base}/feeds.opml"))
        newsboat(folder, "-i", str(opml))
        imported = [line.split()[0] for line in (folder / "urls").read_text().splitlines()]
        newsboat(folder, "-x", "reload")
    items = newsboat_items(folder)
    assert sorted(imported) == sorted(items)
    assert len(imported) == len(service.site.languages)
    assert {url: bool(found) for url, found in items.items()} == {url: True for url in imported}
    ids = [i for found in items.values() for i in found]
    assert len(ids) == len(set(ids))


def test_the_full_rss_catalogue_would_flood_reader(tmp_path: Path) -> None:
    """Why the default OPML lists one feed per language: the catalogue imported whole brings
    articles in several times (every topic, type and expert feed repeats them)."""
    from reader import make_reader

    with serving(SAMPLE) as (base, _service):
        reader = make_reader(str(tmp_path / "reader.sqlite"))
        try:
            reader.import_feeds(io.BytesIO(fetch(f"{base}/feeds/rss.opml")))
            reader.update_feeds()
            entries = [e.link for e in reader.get_entries()]
        finally:
            reader.close()
    assert len(entries) > 2 * len(set(entries))


def test_reader_imports_and_reads_every_feed_of_the_json_catalogue(tmp_path: Path) -> None:
    """JSON Feed outlines carry type="rss" (the one type OPML 2.0 gives subscriptions, and the
    only one reader imports) with version="JSONFEED"; a reader that reads JSON Feed gets them
    all, each with items."""
    from reader import make_reader

    with serving(SAMPLE) as (base, service):
        reader = make_reader(str(tmp_path / "reader.sqlite"))
        try:
            reader.import_feeds(io.BytesIO(fetch(f"{base}/feeds/json.opml")))
            results = list(reader.update_feeds_iter())
            feeds = {f.url: f for f in reader.get_feeds()}
            counts = {url: reader.get_entry_counts(feed=url).total for url in feeds}
        finally:
            reader.close()
    assert [r.error for r in results if r.error] == []
    assert all(url.endswith("/feed.json") for url in feeds)
    assert {f.version for f in feeds.values()} == {"json11"}
    keys = [k for k in service.catalogue.listed_feeds(NOW) if service.catalogue.items(k, NOW)]
    assert len(feeds) == len(keys)
    assert all(counts.values()), counts
