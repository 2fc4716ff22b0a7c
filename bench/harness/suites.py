"""The measurements: per content size (cold and warm start, memory, edits, the hot feed), and
the hot feed against the baselines."""

from __future__ import annotations

import argparse
import contextlib
import gzip
import json
import os
import shutil
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .common import BENCH, HOT, PATHS, SERVERS, WORK, Budget, gen, label, log
from .load import WrkResult, drive
from .servers import (
    CACHE_HOME,
    OPERATOR_TOKEN,
    PIN,
    Server,
    bare_server,
    free_port,
    nginx_server,
    request,
    smcfeed_server,
)

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
    """Change the article's title; seconds until /es/rss.xml shows it (None on timeout).
    Measured once the server has settled (its one start-up re-fork of the workers done): an
    edit made during that second waits for the new workers' first look."""
    server.wait_settled()
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


def best_bare(
    measured: dict[str, dict[str, WrkResult]], notes: dict[str, str]
) -> dict[str, dict[str, WrkResult]]:
    """``measured`` with the bare app's runs under granian and uvicorn merged into one ``bare``
    entry: per path, the faster of the two (the note says which)."""
    out = {k: v for k, v in measured.items() if not k.startswith("bare-")}
    kinds = {k: v for k, v in measured.items() if k.startswith("bare-")}
    if kinds:
        out["bare"] = {}
        chosen = []
        for path in next(iter(kinds.values())):
            name, result = max(
                ((k, v[path]) for k, v in kinds.items() if path in v), key=lambda kv: kv[1].rps
            )
            out["bare"][path] = result
            chosen.append(f"{path}: {name.removeprefix('bare-')}")
        notes["bare"] = "best of granian and uvicorn per path (" + ", ".join(chosen) + ")"
    return out


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
        #: Each wrk measurement is cut into runs of 1 s that take turns between servers, and
        #: servers are compared round by round (``load.paired``).
        self.rounds = max(1, round(self.duration))
        self.budget = Budget(args.budget or (960.0 if self.quick else 1500.0))
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
        #: Results of the runs in beyond.py (mid-size feed, export, workers' memory), as JSON.
        self.extra: dict[str, Any] = {}
        #: Articles of the folder the workers' memory is measured on.
        self.memory_articles: int = getattr(args, "memory_articles", None) or self.sizes[-1]

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
                _, _, body = request(
                    server.port,
                    "/operator/status",
                    {"Authorization": f"Bearer {OPERATOR_TOKEN}"},
                )
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

        bares = [bare_server(kind, static / "es" / "rss.xml") for kind in ("granian", "uvicorn")]
        port = free_port()
        nginx = nginx_server(
            "nginx", self._nginx_conf(port, static, WORK / "nginx"), WORK / "nginx", port
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
        baselines = [*bares, nginx, django]
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
            measured = drive(fast, self.duration, rounds=self.rounds)
            self.compare.update(best_bare(measured, self.compare_notes))
            # Issue 5's own reference: the bare app under smcfeed's server (granian).
            if "bare-granian" in measured:
                self.compare["bare-granian"] = measured["bare-granian"]
            if "django" in targets:  # one run: at ~30 req/s, 2-s runs are mostly ramp-up
                self.compare.update(drive({"django": targets["django"]}, self.duration, rounds=1))
        finally:
            for server in baselines:
                server.stop()

    def _nginx_conf(self, port: int, static: Path, home: Path) -> Path:
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
        from . import beyond

        if self.budget.left() > beyond.mid_seconds(self):
            beyond.mid_comparison(self)
        else:
            self.notes.append("mid-size feed and export: not measured, over the time budget.")
        if self.budget.left() > 30 or self.memory_articles < 100_000:
            beyond.workers_memory(self, self.memory_articles)
        else:
            self.notes.append("workers' memory: not measured, over the time budget.")
        first = self.sizes_out.get(self.sizes[0])
        if first is not None and "smcfeed" in self.compare:
            first.hot = self.compare["smcfeed"]["identity"]
