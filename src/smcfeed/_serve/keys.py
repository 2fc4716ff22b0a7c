"""Surrogate keys: short names a CDN tags each public response with, so a change purges exactly
the responses it touched (Varnish's ``xkey``, Fastly's ``Surrogate-Key``).

A response carries its language (``es``), its feed (``f:es``, ``f:es/topics/climate``), the
topic, type or expert it is about (``topic:climate``, ``type:reaction``,
``expert:ana-garcia``), and one key per article whose text it shows (``a:`` and ten hex digits
of a hash of language and slug: the item itself and the translations it links to by title).
The index and the OPML carry ``lists``; an oEmbed answer carries the keys of the page it
describes. Keys are ASCII without spaces: slugs are already.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator
from datetime import datetime
from functools import lru_cache

from .. import urls
from ..catalogue import Catalogue, FeedKey
from ..exceptions import SmcfeedError
from ..models import Article
from ..service import Request

#: The key of the HTML index and the OPML files.
LISTS = "lists"


@lru_cache(maxsize=65536)
def _article_key(lang: str, slug: str) -> str:
    digest = hashlib.blake2b(f"{lang}/{slug}".encode(), digest_size=5).hexdigest()
    return f"a:{digest}"


def article_key(article: Article) -> str:
    """``a:`` and 10 hex digits: short, so a page of 50 items keeps its header small."""
    return _article_key(article.lang, article.slug)


def feed_key(key: FeedKey) -> str:
    """``f:es`` for a language's main feed, ``f:es/topics/climate`` for a slice."""
    return "f:" + urls.feed_folder(key)[1:]


def slice_key(key: FeedKey) -> str | None:
    """``topic:climate``, ``type:reaction`` or ``expert:ana-garcia``; None for a main feed."""
    if key.kind == "all":
        return None
    return f"{key.kind[:-1]}:{key.value}"


def feeds_of(article: Article) -> list[FeedKey]:
    """Every feed ``article`` is an item of."""
    lang = article.lang
    keys = [FeedKey(lang), FeedKey(lang, "types", article.type)]
    keys += [FeedKey(lang, "topics", t) for t in article.topics]
    keys += [FeedKey(lang, "experts", e) for e in dict.fromkeys(article.expert_ids)]
    return keys


def _shown(catalogue: Catalogue, articles: Iterable[Article], now: datetime) -> Iterator[str]:
    """Keys of the articles whose text appears: each item and the translations it links to."""
    for article in articles:
        yield article_key(article)
        for other in catalogue.translations(article, now):
            yield article_key(other)


def surrogate_keys(catalogue: Catalogue, request: Request, now: datetime) -> list[str]:
    """The keys of the public response to ``request`` at ``now`` (none for a private one)."""
    if request.audience is not None:
        return []
    route = request.route
    keys: list[str] = []
    match route:
        case urls.Index() | urls.Opml():
            keys.append(LISTS)
        case urls.Feed(key=key, page=page):
            size = catalogue.site.feed_size
            chosen = catalogue.items(key, now)[(page - 1) * size : page * size]
            keys += _feed_keys(key)
            keys += _shown(catalogue, chosen, now)
        case urls.Widget(key=key, limit=limit):
            keys += _feed_keys(key)
            keys += _shown(catalogue, catalogue.items(key, now)[:limit], now)
        case (
            urls.Article(lang=lang, slug=slug)
            | urls.ArticleCard(lang=lang, slug=slug)
            | urls.QuoteCard(lang=lang, slug=slug)
        ):
            article = catalogue.article(lang, slug, now)
            keys.append(lang)
            keys += _shown(catalogue, [article], now)
            keys += [k for f in feeds_of(article) if (k := slice_key(f))]
        case urls.OEmbed(url=target):
            # The keys of the page it describes (a feed's widget, an article's card).
            try:
                shown, _ = urls.resolve(catalogue.site.root, target)
            except SmcfeedError:
                return []
            if isinstance(shown, urls.Index):
                shown = urls.Widget(FeedKey(catalogue.site.default_language))
            elif isinstance(shown, urls.Feed):
                shown = urls.Widget(shown.key)
            if not isinstance(shown, urls.OEmbed):
                keys += surrogate_keys(catalogue, Request(shown), now)
    return list(dict.fromkeys(keys))


def _feed_keys(key: FeedKey) -> list[str]:
    found = [key.lang, feed_key(key)]
    extra = slice_key(key)
    if extra:
        found.append(extra)
    return found
