"""Markdown to safe HTML: markdown-it-py renders, nh3 sanitises and makes URLs absolute."""

from __future__ import annotations

import re
from functools import partial
from html import unescape
from urllib.parse import urljoin, urlsplit

import nh3
from markdown_it import MarkdownIt
from markdown_it.token import Token

_md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False}).enable(
    "table"
)

_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "cite", "code", "dd", "del", "dl", "dt", "em",
    "figcaption", "figure", "h2", "h3", "h4", "h5", "h6", "hr", "i", "img", "li", "ol", "p",
    "pre", "q", "s", "section", "small", "strong", "sub", "sup", "table", "tbody", "td", "th",
    "thead", "tr", "ul",
}  # fmt: skip
_ATTRIBUTES = {
    "a": {"href", "title", "hreflang", "rel"},
    "img": {"src", "alt", "title", "width", "height"},
    "abbr": {"title"},
    "td": {"align"},
    "th": {"align"},
    "ol": {"start"},
    "section": {"id"},
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


def split_questions(markdown: str, base_url: str) -> list[tuple[str | None, str]]:
    """A quote cut at its headings: ``(question, answer HTML)`` per part, in order.

    Headings in a quote are the editor's questions. Each part's answer is everything up to the
    next heading; text before the first heading is a part without a question. Parts with
    neither question nor text are left out.
    """
    tokens = _md.parse(markdown)
    parts: list[tuple[str | None, list[Token]]] = [(None, [])]
    index = 0
    while index < len(tokens):
        token = tokens[index]
        if token.type == "heading_open":
            inline = tokens[index + 1]
            question = plain_text(_md.renderer.render([inline], _md.options, {}))
            parts.append((question, []))
            index += 3  # heading_open, inline, heading_close
            continue
        parts[-1][1].append(token)
        index += 1
    out: list[tuple[str | None, str]] = []
    for heading, body in parts:
        html = sanitize(_md.renderer.render(body, _md.options, {}), base_url).strip()
        if heading is not None or html:
            out.append((heading, html))
    return out
