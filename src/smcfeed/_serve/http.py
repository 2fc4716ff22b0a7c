"""HTTP details that do not depend on the web framework: codings, validators, freshness,
headers and the one shape of error bodies."""

from __future__ import annotations

from datetime import datetime
from email.utils import parsedate_to_datetime
from functools import lru_cache

import orjson

from .. import urls
from .._content.grid import seconds_to_line
from .._render.embed import CSP as EMBED_CSP
from .responses import ENCODINGS, CachedResponse

#: Methods the output routes answer.
ALLOWED = "GET, HEAD, OPTIONS"
CORS = {
    "access-control-allow-origin": "*",
    "access-control-expose-headers": "ETag, Last-Modified, Link",
}
PREFLIGHT = {
    **CORS,
    "access-control-allow-methods": "GET, HEAD",
    "access-control-allow-headers": "If-None-Match, If-Modified-Since",
    "access-control-max-age": "86400",
    "allow": ALLOWED,
}
_TEXT = ("text/", "application/")
#: Vary of a feed: its HTML page for browsers is chosen by Accept, its coding by Accept-Encoding.
VARY_FEED = "Accept, Accept-Encoding"
VARY = "Accept-Encoding"
#: Longer Accept headers are not read (no browser sends one): they get the feed.
_ACCEPT_LIMIT = 1024


#: Longest error message sent: a message quoting a request's path or value is cut there.
MAX_MESSAGE = 300


def error_body(status: int, message: str) -> bytes:
    """The one shape of every error body: ``{"error": {"status": …, "message": …}}``.

    The message is cut at MAX_MESSAGE characters, and text JSON cannot carry (lone surrogates
    from an undecodable path) is replaced, so the body is always small and valid UTF-8.
    """
    if len(message) > MAX_MESSAGE:
        message = message[: MAX_MESSAGE - 1] + "…"
    message = message.encode("utf-8", "replace").decode("utf-8")
    return orjson.dumps({"error": {"status": status, "message": message}})


#: Longest request header value we read whole; longer ones are judged by their start only.
#: (The server refuses whole header sections over ``--max-header-size`` with a 431.)
MAX_HEADER_VALUE = 4096
#: Longest Accept-Encoding whose verdict is memoised (real clients send short ones).
_MEMO_LIMIT = 256


def choose_coding(accept_encoding: str) -> str:
    """The best coding for an Accept-Encoding header, honouring q-values (RFC 9110 12.5.3).

    Junk is read leniently: an unknown coding is ignored, a malformed q-value makes its coding
    unacceptable; nothing a client sends raises.
    """
    if len(accept_encoding) <= _MEMO_LIMIT:
        return _choose_coding_memo(accept_encoding)
    return _choose_coding(accept_encoding[:MAX_HEADER_VALUE])


@lru_cache(maxsize=512)
def _choose_coding_memo(accept_encoding: str) -> str:
    return _choose_coding(accept_encoding)


def _choose_coding(accept_encoding: str) -> str:
    weights: dict[str, float] = {}
    for part in accept_encoding.split(","):
        name, _, params = part.strip().partition(";")
        name = name.strip().lower()
        if not name:
            continue
        weights[name] = _quality(params)
    star = weights.get("*")
    best, best_q = "identity", 0.0
    for coding in ENCODINGS:
        q = weights.get(coding, star if star is not None else 0.0)
        if q > best_q:
            best, best_q = coding, q
    return best


def _quality(params: str) -> float:
    """The ``q`` of one Accept or Accept-Encoding element (1 when absent, 0 when malformed)."""
    for param in params.split(";"):
        key, _, value = param.strip().partition("=")
        if key.strip().lower() == "q":
            try:
                q = float(value.strip())
            except ValueError:
                return 0.0
            return q if 0.0 <= q <= 1.0 else 0.0
    return 1.0


def _feedish(media: str) -> bool:
    """A media type a feed reader asks for: XML or JSON of any kind, RSS, Atom (not XHTML)."""
    subtype = media.partition("/")[2]
    if not subtype or "*" in media or media == "application/xhtml+xml":
        return False
    suffix = subtype.rpartition("+")[2]
    return suffix in ("xml", "json") or "rss" in subtype or "atom" in subtype


