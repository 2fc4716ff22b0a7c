"""The command line: ``smcfeed check``, ``serve``, ``tokens`` and ``status``; user errors are
one line."""

from __future__ import annotations

import argparse
import contextlib
import ipaddress
import os
import signal
import sys
import threading
from collections.abc import Sequence
from pathlib import Path

from ._content.grid import off_grid_embargoes
from ._content.lint import markup_warnings
from ._content.loader import load_content
from ._serve import tokens as _tokens
from .clock import system_clock
from .settings import (
    HEADER_TIMEOUT,
    MAX_AGE,
    MAX_HEADER_SIZE,
    Settings,
    cache_file,
    purge_endpoints,
    tokens_file,
)


def _check(args: argparse.Namespace) -> int:
    result = load_content(args.dir)
    errors = list(result.errors)
    if result.catalogue is not None:
        errors += off_grid_embargoes(result.catalogue, system_clock(), Path(args.dir))
    for error in errors:
        print(error, file=sys.stdout)
    # Warnings (``path:line: warning: …``) do not change the exit status.
    warnings = list(result.warnings)
    if result.catalogue is not None:
        warnings += markup_warnings(Path(args.dir), result.catalogue)
    for warning in warnings:
        print(warning.with_prefix("warning: "), file=sys.stdout)
    if errors or result.catalogue is None:
        count = len(errors)
        print(f"{count} error{'s' if count != 1 else ''} in {args.dir}", file=sys.stderr)
        return 1
    catalogue = result.catalogue
    languages = catalogue.site.languages
    plural = "s" if len(languages) != 1 else ""
    warned = len(warnings)
    print(
        f"{len(catalogue)} articles in {len(languages)} language{plural}"
        f" ({', '.join(languages)}), {len(catalogue.topics)} topics, "
        f"{len(catalogue.experts)} experts: OK"
        + (f" ({warned} warning{'s' if warned != 1 else ''})" if warned else "")
    )
    return 0


def _build(args: argparse.Namespace) -> int:
    from ._export.build import build, describe
    from .clock import system_clock

    content = Path(args.content)
    if not content.is_dir():
        print(f"smcfeed: {content}: no such content folder", file=sys.stderr)
        return 1
    result = load_content(content, args.base_url)
    for error in result.errors:
        print(error, file=sys.stdout)
    if result.errors or result.catalogue is None:
        count = len(result.errors)
        print(
            f"{count} error{'s' if count != 1 else ''} in {content}: nothing built",
            file=sys.stderr,
        )
        return 1
    now = system_clock()
    try:
        export = build(
            result.catalogue,
            Path(args.out),
            now,
            max_age=args.max_age,
            listen=args.listen,
            brotli={"auto": None, "on": True, "off": False}[args.brotli],
        )
    except (FileExistsError, OSError) as e:
        print(f"smcfeed: {e}", file=sys.stderr)
        return 1
    for line in describe(export, now):
        print(line)
    return 0


def _serve(args: argparse.Namespace) -> int:
    content = Path(args.content)
    problem = _limits_error(args)
    if problem:
        print(f"smcfeed: {problem}", file=sys.stderr)
        return 1
    if not content.is_dir():
        print(f"smcfeed: {content}: no such content folder", file=sys.stderr)
        return 1
    tokens = tokens_file(args.tokens)
    try:
        _tokens.ensure_outside(tokens, content)
    except _tokens.TokenFileError as e:
        return _fail(str(e))
    settings = Settings(
        content=content,
        base_url=args.base_url,
        max_age=args.max_age,
        cache_file=cache_file(content, args.cache),
        watch=not args.no_watch,
        access_log=not args.no_access_log,
        tokens_file=tokens,
        operator_token=os.environ.get("SMCFEED_OPERATOR_TOKEN") or None,
        purge=tuple(args.purge)
        if args.purge is not None
        else purge_endpoints(os.environ.get("SMCFEED_PURGE", "")),
        workers=args.workers,
        # The workers of this server share a lock named after it: one announces each change.
        instance=f"serve-{os.getpid()}",
        header_timeout=args.header_timeout,
        max_header_size=args.max_header_size,
    )
    from ._serve import workers

    # SIGHUP would end the process while the content loads (its default): it is noted, and
    # granian takes it once it runs (a look at every file, new workers); uvicorn's supervisor
    # (--workers 2 or more) handles its own; one uvicorn worker has nothing to fork anew.
    hangups = threading.Event()
    with contextlib.suppress(ValueError):  # only the main thread sets handlers
        signal.signal(signal.SIGHUP, lambda *_: hangups.set())
    try:
        # Before the content is loaded (a minute at 100k articles), and kept while serving.
        address = workers.claim(args.host, args.port)
    except workers.AddressError as e:
        return _fail(str(e))
    try:
        return _run_server(args, settings, hangups)
    finally:
        if address is not None:
            address.close()


