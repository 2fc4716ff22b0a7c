"""The loader: a valid folder loads; files are read safely; every error comes in one pass."""

from __future__ import annotations

import shutil

from smcfeed._content.parse import MAX_FILE_BYTES
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

# --- the valid folder -------------------------------------------------------------------------


def test_valid_folder_loads_without_errors(make_content):
    result = load(make_content())

    assert result.errors == []
    assert result.ok
    catalogue = result.catalogue
    assert catalogue is not None
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
    assert catalogue is not None
    assert set(catalogue.experts) == {"ana-garcia", "lucia-perez"}
    assert set(catalogue.topics) == {"public-health", "space"}
    assert article_paths(result) == {
        "articles/2023/mars-samples.es.md",
        "articles/2025/screens-sleep.en.md",
    }
