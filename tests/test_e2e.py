"""End to end: the Procfile's command on a free port, spoken to over a real socket."""

from __future__ import annotations

import gzip
import os
import shutil
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import brotli
import pytest

from ._support import ROOT, SAMPLE

pytestmark = pytest.mark.e2e
#: The operator token the served app is started with (its /operator/status needs it).
OPERATOR = "e2e-operator-token"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _get(url: str, headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
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


def _wait_for(predicate: object, timeout: float = 15.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():  # type: ignore[operator]
            return True
        time.sleep(0.05)
    return False


class Server:
    def __init__(self, process: subprocess.Popen[bytes], base: str, content: Path) -> None:
        self.process, self.base, self.content = process, base, content

    def get(self, path: str, **headers: str) -> tuple[int, dict[str, str], bytes]:
        return _get(self.base + path, {k.replace("_", "-"): v for k, v in headers.items()})

    def status(self) -> bytes:
        """The operator's view of the content."""
        return self.get("/operator/status", authorization=f"Bearer {OPERATOR}")[2]


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    """The Procfile's web command, run as a platform would: in the app's folder, with $PORT."""
    command = next(
        line.split(":", 1)[1].strip()
        for line in (ROOT / "Procfile").read_text().splitlines()
        if line.startswith("web:")
    )
    shutil.copytree(SAMPLE, tmp_path / "content")
    port = _free_port()
    env = {
        **os.environ,
        "PORT": str(port),
        "SMCFEED_CACHE": str(tmp_path / "parsed.pickle"),
        "SMCFEED_OPERATOR_TOKEN": OPERATOR,
        "SMCFEED_TOKENS": str(tmp_path / "tokens.json"),
    }
    log = open(tmp_path / "server.log", "wb")  # noqa: SIM115
    process = subprocess.Popen(
        ["bash", "-c", f"exec {command}"],
        cwd=tmp_path,
        env=env,
        stdout=log,
        stderr=log,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        up = _wait_for(lambda: _ping(base), timeout=30)
        assert up, (tmp_path / "server.log").read_text()
        yield Server(process, base, tmp_path / "content")
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)
        log.close()


def _ping(base: str) -> bool:
    try:
        return _get(base + "/healthz")[0] == 200
    except OSError:
        return False


def test_served_feeds_conditional_get_and_codings(server: Server) -> None:
    status, headers, body = server.get("/es/rss.xml", accept_encoding="identity")
    assert status == 200
    assert headers["content-type"] == "application/rss+xml; charset=utf-8"
    etag = headers["etag"]
    assert server.get("/es/rss.xml", if_none_match=etag)[0] == 304
    assert server.get("/es/rss.xml", if_modified_since=headers["last-modified"])[0] == 304
    status, gz_headers, gz = server.get("/es/rss.xml", accept_encoding="gzip")
    assert gz_headers["content-encoding"] == "gzip" and gzip.decompress(gz) == body
    status, br_headers, br = server.get("/es/rss.xml", accept_encoding="br")
    assert br_headers["content-encoding"] == "br" and brotli.decompress(br) == body
    assert server.get("/es/topics/nothing/rss.xml")[0] == 404


def _article(title: str, published: datetime) -> str:
    return f"""---
type: briefing
title: "{title}"
published: {published.isoformat()}
topics: [climate]
summary: A briefing written by the end-to-end test.
---
Body text.
"""


def test_live_edits_embargo_and_broken_files(server: Server) -> None:
    # A new article, embargoed for a few seconds of real time.
    release = (datetime.now(UTC) + timedelta(seconds=4)).replace(microsecond=0)
    folder = server.content / "articles" / str(release.year)
    folder.mkdir(exist_ok=True)
    (folder / "e2e-briefing.en.md").write_text(_article("Live edit arrives", release))
    # The new content is loaded (the counts change) but the item stays hidden until release.
    assert _wait_for(lambda: b'"articles":35' in server.status().replace(b" ", b""))
    while datetime.now(UTC) < release - timedelta(milliseconds=300):
        assert b"Live edit arrives" not in server.get("/en/rss.xml")[2]
        time.sleep(0.2)
    assert _wait_for(lambda: b"Live edit arrives" in server.get("/en/rss.xml")[2], timeout=5)
    assert datetime.now(UTC) >= release

    # A broken edit: the last good content keeps being served, the operator's view names
    # the file (and public /healthz does not).
    (folder / "e2e-briefing.en.md").write_text("---\ntitle: [broken\n---\n")
    # The Procfile runs several workers, each reloading on its own: wait until all have.
    assert _wait_for(lambda: all(_degraded(server) for _ in range(8)))
    for _ in range(8):
        status, _, body = server.get("/en/rss.xml")
        assert status == 200 and b"Live edit arrives" in body


def _degraded(server: Server) -> bool:
    body = server.status()
    public = server.get("/healthz")[2]
    assert public == b'{"status":"ok"}'
    return b'"degraded"' in body and b"e2e-briefing.en.md:3: YAML error" in body


def test_sigterm_shuts_down_gracefully(server: Server) -> None:
    assert server.get("/en/feed.json")[0] == 200
    os.killpg(server.process.pid, signal.SIGTERM)
    assert server.process.wait(timeout=20) == 0
