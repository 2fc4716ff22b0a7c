"""The ASGI entry point for servers started by name (``uvicorn smcfeed._asgi:app``)."""

from __future__ import annotations

import logging
import os
from pathlib import Path

from starlette.types import ASGIApp

from ..app import create_app
from .accesslog import AccessLog
from .state import default_cache_file

_content = os.environ.get("SMCFEED_CONTENT", "content")
_cache = os.environ.get("SMCFEED_CACHE", "")

app: ASGIApp = create_app(
    _content,
    watch=os.environ.get("SMCFEED_WATCH", "1") == "1",
    base_url=os.environ.get("SMCFEED_BASE_URL") or None,
    max_age=int(os.environ.get("SMCFEED_MAX_AGE", "300")),
    cache_file=None if _cache == "off" else Path(_cache or default_cache_file(Path(_content))),
)

if os.environ.get("SMCFEED_ACCESS_LOG", "1") == "1":
    logging.getLogger("smcfeed.access").setLevel(logging.INFO)
    app = AccessLog(app)
