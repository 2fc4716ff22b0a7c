"""The one map of public URLs: every path is parsed, built and listed here.

Routes, links inside outputs, the static export, CDN keys and WebSub pings all ask this
module, so they cannot drift apart. A :class:`Route` names one output; :func:`parse` turns a
request's path and query into one (or raises), :func:`path` builds the one canonical path of a
route, :func:`url` makes it absolute. There is exactly one canonical path per output: older
pages live at ``…/page/N/rss.xml`` (so a static export on storage that ignores query strings
serves them), and ``?page=N`` on a feed answers with a redirect to that path.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from importlib.resources import files
from typing import TYPE_CHECKING, Literal
from urllib.parse import parse_qsl, urlencode, urlsplit

from .catalogue import FeedKey, FeedKind
from .exceptions import BadRequest, NotFound, Redirect, Unsupported
from .models import SLUG_PATTERN

if TYPE_CHECKING:
    from .catalogue import Catalogue

#: Slugs and ids: the one slug pattern (models.py), as URLs use it.
SLUG = SLUG_PATTERN
SLUG_RE = re.compile(rf"^{SLUG}$")
#: A language code in a path: ``es``, ``en``, ``pt-br``.
LANG = r"[a-zA-Z]{2,3}(?:-[a-zA-Z0-9]{2,8})*"


@dataclass(frozen=True)
class Format:
    """One feed format: its short name, the file name that ends its URLs, its media type."""

    #: ``rss``, ``atom`` or ``json``.
    name: str
    #: Last segment of the feed's URL.
    file: str
    #: Media type, without parameters.
    media_type: str
    #: The ``type`` an OPML outline gives feeds of this format: "rss" for all three, as
    #: OPML 2.0 says for any feed subscription (lemon24's reader imports no other type);
    #: the outline's ``version`` attribute names the format.
    opml_type: str


#: The feed formats, in the order feeds are listed.
FORMATS: tuple[Format, ...] = (
    Format("rss", "rss.xml", "application/rss+xml", "rss"),
    Format("atom", "atom.xml", "application/atom+xml", "rss"),
    Format("json", "feed.json", "application/feed+json", "rss"),
)
BY_NAME = {f.name: f for f in FORMATS}
BY_FILE = {f.file: f for f in FORMATS}

#: Media types of the other outputs.
OPML_TYPE = "text/x-opml"
HTML_TYPE = "text/html"
JSON_TYPE = "application/json"
XML_TYPE = "text/xml"
XSL_TYPE = "text/xsl"
JS_TYPE = "text/javascript"

#: Items a widget shows unless ``?limit=`` says otherwise, and the bounds of ``limit``.
WIDGET_LIMIT, WIDGET_MAX = 5, 20


# --- routes: one frozen value per kind of output ------------------------------------------


@dataclass(frozen=True)
class Index:
    """``/``: the HTML index of every feed."""


@dataclass(frozen=True)
class Opml:
    """``/feeds.opml`` (safe to import whole) or ``/feeds/{fmt}.opml`` (every feed, one format)."""

    #: None for the default OPML; a format name for the full catalogue in that format.
    fmt: str | None = None


@dataclass(frozen=True)
class Feed:
    """One page of one feed in one format."""

    key: FeedKey
    fmt: str
    page: int = 1


@dataclass(frozen=True)
class Article:
    """One article: its HTML page (``fmt="html"``) or its JSON (``fmt="json"``)."""

    lang: str
    slug: str
    fmt: Literal["html", "json"] = "json"


@dataclass(frozen=True)
class Widget:
    """``/embed/{lang}[/{kind}/{value}]``: an iframe-able list of a feed's latest items."""

    key: FeedKey
    limit: int = WIDGET_LIMIT


@dataclass(frozen=True)
class QuoteCard:
    """``/embed/{lang}/articles/{slug}/reactions/{reaction}``: one expert's quote as a card."""

    lang: str
    slug: str
    reaction: str


@dataclass(frozen=True)
class ArticleCard:
    """``/embed/{lang}/articles/{slug}``: one article (title, age, type, quotes) as a card."""

    lang: str
    slug: str


