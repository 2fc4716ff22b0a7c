"""HTML pages for people: the index, a feed opened in a browser, and each article's page.

Pages are Jinja2 templates (``templates/``) with autoescape on: plain text is escaped once, by
the template engine; only the Markdown renderer's sanitised HTML (quote segments, bodies) is
inserted as it is, through ``markup(…)`` in the templates. The JSON-LD in article pages is
escaped for a ``<script>`` element.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any

import orjson
from jinja2 import Environment
from markupsafe import Markup

from .. import urls
from ..catalogue import Catalogue, FeedKey
from ..models import Site
from . import i18n as _i18n
from . import oembed as _oembed
from . import templating as _templating
from .opml import FORMAT_NAMES
from .view import FeedPage, Item, feed_title, feed_url

#: Characters that could end a ``<script>`` element or start markup, as JSON escapes.
_SCRIPT_SAFE = {ord("<"): "\\u003c", ord(">"): "\\u003e", ord("&"): "\\u0026"}


@cache
def _environment() -> Environment:
    """The package's one Jinja2 setup (:mod:`.templating`), plus the JSON-LD filter."""
    env = _templating.ENV.overlay()
    env.filters["jsonld"] = json_for_script
    return env


def json_for_script(value: object) -> Markup:
    """``value`` as JSON that is safe inside ``<script type="application/ld+json">``: no
    ``<``, ``>`` or ``&`` can appear, so no text can close the element or open a comment."""
    text = orjson.dumps(value, option=orjson.OPT_INDENT_2).decode()
    return Markup(text.translate(_SCRIPT_SAFE))


def _render(template: str, lang: str, **context: Any) -> bytes:
    def t(key: str, **values: object) -> str:
        return _i18n.text(lang, key, **values)

    page = (
        _environment()
        .get_template(template)
        .render(lang=lang, t=t, text=_i18n.text, language_name=_i18n.language_name, **context)
    )
    return page.encode()


@dataclass(frozen=True)
class FeedLink:
    """One feed as a page links to it: in each format, with a title."""

    key: FeedKey
    title: str
    #: (format name, label, media type, URL), in the order feeds are listed.
    formats: tuple[tuple[str, str, str, str], ...]

    @property
    def lang(self) -> str:
        return self.key.lang


def feed_link(catalogue: Catalogue, key: FeedKey) -> FeedLink:
    site = catalogue.site
    return FeedLink(
        key,
        feed_title(catalogue, key),
        tuple(
            (f.name, FORMAT_NAMES[f.name], f.media_type, feed_url(site, key, f.name))
            for f in urls.FORMATS
        ),
    )


def _date(site: Site) -> Callable[[datetime], str]:
    return lambda instant: instant.astimezone(site.zone).date().isoformat()


def _common(site: Site, lang: str, page: urls.Route | None = None) -> dict[str, Any]:
    """What every page shows; ``page``, the public route of the page, is what its oEmbed
    discovery links point at (private pages have none)."""
    return {
        "oembed": _oembed.discovery(site, page) if page is not None else [],
        "site": site,
        "site_title": site.title[lang],
        "home": urls.url(site.root, urls.Index()),
        "opml": urls.url(site.root, urls.Opml()),
        "license": site.license,
        "attribution": site.license.attribution[lang],
        "date": _date(site),
        "markup": Markup,
    }


def render_index(catalogue: Catalogue, keys: Sequence[FeedKey]) -> bytes:
    """``/``: every listed feed, grouped by language and kind, with autodiscovery links."""
    site = catalogue.site
    lang = site.default_language
    groups: list[tuple[str, list[tuple[str, list[FeedLink]]]]] = []
    for language in site.languages:
        kinds: dict[str, list[FeedLink]] = {}
        for key in keys:
            if key.lang == language:
                kinds.setdefault(key.kind, []).append(feed_link(catalogue, key))
        groups.append((language, list(kinds.items())))
    discovered = [feed_link(catalogue, k) for k in keys if k.kind == "all"]
    return _render(
        "index.html",
        lang,
        groups=groups,
        discovered=discovered,
        description=site.description[lang],
        **_common(site, lang, urls.Index()),
    )


