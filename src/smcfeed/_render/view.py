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
from ..catalogue import EVERYTHING, Catalogue, FeedKey
from ..exceptions import NotFound
from ..models import Article, ArticleContent, Expert, Image, Reaction, Segment, Site
from . import i18n as _i18n
from . import markdown as _markdown

#: The updated time of a feed with no items: fixed, so its bytes are stable.
EPOCH = datetime.fromisoformat("2000-01-01T00:00:00+00:00")


def route_url(site: Site, route: urls.Route, audience: str | None = None) -> str:
    """``route``'s absolute URL: public, or in the private feeds of ``audience`` (a token)."""
    if audience is None:
        return urls.url(site.root, route)
    return site.root + urls.private_path(audience, route)


def article_url(site: Site, article: Article, audience: str | None = None) -> str:
    """The article's JSON on this service (its item id is derived from the public URL)."""
    return route_url(site, urls.Article(article.lang, article.slug, "json"), audience)


def page_url(site: Site, article: Article, audience: str | None = None) -> str:
    """The article's HTML page on this service."""
    return route_url(site, urls.Article(article.lang, article.slug, "html"), audience)


def permalink(site: Site, article: Article, audience: str | None = None) -> str:
    """Where a reader should go: the centre's page when given, else our HTML page."""
    return article.source_url or page_url(site, article, audience)


def credit_line(site: Site, lang: str, via: str | None = None) -> str:
    """The line a republisher prints: site.yaml's credit, plus "via …" for a quote gathered
    by someone else."""
    credit = site.license.credit[lang]
    return _i18n.text(lang, "credit.via", credit=credit, via=via) if via else credit


def item_id(site: Site, article: Article) -> str:
    """A stable id: the same for every edit of the article, different per language."""
    return uuid.uuid5(uuid.NAMESPACE_URL, article_url(site, article)).urn


def feed_url(site: Site, key: FeedKey, fmt: str, page: int = 1, audience: str | None = None) -> str:
    return route_url(site, urls.Feed(key, fmt, page), audience)


@dataclass(frozen=True)
class Language:
    """A language: its code and its name in the language of the item that mentions it."""

    code: str
    name: str


@dataclass(frozen=True)
class Link:
    """A link to a version of the item in another language."""

    lang: str
    #: Its permalink (the centre's page, else its HTML page here).
    url: str
    title: str
    #: Its JSON on this service.
    api_url: str
    #: Its HTML page on this service.
    page_url: str
    #: The language's name, in the language of the item that links to it.
    name: str


@dataclass(frozen=True)
class ReactionView:
    """One expert's reaction as every format shows it, in the item's language."""

    #: The reaction as loaded (quote, segments, expert record).
    reaction: Reaction
    #: The expert's role in the item's language.
    role: str
    #: ``none``, ``not_responded`` or ``declared``.
    conflicts_kind: str
    #: The conflict-of-interest line to print.
    conflicts_text: str
    #: The language the quote was translated from, named in the item's language.
    translated_from: Language | None
    #: The line a republisher prints with this quote (with "via …" when it has a ``via``).
    credit: str
    #: This reaction on the article's HTML page (``…#id``).
    anchor_url: str

    @property
    def id(self) -> str:
        """Stable within the article; the HTML anchor."""
        return self.reaction.id

    @property
    def expert(self) -> Expert:
        return self.reaction.expert

    @property
    def expert_id(self) -> str:
        return self.reaction.expert_id

    @property
    def segments(self) -> tuple[Segment, ...]:
        return self.reaction.segments

    @property
    def via(self) -> str | None:
        return self.reaction.via


