"""oEmbed 1.0 (https://oembed.com): discovery links for our pages, and ``rich`` responses that
embed a card or widget in an iframe."""

from __future__ import annotations

from dataclasses import dataclass
from html import escape
from typing import Any
from xml.sax.saxutils import escape as xml_escape

import orjson

from .. import urls
from ..models import Site

#: Media types of the discovery links, by format (oEmbed 1.0, section 4).
LINK_TYPES = {"json": "application/json+oembed", "xml": "text/xml+oembed"}


def discovery(site: Site, route: urls.Route) -> list[dict[str, str]]:
    """``<link rel="alternate">`` attributes advertising oEmbed for the page at ``route``
    (``type``, ``href``, ``title``), JSON first."""
    target = urls.url(site.root, route)
    return [
        {
            "type": media,
            "href": urls.url(site.root, urls.OEmbed(target, fmt)),
            "title": f"oEmbed ({fmt.upper()})",
        }
        for fmt, media in LINK_TYPES.items()
    ]


def discovery_html(site: Site, route: urls.Route) -> str:
    """The discovery links as HTML, for pages not built from a template."""
    return "\n".join(
        f'<link rel="alternate" type="{link["type"]}" href="{escape(link["href"])}" '
        f'title="{escape(link["title"])}">'
        for link in discovery(site, route)
    )


@dataclass(frozen=True)
class Embed:
    """What an oEmbed response describes: one of our embeds and its natural size."""

    #: The embed's URL (the iframe's ``src``).
    url: str
    #: Its title.
    title: str
    #: Who the content is by (the expert for a quote; the centre otherwise).
    author_name: str
    author_url: str | None
    #: The embed's language.
    lang: str
    #: Natural size in CSS pixels, before the consumer's maxwidth/maxheight.
    width: int
    height: int


def response(site: Site, embed: Embed, request: urls.OEmbed) -> bytes:
    """The ``rich`` oEmbed response for ``embed``, in the format ``request`` asks for, never
    larger than its ``maxwidth``/``maxheight``."""
    width = min(embed.width, request.maxwidth or embed.width)
    height = min(embed.height, request.maxheight or embed.height)
    iframe = (
        f'<iframe src="{escape(embed.url)}" width="{width}" height="{height}" '
        f'title="{escape(embed.title)}" loading="lazy" '
        f'style="border:0;max-width:100%"></iframe>'
    )
    fields: dict[str, Any] = {
        "version": "1.0",
        "type": "rich",
        "title": embed.title,
        "author_name": embed.author_name,
        "author_url": embed.author_url,
        "provider_name": site.title[embed.lang],
        "provider_url": site.website,
        "html": iframe,
        "width": width,
        "height": height,
    }
    fields = {k: v for k, v in fields.items() if v is not None}
    if request.fmt == "xml":
        lines = "".join(f"<{k}>{xml_escape(str(v))}</{k}>" for k, v in fields.items())
        return (
            f'<?xml version="1.0" encoding="utf-8" standalone="yes"?>\n<oembed>{lines}</oembed>\n'
        ).encode()
    return orjson.dumps(fields, option=orjson.OPT_INDENT_2)
