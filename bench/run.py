"""smcfeed's benchmark suite: one command, a Markdown table and a chart.

    pip install -r bench/requirements.txt      # plus: apt-get install -y wrk nginx
    python bench/run.py --quick                # 1k and 10k articles, ~3 minutes
    python bench/run.py                        # 1k, 10k and 100k articles, ≤ 10 minutes

What it measures, and how to read the results: bench/README.md. Every server it starts listens
on 127.0.0.1 on a free port, is its own child process, and is stopped before it exits; the
whole run keeps to a time budget (--budget), skipping what would not fit and saying so.
"""

from __future__ import annotations

import argparse
import contextlib
import gzip
import http.client
import json
import os
import platform
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
WORK = BENCH / "work"
RESULTS = BENCH / "results"
sys.path.insert(0, str(BENCH))

import gen  # noqa: E402

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


# --------------------------------------------------------------------------------------------
# Processes


#: While wrk drives a server, the server's processes are pinned to CPU 0 and wrk runs on
#: CPU 1 (machines with 2+ CPUs), so the load generator and the server under test do not take
#: turns on one core. Start-ups and reloads run unpinned (smcfeed may parse in processes).
PIN: dict[str, set[int]] = {"server": {0}, "wrk": {1}}


def pinned(role: str, cmd: list[str]) -> list[str]:
    cpus = PIN.get(role)
    if not cpus or shutil.which("taskset") is None:
        return cmd
    return ["taskset", "-c", ",".join(map(str, sorted(cpus))), *cmd]


def set_affinity(servers: list[Server], cpus: set[int] | None) -> None:
    """Pin every thread of the servers' processes to ``cpus`` (None: all CPUs again)."""
    if "server" not in PIN:
        return
    target = cpus if cpus is not None else os.sched_getaffinity(0)
    for server in servers:
        for pid in server.pids():
            with contextlib.suppress(OSError):
                for tid in os.listdir(f"/proc/{pid}/task"):
                    with contextlib.suppress(OSError):
                        os.sched_setaffinity(int(tid), target)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _status_kb(pid: int, key: str) -> int:
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


class Server:
    """One child process serving HTTP on 127.0.0.1:port, with its memory watched."""

    def __init__(
        self,
        name: str,
        cmd: list[str],
        port: int,
        env: dict[str, str] | None = None,
        cwd: Path = REPO,
    ) -> None:
        self.name = name
        self.cmd = cmd
        self.port = port
        self.env = {**os.environ, **(env or {})}
        self.cwd = cwd
        self.log_path = WORK / "logs" / f"{name}-{port}.log"
        self.proc: subprocess.Popen[bytes] | None = None
        self.started = 0.0
        self.rss_max = 0
        #: (time, KiB) samples of the summed RSS, and (time, name) marks of what was going on.
        self.samples: list[tuple[float, int]] = []
        #: Peak of the summed PSS (shared pages split between processes), KiB.
        self.pss_max = 0
        self.marks: list[tuple[float, str]] = []
        self._stop_sampling = threading.Event()
        self._sampler: threading.Thread | None = None

    def start(self) -> None:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        out = open(self.log_path, "wb")  # noqa: SIM115 (closed by the child's exit)
        self.started = time.perf_counter()
        self.marks = [(self.started, "start-up")]
        self.proc = subprocess.Popen(
            self.cmd,
            cwd=self.cwd,
            env=self.env,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        out.close()
        _LIVE.append(self)
        self._sampler = threading.Thread(target=self._sample, daemon=True)
        self._sampler.start()

    def pids(self) -> list[int]:
        if self.proc is None or self.proc.poll() is not None:
            return []
        import psutil

        try:
            root = psutil.Process(self.proc.pid)
            return [root.pid, *(c.pid for c in root.children(recursive=True))]
        except psutil.Error:
            return []

    def rss_kb(self) -> int:
        return sum(_status_kb(pid, "VmRSS") for pid in self.pids())

    def hwm_kb(self) -> int:
        """Peak RSS: the larger of the sampled sum and the sum of each process's VmHWM."""
        return max(self.rss_max, sum(_status_kb(pid, "VmHWM") for pid in self.pids()))

    def pss_kb(self) -> int:
        """Summed PSS: unlike RSS, pages shared by forked workers are counted once."""
        total = 0
        for pid in self.pids():
            with contextlib.suppress(OSError), open(f"/proc/{pid}/smaps_rollup") as f:
                for line in f:
                    if line.startswith("Pss:"):
                        total += int(line.split()[1])
                        break
        return total

    def main_hwm_kb(self) -> int:
        """Peak RSS of the main process alone."""
        return _status_kb(self.proc.pid, "VmHWM") if self.proc is not None else 0

    def _sample(self) -> None:
        while not self._stop_sampling.wait(0.2):
            kb = self.rss_kb()
            self.samples.append((time.perf_counter(), kb))
            self.rss_max = max(self.rss_max, kb)
            if len(self.pids()) > 1:
                self.pss_max = max(self.pss_max, self.pss_kb())

    def mark(self, name: str) -> None:
        """Note what the server is doing from now on (to say when its RSS peaked)."""
        self.marks.append((time.perf_counter(), name))

    def peak_phase(self) -> str:
        if not self.samples:
            return ""
        when = max(self.samples, key=lambda s: s[1])[0]
        names = [name for t, name in self.marks if t <= when]
        return names[-1] if names else "start-up"

    def wait_ready(self, timeout: float, path: str = HOT) -> float | None:
        """Seconds from start to the first 200 on ``path``; None on timeout (or exit)."""
        assert self.proc is not None
        end = self.started + timeout
        while time.perf_counter() < end:
            if self.proc.poll() is not None:
                raise RuntimeError(
                    f"{self.name} exited ({self.proc.returncode}); see "
                    f"{self.log_path}:\n{self.log_tail()}"
                )
            try:
                status, _, _ = request(self.port, path, timeout=max(0.5, end - time.perf_counter()))
                if status == 200:
                    return time.perf_counter() - self.started
            except OSError:
                pass
            time.sleep(0.05)
        return None

    def cpu_seconds(self) -> float:
        import psutil

        total = 0.0
        for pid in self.pids():
            with contextlib.suppress(psutil.Error):
                times = psutil.Process(pid).cpu_times()
                total += times.user + times.system
        return total

    def wait_idle(self, limit: float, window: float = 0.5, busy: float = 0.05) -> float:
        """Wait (at most ``limit`` s) until the server uses under ``busy`` of a core over
        ``window`` s, e.g. after writing a cache in the background; returns the wait."""
        start = time.perf_counter()
        before = self.cpu_seconds()
        while time.perf_counter() - start < limit:
            time.sleep(window)
            now = self.cpu_seconds()
            if now - before < busy * window:
                break
            before = now
        return time.perf_counter() - start

    def log_tail(self, lines: int = 15) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def stop(self) -> None:
        self._stop_sampling.set()
        if self.proc is not None and self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(5)
        if self in _LIVE:
            _LIVE.remove(self)


_LIVE: list[Server] = []


def stop_all() -> None:
    for server in list(_LIVE):
        server.stop()


@contextlib.contextmanager
def running(server: Server) -> Iterator[Server]:
    server.start()
    try:
        yield server
    finally:
        server.stop()


def request(
    port: int, path: str, headers: dict[str, str] | None = None, timeout: float = 10.0
) -> tuple[int, dict[str, str], bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", path, headers=headers or {})
        response = conn.getresponse()
        body = response.read()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, body
    finally:
        conn.close()


def smcfeed_server(content: Path, watch: bool, workers: int = 1) -> Server:
    port = free_port()
    script = Path(sys.executable).with_name("smcfeed")
    cmd = [str(script)] if script.exists() else [sys.executable, "-m", "smcfeed"]
    cmd += [
        "serve",
        "--content",
        str(content),
        "--port",
        str(port),
        "--base-url",
        f"http://127.0.0.1:{port}",
        "--workers",
        str(workers),
        "--no-access-log",
    ]
    if not watch:
        cmd.append("--no-watch")
    server = Server(
        "smcfeed" + ("-watch" if watch else ""), cmd, port, env={"XDG_CACHE_HOME": str(CACHE_HOME)}
    )
    server.env.pop("SMCFEED_CACHE", None)
    return server


#: smcfeed's cache folder (XDG_CACHE_HOME) for the servers started here; emptied before each
#: cold start, so that "cold" is a first start, and kept for the warm restart.
CACHE_HOME = WORK / "xdg-cache"


# --------------------------------------------------------------------------------------------
# wrk


@dataclass
class WrkResult:
    rps: float
    p50_ms: float
    p99_ms: float
    requests: int
    bad: int  # non-2xx/3xx responses + socket errors
    bytes_per_response: int = 0
    status: int = 0
    note: str = ""
    #: req/s of each round (results alternate between servers in rounds).
    runs: list[float] = field(default_factory=list)

    @property
    def spread(self) -> float:
        """(max - min) / mean of the rounds' req/s."""
        return (
            (max(self.runs) - min(self.runs)) / self.rps if len(self.runs) > 1 and self.rps else 0.0
        )


_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0, "h": 3_600_000.0}


def _ms(text: str) -> float:
    m = re.fullmatch(r"([\d.]+)(us|ms|s|m|h)", text.strip())
    if not m:
        raise ValueError(text)
    return float(m[1]) * _UNITS[m[2]]


def wrk(
    port: int, headers: dict[str, str], duration: float, connections: int = 64, threads: int = 2
) -> WrkResult:
    cmd = pinned(
        "wrk",
        [
            "wrk",
            f"-t{threads}",
            f"-c{connections}",
            f"-d{max(1, round(duration))}s",
            "--latency",
            "--timeout",
            "10s",
        ],
    )
    for k, v in headers.items():
        cmd += ["-H", f"{k}: {v}"]
    cmd.append(f"http://127.0.0.1:{port}{HOT}")
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=duration + 30).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out)[1])  # type: ignore[index]
    p50 = _ms(re.search(r"^\s+50%\s+(\S+)", out, re.M)[1])  # type: ignore[index]
    p99 = _ms(re.search(r"^\s+99%\s+(\S+)", out, re.M)[1])  # type: ignore[index]
    total = int(re.search(r"(\d+) requests in", out)[1])  # type: ignore[index]
    bad = 0
    if m := re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out):
        bad += int(m[1])
    if m := re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out):
        bad += sum(int(x) for x in m.groups())
    return WrkResult(rps, p50, p99, total, bad)


