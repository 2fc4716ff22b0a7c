"""Real servers for the end-to-end tests of WebSub and the CDN tier: smcfeed started as the
Procfile starts it, and small recording HTTP servers."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def get(url: str, headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return (
                response.status,
                {k.lower(): v for k, v in response.headers.items()},
                response.read(),
            )
    except urllib.error.HTTPError as e:
        return e.code, {k.lower(): v for k, v in e.headers.items()}, e.read()


def wait_for(predicate: Callable[[], bool], timeout: float = 15.0, step: float = 0.02) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(step)
    return False


@contextmanager
def smcfeed_serve(
    content: Path, port: int, log: Path, *extra: str, workers: int = 2
) -> Iterator[str]:
    """``smcfeed serve`` as the Procfile runs it (granian, ``--workers``) on ``port``."""
    command = [
        sys.executable, "-m", "smcfeed", "serve", "--content", str(content),
        "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers),
        "--cache", "off", "--no-access-log", *extra,
    ]  # fmt: skip
    with open(log, "wb") as out:
        process = subprocess.Popen(command, stdout=out, stderr=out, start_new_session=True)
        base = f"http://127.0.0.1:{port}"
        try:
            up = wait_for(lambda: _answers(base + "/healthz"), timeout=30, step=0.1)
            assert up, log.read_text()
            # A second after start the workers are forked once more, after the second look at
            # the folder: wait for the old ones to stop, so tests see the settled server.
            settled = wait_for(
                lambda: log.read_text().count("Stopping worker") >= workers, timeout=30, step=0.05
            )
            assert settled, log.read_text()
            yield base
        finally:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
                try:
                    process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    os.killpg(process.pid, signal.SIGKILL)
                    process.wait(timeout=10)


def _answers(url: str) -> bool:
    try:
        return get(url)[0] == 200
    except OSError:
        return False


@dataclass
class Received:
    """One request a recording server got."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    #: time.time() on arrival.
    at: float


@dataclass
class Recorder:
    """A real HTTP server that records every request and answers as ``answer`` says."""

    answer: Callable[[Received], tuple[int, bytes]] = lambda r: (200, b"")
    received: list[Received] = field(default_factory=list)
    url: str = ""

    @contextmanager
    def serving(self) -> Iterator[Recorder]:
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            def _handle(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                request = Received(
                    self.command,
                    self.path,
                    {k.lower(): v for k, v in self.headers.items()},
                    self.rfile.read(length),
                    time.time(),
                )
                recorder.received.append(request)
                status, body = recorder.answer(request)
                self.send_response(status)
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = do_PURGE = _handle

            def log_message(self, format: str, *args: object) -> None:
                pass

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{server.server_address[1]}"
        thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
        thread.start()
        try:
            yield self
        finally:
            server.shutdown()
            server.server_close()


def query(received: Received) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(received.path).query).items()}
