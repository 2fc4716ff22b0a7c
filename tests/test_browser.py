"""A real browser on a real server: Debian's Chromium, driven headless by selenium through
Debian's chromedriver, opens the index, a feed in each format and an article page.

It sends its own ``Accept`` header, so this is the negotiation as browsers meet it: each page
must arrive as HTML (not feed text), log no console error, fit a 375 px phone and a 1280 px
desktop without sideways scrolling, and follow the reader's light or dark preference.
Screenshots go to ``tests/artifacts/`` (ignored by git).
"""

from __future__ import annotations

import http.server
import os
import shutil
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
import urllib.request
import zlib
from collections.abc import Iterator
from typing import Any

import pytest

from ._support import ROOT, SAMPLE

pytestmark = pytest.mark.e2e

ARTIFACTS = ROOT / "tests" / "artifacts"
#: (name, path): what a reader clicks on; the article has quotes with question headings.
PAGES = [
    ("index", "/"),
    ("feed-rss", "/es/rss.xml"),
    ("feed-atom", "/en/atom.xml"),
    ("feed-json", "/es/feed.json"),
    ("feed-page-2", "/en/page/2/atom.xml"),
    ("article", "/en/articles/ai-weather-forecast-model-ensemble"),
    ("article-image", "/es/articles/briefing-erupcion-roque-alto"),
]
#: Where the sample content's pictures live; the test serves them itself, with no network.
PICTURES = "https://smc-demo.org/media/"
WIDTHS = (375, 1280)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _up(base: str) -> bool:
    try:
        with urllib.request.urlopen(base + "/healthz", timeout=2) as response:
            return bool(response.status == 200)
    except OSError:
        return False


def _png(width: int = 64, height: int = 40) -> bytes:
    """A small solid-colour PNG, made here so the test needs no image files."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    rows = b"".join(b"\x00" + b"\x2a\x6f\x97" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


class _Pictures(http.server.BaseHTTPRequestHandler):
    body = _png()

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("content-type", "image/png")
        self.send_header("content-length", str(len(self.body)))
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def pictures() -> Iterator[str]:
    """The centre's picture host, stood in for on 127.0.0.1."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Pictures)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/media/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, pictures: str) -> Iterator[str]:
    """``smcfeed serve`` (granian) on a free port, its links pointing at itself and the
    sample's pictures at the local stand-in."""
    folder = tmp_path_factory.mktemp("browser")
    shutil.copytree(SAMPLE, folder / "content")
    for article in (folder / "content" / "articles").rglob("*.md"):
        text = article.read_text(encoding="utf-8")
        if PICTURES in text:
            article.write_text(text.replace(PICTURES, pictures), encoding="utf-8")
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    log = open(folder / "server.log", "wb")  # noqa: SIM115
    command = [sys.executable, "-m", "smcfeed", "serve", "--content", str(folder / "content")]
    command += ["--host", "127.0.0.1", "--port", str(port), "--base-url", base]
    command += ["--no-watch", "--cache", "off"]
    process = subprocess.Popen(
        command,
        stdout=log,
        stderr=log,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 30
        while not _up(base):
            assert process.poll() is None and time.monotonic() < deadline, (
                folder / "server.log"
            ).read_text()
            time.sleep(0.1)
        yield base
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)
        log.close()


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    chromium = shutil.which("chromium")
    driver_path = shutil.which("chromedriver")
    if chromium is None or driver_path is None:
        pytest.skip(
            "Debian's chromium and chromium-driver are not installed "
            "(.ci/run installs them: apt-get install chromium chromium-driver)"
        )
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--hide-scrollbars",
        f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}",
    ):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(options=options, service=Service(executable_path=driver_path))
    driver.set_page_load_timeout(30)
    try:
        yield driver
    finally:
        driver.quit()


def _viewport(driver: Any, width: int, dark: bool = False) -> None:
    driver.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"width": width, "height": 900, "deviceScaleFactor": 1, "mobile": width < 600},
    )
    driver.execute_cdp_cmd(
        "Emulation.setEmulatedMedia",
        {"features": [{"name": "prefers-color-scheme", "value": "dark" if dark else "light"}]},
    )


def _console_errors(driver: Any) -> list[str]:
    return [e["message"] for e in driver.get_log("browser") if e["level"] == "SEVERE"]