def path_headers(path: str, etag: str) -> dict[str, str]:
    if path == "gzip":
        return {"Accept-Encoding": "gzip"}
    if path == "304":
        return {"If-None-Match": etag}
    return {}


def probe(port: int, path: str, etag: str) -> tuple[int, int, str]:
    """(status, body bytes, note) of the hot feed along ``path``; also warms lazy caches."""
    hdrs = path_headers(path, etag)
    for _ in range(3):
        status, got, body = request(port, HOT, hdrs)
    note = ""
    if path == "gzip" and got.get("content-encoding") != "gzip":
        note = "not gzip-encoded"
    expected = 304 if path == "304" else 200
    if status != expected:
        note = f"answers {status}, not {expected}"
    return status, len(body), note


def drive(
    servers: dict[str, Server], duration: float, paths: tuple[str, ...] = PATHS, rounds: int = 2
) -> dict[str, dict[str, WrkResult]]:
    """wrk on the hot feed of each server along each path, ``duration`` seconds per pair.

    The time is cut into ``rounds`` runs, and the servers take turns within each round (in a
    rotating order), so that a change in the machine's background load during the run falls
    on all of them alike. req/s, p50 and p99 are the medians over the rounds.
    """
    set_affinity(list(servers.values()), PIN.get("server"))
    try:
        return _drive(
            {name: server.port for name, server in servers.items()}, duration, paths, rounds
        )
    finally:
        set_affinity(list(servers.values()), None)


def _drive(
    targets: dict[str, int], duration: float, paths: tuple[str, ...], rounds: int
) -> dict[str, dict[str, WrkResult]]:
    etags = {}
    for name, port in targets.items():
        _, headers, _ = request(port, HOT)
        etags[name] = headers.get("etag", '"none"')
        subprocess.run(
            pinned("wrk", ["wrk", "-t2", "-c64", "-d1s", f"http://127.0.0.1:{port}{HOT}"]),
            capture_output=True,
            timeout=30,
        )
    per_run = max(1.0, round(duration / rounds))
    out: dict[str, dict[str, WrkResult]] = {name: {} for name in targets}
    for path in paths:
        probes = {name: probe(port, path, etags[name]) for name, port in targets.items()}
        runs: dict[str, list[WrkResult]] = {name: [] for name in targets}
        names = list(targets)
        for r in range(rounds):
            for name in names[r % len(names) :] + names[: r % len(names)]:
                runs[name].append(wrk(targets[name], path_headers(path, etags[name]), per_run))
        for name, results in runs.items():
            status, size, note = probes[name]
            merged = WrkResult(
                rps=statistics.median(x.rps for x in results),
                p50_ms=statistics.median(x.p50_ms for x in results),
                p99_ms=statistics.median(x.p99_ms for x in results),
                requests=sum(x.requests for x in results),
                bad=sum(x.bad for x in results),
                bytes_per_response=size,
                status=status,
                note=note,
                runs=[x.rps for x in results],
            )
            out[name][path] = merged
            log(
                f"  {name:8} {path:8} {merged.rps:9.0f} req/s (±{merged.spread * 50:.0f} %)  "
                f"p50 {merged.p50_ms:7.2f} ms  p99 {merged.p99_ms:7.2f} ms  ({size} B, "
                f"status {status}{', ' + note if note else ''}"
                f"{f', {merged.bad} errors' if merged.bad else ''})"
            )
    return out


