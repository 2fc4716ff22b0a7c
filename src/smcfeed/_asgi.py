"""The ASGI entry point for servers started by name (``uvicorn smcfeed._asgi:app``)."""

from __future__ import annotations

import os

from .app import create_app

app = create_app(
    os.environ.get("SMCFEED_CONTENT", "content"),
    watch=os.environ.get("SMCFEED_WATCH", "1") == "1",
)
