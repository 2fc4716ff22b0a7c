"""The command line: ``python bench/run.py [--quick] …``."""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import sys
from datetime import UTC, datetime

from .common import RESULTS, WORK, log
from .report import load_state, machine, save_state, write_chart, write_markdown
from .servers import PIN, stop_all
from .suites import Suite


def missing_requirements() -> list[str]:
    problems = []
    for module in ("django", "gunicorn", "psutil", "matplotlib", "granian", "smcfeed"):
        try:
            __import__(module)
        except ImportError:
            problems.append(f"python module {module}")
    for tool in ("wrk", "nginx"):
        if shutil.which(tool) is None:
            problems.append(f"program {tool}")
    return problems


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description="smcfeed benchmarks (see bench/README.md)")
    p.add_argument(
        "--quick", action="store_true", help="1k and 10k articles only, shorter wrk runs"
    )
    p.add_argument("--seed", type=int, default=5, help="content generator seed (default 5)")
    p.add_argument("--regenerate", action="store_true", help="rebuild content folders")
    p.add_argument(
        "--duration",
        type=float,
        help="wrk seconds per server and path, in runs of 1 s (default 10, quick 6)",
    )
    p.add_argument(
        "--budget", type=float, help="seconds for the whole run (default 1500, quick 960)"
    )
    p.add_argument(
        "--no-pin",
        action="store_true",
        help="do not pin servers to CPU 0 and wrk to CPU 1 while measuring throughput",
    )
    p.add_argument(
        "--memory-articles",
        type=int,
        help="folder size for the 1- vs 2-worker memory run (default: the largest size run)",
    )
    p.add_argument(
        "--only-memory",
        action="store_true",
        help="run only the 1- vs 2-worker memory comparison (with --memory-articles)",
    )
    p.add_argument(
        "--only-mid",
        action="store_true",
        help="run only the mid-size feed comparison (Procfile vs bare app, the export)",
    )
    p.add_argument(
        "--report",
        action="store_true",
        help="only re-render results/ from the last run's bench/work/latest.json",
    )
    args = p.parse_args(argv)
    if args.report:
        return report(*load_state(WORK / "latest.json"))
    problems = missing_requirements()
    if problems:
        print(
            "bench: missing " + ", ".join(problems) + ".\n  pip install -r bench/requirements.txt"
            "   (and smcfeed itself: pip install -e .)\n  apt-get install -y wrk nginx",
            file=sys.stderr,
        )
        return 2
    if args.no_pin or len(os.sched_getaffinity(0)) < 2:
        PIN.clear()
    WORK.mkdir(parents=True, exist_ok=True)
    RESULTS.mkdir(parents=True, exist_ok=True)
    suite = Suite(args)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    if args.only_memory:
        from . import beyond

        try:
            beyond.workers_memory(suite, suite.memory_articles)
        finally:
            stop_all()
        path = RESULTS / f"memory-{suite.memory_articles}.md"
        path.write_text(
            "\n".join(
                [f"# smcfeed workers' memory ({machine()['cpu']})", *beyond.markdown(suite), ""]
            )
        )
        print(path.read_text())
        return 0
    if args.only_mid:
        from . import beyond

        try:
            beyond.mid_comparison(suite)
        finally:
            stop_all()
        path = RESULTS / "mid.md"
        path.write_text(
            "\n".join(
                [
                    f"# smcfeed: the mid-size feed ({machine()['cpu']}, "
                    f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC)",
                    *beyond.markdown(suite),
                    "",
                ]
            )
        )
        print(path.read_text())
        return 0
    try:
        suite.run()
    except KeyboardInterrupt:
        log("interrupted: writing what was measured")
    finally:
        stop_all()
    suite.load_end = os.getloadavg()
    now = datetime.now(UTC)
    info = machine()
    save_state(suite, info, now, WORK / "latest.json")
    return report(suite, info, now)


def report(suite: Suite, info: dict[str, str], now: datetime) -> int:
    text = write_markdown(suite, info, now, RESULTS / "latest.md")
    write_chart(suite, info, now, RESULTS / "latest.png")
    print()
    print(text)
    log(
        f"done in {suite.budget.elapsed():.0f} s: {RESULTS / 'latest.md'}, {RESULTS / 'latest.png'}"
    )
    return 0