@dataclass(frozen=True)
class Item:
    """One article as every format shows it."""

    article: Article
    id: str
    #: The headline as shown: with the embargo notice while embargoed (private feeds only).
    title: str
    #: When the item's embargo lifts, while it is embargoed (private feeds only).
    embargoed_until: datetime | None
    #: The permalink: ``source_url`` when given, else ``page_url``.
    url: str
    api_url: str
    #: The article's HTML page on this service.
    page_url: str
    topics: tuple[tuple[str, str], ...]
    type_label: str
    age: Age | None
    translations: tuple[Link, ...]
    content_html: str
    #: The quotes and body, rendered.
    content: ArticleContent
    #: The reactions, in the editor's order, ready to show in the item's language.
    reactions: tuple[ReactionView, ...]
    #: The line a republisher prints (site.yaml's ``license.credit`` in this language).
    credit: str

    @property
    def lang(self) -> str:
        return self.article.lang

    @property
    def slug(self) -> str:
        return self.article.slug

    @property
    def image(self) -> Image | None:
        return self.article.image


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
    #: The token of a journalist's private feed (None: the public feed). Its links stay
    #: private, and it announces no WebSub hub.
    audience: str | None = None

    @property
    def lang(self) -> str:
        return self.key.lang

    @property
    def hubs(self) -> list[str]:
        """WebSub hubs to announce: none in private feeds."""
        return [] if self.audience else list(self.site.websub_hubs)

    def url(self, fmt: str, page: int | None = None) -> str:
        page = self.page if page is None else page
        return feed_url(self.site, self.key, fmt, page, self.audience)

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

    def item(self, article: Article, now: datetime, audience: str | None = None) -> Item:
        """One item as of ``now``; for ``audience`` (a private feed's token), embargoed
        translations are linked too and an embargoed item is marked as such."""
        site, lang = self.site, article.lang
        seen = now if audience is None else EVERYTHING
        age = age_of(article.published, now, site.zone, site.age_label_after_days, lang)
        translations = tuple(
            Link(
                lang=other.lang,
                url=permalink(site, other, audience),
                title=other.title,
                api_url=article_url(site, other, audience),
                page_url=page_url(site, other, audience),
                name=_i18n.language_name(other.lang, lang),
            )
            for other in self.catalogue.translations(article, seen)
        )
        embargoed_until = article.published if article.published > now else None
        title = article.title
        parts = []
        if embargoed_until is not None:
            notice = _i18n.embargo_notice(lang, embargoed_until.astimezone(site.zone))
            title = f"{notice}: {title}"
            parts.append(f"<p><strong>{escape(notice)}</strong></p>")
        if age is not None:
            parts.append(f"<p><strong>{escape(age.text)}</strong></p>")
        parts.append(self.catalogue.memo.get(article, "body", lambda: self._render_body(article)))
        for link in translations:
            label = escape(_i18n.text(lang, "read_in", language=link.name))
            parts.append(
                f'<p>{label}: <a href="{escape(link.url)}" hreflang="{link.lang}">'
                f"{escape(link.title)}</a></p>"
            )
        content = self.catalogue.content(article)
        page = page_url(site, article, audience)
        return Item(
            article=article,
            id=item_id(site, article),
            title=title,
            embargoed_until=embargoed_until,
            url=article.source_url or page,
            api_url=article_url(site, article, audience),
            page_url=page,
            topics=tuple((t, self.catalogue.topics[t][lang]) for t in article.topics),
            type_label=site.types[article.type][lang],
            age=age,
            translations=translations,
            content_html="\n".join(parts),
            content=content,
            reactions=tuple(reaction_view(site, r, lang, page) for r in content.reactions),
            credit=credit_line(site, lang),
        )

    def _render_body(self, article: Article) -> str:
        return _body_html(self.site, article, self.catalogue.content(article))

    def changes(self, article: Article, now: datetime) -> tuple[datetime, datetime | None]:
        """When the item's output last changed at or before ``now``, and will next change
        (its own embargo lifting, in a private feed, is one such change)."""
        site = self.site
        zone, days = site.zone, site.age_label_after_days
        # An embargoed item (private feeds) is new as of now, whatever its own dates say.
        last = [article.modified if article.published <= now else now]
        since = label_since(article.published, now, zone, days)
        if since is not None:
            last.append(since)
        last += [t.published for t in self.catalogue.translations(article, now)]
        upcoming = [next_turnover(article.published, now, zone, days)]
        upcoming += self.catalogue.translation_releases(article, now)
        if article.published > now:
            upcoming.append(article.published)
        return max(last), min(upcoming)

    def page(self, key: FeedKey, page: int, now: datetime, audience: str | None = None) -> FeedPage:
        """One page of a feed as of ``now``: the public feed, or with ``audience`` (a
        journalist's token) the private one, embargoed items included and marked."""
        catalogue, site = self.catalogue, self.site
        articles = catalogue.items(key, now if audience is None else EVERYTHING)
        size = site.feed_size
        last_page = max(1, math.ceil(len(articles) / size))
        if page > last_page:
            raise NotFound(f"{key.path} has {last_page} page(s), not {page}")
        chosen = articles[(page - 1) * size : page * size]
        items = tuple(self.item(a, now, audience) for a in chosen)
        changed = [min(articles[0].published, now)] if articles else [EPOCH]
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
            audience=audience,
        )


