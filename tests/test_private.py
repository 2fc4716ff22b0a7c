"""Journalists' private feeds: embargoed items marked in the feed's language, the switch at
the lift (the clock moves, nobody sleeps), tokens added and revoked without a restart, the
404 of a wrong token identical to any unknown path's, private headers, and logs without
tokens."""

from __future__ import annotations

import json
import logging
import uuid
import warnings
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import feedparser
import pytest

from smcfeed import FixedClock, create_app
from smcfeed._serve import tokens as _tokens
from smcfeed._serve.accesslog import AccessLog, AccessLogMiddleware
from smcfeed.app import SmcfeedApp
from smcfeed.cli import main

from .conftest import ContentDir

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

#: The ``setup`` fixture: a client of the app, its clock, a valid token, the tokens file.
Setup = tuple[TestClient, FixedClock, str, Path]

#: A summer embargo (CEST) in the site's zone, Europe/Madrid.
LIFT = datetime.fromisoformat("2030-06-15T17:00:00+02:00")
BEFORE = LIFT - timedelta(microseconds=1)
ROOT = "https://feeds.example.org"


def _embargoed(lang: str, title: str) -> str:
    return f"""\
        ---
        type: briefing
        title: {title}
        published: {LIFT.isoformat()}
        topics: [space]
        summary: Not public until the lift.
        reactions:
          - expert: lucia-perez
            conflicts: none
            quote: A quote under embargo.
        ---
        Body under embargo.
        """


@pytest.fixture
def setup(make_content: object, tmp_path: Path) -> Iterator[Setup]:
    content: ContentDir = make_content()  # type: ignore[operator]
    content.write("articles/2030/comet.en.md", _embargoed("en", "A comet is coming"))
    content.write("articles/2030/comet.es.md", _embargoed("es", "Llega un cometa"))
    tokens_file = tmp_path / "config" / "tokens.json"
    token = _tokens.add(tokens_file, "Ana Periodista", LIFT)
    clock = FixedClock(LIFT - timedelta(days=1))
    app = create_app(content, clock=clock, tokens_file=tokens_file, tokens_recheck=0)
    with TestClient(app) as client:
        yield client, clock, token, tokens_file


def test_embargoed_items_are_marked_in_the_feed_language(setup: Setup) -> None:
    client, _clock, token, _ = setup
    en = feedparser.parse(client.get(f"/private/{token}/en/rss.xml").content)
    first = en.entries[0]
    assert first.title == "EMBARGOED until 15 Jun 2030 17:00 CEST: A comet is coming"
    assert first.content[0].value.startswith(
        "<p><strong>EMBARGOED until 15 Jun 2030 17:00 CEST</strong></p>"
    )
    es = feedparser.parse(client.get(f"/private/{token}/es/atom.xml").content)
    assert es.entries[0].title == "EMBARGADO hasta el 15 jun 2030, 17:00 CEST: Llega un cometa"
    assert "EMBARGADO hasta el 15 jun 2030, 17:00 CEST" in es.entries[0].content[0].value
    feed = client.get(f"/private/{token}/es/feed.json").json()
    item = feed["items"][0]
    assert datetime.fromisoformat(item["_smc"]["embargoed_until"]) == LIFT
    # Older items are not embargoed, and say nothing about it.
    assert all("embargoed_until" not in i["_smc"] for i in feed["items"][1:])
    assert all(not e.title.startswith("EMBARGADO") for e in es.entries[1:])
    # The item's id is the one it will have in public.
    assert item["id"] == uuid.uuid5(uuid.NAMESPACE_URL, f"{ROOT}/es/articles/comet.json").urn


def test_a_winter_embargo_says_cet(make_content: object, tmp_path: Path) -> None:
    content: ContentDir = make_content()  # type: ignore[operator]
    winter = "2030-01-10T09:30:00+01:00"
    content.write(
        "articles/2030/snow.en.md", _embargoed("en", "Snow").replace(LIFT.isoformat(), winter)
    )
    token = _tokens.add(tmp_path / "t.json", "x", LIFT)
    app = create_app(
        content, clock=FixedClock(LIFT.replace(year=2029)), tokens_file=tmp_path / "t.json"
    )
    with TestClient(app) as client:
        feed = client.get(f"/private/{token}/en/feed.json").json()
    assert feed["items"][0]["title"] == "EMBARGOED until 10 Jan 2030 09:30 CET: Snow"


