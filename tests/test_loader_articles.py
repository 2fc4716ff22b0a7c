"""The loader's rules for article files, each reported as `path:line: message`."""

from __future__ import annotations

import re

import pytest

from tests._loading import (
    FIXTURE_ARTICLES,
    GOOD,
    NEW,
    article_paths,
    assert_fixture_articles_load,
    edit,
    errors_for,
    line_of,
    load,
    only_error,
)

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
    assert result.catalogue is not None
    article = next(a for a in result.catalogue.articles if a.path == NEW)
    assert article.study is not None and article.study.doi == "10.1038/x1"


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
