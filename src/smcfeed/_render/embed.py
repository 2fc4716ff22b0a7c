"""The partner newsrooms' embeds: a widget of a feed's latest items, one article as a card,
one expert's quote as a card. Self-contained HTML pages for an iframe: inline CSS allowed by
its hash, no JavaScript needed (a tiny inline script only reports the page's height to the
host page), nothing loaded from anywhere."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

from markupsafe import Markup

from .. import urls
from ..catalogue import Catalogue, FeedKey
from ..exceptions import NotFound
from ..models import Article, Site
from . import oembed as _oembed
from . import quotes as _quotes
from . import templating as _templating
from .view import EPOCH, Item, ItemRenderer, ReactionView, credit_line, feed_title

CSS, SCRIPT = "embed.css", "embed-height.js"
#: Reactions a widget item shows (the article card shows them all).
WIDGET_REACTIONS = 2
#: Natural width of an embed in an oEmbed response, and the tallest we suggest (px).
WIDTH, MAX_HEIGHT = 560, 1600

#: The Content-Security-Policy of every embed: nothing but its own inline CSS and script;
#: any site may frame it.
CSP = "; ".join(
    [
        "default-src 'none'",
        f"style-src {_templating.csp_hash(CSS)}",
        f"script-src {_templating.csp_hash(SCRIPT)}",
        "base-uri 'none'",
        "form-action 'none'",
        "frame-ancestors *",
    ]
)

_TEXTS = {
    "en": {
        "question": "Question",
        "read_more": "Read the full reaction",
        "more_reactions.one": "1 more expert reaction",
        "more_reactions": "{n} more expert reactions",
        "empty": "Nothing published yet.",
        "subscribe": "Subscribe (RSS)",
        "latest": "Latest",
        "quote_title": "{name} on “{title}”",
    },
    "es": {
        "question": "Pregunta",
        "read_more": "Leer la reacción completa",
        "more_reactions.one": "1 reacción más de expertos",
        "more_reactions": "{n} reacciones más de expertos",
        "empty": "Aún no hay nada publicado.",
        "subscribe": "Suscribirse (RSS)",
        "latest": "Lo último",
        "quote_title": "{name} sobre «{title}»",
    },
}
_MONTHS = {
    "en": ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"],
    "es": ["ene", "feb", "mar", "abr", "may", "jun", "jul", "ago", "sep", "oct", "nov", "dic"],
}


def text(lang: str, key: str, **values: object) -> str:
    template = _TEXTS.get(lang, _TEXTS["en"])[key]
    return template.format(**values) if values else template


def date_label(when: datetime, site: Site, lang: str) -> str:
    """``10 Jul 2024`` (in the site's timezone, month in ``lang``)."""
    local = when.astimezone(site.zone)
    months = _MONTHS.get(lang, _MONTHS["en"])
    return f"{local.day} {months[local.month - 1]} {local.year}"


class Rendered(NamedTuple):
    """An embed's bytes, when they last changed and when they next will."""

    body: bytes
    changed: datetime
    expires: datetime | None


@dataclass(frozen=True)
class Embeds:
    """Renders the embeds of one catalogue."""

    catalogue: Catalogue
    items: ItemRenderer

    @property
    def site(self) -> Site:
        return self.catalogue.site

    def visible(self, key: FeedKey, now: datetime) -> Sequence[Article]:
        """A feed's public items; a slice with nothing public is as unknown as a missing one."""
        if not self.catalogue.exists(key, now):
            raise NotFound(f"no feed {key.path}")
        return self.catalogue.items(key, now)

    def widget(self, key: FeedKey, limit: int, now: datetime) -> Rendered:
        articles = self.visible(key, now)
        chosen = [self.items.item(a, now) for a in articles[:limit]]
        changed = [min(articles[0].published, now) if articles else EPOCH]
        expires = [self.catalogue.next_release(now, key)]
        for item in chosen:
            last, upcoming = self.items.changes(item.article, now)
            changed.append(last)
            expires.append(upcoming)
        route = urls.Widget(key, limit)
        body = self._page(
            route,
            key.lang,
            self._heading(key),
            [self._item(item, WIDGET_REACTIONS) for item in chosen],
            key,
        )
        return Rendered(body, max(changed), min((t for t in expires if t), default=None))

    def _heading(self, key: FeedKey) -> str:
        """What a widget shows: "Latest", or the topic, type or expert it follows."""
        title = feed_title(self.catalogue, key)
        base = self.site.title[key.lang] + " — "
        return title.removeprefix(base) if key.kind != "all" else text(key.lang, "latest")

    def article_card(self, lang: str, slug: str, now: datetime) -> Rendered:
        article = self.catalogue.article(lang, slug, now)
        item = self.items.item(article, now)
        last, upcoming = self.items.changes(article, now)
        route = urls.ArticleCard(lang, slug)
        heading = item.type_label
        body = self._page(
            route, lang, heading, [self._item(item, len(item.content.reactions))], FeedKey(lang)
        )
        return Rendered(body, last, upcoming)

    def quote_card(self, lang: str, slug: str, wanted: str, now: datetime) -> Rendered:
        site = self.site
        article = self.catalogue.article(lang, slug, now)
        item = self.items.item(article, now)
        view = _quotes.find(item.reactions, wanted)
        if view is None:
            raise NotFound(f"no reaction {wanted} in {lang}/{slug}")
        last, upcoming = self.items.changes(article, now)
        expert = view.expert
        route = urls.QuoteCard(lang, slug, wanted)
        body = _templating.render(
            "quote-card.html",
            **self._common(route, lang),
            page_title=text(lang, "quote_title", name=expert.name, title=article.title),
            type=item.type_label,
            article_title=article.title,
            article_url=item.url,
            iso=article.published.isoformat(),
            date=date_label(article.published, site, lang),
            age=item.age.text if item.age else None,
            name=expert.name,
            role=view.role,
            organisation=expert.organisation,
            segments=[
                {"question": s.question, "text_html": Markup(s.text_html)} for s in view.segments
            ],
            question_label=text(lang, "question"),
            conflicts=_quotes.conflicts(view, lang),
            note=_quotes.note(view, lang),
            credit=view.credit,
            # The quote on our page; the centre's own page when it has one (no anchors there).
            link=item.url if article.source_url else view.anchor_url,
            read_more=text(lang, "read_more"),
        )
        return Rendered(body, last, upcoming)

    def has_reaction(self, lang: str, slug: str, wanted: str, now: datetime) -> bool:
        article = self.catalogue.article(lang, slug, now)
        return any(r.id == wanted for r in self.catalogue.content(article).reactions)

    def describe(self, route: urls.Route, now: datetime) -> _oembed.Embed:
        """An embed's title, author and natural size, for its oEmbed response."""
        site = self.site
        url = urls.url(site.root, route)
        match route:
            case urls.Widget(key=key, limit=limit):
                shown = min(limit, len(self.visible(key, now)))
                title = feed_title(self.catalogue, key)
                height = 110 + 260 * max(1, shown)
                return _oembed.Embed(
                    url,
                    title,
                    site.title[key.lang],
                    site.website,
                    key.lang,
                    WIDTH,
                    min(MAX_HEIGHT, height),
                )
            case urls.ArticleCard(lang=lang, slug=slug):
                article = self.catalogue.article(lang, slug, now)
                count = len(self.catalogue.content(article).reactions)
                height = 230 + 200 * count
                return _oembed.Embed(
                    url,
                    article.title,
                    site.title[lang],
                    site.website,
                    lang,
                    WIDTH,
                    min(MAX_HEIGHT, height),
                )
            case urls.QuoteCard(lang=lang, slug=slug, reaction=wanted):
                article = self.catalogue.article(lang, slug, now)
                reactions = self.catalogue.content(article).reactions
                reaction = next((r for r in reactions if r.id == wanted), None)
                if reaction is None:
                    raise NotFound(f"no reaction {wanted} in {lang}/{slug}")
                expert = reaction.expert
                title = text(lang, "quote_title", name=expert.name, title=article.title)
                return _oembed.Embed(url, title, expert.name, expert.url, lang, WIDTH, 480)
        raise NotFound(f"nothing to embed at {urls.path(route)}")

    # --- parts ---------------------------------------------------------------------------

    def _common(self, route: urls.Route, lang: str) -> dict[str, Any]:
        site = self.site
        return {
            "lang": lang,
            "self_url": urls.url(site.root, route),
            "oembed": _oembed.discovery(site, route),
            "css": _templating.inline(CSS),
            "script": _templating.inline(SCRIPT),
            "license_url": site.license.url,
            "license_name": site.license.name,
        }

    def _page(
        self,
        route: urls.Route,
        lang: str,
        heading: str,
        items: list[dict[str, Any]],
        key: FeedKey,
    ) -> bytes:
        site = self.site
        return _templating.render(
            "widget.html",
            **self._common(route, lang),
            page_title=f"{heading} — {site.title[lang]}",
            heading=heading,
            site_name=site.title[lang],
            site_url=site.website,
            items=items,
            empty=text(lang, "empty"),
            attribution=site.license.attribution[lang],
            feed_url=urls.url(site.root, urls.Feed(key, "rss")),
            subscribe=text(lang, "subscribe"),
        )

    def _item(self, item: Item, shown: int) -> dict[str, Any]:
        site, lang, article = self.site, item.lang, item.article
        reactions = item.reactions
        vias = dict.fromkeys(r.via for r in reactions[:shown] if r.via)
        hidden = len(reactions) - min(shown, len(reactions))
        return {
            "title": article.title,
            "url": item.url,
            "type": item.type_label,
            "iso": article.published.isoformat(),
            "date": date_label(article.published, site, lang),
            "age": item.age.text if item.age else None,
            "reactions": [self._reaction(r, lang) for r in reactions[:shown]],
            "more": (
                text(lang, "more_reactions.one" if hidden == 1 else "more_reactions", n=hidden)
                if hidden
                else None
            ),
            "credit": credit_line(site, lang, " / ".join(v for v in vias if v) or None),
        }

    def _reaction(self, view: ReactionView, lang: str) -> dict[str, Any]:
        return {
            "url": view.anchor_url,
            "excerpt": _quotes.excerpt(view.reaction),
            "name": view.expert.name,
            "role": view.role,
            "organisation": view.expert.organisation,
            "conflicts": _quotes.conflicts(view, lang),
            "note": _quotes.note(view, lang),
        }
