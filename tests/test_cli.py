"""The command line, run as a user would: exit codes, one line per error, no tracebacks."""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from smcfeed.cli import main, parser

from ._support import ROOT, SAMPLE
from .conftest import ContentDir


def _run(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "smcfeed", *args], capture_output=True, text=True, cwd=cwd
    )


def test_check_passes_on_the_sample_content(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", str(SAMPLE)]) == 0
    out = capsys.readouterr().out.strip().splitlines()
    assert len(out) == 1
    assert re.fullmatch(
        r"\d+ articles in 2 languages \(es, en\), \d+ topics, \d+ experts: OK", out[0]
    )


def test_check_lists_every_error_and_fails(tmp_path: Path) -> None:
    content = tmp_path / "content"
    content.mkdir()
    (content / "site.yaml").write_text("base_url: [unclosed\n")
    (content / "articles").mkdir()
    (content / "articles" / "bin.es.md").write_bytes(b"\x00\xff\xfe")
    result = _run("check", str(content))
    assert result.returncode == 1
    assert "Traceback" not in result.stdout + result.stderr
    lines = result.stdout.strip().splitlines()
    assert any(line.startswith("site.yaml:") for line in lines)
    assert any(line.startswith("topics.yaml:") for line in lines)
    assert any(line.startswith("articles/bin.es.md:") for line in lines)
    assert result.stderr.strip() == f"{len(lines)} errors in {content}"


@pytest.mark.parametrize("kind", ["missing", "file", "empty"])
def test_check_never_shows_a_traceback(tmp_path: Path, kind: str) -> None:
    target = tmp_path / "x"
    if kind == "file":
        target.write_text("not a folder")
    elif kind == "empty":
        target.mkdir()
    result = _run("check", str(target))
    assert result.returncode == 1
    assert "Traceback" not in result.stdout + result.stderr
    assert result.stdout.strip(), result.stderr


def test_check_piped_into_a_reader_that_stops_early_ends_quietly(tmp_path: Path) -> None:
    """``smcfeed check content | head -1``: the reader goes away while lines are still being
    written; the command stops without a traceback."""
    content = tmp_path / "content"
    content.mkdir()
    (content / "site.yaml").write_text("base_url: [unclosed\n")
    articles = content / "articles"
    articles.mkdir()
    # Long names make long lines: some 160 KB in all, well over a pipe's buffer.
    for number in range(600):
        (articles / f"broken-{number}-{'x' * 180}.es.md").write_text("no front matter\n")
    proc = subprocess.Popen(
        [sys.executable, "-m", "smcfeed", "check", str(content)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=ROOT,
    )
    assert proc.stdout is not None and proc.stderr is not None
    assert proc.stdout.readline()
    proc.stdout.close()  # as head does after its line
    err = proc.stderr.read().decode()
    proc.stderr.close()
    assert proc.wait(60) == 141
    assert "Traceback" not in err and "BrokenPipe" not in err, err


def test_serve_refuses_a_missing_folder_in_one_line(tmp_path: Path) -> None:
    result = _run("serve", "--content", str(tmp_path / "nope"))
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        f"smcfeed: {tmp_path / 'nope'}: no such content folder"
    ]


def test_the_readme_documents_every_command_and_option() -> None:
    readme = (ROOT / "README.md").read_text()
    commands = next(a for a in parser()._actions if isinstance(a, argparse._SubParsersAction))
    for name, sub in commands.choices.items():
        assert f"smcfeed {name}" in readme, name
        for action in sub._actions:
            for flag in action.option_strings:
                if flag.startswith("--") and flag != "--help":
                    assert flag in readme, f"{name} {flag}"


def test_check_requires_embargoes_on_the_grid(
    make_content: Callable[[], ContentDir], capsys: pytest.CaptureFixture[str]
) -> None:
    content = make_content()
    article = """\
        ---
        type: briefing
        title: Off the grid
        published: {when}
        topics: [space]
        summary: An embargo at an odd minute.
        ---
        Body.
        """
    content.write("articles/2090/odd.en.md", article.format(when="2090-05-04T17:03:00+02:00"))
    assert main(["check", str(content)]) == 1
    out = capsys.readouterr().out.strip().splitlines()
    assert out == [
        "articles/2090/odd.en.md:4: the embargo 2090-05-04T17:03:00+02:00 is not on the site's "
        "5-minute grid (embargo_grid_minutes in site.yaml): publish at 2090-05-04T17:00:00+02:00 "
        "or 2090-05-04T17:05:00+02:00, so that no cache keeps the feeds past the lift"
    ]
    content.write("articles/2090/odd.en.md", article.format(when="2090-05-04T17:05:00+02:00"))
    assert main(["check", str(content)]) == 0
    # Past times may be anything: the rule is for embargoes.
    content.write("articles/2020/odd.en.md", article.format(when="2020-05-04T17:03:07+02:00"))
    content.remove("articles/2090/odd.en.md")
    assert main(["check", str(content)]) == 0
    content.write("site.yaml", (content / "site.yaml").read_text() + "embargo_grid_minutes: 7\n")
    assert main(["check", str(content)]) == 1
    assert "does not divide an hour" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--header-timeout", "0"], "--header-timeout must be more than 0 seconds"),
        (["--keep-alive-timeout", "-1"], "--keep-alive-timeout must be 0 (no keep-alive) or more"),
        (["--max-header-size", "1024"], "--max-header-size must be at least 8192 bytes"),
        (["--max-concurrency", "0"], "--max-concurrency and --backlog must be at least 1"),
    ],
)
def test_serve_refuses_impossible_limits_in_one_line(
    capsys: pytest.CaptureFixture[str], flags: list[str], message: str
) -> None:
    assert main(["serve", "--content", str(SAMPLE), *flags]) == 1
    assert capsys.readouterr().err.strip().splitlines() == [f"smcfeed: {message}"]
