"""Health: public liveness that says nothing about the content, and the operator's view.

``/healthz`` answers whether the process serves content, and nothing more: a count, an error
or the next scheduled change could name an embargoed file. The operator's view (counts,
errors with paths, the next scheduled change, loads, the watcher, tokens) is answered at
``/operator/status`` only to a request carrying the operator token from the environment
(``SMCFEED_OPERATOR_TOKEN``, see settings.py); to anyone else that path is as unknown as any other.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime
from typing import Any

import orjson

from .._content.grid import off_grid_embargoes
from .state import ContentState


def liveness(state: ContentState) -> tuple[int, bytes]:
    """``/healthz``: 200 ``{"status": "ok"}`` while content is served, else 503."""
    if state.snapshot is None:
        return 503, orjson.dumps({"status": "error"})
    return 200, orjson.dumps({"status": "ok"})


def operator_allowed(expected: str | None, authorization: str | None) -> bool:
    """Whether ``Authorization: Bearer <token>`` carries the operator token (in constant
    time); never when no operator token is set."""
    if not expected or not authorization:
        return False
    scheme, _, given = authorization.partition(" ")
    if scheme.lower() != "bearer":
        return False
    digest = hashlib.sha256(given.strip().encode("utf-8", "surrogatepass")).digest()
    return hmac.compare_digest(digest, hashlib.sha256(expected.encode()).digest())


def operator_view(state: ContentState, now: datetime, watching: bool) -> dict[str, Any]:
    """Everything an operator needs to know about the served content."""
    snapshot = state.snapshot
    status = "error" if snapshot is None else ("degraded" if state.errors else "ok")
    body: dict[str, Any] = {
        "status": status,
        "content": str(state.root),
        # Where what is served was read from: the release behind a link.
        "serving_from": state.serving_from,
        "watching": watching,
        "last_load": state.last_load,
        "last_good_load": state.last_good_load,
        "errors": [str(e) for e in state.errors],
    }
    if snapshot is not None:
        catalogue = snapshot.catalogue
        body["serving"] = {
            "loaded_at": snapshot.loaded_at,
            "articles": len(catalogue),
            "published": catalogue.published(now),
            "embargoed": len(catalogue) - catalogue.published(now),
            "languages": catalogue.site.languages,
            "topics": len(catalogue.topics),
            "experts": len(catalogue.experts),
            "cached_responses": len(snapshot.cache),
            "next_scheduled_change": snapshot.cache.next_expiry(),
            "next_embargo_lift": catalogue.next_release(now),
            "embargo_grid_minutes": catalogue.site.embargo_grid_minutes,
        }
        body["warnings"] = [str(e) for e in off_grid_embargoes(catalogue, now)]
    return body
