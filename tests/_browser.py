"""Real things for browser tests: ``smcfeed serve`` on a free port, a partner newsroom's host
page on another origin, Debian's Chromium driven by selenium, and axe-core.

Each helper skips with the reason when its tool is missing (a fresh clone); ``.ci/run``
installs them all, and there a skip is a failure (see conftest.py).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from ._support import ROOT, SAMPLE

CHROMIUM = os.environ.get("SMCFEED_CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("SMCFEED_CHROMEDRIVER", "/usr/bin/chromedriver")
AXE = ROOT / "tests" / "node" / "node_modules" / "axe-core" / "axe.min.js"
ARTIFACTS = ROOT / "tests" / "artifacts"
#: Chromium's flags: headless, no sandbox (CI runs as root), and no traffic of its own.
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-default-apps",
    "--disable-extensions",
    "--no-default-browser-check",
    "--hide-scrollbars",
    "--force-color-profile=srgb",
    # Cross-site iframes stay in the page's process, so their console messages (CSP
    # violations included) reach the log we read; what the policy allows is unchanged.
    "--disable-site-isolation-trials",
    "--disable-features=IsolateOrigins,site-per-process",
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def smcfeed_server(folder: Path, content: Path = SAMPLE) -> Iterator[str]:
    """``smcfeed serve`` on 127.0.0.1 and a free port, its base URL pointing at itself."""
    shutil.copytree(content, folder / "content")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log = open(folder / "server.log", "wb")  # noqa: SIM115
    process = subprocess.Popen(
        [sys.executable, "-m", "smcfeed", "serve", "--content", str(folder / "content"),
         "--host", "127.0.0.1", "--port", str(port), "--base-url", base,
         "--server", "uvicorn", "--no-watch", "--cache", "off"],
        stdout=log, stderr=log, start_new_session=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(base + "/healthz", timeout=2).close()
                break
            except OSError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise AssertionError((folder / "server.log").read_text()) from None
                time.sleep(0.1)
        yield base
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=10)
        log.close()


@dataclass
class HostServer:
    """A partner newsroom's site: fixed pages by path, and a log of what was asked."""

    pages: dict[str, tuple[bytes, dict[str, str]]]
    requests: list[str] = field(default_factory=list)
    port: int = 0

    def url(self, path: str, host: str = "localhost") -> str:
        return f"http://{host}:{self.port}{path}"


@contextlib.contextmanager
def host_server(pages: dict[str, tuple[bytes, dict[str, str]]]) -> Iterator[HostServer]:
    """Serve ``pages`` (path -> body, headers) on a free port, in a thread."""
    host = HostServer(pages)

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            host.requests.append(self.path)
            found = host.pages.get(self.path)
            body, headers = found if found else (b"not found", {})
            self.send_response(200 if found else 404)
            for name, value in {"content-type": "text/html; charset=utf-8", **headers}.items():
                self.send_header(name, value)
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    host.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield host
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def need_chromium() -> None:
    missing = [p for p in (CHROMIUM, CHROMEDRIVER) if not Path(p).is_file()]
    if missing:
        pytest.skip(
            f"Debian's Chromium is not installed ({', '.join(missing)} missing): "
            "apt-get install chromium chromium-driver (.ci/run does)"
        )
    pytest.importorskip("selenium", reason="selenium (test extra) is not installed")


def need_axe() -> str:
    if not AXE.is_file():
        pytest.skip(
            f"axe-core is not installed at {AXE}: run npm ci --prefix tests/node (.ci/run does)"
        )
    return AXE.read_text("utf-8")


@contextlib.contextmanager
def chromium(profile: Path, javascript: bool = True) -> Iterator[Any]:
    """A fresh headless Chromium (its own profile folder) with console and network logs."""
    need_chromium()
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={profile}")
    options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    if not javascript:
        options.add_experimental_option(
            "prefs", {"profile.managed_default_content_settings.javascript": 2}
        )
    driver = webdriver.Chrome(options=options, service=Service(CHROMEDRIVER))
    try:
        driver.set_page_load_timeout(30)
        yield driver
    finally:
        driver.quit()


def viewport(driver: Any, width: int, height: int, dark: bool) -> None:
    """An exact viewport, and the colour scheme the page's media queries see."""
    driver.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": width < 600},
    )
    driver.execute_cdp_cmd(
        "Emulation.setEmulatedMedia",
        {"features": [{"name": "prefers-color-scheme", "value": "dark" if dark else "light"}]},
    )


def console_problems(driver: Any) -> list[str]:
    """Console messages of level warning or worse since the last call (CSP violations
    included)."""
    return [
        entry["message"]
        for entry in driver.get_log("browser")
        if entry["level"] in ("SEVERE", "WARNING")
    ]


def requested_urls(driver: Any) -> list[str]:
    """Every URL the browser asked for since the last call, from its network log."""
    urls = []
    for entry in driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message["method"] == "Network.requestWillBeSent":
            urls.append(message["params"]["request"]["url"])
    return urls


def wait_for(predicate: Callable[[], bool], timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


def run_axe(driver: Any, source: str) -> list[dict[str, Any]]:
    """axe-core's violations on the current page (WCAG 2.x A/AA and best practices)."""
    driver.execute_script(source)
    result: list[dict[str, Any]] = driver.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "axe.run(document, {resultTypes: ['violations']})"
        ".then(r => done(r.violations), e => done([{id: 'axe-error', impact: 'critical',"
        " help: String(e), nodes: []}]));"
    )
    return result