@pytest.mark.parametrize(("name", "path"), PAGES)
def test_pages_render_as_html_without_console_errors(
    server: str, browser: Any, name: str, path: str
) -> None:
    browser.get_log("browser")  # start clean
    _viewport(browser, 1280)
    browser.get(server + path)
    page: dict[str, Any] = browser.execute_script(
        """return {
            type: document.contentType,
            lang: document.documentElement.lang,
            h1: document.querySelectorAll('h1').length,
            main: document.querySelectorAll('main').length,
            banner: document.querySelectorAll('header').length,
            footer: document.querySelectorAll('footer').length,
            text: document.body.innerText,
            links: document.querySelectorAll('a[href]').length,
            images: Array.from(document.images).filter(i => i.loading !== 'lazy')
                .map(i => [i.alt, i.complete && i.naturalWidth > 0]),
        }"""
    )
    assert page["type"] == "text/html", f"{path} reached the browser as {page['type']}"
    assert page["lang"] in ("es", "en")
    assert page["h1"] == 1 and page["main"] == 1 and page["banner"] >= 1 and page["footer"] >= 1
    # Not the feed shown as text: no markup, no escaped markup, no JSON.
    for leftover in ("<?xml", "<rss", "<feed", "&lt;p&gt;", "<p>", '"version":'):
        assert leftover not in page["text"], f"{path} shows {leftover!r} as text"
    assert page["links"] > 5
    for alt, shown in page["images"]:
        assert alt and shown, f"{path}: picture {alt!r} not shown"
    if name == "article-image":
        assert page["images"], "the article's picture is on its page"
    assert _console_errors(browser) == []


@pytest.mark.parametrize(("name", "path"), PAGES)
def test_pages_fit_phone_and_desktop_widths(
    server: str, browser: Any, name: str, path: str
) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    for width in WIDTHS:
        _viewport(browser, width)
        browser.get(server + path)
        sizes = browser.execute_script(
            """return {inner: window.innerWidth,
                       scroll: document.documentElement.scrollWidth,
                       font: parseFloat(getComputedStyle(document.body).fontSize)}"""
        )
        assert sizes["inner"] == width
        assert sizes["scroll"] <= width, f"{path} scrolls sideways at {width} px: {sizes}"
        assert sizes["font"] >= 16
        png = browser.get_screenshot_as_png()
        assert png.startswith(b"\x89PNG")
        (ARTIFACTS / f"{name}-{width}.png").write_bytes(png)
        if browser.execute_script(
            "const r = document.querySelector('.reaction'); if (r) r.scrollIntoView(); return !!r;"
        ):
            (ARTIFACTS / f"{name}-quotes-{width}.png").write_bytes(browser.get_screenshot_as_png())
    assert _console_errors(browser) == []


def test_light_and_dark_follow_the_readers_preference(server: str, browser: Any) -> None:
    colours = {}
    for dark in (False, True):
        _viewport(browser, 1280, dark=dark)
        browser.get(server + "/en/articles/ai-weather-forecast-model-ensemble")
        colours[dark] = browser.execute_script(
            "const s = getComputedStyle(document.body); return [s.backgroundColor, s.color];"
        )
        (ARTIFACTS / f"article-{'dark' if dark else 'light'}-1280.png").write_bytes(
            browser.get_screenshot_as_png()
        )
    assert colours[False][0] == "rgb(255, 255, 255)"
    assert colours[True][0] != colours[False][0] and colours[True][1] != colours[False][1]


def test_feed_readers_on_the_same_server_still_get_feeds(server: str) -> None:
    """The same URLs the browser was shown pages at, fetched by real feed libraries."""
    import feedparser
    from reader import make_reader

    for path, version in (("/es/rss.xml", "rss20"), ("/en/atom.xml", "atom10")):
        parsed = feedparser.parse(server + path)
        assert parsed.get("status") == 200 and not parsed.bozo, parsed.get("bozo_exception")
        assert parsed.version == version and parsed.entries
        assert parsed.headers["content-type"].startswith(("application/rss", "application/atom"))
    reader = make_reader(":memory:")
    try:
        for path in ("/es/rss.xml", "/en/atom.xml", "/es/feed.json"):
            reader.add_feed(server + path)
        reader.update_feeds()
        for feed in reader.get_feeds():
            assert feed.last_exception is None, (feed.url, feed.last_exception)
            assert (reader.get_entry_counts(feed=feed).total or 0) > 0, feed.url
    finally:
        reader.close()
