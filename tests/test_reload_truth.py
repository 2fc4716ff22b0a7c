"""What is served equals what a load from nothing serves, through any live edit; no single
character, date or odd file takes the service down (issue 8, findings 1, 2, 5 and 6)."""

from __future__ import annotations

import asyncio
import os
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from lxml import etree

from smcfeed import FixedClock, urls
from smcfeed._content.loader import load_content
from smcfeed._serve.state import ContentState, hot_requests
from smcfeed.catalogue import Catalogue
from smcfeed.exceptions import NotFound
from smcfeed.service import Request, Smcfeed

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
X = "articles/2026/x.en.md"


def article(published: datetime, summary_key: str = "summary", title: str = "X marks") -> str:
    return (
        "---\n"
        "type: guide\n"
        f"title: {title}\n"
        f"published: {published.isoformat()}\n"
        "topics: [space]\n"
        f"{summary_key}: About x.\n"
        "---\n"
        "Body.\n"
    )


def shape(catalogue: Catalogue) -> list[tuple[str, str, str]]:
    return [(a.path, a.title, a.published.isoformat()) for a in catalogue.articles]


def assert_equals_fresh_load(state: ContentState, now: datetime) -> None:
    """The served catalogue and every hot output equal those of a load from nothing."""
    fresh = load_content(state.root, state.base_url)
    assert fresh.catalogue is not None and not fresh.errors, fresh.errors
    assert state.snapshot is not None
    served = state.snapshot.catalogue
    assert shape(served) == shape(fresh.catalogue)
    assert len(served) == len(fresh.catalogue)
    for key in fresh.catalogue.feed_keys():
        assert answer(lambda k=key: served.items(k, now)) == answer(
            lambda k=key: fresh.catalogue.items(k, now)
        ), key
    fresh_service = Smcfeed(fresh.catalogue)
    paths = ["/en/topics/space/rss.xml", "/en/types/guide/rss.xml"]
    paths += [urls.path(r.route) for r in hot_requests(fresh.catalogue)]
    for path in paths:
        expected = answer(lambda p=path: fresh_service.get(p, "", now).body)
        assert answer(lambda p=path: body_at(state, p, now)) == expected, path


def answer(make: Any) -> Any:
    """What ``make()`` gives, or "404" (a feed with nothing public yet is an unknown one)."""
    try:
        return make()
    except NotFound:
        return "404"


def body_at(state: ContentState, path: str, now: datetime) -> bytes:
    """What the served snapshot answers at ``path``."""
    assert state.snapshot is not None
    return state.snapshot.cache.get(Request(urls.parse(path)), now).output.body


def reload(state: ContentState, content: Path, *relative: str) -> bool:
    return state.reload([content / r for r in relative])


def test_a_pushed_back_embargo_never_goes_out_at_its_old_time(make_content: Any) -> None:
    """Finding 1: add, break, fix, push back; the old time passes; nothing shows."""
    content = make_content()
    clock = FixedClock(NOW)
    state = ContentState(content, clock)
    state.reload()
    content.write(X, article(NOW + timedelta(seconds=45)))
    assert reload(state, content, X)
    content.write(X, article(NOW + timedelta(seconds=45), summary_key="sumary"))
    assert not reload(state, content, X)
    content.write(X, article(NOW + timedelta(seconds=45)))
    assert reload(state, content, X)
    content.write(X, article(NOW + timedelta(days=30)))
    assert reload(state, content, X)
    clock.advance(seconds=60)
    assert state.snapshot is not None
    for path in ("/en/rss.xml", "/en/topics/space/atom.xml", "/en/types/guide/feed.json"):
        body = answer(lambda p=path: body_at(state, p, clock()))
        assert body == "404" or b"X marks" not in body, path
    assert_equals_fresh_load(state, clock())
    clock.advance(days=30)
    body = body_at(state, "/en/rss.xml", clock())
    assert body.count(b"X marks") == 1


def test_break_fix_cycles_add_no_copies_and_a_deleted_article_leaves(make_content: Any) -> None:
    """Finding 1: each break/fix cycle added a copy; broken, fixed, deleted stayed."""
    content = make_content()
    clock = FixedClock(NOW)
    state = ContentState(content, clock)
    state.reload()
    good = article(NOW - timedelta(days=1))
    content.write(X, good)
    assert reload(state, content, X)
    for _ in range(3):
        content.write(X, article(NOW - timedelta(days=1), summary_key="sumary"))
        reload(state, content, X)
        content.write(X, good)
        reload(state, content, X)
    assert_equals_fresh_load(state, clock())
    content.write(X, article(NOW - timedelta(days=1), summary_key="sumary"))
    reload(state, content, X)
    content.write(X, good)
    reload(state, content, X)
    content.remove(X)
    assert reload(state, content, X)
    assert state.snapshot is not None
    assert all(a.path != X for a in state.snapshot.catalogue.articles)
    assert_equals_fresh_load(state, clock())


