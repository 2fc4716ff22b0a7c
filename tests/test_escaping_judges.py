"""The independent judges on feeds whose every text field holds hostile text at once: the W3C
Feed Validation Service (RSS and Atom), RFC 4287's schema with its Schematron rules, and the
JSON Feed 1.1 checker. A bounded sample (the W3C validator takes seconds per feed); the
property in test_escaping.py covers the space with the faster judges.

No judge may find an error. Text that looks like markup in a plain-text field draws the
judges' "looks like HTML" warnings (as it draws ``check``'s): the text is escaped, but a judge
cannot know the editor meant the characters; those warnings, and only those, are allowed for
the samples holding markup."""

from __future__ import annotations

from pathlib import Path

import pytest

from smcfeed import Smcfeed, load_content

from ._support import NOW
from .test_escaping import FIELDS, write_values
from .test_validators import _judge

#: The judges' warnings about plain text that looks like HTML (W3C, JSON Feed checker).
LOOKS_LIKE_HTML = {"ContainsHTML", "ContainsUndeclaredHTML", "HtmlInPlainText"}

pytestmark = pytest.mark.e2e

#: Text a feed must carry intact: markup, script URLs, CDATA ends, entities, bidi overrides,
#: zero-width characters, astral emoji, other scripts.
SAMPLES = [
    # No markup: no judge may warn at all.
    "\u202eRTL override\u202c, zero\u200bwidth\u2060joiner\ufeff, 👩🏽‍🔬 𝕏 🇪🇸, العربية 日本語",
    "]]> & <5 years, >3 months; a \"quote\", 'another'; javascript:alert(1) data:text/html,x",
    # Markup: only "looks like HTML" warnings.
    "<iframe src=javascript:alert(1)></iframe> <b onclick=alert(1)>x</b> <5 years & more",
    "]]> <![CDATA[x]]> &amp; &lt;script&gt; <a href='data:text/html,x'>d</a>",
]
MARKUP = {2, 3}
PATHS = {
    "rss": ["/en/rss.xml", "/en/experts/ana-garcia/rss.xml"],
    "atom": ["/en/atom.xml", "/en/topics/climate/atom.xml"],
    "json": ["/en/feed.json", "/en/types/reaction/feed.json"],
}


@pytest.fixture(scope="module", params=range(len(SAMPLES)), ids=lambda i: f"sample{i}")
def sample(request: pytest.FixtureRequest) -> int:
    return int(request.param)


@pytest.fixture(scope="module")
def service(sample: int, tmp_path_factory: pytest.TempPathFactory) -> Smcfeed:
    text = SAMPLES[sample]
    root = tmp_path_factory.mktemp("hostile") / "content"
    plain = {name: f"{text} ({name})" for name, spec in FIELDS.items() if not spec.markdown}
    write_values(root, {**plain, "quote": text, "body": text})
    result = load_content(root)
    assert not result.errors, result.errors
    assert result.catalogue is not None
    return Smcfeed(result.catalogue)


def judge(sample: int, tool: str, *args: str) -> None:
    """No error; no warning, unless the sample holds markup and the warning says so."""
    try:
        _judge(tool, *args)
    except AssertionError as e:
        report = str(e)
        lines = [line for line in report.splitlines() if line.startswith(("error ", "warning "))]
        assert lines and sample in MARKUP, report
        for line in lines:
            level, kind = line.split()[:2]
            assert level == "warning" and kind in LOOKS_LIKE_HTML, report


def _write(service: Smcfeed, tmp_path: Path, path: str) -> Path:
    out = tmp_path / path.strip("/").replace("/", "-")
    out.write_bytes(service.get(path, "", NOW).body)
    return out


@pytest.mark.parametrize("path", PATHS["rss"] + PATHS["atom"])
def test_w3c_feed_validator(service: Smcfeed, sample: int, tmp_path: Path, path: str) -> None:
    media = "application/rss+xml" if path.endswith("rss.xml") else "application/atom+xml"
    url = f"{service.site.root}{path}"
    feed = str(_write(service, tmp_path, path))
    judge(sample, "feedvalidate", "--base", url, "--content-type", media, feed)


@pytest.mark.parametrize("path", PATHS["atom"])
def test_atom_schema_and_schematron(
    service: Smcfeed, sample: int, tmp_path: Path, path: str
) -> None:
    judge(sample, "atomvalidate", str(_write(service, tmp_path, path)))


@pytest.mark.parametrize("path", PATHS["json"])
def test_json_feed_checker(service: Smcfeed, sample: int, tmp_path: Path, path: str) -> None:
    judge(sample, "jsonfeedvalidate", str(_write(service, tmp_path, path)))