# --------------------------------------------------------------------------------------------
# Measurements of smcfeed on one content size


@dataclass
class SizeResult:
    articles: int
    content_mb: float = 0.0
    generated_s: float | None = None
    cold_s: float | None = None
    cold_timeout_s: float | None = None
    cold_rss_mb: float | None = None
    healthz: str = ""
    warm_s: float | None = None
    warm_timeout_s: float | None = None
    warm_peak_rss_mb: float | None = None
    peak_rss_mb: float | None = None
    peak_rss_note: str = ""
    #: Peak RSS of the main process alone, and peak of the summed PSS while it had children.
    main_peak_rss_mb: float | None = None
    peak_pss_mb: float | None = None
    edit_s: float | None = None
    edit_note: str = ""
    warm_note: str = ""
    hot: WrkResult | None = None
    #: The smallest folder's server, driven in turns with this one (per-request cost).
    hot_reference: WrkResult | None = None
    hot_note: str = ""
    projected_cold_s: float | None = None


def evict_from_page_cache(folder: Path) -> None:
    """Drop the folder's files from the page cache (only these files), for a cold start."""
    if not hasattr(os, "posix_fadvise"):
        return
    for dirpath, _, files in os.walk(folder):
        for name in files:
            try:
                fd = os.open(os.path.join(dirpath, name), os.O_RDONLY)
            except OSError:
                continue
            try:
                os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
            finally:
                os.close(fd)


def folder_mb(folder: Path) -> float:
    total = 0
    for dirpath, _, files in os.walk(folder):
        for name in files:
            total += os.stat(os.path.join(dirpath, name)).st_size
    return total / 1e6


def edit_once(server: Server, article: Path, timeout: float) -> float | None:
    """Change the article's title; seconds until /es/rss.xml shows it (None on timeout)."""
    token = f"bench-edit-{time.time_ns()}"
    text = article.read_text(encoding="utf-8")
    lines = text.split("\n")
    for i, line in enumerate(lines):
        if line.startswith("title:"):
            lines[i] = line[:-1] + f' {token}"' if line.endswith('"') else f"{line} {token}"
            break
    new = "\n".join(lines)
    needle = token.encode()
    start = time.perf_counter()
    with open(article, "w", encoding="utf-8") as f:
        f.write(new)
    end = start + timeout
    while time.perf_counter() < end:
        try:
            status, _, body = request(server.port, HOT, timeout=5)
            if status == 200 and needle in body:
                return time.perf_counter() - start
        except OSError:
            pass
        time.sleep(0.02)
    return None


def linear_projection(points: list[tuple[int, float]], n: int) -> float | None:
    if not points:
        return None
    if len(points) == 1:
        x, y = points[0]
        return y * n / x
    xs, ys = zip(*points, strict=True)
    mx, my = statistics.fmean(xs), statistics.fmean(ys)
    var = sum((x - mx) ** 2 for x in xs)
    slope = sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / var if var else 0.0
    return my + slope * (n - mx)


