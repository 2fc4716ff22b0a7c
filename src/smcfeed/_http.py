"""HTTP details that do not depend on the web framework: codings, validators, freshness."""

from __future__ import annotations

import math
from datetime import datetime
from email.utils import parsedate_to_datetime
from functools import lru_cache

from ._cache import ENCODINGS, Prepared


@lru_cache(maxsize=512)
def choose_coding(accept_encoding: str) -> str:
    """The best coding for an Accept-Encoding header, honouring q-values (RFC 9110 12.5.3)."""
    weights: dict[str, float] = {}
    for part in accept_encoding.split(","):
        name, _, params = part.strip().partition(";")
        name = name.strip().lower()
        if not name:
            continue
        q = 1.0
        for param in params.split(";"):
            key, _, value = param.strip().partition("=")
            if key.strip().lower() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        weights[name] = q
    star = weights.get("*")
    best, best_q = "identity", 0.0
    for coding in ENCODINGS:
        q = weights.get(coding, star if star is not None else 0.0)
        if q > best_q:
            best, best_q = coding, q
    return best


def _tags(header: str) -> list[str]:
    return [t.strip().removeprefix("W/").strip('"') for t in header.split(",") if t.strip()]


def not_modified(
    prepared: Prepared, if_none_match: str | None, if_modified_since: str | None
) -> bool:
    """Whether a conditional GET can be answered 304 (If-None-Match wins, RFC 9110 13.2.2)."""
    if if_none_match is not None:
        if if_none_match.strip() == "*":
            return True
        # Weak comparison; any coding of the same body matches.
        return any(tag.split("-")[0] == prepared.etag for tag in _tags(if_none_match))
    if if_modified_since is not None:
        try:
            since = parsedate_to_datetime(if_modified_since)
        except (TypeError, ValueError, IndexError):
            return False
        if since.tzinfo is None:
            return False
        return int(prepared.output.last_modified.timestamp()) <= since.timestamp()
    return False


def max_age(prepared: Prepared, now: datetime, default: int) -> int:
    """Seconds a cache may keep this response: never past its next scheduled change."""
    if prepared.expires is None:
        return default
    return max(0, min(default, math.floor((prepared.expires - now).total_seconds())))
