"""The Starlette app: routes, one error path, and the HTTP behaviour of DESIGN.md."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from importlib.resources import files
from pathlib import Path
from typing import Any

import orjson
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from . import _http
from ._state import ContentState
from .clock import Clock, system_clock
from .exceptions import BadRequest, NotFound, SmcfeedError

log = logging.getLogger("smcfeed")

ALLOWED = "GET, HEAD, OPTIONS"
_CORS = {
    "access-control-allow-origin": "*",
    "access-control-expose-headers": "ETag, Last-Modified, Link",
}
_TEXT_TYPES = ("text/", "application/")


class JSONResponse(Response):
    """orjson-backed JSON."""

    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content)


def error_response(status: int, message: str, headers: dict[str, str] | None = None) -> Response:
    """The one shape of every error body: ``{"error": {"status": …, "message": …}}``."""
    return JSONResponse({"error": {"status": status, "message": message}}, status, headers)


async def _not_found(request: Request, exc: Exception) -> Response:
    return error_response(404, str(exc) or "not found", _CORS)


async def _bad_request(request: Request, exc: Exception) -> Response:
    return error_response(400, str(exc), _CORS)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    headers = {"allow": ALLOWED} if exc.status_code == 405 else None
    return error_response(exc.status_code, str(exc.detail), headers)


async def _smcfeed_error(request: Request, exc: Exception) -> Response:
    log.error("%s: %s", request.url.path, exc)
    return error_response(500, "internal error")


def create_app(
    content: Path | str = "content",
    clock: Clock = system_clock,
    watch: bool = False,
    max_age: int = 300,
    base_url: str | None = None,
) -> Starlette:
    """The ASGI app serving ``content``; ``watch`` reloads it when files change.

    ``max_age`` is the longest Cache-Control max-age; ``base_url`` overrides site.yaml's.
    """
    state = ContentState(Path(content), clock, base_url)
    state.reload()
    xsl = files("smcfeed").joinpath("static/feed.xsl").read_bytes()

    async def feeds(request: Request) -> Response:
        method = request.method
        if method == "OPTIONS":
            return Response(
                status_code=204,
                headers={
                    **_CORS,
                    "access-control-allow-methods": "GET, HEAD",
                    "access-control-allow-headers": "If-None-Match, If-Modified-Since",
                    "access-control-max-age": "86400",
                    "allow": ALLOWED,
                },
            )
        snapshot = state.snapshot
        if snapshot is None:
            return error_response(503, "no content loaded: see /healthz", {"retry-after": "10"})
        now = clock()
        prepared = snapshot.cache.get(request.url.path, request.query_params.get("page"), now)
        headers = request.headers
        coding = _http.choose_coding(headers.get("accept-encoding", ""))
        media = prepared.media_type
        out = {
            "etag": prepared.etag_for(coding),
            "last-modified": prepared.last_modified,
            "cache-control": f"public, max-age={_http.max_age(prepared, now, max_age)}",
            "vary": "Accept-Encoding",
            "content-type": f"{media}; charset=utf-8" if media.startswith(_TEXT_TYPES) else media,
            "x-content-type-options": "nosniff",
            **_CORS,
        }
        site = snapshot.catalogue.site
        if site.websub_hubs and media != "text/html":
            self_url = f"{site.root}{request.url.path}"
            links = [f'<{hub}>; rel="hub"' for hub in site.websub_hubs]
            out["link"] = ", ".join([*links, f'<{self_url}>; rel="self"'])
        if _http.not_modified(
            prepared, headers.get("if-none-match"), headers.get("if-modified-since")
        ):
            del out["content-type"]
            return Response(status_code=304, headers=out)
        body = prepared.body(coding)
        if coding != "identity":
            out["content-encoding"] = coding
        if method == "HEAD":
            out["content-length"] = str(len(body))
            return Response(status_code=200, headers=out)
        return Response(body, status_code=200, headers=out)

    async def healthz(request: Request) -> Response:
        snapshot = state.snapshot
        body: dict[str, Any] = {
            "status": "ok"
            if snapshot and not state.errors
            else ("degraded" if snapshot else "error"),
            "content": str(state.root),
            "last_load": state.last_load,
            "last_good_load": state.last_good_load,
            "errors": [str(e) for e in state.errors],
        }
        if snapshot is not None:
            catalogue = snapshot.catalogue
            now = clock()
            body["serving"] = {
                "loaded_at": snapshot.loaded_at,
                "articles": len(catalogue),
                "published": sum(1 for a in catalogue.articles if a.published <= now),
                "languages": catalogue.site.languages,
                "topics": len(catalogue.topics),
                "experts": len(catalogue.experts),
                "cached_responses": len(snapshot.cache),
                "next_scheduled_change": snapshot.cache.next_expiry(),
            }
        return JSONResponse(body, 200 if snapshot else 503, {"cache-control": "no-store"})

    async def stylesheet(request: Request) -> Response:
        return Response(
            xsl,
            media_type="text/xsl",
            headers={
                "cache-control": f"public, max-age={max_age}",
                **_CORS,
            },
        )

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        task = asyncio.create_task(_watch(state)) if watch else None
        yield
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    app = Starlette(
        routes=[
            Route("/healthz", healthz, methods=["GET", "HEAD"]),
            Route("/feed.xsl", stylesheet, methods=["GET", "HEAD"]),
            Route("/{path:path}", feeds, methods=["GET", "HEAD", "OPTIONS"]),
        ],
        exception_handlers={
            HTTPException: _http_error,
            NotFound: _not_found,
            BadRequest: _bad_request,
            SmcfeedError: _smcfeed_error,
        },
        lifespan=lifespan,
    )
    app.state.content = state
    return app


def _status(serving: bool, errors: bool) -> str:
    if not serving:
        return "error"
    return "degraded" if errors else "ok"


async def _watch(state: ContentState) -> None:
    """Reload when files under the content folder change and the edits have settled."""
    from watchfiles import awatch

    async for changes in awatch(state.root, debounce=300, step=50, recursive=True):
        log.info("content changed (%d file(s)); reloading", len(changes))
        await asyncio.to_thread(state.reload)
