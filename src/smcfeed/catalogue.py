"""The loaded content: immutable, indexed, and filtered by time so embargoes hold."""

from __future__ import annotations

import threading
from bisect import bisect_left
from collections import OrderedDict, defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, Literal, NamedTuple, TypeVar, cast

from ._content.parse import render_content
from .exceptions import NotFound
from .models import Article, ArticleContent, Expert, Localized, Site

T = TypeVar("T")
#: A ``now`` past every embargo: what private feeds see (embargoed items included).
EVERYTHING = datetime.max.replace(tzinfo=UTC)
#: The ways content is sliced into feeds; ``all`` is a language's main feed.
FeedKind = Literal["all", "topics", "types", "experts"]
FEED_KINDS: tuple[FeedKind, ...] = ("all", "topics", "types", "experts")


class FeedKey(NamedTuple):
    """Which feed: a language, and optionally one topic, type or expert."""

    lang: str
    kind: FeedKind = "all"
    value: str = ""

    @property
    def path(self) -> str:
        """The feed's folder in URLs, e.g. ``/es/topics/climate``."""
        return f"/{self.lang}" if self.kind == "all" else f"/{self.lang}/{self.kind}/{self.value}"


class _Timeline:
    """Articles newest first, with the instants they become visible, for fast cut-offs."""

    __slots__ = ("_negated", "articles")

    def __init__(self, articles: Sequence[Article], negated: list[float] | None = None) -> None:
        self.articles = tuple(articles)
        #: Minus each article's publication timestamp: ascending, for bisect.
        self._negated = negated or [-a.published.timestamp() for a in self.articles]

    def changed(self, removed: Iterable[Article], added: Iterable[Article]) -> _Timeline:
        """A copy without ``removed`` and with ``added``, in order (newest first, then slug
        and language)."""
        articles, negated = list(self.articles), list(self._negated)
        for article in removed:
            neg = -article.published.timestamp()
            index = bisect_left(negated, neg)
            while index < len(articles) and articles[index] is not article:
                index += 1
            if index < len(articles):
                del articles[index], negated[index]
        for article in added:
            neg = -article.published.timestamp()
            index = bisect_left(negated, neg)
            while (
                index < len(articles)
                and negated[index] == neg
                and (articles[index].slug, articles[index].lang) < (article.slug, article.lang)
            ):
                index += 1
            articles.insert(index, article)
            negated.insert(index, neg)
        return _Timeline(articles, negated)

    def visible(self, now: datetime) -> Sequence[Article]:
        """Articles published at or before ``now`` (an embargo lifts at its exact instant)."""
        start = bisect_left(self._negated, -now.timestamp())
        return self.articles[start:]

    def any_visible(self, now: datetime) -> bool:
        """Whether at least one article is published at or before ``now``."""
        return bool(self._negated) and self._negated[-1] >= -now.timestamp()

    def next_release(self, now: datetime) -> datetime | None:
        """The next instant after ``now`` at which an embargoed article appears."""
        start = bisect_left(self._negated, -now.timestamp())
        return self.articles[start - 1].published if start else None


class RenderMemo:
    """Rendered parts of the most used articles, keyed by the article object, bounded.

    A reload reuses the article objects of unchanged files, so a new catalogue with the same
    experts and base URL takes over its predecessor's memo and re-renders only what changed.
    """

    def __init__(self, maxsize: int = 4096) -> None:
        self.maxsize = maxsize
        self._data: OrderedDict[tuple[int, str], tuple[Article, Any]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, article: Article, part: str, make: Callable[[], T]) -> T:
        key = (id(article), part)
        with self._lock:
            found = self._data.get(key)
            if found is not None and found[0] is article:
                self._data.move_to_end(key)
                return cast(T, found[1])
        value = make()
        with self._lock:
            self._data[key] = (article, value)
            while len(self._data) > self.maxsize:
                self._data.popitem(last=False)
        return value


#: Past this many changed articles, a catalogue is rebuilt rather than updated.
_MAX_UPDATE = 256