def test_private_feeds_hold_what_public_ones_do_not_yet(setup: Setup) -> None:
    client, clock, token, _ = setup
    clock.set(BEFORE)
    # The expert and topic have nothing public in English: public 404, private 200.
    for path in ("/en/experts/lucia-perez/rss.xml", "/en/topics/space/feed.json"):
        assert client.get(path).status_code == 404
        assert client.get(f"/private/{token}{path}").status_code == 200
    assert client.get("/en/articles/comet.json").status_code == 404
    article = client.get(f"/private/{token}/en/articles/comet.json").json()
    assert article["title"].startswith("EMBARGOED until")
    # Links inside the private feed stay private; the id is the public one.
    feed = client.get(f"/private/{token}/en/feed.json").json()
    assert feed["feed_url"] == f"{ROOT}/private/{token}/en/feed.json"
    assert feed["items"][0]["_smc"]["api_url"] == f"{ROOT}/private/{token}/en/articles/comet.json"
    assert feed["items"][0]["_smc"]["translations"][0]["url"].startswith(f"{ROOT}/private/{token}/")


def test_at_the_lift_items_become_ordinary_and_match_the_public_feed(setup: Setup) -> None:
    client, clock, token, _ = setup
    clock.set(BEFORE)
    assert "comet" not in client.get("/en/feed.json").text
    assert "EMBARGOED" in client.get(f"/private/{token}/en/feed.json").text
    clock.set(LIFT)
    for path in ("/en/feed.json", "/es/rss.xml", "/en/atom.xml", "/en/topics/space/rss.xml",
                 "/en/experts/lucia-perez/feed.json", "/en/articles/comet.json"):  # fmt: skip
        public = client.get(path)
        private = client.get(f"/private/{token}{path}")
        assert public.status_code == private.status_code == 200, path
        assert b"EMBARGO" not in private.content and b"embargoed_until" not in private.content
        # The same feed, but for its own links, which stay private.
        unlinked = private.content.replace(f"/private/{token}/".encode(), b"/")
        assert unlinked == public.content, path


def test_private_headers(make_content: object, tmp_path: Path) -> None:
    content: ContentDir = make_content()  # type: ignore[operator]
    site = (content / "site.yaml").read_text()
    content.write("site.yaml", site + "websub_hubs: [https://hub.example.org/]\n")
    token = _tokens.add(tmp_path / "t.json", "x", LIFT)
    app = create_app(content, clock=FixedClock(LIFT), tokens_file=tmp_path / "t.json")
    with TestClient(app) as client:
        public = client.get("/es/rss.xml")
        assert "link" in public.headers and "access-control-allow-origin" in public.headers
        for fmt in ("rss.xml", "atom.xml", "feed.json"):
            response = client.get(f"/private/{token}/es/{fmt}", headers={"accept-encoding": "gzip"})
            assert response.status_code == 200
            headers = response.headers
            assert headers["cache-control"] == "private, no-store"
            assert headers["x-robots-tag"] == "noindex"
            assert not any(h.startswith("access-control-") for h in headers)
            assert "link" not in headers
            assert b"hub.example.org" not in response.content
        redirect = client.get(f"/private/{token}/es/rss.xml?page=2", follow_redirects=False)
        assert redirect.status_code == 301
        assert redirect.headers["location"] == f"/private/{token}/es/page/2/rss.xml"
        assert redirect.headers["cache-control"] == "private, no-store"
        # Never the index, OPML, widgets, cards or oEmbed; never listed publicly.
        for path in ("/", "/feeds.opml", "/feeds/rss.opml", "/embed/es", "/openapi.json"):
            assert client.get(f"/private/{token}{path}").status_code == 404
        for path in ("/", "/feeds.opml"):
            assert b"/private/" not in client.get(path).content


def _shape(response: object) -> tuple[int, list[tuple[str, str]], bytes]:
    r = response  # an httpx response
    headers = sorted((k, v) for k, v in r.headers.multi_items() if k != "date")  # type: ignore[attr-defined]
    return r.status_code, headers, r.content  # type: ignore[attr-defined]


