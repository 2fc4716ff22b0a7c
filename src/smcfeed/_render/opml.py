"""OPML 2.0 lists of our feeds: one safe to import whole, and the full catalogue per format.

``/feeds.opml`` lists one feed per language, in one format (Atom): importing it whole gives a
reader each article once per language. Every topic, type and expert feed holds articles that
the language's feed holds too, and one feed in three formats carries the same item ids three
times, so a list of them all floods readers that key items by feed (``reader`` shows the
same article many times) and empties feeds in readers that key them by id (newsboat keeps an
item in one feed only).

``/feeds/{fmt}.opml`` is the catalogue to pick from: every feed with something public, in
one format, grouped by language, then by kind (all, topics, types, experts).
"""

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
#: The format of ``/feeds.opml``: see the README ("OPML") for why Atom.
DEFAULT_FORMAT = "atom"
#: The ``version`` attribute readers use to tell formats apart (RSS, ATOM, JSONFEED).
_VERSIONS = {"rss": "RSS2", "atom": "ATOM", "json": "JSONFEED"}


def _document(title: str, updated: datetime) -> tuple[etree._Element, etree._Element]:
    opml = etree.Element("opml", version="2.0")
    head = etree.SubElement(opml, "head")
    etree.SubElement(head, "title").text = title
    etree.SubElement(head, "dateModified").text = format_datetime(updated)
    etree.SubElement(head, "ownerName").text = title
    etree.SubElement(head, "docs").text = "http://opml.org/spec2.opml"
    return opml, etree.SubElement(opml, "body")


def _feed(parent: etree._Element, catalogue: Catalogue, key: FeedKey, fmt: str) -> None:
    site = catalogue.site
    title = feed_title(catalogue, key)
    etree.SubElement(
        parent,
        "outline",
        type=urls.BY_NAME[fmt].opml_type,
        text=title,
        title=title,
        xmlUrl=feed_url(site, key, fmt),
        htmlUrl=site.website,
        language=key.lang,
        version=_VERSIONS[fmt],
    )


def _bytes(opml: etree._Element) -> bytes:
    return bytes(etree.tostring(opml, xml_declaration=True, encoding="UTF-8", pretty_print=True))


def _public(catalogue: Catalogue, keys: Sequence[FeedKey], now: datetime) -> list[FeedKey]:
    return [key for key in keys if catalogue.items(key, now)]


def render_opml(
    catalogue: Catalogue, keys: Sequence[FeedKey], updated: datetime, now: datetime
) -> bytes:
    """``/feeds.opml``: each language's feed of everything, in Atom, safe to import whole."""
    site = catalogue.site
    lang = site.default_language
    opml, body = _document(site.title[lang], updated)
    for key in _public(catalogue, [k for k in keys if k.kind == "all"], now):
        _feed(body, catalogue, key, DEFAULT_FORMAT)
    return _bytes(opml)


def render_catalogue(
    catalogue: Catalogue, keys: Sequence[FeedKey], fmt: str, updated: datetime, now: datetime
) -> bytes:
    """``/feeds/{fmt}.opml``: every feed with something public, in ``fmt``, grouped by
    language and then by kind. Importing it whole brings each article in several times."""
    site = catalogue.site
    lang = site.default_language
    opml, body = _document(f"{site.title[lang]} — {FORMAT_NAMES[fmt]}", updated)
    languages: dict[str, etree._Element] = {}
    kinds: dict[tuple[str, str], etree._Element] = {}
    for key in _public(catalogue, keys, now):
        group = languages.get(key.lang)
        if group is None:
            name = _i18n.language_name(key.lang, key.lang)
            name = name[:1].upper() + name[1:]
            group = languages[key.lang] = etree.SubElement(
                body, "outline", text=name, title=name, language=key.lang
            )
        kind = kinds.get((key.lang, key.kind))
        if kind is None:
            label = _i18n.text(key.lang, key.kind)
            kind = kinds[(key.lang, key.kind)] = etree.SubElement(
                group, "outline", text=label, title=label
            )
        _feed(kind, catalogue, key, fmt)
    return _bytes(opml)
