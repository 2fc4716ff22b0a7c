"""Shared helpers for the tests: the sample content, a fixed instant, the external judges."""

from __future__ import annotations

import os
import shutil
from datetime import UTC, datetime
from functools import cache
from pathlib import Path

import pytest
import rnc2rng
from lxml import etree

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "content"
#: The instant the sample content and golden files are judged at.
NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
#: The independent validators, beside the checkout (as in CI) or where SMCFEED_VALIDATORS says.
VALIDATORS = Path(os.environ.get("SMCFEED_VALIDATORS", ROOT.parent / "shared" / "validators"))
#: The W3C Feed Validation Service, kept with the other judges.
FEEDVALIDATOR_DIR = Path(os.environ.get("FEEDVALIDATOR_DIR", VALIDATORS / "w3c-feedvalidator"))


def need_judges() -> Path:
    """The judges' folder, or skip: a clone on its own has no ``../shared`` (CI has it, and
    turns every skip into a failure, see conftest.py)."""
    if not (VALIDATORS / "atom.rnc").is_file():
        pytest.skip(
            f"the independent judges are not at {VALIDATORS}: they ship in the project's "
            "shared/validators folder beside the checkout (or set SMCFEED_VALIDATORS)"
        )
    return VALIDATORS


@cache
def atom_schema() -> etree.RelaxNG:
    """RFC 4287's schema (Appendix B), from its compact syntax, for lxml's RELAX NG validator."""
    grammar = rnc2rng.dumps(rnc2rng.load(str(need_judges() / "atom.rnc")))
    # rnc2rng declares the empty namespace as a prefix, which XML forbids; nothing uses it.
    grammar = grammar.replace(' xmlns:local=""', "")
    return etree.RelaxNG(etree.fromstring(grammar.encode()))


@cache
def jsonfeed_schema() -> dict[str, object]:
    import json

    schema: dict[str, object] = json.loads((need_judges() / "jsonfeed-1.1.schema.json").read_text())
    return schema


def releases(tmp_path: Path) -> tuple[Path, Path, Path]:
    """Two releases of the sample content, the second with an article titled "Segunda
    entrega", and a link leading to the first, as deploys lay them out: (link, first,
    second)."""
    first, second = tmp_path / "releases" / "1", tmp_path / "releases" / "2"
    shutil.copytree(SAMPLE, first)
    shutil.copytree(SAMPLE, second)
    article = next((second / "articles" / "2026").glob("*.es.md"))
    article.write_text(article.read_text().replace("\ntitle: ", '\ntitle: "Segunda entrega" #', 1))
    link = tmp_path / "current"
    link.symlink_to(first)
    return link, first, second


def point_link(link: Path, target: Path) -> None:
    """Re-point ``link`` at once, as deploy tools do (a new link renamed over the old)."""
    fresh = link.with_name(link.name + ".new")
    fresh.symlink_to(target)
    fresh.replace(link)
