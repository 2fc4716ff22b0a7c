"""The ASGI entry point: ``smcfeed._serve.asgi:app`` for servers that import the app by name
in each worker (uvicorn; settings from :meth:`Settings.from_env`), and :func:`make_app` for
``serve``'s granian workers, which are forked from one process that loaded the content once."""

from __future__ import annotations

import dataclasses
import logging
import os
from pathlib import Path

from ..app import SmcfeedApp, create_app
from ..settings import Settings
from .accesslog import AccessLog


def make_app(settings: Settings | None = None, watch: bool | None = None) -> SmcfeedApp:
    """The app ``settings`` describe (default: from the environment); ``watch`` overrides
    theirs."""
    settings = settings or Settings.from_env()
    # Absolute, as the watcher reports changed files by their absolute paths; a symbolic link
    # is kept as given, not resolved, so a deploy that swaps releases by re-pointing it is
    # followed (the watchers notice, and every file is read from where it leads).
    settings = dataclasses.replace(settings, content=Path(os.path.abspath(settings.content)))
    if watch is not None:
        settings = dataclasses.replace(settings, watch=watch)
    access = None
    if settings.access_log:
        logging.getLogger("smcfeed.access").setLevel(logging.INFO)
        access = AccessLog()
    return create_app(
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
        access_log=access,
    )


_app: SmcfeedApp | None = None


def __getattr__(name: str) -> SmcfeedApp:
    # ``app`` is made on first use, so importing this module loads no content.
    global _app
    if name != "app":
        raise AttributeError(name)
    if _app is None:
        _app = make_app()
    return _app