class Suite:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.quick: bool = args.quick
        self.sizes: list[int] = [1_000, 10_000] if self.quick else [1_000, 10_000, 100_000]
        self.edit_sizes = {1_000, 10_000} if self.quick else {1_000, 100_000}
        self.duration: float = args.duration or (6.0 if self.quick else 10.0)
        #: Each wrk measurement is cut into runs of 2 s that take turns between servers.
        self.rounds = max(1, round(self.duration / 2))
        self.budget = Budget(args.budget or (240.0 if self.quick else 600.0))
        self.sizes_out: dict[int, SizeResult] = {}
        self.compare: dict[str, dict[str, WrkResult]] = {}
        self.compare_notes: dict[str, str] = {}
        self.notes: list[str] = []
        self.stamps: dict[int, dict[str, Any]] = {}
        self.load_start = os.getloadavg()
        self.load_end = self.load_start
        #: smcfeed on the smallest folder, kept running as the yardstick for larger ones.
        self.reference: Server | None = None
        self.pinned = bool(PIN)

    def reserve_after(self, n: int) -> float:
        """Seconds kept for the sizes still to come (a full run keeps most for 100k)."""
        later = [s for s in self.sizes if s > n]
        share = sum((300.0 if (s >= 100_000 and not self.quick) else 20.0) for s in later)
        return share + 10.0

    def content(self, n: int) -> Path:
        return WORK / f"content-{label(n)}"

    def generate(self) -> None:
        for n in self.sizes:
            folder = self.content(n)
            fresh = not gen.stamp_path(folder).exists() or self.args.regenerate
            log(f"content {label(n)}: {'generating' if fresh else 'checking'} {folder}")
            stamp, seconds = gen.ensure(n, folder, seed=self.args.seed, force=self.args.regenerate)
            self.stamps[n] = stamp
            result = self.sizes_out.setdefault(n, SizeResult(n))
            result.generated_s = seconds if seconds else None
            result.content_mb = folder_mb(folder)
            log(
                f"  {n} articles, {result.content_mb:.0f} MB"
                + (
                    f", generated in {seconds:.1f} s"
                    if seconds
                    else " (reused; --regenerate to rebuild)"
                )
            )

    def _comparison_cost(self) -> float:
        if self.compare:
            return 0.0
        return len(SERVERS) * (len(PATHS) * (self.duration + 0.5) + 5)

    def measure_size(self, n: int) -> None:
        first = n == self.sizes[0]
        result = self.sizes_out[n]
        folder = self.content(n)
        article = folder / str(self.stamps[n]["newest_es"])
        original = article.read_bytes()
        reserve = self.reserve_after(n) + (self._comparison_cost() if first else 0)
        timeout = max(20.0, self.budget.left() - reserve - (0 if first else 2 * self.duration + 4))
        if first:
            timeout = min(timeout, 300.0)
        shutil.rmtree(CACHE_HOME, ignore_errors=True)
        evict_from_page_cache(folder)
        log(f"{label(n)}: cold start, watching (timeout {timeout:.0f} s)")
        server = smcfeed_server(folder, watch=True)
        try:
            server.start()
            result.cold_s = server.wait_ready(timeout)
            if result.cold_s is None:
                result.cold_timeout_s = timeout
                result.peak_rss_mb = server.hwm_kb() / 1024
                result.peak_rss_note = f"≥, at the {timeout:.0f} s timeout"
                log(f"  no answer within {timeout:.0f} s (RSS so far {result.peak_rss_mb:.0f} MB)")
                return
            result.cold_rss_mb = server.rss_kb() / 1024
            server.mark("the work after the first answer")
            with contextlib.suppress(Exception):
                _, _, body = request(server.port, "/healthz")
                health = json.loads(body)
                result.healthz = (
                    f"{health.get('status')}, "
                    f"{health.get('serving', {}).get('articles')} articles, "
                    f"{len(health.get('errors', []))} errors"
                )
            log(
                f"  answered 200 after {result.cold_s:.2f} s, RSS {result.cold_rss_mb:.0f} MB"
                f" ({result.healthz})"
            )
            if not first and self.reference is not None:
                if self.budget.left() - reserve > 2 * self.duration + 6:
                    settle = server.wait_idle(
                        min(30.0, self.budget.left() - reserve - 2 * self.duration)
                    )
                    if settle > 1:
                        result.hot_note = (
                            f"measured once the server had gone idle, {settle:.0f} s after its "
                            "first answer (it kept a core busy until then, e.g. writing its cache)"
                        )
                    log(
                        f"{label(n)}: hot feed, identity, taking turns with the "
                        f"{label(self.sizes[0])} server (after {settle:.1f} s for it to idle)"
                    )
                    server.mark("the hot-feed run")
                    both = drive(
                        {label(n): server, label(self.sizes[0]): self.reference},
                        self.duration,
                        ("identity",),
                        rounds=self.rounds,
                    )
                    result.hot = both[label(n)]["identity"]
                    result.hot_reference = both[label(self.sizes[0])]["identity"]
                else:
                    result.hot_note = "skipped: over the time budget"
            if n in self.edit_sizes:
                self._edit(n, server, article, reserve)
            result.peak_rss_mb = server.hwm_kb() / 1024
            result.peak_rss_note = f"during {server.peak_phase()}"
            result.main_peak_rss_mb = server.main_hwm_kb() / 1024
            result.peak_pss_mb = server.pss_max / 1024 or None
            log(f"  peak RSS {result.peak_rss_mb:.0f} MB, {result.peak_rss_note}")
        finally:
            server.stop()
            article.write_bytes(original)
        self._warm(n, reserve)

    def _edit(self, n: int, server: Server, article: Path, reserve: float) -> None:
        result = self.sizes_out[n]
        projected = (result.cold_s or 0) + 1.0
        allowed = self.budget.left() - reserve - 5
        if allowed < 0.8 * projected and allowed < 30:
            result.edit_note = (
                f"skipped: a reload is projected at ≈ {projected:.0f} s, "
                f"{max(0, allowed):.0f} s of budget left"
            )
            log(f"{label(n)}: edit {result.edit_note}")
            return
        time.sleep(1.0 + n / 50_000)  # let the watcher finish registering the folder
        server.mark("the edit's reload")
        limit = max(5.0, min(allowed, 300.0))
        log(f"{label(n)}: edit one title (timeout {limit:.0f} s)")
        result.edit_s = edit_once(server, article, limit)
        if result.edit_s is None:
            result.edit_note = f"> {limit:.0f} s (timeout)"
            log(f"  not visible within {limit:.0f} s")
        else:
            log(f"  visible after {result.edit_s:.2f} s")

    def _warm(self, n: int, reserve: float) -> None:
        """Second start on the same folder (page cache and bytecode warm), without watching."""
        first = n == self.sizes[0]
        result = self.sizes_out[n]
        if result.cold_s is None:
            return
        allowed = self.budget.left() - reserve
        projected = result.cold_s * 1.05 + 3
        if allowed < projected and not first:
            result.warm_note = (
                f"skipped: projected ≈ {projected:.0f} s, {max(0, allowed):.0f} s of budget left"
            )
            log(f"{label(n)}: warm restart {result.warm_note}")
            return
        timeout = max(20.0, allowed)
        log(f"{label(n)}: warm restart, --no-watch (timeout {timeout:.0f} s)")
        server = smcfeed_server(self.content(n), watch=False)
        keep = False
        try:
            server.start()
            result.warm_s = server.wait_ready(timeout)
            if result.warm_s is None:
                result.warm_timeout_s = timeout
                log(f"  no answer within {timeout:.0f} s")
                return
            result.warm_peak_rss_mb = server.hwm_kb() / 1024
            log(f"  answered 200 after {result.warm_s:.2f} s, RSS {result.warm_peak_rss_mb:.0f} MB")
            if first:
                self.comparison(server)
                keep = True
                self.reference = server
        finally:
            if not keep:
                server.stop()

    # ----------------------------------------------------------------------------------------
    # The hot feed against the baselines

    def comparison(self, smcfeed: Server) -> None:
        n = self.sizes[0]
        log(
            f"hot feed comparison on {label(n)} articles, wrk -t2 -c64, "
            f"{self.duration:.0f} s per server and path, in {self.rounds} rounds"
        )
        static = WORK / "static"
        (static / "es").mkdir(parents=True, exist_ok=True)
        _, _, identity = request(smcfeed.port, HOT)
        _, headers, gz = request(smcfeed.port, HOT, {"Accept-Encoding": "gzip"})
        if headers.get("content-encoding") != "gzip":
            gz = gzip.compress(identity, 9, mtime=0)
            self.notes.append(
                "smcfeed sent no gzip body; the baselines serve gzip.compress(level 9)."
            )
        for name, body in (("rss.xml", identity), ("rss.xml.gz", gz)):
            (static / "es" / name).write_bytes(body)
            mtime = time.time() - 60
            os.utime(static / "es" / name, (mtime, mtime))

        port = free_port()
        bare = Server(
            "bare",
            [
                sys.executable,
                "-m",
                "granian",
                "--interface",
                "asgi",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--workers",
                "1",
                "--loop",
                "uvloop",
                "--no-ws",
                "--log-level",
                "warning",
                "bench.bare_app:app",
            ],
            port,
            env={"BENCH_BARE_BODY": str(static / "es" / "rss.xml")},
        )
        port = free_port()
        nginx = Server(
            "nginx",
            [
                "nginx",
                "-p",
                str(WORK / "nginx"),
                "-c",
                str(self._nginx_conf(port, static)),
                "-e",
                str(WORK / "nginx" / "error.log"),
            ],
            port,
        )
        port = free_port()
        django = Server(
            "django",
            [
                sys.executable,
                "-m",
                "gunicorn",
                "--workers",
                "1",
                "--worker-class",
                "gthread",
                "--threads",
                "4",
                "--keep-alive",
                "5",
                "--bind",
                f"127.0.0.1:{port}",
                "--pythonpath",
                str(BENCH),
                "--log-level",
                "warning",
                "django_feed.wsgi:application",
            ],
            port,
            env={
                "BENCH_CONTENT": str(self.content(n)),
                "BENCH_BASE_URL": f"http://127.0.0.1:{port}",
                "DJANGO_SETTINGS_MODULE": "django_feed.settings",
            },
        )
        targets = {"smcfeed": smcfeed}
        baselines = [bare, nginx, django]
        try:
            for server in baselines:
                server.start()
            for server in baselines:
                try:
                    if server.wait_ready(60) is None:
                        raise RuntimeError(f"no answer within 60 s. {server.log_tail(5)}")
                    targets[server.name] = server
                except RuntimeError as e:  # a baseline failing must not lose the rest
                    self.compare_notes[server.name] = f"failed: {e}"
                    log(f"  {server.name} failed: {e}")
            # Django is ~100× slower: it takes its turn apart, not inside the rounds.
            fast = {k: v for k, v in targets.items() if k != "django"}
            self.compare.update(drive(fast, self.duration, rounds=self.rounds))
            if "django" in targets:  # one run: at ~30 req/s, 2-s runs are mostly ramp-up
                self.compare.update(drive({"django": targets["django"]}, self.duration, rounds=1))
        finally:
            for server in baselines:
                server.stop()

    def _nginx_conf(self, port: int, static: Path) -> Path:
        home = WORK / "nginx"
        (home / "tmp").mkdir(parents=True, exist_ok=True)
        conf = home / "nginx.conf"
        conf.write_text(f"""\
# Written by bench/run.py: nginx serving the hot feed as a static file.
daemon off;
master_process on;
worker_processes 1;
pid {home}/nginx.pid;
error_log {home}/error.log warn;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    client_body_temp_path {home}/tmp/body;
    proxy_temp_path {home}/tmp/proxy;
    fastcgi_temp_path {home}/tmp/fastcgi;
    uwsgi_temp_path {home}/tmp/uwsgi;
    scgi_temp_path {home}/tmp/scgi;
    types {{ application/rss+xml xml; }}
    default_type application/octet-stream;
    charset utf-8;
    charset_types application/rss+xml;
    sendfile on;
    tcp_nopush on;
    keepalive_requests 1000000;
    etag on;
    gzip_static on;
    gzip_vary on;
    server {{
        listen 127.0.0.1:{port};
        root {static};
        location / {{ }}
    }}
}}
""")
        return conf

    # ----------------------------------------------------------------------------------------

    def run(self) -> None:
        self.generate()
        try:
            for n in self.sizes:
                if self.budget.left() < 25:
                    self.notes.append(f"{label(n)}: not measured, the time budget ran out.")
                    continue
                self.measure_size(n)
                points = [(s, r.cold_s) for s, r in self.sizes_out.items() if r.cold_s is not None]
                for s, r in self.sizes_out.items():
                    if r.cold_s is None and points:
                        r.projected_cold_s = linear_projection(points, s)
        finally:
            if self.reference is not None:
                self.reference.stop()
        first = self.sizes_out.get(self.sizes[0])
        if first is not None and "smcfeed" in self.compare:
            first.hot = self.compare["smcfeed"]["identity"]


