"""Load: wrk runs against the hot feed, taking turns between servers."""

from __future__ import annotations

import re
import statistics
import subprocess
import time
from dataclasses import dataclass, field

from .common import HOT, PATHS, log
from .servers import DRIVING, PIN, Server, pinned, request, set_affinity

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


def paired(a: WrkResult, b: WrkResult) -> tuple[float, float, float]:
    """``a`` against ``b`` measured in the same rounds: the median of the rounds' ratios
    a/b, and their lower and upper quartiles. A machine whose speed drifts (a shared or
    virtual one) moves both sides of a round alike, so this says more than the ratio of the
    medians. Falls back to that ratio when the rounds cannot be paired."""
    if len(a.runs) != len(b.runs) or not a.runs or not all(b.runs):
        ratio = a.rps / b.rps if b.rps else 0.0
        return ratio, ratio, ratio
    return median_and_quartiles([x / y for x, y in zip(a.runs, b.runs, strict=True)])


def median_and_quartiles(ratios: list[float]) -> tuple[float, float, float]:
    """The median of ``ratios`` and their lower and upper quartiles (with fewer than four,
    the smallest and largest; all 0.0 for none)."""
    ratios = sorted(ratios)
    if len(ratios) < 4:
        middle = statistics.median(ratios) if ratios else 0.0
        return middle, min(ratios, default=0.0), max(ratios, default=0.0)
    q1, _, q3 = statistics.quantiles(ratios, n=4)
    return statistics.median(ratios), q1, q3


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
    for _attempt in range(3):
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=duration + 30)
        out = done.stdout
        if "Requests/sec:" in out:
            break
        # wrk could not connect at all (a server between workers?): once more, a second on.
        log(f"  wrk on port {port} said: {(done.stdout + done.stderr).strip()[-200:]}")
        time.sleep(1)
    else:
        return WrkResult(0.0, 0.0, 0.0, 0, 0, note="wrk could not measure")
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
    for server in servers.values():
        if not server.wait_settled():
            log(f"  {server.name}: its workers were not forked again within 180 s")
    set_affinity(list(servers.values()), PIN.get("server"))
    DRIVING.set()
    try:
        return _drive(
            {name: server.port for name, server in servers.items()}, duration, paths, rounds
        )
    finally:
        DRIVING.clear()
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
            note = note or next((x.note for x in results if x.note), "")
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


@dataclass
class Duel:
    """Two servers measured in alternating 1 s runs (A B B A A B …) on one path."""

    a: str
    b: str
    path: str
    a_runs: list[float]
    b_runs: list[float]

    def ratios(self) -> list[float]:
        return [x / y for x, y in zip(self.a_runs, self.b_runs, strict=True) if y]

    def summary(self) -> tuple[float, float, float]:
        """Median of the pairs' ratios a/b, and their lower and upper quartiles."""
        return median_and_quartiles(self.ratios())


def duel(a: Server, b: Server, path: str, pairs: int) -> Duel:
    """``pairs`` pairs of 1 s wrk runs on ``a`` and ``b``, taking turns (ABBA), so that a
    drift in the machine's speed falls on both sides of each pair alike."""
    servers = [a, b]
    for server in servers:
        server.wait_settled()
    set_affinity(servers, PIN.get("server"))
    DRIVING.set()
    try:
        etags = {s.name: request(s.port, HOT)[1].get("etag", '"none"') for s in servers}
        for s in servers:
            probe(s.port, path, etags[s.name])
        runs: dict[str, list[float]] = {a.name: [], b.name: []}
        for i in range(pairs):
            for s in servers if i % 2 == 0 else servers[::-1]:
                runs[s.name].append(wrk(s.port, path_headers(path, etags[s.name]), 1).rps)
    finally:
        DRIVING.clear()
        set_affinity(servers, None)
    result = Duel(a.name, b.name, path, runs[a.name], runs[b.name])
    middle, low, high = result.summary()
    log(f"  {a.name} / {b.name} {path:8} {middle:.3f}× (quartiles {low:.2f}–{high:.2f})")
    return result