@dataclass(frozen=True)
class OEmbed:
    """``/oembed?url=…``: an oEmbed 1.0 response for one of our page URLs."""

    url: str
    fmt: str = "json"
    maxwidth: int | None = None
    maxheight: int | None = None


@dataclass(frozen=True)
class OpenApi:
    """``/openapi.json``: the OpenAPI 3.1 description of the JSON API."""


@dataclass(frozen=True)
class Asset:
    """A fixed file shipped with the package (``/feed.xsl``, ``/embed.js``)."""

    name: str


Route = Index | Opml | Feed | Article | Widget | ArticleCard | QuoteCard | OEmbed | OpenApi | Asset
#: The formats an oEmbed response comes in (oEmbed 1.0, section 2.2).
OEMBED_FORMATS = ("json", "xml")

#: Fixed files and their media types.
ASSETS = {"feed.xsl": XSL_TYPE, "embed.js": JS_TYPE}
#: Paths answered by the operator's side, not by the output service: public liveness, and
#: the operator's view of the content (answered only with the operator token).
HEALTH_PATH = "/healthz"
OPERATOR_PATH = "/operator/status"
#: Prefix of journalists' private feeds: ``/private/{token}/…``.
PRIVATE_PREFIX = "/private/"


# --- building ------------------------------------------------------------------------------


def feed_folder(key: FeedKey) -> str:
    """The folder of a feed's URLs, e.g. ``/es/topics/climate``."""
    return f"/{key.lang}" if key.kind == "all" else f"/{key.lang}/{key.kind}/{key.value}"


def path(route: Route) -> str:
    """The one canonical path (with its query, for the routes that take one) of ``route``."""
    match route:
        case Index():
            return "/"
        case Opml(fmt=None):
            return "/feeds.opml"
        case Opml(fmt=fmt):
            return f"/feeds/{fmt}.opml"
        case Feed(key=key, fmt=fmt, page=1):
            return f"{feed_folder(key)}/{BY_NAME[fmt].file}"
        case Feed(key=key, fmt=fmt, page=page):
            return f"{feed_folder(key)}/page/{page}/{BY_NAME[fmt].file}"
        case Article(lang=lang, slug=slug, fmt="json"):
            return f"/{lang}/articles/{slug}.json"
        case Article(lang=lang, slug=slug):
            return f"/{lang}/articles/{slug}"
        case Widget(key=key, limit=limit):
            base = "/embed" + feed_folder(key)
            return base if limit == WIDGET_LIMIT else f"{base}?limit={limit}"
        case ArticleCard(lang=lang, slug=slug):
            return f"/embed/{lang}/articles/{slug}"
        case QuoteCard(lang=lang, slug=slug, reaction=reaction):
            return f"/embed/{lang}/articles/{slug}/reactions/{reaction}"
        case OEmbed(url=target, fmt=fmt, maxwidth=maxwidth, maxheight=maxheight):
            query: list[tuple[str, str]] = [("url", target)]
            if fmt != "json":
                query.append(("format", fmt))
            if maxwidth is not None:
                query.append(("maxwidth", str(maxwidth)))
            if maxheight is not None:
                query.append(("maxheight", str(maxheight)))
            return f"/oembed?{urlencode(query)}"
        case OpenApi():
            return "/openapi.json"
        case Asset(name=name):
            return f"/{name}"
    raise AssertionError(route)  # pragma: no cover - every kind is matched above


def url(root: str, route: Route) -> str:
    """``route``'s absolute URL under ``root`` (a base URL without its trailing slash)."""
    return root + path(route)


def private_path(token: str, route: Route) -> str:
    """The path of ``route`` in a journalist's private feeds."""
    return f"{PRIVATE_PREFIX}{token}{path(route)}"


def media_type(route: Route) -> str:
    """The media type of ``route``'s output (a feed asked for as HTML aside)."""
    match route:
        case Index() | Widget() | ArticleCard() | QuoteCard() | Article(fmt="html"):
            return HTML_TYPE
        case Opml():
            return OPML_TYPE
        case Feed(fmt=fmt):
            return BY_NAME[fmt].media_type
        case OEmbed(fmt="xml"):
            return XML_TYPE
        case Asset(name=name):
            return ASSETS[name]
    return JSON_TYPE


# --- listing -------------------------------------------------------------------------------


