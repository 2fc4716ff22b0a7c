"""The content loader: a valid folder loads; every rule reports `path:line: message` in one pass."""

from __future__ import annotations

import os
import re
import shutil
import textwrap
from pathlib import Path
from typing import Any

import pytest

from smcfeed._content.loader import LoadResult, load_content
from smcfeed._content.parse import MAX_FILE_BYTES
from smcfeed.exceptions import ContentError

#: The articles make_content writes; every test that breaks something else checks they load.
FIXTURE_ARTICLES = {
    "articles/2023/mars-samples.es.md",
    "articles/2024/heat-deaths.en.md",
    "articles/2024/heat-deaths.es.md",
    "articles/2025/screens-sleep.en.md",
}
#: A valid article to add, then break, in tests.
NEW = "articles/2025/new-guide.en.md"
GOOD = textwrap.dedent(
    """\
    ---
    type: guide
    title: A guide to preprints
    published: 2025-02-01T10:00:00+01:00
    topics: [space]
    summary: How to report on preprints.
    ---
    Body text.
    """
)
FORBIDDEN = ("Traceback", "pydantic", "ValidationError", "errors.pydantic.dev")


def load(root: Path | str) -> LoadResult:
    """Load ``root`` and check every error is one editor-friendly line."""
    result = load_content(root)
    for error in result.errors:
        text = str(error)
        where = f"{error.path}:{error.line}" if error.line else error.path
        assert text == f"{where}: {error.message}"
        assert "\n" not in text
        assert not any(word in text for word in FORBIDDEN), text
        if not os.path.isabs(error.path):
            assert "\\" not in error.path and not error.path.startswith("./")
    return result


def errors_for(result: LoadResult, path: str) -> list[ContentError]:
    return [e for e in result.errors if e.path == path]


def only_error(result: LoadResult) -> ContentError:
    assert len(result.errors) == 1, [str(e) for e in result.errors]
    return result.errors[0]


def line_of(text: str, needle: str, start: int = 0) -> int:
    """1-based number of the first line from index ``start`` that contains ``needle``."""
    lines = text.splitlines()
    return next(i for i, line in enumerate(lines) if i >= start and needle in line) + 1


def edit(content: Path, relative: str, old: str, new: str) -> str:
    """Replace ``old`` (which must be there) by ``new`` in one file; return the new text."""
    path = content / relative
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {relative}"
    text = text.replace(old, new, 1)
    path.write_text(text, encoding="utf-8")
    return text


def article_paths(result: LoadResult) -> set[str]:
    assert result.catalogue is not None
    return {a.path for a in result.catalogue.articles}


def assert_fixture_articles_load(result: LoadResult) -> None:
    assert article_paths(result) == FIXTURE_ARTICLES


# --- the valid folder -------------------------------------------------------------------------


def test_valid_folder_loads_without_errors(make_content):
    result = load(make_content())

    assert result.errors == []
    assert result.ok
    catalogue = result.catalogue
    assert catalogue.site.languages == ["es", "en"]
    assert catalogue.site.feed_size == 2
    assert catalogue.site.age_label_after_days == 365
    assert set(catalogue.topics) == {"climate", "public-health", "space"}
    assert catalogue.topics["public-health"] == {"es": "Salud pública", "en": "Public health"}
    assert set(catalogue.experts) == {"ana-garcia", "john-smith", "lucia-perez"}
    assert article_paths(result) == FIXTURE_ARTICLES

    heat = catalogue.article("es", "heat-deaths", catalogue.articles[0].published)
    assert heat.type == "reaction"
    assert heat.topics == ("climate", "public-health")
    assert heat.study is not None and heat.study.doi == "10.5555/test.2024.0710"
    assert heat.expert_ids == ("ana-garcia", "john-smith")
    content = catalogue.content(heat)
    assert [r.conflicts for r in content.reactions] == ["none", "not_responded"]
    assert content.reactions[0].expert.name == "Ana García"
    assert "<h3>" in content.reactions[0].quote_html
    assert "<strong>calor</strong>" in content.body_html
    mars = next(a for a in catalogue.articles if a.slug == "mars-samples")
    mars_reactions = catalogue.content(mars).reactions
    assert mars_reactions[0].conflicts == "Ha asesorado a la agencia espacial en otro proyecto."
    assert mars_reactions[0].via == "SMC Demo Francia"


def test_a_new_valid_article_loads(make_content):
    content = make_content()
    content.write(NEW, GOOD)

    result = load(content)

    assert result.errors == []
    assert article_paths(result) == {*FIXTURE_ARTICLES, NEW}


