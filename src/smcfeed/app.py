"""The ASGI app: a lean path for the outputs, Starlette for the rest, one error shape.

Aggregators poll the same feeds all day, so the output routes (feeds, OPML, index, article
API, shipped assets) are answered by :class:`OutputResponder` straight from kept bytes and
kept headers, with no per-request objects beyond the ASGI messages. Journalists' private feeds
(``/private/{token}/…``) go the same way once their token is admitted; a wrong token gets the
404 of any unknown path. ``/healthz``, the operator's view and the lifespan go through
Starlette. Every request is noted in the buffered access log, off the request path.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import orjson
from starlette.applications import Starlette
from starlette.requests import Request as HttpRequest
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import Message, Receive, Scope, Send

from . import urls
from ._serve import health as _health
from ._serve import http as _http
from ._serve import keys as _keys
from ._serve.accesslog import AccessLog, AccessLogMiddleware, redact
from ._serve.cdn import Purger
from ._serve.changes import ChangeTracker, Leadership
from ._serve.outbound import Outbound
from ._serve.responses import CachedResponse
from ._serve.state import ContentState
from ._serve.tokens import TokenRegistry, ensure_outside
from ._serve.watch import watch as _watch
from ._serve.websub import WebSubPublisher
from .clock import Clock, system_clock
from .exceptions import BadRequest, NotFound, Redirect, Unsupported
from .service import Request

log = logging.getLogger("smcfeed")

#: Paths Starlette answers; everything else is an output path.
_STARLETTE_PATHS = frozenset({urls.HEALTH_PATH, urls.OPERATOR_PATH})
_PRIVATE_CACHE_CONTROL = (b"cache-control", b"private, no-store")


class JSONResponse(Response):
    """orjson-backed JSON."""

    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content)


def _error_headers(status: int, extra: dict[str, str] | None = None) -> list[tuple[bytes, bytes]]:
    pairs = {
        "content-type": "application/json",
        "x-content-type-options": "nosniff",
        **_http.CORS,
        **(extra or {}),
    }
    if status == 405:
        pairs["allow"] = _http.ALLOWED
    return [(k.encode(), v.encode()) for k, v in pairs.items()]


class OutputResponder:
    """Answers GET, HEAD and OPTIONS on output paths from the current snapshot's cache."""

    def __init__(
        self,
        state: ContentState,
        clock: Clock,
        max_age: int,
        tokens: TokenRegistry,
        access: AccessLog | None = None,
    ) -> None:
        self.state = state
        self.clock = clock
        #: The system clock's instant as a POSIX timestamp, read without making a datetime
        #: (most requests need only the number); None for other clocks (tests).
        self._timestamp = time.time if clock is system_clock else None
        self.max_age = max_age
        self.tokens = tokens
        #: Where answered requests are noted (None: no access log).
        self.access = access
        #: Recently answered requests, for the snapshot they were answered from.
        self._recent_for: object = None
        self._recent: dict[_Line, tuple[Request, CachedResponse, bool]] = {}
        #: The public Cache-Control header of the current second (it depends on the clock only).
        self._fresh: tuple[int, int, tuple[bytes, bytes]] = (-1, -1, (b"", b""))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        method = scope["method"]
        if method == "OPTIONS":
            return await self._send(
                scope, send, 204, [(k.encode(), v.encode()) for k, v in _http.PREFLIGHT.items()]
            )
        if method not in ("GET", "HEAD"):
            return await self.error(scope, send, 405, f"{method} is not allowed here")
        snapshot = self.state.snapshot
        if snapshot is None:
            return await self.error(
                scope, send, 503, "no content loaded: see /healthz", {"retry-after": "10"}
            )
        accept = accept_encoding = if_none_match = if_modified_since = None
        referer = agent = b"-"
        for name, value in scope["headers"]:
            if name == b"accept-encoding":
                accept_encoding = value.decode("latin-1")
            elif name == b"accept":
                accept = value.decode("latin-1")
            elif name == b"if-none-match":
                if_none_match = value.decode("latin-1")
            elif name == b"if-modified-since":
                if_modified_since = value.decode("latin-1")
            elif name == b"user-agent":
                agent = value
            elif name == b"referer":
                referer = value
        # One reading of the clock per request, as a timestamp: most requests need no more.
        now: datetime | None = None
        if self._timestamp is not None:
            stamp = self._timestamp()
        else:
            now = self.clock()
            stamp = now.timestamp()
        path = scope["path"]
        token, rest = urls.split_private(path)
        if token is not None and not self.tokens.admits(token):
            # Exactly what any unknown path gets: the same body, headers and work.
            return await self.error(scope, send, 404, urls.not_found(path))
        # Aggregators ask for the same few URLs all day: their kept responses are found by
        # what chooses them — path, query and Accept, strings whose hashes Python keeps —
        # for this snapshot, without parsing or hashing a Request.
        query = scope["query_string"]
        line = (path, query, accept)
        if self._recent_for is not snapshot:
            self._recent_for, self._recent = snapshot, {}
        found = self._recent.get(line)
        if found is not None and found[1].valid_at_timestamp(stamp):
            request, cached, feed = found
        else:
            try:
                route = _route(rest, query)
                # A browser opening a public feed gets its HTML page; readers get the feed
                # (both Vary on Accept). Journalists' private feeds are always feeds.
                feed = token is None and isinstance(route, urls.Feed)
                html = feed and accept is not None and _http.prefers_html(accept)
                request = Request(route, html=html, audience=token)
                now = now or datetime.fromtimestamp(stamp, UTC)
                cached = snapshot.cache.get(request, now)
            except NotFound:
                # One message for every 404, naming the path only: a topic with nothing
                # public yet answers exactly as an unknown one.
                return await self.error(scope, send, 404, urls.not_found(path))
            except BadRequest as e:
                return await self.error(scope, send, 400, str(e))
            except Unsupported as e:
                return await self.error(scope, send, 501, str(e))
            except Redirect as e:
                return await self.redirect(scope, send, e.location, token)
            if len(self._recent) >= _RECENT:
                self._recent = {}
            self._recent[line] = (request, cached, feed)
        coding = _http.choose_coding(accept_encoding) if accept_encoding else "identity"
        headers = cached.headers.get(coding) or _http.headers_for(
            cached,
            coding,
            snapshot.link_header(request),
            private=token is not None,
            vary=_http.VARY_FEED if feed else _http.VARY,
            extra=_http.route_headers(request.route),
            keys=" ".join(
                _keys.surrogate_keys(
                    snapshot.catalogue, request, now or datetime.fromtimestamp(stamp, UTC)
                )
            ),
        )
        if token is not None:
            freshness = _PRIVATE_CACHE_CONTROL
        else:
            freshness = self._freshness(stamp, snapshot.catalogue.site.embargo_grid_minutes)
        if (if_none_match is not None or if_modified_since is not None) and _http.not_modified(
            cached, if_none_match, if_modified_since
        ):
            kept = cached.not_modified_headers.get(coding)
            if kept is None:
                kept = [h for h in headers if h[0] not in _http.NOT_MODIFIED_DROPS]
                cached.not_modified_headers[coding] = kept
            status, headers, body = 304, [*kept, freshness], b""
        else:
            status, headers = 200, [*headers, freshness]
            body = b"" if method == "HEAD" else cached.body(coding)
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})
        # The access log's entry, made here from what this request has already read: the
        # few hundred nanoseconds it costs are most of what the log costs a request.
        access = self.access
        if access is not None:
            try:  # what granian and uvicorn always give, read without a call each
                client, raw_path, version = (
                    scope["client"],
                    scope["raw_path"],
                    scope["http_version"],
                )
            except KeyError:  # optional in ASGI
                client, raw_path = scope.get("client"), scope.get("raw_path")
                version = scope.get("http_version", "1.1")
            entry = (
                access.second,
                client[0] if client else "-",
                method,
                raw_path or path,
                query,
                version,
                referer,
                agent,
                status,
                len(body),
            )
            access.note(access.seen.setdefault(entry, entry))

    def _freshness(self, stamp: float, grid: int) -> tuple[bytes, bytes]:
        """The public Cache-Control header; made once per second, as it depends on the clock
        and the grid only."""
        second = int(stamp)
        if self._fresh[0] != second or self._fresh[1] != grid:
            now = datetime.fromtimestamp(stamp, UTC)
            header = (b"cache-control", _cache_control(_http.max_age(now, self.max_age, grid)))
            self._fresh = (second, grid, header)
        return self._fresh[2]

    async def redirect(self, scope: Scope, send: Send, location: str, token: str | None) -> None:
        """301 to an output's canonical path (e.g. ``?page=2`` to ``…/page/2/rss.xml``),
        staying in the private feeds of ``token`` when there."""
        headers: dict[str, str]
        if token is None:
            headers = {
                "location": location,
                "cache-control": f"public, max-age={self.max_age}",
                **_http.CORS,
            }
        else:
            headers = {
                "location": f"{urls.PRIVATE_PREFIX}{token}{location}",
                "cache-control": "private, no-store",
                "x-robots-tag": "noindex",
            }
        await self._send(scope, send, 301, [(k.encode(), v.encode()) for k, v in headers.items()])

    async def error(
        self,
        scope: Scope,
        send: Send,
        status: int,
        message: str,
        extra: dict[str, str] | None = None,
    ) -> None:
        body = _http.error_body(status, message)
        await self._send(scope, send, status, _error_headers(status, extra), body)

    async def _send(
        self,
        scope: Scope,
        send: Send,
        status: int,
        headers: list[tuple[bytes, bytes]],
        body: bytes = b"",
    ) -> None:
        """Send a response and note it in the access log."""
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})
        if self.access is not None:
            self.access.record(scope, status, len(body))


