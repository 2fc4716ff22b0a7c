"""The nginx configuration of a static export: the service's media types, ETags, freshness
and CORS headers, precompressed bodies, and ``?page=N`` answered as the service answers it.

``site.conf`` goes in an ``http`` block (``include …/site.conf;``); ``nginx.conf`` is a whole
configuration for running the export on its own:
``nginx -p DIR -c DIR/nginx/nginx.conf -g 'daemon off;'``.

nginx computes its own ETag from a file's time and size; ours is a hash of the body with a
suffix per coding (``"…-gzip"``), so the export turns nginx's off and sends the service's from
a map keyed by the served file, suffixed by the coding nginx chose. Files are dated when
their output last changed, so nginx's Last-Modified and If-Modified-Since match the service's.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from .. import urls
from .._render.embed import CSP as EMBED_CSP
from .._serve import http as _http

if TYPE_CHECKING:
    from .build import Export, File

#: Where Debian's libnginx-mod-http-brotli-static puts its module.
BROTLI_MODULE = Path("/usr/lib/nginx/modules/ngx_http_brotli_static_module.so")
_FEED_FILES = {fmt.file for fmt in urls.FORMATS}


def has_brotli() -> bool:
    """Whether this machine's nginx can serve ``.br`` files (Debian's brotli-static module)."""
    return BROTLI_MODULE.is_file()


def rule_of(path: str) -> str:
    """How a location recognises an output: a feed's file name, else its extension, else
    ``""`` for extensionless paths (HTML pages kept as ``…/index.html``)."""
    last = path.rpartition("/")[2]
    if last in _FEED_FILES:
        return last
    if "." in last:
        return "." + last.rpartition(".")[2]
    return ""


def _quoted(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _regex(rule: str) -> str:
    """A location regex for a rule: ``/rss\\.xml$`` for a feed file, ``\\.json$`` for a suffix."""
    escaped = rule.replace(".", r"\.") + "$"
    return _quoted("/" + escaped if rule in _FEED_FILES else escaped)


def write_config(
    export: Export,
    *,
    max_age: int,
    listen: str,
    brotli: bool | None,
    now: datetime,
    final: Path | None = None,
) -> None:
    """Write ``nginx/site.conf``, ``nginx/etags.map``, ``nginx/headers.conf`` and
    ``nginx/nginx.conf`` under ``export.out``; paths inside name ``final`` (where the export
    ends up; default ``export.out``)."""
    use_brotli = has_brotli() if brotli is None else brotli
    home = (final or export.out).resolve()
    folder = export.out / "nginx"
    folder.mkdir(parents=True, exist_ok=True)
    files = export.files
    # Cache-Control as the service sends it: up to the next line of the embargo grid (a
    # function of the clock alone), from the minute and second of nginx's clock.
    step = export.grid_minutes * 60
    ages = []
    for minute in range(60):
        for second in range(60):
            left = step - ((minute * 60 + second) % step)
            ages.append(f'"{minute:02d}:{second:02d}" {min(max_age, left)};')
    (folder / "max_age.map").write_text("\n".join(ages) + "\n")

    # One location per kind of path; a path whose type differs from its kind's gets its own.
    by_rule: dict[str, dict[str, list[File]]] = defaultdict(lambda: defaultdict(list))
    for entry in files:
        by_rule[rule_of(entry.path)][entry.media_type].append(entry)
    locations: list[tuple[str, str, bool]] = []  # (location argument, media type, is feed)
    # nginx tries regex locations in order: feed file names before bare extensions.
    for rule, groups in sorted(by_rule.items(), key=lambda kv: (kv[0] not in _FEED_FILES, kv[0])):
        # Extensionless paths are HTML pages unless told otherwise (``location /``).
        common = max(groups, key=lambda m: len(groups[m])) if rule else urls.HTML_TYPE
        for media, entries in sorted(groups.items()):
            if media != common:
                locations += [(f"= {_quoted(e.path)}", media, False) for e in entries]
        if rule:
            locations.append((f"~ {_regex(rule)}", common, rule in _FEED_FILES))

    keys: list[str] = []
    for entry in files:
        keys.append(f"{_quoted(entry.path)} {_quoted(entry.etag)};")
        served = "/" + entry.file
        if served != entry.path:
            keys.append(f"{_quoted(served)} {_quoted(entry.etag)};")
    (folder / "etags.map").write_text("\n".join(keys) + "\n")

    headers = [
        "# Sent with every output, as the service sends them (Vary is per location).",
        "add_header ETag '\"$smcfeed_etag$smcfeed_coding\"';",
        'add_header Cache-Control "public, max-age=$smcfeed_max_age";',
        *(f'add_header {name} "{value}";' for name, value in _http.CORS.items()),
        'add_header X-Content-Type-Options "nosniff";',
    ]
    (folder / "headers.conf").write_text("\n".join(headers) + "\n")

    lines = [
        f"# Generated by smcfeed build at {now.isoformat()}: serves {home / 'public'}",
        "# with the service's media types, ETags and precompressed bodies. Include it in an",
        "# http block. Rebuild when the content changes, and by the instant the build printed.",
        "map_hash_bucket_size 256;",
        f"map_hash_max_size {max(2048, 2 * len(keys))};",
        "map $sent_http_content_encoding $smcfeed_coding {",
        '    default "";',
        '    gzip "-gzip";',
        '    br "-br";',
        "}",
        "map $uri $smcfeed_etag {",
        '    default "";',
        f"    include {home / 'nginx' / 'etags.map'};",
        "}",
        "# max-age to the next line of the embargo grid, by nginx's clock: run nginx in a time",
        "# zone whose UTC offset is a whole number of grid steps (UTC is; nginx.conf sets it).",
        "map $time_iso8601 $smcfeed_clock {",
        '    default "";',
        r'    "~T[0-9][0-9]:(?<ms>[0-9][0-9]:[0-9][0-9])" $ms;',
        "}",
        "map $smcfeed_clock $smcfeed_max_age {",
        f"    default {min(max_age, step)};",
        f"    include {home / 'nginx' / 'max_age.map'};",
        "}",
        "# If-None-Match: any coding's tag of the file's body, or *, as the service compares.",
        'map "$http_if_none_match|$smcfeed_etag" $smcfeed_not_modified {',
        '    default "";',
        r'    "~^\s*\*\s*\|.+$" 1;',
        r'    "~\"(?<t>[0-9a-f]+)(?:-[a-z]+)?\"[^|]*\|\k<t>$" 1;',
        "}",
        "# ?page=N on a feed: 301 to its page's own path, as the service answers.",
        'map "$uri?$arg_page" $smcfeed_page {',
        '    default "";',
        r'    "~^(?<p>[^?]*/page/[0-9]+/[^/?]+)\?[1-9][0-9]{0,8}$" $p;',
        r'    "~^(?<p>[^?]+)\?1$" $p;',
        r'    "~^(?<d>[^?]*)/(?<f>rss\.xml|atom\.xml|feed\.json)\?(?<n>[1-9][0-9]{0,8})$"'
        " $d/page/$n/$f;",
        "}",
        "server {",
        f"    listen {listen};",
        f"    root {home / 'public'};",
        "    etag off;",
        "    absolute_redirect off;",
        "    gzip_static on;",
        *(["    brotli_static on;"] if use_brotli else []),
        "    location = / {",
        "        try_files /index.html =404;",
        *_typed(_http.content_type(urls.HTML_TYPE), home),
        "    }",
        "    location / {",
        "        try_files $uri/index.html =404;",
        *_typed(_http.content_type(urls.HTML_TYPE), home),
        "    }",
        "    location /embed/ {",
        "        try_files $uri/index.html =404;",
        *_typed(_http.content_type(urls.HTML_TYPE), home),
        f"        add_header Content-Security-Policy {_quoted(EMBED_CSP)};",
        "    }",
    ]
    for where, media, feed in locations:
        lines.append(f"    location {where} {{")
        if feed:
            lines.append("        if ($smcfeed_page) { return 301 $smcfeed_page; }")
        if where.startswith("=") and rule_of(where[3:-1]) == "":
            lines.append("        try_files $uri/index.html =404;")
        lines += _typed(_http.content_type(media), home, feed)
        lines.append("    }")
    lines.append("}")
    (folder / "site.conf").write_text("\n".join(lines) + "\n")

    main = [
        "# A whole nginx configuration serving the export on its own:",
        f"#   nginx -p {home / 'nginx'} -c {home / 'nginx' / 'nginx.conf'} -g 'daemon off;'",
        *([f"load_module {BROTLI_MODULE};"] if use_brotli else []),
        "worker_processes auto;",
        "env TZ=UTC;",
        "pid nginx.pid;",
        "error_log stderr;",
        "events { worker_connections 1024; }",
        "http {",
        "    access_log off;",
        "    sendfile on;",
        "    tcp_nopush on;",
        "    client_body_temp_path client_body;",
        "    proxy_temp_path proxy;",
        "    fastcgi_temp_path fastcgi;",
        "    uwsgi_temp_path uwsgi;",
        "    scgi_temp_path scgi;",
        f"    include {home / 'nginx' / 'site.conf'};",
        "}",
    ]
    (folder / "nginx.conf").write_text("\n".join(main) + "\n")


def _typed(content_type: str, home: Path, feed: bool = False) -> list[str]:
    # A feed varies on Accept too: the service gives browsers its HTML page (the export
    # holds the feed only, which is what every reader gets).
    vary = _http.VARY_FEED if feed else _http.VARY
    return [
        "        if ($smcfeed_not_modified) { return 304; }",
        "        types { }",
        f"        default_type {_quoted(content_type)};",
        f"        include {home / 'nginx' / 'headers.conf'};",
        f'        add_header Vary "{vary}";',
    ]
