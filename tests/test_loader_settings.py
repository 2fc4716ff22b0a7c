"""The loader's rules for site.yaml, topics.yaml and experts/."""

from __future__ import annotations

import shutil

import pytest

from tests._loading import (
    FIXTURE_ARTICLES,
    GOOD,
    NEW,
    article_paths,
    edit,
    errors_for,
    line_of,
    load,
    only_error,
)

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
    # Every error names its line (0, never a line number, stands for a missing one).
    assert sorted(e.line or 0 for e in result.errors) == sorted(line_of(text, k) for k in expected)
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
    assert result.catalogue is not None
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
    assert result.catalogue is not None
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
    assert result.catalogue is not None
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