def test_content_folder_given_as_a_relative_string(make_content, monkeypatch):
    content = make_content()
    monkeypatch.chdir(content.parent)
    content.write(NEW, GOOD.replace("type: guide", "type: nonsense"))

    result = load(content.name)

    assert only_error(result).path == NEW


# --- reading files ----------------------------------------------------------------------------


def test_dangling_link_is_reported(make_content):
    content = make_content()
    (content / NEW).symlink_to("missing.en.md")

    result = load(content)

    error = only_error(result)
    assert (error.path, error.line) == (NEW, None)
    assert "not a regular file" in error.message
    assert_fixture_articles_load(result)


def test_folder_named_like_an_article_is_reported(make_content):
    content = make_content()
    (content / NEW).mkdir()

    result = load(content)

    error = only_error(result)
    assert (error.path, error.line) == (NEW, None)
    assert "not a regular file" in error.message
    assert_fixture_articles_load(result)


def test_non_utf8_file(make_content):
    content = make_content()
    content.write(NEW, GOOD.replace("preprints", "caf\xe9").encode("latin-1"))

    result = load(content)

    error = only_error(result)
    assert (error.path, error.line) == (NEW, line_of(GOOD, "title:"))
    assert "not UTF-8" in error.message
    assert_fixture_articles_load(result)


def test_binary_file(make_content):
    content = make_content()
    content.write(NEW, GOOD.replace("Body text.", "Body\x00\x01\x02").encode())

    result = load(content)

    error = only_error(result)
    assert (error.path, error.line) == (NEW, line_of(GOOD, "Body text."))
    assert "binary" in error.message
    assert_fixture_articles_load(result)


def test_file_over_the_size_limit(make_content):
    content = make_content()
    padding = "x" * (MAX_FILE_BYTES + 1 - len(GOOD.encode()))
    content.write(NEW, GOOD + padding)
    assert (content / NEW).stat().st_size == MAX_FILE_BYTES + 1

    result = load(content)

    error = only_error(result)
    assert (error.path, error.line) == (NEW, None)
    assert "too large" in error.message and "2 MB" in error.message
    assert_fixture_articles_load(result)


def test_link_to_a_file_outside_the_folder(make_content, tmp_path):
    content = make_content()
    outside = tmp_path / "outside.en.md"
    outside.write_text(GOOD, encoding="utf-8")
    (content / NEW).symlink_to(outside)

    result = load(content)

    error = only_error(result)
    assert (error.path, error.line) == (NEW, None)
    assert "outside the content folder" in error.message
    assert_fixture_articles_load(result)


def test_linked_folder_outside_the_content_folder(make_content, tmp_path):
    content = make_content()
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (outside / "intruder.yaml").write_text(
        "name: Intruder\nrole: {es: X, en: X}\norganisation: Nowhere\n", encoding="utf-8"
    )
    shutil.rmtree(content / "experts")
    (content / "experts").symlink_to(outside, target_is_directory=True)

    result = load(content)

    error = errors_for(result, "experts/intruder.yaml")
    assert len(error) == 1 and error[0].line is None
    assert "outside the content folder" in error[0].message
    assert result.catalogue is not None and "intruder" not in result.catalogue.experts


def test_link_inside_the_folder_is_followed(make_content):
    content = make_content()
    content.write("drafts/guide.md", GOOD)
    (content / NEW).symlink_to("../../drafts/guide.md")

    result = load(content)

    assert result.errors == []
    assert NEW in article_paths(result)


# --- front matter ------------------------------------------------------------------------------


def test_missing_front_matter(make_content):
    content = make_content()
    content.write(NEW, GOOD.removeprefix("---\n"))
    content.write("articles/2025/no-fields.en.md", "Just a body.\n")

    result = load(content)

    assert {(e.path, e.line) for e in result.errors} == {
        (NEW, 1),
        ("articles/2025/no-fields.en.md", 1),
    }
    assert all("no front matter" in e.message for e in result.errors)
    assert_fixture_articles_load(result)


def test_front_matter_not_closed(make_content):
    content = make_content()
    content.write(NEW, GOOD.replace("---\nBody", "Body"))

    result = load(content)

    error = only_error(result)
    assert (error.path, error.line) == (NEW, 1)
    assert "not closed" in error.message
    assert_fixture_articles_load(result)


def test_bad_yaml_reports_the_line_in_the_file(make_content):
    content = make_content()
    text = GOOD.replace("summary: How to", "summary: Note: how to")
    content.write(NEW, text)

    result = load(content)

    error = only_error(result)
    # The line counts the opening '---' line: it is the summary's line in the file.
    assert (error.path, error.line) == (NEW, line_of(text, "summary:"))
    assert error.line == 6
    assert "YAML error" in error.message and "quotes" in error.message
    assert_fixture_articles_load(result)