# --------------------------------------------------------------------------------------------
# Report


def machine() -> dict[str, str]:
    cpu = "unknown"
    with contextlib.suppress(OSError), open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    ram = "unknown"
    with contextlib.suppress(OSError), open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemTotal"):
                ram = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"

    def version(dist: str) -> str:
        try:
            return metadata.version(dist)
        except metadata.PackageNotFoundError:
            return "-"

    def tool(cmd: list[str]) -> str:
        try:
            p = subprocess.run(cmd, capture_output=True, text=True, timeout=10)
            text = (p.stdout + p.stderr).strip().splitlines()[0]
            return text
        except (OSError, IndexError, subprocess.SubprocessError):
            return "-"

    return {
        "nproc": str(os.cpu_count()),
        "cpu": cpu,
        "ram": ram,
        "kernel": platform.release(),
        "python": platform.python_version(),
        "smcfeed": version("smcfeed"),
        "granian": version("granian"),
        "starlette": version("starlette"),
        "django": version("django"),
        "gunicorn": version("gunicorn"),
        "nginx": tool(["nginx", "-v"]).replace("nginx version: ", ""),
        "wrk": tool(["wrk", "-v"]).split(" [")[0],
    }


def fmt_s(value: float | None, timeout: float | None = None, projected: float | None = None) -> str:
    if value is not None:
        return f"{value:.2f}" if value < 10 else f"{value:.1f}"
    if timeout is not None:
        text = f"> {timeout:.0f} (timeout)"
        if projected:
            text += f"; ≈ {projected:.0f} projected"
        return text
    return "—"


def fmt_num(value: float | None, digits: int = 0) -> str:
    return "—" if value is None else f"{value:,.{digits}f}"


def verdict(ok: bool | None) -> str:
    return "—" if ok is None else ("PASS" if ok else "FAIL")