UNSAFE = ["\x07", "\x0b", "\x1b", "\ufffe", "\uffff", "\x85", "\ufdd0", "\U0010fffe"]
PLACES = [
    ("articles/2024/heat-deaths.en.md", "title: Heat", "title: Heat{c}"),
    ("articles/2024/heat-deaths.en.md", "**Heat** kills", "**Heat** {c}kills"),
    ("articles/2024/heat-deaths.en.md", "quote: Yes,", "quote: Yes{c},"),
    ("articles/2024/heat-deaths.en.md", "title: Heat and mortality", 'title: "H \\u{hex}"'),
    ("experts/ana-garcia.yaml", "name: Ana", "name: Ana{c}"),
    ("topics.yaml", "en: Climate", "en: Climate{c}"),
    ("site.yaml", "en: Test centre", "en: Test centre{c}"),
]
#: Every character in the title and the body; three of them, in turn, everywhere else.
CASES = [
    (char, *place)
    for index, place in enumerate(PLACES)
    for n, char in enumerate(UNSAFE)
    if index < 2 or (n - index) % len(UNSAFE) < 3
]


@pytest.mark.parametrize(("char", "relative", "old", "new"), CASES)
def test_a_character_no_feed_can_carry_is_an_error_not_an_outage(
    make_content: Any, char: str, relative: str, old: str, new: str
) -> None:
    """Finding 2: check names the file and line; a live reload keeps the last good content
    and every main output keeps rendering."""
    content = make_content()
    clock = FixedClock(NOW)
    state = ContentState(content, clock)
    state.reload()
    path = content / relative
    text = path.read_text(encoding="utf-8")
    assert old in text
    hexcode = f"{ord(char):04X}" if ord(char) <= 0xFFFF else f"{ord(char):08X}"
    if "\\u" in new and ord(char) > 0xFFFF:
        new = new.replace("\\u{hex}", "\\U{hex}")
    text = text.replace(old, new.format(c=char, hex=hexcode), 1)
    path.write_bytes(text.encode("utf-8"))
    result = load_content(content)
    marker = new.split("{")[0].split("\\")[0]
    line = next(i for i, s in enumerate(text.splitlines(), 1) if marker in s)
    own = [e for e in result.errors if e.path == relative]
    assert [(e.path, e.line) for e in own] == [(relative, line)], result.errors
    assert "which no feed can carry" in own[0].message
    before = state.snapshot
    assert not state.reload([path])
    assert state.snapshot is before
    assert any(e.path == relative for e in state.errors)
    assert state.snapshot is not None
    for request in hot_requests(state.snapshot.catalogue):
        body = state.snapshot.cache.get(request, clock()).output.body
        if urls.path(request.route).endswith((".xml", ".opml")):
            etree.fromstring(body)
    # Started with the broken file: served without it (or without its settings), never a crash.
    cold = ContentState(content, clock)
    cold.reload()
    if relative.startswith("articles/"):
        assert cold.snapshot is not None
        assert relative not in {a.path for a in cold.snapshot.catalogue.articles}


@pytest.mark.parametrize(
    "published", ["0001-01-01T00:00:00+00:00", "9999-12-31T23:00:00-05:00", "1799-12-31T23:59:59Z"]
)
def test_a_date_no_output_can_handle_is_an_error(make_content: Any, published: str) -> None:
    """Finding 6: year 1 passed check, then the age label overflowed."""
    content = make_content()
    year = published[:4]
    relative = f"articles/{year}/old.en.md"
    content.write(relative, article(NOW).replace(NOW.isoformat(), published))
    result = load_content(content)
    assert [(e.path, e.line) for e in result.errors] == [(relative, 4)]
    assert "out of range" in result.errors[0].message
    state = ContentState(content, FixedClock(NOW))
    state.reload()
    assert state.snapshot is not None
    for request in hot_requests(state.snapshot.catalogue):
        state.snapshot.cache.get(request, NOW)


def _load_in_time(content: Path, **kwargs: Any) -> Any:
    results: list[Any] = []
    thread = threading.Thread(target=lambda: results.append(load_content(content, **kwargs)))
    thread.daemon = True
    thread.start()
    thread.join(20)
    assert not thread.is_alive(), "the load blocked"
    return results[0]