def test_key_written_twice(make_content):
    content = make_content()
    text = GOOD.replace("summary:", "title: Another title\nsummary:")
    content.write(NEW, text)

    result = load(content)

    error = only_error(result)
    assert (error.path, error.line) == (NEW, line_of(text, "title: Another"))
    assert "'title' is written twice" in error.message


def test_recursive_yaml_alias_is_an_error_not_a_crash(make_content):
    content = make_content()
    text = GOOD.replace("topics: [space]", "topics: &loop [space, *loop]")
    content.write(NEW, text)

    result = load(content)

    error = only_error(result)
    assert (error.path, error.line) == (NEW, line_of(text, "topics:"))
    assert "'topics[2]' should be text" in error.message
    assert_fixture_articles_load(result)


def test_front_matter_that_is_not_fields(make_content):
    content = make_content()
    content.write(NEW, "---\n- a list\n---\nBody\n")

    result = load(content)

    error = only_error(result)
    assert (error.path, error.line) == (NEW, 1)
    assert "should hold fields" in error.message


def test_unknown_key_suggests_the_right_one(make_content):
    content = make_content()
    text = GOOD.replace("summary:", "sumary:")
    content.write(NEW, text)

    result = load(content)

    unknown = [e for e in result.errors if "unknown field" in e.message]
    assert len(unknown) == 1
    assert (unknown[0].path, unknown[0].line) == (NEW, line_of(text, "sumary:"))
    assert "'sumary'" in unknown[0].message and "did you mean 'summary'" in unknown[0].message
    assert any("'summary' is missing" in e.message for e in errors_for(result, NEW))
    assert_fixture_articles_load(result)


def test_unknown_key_inside_a_reaction(make_content):
    content = make_content()
    text = edit(content, "articles/2024/heat-deaths.en.md", "    quote: The work", "    qoute: The")

    result = load(content)

    unknown = [e for e in result.errors if "unknown field" in e.message]
    assert len(unknown) == 1
    assert unknown[0].path == "articles/2024/heat-deaths.en.md"
    assert unknown[0].line == line_of(text, "qoute:")
    assert "'reactions[2].qoute'" in unknown[0].message
    assert "did you mean 'quote'" in unknown[0].message
    assert article_paths(result) == FIXTURE_ARTICLES - {"articles/2024/heat-deaths.en.md"}


def test_unknown_key_inside_the_study(make_content):
    content = make_content()
    text = edit(content, "articles/2024/heat-deaths.es.md", "  journal:", "  jornal:")

    result = load(content)

    error = only_error(result)
    assert error.line == line_of(text, "jornal:")
    assert "'study.jornal'" in error.message and "did you mean 'journal'" in error.message


@pytest.mark.parametrize("field", ["type", "title", "published", "topics", "summary"])
def test_missing_required_field(make_content, field):
    content = make_content()
    text = re.sub(rf"^{field}:.*\n", "", GOOD, flags=re.MULTILINE)
    assert text != GOOD
    content.write(NEW, text)

    result = load(content)

    error = only_error(result)
    assert error.path == NEW
    # No line holds a missing field: the error points at the start of the fields.
    assert error.line == 2
    assert f"'{field}' is missing" in error.message
    assert_fixture_articles_load(result)


def test_missing_field_in_a_reaction_points_at_the_reaction(make_content):
    content = make_content()
    text = edit(content, "articles/2024/heat-deaths.en.md", "    conflicts: not_responded\n", "")

    result = load(content)

    error = only_error(result)
    assert error.line == line_of(text, "- expert: john-smith")
    assert "'reactions[2].conflicts' is missing" in error.message


def test_naive_datetime(make_content):
    content = make_content()
    text = GOOD.replace("10:00:00+01:00", "10:00:00")
    content.write(NEW, text)

    result = load(content)

    error = only_error(result)
    assert (error.path, error.line) == (NEW, line_of(text, "published:"))
    assert "'published' has no timezone" in error.message
    assert "2025-02-01T10:00:00" in error.message
    assert_fixture_articles_load(result)


def test_unparseable_datetime(make_content):
    content = make_content()
    text = GOOD.replace("2025-02-01T10:00:00+01:00", "last tuesday").replace(
        "summary:",
        # A number must not be read as seconds since 1970.
        "updated: 2025\nstudy:\n  title: A paper\n  published: 2025-13-01T10:00:00+01:00\nsummary:",
    )
    content.write(NEW, text)

    result = load(content)

    assert [(e.path, e.line) for e in result.errors] == [
        (NEW, line_of(text, "published: last")),
        (NEW, line_of(text, "updated:")),
        (NEW, line_of(text, "  published:")),
    ]
    fields = ["'published'", "'updated'", "'study.published'"]
    for error, field in zip(result.errors, fields, strict=True):
        assert error.message.startswith(field) and "not a date and time" in error.message
    assert_fixture_articles_load(result)


