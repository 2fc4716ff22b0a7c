"""WebSub pings and CDN purges over real HTTP to recording servers: form and headers, retries
with backoff, batching, key batches; and the surrogate keys on public responses."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from smcfeed import FixedClock, create_app
from smcfeed._serve.cdn import MAX_HEADER, MAX_KEYS, Purger, batches
from smcfeed._serve.changes import Change
from smcfeed._serve.outbound import Outbound
from smcfeed._serve.websub import WebSubPublisher

from ._replicas import Received, Recorder
from ._support import NOW, SAMPLE

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

AT = datetime(2026, 11, 25, 12, tzinfo=UTC)


@pytest.fixture
def outbound() -> Iterator[Outbound]:
    sender = Outbound(timeout=5)
    yield sender
    sender.drain(10)
    sender.stop()


def _form(request: Received) -> list[tuple[str, str]]:
    from urllib.parse import parse_qsl

    return sorted(parse_qsl(request.body.decode()))


def _change(
    feeds: tuple[str, ...], hubs: tuple[str, ...], keys: frozenset[str] = frozenset()
) -> Change:
    return Change(at=AT, feeds=feeds, keys=keys, hubs=hubs, swap=False)


def test_pings_retry_until_the_hub_takes_them_once_each(outbound: Outbound) -> None:
    seen: dict[bytes, int] = {}

    def flaky(request: Received) -> tuple[int, bytes]:
        seen[request.body] = seen.get(request.body, 0) + 1
        return (503, b"busy") if seen[request.body] == 1 else (202, b"")

    hub = Recorder(flaky)
    feeds = ("https://f.example/es/rss.xml", "https://f.example/en/atom.xml")
    with hub.serving():
        publisher = WebSubPublisher(outbound, backoff=0.01)
        publisher(_change(feeds, (hub.url + "/hub",)))
        publisher(_change(feeds[:1], (hub.url + "/hub",)))  # batched with the first
        assert outbound.drain(10)
    assert len(hub.received) == 4  # each URL refused once, then taken
    assert all(r.method == "POST" and r.path == "/hub" for r in hub.received)
    forms = {tuple(_form(r)) for r in hub.received}
    assert forms == {
        (("hub.mode", "publish"), ("hub.topic", url), ("hub.url", url)) for url in feeds
    }
    assert publisher.sent == 2


def test_a_refused_ping_is_not_retried(outbound: Outbound) -> None:
    hub = Recorder(lambda r: (400, b"no"))
    with hub.serving():
        publisher = WebSubPublisher(outbound, backoff=0.01)
        publisher(_change(("https://f.example/es/rss.xml",), (hub.url,)))
        assert outbound.drain(10)
    assert len(hub.received) == 1 and publisher.sent == 0


def test_an_unreachable_hub_is_retried_with_backoff_then_given_up(outbound: Outbound) -> None:
    hub = Recorder()
    with hub.serving():
        url = hub.url
    publisher = WebSubPublisher(outbound, attempts=3, backoff=0.05)
    started = datetime.now(UTC)
    publisher(_change(("https://f.example/es/rss.xml",), (url,)))
    assert outbound.drain(10)
    # Two waits: 0.05 × [0.5, 1) and 0.1 × [0.5, 1).
    assert (datetime.now(UTC) - started).total_seconds() >= 0.075
    assert publisher.sent == 0


def test_purges_go_to_varnish_and_fastly_endpoints(
    outbound: Outbound, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SMCFEED_FASTLY_KEY", "secret-token")
    cdn = Recorder()
    with cdn.serving():
        varnish, fastly = cdn.url + "/", cdn.url + "/service/SU1Z0isxPaozGVKXdv0eY/purge"
        purger = Purger([varnish, fastly], outbound)
        purger(_change((), (), frozenset({"f:es", "a:0123456789", "lists"})))
        assert outbound.drain(10)
    by_method = {r.method: r for r in cdn.received}
    assert sorted(by_method) == ["POST", "PURGE"]
    assert by_method["PURGE"].headers["xkey-purge"] == "a:0123456789 f:es lists"
    assert by_method["POST"].path == "/service/SU1Z0isxPaozGVKXdv0eY/purge"
    assert by_method["POST"].headers["surrogate-key"] == "a:0123456789 f:es lists"
    assert by_method["POST"].headers["fastly-key"] == "secret-token"
    assert "xkey-purge" not in by_method["POST"].headers


def test_a_change_without_keys_purges_nothing(outbound: Outbound) -> None:
    cdn = Recorder()
    with cdn.serving():
        Purger([cdn.url], outbound)(_change(("https://f.example/es/rss.xml",), ()))
        assert outbound.drain(10)
    assert cdn.received == []


@settings(max_examples=50, deadline=None)
@given(st.lists(st.text("abcdef:/-0123456789", min_size=1, max_size=300), max_size=600))
def test_key_batches_keep_every_key_within_the_limits(keys: list[str]) -> None:
    found = list(batches(keys))
    assert [k for batch in found for k in batch.split(" ")] == keys
    for batch in found:
        assert len(batch.split(" ")) <= MAX_KEYS
        assert len(batch) <= MAX_HEADER or " " not in batch


def test_public_responses_carry_their_surrogate_keys() -> None:
    with TestClient(create_app(SAMPLE, clock=FixedClock(NOW))) as client:
        feed = client.get("/es/topics/climate/rss.xml")
        article = client.get("/es/articles/hielo-marino-antartico-cambio-de-regimen.json")
        opml = client.get("/feeds.opml")
        card = client.get("/embed/es/articles/hielo-marino-antartico-cambio-de-regimen")
        page = "https://feeds.smc-demo.org/es/articles/hielo-marino-antartico-cambio-de-regimen"
        oembed = client.get("/oembed", params={"url": page})
        widget = client.get("/embed/es/topics/climate")
        conditional = client.get(
            "/es/topics/climate/rss.xml", headers={"if-none-match": feed.headers["etag"]}
        )
    keys = feed.headers["xkey"].split(" ")
    assert feed.headers["surrogate-key"] == feed.headers["xkey"]
    assert keys[:3] == ["es", "f:es/topics/climate", "topic:climate"]
    items = feed.text.count("<item>")
    assert items and len([k for k in keys if k.startswith("a:")]) >= items
    assert len(feed.headers["xkey"]) < 2048
    article_keys = article.headers["xkey"].split(" ")
    assert article_keys[0] == "es" and article_keys[1].startswith("a:")
    assert article_keys[1] in keys  # the article is an item of the climate feed
    assert "topic:climate" in article_keys and "type:reaction" in article_keys
    assert opml.headers["xkey"] == "lists"
    assert card.headers["xkey"] == article.headers["xkey"]
    assert oembed.headers["xkey"] == article.headers["xkey"]
    assert widget.headers["xkey"].startswith("es f:es/topics/climate topic:climate a:")
    assert conditional.status_code == 304 and conditional.headers["xkey"] == feed.headers["xkey"]
