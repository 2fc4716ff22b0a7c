"""A quote as a partner prints it: the editor's questions kept apart from the expert's words,
an excerpt, the reaction's id and the credit line."""

from __future__ import annotations

import re
from dataclasses import dataclass
from html import unescape

from ..models import Reaction, Site
from . import i18n as _i18n
from . import markdown as _markdown

#: A question heading inside a quote's HTML (the editor's words, never the expert's).
_HEADING = re.compile(r"<h([2-6])>(.*?)</h\1>", re.S)


@dataclass(frozen=True)
class Segment:
    """Part of a quote: the editor's question (if any) and the expert's answer."""

    #: The editor's question heading, as plain text; None before the first heading.
    question: str | None
    #: The expert's words, sanitised HTML.
    text_html: str
    #: The expert's words, plain text.
    text: str


def segments(reaction: Reaction) -> list[Segment]:
    """The quote split at its question headings."""
    html = reaction.quote_html
    found: list[Segment] = []
    question: str | None = None
    start = 0
    for match in _HEADING.finditer(html):
        _add(found, question, html[start : match.start()])
        question = unescape(re.sub(r"<[^>]+>", "", match[2])).strip()
        start = match.end()
    _add(found, question, html[start:])
    return found


def _add(found: list[Segment], question: str | None, part: str) -> None:
    part = part.strip()
    if part or question:
        found.append(Segment(question, part, _markdown.plain_text(part) if part else ""))


def excerpt(reaction: Reaction, limit: int = 200) -> str:
    """The expert's first words (never a question), cut at a word near ``limit`` characters."""
    text = " ".join(s.text for s in segments(reaction) if s.text)
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[:limit].rsplit(" ", 1)[0].rstrip(",;:.-–— ")
    return cut + "…"


def reaction_id(reaction: Reaction) -> str:
    """The reaction's id in URLs (the quote card's address)."""
    return reaction.expert_id


def find(reactions: tuple[Reaction, ...], wanted: str) -> Reaction | None:
    """The reaction with id ``wanted``, if the article has it."""
    return next((r for r in reactions if reaction_id(r) == wanted), None)


def credit(site: Site, lang: str, via: str | None = None) -> str:
    """The line a republisher prints with a quote, with "via …" when a sister centre
    gathered it."""
    line = site.license.attribution[lang]
    if via:
        line = f"{line} {_i18n.text(lang, 'via', via=via)}."
    return line


def note(reaction: Reaction, lang: str) -> str:
    """Who gathered the quote and what it was translated from, when either is set."""
    notes = []
    if reaction.via:
        notes.append(_i18n.text(lang, "via", via=reaction.via))
    if reaction.translated_from:
        name = _i18n.language_name(reaction.translated_from, lang)
        notes.append(_i18n.text(lang, "translated_from", language=name))
    return ". ".join(notes) + "." if notes else ""


def conflicts(reaction: Reaction, lang: str) -> str:
    """The conflicts line, labelled when it is the expert's own declaration."""
    line = _i18n.conflicts_line(reaction.conflicts, lang)
    if reaction.conflicts in ("none", "not_responded"):
        return line
    return _i18n.text(lang, "conflicts.label", text=line)