#: What a kept response is found by: path, query and Accept.
_Line = tuple[str, bytes, str | None]
#: Request lines kept in the responder's own table before it starts over.
_RECENT = 1024


def _route(path: str, query: bytes) -> urls.Route:
    """The route of a request line; kept, as aggregators ask for the same few paths all day
    (only short request lines, so long unique ones cannot fill memory)."""
    if len(path) + len(query) <= 256:
        return _kept_route(path, query)
    return urls.parse(path, query.decode("latin-1"))


@lru_cache(maxsize=4096)
def _kept_route(path: str, query: bytes) -> urls.Route:
    return urls.parse(path, query.decode("latin-1"))


def _cache_control(seconds: int) -> bytes:
    return b"public, max-age=%d" % seconds


async def _send(
    send: Send, status: int, headers: list[tuple[bytes, bytes]], body: bytes = b""
) -> None:
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def _without_body(send: Send) -> Send:
    """``send`` for a HEAD request: headers as for GET, no body bytes, whoever answers."""

    async def head_send(message: Message) -> None:
        if message["type"] == "http.response.body" and message.get("body"):
            message = {**message, "body": b""}
        await send(message)

    return head_send


class SmcfeedApp:
    """The whole service as one ASGI app; ``state.content`` is the served content."""

    def __init__(
        self,
        starlette: Starlette,
        outputs: OutputResponder,
        content: ContentState,
        changes: ChangeTracker | None = None,
    ):
        self.starlette = starlette
        self.outputs = outputs
        self.state = SimpleNamespace(content=content, changes=changes)
        access = outputs.access
        self._logged = starlette if access is None else AccessLogMiddleware(starlette, access)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.starlette(scope, receive, send)
            return
        if scope["method"] == "HEAD":
            send = _without_body(send)
        try:
            if scope["path"] not in _STARLETTE_PATHS:
                await self.outputs(scope, receive, send)
            else:
                await self._logged(scope, receive, send)
        except Exception:
            # A bug, never the client's doing (bad requests are 4xx before this): logged with
            # its traceback for us, answered in the one error shape without it for the client.
            log.exception("error answering %s", redact(str(scope.get("path", "")))[:200])
            with contextlib.suppress(Exception):  # the response may have started already
                await _send(send, 500, _error_headers(500), _http.error_body(500, "server error"))


