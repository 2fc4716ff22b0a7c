"""A quote as a partner prints it in an embed: an excerpt of the expert's words (never the
editor's questions), the labelled conflicts line, and what it was translated from."""

from __future__ import annotations

from collections.abc import Iterable

from ..models import Reaction
from . import i18n as _i18n
from .view import ReactionView


def excerpt(reaction: Reaction, limit: int = 200) -> str:
    """The expert's first words (never a question), cut at a word near ``limit`` characters."""
    text = " ".join(" ".join(s.text for s in reaction.segments if s.text).split())
    if len(text) <= limit:
        return text
    cut = text[:limit].rsplit(" ", 1)[0].rstrip(",;:.-–— ")
    return cut + "…"


def find(reactions: Iterable[ReactionView], wanted: str) -> ReactionView | None:
    """The reaction with id ``wanted``, if the article has it."""
    return next((r for r in reactions if r.id == wanted), None)


def conflicts(view: ReactionView, lang: str) -> str:
    """The conflicts line, labelled when it is the expert's own declaration."""
    if view.conflicts_kind == "declared":
        return _i18n.text(lang, "conflicts.label", text=view.conflicts_text)
    return view.conflicts_text


def note(view: ReactionView, lang: str) -> str:
    """What the quote was translated from, when it was (who gathered it is in the credit)."""
    if view.translated_from is None:
        return ""
    return _i18n.text(lang, "translated_from", language=view.translated_from.name) + "."
