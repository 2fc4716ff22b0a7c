"""RSS 2.0 and Atom 1.0 with feedgen, extended through its extension mechanism.

feedgen gives the core of both formats; what it lacks is added by the extensions below:
RFC 5005 paging and WebSub links in RSS, ``creativeCommons:license``, ``dc:creator``, the
XSLT stylesheet reference, and per-entry ``hreflang`` alternates with the licence link.
"""

from __future__ import annotations

import uuid
from html import escape
from typing import Any

from feedgen.entry import FeedEntry
from feedgen.ext.base import BaseEntryExtension, BaseExtension
from feedgen.feed import FeedGenerator
from lxml import etree

from .view import FeedPage, Item, feed_url

ATOM_NS = "http://www.w3.org/2005/Atom"
CC_NS = "http://backend.userland.com/creativeCommonsRssModule"
DC_NS = "http://purl.org/dc/elements/1.1/"
MEDIA_NS = "http://search.yahoo.com/mrss/"
#: Path of the stylesheet that makes feeds readable in a browser.
STYLESHEET_PATH = "/feed.xsl"


def _paging_links(page: FeedPage, fmt: str) -> list[tuple[str, str]]:
    links = [("first", page.url(fmt, 1)), ("last", page.url(fmt, page.last_page))]
    if page.page > 1:
        links.append(("previous", page.url(fmt, page.page - 1)))
    if page.page < page.last_page:
        links.append(("next", page.url(fmt, page.page + 1)))
    return links


class SmcFeedExtension(BaseExtension):  # type: ignore[misc]
    """Channel-level additions: stylesheet, paging and hub links in RSS, the licence."""

    def __init__(self) -> None:
        self.page: FeedPage | None = None

    def extend_ns(self) -> dict[str, str]:
        return {"creativeCommons": CC_NS, "dc": DC_NS, "media": MEDIA_NS}

    def _stylesheet(self, root: Any) -> None:
        assert self.page is not None
        href = f"{self.page.site.root}{STYLESHEET_PATH}"
        root.addprevious(
            etree.ProcessingInstruction("xml-stylesheet", f'type="text/xsl" href="{href}"')
        )

    def extend_rss(self, rss: Any) -> Any:
        page = self.page
        assert page is not None
        self._stylesheet(rss)
        channel = rss[0]
        for rel, href in _paging_links(page, "rss") + [("hub", h) for h in page.hubs]:
            etree.SubElement(channel, f"{{{ATOM_NS}}}link", rel=rel, href=href)
        etree.SubElement(channel, f"{{{CC_NS}}}license").text = page.site.license.url
        return rss

    def extend_atom(self, feed: Any) -> Any:
        self._stylesheet(feed)
        return feed


class SmcEntryExtension(BaseEntryExtension):  # type: ignore[misc]
    """Item-level additions: creator, licence and picture in RSS; links and picture in Atom."""

    def __init__(self) -> None:
        self.item: Item | None = None
        self.creator = ""
        self.license = ""

    def extend_rss(self, entry: Any) -> Any:
        item = self.item
        assert item is not None
        etree.SubElement(entry, f"{{{DC_NS}}}creator").text = self.creator
        etree.SubElement(entry, f"{{{CC_NS}}}license").text = self.license
        image = item.image
        if image is not None:
            media_type = image.media_type
            if image.length and media_type:
                # RSS requires an enclosure's length and type: only when the editor gave them.
                etree.SubElement(
                    entry, "enclosure", url=image.url, length=str(image.length), type=media_type
                )
            content = etree.SubElement(entry, f"{{{MEDIA_NS}}}content", url=image.url)
            content.set("medium", "image")
            if media_type:
                content.set("type", media_type)
            if image.length:
                content.set("fileSize", str(image.length))
            description = etree.SubElement(content, f"{{{MEDIA_NS}}}description")
            description.text = image.alt
            if image.caption:
                etree.SubElement(content, f"{{{MEDIA_NS}}}title").text = image.caption
            if image.credit:
                etree.SubElement(content, f"{{{MEDIA_NS}}}credit").text = image.credit
        return entry

    def extend_atom(self, entry: Any) -> Any:
        # feedgen allows neither rel="license" nor a second alternate per entry.
        item = self.item
        assert item is not None
        # feedgen 1.0 drops every attribute of an entry link but href: put them back.
        main = next(e for e in entry.iter("link") if e.get("href") == item.url)
        main.attrib.update({"rel": "alternate", "type": "text/html", "hreflang": item.lang})
        # The item's own page is its only rel="alternate": rss-parser reads the first
        # alternate as the item's link, newsboat the last one, feedparser (and reader) the
        # last HTML one, so no order of several alternates suits them all (see README,
        # "Atom entry links"). Translations follow as rel="related" with their hreflang.
        after = main
        for link in item.translations:
            element = etree.Element(
                "link",
                rel="related",
                type="text/html",
                hreflang=link.lang,
                href=link.url,
                title=link.title,
            )
            after.addnext(element)
            after = element
        image = item.image
        if image is not None:
            enclosure = etree.SubElement(entry, "link", rel="enclosure", href=image.url)
            if image.media_type:
                enclosure.set("type", image.media_type)
            if image.length:
                enclosure.set("length", str(image.length))
            enclosure.set("title", image.alt)
        etree.SubElement(entry, "link", rel="license", href=self.license)
        return entry


