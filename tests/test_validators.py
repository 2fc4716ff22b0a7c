"""The independent judges in ../shared/validators on one feed of every kind: the W3C Feed
Validation Service (RSS and Atom), RFC 4287's schema with its Schematron rules, and the JSON
Feed 1.1 checker. Each must report 0 errors and 0 warnings."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from smcfeed import FeedKey, Smcfeed, load_content, urls
from smcfeed._render.view import feed_url

from ._support import FEEDVALIDATOR_DIR, NOW, SAMPLE, need_judges

pytestmark = pytest.mark.e2e

CASES = [
    (FeedKey("es"), 1),
    (FeedKey("es"), 2),
    (FeedKey("en"), 1),
    (FeedKey("en", "topics", "climate"), 1),
    (FeedKey("es", "types", "reaction"), 1),
    (FeedKey("en", "experts", "elena-markovic"), 1),
    (FeedKey("es", "topics", "climate"), 1),
    (FeedKey("en", "topics", "artificial-intelligence"), 1),
]


def test_the_judged_feeds_hold_every_kind_of_image(service: Smcfeed) -> None:
    """The cases above judge items with a picture with and without a length (an RSS
    enclosure, or media:content only), with and without a caption, in both languages."""
    size = service.site.feed_size
    images = [
        article.image
        for key, page in CASES
        for article in service.catalogue.items(key, NOW)[(page - 1) * size : page * size]
        if article.image
    ]
    assert {(i.length is not None, i.caption is not None) for i in images} >= {
        (True, True),
        (False, True),
        (False, False),
    }


@pytest.fixture(scope="module")
def service() -> Smcfeed:
    catalogue = load_content(SAMPLE).catalogue
    assert catalogue is not None
    return Smcfeed(catalogue)


def _judge(tool: str, *args: str) -> str:
    result = subprocess.run(
        [sys.executable, str(need_judges() / tool), *args],
        env={**os.environ, "FEEDVALIDATOR_DIR": str(FEEDVALIDATOR_DIR)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip().splitlines()[-1] == "errors=0 warnings=0", result.stdout
    return result.stdout


def _write(service: Smcfeed, tmp_path: Path, key: FeedKey, page: int, fmt: str) -> Path:
    path = tmp_path / f"{key.lang}-{key.kind}-{key.value}-{page}-{urls.BY_NAME[fmt].file}"
    path.write_bytes(service.feed(key, fmt, page, NOW).body)
    return path


@pytest.mark.parametrize(("key", "page"), CASES, ids=lambda c: str(c))
@pytest.mark.parametrize("fmt", ["rss", "atom"])
def test_w3c_feed_validator(
    service: Smcfeed, tmp_path: Path, key: FeedKey, page: int, fmt: str
) -> None:
    path = _write(service, tmp_path, key, page, fmt)
    url = feed_url(service.site, key, fmt, page)
    _judge("feedvalidate", "--base", url, "--content-type", urls.BY_NAME[fmt].media_type, str(path))


@pytest.mark.parametrize(("key", "page"), CASES[:3], ids=lambda c: str(c))
def test_atom_schema_and_schematron(
    service: Smcfeed, tmp_path: Path, key: FeedKey, page: int
) -> None:
    _judge("atomvalidate", str(_write(service, tmp_path, key, page, "atom")))


@pytest.mark.parametrize(("key", "page"), CASES, ids=lambda c: str(c))
def test_json_feed_checker(service: Smcfeed, tmp_path: Path, key: FeedKey, page: int) -> None:
    _judge("jsonfeedvalidate", str(_write(service, tmp_path, key, page, "json")))