@pytest.mark.parametrize(
    "relative", ["articles/2025/pipe.en.md", "experts/pipe.yaml", "articles/2025/odd"]
)
def test_a_named_pipe_is_reported_and_never_opened(make_content: Any, relative: str) -> None:
    """Finding 5: a FIFO under the folder hung check and start-up forever."""
    content = make_content()
    os.mkfifo(content / relative)
    result = _load_in_time(content)
    assert [(e.path, e.message) for e in result.errors] == [
        (relative, "is a named pipe (FIFO), not a regular file; only files are read")
    ]
    # As a watcher reports it, and in place of an article that was there.
    from smcfeed._content.parsecache import ParseCache

    cache = ParseCache()
    load_content(content, cache=cache)
    target = content / "articles/2025/screens-sleep.en.md"
    target.unlink()
    os.mkfifo(target)
    again = _load_in_time(content, cache=cache, changed=[target])
    assert any(e.path == "articles/2025/screens-sleep.en.md" for e in again.errors)


def test_a_socket_and_a_link_to_a_pipe_are_reported(make_content: Any, tmp_path: Path) -> None:
    import socket

    content = make_content()
    sock = socket.socket(socket.AF_UNIX)
    sock_path = content / "articles/2025/sock.en.md"
    try:
        sock.bind(str(sock_path))
        os.mkfifo(content / "articles/2025/fifo")
        (content / "articles/2025/link.en.md").symlink_to(content / "articles/2025/fifo")
        result = _load_in_time(content)
    finally:
        sock.close()
    messages = {e.path: e.message for e in result.errors}
    assert "is a socket" in messages["articles/2025/sock.en.md"]
    assert "named pipe" in messages["articles/2025/link.en.md"]


def test_a_failed_reload_is_reported_and_the_next_change_is_picked_up(
    make_content: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Finding 2: an exception in a reload killed the watcher; later edits were never seen."""
    from smcfeed._serve import state as _state
    from smcfeed._serve.watch import watch

    content = make_content()
    clock = FixedClock(NOW)
    state = ContentState(content, clock)
    state.reload()
    real = load_content
    calls = {"n": 0}

    def flaky(*args: Any, **kwargs: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == 1:
            raise RuntimeError("disk on fire")
        return real(*args, **kwargs)

    monkeypatch.setattr(_state, "load_content", flaky)

    async def scenario() -> None:
        task = asyncio.create_task(watch(state, debounce=50, step=20, retry=0.1))
        try:
            await asyncio.sleep(0.5)  # the watcher is set up; the catch-up runs after 1 s
            content.write(X, article(NOW - timedelta(days=1)))
            await _until(lambda: calls["n"] >= 1)
            await _until(lambda: any("disk on fire" in e.message for e in state.errors))
            content.write(X, article(NOW - timedelta(days=1), title="Second edit"))
            await _until(
                lambda: (
                    state.snapshot is not None
                    and any(a.title == "Second edit" for a in state.snapshot.catalogue.articles)
                )
            )
        finally:
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task

    asyncio.run(scenario())
    assert not state.errors
    assert_equals_fresh_load(state, clock())


async def _until(condition: Any, timeout: float = 15.0) -> None:
    """Wait for the watcher (real file events) to have done something."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        assert loop.time() < deadline, "timed out"
        await asyncio.sleep(0.05)


def test_a_render_failure_is_never_swapped_in(
    make_content: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Main outputs render before a swap: one that fails is reported, the old content stays."""
    from smcfeed._render import xml as _xml

    content = make_content()
    clock = FixedClock(NOW)
    state = ContentState(content, clock)
    state.reload()
    before = state.snapshot
    real = _xml.render_rss

    def broken(view: Any) -> bytes:
        if any("X marks" in item.article.title for item in view.items):
            raise ValueError("cannot write this")
        return real(view)

    monkeypatch.setattr(_xml, "render_rss", broken)
    content.write(X, article(NOW - timedelta(days=1)))
    assert not reload(state, content, X)
    assert state.snapshot is before
    assert [e.path for e in state.errors] == ["/en/rss.xml"]
    assert "cannot be rendered" in state.errors[0].message
    assert state.snapshot is not None
    body_at(state, "/en/rss.xml", clock())
    monkeypatch.setattr(_xml, "render_rss", real)
    content.write(X, article(NOW - timedelta(days=1), title="X again"))
    assert reload(state, content, X)
    assert_equals_fresh_load(state, clock())