@cache
def shipped(name: str) -> bool:
    """Whether the package ships the asset ``name`` (under ``smcfeed/static``)."""
    return name in ASSETS and files("smcfeed").joinpath("static", name).is_file()


def public_routes(catalogue: Catalogue, now: datetime) -> Iterator[Route]:
    """Every public output at ``now``: the index, the OPMLs, each page of each feed with
    something public in each format and its widget, each visible article (JSON, page, card
    and a card per quote), the OpenAPI description, the shipped assets.

    The one list of what exists: the static export writes it, and every link in it must
    resolve within it. A route the service learns to render is listed here too. Routes that
    take free parameters are listed at their defaults (a widget's ``limit``) or not at all
    (oEmbed, which answers by query string only).
    """
    yield Index()
    yield Opml()
    for listing in FORMATS:
        yield Opml(listing.name)
    size = catalogue.site.feed_size
    for key in catalogue.listed_feeds(now):
        pages = max(1, math.ceil(len(catalogue.items(key, now)) / size))
        for page in range(1, pages + 1):
            for fmt in FORMATS:
                yield Feed(key, fmt.name, page)
    for key in catalogue.listed_feeds(now):
        yield Widget(key)
    for lang in catalogue.site.languages:
        for article in catalogue.items(FeedKey(lang), now):
            yield Article(lang, article.slug, "json")
            yield Article(lang, article.slug, "html")
            yield ArticleCard(lang, article.slug)
            for reaction in catalogue.content(article).reactions:
                yield QuoteCard(lang, article.slug, reaction.id)
    yield OpenApi()
    for name in ASSETS:
        if shipped(name):
            yield Asset(name)


# --- parsing -------------------------------------------------------------------------------

_FEED_RE = re.compile(
    rf"^/(?P<lang>{LANG})(?:/(?P<kind>topics|types|experts)/(?P<value>{SLUG}))?"
    rf"(?:/page/(?P<page>[1-9][0-9]{{0,8}}))?/(?P<file>rss\.xml|atom\.xml|feed\.json)$"
)
_ARTICLE_RE = re.compile(rf"^/(?P<lang>{LANG})/articles/(?P<slug>{SLUG})(?P<json>\.json)?$")
_WIDGET_RE = re.compile(
    rf"^/embed/(?P<lang>{LANG})(?:/(?P<kind>topics|types|experts)/(?P<value>{SLUG}))?/?$"
)
_CARD_RE = re.compile(
    rf"^/embed/(?P<lang>{LANG})/articles/(?P<slug>{SLUG})"
    rf"(?:/reactions/(?P<reaction>{SLUG}))?$"
)
_OPML_RE = re.compile(r"^/feeds/(?P<fmt>rss|atom|json)\.opml$")


def query_params(query: str) -> dict[str, str]:
    """A query string as a dict (the last of repeated names wins); never raises."""
    return dict(parse_qsl(query, keep_blank_values=True))


def parse_page(raw: str) -> int:
    """A ``page`` parameter as a number; BadRequest when it is not a positive whole number."""
    digits = raw.strip()
    if not digits.isascii() or not digits.isdigit() or len(digits) > 9 or int(digits) < 1:
        shown = raw if len(raw) <= 20 else raw[:20] + "…"
        raise BadRequest(f"page must be a whole number from 1, not '{shown}'")
    return int(digits)


def _bounded_int(params: dict[str, str], name: str, low: int, high: int) -> int | None:
    raw = params.get(name)
    if raw is None or raw == "":
        return None
    if not raw.isascii() or not raw.isdigit() or len(raw) > 9:
        raise BadRequest(f"{name} must be a whole number from {low} to {high}")
    return max(low, min(high, int(raw)))


