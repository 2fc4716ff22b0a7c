"""Load: wrk runs against the hot feed, taking turns between servers."""

from __future__ import annotations

import re
import statistics
import subprocess
from dataclasses import dataclass, field

from .common import HOT, PATHS, log
from .servers import PIN, Server, pinned, request, set_affinity

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
