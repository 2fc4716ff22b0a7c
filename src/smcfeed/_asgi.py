"""The ASGI entry point for servers started by name (``uvicorn smcfeed._asgi:app``)."""

from __future__ import annotations

import logging
import os

from starlette.types import ASGIApp

from ._accesslog import AccessLog
from .app import create_app

app: ASGIApp = create_app(
    os.environ.get("SMCFEED_CONTENT", "content"),
    watch=os.environ.get("SMCFEED_WATCH", "1") == "1",
    base_url=os.environ.get("SMCFEED_BASE_URL") or None,
    max_age=int(os.environ.get("SMCFEED_MAX_AGE", "300")),
)

if os.environ.get("SMCFEED_ACCESS_LOG", "1") == "1":
    logging.getLogger("smcfeed.access").setLevel(logging.INFO)
    app = AccessLog(app)