def test_unknown_topic(make_content):
    content = make_content()
    text = GOOD.replace("topics: [space]", "topics:\n  - space\n  - climat")
    content.write(NEW, text)

    result = load(content)

    error = only_error(result)
    assert (error.path, error.line) == (NEW, line_of(text, "- climat"))
    assert "unknown topic 'climat'" in error.message
    assert "did you mean 'climate'" in error.message
    assert_fixture_articles_load(result)


def test_unknown_type(make_content):
    content = make_content()
    text = GOOD.replace("type: guide", "type: explainer")
    content.write(NEW, text)

    result = load(content)

    error = only_error(result)
    assert (error.path, error.line) == (NEW, line_of(text, "type:"))
    assert "unknown type 'explainer'" in error.message and "what-we-know" in error.message
    assert_fixture_articles_load(result)


def test_unknown_expert(make_content):
    content = make_content()
    text = GOOD.replace(
        "---\nBody",
        "reactions:\n  - expert: ana-garcia\n    conflicts: none\n    quote: Fine.\n"
        "  - expert: nobody-known\n    conflicts: none\n    quote: Hello.\n---\nBody",
    )
    content.write(NEW, text)

    result = load(content)

    error = only_error(result)
    assert (error.path, error.line) == (NEW, line_of(text, "nobody-known"))
    assert "unknown expert 'nobody-known'" in error.message
    assert_fixture_articles_load(result)


def test_same_slug_and_language_in_two_year_folders(make_content):
    content = make_content()
    content.write("articles/2026/screens-sleep.en.md", GOOD.replace("2025-", "2026-"))

    result = load(content)

    error = only_error(result)
    assert (error.path, error.line) == ("articles/2026/screens-sleep.en.md", None)
    assert "same slug and language" in error.message
    assert "articles/2025/screens-sleep.en.md" in error.message
    assert_fixture_articles_load(result)


def test_translations_of_different_types(make_content):
    content = make_content()
    edit(content, "articles/2024/heat-deaths.en.md", "type: reaction", "type: briefing")

    result = load(content)

    error = only_error(result)
    assert error.path == "articles/2024/heat-deaths.es.md"
    assert "translation of articles/2024/heat-deaths.en.md" in error.message
    assert "same type" in error.message
    assert article_paths(result) == FIXTURE_ARTICLES - {"articles/2024/heat-deaths.es.md"}


def test_updated_before_published(make_content):
    content = make_content()
    text = GOOD.replace("summary:", "updated: 2025-02-01T09:59:59+01:00\nsummary:")
    content.write(NEW, text)

    result = load(content)

    error = only_error(result)
    assert (error.path, error.line) == (NEW, line_of(text, "updated:"))
    assert "'updated' is before 'published'" in error.message
    assert_fixture_articles_load(result)


def test_updated_at_published_time_in_another_offset_is_fine(make_content):
    content = make_content()
    content.write(NEW, GOOD.replace("summary:", "updated: 2025-02-01T09:00:00Z\nsummary:"))

    assert load(content).errors == []


def test_relative_url(make_content):
    content = make_content()
    text = GOOD.replace(
        "summary:",
        "source_url: /es/guide\nimage: {url: img/a.png, alt: A picture}\n"
        "study:\n  title: A paper\n  url: ftp://example.org/1\nsummary:",
    )
    content.write(NEW, text)
    other = GOOD.replace("summary:", "study:\n  title: A paper\n  url: /papers/1\nsummary:")
    content.write("articles/2025/other.en.md", other)

    result = load(content)

    found = [(e.path, e.line, e.message.split(":")[0]) for e in result.errors]
    assert sorted(found) == [
        ("articles/2025/new-guide.en.md", line_of(text, "source_url:"), "'source_url'"),
        ("articles/2025/new-guide.en.md", line_of(text, "image:"), "'image.url'"),
        ("articles/2025/new-guide.en.md", line_of(text, "url: ftp"), "'study.url'"),
        ("articles/2025/other.en.md", line_of(other, "url: /papers"), "'study.url'"),
    ]
    assert all("not an absolute http(s) URL" in e.message for e in result.errors)
    assert_fixture_articles_load(result)


@pytest.mark.parametrize("doi", ["10.12/abc", "doi.org/10.1038/x"])
def test_malformed_doi(make_content, doi):
    content = make_content()
    text = GOOD.replace("summary:", f"study:\n  title: A paper\n  doi: '{doi}'\nsummary:")
    content.write(NEW, text)

    result = load(content)

    error = only_error(result)
    assert (error.path, error.line) == (NEW, line_of(text, "doi:"))
    assert "'study.doi'" in error.message and "is not a DOI" in error.message
    assert_fixture_articles_load(result)