def targets(suite: Suite) -> list[tuple[str, str, str, str]]:
    """(target, measured, ratio or detail, verdict) rows."""
    rows: list[tuple[str, str, str, str]] = []
    sm, bare, dj = (suite.compare.get(k, {}) for k in ("smcfeed", "bare", "django"))
    for path in PATHS:
        s, b, d = sm.get(path), bare.get(path), dj.get(path)
        if s and b:
            ratio = s.rps / b.rps
            rows.append(
                (
                    f"{path}: throughput ≥ {TARGETS['vs_bare']}× bare app",
                    f"{s.rps:,.0f} vs {b.rps:,.0f} req/s",
                    f"{ratio:.2f}×",
                    verdict(ratio >= TARGETS["vs_bare"]),
                )
            )
        if s and d:
            ratio = s.rps / d.rps
            rows.append(
                (
                    f"{path}: throughput ≥ {TARGETS['vs_django']:.0f}× Django",
                    f"{s.rps:,.0f} vs {d.rps:,.0f} req/s",
                    f"{ratio:.1f}×",
                    verdict(ratio >= TARGETS["vs_django"]),
                )
            )
        if s and b:
            ratio = s.p99_ms / b.p99_ms
            rows.append(
                (
                    f"{path}: p99 ≤ {TARGETS['p99_vs_bare']}× bare app",
                    f"{s.p99_ms:.2f} vs {b.p99_ms:.2f} ms",
                    f"{ratio:.2f}×",
                    verdict(ratio <= TARGETS["p99_vs_bare"]),
                )
            )
    big = max(suite.sizes)
    r = suite.sizes_out.get(big)
    name = label(big) + (" (quick run: largest size)" if suite.quick else "")
    if r is not None:
        cold_ok = (
            None
            if (r.cold_s is None and r.cold_timeout_s is None)
            else (r.cold_s is not None and r.cold_s <= TARGETS["cold_s"])
        )
        rows.append(
            (
                f"{name}: cold start ≤ {TARGETS['cold_s']:.0f} s",
                fmt_s(r.cold_s, r.cold_timeout_s, r.projected_cold_s) + " s",
                "",
                verdict(cold_ok),
            )
        )
        warm_ok = (
            None
            if r.warm_s is None and r.warm_timeout_s is None
            else (r.warm_s is not None and r.warm_s <= TARGETS["warm_s"])
        )
        rows.append(
            (
                f"{name}: warm restart ≤ {TARGETS['warm_s']:.0f} s",
                fmt_s(r.warm_s, r.warm_timeout_s) + " s",
                r.warm_note,
                verdict(warm_ok if r.cold_s is not None else (False if r.cold_timeout_s else None)),
            )
        )
        peak = r.peak_rss_mb
        rss_ok = (
            None
            if peak is None
            else (
                peak <= TARGETS["rss_mb"]
                if r.cold_s is not None
                else (False if peak > TARGETS["rss_mb"] else None)
            )
        )
        rows.append(
            (f"{name}: peak RSS ≤ 1 GB", fmt_num(peak) + " MB", r.peak_rss_note, verdict(rss_ok))
        )
    for n in sorted(suite.edit_sizes):
        e = suite.sizes_out.get(n)
        if e is None:
            continue
        ok = (
            None
            if e.edit_s is None and not e.edit_note.startswith(">")
            else (e.edit_s is not None and e.edit_s <= TARGETS["edit_s"])
        )
        if e.cold_s is None and e.cold_timeout_s is not None:
            ok, e.edit_note = False, e.edit_note or "server did not start within the budget"
        rows.append(
            (
                f"{label(n)}: an edit visible ≤ {TARGETS['edit_s']:.0f} s",
                fmt_s(e.edit_s) + " s" if e.edit_s is not None else e.edit_note or "—",
                "",
                verdict(ok),
            )
        )
    small, large = suite.sizes_out.get(min(suite.sizes)), suite.sizes_out.get(big)
    what = f"per-request cost the same at {label(min(suite.sizes))} and {label(big)} (±10 %)"
    if large and large.hot and large.hot_reference:
        ratio = large.hot.rps / large.hot_reference.rps
        rows.append(
            (
                what,
                f"{large.hot.rps:,.0f} vs {large.hot_reference.rps:,.0f} req/s",
                f"{ratio:.2f}× (identity, the two servers taking turns)",
                verdict(abs(ratio - 1) <= TARGETS["per_request_tolerance"]),
            )
        )
    elif small and large:
        rows.append(
            (
                what,
                "not measured at " + label(big),
                large.hot_note or "the server did not start within the budget",
                "—",
            )
        )
    return rows


