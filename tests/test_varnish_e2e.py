"""The CDN tier end to end: Debian's Varnish with the shipped VCL (xkey purges) in front of two
smcfeed replicas that purge it. An edit and an embargo lift show through the cache within a
second; nothing embargoed is served early; 304s and Vary work through it."""

from __future__ import annotations

import gzip
import os
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import brotli
import pytest

from ._replicas import free_port, get, smcfeed_serve, wait_for
from ._support import ROOT
from .conftest import write_valid_content

pytestmark = pytest.mark.e2e

VCL = ROOT / "deploy" / "varnish" / "smcfeed.vcl"
#: The promise: a change shows through the cache this soon.
WITHIN = 1.0


def _need_varnish() -> str:
    found = shutil.which("varnishd") or next(
        (p for p in ("/usr/sbin/varnishd", "/usr/local/sbin/varnishd") if os.path.exists(p)), None
    )
    if found is None:
        pytest.skip(
            "Varnish is not installed: apt-get install -y varnish varnish-modules "
            "(.ci/run installs both)"
        )
    return found


@contextmanager
def varnish(folder: Path, port: int, backends: tuple[int, int]) -> Iterator[str]:
    """varnishd in the foreground with the shipped VCL, its backends pointed at ``backends``."""
    varnishd = _need_varnish()
    text = VCL.read_text()
    for default, port_ in zip(('.port = "8001";', '.port = "8002";'), backends, strict=True):
        assert text.count(default) == 1
        text = text.replace(default, f'.port = "{port_}";')
    vcl = folder / "smcfeed.vcl"
    vcl.write_text(text)
    log = open(folder / "varnish.log", "wb")  # noqa: SIM115
    # -j none: no privilege separation, so varnishd (even as root) reads the test's folder.
    command = [varnishd, "-F", "-a", f"127.0.0.1:{port}", "-f", str(vcl),
               "-n", str(folder / "varnish"), "-s", "malloc,64m",
               "-T", "none", "-j", "none"]  # fmt: skip
    process = subprocess.Popen(command, stdout=log, stderr=log, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        up = wait_for(lambda: _answers(base + "/healthz"), timeout=30, step=0.1)
        assert up, (folder / "varnish.log").read_text()
        yield base
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)
        log.close()


def _answers(url: str) -> bool:
    try:
        return get(url)[0] == 200
    except OSError:
        return False