def test_doi_with_resolver_prefix_is_accepted(make_content):
    content = make_content()
    text = GOOD.replace(
        "summary:", "study:\n  title: A paper\n  doi: https://doi.org/10.1038/x1\nsummary:"
    )
    content.write(NEW, text)

    result = load(content)

    assert result.errors == []
    article = next(a for a in result.catalogue.articles if a.path == NEW)
    assert article.study.doi == "10.1038/x1"


def test_language_not_in_site_yaml(make_content):
    content = make_content()
    content.write("articles/2025/new-guide.fr.md", GOOD)

    result = load(content)

    error = only_error(result)
    # The language comes from the file name, so no line is named.
    assert (error.path, error.line) == ("articles/2025/new-guide.fr.md", None)
    assert "language 'fr'" in error.message
    assert_fixture_articles_load(result)


def test_empty_quote(make_content):
    content = make_content()
    reaction = "  - expert: ana-garcia\n    conflicts: none\n    quote: {}\n"
    quotes = ["''", "'   '", "|\n      \n"]
    text = GOOD.replace(
        "---\nBody", "reactions:\n" + "".join(reaction.format(q) for q in quotes) + "---\nBody"
    )
    content.write(NEW, text)

    result = load(content)

    quote_lines = [n for n, line in enumerate(text.splitlines(), 1) if "quote:" in line]
    assert [(e.path, e.line) for e in result.errors] == [(NEW, n) for n in quote_lines]
    for number, error in enumerate(result.errors, 1):
        assert f"'reactions[{number}].quote'" in error.message
        assert "must not be empty" in error.message
    assert_fixture_articles_load(result)


@pytest.mark.parametrize(("value", "phrase"), [("'  '", "must not be empty"), ("", "is empty")])
def test_empty_conflicts(make_content, value, phrase):
    content = make_content()
    text = GOOD.replace(
        "---\nBody",
        f"reactions:\n  - expert: ana-garcia\n    conflicts: {value}\n    quote: Hi.\n---\nBody",
    )
    content.write(NEW, text)

    result = load(content)

    error = only_error(result)
    assert (error.path, error.line) == (NEW, line_of(text, "conflicts:"))
    assert "'reactions[1].conflicts'" in error.message and phrase in error.message


def test_file_in_the_wrong_place(make_content):
    content = make_content()
    misplaced = [
        "articles/new-guide.en.md",
        "articles/2025/extra/new-guide.en.md",
        "articles/25/new-guide.en.md",
        "articles/2025/New_Guide.en.md",
        "articles/2025/new-guide.md",
        "articles/2025/notes.txt",
    ]
    for relative in misplaced:
        content.write(relative, GOOD)
    content.write("new-guide.en.md", GOOD)  # outside articles/: not looked at

    result = load(content)

    assert sorted((e.path, e.line) for e in result.errors) == sorted(
        (relative, None) for relative in misplaced
    )
    assert all("articles/<year>/<slug>.<lang>.md" in e.message for e in result.errors)
    assert_fixture_articles_load(result)


def test_year_folder_must_match_published(make_content):
    content = make_content()
    content.write("articles/2024/new-guide.en.md", GOOD)

    result = load(content)

    error = only_error(result)
    assert (error.path, error.line) == ("articles/2024/new-guide.en.md", line_of(GOOD, "published"))
    assert "folder 2024" in error.message and "articles/2025/" in error.message
    assert_fixture_articles_load(result)


def test_hidden_files_are_ignored(make_content):
    content = make_content()
    content.write("articles/2025/.new-guide.en.md.swp", b"\x00\x01")
    content.write("articles/.drafts/x.en.md", "not an article")
    content.write("experts/.DS_Store", b"\x00")

    assert load(content).errors == []


# --- site.yaml --------------------------------------------------------------------------------


def test_missing_site_yaml(make_content):
    content = make_content()
    content.remove("site.yaml")
    content.write(NEW, GOOD.replace("topics: [space]", "topics: [nope]"))

    result = load(content)

    assert result.catalogue is None
    assert not result.ok
    site = errors_for(result, "site.yaml")
    assert len(site) == 1 and site[0].line is None and "is missing" in site[0].message
    # The rest of the folder is still checked in the same pass.
    assert [e.line for e in errors_for(result, NEW)] == [line_of(GOOD, "topics:")]


