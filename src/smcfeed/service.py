"""The core: one object that answers "give me this output, as of time T". No HTTP here.

The web app, the CLI and a static export all ask :class:`Smcfeed` by path, so every
front end serves the same bytes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import cache
from importlib.resources import files

from . import urls
from ._render import embed as _embed
from ._render import html as _html
from ._render import json as _json
from ._render import oembed as _oembed
from ._render import openapi as _openapi
from ._render import opml as _opml
from ._render import xml as _xml
from ._render.view import EPOCH, Item, ItemRenderer
from .catalogue import EVERYTHING, Catalogue, FeedKey
from .exceptions import NotFound

#: What a journalist's private feeds hold: feeds and articles (pages and API), each rendered
#: with the request's ``audience``; never the index, OPML, widgets, cards or oEmbed.
PRIVATE_ROUTES = (urls.Feed, urls.Article)


@dataclass(frozen=True)
class Request:
    """What a front end asks the service for: one route, and how and for whom to render it.

    Hashable: the response cache keys on it, so everything that changes the bytes is here.
    """

    #: Which output (a canonical route from :mod:`smcfeed.urls`).
    route: urls.Route
    #: The client is a browser that prefers HTML: a feed answers with a readable page.
    html: bool = False
    #: A registered journalist's token (private feeds); None for the public.
    audience: str | None = None


@dataclass(frozen=True)
class Output:
    """One rendered response body and what a cache needs to know about it."""

    #: The bytes to send.
    body: bytes
    #: Media type, without parameters.
    media_type: str
    #: When this output last changed (HTTP Last-Modified).
    last_modified: datetime
    #: Next instant at which this output changes, if one is scheduled.
    expires: datetime | None


class Smcfeed:
    """The path → output service for one catalogue: "give me this output, as of time T".

    Cheap to create; create a new one for new content.
    """

    def __init__(self, catalogue: Catalogue) -> None:
        self.catalogue = catalogue
        self.site = catalogue.site
        self._items = ItemRenderer(catalogue)
        self._embeds = _embed.Embeds(catalogue, self._items)

    def feed(
        self, key: FeedKey, fmt: str, page: int, now: datetime, audience: str | None = None
    ) -> Output:
        """One page of one feed in ``rss``, ``atom`` or ``json``; with ``audience`` (a
        journalist's token), the private feed with embargoed items marked."""
        if not self.catalogue.exists(key, now if audience is None else EVERYTHING):
            raise NotFound(f"no feed {urls.feed_folder(key)}")
        view = self._items.page(key, page, now, audience)
        render = {
            "rss": _xml.render_rss,
            "atom": _xml.render_atom,
            "json": _json.render_json_feed,
        }[fmt]
        return Output(render(view), urls.BY_NAME[fmt].media_type, view.changed, view.expires)

    def feed_bodies(self, key: FeedKey, page: int, now: datetime) -> dict[str, bytes]:
        """The bodies of one public feed page in every format, from one view (cheaper than
        three ``feed`` calls: to compare a feed before and after a change). Raises NotFound."""
        if not self.catalogue.exists(key, now):
            raise NotFound(f"no feed {urls.feed_folder(key)}")
        view = self._items.page(key, page, now)
        return {
            "rss": _xml.render_rss(view),
            "atom": _xml.render_atom(view),
            "json": _json.render_json_feed(view),
        }

    def feed_page(self, key: FeedKey, fmt: str, page: int, now: datetime) -> Output:
        """A public feed as an HTML page, for a browser that opened the feed's URL."""
        catalogue = self.catalogue
        if not catalogue.exists(key, now):
            raise NotFound(f"no feed {urls.feed_folder(key)}")
        view = self._items.page(key, page, now)
        changed, expires = [view.changed], [view.expires]
        others = []
        # The same feed in the other languages, once it exists (has something public): the
        # page links it from then on, so it changes then.
        for lang in self.site.languages:
            other = FeedKey(lang, key.kind, key.value)
            if lang == key.lang:
                continue
            if catalogue.exists(other, now):
                others.append(other)
                visible = catalogue.items(other, now)
                if visible and key.kind != "all":
                    changed.append(visible[-1].published)
            else:
                expires.append(catalogue.next_release(now, other))
        body = _html.render_feed_page(catalogue, view, fmt, others)
        upcoming = min((t for t in expires if t is not None), default=None)
        return Output(body, urls.HTML_TYPE, max(changed), upcoming)

    def _article_item(
        self, lang: str, slug: str, now: datetime, audience: str | None = None
    ) -> tuple[Item, datetime, datetime | None]:
        article = self.catalogue.article(lang, slug, now if audience is None else EVERYTHING)
        last, upcoming = self._items.changes(article, now)
        return self._items.item(article, now, audience), last, upcoming

    def article(self, lang: str, slug: str, now: datetime, audience: str | None = None) -> Output:
        """``/{lang}/articles/{slug}.json``; with ``audience``, as a journalist sees it."""
        item, last, upcoming = self._article_item(lang, slug, now, audience)
        return Output(_json.render_article(self.site, item), urls.JSON_TYPE, last, upcoming)

    def article_page(
        self, lang: str, slug: str, now: datetime, audience: str | None = None
    ) -> Output:
        """``/{lang}/articles/{slug}``: the article's HTML page; with ``audience``, as a
        journalist sees it."""
        item, last, upcoming = self._article_item(lang, slug, now, audience)
        body = _html.render_article_page(self.site, item, public=audience is None)
        return Output(body, urls.HTML_TYPE, last, upcoming)

    def _listing(self, now: datetime) -> tuple[list[FeedKey], datetime, datetime | None]:
        keys = self.catalogue.listed_feeds(now)
        newest = self.catalogue.newest(now)
        changed = newest.published if newest else EPOCH
        return keys, changed, self.catalogue.next_release(now)

    def opml(self, now: datetime, fmt: str | None = None) -> Output:
        """``/feeds.opml`` (``fmt`` None) or the full catalogue in ``fmt``."""
        keys, changed, upcoming = self._listing(now)
        if fmt is None:
            body = _opml.render_opml(self.catalogue, keys, changed, now)
        else:
            body = _opml.render_catalogue(self.catalogue, keys, fmt, changed, now)
        return Output(body, urls.OPML_TYPE, changed, upcoming)

    def index(self, now: datetime) -> Output:
        keys, changed, upcoming = self._listing(now)
        return Output(_html.render_index(self.catalogue, keys), urls.HTML_TYPE, changed, upcoming)

    def embed(self, route: urls.Route, now: datetime) -> Output:
        """A widget, article card or quote card: HTML for an iframe."""
        match route:
            case urls.Widget(key=key, limit=limit):
                done = self._embeds.widget(key, limit, now)
            case urls.ArticleCard(lang=lang, slug=slug):
                done = self._embeds.article_card(lang, slug, now)
            case urls.QuoteCard(lang=lang, slug=slug, reaction=reaction):
                done = self._embeds.quote_card(lang, slug, reaction, now)
            case _:
                raise NotFound(f"nothing to embed at {urls.path(route)}")
        return Output(done.body, urls.HTML_TYPE, done.changed, done.expires)

    def oembed(self, request: urls.OEmbed, now: datetime) -> Output:
        """oEmbed for one of our public page URLs: the card or widget that shows it."""
        target, fragment = urls.resolve(self.site.root, request.url)
        route = self._embed_of(target, fragment, now)
        shown = self.embed(route, now)
        described = self._embeds.describe(route, now)
        body = _oembed.response(self.site, described, request)
        return Output(body, urls.media_type(request), shown.last_modified, shown.expires)

    def _embed_of(self, target: urls.Route, fragment: str, now: datetime) -> urls.Route:
        """The embed that stands for a page: a feed's widget, an article's card, or the quote
        card of the reaction its fragment points at."""
        match target:
            case urls.Index():
                return urls.Widget(FeedKey(self.site.default_language))
            case urls.Feed(key=key):
                return urls.Widget(key)
            case urls.Article(lang=lang, slug=slug):
                for wanted in dict.fromkeys((fragment, fragment.removeprefix("reaction-"))):
                    if wanted and self._embeds.has_reaction(lang, slug, wanted, now):
                        return urls.QuoteCard(lang, slug, wanted)
                return urls.ArticleCard(lang, slug)
            case urls.Widget() | urls.ArticleCard() | urls.QuoteCard():
                return target
        raise NotFound(f"nothing to embed at {urls.path(target)}")

    def asset(self, name: str) -> Output:
        """A file shipped with the package (``/feed.xsl``); it changes only with a release."""
        if not urls.shipped(name):
            raise NotFound(f"nothing at /{name}")
        return Output(_asset(name), urls.ASSETS[name], EPOCH, None)

    def render(self, request: Request, now: datetime) -> Output:
        """The output ``request`` asks for, as of ``now``. Raises NotFound.

        A journalist's private feeds (``request.audience``) hold feeds and articles only:
        never the index, OPML, widgets, cards or oEmbed.
        """
        audience = request.audience
        if audience is not None and not isinstance(request.route, PRIVATE_ROUTES):
            raise NotFound(f"nothing at {urls.path(request.route)}")
        match request.route:
            case urls.Index():
                return self.index(now)
            case urls.Opml(fmt=listed):
                return self.opml(now, listed)
            case urls.Feed(key=key, fmt=fmt, page=page) if request.html and audience is None:
                return self.feed_page(key, fmt, page, now)
            case urls.Feed(key=key, fmt=fmt, page=page):
                return self.feed(key, fmt, page, now, audience)
            case urls.Article(lang=lang, slug=slug, fmt="json"):
                return self.article(lang, slug, now, audience)
            case urls.Article(lang=lang, slug=slug, fmt="html"):
                return self.article_page(lang, slug, now, audience)
            case urls.Widget() | urls.ArticleCard() | urls.QuoteCard():
                return self.embed(request.route, now)
            case urls.OEmbed():
                return self.oembed(request.route, now)
            case urls.OpenApi():
                return Output(_openapi.render(self.site), urls.JSON_TYPE, EPOCH, None)
            case urls.Asset(name=name):
                return self.asset(name)
        raise NotFound(f"nothing at {urls.path(request.route)}")

    def get(self, path: str, query: str, now: datetime) -> Output:
        """The public output at ``path`` with ``query``, as of ``now`` (NotFound, BadRequest
        or Redirect when there is none)."""
        return self.render(Request(urls.parse(path, query)), now)


@cache
def _asset(name: str) -> bytes:
    """A fixed file shipped in the package's ``static`` folder."""
    return files("smcfeed").joinpath(f"static/{name}").read_bytes()