def write_markdown(suite: Suite, info: dict[str, str], now: datetime, path: Path) -> str:
    d = suite.duration
    lines = [
        f"# smcfeed benchmarks — {'quick run' if suite.quick else 'full run'}",
        "",
        f"Date: {now.strftime('%Y-%m-%d %H:%M UTC')}. Command: `python bench/run.py"
        f"{' --quick' if suite.quick else ''}`; run time {suite.budget.elapsed():.0f} s "
        f"(budget {suite.budget.seconds:.0f} s).",
        "",
        f"Machine: {info['nproc']} CPUs ({info['cpu']}), {info['ram']} RAM, "
        f"Linux {info['kernel']}, "
        f"Python {info['python']}; load average (1 min) at start {suite.load_start[0]:.2f}, "
        f"at end {suite.load_end[0]:.2f} (other work on the machine shows here). "
        f"smcfeed {info['smcfeed']}, granian {info['granian']}, Starlette {info['starlette']}, "
        f"Django {info['django']}, gunicorn {info['gunicorn']}, {info['nginx']}, {info['wrk']}.",
        "",
        "## Hot feed (`/es/rss.xml`), requests per second and latency",
        "",
        f"`wrk -t2 -c64 --latency` on 127.0.0.1, {d:.0f} s per server and path in {suite.rounds} "
        f"rounds of {d / suite.rounds:.0f} s, the servers taking turns (Django apart, one run); "
        "medians "
        "of the rounds, and their spread ((max − min) / 2 / median); "
        f"{label(suite.sizes[0])}-article folder, 50 items per feed. "
        "**Every server runs ONE worker process**"
        + (
            ", pinned to CPU 0 while measured, wrk pinned to CPU 1 (the machine has 2 cores)"
            if suite.pinned
            else ", unpinned, sharing the cores with wrk"
        )
        + ". Servers: smcfeed "
        "(`smcfeed serve --workers 1 --no-watch --no-access-log`: granian, uvloop), "
        "the bare Starlette app (`granian --interface asgi --loop uvloop bench.bare_app:app "
        "--no-ws`, same settings), nginx (`worker_processes 1`, gzip_static, etag), "
        "Django (`gunicorn --workers 1 --worker-class gthread --threads 4`, GZipMiddleware + "
        "ConditionalGetMiddleware). Paths: identity (no Accept-Encoding), gzip "
        "(`Accept-Encoding: gzip`), 304 (`If-None-Match: <the server's ETag>`).",
        "",
        "| server | path | req/s | ± rounds | p50 ms | p99 ms | body bytes | status |",
        "|---|---|---:|---:|---:|---:|---:|---|",
    ]
    for name in SERVERS:
        results = suite.compare.get(name)
        if not results:
            note = suite.compare_notes.get(name, "not run")
            lines.append(f"| {SERVER_LABELS[name]} | — | — | — | — | — | — | {note} |")
            continue
        for kind in PATHS:
            r = results.get(kind)
            if r is None:
                continue
            status = (
                f"{r.status}"
                + (f" ({r.note})" if r.note else "")
                + (f", {r.bad} errors" if r.bad else "")
            )
            lines.append(
                f"| {SERVER_LABELS[name]} | {kind} | {r.rps:,.0f} | {r.spread * 50:.0f} % | "
                f"{r.p50_ms:.2f} | "
                f"{r.p99_ms:.2f} | {r.bytes_per_response:,} | {status} |"
            )
    lines += [
        "",
        "## Content sizes: start, memory, edits, per-request cost",
        "",
        "Cold start: `smcfeed serve` (watching, as by default) started after the folder's files "
        "were dropped from the page cache; seconds from process start to the first 200 on "
        "`/es/rss.xml`. Warm restart: a second start on the same folder (`--no-watch`). "
        "RSS: of the server process (and its children, if any). Edit: one article's title "
        "changed on disk, seconds until `/es/rss.xml` shows it. Hot feed: identity path, "
        f"`wrk -t2 -c64`, {d:.0f} s in {suite.rounds} rounds; a larger folder's (watching) server "
        "takes turns "
        f"with the {label(suite.sizes[0])} server (kept running), and the last column is the "
        "ratio of the two measured side by side (1.00 = the same per-request cost). Absolute "
        "req/s move with other work on the machine from one phase of the run to the next (the "
        "1k server's own numbers differ between rows): read the side-by-side ratios.",
        "",
        "| articles | content MB | cold start s | warm restart s | RSS after start MB | "
        "peak RSS MB | edit visible s | hot feed req/s | p50 ms | p99 ms | "
        f"vs {label(suite.sizes[0])} |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for n in suite.sizes:
        r = suite.sizes_out.get(n)
        if r is None:
            continue
        warm = (
            fmt_s(r.warm_s, r.warm_timeout_s)
            if (r.warm_s or r.warm_timeout_s)
            else ("skipped" if r.warm_note else "—")
        )
        edit = (
            fmt_s(r.edit_s)
            if r.edit_s is not None
            else (
                r.edit_note.split(":")[0]
                if r.edit_note
                else ("—" if n in suite.edit_sizes else "not run")
            )
        )
        peak = fmt_num(r.peak_rss_mb) + (f" ({r.peak_rss_note})" if r.peak_rss_note else "")
        hot = r.hot
        lines.append(
            f"| {n:,} | {r.content_mb:.0f} | "
            f"{fmt_s(r.cold_s, r.cold_timeout_s, r.projected_cold_s)} | "
            f"{warm} | {fmt_num(r.cold_rss_mb)} | {peak} | {edit} | "
            f"{fmt_num(hot.rps if hot else None)} | {fmt_num(hot.p50_ms if hot else None, 2)} | "
            f"{fmt_num(hot.p99_ms if hot else None, 2)} | "
            + (
                f"{hot.rps / r.hot_reference.rps:.2f}"
                if hot and r.hot_reference
                else ("1" if n == suite.sizes[0] and hot else "—")
            )
            + " |"
        )
    lines += [
        "",
        "## Targets",
        "",
        "| target | measured | ratio / detail | verdict |",
        "|---|---|---|---|",
    ]
    for row in targets(suite):
        lines.append("| " + " | ".join(row) + " |")
    notes = list(suite.notes)
    for n in suite.sizes:
        r = suite.sizes_out.get(n)
        if r is None:
            continue
        for what, note in (
            ("edit", r.edit_note),
            ("warm restart", r.warm_note),
            ("hot feed", r.hot_note),
        ):
            if note and not note.startswith(">"):
                notes.append(f"{label(n)} {what}: {note}.")
        if r.cold_timeout_s is not None:
            notes.append(
                f"{label(n)}: the server did not answer within the {r.cold_timeout_s:.0f} s "
                "left in "
                "the budget, so nothing else was measured at this size"
                + (
                    f"; a straight line through the measured cold starts projects ≈ "
                    f"{r.projected_cold_s:.0f} s"
                    if r.projected_cold_s
                    else ""
                )
                + "."
            )
        if r.peak_rss_mb and r.main_peak_rss_mb and r.peak_rss_mb - r.main_peak_rss_mb > 20:
            notes.append(
                f"{label(n)}: peak RSS {r.peak_rss_mb:,.0f} MB is summed over the server and its "
                f"parse worker processes; the main process alone peaked at "
                f"{r.main_peak_rss_mb:,.0f} MB"
                + (
                    f", and the summed PSS (shared pages counted once) at {r.peak_pss_mb:,.0f} MB"
                    if r.peak_pss_mb
                    else ""
                )
                + "."
            )
        if r.generated_s:
            notes.append(f"{label(n)}: content generated in {r.generated_s:.1f} s during this run.")
        if r.healthz:
            notes.append(f"{label(n)}: /healthz after start: {r.healthz}.")
    if notes:
        lines += ["", "## Notes", ""] + [f"- {n}" for n in notes]
    lines += ["", "How to read this: bench/README.md. Chart: latest.png.", ""]
    text = "\n".join(lines)
    path.write_text(text, encoding="utf-8")
    return text


def write_chart(suite: Suite, info: dict[str, str], now: datetime, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(2, 2, figsize=(13, 9.5))
    colors = {"smcfeed": "#1f77b4", "bare": "#2ca02c", "nginx": "#7f7f7f", "django": "#d62728"}
    width = 0.2
    for ax, metric, title in (
        (axes[0][0], "rps", "hot feed: requests/s (log scale)"),
        (axes[0][1], "p99_ms", "hot feed: p99 latency, ms (log scale)"),
    ):
        top = 1.0
        for i, name in enumerate(SERVERS):
            results = suite.compare.get(name, {})
            xs = [j + (i - 1.5) * width for j in range(len(PATHS))]
            ys = [getattr(results[p], metric) if p in results else 0 for p in PATHS]
            top = max(top, *ys)
            bars = ax.bar(xs, ys, width, label=SERVER_LABELS[name], color=colors[name])
            for bar, y in zip(bars, ys, strict=True):
                if y:
                    ax.annotate(
                        f"{y:,.0f}" if metric == "rps" or y >= 100 else f"{y:.1f}",
                        (bar.get_x() + bar.get_width() / 2, y),
                        ha="center",
                        va="bottom",
                        fontsize=7,
                        rotation=90,
                    )
        ax.set_xticks(range(len(PATHS)), list(PATHS))
        ax.set_yscale("log")
        ax.set_ylim(top=top * 4)
        ax.set_title(
            f"{title}\n{label(suite.sizes[0])} articles, one worker process each", fontsize=10
        )
    handles, names = axes[0][0].get_legend_handles_labels()
    fig.legend(handles, names, loc="upper center", ncol=4, fontsize=9, bbox_to_anchor=(0.5, 0.955))

    ax = axes[1][0]
    sizes = [n for n in suite.sizes if n in suite.sizes_out]
    top = 1.0
    for k, (attr, tattr, name, color) in enumerate(
        (
            ("cold_s", "cold_timeout_s", "cold start", "#1f77b4"),
            ("warm_s", "warm_timeout_s", "warm restart", "#aec7e8"),
            ("edit_s", None, "edit visible", "#ff7f0e"),
        )
    ):
        xs = [j + (k - 1) * 0.27 for j in range(len(sizes))]
        for x, n in zip(xs, sizes, strict=True):
            r = suite.sizes_out[n]
            value = getattr(r, attr)
            timeout = getattr(r, tattr) if tattr else None
            if value is not None:
                top = max(top, value)
                ax.bar(x, value, 0.27, color=color, label=name if n == sizes[0] else None)
                ax.annotate(f"{value:.1f}", (x, value), ha="center", va="bottom", fontsize=7)
            elif timeout is not None:
                top = max(top, timeout)
                ax.bar(x, timeout, 0.27, color="white", edgecolor=color, hatch="//")
                ax.annotate(f">{timeout:.0f}", (x, timeout), ha="center", va="bottom", fontsize=7)
    for key, color in (("cold_s", "#1f77b4"), ("warm_s", "#aec7e8"), ("edit_s", "#ff7f0e")):
        ax.axhline(TARGETS[key], color=color, ls="--", lw=0.8)
    ax.set_yscale("log")
    ax.set_ylim(top=top * 3)
    ax.set_xticks(range(len(sizes)), [f"{label(n)} articles" for n in sizes])
    ax.set_title(
        "start and edit, seconds (log scale)\ndashed: targets 60 / 10 / 1 s; hatched: timed out",
        fontsize=10,
    )
    ax.legend(fontsize=8, loc="upper left")

    ax = axes[1][1]
    xs = list(range(len(sizes)))
    own = [suite.sizes_out[n].hot.rps if suite.sizes_out[n].hot else 0 for n in sizes]
    ref = [
        suite.sizes_out[n].hot_reference.rps if suite.sizes_out[n].hot_reference else 0
        for n in sizes
    ]
    ax.bar([x - 0.18 for x in xs], own, 0.36, color="#1f77b4", label="this size, req/s")
    ax.bar(
        [x + 0.18 for x in xs],
        ref,
        0.36,
        color="#aec7e8",
        label=f"{label(suite.sizes[0])} server, in turns with it",
    )
    for x, y, r in zip(xs, own, ref, strict=True):
        text = f"{y:,.0f}" if y else "not measured"
        if y and r:
            text += f"\n({y / r:.2f}×)"
        ax.annotate(text, (x - 0.18, y), ha="center", va="bottom", fontsize=7)
    ax.set_xticks(xs, [f"{label(n)} articles" for n in sizes])
    ax.set_ylabel("hot feed req/s (identity)")
    ax.set_ylim(top=max([1.0, *own, *ref]) * 1.35)
    ax2 = ax.twinx()
    rss = [suite.sizes_out[n].peak_rss_mb or 0 for n in sizes]
    ax2.plot(xs, rss, "o-", color="#9467bd", label="peak RSS, MB (right)")
    ax2.axhline(TARGETS["rss_mb"], color="#9467bd", ls="--", lw=0.8)
    ax2.set_ylim(0, max([TARGETS["rss_mb"], *rss]) * 1.2)
    ax2.set_ylabel("MB")
    ax.set_title("per-request cost and memory by content size\ndashed: 1 GB target", fontsize=10)
    lines1, labels1 = ax.get_legend_handles_labels()
    lines2, labels2 = ax2.get_legend_handles_labels()
    ax.legend(lines1 + lines2, labels1 + labels2, fontsize=8, loc="upper left")
    fig.suptitle(
        f"smcfeed benchmarks ({'quick' if suite.quick else 'full'} run), "
        f"{now.strftime('%Y-%m-%d')}, {info['nproc']}× {info['cpu']}, {info['ram']} RAM",
        fontsize=12,
    )
    fig.tight_layout(rect=(0, 0, 1, 0.93))
    fig.savefig(path, dpi=110)
    plt.close(fig)


# --------------------------------------------------------------------------------------------


def save_state(suite: Suite, info: dict[str, str], now: datetime, path: Path) -> None:
    """Everything measured, as JSON (bench/work/latest.json; --report re-renders from it)."""
    raw = {
        "date": now.isoformat(),
        "machine": info,
        "quick": suite.quick,
        "sizes_run": suite.sizes,
        "edit_sizes": sorted(suite.edit_sizes),
        "duration": suite.duration,
        "rounds": suite.rounds,
        "budget": suite.budget.seconds,
        "elapsed": suite.budget.elapsed(),
        "load_start": list(suite.load_start),
        "load_end": list(suite.load_end),
        "notes": suite.notes,
        "compare_notes": suite.compare_notes,
        "pinned": suite.pinned,
        "compare": {k: {p: asdict(r) for p, r in v.items()} for k, v in suite.compare.items()},
        "sizes": {str(n): asdict(r) for n, r in suite.sizes_out.items()},
    }
    path.write_text(json.dumps(raw, indent=1, default=str))


def load_state(path: Path) -> tuple[Suite, dict[str, str], datetime]:
    raw = json.loads(path.read_text())
    suite = Suite(
        argparse.Namespace(
            quick=raw["quick"],
            duration=raw["duration"],
            budget=raw["budget"],
            seed=5,
            regenerate=False,
        )
    )
    suite.rounds = raw.get("rounds", suite.rounds)
    suite.sizes, suite.edit_sizes = raw["sizes_run"], set(raw["edit_sizes"])
    suite.budget.start = time.monotonic() - raw["elapsed"]
    suite.load_start = tuple(raw["load_start"])
    suite.load_end = tuple(raw.get("load_end", raw["load_start"]))
    suite.notes, suite.compare_notes = raw["notes"], raw["compare_notes"]
    suite.pinned = raw.get("pinned", True)
    suite.compare = {
        k: {p: WrkResult(**r) for p, r in v.items()} for k, v in raw["compare"].items()
    }
    for n, r in raw["sizes"].items():
        for key in ("hot", "hot_reference"):
            if r.get(key):
                r[key] = WrkResult(**r[key])
        suite.sizes_out[int(n)] = SizeResult(**r)
    return suite, raw["machine"], datetime.fromisoformat(raw["date"])


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
        help="wrk seconds per server and path, in runs of 2 s (default 10, quick 6)",
    )
    p.add_argument(
        "--budget", type=float, help="seconds for the whole run (default 600, quick 240)"
    )
    p.add_argument(
        "--no-pin",
        action="store_true",
        help="do not pin servers to CPU 0 and wrk to CPU 1 while measuring throughput",
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


if __name__ == "__main__":
    sys.exit(main())
