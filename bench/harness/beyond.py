"""The Procfile's configuration on a mid-size feed against the bare app, the static export
through nginx against nginx serving a plain file, and the memory of 2 workers against 1."""

from __future__ import annotations

import contextlib
import gzip
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .common import HOT, WORK, gen, label, log
from .load import drive
from .servers import Server, bare_server, free_port, nginx_server, request, smcfeed_server

if TYPE_CHECKING:
    from .suites import Suite

#: Articles in the mid-size folder: its /es/rss.xml has 50 items of about 3 KB.
MID_ARTICLES = 300
#: The servers of the mid-size run, in the order the report lists them.
MID_SERVERS = {
    "smcfeed": "smcfeed, 1 worker (per-request cost)",
    "procfile": "smcfeed as the Procfile runs it (2 workers)",
    "bare": "bare Starlette app (best of granian, uvicorn)",
    "nginx": "nginx, plain file",
    "export": "nginx serving `smcfeed build` output (generated config)",
}


def mid_comparison(suite: Suite) -> None:
    """The mid-size feed, served by smcfeed (1 worker, and 2 as the Procfile), the bare app
    under granian and uvicorn, nginx with a plain file, and nginx with the static export."""
    folder = WORK / "content-mid"
    gen.ensure(MID_ARTICLES, folder, seed=suite.args.seed, profile="mid")
    log(
        f"mid-size feed: {MID_ARTICLES} articles ({folder}), wrk -t2 -c64, "
        f"{suite.duration:.0f} s per server and path"
    )
    one = smcfeed_server(folder, watch=True, workers=1, name="smcfeed-mid")
    two = smcfeed_server(folder, watch=True, workers=2, name="smcfeed-procfile")
    started: list[Server] = []
    result: dict[str, Any] = {"articles": MID_ARTICLES, "notes": []}
    suite.extra["mid"] = result
    try:
        for server in (one, two):
            server.start()
            started.append(server)
        for server in (one, two):
            if server.wait_ready(120) is None:
                raise RuntimeError(f"{server.name}: no answer. {server.log_tail(5)}")
        static = WORK / "static-mid" / "es"
        static.mkdir(parents=True, exist_ok=True)
        _, _, identity = request(one.port, HOT)
        _, _, gz = request(one.port, HOT, {"Accept-Encoding": "gzip"})
        result["bytes"], result["gzip_bytes"] = len(identity), len(gz)
        (static / "rss.xml").write_bytes(identity)
        (static / "rss.xml.gz").write_bytes(gz)
        assert gzip.decompress(gz) == identity
        bares = [bare_server(kind, static / "rss.xml") for kind in ("granian", "uvicorn")]
        port = free_port()
        home = WORK / "nginx-mid"
        plain = nginx_server("nginx", suite._nginx_conf(port, static.parent, home), home, port)
        export = _export_server(folder, one.port, result)
        for server in (*bares, plain, *([export] if export else [])):
            server.start()
            started.append(server)
            if server.wait_ready(60) is None:
                raise RuntimeError(f"{server.name}: no answer. {server.log_tail(5)}")
        targets = {"smcfeed": one, "procfile": two, **{s.name: s for s in bares}, "nginx": plain}
        if export is not None:
            targets["export"] = export
        measured = drive(targets, suite.duration, rounds=suite.rounds)
        from .suites import best_bare

        notes: dict[str, str] = {}
        merged = best_bare(measured, notes)
        result["bare_note"] = notes.get("bare", "")
        result["results"] = {
            name: {path: vars(r) for path, r in paths.items()} for name, paths in merged.items()
        }
    except (RuntimeError, OSError, subprocess.SubprocessError) as e:
        result["notes"].append(f"failed: {e}")
        log(f"  mid-size run failed: {e}")
    finally:
        for server in started:
            server.stop()


def _export_server(folder: Path, port: int, result: dict[str, Any]) -> Server | None:
    """``smcfeed build`` of ``folder`` (links as the 1-worker server makes them), served by
    nginx with the generated configuration, one worker process as the plain-file nginx."""
    out = WORK / "export-mid"
    listen = free_port()
    script = Path(sys.executable).with_name("smcfeed")
    cmd = [str(script)] if script.exists() else [sys.executable, "-m", "smcfeed"]
    cmd += ["build", "--out", str(out), "--content", str(folder)]
    cmd += ["--base-url", f"http://127.0.0.1:{port}", "--listen", f"127.0.0.1:{listen}"]
    started = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    if done.returncode != 0:
        result["notes"].append(f"build failed: {done.stderr.strip()[-300:]}")
        return None
    result["build_s"] = time.perf_counter() - started
    result["build_said"] = done.stdout.strip().splitlines()
    log(f"  built the export in {result['build_s']:.1f} s: {result['build_said'][0]}")
    conf = out / "nginx" / "nginx.conf"
    # The same process model as the plain-file nginx: one worker, long keep-alive.
    text = conf.read_text().replace("worker_processes auto;", "worker_processes 1;")
    text = text.replace(
        "    access_log off;", "    access_log off;\n    keepalive_requests 1000000;"
    )
    bench_conf = WORK / "nginx-export" / "nginx.conf"
    bench_conf.parent.mkdir(parents=True, exist_ok=True)
    bench_conf.write_text(re.sub(r"(?m)^pid .*$", f"pid {bench_conf.parent}/nginx.pid;", text))
    server = nginx_server("export", bench_conf, WORK / "nginx-export", listen)
    server.cmd += ["-g", "daemon off;"]
    return server