def _keys_of(article: Article) -> list[FeedKey]:
    """The feeds an article belongs in."""
    lang = article.lang
    keys = [FeedKey(lang), FeedKey(lang, "types", article.type)]
    keys += [FeedKey(lang, "topics", t) for t in article.topics]
    keys += [FeedKey(lang, "experts", e) for e in dict.fromkeys(article.expert_ids)]
    return keys


class Catalogue:
    """Everything in a content folder, indexed by language, topic, type, expert and slug."""

    def __init__(
        self,
        site: Site,
        topics: Mapping[str, Localized],
        experts: Mapping[str, Expert],
        articles: Iterable[Article],
        previous: Catalogue | None = None,
    ) -> None:
        """``previous``: the catalogue this one replaces. Only the indexes that the articles
        which left it or entered it touch are rebuilt; the result is the same as without
        ``previous``."""
        self.site = site
        self.topics = dict(topics)
        self.experts = dict(experts)
        same_rendering = (
            previous is not None and previous.site == site and previous.experts == self.experts
        )
        #: Rendered parts of the most used articles, shared with the previous catalogue
        #: when nothing they depend on changed.
        self.memo: RenderMemo = previous.memo if same_rendering and previous else RenderMemo()
        articles = list(articles)
        if (
            previous is not None
            and previous.topics == self.topics
            and self._update(previous, articles)
        ):
            return
        keys = [(-a.published.timestamp(), a.slug, a.lang, i) for i, a in enumerate(articles)]
        keys.sort()
        ordered = [articles[k[3]] for k in keys]
        negated = [k[0] for k in keys]
        self.articles: tuple[Article, ...] = tuple(ordered)
        # kind -> language -> value -> (articles, negated timestamps); nested dicts rather
        # than a FeedKey per article and feed: this loop runs 100,000 times on start-up.
        lists: dict[str, dict[str, dict[str, tuple[list[Article], list[float]]]]] = {
            kind: defaultdict(dict) for kind in FEED_KINDS
        }
        by_slug: dict[str, dict[str, Article]] = defaultdict(dict)
        for article, neg in zip(ordered, negated, strict=True):
            lang = article.lang
            pairs = [("all", ""), ("types", article.type)]
            pairs += [("topics", topic) for topic in article.topics]
            pairs += [("experts", expert) for expert in set(article.expert_ids)]
            for kind, value in pairs:
                per_value = lists[kind][lang]
                found = per_value.get(value)
                if found is None:
                    found = per_value[value] = ([], [])
                found[0].append(article)
                found[1].append(neg)
            by_slug[article.slug][lang] = article
        self._by_slug = dict(by_slug)
        self._timelines = {
            FeedKey(lang, cast(FeedKind, kind), value): _Timeline(a, n)
            for kind, per_lang in lists.items()
            for lang, per_value in per_lang.items()
            for value, (a, n) in per_value.items()
        }
        self._everything = _Timeline(ordered, negated)
        self._empty = _Timeline(())

    def _update(
        self,
        previous: Catalogue,
        articles: list[Article],
    ) -> bool:
        """Build from ``previous`` by changing only what differs: an edit to one article in a
        large catalogue must not cost a rebuild of every index. False if too much differs.

        What differs is worked out here, from ``previous`` itself (articles are the same
        objects while their files are unchanged), never told by the caller: so the result
        holds exactly ``articles``, whichever loads came between."""
        before = {id(a) for a in previous.articles}
        now = {id(a) for a in articles}
        removed = [a for a in previous.articles if id(a) not in now]
        added = [a for a in articles if id(a) not in before]
        if len(removed) + len(added) > _MAX_UPDATE:
            return False
        affected: dict[FeedKey, tuple[list[Article], list[Article]]] = {}
        for index, group in enumerate((removed, added)):
            for article in group:
                for key in _keys_of(article):
                    affected.setdefault(key, ([], []))[index].append(article)
        timelines = dict(previous._timelines)
        empty = _Timeline(())
        for key, (gone, new) in affected.items():
            timelines[key] = timelines.get(key, empty).changed(gone, new)
        self._timelines = {key: t for key, t in timelines.items() if t.articles}
        self._everything = previous._everything.changed(removed, added)
        self.articles = self._everything.articles
        by_slug = dict(previous._by_slug)
        for article in removed:
            versions = by_slug[article.slug] = dict(by_slug[article.slug])
            if versions.get(article.lang) is article:
                del versions[article.lang]
            if not versions:
                del by_slug[article.slug]
        for article in added:
            by_slug[article.slug] = {**by_slug.get(article.slug, {}), article.lang: article}
        self._by_slug = by_slug
        self._empty = empty
        return True

    def content(self, article: Article) -> ArticleContent:
        """The article's quotes and body, rendered from the source it was validated from."""
        return self.memo.get(
            article, "content", lambda: render_content(article, self.experts, self.site.root)
        )

    def __len__(self) -> int:
        return len(self.articles)

    def exists(self, key: FeedKey, now: datetime) -> bool:
        """Whether ``key`` names a feed with something to show at ``now``.

        The one rule every route (feeds, pages, widgets, cards) asks: a language's main feed
        exists for every site language; a topic, type or expert feed only once it holds an
        article published by ``now``. Before that it is exactly as unknown as a name never
        declared, so guessing a name confirms nothing about an embargoed item. Private feeds
        ask with a ``now`` past every embargo (:data:`EVERYTHING`).
        """
        if key.lang not in self.site.languages:
            return False
        if key.kind == "all":
            return key.value == ""
        timeline = self._timelines.get(key)
        return timeline is not None and timeline.any_visible(now)

    def feed_keys(self) -> list[FeedKey]:
        """Every feed that has at least one article (embargoed ones included), in a stable order."""
        return sorted(self._timelines)

    def listed_feeds(self, now: datetime) -> list[FeedKey]:
        """Feeds worth listing: each language's main feed, and every slice with a visible item."""
        keys = [FeedKey(lang) for lang in self.site.languages]
        keys += [key for key in self.feed_keys() if key.kind != "all" and self.exists(key, now)]
        order = {lang: i for i, lang in enumerate(self.site.languages)}
        kinds = {"all": 0, "topics": 1, "types": 2, "experts": 3}
        return sorted(keys, key=lambda k: (order[k.lang], kinds[k.kind], k.value))

    def items(self, key: FeedKey, now: datetime) -> Sequence[Article]:
        """The feed's visible articles at ``now``, newest first. Raises NotFound for no feed."""
        if not self.exists(key, now):
            raise NotFound(f"no feed {key.path}")
        return self._timelines.get(key, self._empty).visible(now)

    def published(self, now: datetime) -> int:
        """How many articles are visible at ``now``."""
        return len(self._everything.visible(now))

    def newest(self, now: datetime) -> Article | None:
        """The most recently published visible article."""
        visible = self._everything.visible(now)
        return visible[0] if visible else None

    def next_release(self, now: datetime, key: FeedKey | None = None) -> datetime | None:
        """The next embargo to lift after ``now``, in one feed or anywhere."""
        timeline = self._everything if key is None else self._timelines.get(key, self._empty)
        return timeline.next_release(now)

    def article(self, lang: str, slug: str, now: datetime) -> Article:
        """One visible article. Raises NotFound if unknown or still embargoed."""
        article = self._by_slug.get(slug, {}).get(lang)
        if article is None or article.published > now:
            raise NotFound(f"no article {lang}/{slug}")
        return article

    def translations(self, article: Article, now: datetime) -> list[Article]:
        """The article's visible versions in other languages, in site language order."""
        versions = self._by_slug.get(article.slug, {})
        return [
            versions[lang]
            for lang in self.site.languages
            if lang != article.lang and lang in versions and versions[lang].published <= now
        ]

    def translation_releases(self, article: Article, now: datetime) -> list[datetime]:
        """Future instants at which a translation of ``article`` appears."""
        return [
            other.published
            for other in self._by_slug.get(article.slug, {}).values()
            if other.published > now
        ]
