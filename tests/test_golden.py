"""The committed golden feeds match what the code renders now (see tests/golden.py)."""

from __future__ import annotations

import pytest

from .golden import CASES, GOLDEN, render_all


@pytest.fixture(scope="module")
def rendered() -> dict[str, bytes]:
    return render_all()


@pytest.mark.parametrize("name", sorted(CASES))
def test_output_matches_golden_file(rendered: dict[str, bytes], name: str) -> None:
    expected = (GOLDEN / name).read_bytes()
    assert rendered[name] == expected, (
        f"{name} changed: if intended, run `python -m tests.golden` and review the diff"
    )
