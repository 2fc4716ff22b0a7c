"""What a feed page shows, worked out once and shared by every format.

A :class:`FeedPage` is a plain description of one page of one feed at one instant: its items
with their HTML, age labels, translations and structured reactions. The format modules only
lay it out, so RSS, Atom and JSON Feed can never disagree about content.
"""

from __future__ import annotations

import math
import uuid
from dataclasses import dataclass
from datetime import datetime
from html import escape

from .. import urls
from ..ages import Age, age_of, label_since, next_turnover
from ..catalogue import Catalogue, FeedKey
from ..exceptions import NotFound
from ..models import Article, ArticleContent, Reaction, Site
from . import i18n as _i18n
from . import markdown as _markdown

#: The updated time of a feed with no items: fixed, so its bytes are stable.
EPOCH = datetime.fromisoformat("2000-01-01T00:00:00+00:00")


def article_url(site: Site, article: Article) -> str:
    """The article's JSON on this service (its item id is derived from this URL)."""
    return urls.url(site.root, urls.Article(article.lang, article.slug, "json"))


def permalink(site: Site, article: Article) -> str:
    """Where a reader should go: the centre's page when given, else ours."""
    return article.source_url or article_url(site, article)


def item_id(site: Site, article: Article) -> str:
    """A stable id: the same for every edit of the article, different per language."""
    return uuid.uuid5(uuid.NAMESPACE_URL, article_url(site, article)).urn


def feed_url(site: Site, key: FeedKey, fmt: str, page: int = 1) -> str:
    return urls.url(site.root, urls.Feed(key, fmt, page))


@dataclass(frozen=True)
class Link:
    """A link to a version of the item in another language."""

    lang: str
    url: str
    title: str


@dataclass(frozen=True)
class Item:
    """One article as every format shows it."""

    article: Article
    id: str
    url: str
    api_url: str
    topics: tuple[tuple[str, str], ...]
    type_label: str
    age: Age | None
    translations: tuple[Link, ...]
    content_html: str
    #: The quotes and body, rendered.
    content: ArticleContent

    @property
    def lang(self) -> str:
        return self.article.lang


@dataclass(frozen=True)
class FeedPage:
    """One page of one feed at one instant."""

    site: Site
    key: FeedKey
    title: str
    description: str
    page: int
    last_page: int
    items: tuple[Item, ...]
    #: Newest ``updated``/``published`` of the page's items (feed-level updated time).
    updated: datetime
    #: Last instant at which this page's output changed (HTTP Last-Modified).
    changed: datetime
    #: Next instant at which this page's output will change, if any.
    expires: datetime | None

    @property
    def lang(self) -> str:
        return self.key.lang

    def url(self, fmt: str, page: int | None = None) -> str:
        return feed_url(self.site, self.key, fmt, self.page if page is None else page)

    @property
    def home_url(self) -> str:
        return self.site.website


def feed_title(catalogue: Catalogue, key: FeedKey) -> str:
    site, lang = catalogue.site, key.lang
    base = site.title[lang]
    if key.kind == "topics":
        return f"{base} — {catalogue.topics[key.value][lang]}"
    if key.kind == "types":
        return f"{base} — {site.types[key.value][lang]}"
    if key.kind == "experts":
        return f"{base} — {catalogue.experts[key.value].name}"
    return base