def parse(request_path: str, query: str = "") -> Route:
    """The route a path and query name. Unknown query parameters are ignored.

    Raises NotFound when no output can live at the path, BadRequest for a malformed parameter
    the route accepts, and Redirect when the output's canonical URL is another (``?page=N``).
    """
    params = query_params(query) if query else {}
    if request_path == "/":
        return Index()
    if request_path == "/feeds.opml":
        return Opml()
    if request_path == "/openapi.json":
        return OpenApi()
    if request_path == "/oembed":
        target = params.get("url", "")
        if not target:
            raise BadRequest("oembed needs a url parameter")
        fmt = params.get("format") or "json"
        if fmt not in OEMBED_FORMATS:
            # oEmbed 1.0 (section 2.3.4) asks for 501 Not Implemented here.
            raise Unsupported(f"oembed format must be json or xml, not '{_shown(fmt, 20)}'")
        return OEmbed(
            target,
            fmt,
            _bounded_int(params, "maxwidth", 1, 10_000),
            _bounded_int(params, "maxheight", 1, 10_000),
        )
    if request_path.startswith("/") and request_path[1:] in ASSETS:
        return Asset(request_path[1:])
    match = _FEED_RE.match(request_path)
    if match:
        key = FeedKey(match["lang"], _kind(match["kind"]), match["value"] or "")
        page = int(match["page"]) if match["page"] else 1
        if match["page"] and page == 1:
            raise NotFound(not_found(request_path))
        route = Feed(key, BY_FILE[match["file"]].name, page)
        if "page" in params:
            wanted = parse_page(params["page"])
            raise Redirect(path(Feed(key, route.fmt, wanted if page == 1 else page)))
        return route
    match = _ARTICLE_RE.match(request_path)
    if match:
        return Article(match["lang"], match["slug"], "json" if match["json"] else "html")
    match = _CARD_RE.match(request_path)
    if match:
        if match["reaction"] is None:
            return ArticleCard(match["lang"], match["slug"])
        return QuoteCard(match["lang"], match["slug"], match["reaction"])
    match = _WIDGET_RE.match(request_path)
    if match:
        key = FeedKey(match["lang"], _kind(match["kind"]), match["value"] or "")
        limit = _bounded_int(params, "limit", 1, WIDGET_MAX)
        return Widget(key, WIDGET_LIMIT if limit is None else limit)
    match = _OPML_RE.match(request_path)
    if match:
        return Opml(match["fmt"])
    raise NotFound(not_found(request_path))


def not_found(request_path: str) -> str:
    """The one 404 message of an output path. It names the path and nothing else, so a feed
    with nothing public yet, an unknown one and a private path with a wrong token answer
    alike."""
    return f"nothing at {_shown(request_path)}"


def resolve(root: str, target: str) -> tuple[Route, str]:
    """The route one of our public absolute URLs names, and its fragment (without ``#``).

    ``root`` is our base URL without its trailing slash. A URL elsewhere, a private one, or
    one that names no output raises NotFound; either scheme is accepted, as a CMS may have
    rewritten it. A non-canonical URL (``?page=2``) resolves to its canonical route.
    """
    parts = urlsplit(target.strip())
    ours = urlsplit(root)
    prefix = ours.path.rstrip("/")
    request_path = parts.path or "/"
    if (
        parts.scheme.lower() not in ("http", "https")
        or parts.netloc.lower() != ours.netloc.lower()
        or not request_path.startswith(prefix + "/")
    ):
        raise NotFound(f"not a URL of this service: {_shown(target)}")
    request_path = request_path[len(prefix) :]
    if split_private(request_path)[0] is not None:
        raise NotFound(f"nothing public at {_shown(target)}")
    try:
        route = parse(request_path, parts.query)
    except Redirect as moved:
        where, _, query = moved.location.partition("?")
        route = parse(where, query)
    except BadRequest as e:
        raise NotFound(f"nothing at {_shown(target)}") from e
    return route, parts.fragment


def split_private(request_path: str) -> tuple[str | None, str]:
    """``(token, rest)`` for a path under ``/private/{token}``, else ``(None, path)``."""
    if not request_path.startswith(PRIVATE_PREFIX):
        return None, request_path
    token, slash, rest = request_path[len(PRIVATE_PREFIX) :].partition("/")
    return token, slash + rest


def _kind(raw: str | None) -> FeedKind:
    if raw == "topics":
        return "topics"
    if raw == "types":
        return "types"
    if raw == "experts":
        return "experts"
    return "all"


def _shown(text: str, limit: int = 120) -> str:
    """A request value quoted in a message: short, whatever the client sent."""
    return text if len(text) <= limit else text[:limit] + "…"