@pytest.mark.parametrize(
    ("old", "new", "line_text", "phrase"),
    [
        ("languages: [es, en]", "languages: [es, en", "default_language", "YAML error"),
        ("feed_size: 2", "feed_sise: 2", "feed_sise", "did you mean 'feed_size'"),
        ("default_language: es", "default_language: fr", "default_language", "'fr' is not in"),
        (
            "base_url: https://feeds.example.org",
            "base_url: feeds.example.org",
            "base_url",
            "absolute",
        ),
        ("Europe/Madrid", "Europe/Madird", "timezone", "not a timezone"),
        ("  en: Test centre\n", "", "title:", "'title': has no text for en"),
        ("    en: Published by", "    fr: Published by", "license:", "attribution has no text"),
        ('    en: "Source:', '    fr: "Source:', "license:", "credit has no text for en"),
        ("guide: {es: Guías, en: Guides}", "guide: {es: Guías}", "types:", "'guide' has no"),
    ],
)
def test_broken_site_yaml(make_content, old, new, line_text, phrase):
    content = make_content()
    text = edit(content, "site.yaml", old, new)

    result = load(content)

    error = only_error(result)
    assert (error.path, error.line) == ("site.yaml", line_of(text, line_text))
    assert phrase in error.message
    assert result.catalogue is None


def test_several_errors_in_site_yaml_are_each_reported(make_content):
    content = make_content()
    edit(content, "site.yaml", "Europe/Madrid", "'../etc/passwd'")
    edit(content, "site.yaml", "languages: [es, en]", "languages: [es, EN]")
    edit(content, "site.yaml", "  reaction: {", "  Reaction: {")
    edit(content, "site.yaml", "feed_size: 2", "feed_size: lots\nage_label_after_days: 0")
    text = edit(content, "site.yaml", "types:", "websub_hubs: [/hub]\ntypes:")

    result = load(content)

    expected = {
        "timezone:": "is not a timezone name",
        "languages:": "'languages[2]': 'EN' is not a language code",
        "Reaction:": "'Reaction' is not a slug",
        "feed_size:": "'feed_size': input should be a valid integer",
        "age_label_after_days:": "'age_label_after_days': input should be greater than or equal",
        "websub_hubs:": "'websub_hubs[1]': '/hub' is not an absolute",
    }
    assert {e.path for e in result.errors} == {"site.yaml"}
    assert sorted(e.line for e in result.errors) == sorted(line_of(text, k) for k in expected)
    for error in result.errors:
        key = next(k for k in expected if line_of(text, k) == error.line)
        assert expected[key] in error.message


def test_site_yaml_that_is_not_fields(make_content):
    content = make_content()
    content.write("site.yaml", "just a sentence\n")

    error = only_error(load(content))

    assert (error.path, error.line) == ("site.yaml", 1)
    assert "should hold fields" in error.message


# --- topics.yaml ------------------------------------------------------------------------------


def test_missing_topics_yaml(make_content):
    content = make_content()
    content.remove("topics.yaml")

    result = load(content)

    error = errors_for(result, "topics.yaml")
    assert len(error) == 1 and error[0].line is None and "is missing" in error[0].message
    assert result.catalogue is None


@pytest.mark.parametrize(
    ("text", "line", "phrase"),
    [
        ("climate:\n  es: Clima\n en: Climate\n", 3, "YAML error"),
        ("- climate\n- space\n", 1, "should list topics"),
        ("", 1, "should list topics"),
        ("climate:\n  es: Clima\n  en: Climate\nClimate Change:\n  es: x\n  en: y\n", 4, "slug"),
        ("climate: Climate\n", 1, "label per language"),
        ("climate:\n  es: Clima\n  en: ''\n", 1, "label per language"),
    ],
)
def test_broken_topics_yaml(make_content, text, line, phrase):
    content = make_content()
    content.write("topics.yaml", text)

    result = load(content)

    errors = errors_for(result, "topics.yaml")
    assert len(errors) == 1
    assert errors[0].line == line
    assert phrase in errors[0].message


def test_topic_missing_a_language_label(make_content):
    content = make_content()
    text = edit(content, "topics.yaml", "  en: Space\n", "")

    result = load(content)

    errors = errors_for(result, "topics.yaml")
    assert len(errors) == 1
    assert errors[0].line == line_of(text, "space:")
    assert "topic 'space' has no label for en" in errors[0].message
    # The other topics load; the article that uses 'space' is refused.
    assert set(result.catalogue.topics) == {"climate", "public-health"}
    assert article_paths(result) == FIXTURE_ARTICLES - {"articles/2023/mars-samples.es.md"}


