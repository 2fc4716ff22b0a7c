"""The static export: every public output as the server sends it, served by real nginx, with
every link resolving inside it."""

from __future__ import annotations

import asyncio
import gzip
import http.client
import json
import os
import shutil
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import brotli
import pytest
from lxml import etree
from lxml import html as lxml_html

from smcfeed import urls
from smcfeed._content.grid import seconds_to_line
from smcfeed._content.loader import load_content
from smcfeed._export.build import MARKER, Export, build, file_for
from smcfeed._export.nginx import has_brotli
from smcfeed.app import create_app
from smcfeed.cli import main
from smcfeed.clock import FixedClock
from smcfeed.service import Request, Smcfeed

from ._support import NOW, SAMPLE

CODINGS = {"identity": "", "gzip": ".gz", "br": ".br"}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _asgi_get(app: Any, path: str, headers: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
    """One GET through the app as a server would make it; raw bytes, no decoding."""
    route_path, _, query = path.partition("?")
    scope = {
        "type": "http",
        "method": "GET",
        "path": route_path,
        "raw_path": route_path.encode(),
        "query_string": query.encode(),
        "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
        "http_version": "1.1",
    }
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    asyncio.run(app(scope, receive, send))
    start = sent[0]
    got = {k.decode().lower(): v.decode() for k, v in start["headers"]}
    return start["status"], got, b"".join(m.get("body", b"") for m in sent[1:])


@pytest.fixture(scope="module")
def content(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sample content with short pages, so feeds have several."""
    folder = tmp_path_factory.mktemp("content") / "content"
    shutil.copytree(SAMPLE, folder)
    site = folder / "site.yaml"
    site.write_text(site.read_text().replace("feed_size: 10", "feed_size: 4"))
    return folder


def _export(content: Path, out: Path, base_url: str, listen: str = "8080") -> Export:
    result = load_content(content, base_url)
    assert result.catalogue is not None and not result.errors
    return build(result.catalogue, out, NOW, listen=listen)


@pytest.fixture(scope="module")
def port() -> int:
    return _free_port()


@pytest.fixture(scope="module")
def base(port: int) -> str:
    """The export's base URL: where nginx will serve it, so its links can be followed."""
    return f"http://127.0.0.1:{port}"


@pytest.fixture(scope="module")
def export(content: Path, base: str, port: int, tmp_path_factory: pytest.TempPathFactory) -> Export:
    """One export of the sample (built once: compressing every output takes seconds)."""
    return _export(content, tmp_path_factory.mktemp("export") / "out", base, f"127.0.0.1:{port}")


@pytest.fixture(scope="module")
def app(content: Path, base: str) -> Any:
    """The server's app on the same content, base URL and clock as the export."""
    return create_app(content, clock=FixedClock(NOW), base_url=base, cache_file=None)


def test_every_listed_route_renders_and_round_trips(content: Path) -> None:
    catalogue = load_content(content).catalogue
    assert catalogue is not None
    service = Smcfeed(catalogue)
    routes = list(urls.public_routes(catalogue, NOW))
    paths = [urls.path(r) for r in routes]
    assert len(set(paths)) == len(paths)
    for route, path in zip(routes, paths, strict=True):
        assert urls.parse(path) == route
        assert service.render(Request(route), NOW).body
    kinds = {type(r).__name__ for r in routes}
    assert {"Index", "Opml", "Feed", "Article", "Asset"} <= kinds
    assert {r.fmt for r in routes if isinstance(r, urls.Article)} == {"json", "html"}
    # Feeds with several pages have them all, and no page past the last.
    pages = [r for r in routes if isinstance(r, urls.Feed) and r.page > 1]
    assert pages
    for route in pages:
        assert urls.Feed(route.key, route.fmt, route.page - 1) in routes
    # Nothing embargoed is listed: the sample's embargoed reaction appears only once lifted.
    later = set(urls.public_routes(catalogue, NOW + timedelta(days=365 * 4)))
    hidden = [r for r in later - set(routes) if isinstance(r, urls.Article)]
    assert hidden


def test_files_hold_the_servers_bytes(export: Export, app: Any) -> None:
    assert (export.out / MARKER).is_file()
    written = [p for p in export.public.rglob("*") if p.is_file()]
    assert len(written) == 3 * len(export.files)
    for number, entry in enumerate(export.files):
        # Every identity body; compressed ones for a few (the nginx test checks them all).
        codings = CODINGS if number % 25 == 0 else {"identity": ""}
        for coding, suffix in codings.items():
            status, headers, body = _asgi_get(app, entry.path, {"accept-encoding": coding})
            assert status == 200, entry.path
            on_disk = (export.public / (entry.file + suffix)).read_bytes()
            assert on_disk == body, (entry.path, coding)
            tag = entry.etag if coding == "identity" else f"{entry.etag}-{coding}"
            assert headers["etag"] == f'"{tag}"'
        stamp = (export.public / entry.file).stat().st_mtime
        assert stamp == entry.last_modified.timestamp()


def test_rebuild_replaces_the_export_and_never_another_folder(
    make_content: Callable[[], Path], tmp_path: Path
) -> None:
    content = make_content()
    out = tmp_path / "out"
    _export(content, out, "https://static.example.org")
    stale = out / "public" / "es" / "articles" / "gone.json"
    stale.write_text("{}")
    _export(content, out, "https://static.example.org")
    assert not stale.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["content", "out"]
    precious = tmp_path / "precious"
    precious.mkdir()
    (precious / "keep.txt").write_text("mine")
    with pytest.raises(FileExistsError):
        _export(content, precious, "https://static.example.org")
    assert (precious / "keep.txt").read_text() == "mine"


def test_extensionless_paths_are_kept_as_folder_index_files() -> None:
    assert file_for("/") == "index.html"
    assert file_for("/es/articles/a-b") == "es/articles/a-b/index.html"
    assert file_for("/embed/es") == "embed/es/index.html"
    assert file_for("/es/page/2/rss.xml") == "es/page/2/rss.xml"


def test_cli_build_prints_what_it_wrote_and_when_to_rebuild(
    make_content: Callable[[], Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    content = make_content()
    out = tmp_path / "site"
    code = main(["build", "--out", str(out), "--content", str(content), "--listen", "9999"])
    printed = capsys.readouterr()
    assert code == 0, printed.err
    assert "outputs written to" in printed.out
    assert "next rebuild due at" in printed.out
    assert "listen 9999;" in (out / "nginx" / "site.conf").read_text()
    assert (out / "public" / "es" / "rss.xml").is_file()


def test_cli_build_refuses_broken_content(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    broken = tmp_path / "content"
    shutil.copytree(SAMPLE, broken)
    (broken / "topics.yaml").write_text("climate: [unclosed\n")
    code = main(["build", "--out", str(tmp_path / "out"), "--content", str(broken)])
    printed = capsys.readouterr()
    assert code == 1
    assert "topics.yaml" in printed.out
    assert "nothing built" in printed.err
    assert not (tmp_path / "out").exists()


# --- served by real nginx --------------------------------------------------------------------


class Nginx:
    def __init__(self, port: int) -> None:
        self.port = port

    def get(self, path: str, headers: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            connection.request("GET", path, headers=headers)
            response = connection.getresponse()
            return (
                response.status,
                {k.lower(): v for k, v in response.getheaders()},
                response.read(),
            )
        finally:
            connection.close()


@pytest.fixture(scope="module")
def nginx_export(
    export: Export, base: str, port: int, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Nginx, Export, str]]:
    binary = shutil.which("nginx") or (
        "/usr/sbin/nginx" if os.path.exists("/usr/sbin/nginx") else None
    )
    if binary is None:
        pytest.skip("nginx is not installed (Debian: apt-get install nginx; .ci/run does)")
    prefix = tmp_path_factory.mktemp("nginx")
    conf = export.out / "nginx" / "nginx.conf"
    # Run as whoever runs the tests (root in CI: then keep the workers root too, to read tmp).
    flags = ["daemon off;", *(["user root;"] if os.geteuid() == 0 else [])]
    log = prefix / "nginx.log"
    with log.open("wb") as sink:
        process = subprocess.Popen(
            [binary, "-p", str(prefix), "-c", str(conf), "-e", "stderr", "-g", " ".join(flags)],
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    server = Nginx(port)
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                server.get("/", {})
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"nginx did not start: {log.read_text()}")
                time.sleep(0.05)
        yield server, export, base
    finally:
        process.terminate()
        process.wait(10)


def _links(body: bytes, media_type: str) -> set[str]:
    """Every URL an output links to: hrefs and srcs in HTML (also inside feeds' HTML content),
    feed and OPML links, JSON ``url`` fields. Category schemes are identifiers, not links."""
    found: set[str] = set()

    def from_html(text: str) -> None:
        if not text.strip():
            return
        tree = lxml_html.fromstring(text)
        for element in tree.iter():
            for name in ("href", "src"):
                if element.get(name):
                    found.add(element.get(name))

    if media_type in (urls.HTML_TYPE,):
        from_html(body.decode())
    elif media_type.endswith("json"):

        def walk(value: Any, key: str = "") -> None:
            if isinstance(value, dict):
                for k, v in value.items():
                    walk(v, k)
            elif isinstance(value, list):
                for v in value:
                    walk(v, key)
            elif isinstance(value, str):
                if key == "url" or key.endswith("_url"):
                    found.add(value)
                elif key.endswith("_html"):
                    from_html(value)

        walk(json.loads(body))
    else:
        root = etree.fromstring(body)
        for pi in root.xpath("preceding-sibling::processing-instruction()"):
            if pi.get("href"):
                found.add(pi.get("href"))
        for element in root.iter():
            if not isinstance(element.tag, str):
                continue
            local = etree.QName(element).localname
            for name in ("href", "xmlUrl", "htmlUrl", "url", "src"):
                if element.get(name):
                    found.add(element.get(name))
            if local in ("link", "docs") and element.text and not element.get("href"):
                found.add(element.text.strip())
            text = element.text or ""
            if local in ("encoded", "description", "content", "summary") and "<" in text:
                from_html(text)
    return found


@pytest.mark.e2e
def test_nginx_serves_the_export_as_the_server_would(
    nginx_export: tuple[Nginx, Export, str], app: Any
) -> None:
    server, export, _ = nginx_export
    codings = ["identity", "gzip", *(["br"] if has_brotli() else [])]
    for entry in export.files:
        for coding in codings:
            want = _asgi_get(app, entry.path, {"accept-encoding": coding})
            got = server.get(entry.path, {"Accept-Encoding": coding})
            assert got[0] == want[0] == 200, (entry.path, coding, got[0])
            assert got[2] == want[2], (entry.path, coding)
            for name in (
                "content-type",
                "etag",
                "last-modified",
                "vary",
                "content-security-policy",
            ):
                assert got[1].get(name) == want[1].get(name), (entry.path, coding, name)
            assert got[1].get("content-encoding") == want[1].get("content-encoding")
        if entry.path.endswith(".xml"):
            # Decoded bodies of the precompressed files are the identity body.
            gz = server.get(entry.path, {"Accept-Encoding": "gzip"})[2]
            assert gzip.decompress(gz) == (export.public / entry.file).read_bytes()
            if has_brotli():
                br = server.get(entry.path, {"Accept-Encoding": "br"})[2]
                assert brotli.decompress(br) == (export.public / entry.file).read_bytes()
    # Freshness as the service's: up to the next line of the embargo grid, by the clock.
    for entry in export.files[::50]:
        before = seconds_to_line(datetime.now(UTC), export.grid_minutes)
        header = server.get(entry.path, {})[1]["cache-control"]
        after = seconds_to_line(datetime.now(UTC), export.grid_minutes)
        age = int(header.removeprefix("public, max-age="))
        # nginx reads its clock once per event-loop turn: up to a second behind ours.
        assert min(300, after) <= age <= min(300, before + 1), header
    # Conditional requests answer as the server does: any coding's tag, a list, *, a date.
    for entry in export.files[::20]:
        headers = server.get(entry.path, {})[1]
        tag = headers["etag"]
        asked = [tag, tag[:-1] + '-gzip"', f'W/{tag[:-1]}-br"', f'"0", {tag}', "*", '"0"']
        for if_none_match in asked:
            want_status = _asgi_get(app, entry.path, {"if-none-match": if_none_match})[0]
            got_status = server.get(entry.path, {"If-None-Match": if_none_match})[0]
            assert got_status == want_status, (entry.path, if_none_match)
        since = {"If-Modified-Since": headers["last-modified"]}
        assert server.get(entry.path, since)[0] == 304
    assert server.get("/nothing/here.json", {})[0] == 404


@pytest.mark.e2e
def test_every_link_in_every_output_resolves_in_the_export(
    nginx_export: tuple[Nginx, Export, str],
) -> None:
    server, export, base = nginx_export
    checked: set[str] = set()
    for entry in export.files:
        if entry.media_type in (urls.XSL_TYPE, urls.JS_TYPE):
            continue
        body = (export.public / entry.file).read_bytes()
        for link in _links(body, entry.media_type):
            if not link.startswith(base + "/") or link in checked:
                continue
            checked.add(link)
            path = link[len(base) :].partition("#")[0]
            if isinstance(urls.parse(*path.partition("?")[::2]), urls.OEmbed):
                # oEmbed discovery: answered by query string only, so by the service, never
                # by a static export (the README says so).
                continue
            assert "?" not in path, f"{entry.path} links to {link}: a store ignoring queries cannot"
            status = server.get(path, {})[0]
            assert status == 200, f"{entry.path} links to {link}: {status}"
    # Every output was reached, except the ones nothing links to but the outputs themselves.
    linked = {link[len(base) :].partition("#")[0] for link in checked}
    assert linked, "no links were followed"
    feeds = {e.path for e in export.files if isinstance(urls.parse(e.path), urls.Feed)}
    assert {p for p in feeds if "/page/" in p} <= linked
    assert len(checked) > 50


@pytest.mark.e2e
def test_page_queries_redirect_in_nginx_as_in_the_server(
    nginx_export: tuple[Nginx, Export, str], app: Any
) -> None:
    server, _, _ = nginx_export
    for path in ("/es/rss.xml?page=2", "/en/atom.xml?page=1", "/es/page/2/feed.json?page=3"):
        want = _asgi_get(app, path, {})
        got = server.get(path, {})
        assert (
            (got[0], got[1].get("location"))
            == (want[0], want[1]["location"])
            == (
                301,
                want[1]["location"],
            )
        )
