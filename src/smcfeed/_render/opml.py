"""``/feeds.opml``: OPML 2.0 lists of our feeds."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from email.utils import format_datetime

from lxml import etree

from .. import urls
from ..catalogue import Catalogue, FeedKey
from . import i18n as _i18n
from .view import feed_title, feed_url

FORMAT_NAMES = {"rss": "RSS 2.0", "atom": "Atom 1.0", "json": "JSON Feed 1.1"}


def render_opml(catalogue: Catalogue, keys: Sequence[FeedKey], updated: datetime) -> bytes:
    site = catalogue.site
    lang = site.default_language
    opml = etree.Element("opml", version="2.0")
    head = etree.SubElement(opml, "head")
    etree.SubElement(head, "title").text = site.title[lang]
    etree.SubElement(head, "dateModified").text = format_datetime(updated)
    etree.SubElement(head, "ownerName").text = site.title[lang]
    etree.SubElement(head, "docs").text = "http://opml.org/spec2.opml"
    body = etree.SubElement(opml, "body")
    groups: dict[str, etree._Element] = {}
    for key in keys:
        if key.lang not in groups:
            groups[key.lang] = etree.SubElement(
                body, "outline", text=_i18n.language_name(key.lang, key.lang)
            )
        title = feed_title(catalogue, key)
        for fmt in (f.name for f in urls.FORMATS):
            etree.SubElement(
                groups[key.lang],
                "outline",
                type="rss",
                text=f"{title} ({FORMAT_NAMES[fmt]})",
                title=title,
                xmlUrl=feed_url(site, key, fmt),
                htmlUrl=site.website,
                language=key.lang,
                version={"rss": "RSS2", "atom": "ATOM", "json": "JSONFEED"}[fmt],
            )
    return bytes(etree.tostring(opml, xml_declaration=True, encoding="UTF-8", pretty_print=True))