def _generator(page: FeedPage, fmt: str) -> FeedGenerator:
    site, lang = page.site, page.lang
    fg = FeedGenerator()
    fg.register_extension("smc", SmcFeedExtension, SmcEntryExtension)
    fg.smc.page = page
    fg.id(_feed_id(page))
    fg.title(page.title)
    # A channel's <description> is plain text (the RSS Profile, the W3C validator), unlike an
    # item's (see _entry).
    fg.subtitle(page.description)
    fg.language(lang)
    fg.author({"name": site.title[lang], "uri": site.website})
    fg.link(href=page.url(fmt), rel="self", type=_TYPES[fmt])
    fg.link(href=site.website, rel="alternate", type="text/html")
    fg.rights(f"{site.license.name}. {site.license.attribution[lang]}")
    fg.generator("smcfeed", uri=None)
    fg.updated(page.updated)
    fg.lastBuildDate(page.updated)
    fg.docs("https://www.rssboard.org/rss-specification")
    for item in page.items:
        _entry(fg.add_entry(order="append"), page, item, fmt)
    return fg


_TYPES = {"rss": "application/rss+xml", "atom": "application/atom+xml"}


def _feed_id(page: FeedPage) -> str:
    # From the public URL: a journalist's private feed is the same feed, seen earlier.
    return uuid.uuid5(uuid.NAMESPACE_URL, feed_url(page.site, page.key, "atom", 1)).urn


def _entry(fe: FeedEntry, page: FeedPage, item: Item, fmt: str) -> None:
    site, article = page.site, item.article
    fe.id(item.id)
    fe.guid(item.id, permalink=False)
    fe.title(item.title)
    fe.published(article.published)
    fe.updated(article.modified)
    fe.link(href=item.url, rel="alternate", type="text/html", hreflang=item.lang)
    # Atom's <summary> is text; RSS's <description> is HTML (entity-encoded), so the plain
    # summary is HTML-escaped once for it, then XML-escaped by the serializer like any text.
    fe.summary(article.summary)
    fe.description(escape(article.summary, quote=False))
    fe.content(item.content_html, type="html")
    fe.rights(f"{site.license.name}. {site.license.attribution[item.lang]}")
    categories = [(slug, label, "topics") for slug, label in item.topics]
    categories.append((article.type, item.type_label, "types"))
    for slug, label, kind in categories:
        scheme = f"{site.root}/{item.lang}/{kind}/"
        # RSS shows a category's text to readers: the label; Atom has room for both.
        term = label if fmt == "rss" else slug
        fe.category(term=term, scheme=scheme, label=label)
    for reaction in item.content.reactions:
        person = {"name": reaction.expert.name}
        if reaction.expert.url:
            person["uri"] = reaction.expert.url
        fe.contributor(person)
    fe.smc.item = item
    fe.smc.creator = site.title[item.lang]
    fe.smc.license = site.license.url


def render_rss(page: FeedPage) -> bytes:
    """One RSS 2.0 page."""
    return bytes(_generator(page, "rss").rss_str(pretty=True))


def render_atom(page: FeedPage) -> bytes:
    """One Atom 1.0 page."""
    fg = _generator(page, "atom")
    for rel, href in _paging_links(page, "atom"):
        fg.link(href=href, rel=rel, type=_TYPES["atom"])
    for hub in page.hubs:
        fg.link(href=hub, rel="hub")
    return bytes(fg.atom_str(pretty=True))