def test_a_wrong_token_gets_exactly_the_404_of_an_unknown_path(
    setup: Setup, make_content: object
) -> None:
    client, clock, token, tokens_file = setup
    bad = _tokens.add(tokens_file, "Revoked Reporter", LIFT)
    _tokens.revoke(tokens_file, "Revoked Reporter")
    # The same content served with no private feeds at all: every /private/ path is unknown.
    assert isinstance(client.app, SmcfeedApp)
    plain = TestClient(create_app(client.app.state.content.root, clock=clock))
    wrong = [
        bad,  # revoked
        token[:-1] + ("A" if token[-1] != "A" else "B"),  # one character off
        "x" * 43,
        "",
        "%00",
        "ñandú",
        "a" * 5000,
    ]
    for candidate in wrong:
        for rest in ("/en/rss.xml", "/es/topics/space/feed.json", "/es/nothing"):
            path = f"/private/{candidate}{rest}"
            got = _shape(client.get(path))
            assert got == _shape(plain.get(path)), path
            assert got[0] == 404
            assert json.loads(got[2])["error"]["message"].startswith("nothing at /private/")
    # A topic with nothing public yet answers as an unknown one: the message names the path.
    pairs = [
        ("/en/topics/space/rss.xml", "/en/topics/spice/rss.xml"),
        ("/en/experts/lucia-perez/atom.xml", "/en/experts/nobody-at-all/atom.xml"),
    ]
    for known, unknown in pairs:
        a, b = _shape(client.get(known)), _shape(client.get(unknown))
        assert a[0] == b[0] == 404 and a[1] == b[1]
        assert a[2] == b[2].replace(unknown.encode(), known.encode())


def test_revocation_and_registration_take_effect_without_a_restart(setup: Setup) -> None:
    client, _clock, token, tokens_file = setup
    assert client.get(f"/private/{token}/en/rss.xml").status_code == 200
    _tokens.revoke(tokens_file, "Ana Periodista")
    assert client.get(f"/private/{token}/en/rss.xml").status_code == 404
    again = _tokens.add(tokens_file, "Ana Periodista", LIFT)
    assert client.get(f"/private/{again}/en/rss.xml").status_code == 200
    assert client.get(f"/private/{token}/en/rss.xml").status_code == 404


def test_the_registry_looks_at_the_file_within_a_second(tmp_path: Path) -> None:
    path = tmp_path / "t.json"
    token = _tokens.add(path, "x", LIFT)
    ticks = [100.0]
    registry = _tokens.TokenRegistry(path, recheck=1.0, monotonic=lambda: ticks[0])
    assert registry.admits(token)
    _tokens.revoke(path, "x")
    ticks[0] += 0.5
    assert registry.admits(token)  # still within the second
    ticks[0] += 0.5
    assert not registry.admits(token)
    path.write_text("not json")
    ticks[0] += 1
    assert not registry.admits(token) and not registry.admits("")


def test_tokens_never_reach_the_access_log(setup: Setup, caplog: pytest.LogCaptureFixture) -> None:
    client, _clock, token, tokens_file = setup
    access = AccessLog()
    logged = TestClient(AccessLogMiddleware(client.app, access))
    caplog.set_level(logging.INFO, logger="smcfeed.access")
    assert logged.get(f"/private/{token}/en/rss.xml").status_code == 200
    logged.get(f"/private/{token}x/en/rss.xml")
    logged.get("/feed.xsl", headers={"referer": f"{ROOT}/private/{token}/es/rss.xml"})
    access.close()
    text = caplog.text
    assert token not in text and "private/" + token[:6] not in text
    short = _tokens.read(tokens_file)[0].short_id
    assert f"GET /private/id:{short}/en/rss.xml" in text
    assert f"{ROOT}/private/id:{short}/es/rss.xml" in text
    assert text.count("/private/id:") == 3


def test_the_tokens_file_keeps_hashes_only(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "tokens.json"
    assert main(["tokens", "add", "Ana Periodista", "--tokens", str(path)]) == 0
    token = capsys.readouterr().out.strip()
    assert len(token) >= 22 and token not in path.read_text()  # 22 url-safe chars: 128 bits
    stored = json.loads(path.read_text())["tokens"][0]
    assert stored["name"] == "Ana Periodista" and stored["hash"] == _tokens.hash_token(token)
    assert (path.stat().st_mode & 0o077) == 0
    assert main(["tokens", "list", "--tokens", str(path)]) == 0
    assert capsys.readouterr().out.startswith("Ana Periodista\t")
    assert main(["tokens", "add", "Ana Periodista", "--tokens", str(path)]) == 1
    assert main(["tokens", "revoke", "Ana Periodista", "--tokens", str(path)]) == 0
    assert main(["tokens", "revoke", "Ana Periodista", "--tokens", str(path)]) == 1
    content = tmp_path / "content"
    content.mkdir()
    inside = str(content / "tokens.json")
    assert main(["tokens", "add", "x", "--tokens", inside, "--content", str(content)]) == 1
    assert "inside the content folder" in capsys.readouterr().err
    assert main(["serve", "--content", str(content), "--tokens", inside]) == 1