def workers_memory(suite: Suite, n: int) -> None:
    """Summed PSS of ``smcfeed serve`` (watching, access log on) with 1 and with 2 workers on
    the ``n``-article folder, after the same requests; shared pages count once."""
    folder = suite.content(n)
    gen.ensure(n, folder, seed=suite.args.seed)
    result: dict[str, Any] = {"articles": n}
    suite.extra["memory"] = result
    paths = [HOT, "/en/rss.xml", "/es/atom.xml", "/es/feed.json", "/feeds.opml", "/"]
    # Both measured from a warm parse cache: a first start that parses the folder keeps
    # the parse's garbage and workers' pools around for a while.
    warmup = smcfeed_server(folder, watch=False, workers=1, name="smcfeed-warmup")
    try:
        warmup.start()
        if warmup.wait_ready(900) is not None:
            warmup.wait_idle(120)
    finally:
        warmup.stop()
    for workers in (1, 2):
        server = smcfeed_server(folder, watch=True, workers=workers, name=f"smcfeed-{workers}w")
        log(f"memory: {label(n)} articles, {workers} worker(s)")
        try:
            server.start()
            ready = server.wait_ready(900)
            if ready is None:
                result[f"w{workers}_note"] = "no answer within 900 s"
                continue
            server.wait_idle(60)
            # Every worker answers: enough requests that each has served each path.
            for _ in range(10 * workers):
                for path in paths:
                    with contextlib.suppress(OSError):
                        request(server.port, path)
            time.sleep(1.5)  # the access log's writer flushes once a second
            result[f"w{workers}_pss_mb"] = server.pss_kb() / 1024
            result[f"w{workers}_rss_mb"] = server.rss_kb() / 1024
            result[f"w{workers}_processes"] = len(server.pids())
            result[f"w{workers}_ready_s"] = ready
            log(
                f"  PSS {result[f'w{workers}_pss_mb']:.0f} MB, RSS "
                f"{result[f'w{workers}_rss_mb']:.0f} MB over {len(server.pids())} processes"
            )
        finally:
            server.stop()
    if result.get("w1_pss_mb") and result.get("w2_pss_mb"):
        result["ratio"] = result["w2_pss_mb"] / result["w1_pss_mb"]
        log(f"  2 workers / 1 worker: {result['ratio']:.2f}×")


def markdown(suite: Suite) -> list[str]:
    """The report's sections for the runs above."""
    lines: list[str] = []
    mid = suite.extra.get("mid")
    if mid:
        lines += [
            "",
            "## Mid-size feed and the static export",
            "",
            f"`/es/rss.xml` of a {mid['articles']}-article folder (`bench/gen.py --profile mid`): "
            f"50 items, {mid.get('bytes', 0) / 1000:.0f} KB ({mid.get('gzip_bytes', 0) / 1000:.0f}"
            " KB gzipped). Same wrk settings and rounds as above; every server pinned to CPU 0 "
            "(the Procfile's 2 workers share that core, so that row measures the configuration's "
            "overhead, not a second core). smcfeed runs as the Procfile runs it: watching, access "
            "log on (to its log file).",
            "",
        ]
        if "build_s" in mid:
            lines += [
                f"The export (`smcfeed build`) took {mid['build_s']:.1f} s: "
                + "; ".join(mid.get("build_said", [])[:1])
                + ". nginx serves it with the generated configuration (ETag map, types, "
                "`gzip_static`, `brotli_static` where installed), one worker process.",
                "",
            ]
        results = mid.get("results", {})
        if results:
            lines += [
                "| server | path | req/s | vs bare | p50 ms | p99 ms | body bytes |",
                "|---|---|---:|---:|---:|---:|---:|",
            ]
            bare = results.get("bare", {})
            nginx = results.get("nginx", {})
            for name, title in MID_SERVERS.items():
                for path, r in results.get(name, {}).items():
                    base = nginx if name == "export" else bare
                    ref = base.get(path, {}).get("rps")
                    ratio = f"{r['rps'] / ref:.2f}×" if ref else "—"
                    if name == "export" and ref:
                        ratio += " (vs nginx)"
                    lines.append(
                        f"| {title} | {path} | {r['rps']:,.0f} | {ratio} | {r['p50_ms']:.2f} | "
                        f"{r['p99_ms']:.2f} | {r['bytes_per_response']:,} |"
                    )
            if mid.get("bare_note"):
                lines += ["", f"Bare app: {mid['bare_note']}."]
        for note in mid.get("notes", []):
            lines += ["", f"Note: {note}"]
    memory = suite.extra.get("memory")
    if memory:
        lines += [
            "",
            "## Memory with workers",
            "",
            f"`smcfeed serve --workers N` (watching, access log on) on the "
            f"{label(memory['articles'])}-article folder, warm parse cache, after each worker "
            "has served the same feeds; PSS summed over the main process and its workers "
            "(a page shared by k processes counts 1/k in each), RSS summed for comparison.",
            "",
            "| workers | processes | PSS MB | RSS MB (shared pages counted per process) |",
            "|---:|---:|---:|---:|",
        ]
        for workers in (1, 2):
            if f"w{workers}_pss_mb" in memory:
                lines.append(
                    f"| {workers} | {memory[f'w{workers}_processes']} | "
                    f"{memory[f'w{workers}_pss_mb']:,.0f} | {memory[f'w{workers}_rss_mb']:,.0f} |"
                )
            else:
                lines.append(f"| {workers} | — | — | {memory.get(f'w{workers}_note', '')} |")
        if "ratio" in memory:
            verdict = "met" if memory["ratio"] <= 1.2 else "NOT met"
            lines += [
                "",
                f"2 workers use **{memory['ratio']:.2f}×** the memory of 1 (target ≤ 1.2×: "
                f"{verdict}).",
            ]
    return lines