def _run_server(args: argparse.Namespace, settings: Settings, hangups: threading.Event) -> int:
    if args.server == "uvicorn":
        # uvicorn imports the app by name in each worker: the settings travel as variables.
        os.environ.update(settings.to_env())
        import uvicorn

        from ._serve import uvicorn_limits

        uvicorn.run(
            "smcfeed._serve.asgi:app",
            host=args.host,
            port=args.port,
            workers=args.workers,
            loop="uvloop",
            http=uvicorn_limits.LimitedHttpToolsProtocol,
            log_level="info",
            access_log=False,
            log_config=_LOGGING,
            timeout_graceful_shutdown=10,
            proxy_headers=True,
            timeout_keep_alive=args.keep_alive_timeout,
            limit_concurrency=args.max_concurrency,
            backlog=args.backlog,
        )
        return 0
    from granian.constants import HTTPModes
    from granian.http import HTTP1Settings

    from ._serve import workers

    limits = {
        # HTTP/1.1 only (a CDN or proxy speaks HTTP/2 to clients): in "auto" mode granian waits
        # for a new connection's first bytes with no timeout at all.
        "http": HTTPModes.http1,
        "http1_settings": HTTP1Settings(
            header_read_timeout=int(settings.header_timeout * 1000),
            keep_alive=args.keep_alive_timeout > 0,
            max_buffer_size=settings.max_header_size,
        ),
        "backpressure": args.max_concurrency,
        "backlog": args.backlog,
    }
    workers.serve(settings, args.host, args.port, args.workers, _LOGGING, limits, hangups)
    return 0


def _fail(message: str) -> int:
    print(f"smcfeed: {message}", file=sys.stderr)
    return 1


def _tokens_command(args: argparse.Namespace) -> int:
    """``smcfeed tokens add|list|revoke``: journalists' private-feed tokens."""
    path = tokens_file(args.tokens)
    try:
        if args.content:
            _tokens.ensure_outside(path, Path(args.content))
        if args.action == "list":
            for r in _tokens.read(path):
                print(f"{r.name}\t{r.created}\t{r.short_id}")
            return 0
        if not args.name:
            return _fail(f"tokens {args.action} needs the journalist's NAME")
        if args.action == "add":
            token = _tokens.add(path, args.name, system_clock())
            print(token)
            print(
                f"token for '{args.name.strip()}' stored hashed in {path}; it is shown only "
                f"now. Their feeds: <base_url>/private/{token}/<lang>/rss.xml (atom.xml, "
                "feed.json; topics/…, types/…, experts/… as in the public feeds)",
                file=sys.stderr,
            )
            return 0
        gone = _tokens.revoke(path, args.name)
        print(f"revoked the token of '{gone.name}' ({gone.short_id})", file=sys.stderr)
        return 0
    except _tokens.TokenFileError as e:
        return _fail(str(e))