def render_feed_page(
    catalogue: Catalogue, page: FeedPage, fmt: str, others: Sequence[FeedKey]
) -> bytes:
    """A feed as a page for a browser: its items with their quotes, how to subscribe in each
    format, the same feed in ``others`` (other languages), and the feed's paging."""
    site, lang = page.site, page.lang
    paging: list[tuple[str, str]] = [("first", page.url(fmt, 1))]
    if page.page > 1:
        paging.append(("prev", page.url(fmt, page.page - 1)))
    if page.page < page.last_page:
        paging.append(("next", page.url(fmt, page.page + 1)))
    paging.append(("last", page.url(fmt, page.last_page)))
    return _render(
        "feed.html",
        lang,
        feed=page,
        fmt=fmt,
        this=feed_link(catalogue, page.key),
        self_url=page.url(fmt, 1),
        others=[feed_link(catalogue, key) for key in others],
        paging=paging,
        **_common(
            site, lang, urls.Feed(page.key, fmt, page.page) if page.audience is None else None
        ),
    )


def render_article_page(site: Site, item: Item, public: bool = True) -> bytes:
    """``/{lang}/articles/{slug}``: one article with its quotes, study, licence, translations
    and schema.org JSON-LD; a ``public`` page advertises oEmbed."""
    lang = item.lang
    route = urls.Article(lang, item.slug, "html")
    return _render(
        "article.html",
        lang,
        item=item,
        article=item.article,
        study_url=_study_url(item),
        json_ld=json_ld(site, item),
        **_common(site, lang, route if public else None),
    )


def _study_url(item: Item) -> str | None:
    study = item.article.study
    if study is None:
        return None
    return study.url or (f"https://doi.org/{study.doi}" if study.doi else None)


def json_ld(site: Site, item: Item) -> object:
    """schema.org ``NewsArticle`` of an article; the quoted experts are its ``contributor``s."""
    article, lang, page_url = item.article, item.lang, item.page_url
    data: dict[str, Any] = {
        "@context": "https://schema.org",
        "@type": "NewsArticle",
        "@id": page_url,
        "url": page_url,
        "mainEntityOfPage": item.url,
        "identifier": item.id,
        "headline": article.title,
        "description": article.summary,
        "inLanguage": lang,
        "datePublished": article.published.isoformat(),
        "dateModified": article.modified.isoformat(),
        "articleSection": item.type_label,
        "keywords": [label for _, label in item.topics],
        "publisher": {"@type": "Organization", "name": site.title[lang], "url": site.website},
        "license": site.license.url,
        "isAccessibleForFree": True,
    }
    image = item.image
    if image is not None:
        data["image"] = {
            "@type": "ImageObject",
            "url": image.url,
            "description": image.alt,
            **({"caption": image.caption} if image.caption else {}),
            **({"creditText": image.credit} if image.credit else {}),
        }
    contributors = []
    for reaction in item.reactions:
        expert = reaction.expert
        person: dict[str, Any] = {
            "@type": "Person",
            "name": expert.name,
            "jobTitle": reaction.role,
            "affiliation": {"@type": "Organization", "name": expert.organisation},
        }
        if expert.url:
            person["url"] = expert.url
        if expert.orcid:
            person["sameAs"] = f"https://orcid.org/{expert.orcid}"
        contributors.append(person)
    if contributors:
        data["contributor"] = contributors
    study = article.study
    if study is not None:
        citation: dict[str, Any] = {"@type": "ScholarlyArticle", "name": study.title}
        if study.journal:
            citation["isPartOf"] = {"@type": "Periodical", "name": study.journal}
        if study.doi:
            citation["identifier"] = {
                "@type": "PropertyValue",
                "propertyID": "DOI",
                "value": study.doi,
            }
        url = _study_url(item)
        if url:
            citation["url"] = url
        if study.published:
            citation["datePublished"] = study.published.isoformat()
        data["citation"] = citation
    if item.translations:
        data["workTranslation"] = [
            {"@type": "NewsArticle", "@id": link.page_url, "inLanguage": link.lang}
            for link in item.translations
        ]
    data["creditText"] = item.credit
    return data
