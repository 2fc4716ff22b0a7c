"""Warnings for ``smcfeed check``: things that load but are almost always a mistake.

Plain-text fields (titles, summaries, names, roles, organisations, labels) that look like
HTML markup were nearly always pasted from a web page: they are shown as text, tags and all.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from ..catalogue import Catalogue
from ..exceptions import ContentError
from .parse import article_line, line_in
from .text import Where, excerpt, looks_like_markup


def _message(loc: Where, value: str) -> str:
    name = ".".join(str(p) for p in loc)
    return (
        f"'{name}' looks like HTML markup ('{excerpt(value, 40)}'); it is plain "
        "text, so readers would see the tags: write the words only"
    )


def _texts(labels: dict[str, str], *loc: str | int) -> Iterator[tuple[Where, str]]:
    for lang, label in labels.items():
        yield (*loc, lang), label


def markup_warnings(root: Path, catalogue: Catalogue) -> list[ContentError]:
    """A warning for each plain-text field of the loaded content that looks like markup."""
    warnings: list[ContentError] = []

    def yaml_file(rel: str, fields: Iterator[tuple[Where, str]]) -> None:
        hits = [(loc, value) for loc, value in fields if looks_like_markup(value)]
        if not hits:
            return
        try:
            text = (root / rel).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            text = ""
        for loc, value in hits:
            warnings.append(ContentError(rel, line_in(text, loc), _message(loc, value)))

    site = catalogue.site

    def site_fields() -> Iterator[tuple[Where, str]]:
        yield from _texts(site.title, "title")
        yield from _texts(site.description, "description")
        yield ("license", "name"), site.license.name
        yield from _texts(site.license.attribution, "license", "attribution")
        for slug, labels in site.types.items():
            yield from _texts(labels, "types", slug)

    yaml_file("site.yaml", site_fields())
    yaml_file(
        "topics.yaml",
        (item for slug, labels in catalogue.topics.items() for item in _texts(labels, slug)),
    )
    for key, expert in sorted(catalogue.experts.items()):
        fields: list[tuple[Where, str]] = [
            (("name",), expert.name),
            (("organisation",), expert.organisation),
        ]
        fields += list(_texts(expert.role, "role"))
        yaml_file(f"experts/{key}.yaml", iter(fields))
    for article in sorted(catalogue.articles, key=lambda a: a.path):
        texts: list[tuple[Where, str]] = [
            (("title",), article.title),
            (("summary",), article.summary),
        ]
        if article.study is not None:
            texts.append((("study", "title"), article.study.title))
            if article.study.journal:
                texts.append((("study", "journal"), article.study.journal))
        for loc, value in texts:
            if looks_like_markup(value):
                line = article_line(article, loc)
                warnings.append(ContentError(article.path, line, _message(loc, value)))
    return warnings