def _status(args: argparse.Namespace) -> int:
    """``smcfeed status``: the operator's view, asked of a running server."""
    import json
    import urllib.error
    import urllib.request

    token = os.environ.get("SMCFEED_OPERATOR_TOKEN")
    if not token:
        return _fail("set SMCFEED_OPERATOR_TOKEN to the token the server was started with")
    url = args.url.rstrip("/") + "/operator/status"
    request = urllib.request.Request(url, headers={"authorization": f"Bearer {token}"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            body = json.loads(response.read())
    except urllib.error.HTTPError as e:
        return _fail(f"{url}: {e.code} (is SMCFEED_OPERATOR_TOKEN the server's?)")
    except (OSError, ValueError) as e:
        return _fail(f"{url}: {e}")
    print(json.dumps(body, indent=2, ensure_ascii=False))
    return 0 if body.get("status") == "ok" else 1


def _port(text: str) -> int:
    """A TCP port (from --port, or $PORT by default)."""
    try:
        port = int(text)
    except ValueError:
        port = -1
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a port: a number from 0 to 65535 (the default comes from $PORT)"
        )
    return port


def _limits_error(args: argparse.Namespace) -> str | None:
    if args.header_timeout <= 0:
        return "--header-timeout must be more than 0 seconds"
    if args.keep_alive_timeout < 0:
        return "--keep-alive-timeout must be 0 (no keep-alive) or more"
    if args.max_header_size < 8192:
        return "--max-header-size must be at least 8192 bytes"
    if args.max_concurrency < 1 or args.backlog < 1:
        return "--max-concurrency and --backlog must be at least 1"
    if args.server == "granian":
        try:
            ipaddress.ip_address(args.host)
        except ValueError:
            return (
                f"--host {args.host}: granian listens on an IP address (127.0.0.1, 0.0.0.0, "
                "::), not a name; --server uvicorn takes names too"
            )
    return None


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
    # A string default goes through ``type`` too, and only when ``serve`` runs: a bad $PORT
    # is reported like a bad --port, and never stops another command.
    serve.add_argument("--port", type=_port, default=os.environ.get("PORT") or "8000")
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
    limits = serve.add_argument_group("connection limits (see the README's HTTP behaviour)")
    limits.add_argument(
        "--header-timeout",
        type=float,
        default=HEADER_TIMEOUT,
        help="seconds a client has to send a request's headers, from connecting or from the "
        "previous response; then the connection is closed (default 10)",
    )
    limits.add_argument(
        "--keep-alive-timeout",
        type=float,
        default=5.0,
        help="seconds an idle keep-alive connection stays open with uvicorn; granian closes "
        "it after --header-timeout; 0 turns keep-alive off (default 5)",
    )
    limits.add_argument(
        "--max-header-size",
        type=int,
        default=MAX_HEADER_SIZE,
        help="bytes of request line and headers accepted; larger requests get 431 "
        "(default 16384, at least 8192)",
    )
    limits.add_argument(
        "--max-concurrency",
        type=int,
        default=512,
        help="requests each worker handles at once; granian leaves further connections "
        "waiting in the listen backlog, uvicorn answers 503 (default 512)",
    )
    limits.add_argument(
        "--backlog",
        type=int,
        default=1024,
        help="connections the kernel queues before they are accepted (default 1024)",
    )
    serve.add_argument(
        "--purge",
        action="append",
        metavar="URL",
        default=None,
        help="CDN purge endpoint, repeatable: Varnish (PURGE with xkey-purge) or Fastly "
        "(https://api.fastly.com/service/ID/purge); default: $SMCFEED_PURGE, space-separated",
    )
    serve.add_argument("--no-watch", action="store_true", help="do not reload on file changes")
    serve.add_argument("--no-access-log", action="store_true")
    serve.add_argument(
        "--tokens",
        default=os.environ.get("SMCFEED_TOKENS"),
        help="journalists' hashed tokens (default: ~/.config/smcfeed/tokens.json)",
    )
    serve.set_defaults(run=_serve)
    tokens = commands.add_parser(
        "tokens", help="register, list or revoke journalists' private-feed tokens"
    )
    tokens.add_argument("action", choices=("add", "list", "revoke"))
    tokens.add_argument("name", nargs="?", help="the journalist (add, revoke)")
    tokens.add_argument(
        "--tokens",
        default=os.environ.get("SMCFEED_TOKENS"),
        help="tokens file (default: ~/.config/smcfeed/tokens.json)",
    )
    tokens.add_argument(
        "--content",
        default=None,
        help="refuse a tokens file inside this content folder",
    )
    tokens.set_defaults(run=_tokens_command)
    status = commands.add_parser("status", help="the operator's view of a running server")
    status.add_argument(
        "--url",
        default=f"http://127.0.0.1:{os.environ.get('PORT', '8000')}",
        help="the server (default: http://127.0.0.1:$PORT)",
    )
    status.set_defaults(run=_status)
    build = commands.add_parser(
        "build", help="write every public output as files, with an nginx configuration"
    )
    build.add_argument("--out", required=True, help="folder to write (replaced whole)")
    build.add_argument("--content", default="content", help="content folder (default: content)")
    build.add_argument(
        "--base-url",
        default=os.environ.get("SMCFEED_BASE_URL"),
        help="URL the export is reached at, overriding site.yaml",
    )
    build.add_argument("--max-age", type=int, default=300, help="longest Cache-Control max-age")
    build.add_argument(
        "--listen", default="8080", help="nginx's listen address in the configuration (8080)"
    )
    build.add_argument(
        "--brotli",
        choices=("auto", "on", "off"),
        default="auto",
        help="serve the .br files (needs nginx's brotli_static module; auto: if installed)",
    )
    build.set_defaults(run=_build)
    return top


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        return int(args.run(args))
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # The reader went away (``smcfeed check | head``): stop quietly, as other tools do,
        # and keep Python from complaining when it flushes stdout at exit.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141


if __name__ == "__main__":
    sys.exit(main())
