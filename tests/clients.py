"""Real feed clients driven by the tests: feedparser, lemon24's reader, newsboat (Debian) and
rss-parser (Node, tests/node), each reading feeds served over HTTP by a real server.

Each client function returns what that client reads as every item: ``{feed URL: {item id:
(link, enclosure URL or None)}}``.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import threading
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

import feedparser
import pytest

from smcfeed import FeedKey, Smcfeed, load_content, urls
from smcfeed._render.view import ItemRenderer
from smcfeed.exceptions import BadRequest, NotFound, Redirect
from smcfeed.models import Image

from ._support import NOW, ROOT

NODE_DIR = ROOT / "tests" / "node"
#: What a client read: feed URL -> item id -> (link, enclosure URL or None).
Read = dict[str, dict[str, tuple[str | None, str | None]]]


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def do_GET(self) -> None:
        parts = urlsplit(self.path)
        try:
            output = self.server.service.get(parts.path, parts.query, NOW)
        except NotFound as e:
            self._send(404, "text/plain", str(e).encode())
        except BadRequest as e:
            self._send(400, "text/plain", str(e).encode())
        except Redirect as e:
            self.send_response(301)
            self.send_header("Location", e.location)
            self.end_headers()
        else:
            self._send(200, f"{output.media_type}; charset=utf-8", output.body)

    def _send(self, status: int, media_type: str, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", media_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


class _Server(ThreadingHTTPServer):
    service: Smcfeed


@contextmanager
def serving(content: Path) -> Iterator[tuple[str, Smcfeed]]:
    """Serve ``content`` at a fixed instant (NOW) on a free port of 127.0.0.1, with every link
    in the outputs pointing at that server; yield its base URL and the service."""
    server = _Server(("127.0.0.1", 0), _Handler)
    base = f"http://127.0.0.1:{server.server_port}"
    result = load_content(content, base_url=base)
    assert result.catalogue is not None and not result.errors, result.errors
    server.service = Smcfeed(result.catalogue)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield base, server.service
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def fetch(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=30) as response:
        return bytes(response.read())


# --- the clients -------------------------------------------------------------------------------


def read_feedparser(feed_urls: list[str]) -> Read:
    out: Read = {}
    for url in feed_urls:
        parsed = feedparser.parse(fetch(url))
        assert not parsed.bozo, (url, parsed.get("bozo_exception"))
        out[url] = {
            e.id: (e.get("link"), e.enclosures[0].href if e.get("enclosures") else None)
            for e in parsed.entries
        }
    return out


def read_reader(feed_urls: list[str], db: Path) -> Read:
    from reader import make_reader

    reader = make_reader(str(db))
    try:
        for url in feed_urls:
            reader.add_feed(url)
        reader.update_feeds()
        out: Read = {url: {} for url in feed_urls}
        for entry in reader.get_entries():
            enclosure = entry.enclosures[0].href if entry.enclosures else None
            out[entry.feed_url][entry.id] = (entry.link, enclosure)
        return out
    finally:
        reader.close()


def need_newsboat() -> str:
    path = shutil.which("newsboat")
    if path is None:
        pytest.skip("newsboat is not installed (apt-get install newsboat; .ci/run does it)")
    return path


def newsboat(folder: Path, *args: str) -> None:
    """Run newsboat headless with its own urls, cache and config files in ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "config").touch()
    (folder / "urls").touch()
    result = subprocess.run(
        [
            need_newsboat(),
            "-u",
            str(folder / "urls"),
            "-c",
            str(folder / "cache.db"),
            "-C",
            str(folder / "config"),
            *args,
        ],
        env={**os.environ, "HOME": str(folder)},
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def newsboat_items(folder: Path) -> Read:
    """What newsboat stored in its cache: feed URL -> item id -> (link, enclosure)."""
    out: Read = {}
    with sqlite3.connect(folder / "cache.db") as db:
        for (url,) in db.execute("SELECT rssurl FROM rss_feed"):
            out.setdefault(url, {})
        rows = db.execute("SELECT feedurl, guid, url, enclosure_url FROM rss_item")
        for feed, guid, link, enclosure in rows:
            out.setdefault(feed, {})[guid] = (link, enclosure or None)
    return out


def read_newsboat(feed_urls: list[str], folder: Path) -> Read:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "urls").write_text("".join(f"{url}\n" for url in feed_urls))
    newsboat(folder, "-x", "reload")
    return newsboat_items(folder)


def need_rss_parser() -> str:
    node = shutil.which("node")
    if node is None or not (NODE_DIR / "node_modules" / "rss-parser").is_dir():
        pytest.skip(
            "rss-parser is not installed: run `npm ci --prefix tests/node` (.ci/run does it)"
        )
    return node


def read_rss_parser(feed_urls: list[str], folder: Path) -> Read:
    folder.mkdir(parents=True, exist_ok=True)
    files = {}
    for index, url in enumerate(feed_urls):
        path = folder / f"feed-{index}.xml"
        path.write_bytes(fetch(url))
        files[str(path)] = url
    read = rss_parser_files(list(files))
    return {files[name]: items for name, items in read.items()}


def rss_parser_files(paths: list[str]) -> Read:
    """What rss-parser reads from feed files, by file name."""
    node = need_rss_parser()
    result = subprocess.run(
        [node, str(NODE_DIR / "links.js"), *paths],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    parsed = json.loads(result.stdout)
    return {
        name: {i["id"]: (i["link"], i["enclosure"]) for i in feed["items"]}
        for name, feed in parsed.items()
    }


def feed_pages(service: Smcfeed, fmt: str) -> tuple[Read, dict[str, Image]]:
    """Every page of every language's feed of everything, in ``fmt`` (every article once):
    what a client should read from each (each item's permalink and its picture's URL), and
    the pictures by item id."""
    site, catalogue = service.site, service.catalogue
    renderer = ItemRenderer(catalogue)
    expected: Read = {}
    images: dict[str, Image] = {}
    for lang in site.languages:
        key = FeedKey(lang)
        count = len(catalogue.items(key, NOW))
        for page in range(1, max(1, -(-count // site.feed_size)) + 1):
            view = renderer.page(key, page, NOW)
            url = urls.url(site.root, urls.Feed(key, fmt, page))
            expected[url] = {i.id: (i.url, i.image.url if i.image else None) for i in view.items}
            images.update({i.id: i.image for i in view.items if i.image})
    return expected, images
