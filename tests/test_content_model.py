"""The content model of issue 12: images with alt text and credit, a credit line per
language, quotes split into the editor's questions and the expert's words, stable reaction
ids, and the warning when an expert's role repeats the organisation."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from smcfeed import Smcfeed, load_content
from smcfeed._content.parse import reaction_ids
from smcfeed._render.markdown import split_questions
from smcfeed.cli import main

from ._loading import GOOD, NEW, edit, line_of, load, only_error
from ._support import NOW
from .conftest import ContentDir

ARTICLE = "articles/2024/heat-deaths.en.md"
IMAGE = (
    "image:\n"
    "  url: https://example.org/media/heat.jpg\n"
    "  alt: A thermometer in the sun\n"
    "  caption: Summer in Seville\n"
    "  credit: 'Photo: Ana Ruiz'\n"
)


def _service(content: Path) -> Smcfeed:
    result = load_content(content)
    assert result.errors == [], [str(e) for e in result.errors]
    assert result.catalogue is not None
    return Smcfeed(result.catalogue)


def _item(content: Path, lang: str, slug: str) -> dict[str, object]:
    body = _service(content).get(f"/{lang}/articles/{slug}.json", "", NOW).body
    return dict(orjson.loads(body))


# --- images ---------------------------------------------------------------------------------


def test_a_bare_image_url_tells_the_editor_the_new_shape(make_content: Callable[[], ContentDir]):
    content = make_content()
    text = GOOD.replace("summary:", "image: https://example.org/a.jpg\nsummary:")
    content.write(NEW, text)

    error = only_error(load(content))

    assert (error.path, error.line) == (NEW, line_of(text, "image:"))
    assert "bare URL" in error.message and "alt" in error.message and "url" in error.message


def test_an_image_needs_alt_text(make_content: Callable[[], ContentDir]):
    content = make_content()
    text = GOOD.replace("summary:", "image:\n  url: https://example.org/a.jpg\nsummary:")
    content.write(NEW, text)

    error = only_error(load(content))

    assert error.message == "'image.alt' is missing; it is required"
    assert error.line == line_of(text, "image:")


def test_unknown_image_field_is_an_error(make_content: Callable[[], ContentDir]):
    content = make_content()
    text = GOOD.replace(
        "summary:", "image:\n  url: https://example.org/a.jpg\n  alt: A\n  credits: B\nsummary:"
    )
    content.write(NEW, text)

    error = only_error(load(content))

    assert "unknown field 'image.credits'" in error.message and "'credit'" in error.message
    assert error.line == line_of(text, "credits:")


def test_image_reaches_json_feed_rss_and_atom(make_content: Callable[[], ContentDir]):
    content = make_content()
    edit(content, ARTICLE, "reactions:", IMAGE + "reactions:")
    service = _service(content)

    item = _item(content, "en", "heat-deaths")
    assert item["image"] == "https://example.org/media/heat.jpg"
    assert item["_smc"]["image"] == {  # type: ignore[index]
        "url": "https://example.org/media/heat.jpg",
        "alt": "A thermometer in the sun",
        "caption": "Summer in Seville",
        "credit": "Photo: Ana Ruiz",
        "type": "image/jpeg",
        "length": None,
    }
    assert '<img src="https://example.org/media/heat.jpg" alt="A thermometer in the sun">' in str(
        item["content_html"]
    )
    rss = service.get("/en/rss.xml", "", NOW).body.decode()
    # No length given: RSS, which requires one on an enclosure, carries media:content only.
    assert "<enclosure" not in rss
    assert '<media:content url="https://example.org/media/heat.jpg" medium="image"' in rss
    assert "<media:description>A thermometer in the sun</media:description>" in rss
    assert "<media:credit>Photo: Ana Ruiz</media:credit>" in rss
    atom = service.get("/en/atom.xml", "", NOW).body.decode()
    assert (
        '<link rel="enclosure" href="https://example.org/media/heat.jpg" type="image/jpeg"' in atom
    )


def test_an_image_with_its_length_is_an_rss_enclosure(make_content: Callable[[], ContentDir]):
    content = make_content()
    image = IMAGE.replace(".jpg", ".bin") + "  type: image/png\n  length: 12345\n"
    edit(content, ARTICLE, "reactions:", image + "reactions:")
    service = _service(content)

    rss = service.get("/en/rss.xml", "", NOW).body.decode()
    assert (
        '<enclosure url="https://example.org/media/heat.bin" length="12345" type="image/png"/>'
        in rss
    )
    atom = service.get("/en/atom.xml", "", NOW).body.decode()
    assert 'type="image/png" length="12345"' in atom


@pytest.mark.parametrize(
    ("field", "value", "phrase"),
    [("type", "text/html", "not an image media type"), ("length", "0", "greater than or equal")],
)
def test_bad_image_type_or_length(
    make_content: Callable[[], ContentDir], field: str, value: str, phrase: str
):
    content = make_content()
    text = edit(content, ARTICLE, "reactions:", IMAGE + f"  {field}: {value}\nreactions:")

    error = only_error(load(content))

    assert phrase in error.message and error.line == line_of(text, f"  {field}:")


# --- credit, segments, reaction ids ----------------------------------------------------------


def test_reactions_carry_ids_segments_and_credit_lines(make_content: Callable[[], ContentDir]):
    content = make_content()
    edit(
        content,
        "articles/2024/heat-deaths.es.md",
        "  - expert: john-smith\n",
        "  - expert: ana-garcia\n"
        "    conflicts: none\n"
        "    via: SMC Demo Alemania\n"
        "    quote: Otra cosa más.\n"
        "  - expert: john-smith\n",
    )

    item = _item(content, "es", "heat-deaths")
    smc = item["_smc"]
    reactions = smc["reactions"]  # type: ignore[index]
    assert [r["id"] for r in reactions] == ["ana-garcia", "ana-garcia-2", "john-smith"]
    assert reactions[0]["segments"] == [
        {
            "question": "¿Es sólido el estudio?",
            "text_html": "<p>Sí, los métodos son los habituales.</p>",
            "text": "Sí, los métodos son los habituales.",
        }
    ]
    assert reactions[0]["quote_text"] == "Sí, los métodos son los habituales."
    assert reactions[0]["credit"] == "Fuente: Centro de prueba (CC BY 4.0)"
    assert reactions[1]["credit"] == "Fuente: Centro de prueba (CC BY 4.0), vía SMC Demo Alemania"
    assert reactions[2]["translated_from"] == {"code": "en", "name": "inglés"}
    assert reactions[1]["url"].endswith("/es/articles/heat-deaths#ana-garcia-2")
    assert smc["license"]["credit"] == "Fuente: Centro de prueba (CC BY 4.0)"  # type: ignore[index]
    assert smc["slug"] == "heat-deaths"  # type: ignore[index]
    html = str(item["content_html"])
    # The editor's question is a heading outside the expert's quoted words.
    assert "<h4>¿Es sólido el estudio?</h4>\n<blockquote>\n<p>Sí, los métodos" in html
    assert '<section id="ana-garcia-2">' in html
    assert html.count("Fuente: Centro de prueba (CC BY 4.0)") == 3


def test_translations_carry_page_and_api_urls(make_content: Callable[[], ContentDir]):
    content = make_content()

    item = _item(content, "en", "heat-deaths")

    assert item["_smc"]["translations"] == [  # type: ignore[index]
        {
            "language": "es",
            "name": "Spanish",
            "title": "El calor y la mortalidad",
            "url": "https://feeds.example.org/es/articles/heat-deaths",
            "permalink": "https://example.org/es/heat-deaths",
            "api_url": "https://feeds.example.org/es/articles/heat-deaths.json",
        }
    ]
    # Without source_url, the permalink is the article's HTML page; the id is unchanged.
    assert item["url"] == "https://feeds.example.org/en/articles/heat-deaths"
    assert item["id"] == "urn:uuid:" + str(
        __import__("uuid").uuid5(
            __import__("uuid").NAMESPACE_URL,
            "https://feeds.example.org/en/articles/heat-deaths.json",
        )
    )


def test_credit_must_cover_every_language(make_content: Callable[[], ContentDir]):
    content = make_content()
    text = edit(content, "site.yaml", '    en: "Source: Test centre (CC BY 4.0)"\n', "")

    error = only_error(load(content))

    assert error.path == "site.yaml" and error.line == line_of(text, "license:")
    assert "credit has no text for en" in error.message


_WORDS = st.text(alphabet="abcdefghij ", min_size=1, max_size=20).map(str.strip).filter(bool)


@settings(max_examples=60, deadline=None)
@given(
    lead=st.lists(_WORDS, max_size=2),
    parts=st.lists(st.tuples(_WORDS, st.lists(_WORDS, max_size=3)), max_size=4),
    level=st.integers(1, 6),
)
def test_split_questions_keeps_questions_out_of_the_answers(
    lead: list[str], parts: list[tuple[str, list[str]]], level: int
) -> None:
    """Whatever the headings and paragraphs, each heading becomes a question, the text under
    it its answer, and no question ever lands inside an answer."""
    blocks = [f"Q{p}" for p in lead]
    for question, paragraphs in parts:
        blocks.append(f"{'#' * level} H{question}?")
        blocks += [f"A{p}" for p in paragraphs]

    split = split_questions("\n\n".join(blocks), "https://example.org")

    expected: list[tuple[str | None, list[str]]] = [(None, [f"Q{p}" for p in lead])] if lead else []
    expected += [(f"H{q}?", [f"A{p}" for p in ps]) for q, ps in parts]
    assert [
        (q, [p.strip().removeprefix("<p>") for p in html.split("</p>") if p.strip()])
        for q, html in split
    ] == [(q, ps) for q, ps in expected]
    for _question, html in split:
        assert "<h" not in html


@settings(max_examples=100, deadline=None)
@given(st.lists(st.sampled_from(["ana", "ana-2", "bo", "c"]), max_size=8), st.data())
def test_reaction_ids_are_unique_and_stable(experts: list[str], data: st.DataObject) -> None:
    ids = reaction_ids(experts)

    assert len(set(ids)) == len(ids)
    for index, expert in enumerate(experts):
        assert ids[index].startswith(expert)
        if expert not in ids[:index]:
            assert ids[index] == expert
    # A reaction by a new expert, inserted anywhere, leaves every other id as it was.
    at = data.draw(st.integers(0, len(experts)))
    grown = reaction_ids([*experts[:at], "zed", *experts[at:]])
    assert grown[:at] + grown[at + 1 :] == ids


# --- roles that repeat the organisation ------------------------------------------------------


def test_check_warns_when_a_role_names_the_organisation(
    make_content: Callable[[], ContentDir], capsys: pytest.CaptureFixture[str]
):
    content = make_content()
    text = edit(
        content,
        "experts/john-smith.yaml",
        "en: Climate scientist",
        "en: Climate scientist at the University of Somewhere",
    )

    result = load(content)
    code = main(["check", str(content)])

    assert result.errors == []
    [warning] = result.warnings
    assert (warning.path, warning.line) == (
        "experts/john-smith.yaml",
        line_of(text, "en: Climate scientist"),
    )
    assert "'University of Somewhere'" in warning.message
    out = capsys.readouterr().out
    assert code == 0
    assert f"experts/john-smith.yaml:{warning.line}: warning: 'role' (en)" in out
    assert "OK (1 warning)" in out


def test_the_sample_roles_do_not_repeat_organisations(capsys: pytest.CaptureFixture[str]):
    from ._support import SAMPLE

    result = load_content(SAMPLE)

    assert result.warnings == []
    assert result.catalogue is not None
    for expert in result.catalogue.experts.values():
        for role in expert.role.values():
            assert expert.organisation.casefold() not in role.casefold()
