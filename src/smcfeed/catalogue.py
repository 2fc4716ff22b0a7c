"""The loaded content: immutable, indexed, and filtered by time so embargoes hold."""

from __future__ import annotations

from bisect import bisect_left
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Literal

from ._parse import render_content
from .exceptions import NotFound
from .models import Article, ArticleContent, Expert, Localized, Site

#: The ways content is sliced into feeds; ``all`` is a language's main feed.
FeedKind = Literal["all", "topics", "types", "experts"]
FEED_KINDS: tuple[FeedKind, ...] = ("all", "topics", "types", "experts")


@dataclass(frozen=True, order=True)
class FeedKey:
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

    def __init__(self, articles: Sequence[Article]) -> None:
        self.articles = tuple(articles)
        self._negated = [-a.published.timestamp() for a in self.articles]

    def visible(self, now: datetime) -> Sequence[Article]:
        """Articles published at or before ``now`` (an embargo lifts at its exact instant)."""
        start = bisect_left(self._negated, -now.timestamp())
        return self.articles[start:]

    def next_release(self, now: datetime) -> datetime | None:
        """The next instant after ``now`` at which an embargoed article appears."""
        start = bisect_left(self._negated, -now.timestamp())
        return self.articles[start - 1].published if start else None


def _order(article: Article) -> tuple[float, str, str]:
    return (-article.published.timestamp(), article.slug, article.lang)


class Catalogue:
    """Everything in a content folder, indexed by language, topic, type, expert and slug."""

    def __init__(
        self,
        site: Site,
        topics: Mapping[str, Localized],
        experts: Mapping[str, Expert],
        articles: Iterable[Article],
        content_cache: int = 4096,
    ) -> None:
        self.site = site
        self.topics = dict(topics)
        self.experts = dict(experts)
        ordered = sorted(articles, key=_order)
        self.articles: tuple[Article, ...] = tuple(ordered)
        feeds: dict[FeedKey, list[Article]] = defaultdict(list)
        self._by_slug: dict[str, dict[str, Article]] = defaultdict(dict)
        for article in ordered:
            lang = article.lang
            feeds[FeedKey(lang)].append(article)
            feeds[FeedKey(lang, "types", article.type)].append(article)
            for topic in article.topics:
                feeds[FeedKey(lang, "topics", topic)].append(article)
            for expert in dict.fromkeys(article.expert_ids):
                feeds[FeedKey(lang, "experts", expert)].append(article)
            self._by_slug[article.slug][lang] = article
        self._timelines = {key: _Timeline(items) for key, items in feeds.items()}
        #: Rendered quotes and bodies of the most used articles (bounded: large corpora).
        self.content = lru_cache(maxsize=content_cache)(self._content)
        self._everything = _Timeline(ordered)
        self._empty = _Timeline(())

    def _content(self, article: Article) -> ArticleContent:
        """The article's quotes and body, rendered from the source it was validated from."""
        return render_content(article, self.experts, self.site.root)

    def __len__(self) -> int:
        return len(self.articles)

    def exists(self, key: FeedKey) -> bool:
        """Whether ``key`` names a feed: a known language and a known topic, type or expert."""
        if key.lang not in self.site.languages:
            return False
        if key.kind == "all":
            return key.value == ""
        slices: dict[str, Mapping[str, object]] = {
            "topics": self.topics,
            "types": self.site.types,
            "experts": self.experts,
        }
        return key.value in slices[key.kind]

    def feed_keys(self) -> list[FeedKey]:
        """Every feed that has at least one article (embargoed ones included), in a stable order."""
        return sorted(self._timelines)

    def items(self, key: FeedKey, now: datetime) -> Sequence[Article]:
        """The feed's visible articles at ``now``, newest first. Raises NotFound for no feed."""
        if not self.exists(key):
            raise NotFound(f"no feed {key.path}")
        return self._timelines.get(key, self._empty).visible(now)

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