def test_topic_label_in_an_unknown_language(make_content):
    content = make_content()
    text = edit(content, "topics.yaml", "  en: Space\n", "  en: Space\n  fr: Espace\n")

    errors = errors_for(load(content), "topics.yaml")

    assert [(e.line, "unknown language fr" in e.message) for e in errors] == [
        (line_of(text, "space:"), True)
    ]


# --- experts ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("old", "new", "line_text", "phrase"),
    [
        ("organisation:", "organization:", "organization", "did you mean 'organisation'"),
        ("  en: Astrophysicist\n", "", "role:", "'role' has no text for en"),
        ("organisation: Observatorio del Sur", "organisation: ''", "organisation", "not be empty"),
        ("name: Lucía Pérez\n", "", "role:", "'name' is missing"),
    ],
)
def test_broken_expert_file(make_content, old, new, line_text, phrase):
    content = make_content()
    text = edit(content, "experts/lucia-perez.yaml", old, new)

    result = load(content)

    errors = [e for e in errors_for(result, "experts/lucia-perez.yaml") if phrase in e.message]
    assert len(errors) == 1
    assert errors[0].line == line_of(text, line_text)
    assert set(result.catalogue.experts) == {"ana-garcia", "john-smith"}
    # The one article quoting her is refused; the others load.
    assert article_paths(result) == FIXTURE_ARTICLES - {"articles/2023/mars-samples.es.md"}


@pytest.mark.parametrize("orcid", ["1234", "0000-0002-1825-00977", "https://orcid.org/x"])
def test_bad_orcid(make_content, orcid):
    content = make_content()
    text = edit(content, "experts/ana-garcia.yaml", "0000-0002-1825-0097", f"'{orcid}'")

    result = load(content)

    errors = errors_for(result, "experts/ana-garcia.yaml")
    assert len(errors) == 1
    assert errors[0].line == line_of(text, "orcid:")
    assert "'orcid'" in errors[0].message and "ORCID" in errors[0].message
    assert set(result.catalogue.experts) == {"john-smith", "lucia-perez"}


@pytest.mark.parametrize("name", ["notes.txt", "Ana_Garcia.yaml"])
def test_badly_named_expert_file(make_content, name):
    content = make_content()
    content.write(f"experts/{name}", "name: X\n")

    error = only_error(load(content))

    assert (error.path, error.line) == (f"experts/{name}", None)
    assert "expert" in error.message


def test_missing_experts_folder(make_content):
    content = make_content()
    shutil.rmtree(content / "experts")

    result = load(content)

    error = errors_for(result, "experts")
    assert len(error) == 1 and error[0].line is None and "is missing" in error[0].message
    # Articles without reactions still load.
    assert article_paths(result) == {"articles/2025/screens-sleep.en.md"}


def test_missing_articles_folder(make_content):
    content = make_content()
    shutil.rmtree(content / "articles")

    result = load(content)

    error = only_error(result)
    assert (error.path, error.line) == ("articles", None)
    assert "is missing" in error.message
    assert result.catalogue is not None and len(result.catalogue) == 0


# --- the folder itself ------------------------------------------------------------------------


def test_empty_folder(tmp_path):
    result = load(tmp_path)

    assert result.catalogue is None
    assert {(e.path, e.line) for e in result.errors} == {
        ("site.yaml", None),
        ("topics.yaml", None),
        ("experts", None),
        ("articles", None),
    }
    assert all("is missing" in e.message for e in result.errors)


def test_path_is_a_file(tmp_path):
    path = tmp_path / "content.zip"
    path.write_bytes(b"PK")

    result = load(path)

    error = only_error(result)
    assert (error.path, error.line) == (str(path), None)
    assert "is a file, not a content folder" in error.message
    assert result.catalogue is None


def test_path_does_not_exist(tmp_path):
    path = tmp_path / "nowhere"

    result = load(path)

    error = only_error(result)
    assert (error.path, error.line) == (str(path), None)
    assert "no such folder" in error.message
    assert result.catalogue is None


# --- one pass -----------------------------------------------------------------------------------


def test_errors_in_several_files_are_all_reported_in_one_pass(make_content):
    content = make_content()
    article = GOOD.replace("summary:", "sumary:")
    content.write(NEW, article)
    expert = edit(content, "experts/john-smith.yaml", "organisation:", "organization:")
    topics = edit(content, "topics.yaml", "  es: Clima\n", "")

    result = load(content)

    found = {(e.path, e.line) for e in result.errors}
    assert (NEW, line_of(article, "sumary:")) in found
    assert ("experts/john-smith.yaml", line_of(expert, "organization:")) in found
    assert ("topics.yaml", line_of(topics, "climate:")) in found
    # The article, the expert and the topic are out; everything else still loads.
    catalogue = result.catalogue
    assert set(catalogue.experts) == {"ana-garcia", "lucia-perez"}
    assert set(catalogue.topics) == {"public-health", "space"}
    assert article_paths(result) == {
        "articles/2023/mars-samples.es.md",
        "articles/2025/screens-sleep.en.md",
    }


