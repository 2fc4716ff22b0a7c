"""Markdown to safe HTML: markdown-it-py renders, nh3 sanitises and makes URLs absolute."""

from __future__ import annotations

import re
from functools import partial
from html import unescape
from urllib.parse import urljoin, urlsplit

import nh3
from markdown_it import MarkdownIt

_md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False}).enable(
    "table"
)

_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "cite", "code", "dd", "del", "dl", "dt", "em",
    "figcaption", "figure", "h2", "h3", "h4", "h5", "h6", "hr", "i", "img", "li", "ol", "p",
    "pre", "q", "s", "small", "strong", "sub", "sup", "table", "tbody", "td", "th", "thead",
    "tr", "ul",
}  # fmt: skip
_ATTRIBUTES = {
    "a": {"href", "title", "hreflang", "rel"},
    "img": {"src", "alt", "title", "width", "height"},
    "abbr": {"title"},
    "td": {"align"},
    "th": {"align"},
    "ol": {"start"},
}
_SCHEMES = {"http", "https", "mailto"}


def _absolute(base: str, element: str, attribute: str, value: str) -> str | None:
    if attribute not in ("href", "src"):
        return value
    url = urljoin(base, value.strip())
    if urlsplit(url).scheme not in _SCHEMES:
        return None
    return url


def sanitize(html: str, base_url: str) -> str:
    """Keep only harmless markup, and resolve every link against ``base_url``."""
    return nh3.clean(
        html,
        tags=_TAGS,
        attributes=_ATTRIBUTES,
        url_schemes=_SCHEMES,
        link_rel=None,
        attribute_filter=partial(_absolute, base_url + "/"),
    )


def render(markdown: str, base_url: str) -> str:
    """Render Markdown to sanitised HTML; headings are shifted so ``#`` becomes ``h2``."""
    html = _md.render(markdown)
    html = html.replace("<h1>", "<h2>").replace("</h1>", "</h2>")
    return sanitize(html, base_url).strip()


def plain_text(html: str) -> str:
    """Text without markup, paragraphs separated by blank lines."""
    for end in ("</p>", "</h2>", "</h3>", "</h4>", "</li>"):
        html = html.replace(end, end + "\n\n")
    text = unescape(nh3.clean(html, tags=set()))
    return re.sub(r"\n{3,}", "\n\n", text).strip()