def create_app(
    content: Path | str = "content",
    clock: Clock = system_clock,
    watch: bool = False,
    max_age: int = 300,
    base_url: str | None = None,
    cache_file: Path | None = None,
    tokens_file: Path | None = None,
    operator_token: str | None = None,
    tokens_recheck: float = 1.0,
    purge: Sequence[str] = (),
    workers: int = 1,
    instance: str | None = None,
    access_log: AccessLog | None = None,
) -> SmcfeedApp:
    """The ASGI app serving ``content``; ``watch`` reloads it when files change.

    ``max_age`` is the longest Cache-Control max-age; ``base_url`` overrides site.yaml's;
    ``cache_file`` keeps parsed files across restarts; ``tokens_file`` holds the journalists'
    hashed tokens (None: no private feeds), looked at again ``tokens_recheck`` seconds after
    the last look; ``operator_token`` opens the operator's view; ``purge`` lists CDN purge
    endpoints; ``access_log`` notes every request. Whenever public outputs change (a swap, an
    embargo lifting, an age label turning over), site.yaml's WebSub hubs are pinged and the
    endpoints purged, by one of the ``workers`` of the server named ``instance`` (see
    ``_serve.changes``).
    """
    if tokens_file is not None:
        ensure_outside(Path(tokens_file), Path(content))
    state = ContentState(Path(content), clock, base_url, cache_file=cache_file)
    state.reload()
    changes = _change_tracker(state, clock, purge, workers, instance)
    tokens = TokenRegistry(
        Path(tokens_file) if tokens_file is not None else None, recheck=tokens_recheck
    )

    async def healthz(request: HttpRequest) -> Response:
        status, body = _health.liveness(state)
        return Response(body, status, {"cache-control": "no-store"}, "application/json")

    async def operator(request: HttpRequest) -> Response:
        if not _health.operator_allowed(operator_token, request.headers.get("authorization")):
            # To anyone without the token, this path is as unknown as any other (named as
            # routed: ``request.url`` decodes the query, which need not be UTF-8).
            body = _http.error_body(404, urls.not_found(request.scope["path"]))
            return Response(body, 404, dict(_http.CORS), "application/json")
        view = _health.operator_view(state, clock(), watching=watch)
        return JSONResponse(view, 200, {"cache-control": "no-store"})

    async def starlette_error(request: HttpRequest, exc: Exception) -> Response:
        status = getattr(exc, "status_code", 500)
        body = _http.error_body(status, str(getattr(exc, "detail", "error")))
        headers = {"allow": "GET, HEAD"} if status == 405 else {}
        return Response(body, status, headers, media_type="application/json")

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        task = asyncio.create_task(_watch(state)) if watch else None
        changes.start()
        yield
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await asyncio.to_thread(changes.close)
        if access_log is not None:
            access_log.close()

    starlette = Starlette(
        routes=[
            Route(urls.HEALTH_PATH, healthz, methods=["GET", "HEAD"]),
            Route(urls.OPERATOR_PATH, operator, methods=["GET", "HEAD"]),
        ],
        exception_handlers={405: starlette_error, 404: starlette_error},
        lifespan=lifespan,
    )
    outputs = OutputResponder(state, clock, max_age, tokens, access_log)
    return SmcfeedApp(starlette, outputs, state, changes)


def _change_tracker(
    state: ContentState, clock: Clock, purge: Sequence[str], workers: int, instance: str | None
) -> ChangeTracker:
    """Announce changed outputs to WebSub hubs and purge them at CDNs, in the background."""
    outbound = Outbound()
    # A server's workers take new content moments after the swap (forked anew from the process
    # that loaded it, or each reloading on its own): wait that long before a hub fetches a
    # changed feed, and purge once more after it. Only an app made in-process (no ``instance``)
    # serves from the very object that swapped.
    settle = 0.5 if workers > 1 or instance is not None else 0.0
    endpoints = list(purge)
    tracker = ChangeTracker(
        clock,
        [WebSubPublisher(outbound, settle=settle), Purger(endpoints, outbound, settle=settle)],
        Leadership.for_server(state.root, instance),
        enabled=lambda snapshot: bool(endpoints or snapshot.catalogue.site.websub_hubs),
        outbound=outbound,
    )
    if state.snapshot is not None:
        tracker.on_swap(None, state.snapshot)
    state.on_swap.append(tracker.on_swap)
    return tracker
