"""Connection limits and hostile bytes against the real servers (granian, the Procfile's, and
uvicorn), over real sockets: slow clients are cut off at the header timeout, oversized headers
get a 431, and raw requests no HTTP client library would send get no 5xx."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from ._support import ROOT, SAMPLE
from .test_e2e import _free_port, _ping, _wait_for

pytestmark = pytest.mark.e2e

HEADER_TIMEOUT = 2.0
MAX_HEADER_SIZE = 16384


class Running:
    def __init__(self, port: int, log: Path) -> None:
        self.port, self.log = port, log

    def connect(self) -> socket.socket:
        s = socket.create_connection(("127.0.0.1", self.port), timeout=10)
        s.settimeout(0.2)
        return s

    def raw(self, request: bytes) -> bytes:
        """Send ``request`` as it is; the whole answer (the server closes the connection)."""
        with socket.create_connection(("127.0.0.1", self.port), timeout=10) as s:
            s.sendall(request)
            chunks = []
            while chunk := s.recv(65536):
                chunks.append(chunk)
            return b"".join(chunks)


@pytest.fixture(scope="module", params=["granian", "uvicorn"])
def running(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Running]:
    """The Procfile's command on 127.0.0.1 with a short header timeout; uvicorn via --server."""
    command = next(
        line.split(":", 1)[1].strip()
        for line in (ROOT / "Procfile").read_text().splitlines()
        if line.startswith("web:")
    )
    # --no-watch: with granian, a reload replaces the workers, closing every open connection
    # (serve looks at every file again a second after it starts); these tests time connections.
    command += (
        f" --host 127.0.0.1 --header-timeout {HEADER_TIMEOUT} --server {request.param} --no-watch"
    )
    tmp_path = tmp_path_factory.mktemp(request.param)
    shutil.copytree(SAMPLE, tmp_path / "content")
    port = _free_port()
    env = {**os.environ, "PORT": str(port), "SMCFEED_CACHE": str(tmp_path / "parsed.pickle")}
    log_path = tmp_path / "server.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            ["bash", "-c", f"exec {command}"],
            cwd=tmp_path,
            env=env,
            stdout=log,
            stderr=log,
            start_new_session=True,
        )
        try:
            assert _wait_for(lambda: _ping(f"http://127.0.0.1:{port}"), timeout=30), (
                log_path.read_text()
            )
            yield Running(port, log_path)
        finally:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)


def _closed_after(s: socket.socket, since: float, trickle: bool, limit: float) -> float | None:
    """Seconds from ``since`` (when ``s`` connected) until the server closes it (None if still
    open after ``limit``); with ``trickle``, a header line every 0.3 s, never the blank line."""
    next_send = time.monotonic()
    while time.monotonic() - since < limit:
        if trickle and time.monotonic() >= next_send:
            try:
                s.sendall(b"X-Slow: still-here\r\n")
            except OSError:
                return time.monotonic() - since
            next_send += 0.3
        try:
            if s.recv(65536) == b"":
                return time.monotonic() - since
        except TimeoutError:
            continue
        except OSError:
            return time.monotonic() - since
    return None


def test_slow_clients_are_disconnected_at_the_header_timeout(running: Running) -> None:
    """Finding 6: slow clients held their connections for as long as they liked."""
    cases = {
        "silent": b"",
        "half a request": b"GET /es/rss.xml HTTP/1.1\r\nHost: x\r\n",
        "trickling headers": b"GET /es/rss.xml HTTP/1.1\r\nHost: x\r\n",
    }
    sockets: dict[str, tuple[socket.socket, float]] = {}
    results: dict[str, float | None] = {}

    def watch(name: str) -> None:
        s, since = sockets[name]
        results[name] = _closed_after(s, since, name == "trickling headers", 10 * HEADER_TIMEOUT)

    try:
        for name, first in cases.items():
            sockets[name] = (running.connect(), time.monotonic())
            if first:
                sockets[name][0].sendall(first)
        threads = [threading.Thread(target=watch, args=(name,)) for name in cases]
        for thread in threads:
            thread.start()
        # Meanwhile the server answers everyone else.
        with running.connect() as s:
            s.settimeout(10)
            s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            assert s.recv(12).startswith(b"HTTP/1.1 200")
        for thread in threads:
            thread.join()
    finally:
        for s, _ in sockets.values():
            s.close()
    for name, seconds in results.items():
        assert seconds is not None, f"{name}: still open after {10 * HEADER_TIMEOUT} s"
        assert HEADER_TIMEOUT * 0.9 <= seconds <= HEADER_TIMEOUT + 3, f"{name}: {seconds:.2f} s"


def test_oversized_headers_get_431(running: Running) -> None:
    request = (
        b"GET /es/rss.xml HTTP/1.1\r\nHost: x\r\nX-Big: "
        + b"a" * (MAX_HEADER_SIZE + 1000)
        + b"\r\nConnection: close\r\n\r\n"
    )
    answer = running.raw(request)
    assert answer.startswith(b"HTTP/1.1 431"), answer[:200]
    fine = running.raw(
        b"GET /es/rss.xml HTTP/1.1\r\nHost: x\r\nX-Fine: "
        + b"a" * (MAX_HEADER_SIZE // 2)
        + b"\r\nConnection: close\r\n\r\n"
    )
    assert fine.startswith(b"HTTP/1.1 200"), fine[:200]


@pytest.mark.parametrize(
    "headers",
    [
        b"If-Modified-Since: Fri, 31 Dec 99999999999 23:59:59 GMT\r\n",
        b"If-None-Match: \xff\xfe\x80\r\n",
        b"Accept-Encoding: gzip;q=nan, br;q=1e999, \xe9\r\n",
        b"User-Agent: \xc3\x28\x22 200 1\r\n",
        b"If-Modified-Since: \x00\x01\x02\r\n",
    ],
)
@pytest.mark.parametrize(
    "target",
    [b"/es/rss.xml", b"/es/rss.xml?utm_source=x", b"/en/atom.xml?_=123", b"/%ff%fe/rss.xml"],
)
def test_raw_hostile_requests_get_no_5xx(running: Running, headers: bytes, target: bytes) -> None:
    answer = running.raw(
        b"GET " + target + b" HTTP/1.1\r\nHost: x\r\n" + headers + b"Connection: close\r\n\r\n"
    )
    status = int(answer[9:12])
    assert status < 500, answer[:300]
    assert b"Traceback" not in answer
    assert b"Traceback" not in running.log.read_bytes()
