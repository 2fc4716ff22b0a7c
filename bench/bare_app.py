"""The baseline: a bare Starlette app answering /es/rss.xml with fixed bytes.

Run by bench/run.py exactly like smcfeed is run (uvicorn, uvloop, httptools, no access log,
same worker count):

    BENCH_BARE_BODY=bench/work/static/es/rss.xml \
        uvicorn bench.bare_app:app --loop uvloop --http httptools --no-access-log

BENCH_BARE_BODY is the feed smcfeed sent (identity); the same path + ``.gz`` is the gzip body
smcfeed sent. The app does the least a feed server must: pick the body by Accept-Encoding and
answer 304 to a matching If-None-Match. Whatever smcfeed spends beyond this is its own cost.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

_path = Path(os.environ.get("BENCH_BARE_BODY", "bench/work/static/es/rss.xml"))
BODY = _path.read_bytes()
BODY_GZIP = _path.with_name(_path.name + ".gz").read_bytes()
ETAG = '"' + hashlib.blake2b(BODY, digest_size=12).hexdigest() + '"'
MEDIA_TYPE = "application/rss+xml; charset=utf-8"


async def feed(request: Request) -> Response:
    headers = request.headers
    if headers.get("if-none-match") == ETAG:
        return Response(status_code=304, headers={"etag": ETAG, "vary": "Accept-Encoding"})
    if "gzip" in headers.get("accept-encoding", ""):
        return Response(
            BODY_GZIP,
            media_type=MEDIA_TYPE,
            headers={
                "etag": ETAG[:-1] + '-gzip"',
                "vary": "Accept-Encoding",
                "content-encoding": "gzip",
            },
        )
    return Response(BODY, media_type=MEDIA_TYPE, headers={"etag": ETAG, "vary": "Accept-Encoding"})


app = Starlette(routes=[Route("/es/rss.xml", feed)])
