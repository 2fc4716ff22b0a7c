"""The ASGI entry point for servers that import the app by name in each worker
(``smcfeed._serve.asgi:app``); its settings come from :meth:`Settings.from_env`."""

from __future__ import annotations

import logging

from starlette.types import ASGIApp

from ..app import create_app
from ..settings import Settings
from .accesslog import AccessLog

settings = Settings.from_env()
app: ASGIApp = create_app(
    settings.content,
    watch=settings.watch,
    base_url=settings.base_url,
    max_age=settings.max_age,
    cache_file=settings.cache_file,
    tokens_file=settings.tokens_file,
    operator_token=settings.operator_token,
    purge=settings.purge,
    workers=settings.workers,
    instance=settings.instance,
)

if settings.access_log:
    logging.getLogger("smcfeed.access").setLevel(logging.INFO)
    app = AccessLog(app)