def _purge(base: str, headers: dict[str, str]) -> int:
    import urllib.error
    import urllib.request

    request = urllib.request.Request(base + "/", method="PURGE", headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return int(response.status)
    except urllib.error.HTTPError as e:
        return e.code


def test_varnish_in_front_of_two_replicas(tmp_path: Path) -> None:
    _need_varnish()
    cache_port, ports = free_port(), (free_port(), free_port())
    cache = f"http://127.0.0.1:{cache_port}"
    content = write_valid_content(tmp_path / "content")
    purge = ("--purge", f"{cache}/", "--base-url", cache)
    with (
        smcfeed_serve(content, ports[0], tmp_path / "replica1.log", *purge, workers=1),
        smcfeed_serve(content, ports[1], tmp_path / "replica2.log", *purge, workers=1),
        varnish(tmp_path, cache_port, ports) as base,
    ):
        # Cached, per coding, with the service's validators; surrogate keys stay inside.
        status, headers, body = get(base + "/en/rss.xml", {"accept-encoding": "identity"})
        assert status == 200 and b"Heat and mortality" in body
        direct = get(f"http://127.0.0.1:{ports[0]}/en/rss.xml", {"accept-encoding": "identity"})
        assert direct[1]["xkey"] and "xkey" not in headers and "surrogate-key" not in headers
        assert headers["etag"] == direct[1]["etag"] and headers["vary"] == direct[1]["vary"]
        assert headers["vary"] == "Accept, Accept-Encoding"
        assert get(base + "/en/rss.xml", {"accept-encoding": "identity"})[1]["x-cache"] == "hit"
        for coding, decode in (("gzip", gzip.decompress), ("br", brotli.decompress)):
            status, coded, raw = get(base + "/en/rss.xml", {"accept-encoding": coding})
            assert coded["content-encoding"] == coding and decode(raw) == body
            assert coded["etag"] == headers["etag"][:-1] + f'-{coding}"'
            again = get(base + "/en/rss.xml", {"accept-encoding": f"{coding}, identity"})
            assert again[1]["x-cache"] == "hit" and again[1]["content-encoding"] == coding
            not_modified = get(
                base + "/en/rss.xml", {"accept-encoding": coding, "if-none-match": coded["etag"]}
            )
            assert not_modified[0] == 304 and not_modified[2] == b""
        # Vary: Accept: a browser gets the feed's HTML page, a feed reader the feed, each cached.
        browser = {"accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}
        page = get(base + "/en/rss.xml", browser)
        assert page[1]["content-type"].startswith("text/html") and page[1]["x-cache"] == "miss"
        assert get(base + "/en/rss.xml", browser)[1]["x-cache"] == "hit"
        reader = get(base + "/en/rss.xml", {"accept": "application/rss+xml, */*;q=0.1"})
        assert reader[1]["content-type"].startswith("application/rss+xml")
        assert reader[1]["x-cache"] == "hit" and reader[2] == body
        assert get(base + "/en/rss.xml", {"if-none-match": headers["etag"]})[0] == 304
        assert get(base + "/en/rss.xml", {"if-modified-since": headers["last-modified"]})[0] == 304
        assert _purge(base, {}) == 400  # a purge names its keys

        # 1. An edit shows through the cache within a second, in every coding.
        for coding in ("identity", "gzip", "br"):
            assert get(base + "/es/rss.xml", {"accept-encoding": coding})[0] == 200
        edited = content / "articles/2024/heat-deaths.en.md"
        started = time.monotonic()
        edited.write_text(edited.read_text().replace("Heat and mortality", "Heat kills"))

        def shows_edit() -> bool:
            return all(
                b"Heat kills" in _decoded(base + path, coding)
                for path in ("/en/rss.xml", "/es/rss.xml")  # the Spanish item links by title
                for coding in ("identity", "gzip", "br")
            )

        assert wait_for(shows_edit, timeout=5, step=0.02)
        edit_took = time.monotonic() - started
        assert edit_took <= WITHIN, edit_took

        # 2. An embargo: never served early, shown within a second of its instant.
        lift = (datetime.now(UTC) + timedelta(seconds=4)).replace(microsecond=0)
        (content / f"articles/{lift.year}").mkdir(exist_ok=True)
        (content / f"articles/{lift.year}/probe.es.md").write_text(
            "---\ntype: guide\ntitle: Sonda lanzada\n"
            f"published: {lift.isoformat()}\ntopics: [space]\n"
            "summary: Una guía escrita por la prueba.\n---\nTexto.\n",
            encoding="utf-8",
        )
        paths = ("/es/rss.xml", "/es/topics/space/atom.xml", "/es/articles/probe.json")
        seen_at, hits_before = None, 0
        while datetime.now(UTC) < lift + timedelta(seconds=3):
            for path in paths:
                _, headers, body = get(base + path)
                answered = datetime.now(UTC)
                if answered < lift:  # answered before the instant: rendered before it too
                    assert b"Sonda lanzada" not in body, f"{path} early, at {answered}"
                    hits_before += headers.get("x-cache") == "hit"
            bodies = [get(base + path)[2] for path in paths]
            if all(b"Sonda lanzada" in b for b in bodies) and seen_at is None:
                seen_at = datetime.now(UTC)
            time.sleep(0.02)
        assert hits_before, "the feeds should have been served from the cache before the lift"
        assert seen_at is not None, "the embargo never lifted through the cache"
        assert (seen_at - lift).total_seconds() <= WITHIN, seen_at - lift
        # Cached again afterwards.
        get(base + "/es/rss.xml")
        assert get(base + "/es/rss.xml")[1]["x-cache"] == "hit"


def _decoded(url: str, coding: str) -> bytes:
    status, headers, body = get(url, {"accept-encoding": coding})
    assert status == 200
    if headers.get("content-encoding") == "gzip":
        return gzip.decompress(body)
    if headers.get("content-encoding") == "br":
        return bytes(brotli.decompress(body))
    return body
