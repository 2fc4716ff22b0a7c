"""Paths, constants, logging and the time budget shared by the benchmark modules."""

from __future__ import annotations

import sys
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parents[1]
REPO = BENCH.parent
WORK = BENCH / "work"
RESULTS = BENCH / "results"
sys.path.insert(0, str(BENCH))

import gen as gen  # noqa: E402  (bench/gen.py, re-exported for the suites)

HOT = "/es/rss.xml"
PATHS = ("identity", "gzip", "304")
SERVERS = ("smcfeed", "bare", "nginx", "django")
SERVER_LABELS = {
    "smcfeed": "smcfeed",
    "bare": "bare Starlette (fixed bytes)",
    "nginx": "nginx static file",
    "django": "Django syndication",
}
LABELS = {1_000: "1k", 10_000: "10k", 100_000: "100k"}
TARGETS = {
    "vs_bare": 0.9,
    "vs_django": 60.0,
    "p99_vs_bare": 1.5,
    "cold_s": 60.0,
    "warm_s": 10.0,
    "rss_mb": 1024.0,
    "edit_s": 1.0,
    "per_request_tolerance": 0.10,
}


def label(n: int) -> str:
    return LABELS.get(n, f"{n}")


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


# --------------------------------------------------------------------------------------------
# Time budget


class Budget:
    """The run's deadline; steps ask how long they may take."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.start = time.monotonic()
        self.deadline = self.start + seconds

    def left(self) -> float:
        return self.deadline - time.monotonic()

    def elapsed(self) -> float:
        return time.monotonic() - self.start
