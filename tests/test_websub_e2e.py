"""WebSub end to end: a real hub (flask-websub's) and a real subscriber in front of
``smcfeed serve --workers 2``. After an edit and after an embargo lifts, the subscriber gets
exactly the changed feeds' new content, once each, within 2 seconds."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from smcfeed import urls
from smcfeed.catalogue import FeedKey

from ._replicas import Received, Recorder, free_port, get, query, smcfeed_serve, wait_for
from ._support import ROOT
from .conftest import write_valid_content

pytestmark = pytest.mark.e2e

#: The promise: a subscriber has the new content this soon after the change.
WITHIN = 2.0
TYPES = ("reaction", "expert-voice", "what-we-know", "guide", "briefing")


@contextmanager
def websub_hub(folder: Path, port: int) -> Iterator[str]:
    """flask-websub's hub (see tests/_hub.py) in a process of its own, on ``port``."""
    url = f"http://127.0.0.1:{port}/hub"
    log = open(folder / "hub.log", "wb")  # noqa: SIM115
    command = [sys.executable, "-m", "tests._hub", str(port), str(folder / "hub.db")]
    process = subprocess.Popen(command, cwd=ROOT, stdout=log, stderr=log)
    try:
        assert wait_for(lambda: _listening(port), timeout=20), (folder / "hub.log").read_text()
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)
        log.close()


def _listening(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


def _subscriber_answer(request: Received) -> tuple[int, bytes]:
    """Verify intent (echo the challenge); take every content notification."""
    if request.method == "GET":
        return 200, query(request).get("hub.challenge", "").encode()
    return 200, b""


def _subscribe(hub: str, topic: str, callback: str, log: Path) -> None:
    import httpx

    form = {"hub.mode": "subscribe", "hub.topic": topic, "hub.callback": callback}
    response = httpx.post(hub, data=form, timeout=10)
    assert response.status_code == 202, (response.text, log.read_text()[-3000:])


def _feeds(base: str) -> list[str]:
    """Every feed URL of the test content (feeds with nothing public yet are 404s)."""
    keys = [FeedKey(lang) for lang in ("es", "en")]
    for lang in ("es", "en"):
        keys += [FeedKey(lang, "topics", t) for t in ("climate", "public-health", "space")]
        keys += [FeedKey(lang, "types", t) for t in TYPES]
        keys += [FeedKey(lang, "experts", e) for e in ("ana-garcia", "john-smith", "lucia-perez")]
    every = [urls.url(base, urls.Feed(k, f.name)) for k in keys for f in urls.FORMATS]
    return [url for url in every if get(url)[0] == 200]


def _bodies(feeds: list[str]) -> dict[str, bytes]:
    found = {}
    for url in feeds:
        status, _, body = get(url, {"accept-encoding": "identity"})
        assert status == 200, url
        found[url] = body
    return found


def _notifications(subscriber: Recorder, topics: dict[str, str]) -> list[tuple[str, Received]]:
    return [(topics[r.path], r) for r in subscriber.received if r.method == "POST"]


def test_a_real_hub_pushes_exactly_the_changed_feeds(tmp_path: Path) -> None:
    hub_port, port = free_port(), free_port()
    base = f"http://127.0.0.1:{port}"
    content = write_valid_content(tmp_path / "content")
    site = (content / "site.yaml").read_text()
    hub_url = f"http://127.0.0.1:{hub_port}/hub"
    (content / "site.yaml").write_text(site + f"websub_hubs: [{hub_url}]\n")
    subscriber = Recorder(_subscriber_answer)
    hub_log = tmp_path / "hub.log"
    with (
        websub_hub(tmp_path, hub_port),
        subscriber.serving(),
        smcfeed_serve(content, port, tmp_path / "server.log", "--base-url", base, workers=2),
    ):
        feeds = _feeds(base)
        topics = {f"/cb/{i}": url for i, url in enumerate(feeds)}
        with ThreadPoolExecutor(8) as pool:
            list(
                pool.map(
                    lambda p: _subscribe(hub_url, topics[p], subscriber.url + p, hub_log), topics
                )
            )
        assert len([r for r in subscriber.received if r.method == "GET"]) == len(feeds)
        assert get(feeds[0])[1]["link"] == f'<{hub_url}>; rel="hub", <{feeds[0]}>; rel="self"'

        # 1. An edit (the body of an article on four feeds; the state machine in
        # test_changes.py covers translations and the rest against every output).
        before = _bodies(feeds)
        edited = content / "articles/2023/mars-samples.es.md"
        started = time.time()
        edited.write_text(edited.read_text().replace("Texto del", "Texto revisado del"))
        _expect_pushes(subscriber, topics, feeds, before, started, tmp_path)
        pushed = {topic for topic, _ in _notifications(subscriber, topics)}
        assert len(pushed) == 12 and f"{base}/es/experts/lucia-perez/feed.json" in pushed

        # 2. An embargo lifting, a few seconds of real time ahead.
        subscriber.received.clear()
        before = _bodies(feeds)
        lift = (datetime.now(UTC) + timedelta(seconds=3)).replace(microsecond=0)
        (content / f"articles/{lift.year}").mkdir(exist_ok=True)
        (content / f"articles/{lift.year}/probe.es.md").write_text(
            "---\ntype: guide\ntitle: Sonda lanzada\n"
            f"published: {lift.isoformat()}\ntopics: [space]\n"
            "summary: Una guía escrita por la prueba.\n---\nTexto.\n",
            encoding="utf-8",
        )
        _expect_pushes(subscriber, topics, feeds, before, lift.timestamp(), tmp_path)
        pushed = {topic for topic, _ in _notifications(subscriber, topics)}
        assert f"{base}/es/topics/space/rss.xml" in pushed
        assert not any("/en/" in topic for topic in pushed)


def _expect_pushes(
    subscriber: Recorder,
    topics: dict[str, str],
    feeds: list[str],
    before: dict[str, bytes],
    since: float,
    folder: Path,
) -> None:
    """Within WITHIN seconds of ``since`` each changed feed arrives once with its new bytes,
    and nothing else arrives (a further half second is allowed for strays to show)."""
    deadline = since + WITHIN
    while time.time() < deadline + 0.5:
        time.sleep(0.05)
    after = _bodies(feeds)
    changed = {url for url in feeds if after[url] != before[url]}
    assert changed, "the change should have changed some feeds"
    got = _notifications(subscriber, topics)
    log = (folder / "server.log").read_text()
    assert sorted(t for t, _ in got) == sorted(changed), log
    for topic, request in got:
        assert request.body == after[topic]
        assert since <= request.at <= deadline, (topic, request.at - since)
