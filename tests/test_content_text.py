"""Text in content files: bounded error messages whatever the value (issue 11, finding 4),
and warnings for plain text that looks like HTML markup."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from typing import Any

import lxml.html
import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

from smcfeed._content.loader import load_content
from smcfeed._content.text import UNSAFE, excerpt, looks_like_markup
from smcfeed.cli import main
from smcfeed.exceptions import MAX_MESSAGE
from smcfeed.service import Smcfeed
from tests._loading import GOOD, NEW


def alias_bomb(levels: int = 7) -> str:
    """A few hundred bytes that YAML expands to 9**levels items."""
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x]"]
    for level in range(1, levels):
        aliases = ", ".join([f"*a{level - 1}"] * 9)
        lines.append(f"a{level}: &a{level} [{aliases}]")
    return "\n".join(lines) + "\n"


def run_check(content: Any, capsys: pytest.CaptureFixture[str]) -> tuple[int, list[str]]:
    status = main(["check", str(content)])
    return status, capsys.readouterr().out.splitlines()


@pytest.mark.parametrize("where", ["article", "expert", "site"])
def test_an_alias_bomb_gives_short_errors_quickly(
    make_content: Any, capsys: pytest.CaptureFixture[str], where: str
) -> None:
    content = make_content()
    bomb = alias_bomb()
    assert len(bomb) < 500
    if where == "article":
        content.write(NEW, GOOD.replace("title: A guide to preprints", bomb + "title: *a6"))
    elif where == "expert":
        content.write("experts/bomb.yaml", bomb + "name: *a6\nrole: *a6\norganisation: *a6\n")
    else:
        site = (content / "site.yaml").read_text(encoding="utf-8")
        (content / "site.yaml").write_text(bomb + site.replace("website:", "website: *a6\nx:"))
    started = time.perf_counter()
    status, lines = run_check(content, capsys)
    assert time.perf_counter() - started < 10
    assert status == 1 and lines
    assert sum(map(len, lines)) < 20_000
    assert all(len(line) < MAX_MESSAGE + 120 for line in lines), max(lines, key=len)


def test_a_megabyte_line_gives_a_short_error(
    make_content: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    content = make_content()
    content.write(NEW, GOOD.replace("type: guide", "type: " + "x_" * 500_000))
    status, lines = run_check(content, capsys)
    assert status == 1
    assert [line.split(":")[:2] for line in lines] == [[NEW, "2"]]
    assert len(lines[0]) < MAX_MESSAGE + 100 and lines[0].endswith("…")


def test_excerpt_never_writes_a_huge_value_out() -> None:
    nested: list[Any] = ["x"] * 9
    for _ in range(8):
        nested = [nested] * 9
    started = time.perf_counter()
    assert len(excerpt(nested)) <= 60
    assert time.perf_counter() - started < 0.1
    assert excerpt("a" * 1000, 10) == "a" * 9 + "…"


@pytest.mark.parametrize(
    ("text", "markup"),
    [
        ("<b>Bold</b> claim", True),
        ('<a href="https://x">link</a>', True),
        ("<iframe src=javascript:alert(1)></iframe>", True),
        ("<!-- pasted -->", True),
        ("Salt &amp; pepper", True),
        ("Fewer than <5 years", False),
        ("R&D in 2024, a < b > c", False),
        ("Heat & health", False),
    ],
)
def test_what_looks_like_markup(text: str, markup: bool) -> None:
    assert looks_like_markup(text) is markup


def test_check_warns_about_markup_in_plain_text_and_still_passes(
    make_content: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    content = make_content()
    content.write(NEW, GOOD.replace("summary: How", "summary: <b>How</b>"))
    expert = (content / "experts/john-smith.yaml").read_text(encoding="utf-8")
    (content / "experts/john-smith.yaml").write_text(
        expert.replace("Climate scientist", "Climate <em>scientist</em>"), encoding="utf-8"
    )
    topics = (content / "topics.yaml").read_text(encoding="utf-8")
    (content / "topics.yaml").write_text(topics.replace("en: Space", "en: Space<br>"))
    status, lines = run_check(content, capsys)
    assert status == 0
    warnings = [line for line in lines if ": warning: " in line]
    assert [w.split(": warning: ")[0] for w in warnings] == [
        "topics.yaml:9",
        "experts/john-smith.yaml:4",
        f"{NEW}:6",
    ]
    assert "'role.en' looks like HTML markup" in warnings[1]
    assert ": OK (3 warnings)" in lines[-1]
    # A warning never turns into an error, and an error still fails.
    assert load_content(content).errors == []
    content.write("articles/2025/bad.en.md", GOOD.replace("type: guide", "type: nope"))
    status, lines = run_check(content, capsys)
    assert status == 1 and any(": warning: " in line for line in lines)


def test_the_sample_content_has_no_warnings(capsys: pytest.CaptureFixture[str]) -> None:
    from tests._support import SAMPLE

    status, lines = run_check(SAMPLE, capsys)
    assert status == 0 and not [line for line in lines if "warning" in line]


def test_unsafe_characters_are_exactly_those_no_feed_should_carry() -> None:
    from lxml import etree

    allowed = ["\t", "\n", "\r", " ", "é", "\u200b", "\u202e", "\U0001f600", "\ufffd"]
    for char in allowed:
        assert not UNSAFE.search(char)
        element = etree.Element("a")
        element.text = char
    for code in [*range(0x20), 0x7F, 0x85, 0xD800, 0xDFFF, 0xFDD0, 0xFFFE, 0xFFFF, 0x10FFFF]:
        char = chr(code)
        if char in "\t\n\r":
            continue
        assert UNSAFE.search(char), hex(code)


_hostile = st.lists(
    st.characters(codec="utf-8", exclude_categories=["Cs"])
    | st.sampled_from(["\x07", "\x0b", "\x1b", "\x85", "\ufffe", "\uffff", "\ufdd0", "\r"])
    | st.sampled_from(["]]>", "<b>", "\u202e", "\u200b", "&amp;", "javascript:", "\U0001f600"]),
    min_size=1,
    max_size=30,
).map("".join)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    field=st.sampled_from(["title", "summary", "quote", "body", "expert", "topic"]),
    text=_hostile,
)
def test_hostile_text_is_refused_with_its_line_or_renders_in_every_format(
    make_content: Any, field: str, text: str
) -> None:
    """Whatever text an editor pastes: check names the file and line, or every output
    holding it renders and parses."""
    content = make_content()
    quoted = json.dumps(text)  # a YAML double-quoted scalar
    path = NEW
    article = GOOD.replace("type: guide", "type: reaction")
    reaction = "reactions:\n  - expert: john-smith\n    conflicts: none\n    quote: Fine.\n"
    article = article.replace("---\nBody", reaction + "---\nBody")
    if field == "title":
        article = article.replace("title: A guide to preprints", f"title: {quoted}")
    elif field == "summary":
        article = article.replace("summary: How to report on preprints.", f"summary: {quoted}")
    elif field == "quote":
        article = article.replace("quote: Fine.", f"quote: {quoted}")
    elif field == "body":
        article = article.replace("Body text.", f"Body {text} text.")
    elif field == "expert":
        path = "experts/john-smith.yaml"
        expert = (content / path).read_text(encoding="utf-8")
        (content / path).write_text(
            expert.replace("name: John Smith", f"name: {quoted}"), encoding="utf-8"
        )
    else:
        path = "topics.yaml"
        topics = (content / path).read_text(encoding="utf-8")
        (content / path).write_text(topics.replace("en: Space", f"en: {quoted}"))
    content.write(NEW, article)
    result = load_content(content)
    if result.errors:
        assert all(e.line is not None for e in result.errors), result.errors
        own = [e for e in result.errors if e.path == path]
        assert own, result.errors
        # Other files only for what follows from it (an expert or topic that cannot be used).
        follows = ("cannot be used until", "unknown topic")
        assert all(e in own or any(f in e.message for f in follows) for e in result.errors)
        return
    assert result.catalogue is not None
    service = Smcfeed(result.catalogue)
    later = datetime(2030, 1, 1, tzinfo=UTC)
    for output in [
        "/en/rss.xml",
        "/en/atom.xml",
        "/en/feed.json",
        "/en/topics/space/rss.xml",
        "/en/experts/john-smith/atom.xml",
        "/en/articles/new-guide.json",
        "/feeds.opml",
        "/",
    ]:
        body = service.get(output, "", later).body
        if output.endswith(".json"):
            orjson.loads(body)
        elif output == "/":
            lxml.html.fromstring(body)
        else:
            etree.fromstring(body)
