"""The core: one object that answers "give me this output, as of time T". No HTTP here.

The web app, the CLI and a static export all ask :class:`Smcfeed` by path, so every
front end serves the same bytes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import cast

from ._render import json as _json
from ._render import opml as _opml
from ._render import xml as _xml
from ._render.view import EPOCH, FORMATS, MEDIA_TYPES, ItemRenderer, parse_page
from .catalogue import Catalogue, FeedKey, FeedKind
from .exceptions import BadRequest, NotFound

_FEED_RE = re.compile(
    r"^/(?P<lang>[a-zA-Z-]+)(?:/(?P<kind>topics|types|experts)/(?P<value>[a-z0-9-]+))?"
    r"/(?P<file>rss\.xml|atom\.xml|feed\.json)$"
)
_ARTICLE_RE = re.compile(r"^/(?P<lang>[a-zA-Z-]+)/articles/(?P<slug>[a-z0-9-]+)\.json$")
_OPML_TYPE = "text/x-opml"


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
    """Answers for one catalogue. Cheap to create; create a new one for new content."""

    def __init__(self, catalogue: Catalogue) -> None:
        self.catalogue = catalogue
        self.site = catalogue.site
        self._items = ItemRenderer(catalogue)

    def feed(self, key: FeedKey, fmt: str, page: int, now: datetime) -> Output:
        """One page of one feed in ``rss``, ``atom`` or ``json``."""
        view = self._items.page(key, page, now)
        render = {
            "rss": _xml.render_rss,
            "atom": _xml.render_atom,
            "json": _json.render_json_feed,
        }[fmt]
        return Output(render(view), MEDIA_TYPES[fmt], view.changed, view.expires)

    def article(self, lang: str, slug: str, now: datetime) -> Output:
        article = self.catalogue.article(lang, slug, now)
        item = self._items.item(article, now)
        last, upcoming = self._items.changes(article, now)
        return Output(_json.render_article(self.site, item), "application/json", last, upcoming)

    def _listing(self, now: datetime) -> tuple[list[FeedKey], datetime, datetime | None]:
        keys = _opml.listed_feeds(self.catalogue, now)
        newest = self.catalogue.newest(now)
        changed = newest.published if newest else EPOCH
        return keys, changed, self.catalogue.next_release(now)

    def opml(self, now: datetime) -> Output:
        keys, changed, upcoming = self._listing(now)
        return Output(
            _opml.render_opml(self.catalogue, keys, changed), _OPML_TYPE, changed, upcoming
        )

    def index(self, now: datetime) -> Output:
        keys, changed, upcoming = self._listing(now)
        return Output(_opml.render_index(self.catalogue, keys), "text/html", changed, upcoming)

    def get(self, path: str, page: str | None, now: datetime) -> Output:
        """The output at ``path`` (with ``?page=``), as of ``now``.

        Raises NotFound for an unknown path, feed, article or page; BadRequest for a
        malformed page number.
        """
        if path == "/":
            return self.index(now)
        if path == "/feeds.opml":
            return self.opml(now)
        match = _FEED_RE.match(path)
        if match:
            kind = cast(FeedKind, match["kind"] or "all")
            key = FeedKey(match["lang"], kind, match["value"] or "")
            if not self.catalogue.exists(key):
                raise NotFound(f"no feed {key.path}")
            try:
                number = parse_page(page)
            except ValueError:
                raise BadRequest(f"page must be a whole number from 1, not '{page}'") from None
            return self.feed(key, FORMATS[match["file"]], number, now)
        match = _ARTICLE_RE.match(path)
        if match:
            return self.article(match["lang"], match["slug"], now)
        raise NotFound(f"nothing at {path}")