class ItemRenderer:
    """Builds items for one catalogue, caching the parts that do not depend on time."""

    def __init__(self, catalogue: Catalogue) -> None:
        self.catalogue = catalogue
        self.site = catalogue.site

    def item(self, article: Article, now: datetime) -> Item:
        site, lang = self.site, article.lang
        age = age_of(article.published, now, site.zone, site.age_label_after_days, lang)
        translations = tuple(
            Link(other.lang, permalink(site, other), other.title)
            for other in self.catalogue.translations(article, now)
        )
        parts = []
        if age is not None:
            parts.append(f"<p><strong>{escape(age.text)}</strong></p>")
        parts.append(self.catalogue.memo.get(article, "body", lambda: self._render_body(article)))
        for link in translations:
            name = _i18n.language_name(link.lang, lang)
            label = escape(_i18n.text(lang, "read_in", language=name))
            parts.append(
                f'<p>{label}: <a href="{escape(link.url)}" hreflang="{link.lang}">'
                f"{escape(link.title)}</a></p>"
            )
        return Item(
            article=article,
            id=item_id(site, article),
            url=permalink(site, article),
            api_url=article_url(site, article),
            topics=tuple((t, self.catalogue.topics[t][lang]) for t in article.topics),
            type_label=site.types[article.type][lang],
            age=age,
            translations=translations,
            content_html="\n".join(parts),
            content=self.catalogue.content(article),
        )

    def _render_body(self, article: Article) -> str:
        return _body_html(self.site, article, self.catalogue.content(article))

    def changes(self, article: Article, now: datetime) -> tuple[datetime, datetime | None]:
        """When the item's output last changed at or before ``now``, and will next change."""
        site = self.site
        zone, days = site.zone, site.age_label_after_days
        last = [article.modified]
        since = label_since(article.published, now, zone, days)
        if since is not None:
            last.append(since)
        last += [t.published for t in self.catalogue.translations(article, now)]
        upcoming = [next_turnover(article.published, now, zone, days)]
        upcoming += self.catalogue.translation_releases(article, now)
        return max(last), min(upcoming)

    def page(self, key: FeedKey, page: int, now: datetime) -> FeedPage:
        catalogue, site = self.catalogue, self.site
        articles = catalogue.items(key, now)
        size = site.feed_size
        last_page = max(1, math.ceil(len(articles) / size))
        if page > last_page:
            raise NotFound(f"{key.path} has {last_page} page(s), not {page}")
        chosen = articles[(page - 1) * size : page * size]
        items = tuple(self.item(a, now) for a in chosen)
        changed = [articles[0].published] if articles else [EPOCH]
        expires = [catalogue.next_release(now, key)]
        for article in chosen:
            last, upcoming = self.changes(article, now)
            changed.append(last)
            expires.append(upcoming)
        lang = key.lang
        return FeedPage(
            site=site,
            key=key,
            title=feed_title(catalogue, key),
            description=site.description[lang],
            page=page,
            last_page=last_page,
            items=items,
            updated=max((a.modified for a in chosen), default=EPOCH),
            changed=max(changed),
            expires=min((t for t in expires if t is not None), default=None),
        )


def _study_html(article: Article) -> str:
    study = article.study
    if study is None:
        return ""
    lang = article.lang
    title = escape(study.title)
    if study.url or study.doi:
        href = study.url or f"https://doi.org/{study.doi}"
        title = f'<a href="{escape(href)}">{title}</a>'
    parts = [f"{escape(_i18n.text(lang, 'study'))}: <cite>{title}</cite>"]
    if study.journal:
        parts.append(f"<em>{escape(study.journal)}</em>")
    if study.published:
        parts.append(study.published.date().isoformat())
    if study.doi:
        doi = escape(study.doi)
        parts.append(f'DOI: <a href="https://doi.org/{doi}">{doi}</a>')
    return f"<p>{'. '.join(parts)}.</p>"


def _reaction_html(reaction: Reaction, lang: str) -> str:
    expert = reaction.expert
    name = escape(expert.name)
    if expert.url:
        name = f'<a href="{escape(expert.url)}">{name}</a>'
    role = escape(expert.role.get(lang) or next(iter(expert.role.values())))
    lines = [
        "<blockquote>",
        reaction.quote_html,
        f"<p>— <strong>{name}</strong>, {role}, {escape(expert.organisation)}</p>",
        f"<p><em>{escape(_i18n.conflicts_line(reaction.conflicts, lang))}</em></p>",
    ]
    notes = []
    if reaction.via:
        notes.append(_i18n.text(lang, "via", via=reaction.via))
    if reaction.translated_from:
        name_ = _i18n.language_name(reaction.translated_from, lang)
        notes.append(_i18n.text(lang, "translated_from", language=name_))
    if notes:
        lines.append(f"<p><small>{escape('. '.join(notes))}.</small></p>")
    lines.append("</blockquote>")
    return "\n".join(lines)


def _body_html(site: Site, article: Article, content: ArticleContent) -> str:
    lang = article.lang
    parts = [f"<p>{escape(article.summary)}</p>"]
    if article.image:
        parts.append(f'<p><img src="{escape(article.image)}" alt=""></p>')
    if content.body_html:
        parts.append(content.body_html)
    study = _study_html(article)
    if study:
        parts.append(study)
    if content.reactions:
        parts.append(f"<h2>{escape(_i18n.text(lang, 'reactions'))}</h2>")
        parts += [_reaction_html(r, lang) for r in content.reactions]
    license = site.license
    parts.append(
        f"<p><small>{escape(license.attribution[lang])} "
        f'<a href="{escape(license.url)}" rel="license">{escape(license.name)}</a></small></p>'
    )
    # Our own markup is escaped already; a last allow-list pass guards against any slip.
    return _markdown.sanitize("\n".join(parts), site.root)