@lru_cache(maxsize=512)
def prefers_html(accept: str) -> bool:
    """Whether a client sending ``accept`` wants a feed's HTML page rather than the feed.

    Only a client that names ``text/html`` and ranks it above every XML or JSON type it names
    (q-values, RFC 9110 12.5.1) gets HTML: browsers do; feed readers that name no ``text/html``,
    or rank a feed type as high as it (Miniflux sends both at q=1), get the feed. Wildcards
    count for neither, so ``*/*`` and a missing header get the feed.
    """
    if len(accept) > _ACCEPT_LIMIT:
        return False
    html_q: float | None = None
    feed_q = 0.0
    for element in accept.split(","):
        media, _, params = element.partition(";")
        media = media.strip().lower()
        if media == "text/html":
            html_q = max(html_q or 0.0, _quality(params))
        elif _feedish(media):
            feed_q = max(feed_q, _quality(params))
    return html_q is not None and html_q > feed_q


def _tags(header: str) -> list[str]:
    return [t.strip().removeprefix("W/").strip('"') for t in header.split(",") if t.strip()]


def http_date(value: str) -> datetime | None:
    """An HTTP date (RFC 9110 5.6.7) as an aware datetime, or None for anything else: a
    malformed date, one without a zone, or one no datetime can hold (year 99999999999)."""
    if len(value) > 64:
        return None
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    return when if when.tzinfo is not None else None


def not_modified(
    cached: CachedResponse, if_none_match: str | None, if_modified_since: str | None
) -> bool:
    """Whether a conditional GET can be answered 304 (If-None-Match wins, RFC 9110 13.2.2).

    A malformed validator is ignored (RFC 9110 13.1.3), so the full response is sent.
    """
    if if_none_match is not None:
        if if_none_match in cached.matching_tags:
            return True
        if if_none_match.strip() == "*":
            return True
        # Weak comparison; the tag of any coding of the same body matches. A list longer than
        # any real client sends is read up to MAX_HEADER_VALUE.
        tags = _tags(if_none_match[:MAX_HEADER_VALUE])
        return any(tag.split("-")[0] == cached.etag for tag in tags)
    if if_modified_since is not None:
        since = http_date(if_modified_since)
        if since is None:
            return False
        return int(cached.output.last_modified.timestamp()) <= since.timestamp()
    return False


def max_age(now: datetime, longest: int, grid_minutes: int) -> int:
    """Seconds a cache may keep a public response: up to the next line of the embargo grid,
    at most ``longest``. It depends on the clock alone, never on what the response holds, so
    it tells nobody which outputs an embargo will change; and as embargoes and age labels
    change on grid lines only, no cache keeps a response past its next change."""
    return max(0, min(longest, seconds_to_line(now, grid_minutes)))


def route_headers(route: urls.Route) -> dict[str, str]:
    """Headers a kind of output needs beyond the common ones: the embeds' strict
    Content-Security-Policy, which lets any site frame them."""
    if isinstance(route, urls.Widget | urls.ArticleCard | urls.QuoteCard):
        return {"content-security-policy": EMBED_CSP}
    return {}


def content_type(media: str) -> str:
    """The Content-Type header of a media type: text formats are declared UTF-8."""
    return f"{media}; charset=utf-8" if media.startswith(_TEXT) else media


def headers_for(
    cached: CachedResponse,
    coding: str,
    link: str | None,
    private: bool = False,
    vary: str = VARY,
    extra: dict[str, str] | None = None,
    keys: str | None = None,
) -> list[tuple[bytes, bytes]]:
    """The response headers of ``cached`` in ``coding``, except Cache-Control; kept.

    A private response (a journalist's feed) carries no CORS headers and asks search engines
    not to index it. ``vary`` is VARY_FEED for a public feed, in both its representations
    (the feed and its HTML page). ``extra`` adds the headers of a kind of output
    (:func:`route_headers`). ``keys``: a public response's surrogate keys, space-separated,
    sent as ``xkey`` (Varnish) and ``Surrogate-Key`` (Fastly); a CDN strips them before clients.
    """
    found = cached.headers.get(coding)
    if found is None:
        pairs = {
            "etag": cached.etag_for(coding),
            "last-modified": cached.last_modified,
            "vary": vary,
            "content-type": content_type(cached.media_type),
            "content-length": str(len(cached.body(coding))),
            "x-content-type-options": "nosniff",
            **({"x-robots-tag": "noindex"} if private else CORS),
        }
        if coding != "identity":
            pairs["content-encoding"] = coding
        if link:
            pairs["link"] = link
        if extra:
            pairs.update(extra)
        if keys and not private:
            pairs["xkey"] = pairs["surrogate-key"] = keys
        found = [(k.encode(), v.encode()) for k, v in pairs.items()]
        cached.headers[coding] = found
    return found


#: Headers a 304 leaves out (RFC 9110 15.4.5: it carries the validators and freshness only).
NOT_MODIFIED_DROPS = {b"content-type", b"content-length", b"content-encoding"}