def rel_of(path: Path, root: Path) -> str:
    return path.relative_to(root).as_posix()


def _summary(result: LoadResult) -> tuple[list[str], list[str]]:
    assert result.catalogue is not None
    return [a.path + a.title for a in result.catalogue.articles], [str(e) for e in result.errors]


def test_a_reload_of_changed_files_equals_a_full_load(make_content: Any) -> None:
    from smcfeed._content.loader import ParseCache

    content = make_content()
    cache = ParseCache()
    first = load_content(content, cache=cache)
    article = next(iter(sorted((content / "articles").rglob("*.en.md"))))
    article.write_text(article.read_text().replace("title:", "title: Edited", 1))
    broken = content.write("articles/2024/broken.es.md", "---\ntype: reaction\n---\n")
    again = load_content(content, cache=cache, changed=[article, broken], previous=first.catalogue)
    assert _summary(again) == _summary(load_content(content))
    assert any("Edited" in title for title in _summary(again)[0])
    broken.unlink()
    third = load_content(content, cache=cache, changed=[broken], previous=again.catalogue)
    assert _summary(third) == _summary(load_content(content))
    assert third.ok
    # Verdicts that depend on other files: a duplicate, then a translation of another type.
    slug, lang = article.name.split(".")[:2]
    in_2019 = re.sub(r"published: \d{4}", "published: 2019", article.read_text())
    twin = content.write(f"articles/2019/{slug}.{lang}.md", in_2019)
    fourth = load_content(content, cache=cache, changed=[twin], previous=third.catalogue)
    assert _summary(fourth) == _summary(load_content(content))
    assert any("the same slug and language" in e for e in _summary(fourth)[1])
    twin.unlink()
    other = "es" if lang == "en" else "en"
    typed = content.write(
        f"articles/2019/{slug}.{other}.md",
        in_2019.replace("type: reaction", "type: guide"),
    )
    fifth = load_content(content, cache=cache, changed=[twin, typed], previous=fourth.catalogue)
    assert _summary(fifth) == _summary(load_content(content))
    assert any("translations must have the same type" in e for e in _summary(fifth)[1])
    unchanged = load_content(content, cache=cache, changed=[], previous=fifth.catalogue)
    assert unchanged.unchanged and unchanged.catalogue is fifth.catalogue
    # An accepted article deleted: it leaves every index.
    article.unlink()
    sixth = load_content(content, cache=cache, changed=[article], previous=fifth.catalogue)
    assert _summary(sixth) == _summary(load_content(content))
    assert sixth.catalogue is not None
    assert all(a.path != rel_of(article, content) for a in sixth.catalogue.articles)


def test_the_parse_cache_survives_a_restart_and_skips_unchanged_files(
    make_content: Any, tmp_path: Path
) -> None:
    from smcfeed._content.loader import ParseCache

    content = make_content()
    cache = ParseCache()
    first = load_content(content, cache=cache)
    saved = tmp_path / "cache.pickle"
    cache.save(saved)
    restored = ParseCache.load(saved)
    assert set(restored.entries) == set(cache.entries)
    kept = dict(restored.entries)
    article = next(iter(sorted((content / "articles").rglob("*.es.md"))))
    article.write_text(article.read_text() + "\nMore text.\n")
    second = load_content(content, cache=restored)
    assert _summary(second) == _summary(first)
    rel = article.relative_to(content).as_posix()
    for path, parsed in restored.entries.items():
        assert (parsed is kept[path]) == (path != rel), path
    (tmp_path / "garbage.pickle").write_bytes(b"not a pickle")
    assert ParseCache.load(tmp_path / "garbage.pickle").entries == {}


def test_many_files_are_parsed_in_worker_processes_with_the_same_result(
    make_content: Any, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    import logging

    from smcfeed._content import loader as _loader

    content = make_content()
    content.write("articles/2024/broken.es.md", "---\ntype: [unclosed\n---\n")
    serial = load_content(content)
    monkeypatch.setattr(_loader, "PARALLEL_FROM", 2)
    with caplog.at_level(logging.INFO, logger="smcfeed"):
        parallel = load_content(content)
    messages = [r.getMessage() for r in caplog.records]
    assert any(m.startswith("parsing 5 article files in") for m in messages), messages
    assert not any("worker processes failed" in m for m in messages), messages
    assert _summary(parallel) == _summary(serial)
    assert any("broken.es.md" in e for e in _summary(parallel)[1])