def reaction_view(site: Site, reaction: Reaction, lang: str, page: str) -> ReactionView:
    """``reaction`` as shown in ``lang`` on an article whose HTML page is ``page``."""
    conflicts = reaction.conflicts
    source = reaction.translated_from
    expert = reaction.expert
    return ReactionView(
        reaction=reaction,
        role=expert.role.get(lang) or next(iter(expert.role.values())),
        conflicts_kind=conflicts if conflicts in ("none", "not_responded") else "declared",
        conflicts_text=_i18n.conflicts_line(conflicts, lang),
        translated_from=Language(source, _i18n.language_name(source, lang)) if source else None,
        credit=credit_line(site, lang, reaction.via),
        anchor_url=f"{page}#{reaction.id}",
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


def _reaction_html(view: ReactionView, lang: str) -> str:
    """One reaction: who speaks, then each editor's question as a heading and the expert's
    words in a blockquote under it, the conflicts line, and the credit line to print."""
    expert = view.expert
    name = escape(expert.name)
    if expert.url:
        name = f'<a href="{escape(expert.url)}">{name}</a>'
    lines = [
        f'<section id="{escape(view.id)}">',
        f"<h3>{name}</h3>",
        f"<p>{escape(view.role)}, {escape(expert.organisation)}</p>",
    ]
    for segment in view.segments:
        if segment.question:
            lines.append(f"<h4>{escape(segment.question)}</h4>")
        if segment.text_html:
            lines.append(f"<blockquote>\n{segment.text_html}\n</blockquote>")
    lines.append(f"<p><em>{escape(view.conflicts_text)}</em></p>")
    notes = []
    if view.translated_from:
        notes.append(_i18n.text(lang, "translated_from", language=view.translated_from.name))
    notes.append(view.credit)
    lines.append(f"<p><small>{escape('. '.join(notes))}</small></p>")
    lines.append("</section>")
    return "\n".join(lines)


def _body_html(site: Site, article: Article, content: ArticleContent) -> str:
    lang = article.lang
    parts = [f"<p>{escape(article.summary)}</p>"]
    image = article.image
    if image is not None:
        caption = [escape(t) for t in (image.caption, image.credit) if t]
        parts.append(
            "<figure>"
            f'<img src="{escape(image.url)}" alt="{escape(image.alt)}">'
            + (f"<figcaption>{' '.join(caption)}</figcaption>" if caption else "")
            + "</figure>"
        )
    if content.body_html:
        parts.append(content.body_html)
    study = _study_html(article)
    if study:
        parts.append(study)
    if content.reactions:
        parts.append(f"<h2>{escape(_i18n.text(lang, 'reactions'))}</h2>")
        page = page_url(site, article)
        for reaction in content.reactions:
            parts.append(_reaction_html(reaction_view(site, reaction, lang, page), lang))
    license = site.license
    parts.append(
        f"<p><small>{escape(license.attribution[lang])} "
        f'<a href="{escape(license.url)}" rel="license">{escape(license.name)}</a></small></p>'
    )
    # Our own markup is escaped already; a last allow-list pass guards against any slip.
    return _markdown.sanitize("\n".join(parts), site.root)
