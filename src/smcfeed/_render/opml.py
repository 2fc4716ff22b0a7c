"""``/feeds.opml`` (OPML 2.0) and ``/`` (an HTML index with autodiscovery links)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from email.utils import format_datetime
from html import escape

from lxml import etree

from ..catalogue import Catalogue, FeedKey
from . import i18n as _i18n
from .view import FILE_NAMES, MEDIA_TYPES, feed_title, feed_url

_FORMAT_NAMES = {"rss": "RSS 2.0", "atom": "Atom 1.0", "json": "JSON Feed 1.1"}


def listed_feeds(catalogue: Catalogue, now: datetime) -> list[FeedKey]:
    """Feeds worth listing: each language's main feed, and every slice with a visible item."""
    keys = [FeedKey(lang) for lang in catalogue.site.languages]
    keys += [
        key for key in catalogue.feed_keys() if key.kind != "all" and catalogue.items(key, now)
    ]
    order = {lang: i for i, lang in enumerate(catalogue.site.languages)}
    kinds = {"all": 0, "topics": 1, "types": 2, "experts": 3}
    return sorted(keys, key=lambda k: (order[k.lang], kinds[k.kind], k.value))


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
        for fmt in FILE_NAMES:
            etree.SubElement(
                groups[key.lang],
                "outline",
                type="rss",
                text=f"{title} ({_FORMAT_NAMES[fmt]})",
                title=title,
                xmlUrl=feed_url(site, key, fmt),
                htmlUrl=site.website,
                language=key.lang,
                version={"rss": "RSS2", "atom": "ATOM", "json": "JSONFEED"}[fmt],
            )
    return bytes(etree.tostring(opml, xml_declaration=True, encoding="UTF-8", pretty_print=True))


def render_index(catalogue: Catalogue, keys: Sequence[FeedKey]) -> bytes:
    site = catalogue.site
    lang = site.default_language
    head_links = [
        f'<link rel="alternate" type="{MEDIA_TYPES[fmt]}" hreflang="{key.lang}" '
        f'title="{escape(feed_title(catalogue, key))} ({_FORMAT_NAMES[fmt]})" '
        f'href="{escape(feed_url(site, key, fmt))}">'
        for key in keys
        if key.kind == "all"
        for fmt in FILE_NAMES
    ]
    sections = []
    for language in site.languages:
        rows = []
        for key in (k for k in keys if k.lang == language):
            links = " · ".join(
                f'<a href="{escape(feed_url(site, key, fmt))}">{fmt.upper()}</a>'
                for fmt in FILE_NAMES
            )
            kind = _i18n.text(language, key.kind)
            rows.append(
                f"<li>{escape(feed_title(catalogue, key))} <small>({kind})</small> {links}</li>"
            )
        name = _i18n.language_name(language, language)
        sections.append(
            f'<section lang="{language}"><h2>{escape(name)}</h2><ul>{"".join(rows)}</ul></section>'
        )
    html = f"""<!doctype html>
<html lang="{lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{escape(site.title[lang])} — {_i18n.text(lang, "feeds")}</title>
{chr(10).join(head_links)}
<link rel="outline" type="text/x-opml" title="OPML" href="{site.root}/feeds.opml">
<style>body{{font:16px/1.5 system-ui,sans-serif;max-width:48rem;margin:2rem auto;padding:0 1rem}}
li{{margin:.3rem 0}}small{{color:#666}}</style>
</head>
<body>
<h1>{escape(site.title[lang])}</h1>
<p>{escape(site.description[lang])} <a href="{site.root}/feeds.opml">OPML</a></p>
{chr(10).join(sections)}
<p><small>{escape(site.license.attribution[lang])}
<a rel="license" href="{escape(site.license.url)}">{escape(site.license.name)}</a></small></p>
</body>
</html>
"""
    return html.encode()
