"""The command line: ``smcfeed check`` and ``smcfeed serve``; user errors are one line."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from ._content.loader import load_content
from .settings import MAX_AGE, Settings, cache_file


def _check(args: argparse.Namespace) -> int:
    result = load_content(args.dir)
    for error in result.errors:
        print(error, file=sys.stdout)
    for warning in result.warnings:
        print(warning.with_prefix("warning: "), file=sys.stdout)
    if result.errors or result.catalogue is None:
        count = len(result.errors)
        print(f"{count} error{'s' if count != 1 else ''} in {args.dir}", file=sys.stderr)
        return 1
    catalogue = result.catalogue
    languages = catalogue.site.languages
    plural = "s" if len(languages) != 1 else ""
    warned = len(result.warnings)
    print(
        f"{len(catalogue)} articles in {len(languages)} language{plural}"
        f" ({', '.join(languages)}), {len(catalogue.topics)} topics, "
        f"{len(catalogue.experts)} experts: OK"
        + (f" ({warned} warning{'s' if warned != 1 else ''})" if warned else "")
    )
    return 0


def _serve(args: argparse.Namespace) -> int:
    content = Path(args.content)
    if not content.is_dir():
        print(f"smcfeed: {content}: no such content folder", file=sys.stderr)
        return 1
    settings = Settings(
        content=content,
        base_url=args.base_url,
        max_age=args.max_age,
        cache_file=cache_file(content, args.cache),
        watch=not args.no_watch,
        access_log=not args.no_access_log,
    )
    # Servers import the app by name in each worker: the settings travel as variables.
    os.environ.update(settings.to_env())
    if args.server == "uvicorn":
        import uvicorn

        uvicorn.run(
            "smcfeed._serve.asgi:app",
            host=args.host,
            port=args.port,
            workers=args.workers,
            loop="uvloop",
            http="httptools",
            log_level="info",
            access_log=False,
            log_config=_LOGGING,
            timeout_graceful_shutdown=10,
            proxy_headers=True,
        )
        return 0
    from granian import Granian
    from granian.constants import Interfaces, Loops

    Granian(
        "smcfeed._serve.asgi:app",
        address=args.host,
        port=args.port,
        interface=Interfaces.ASGI,
        workers=args.workers,
        loop=Loops.uvloop,
        websockets=False,
        log_dictconfig=_LOGGING,
        log_access=False,
        respawn_failed_workers=True,
        workers_kill_timeout=10,
    ).serve()
    return 0


#: uvicorn's own messages plus ours: the app log and access lines on stderr, as a PaaS expects.
_LOGGING: dict[str, object] = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"},
        "access": {"format": "%(message)s"},
    },
    "handlers": {
        "default": {"class": "logging.StreamHandler", "formatter": "plain"},
        "access": {"class": "logging.StreamHandler", "formatter": "access"},
    },
    "loggers": {
        "uvicorn": {"handlers": ["default"], "level": "INFO", "propagate": False},
        "_granian": {"handlers": ["default"], "level": "INFO", "propagate": False},
        "granian": {"handlers": ["default"], "level": "INFO", "propagate": False},
        "smcfeed": {"handlers": ["default"], "level": "INFO", "propagate": False},
        "smcfeed.access": {"handlers": ["access"], "level": "INFO", "propagate": False},
    },
}


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(
        prog="smcfeed", description="Feeds of a science media centre's expert reactions."
    )
    commands = top.add_subparsers(dest="command", required=True)
    check = commands.add_parser("check", help="validate a content folder")
    check.add_argument(
        "dir", nargs="?", default="content", help="content folder (default: content)"
    )
    check.set_defaults(run=_check)
    serve = commands.add_parser("serve", help="serve the feeds over HTTP, reloading on edits")
    serve.add_argument("--content", default="content", help="content folder (default: content)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
    serve.add_argument("--workers", type=int, default=1)
    serve.add_argument(
        "--server",
        choices=("granian", "uvicorn"),
        default="granian",
        help="ASGI server (default granian: measured faster, see bench/)",
    )
    serve.add_argument(
        "--base-url",
        default=os.environ.get("SMCFEED_BASE_URL"),
        help="URL the service is reached at, overriding site.yaml (e.g. http://localhost:8000)",
    )
    serve.add_argument("--max-age", type=int, default=MAX_AGE, help="longest Cache-Control max-age")
    serve.add_argument(
        "--cache",
        default=os.environ.get("SMCFEED_CACHE"),
        help="file keeping parsed content across restarts (default: in ~/.cache/smcfeed; "
        "'off' for none)",
    )
    serve.add_argument("--no-watch", action="store_true", help="do not reload on file changes")
    serve.add_argument("--no-access-log", action="store_true")
    serve.set_defaults(run=_serve)
    return top


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        return int(args.run(args))
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
