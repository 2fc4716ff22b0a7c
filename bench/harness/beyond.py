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
from .load import Duel, WrkResult, drive, duel, paired
from .servers import (
    Server,
    bare_server,
    free_port,
    nginx_server,
    request,
    smcfeed_server,
    varnish_server,
)

if TYPE_CHECKING:
    from .suites import Suite

#: Articles in the mid-size folder: its /es/rss.xml has 50 items of about 3 KB.
MID_ARTICLES = 300
#: The servers of the mid-size run, in the order the report lists them.
MID_SERVERS = {
    "smcfeed": "smcfeed, 1 worker (per-request cost)",
    "procfile": "smcfeed as the Procfile runs it (2 workers)",
    "procfile-nolog": "the same with `--no-access-log`",
    "bare": "bare Starlette app (best of granian, uvicorn)",
    "nginx": "nginx, plain file",
    "export": "nginx serving `smcfeed build` output (generated config)",
    "varnish": "Varnish (shipped VCL) in front of the Procfile's smcfeed",
}
#: Pairs of 1 s runs for the targets' ratios (against the bare app, with and without the
#: access log), by whether the run is quick.
MID_PAIRS = {True: (12, 30), False: (20, 50)}


def mid_seconds(suite: Suite) -> float:
    """About how long :func:`mid_comparison` takes."""
    pairs, log_pairs = MID_PAIRS[suite.quick]
    table = len(MID_SERVERS) * 3 * (suite.duration + 1.5)
    return 60 + table + 3 * 2 * (pairs + log_pairs) * 1.1


#: Servers compared with nginx serving a plain file rather than with the bare app.
VS_NGINX = ("export", "varnish")


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
    quiet = smcfeed_server(
        folder, watch=True, workers=2, access_log=False, name="smcfeed-procfile-nolog"
    )
    started: list[Server] = []
    result: dict[str, Any] = {"articles": MID_ARTICLES, "notes": []}
    suite.extra["mid"] = result
    try:
        for server in (one, two, quiet):
            server.start()
            started.append(server)
        for server in (one, two, quiet):
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
        cdn = varnish_server(two.port, WORK / "varnish-mid")
        if cdn is None:
            result["notes"].append("varnishd is not installed: no Varnish row")
        for server in (*bares, plain, *([export] if export else []), *([cdn] if cdn else [])):
            server.start()
            started.append(server)
            if server.wait_ready(60) is None:
                raise RuntimeError(f"{server.name}: no answer. {server.log_tail(5)}")
        # The Procfile's servers fork their workers again once, a second after start.
        time.sleep(3)
        targets = {
            "smcfeed": one,
            "procfile": two,
            "procfile-nolog": quiet,
            **{s.name: s for s in bares},
            "nginx": plain,
        }
        if export is not None:
            targets["export"] = export
        if cdn is not None:
            targets["varnish"] = cdn
        measured = drive(targets, suite.duration, rounds=suite.rounds)
        from .suites import best_bare

        notes: dict[str, str] = {}
        merged = best_bare(measured, notes)
        result["bare_note"] = notes.get("bare", "")
        result["results"] = {
            name: {path: vars(r) for path, r in paths.items()} for name, paths in merged.items()
        }
        # The targets' ratios, each from two servers alone taking turns second by second;
        # the access log's few percent need more pairs to stand out of the machine's noise.
        pairs, log_pairs = MID_PAIRS[suite.quick]
        log(
            f"mid-size feed: the targets' ratios, {pairs} pairs of 1 s runs per path against "
            f"the bare app, {log_pairs} with and without the access log"
        )
        duels = []
        for path in ("identity", "gzip", "304"):
            chosen = max(bares, key=lambda b: measured[b.name][path].rps)
            duels.append(duel(two, chosen, path, pairs))
            duels.append(duel(two, quiet, path, log_pairs))
        result["duels"] = [vars(d) for d in duels]
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


def _ratio(
    results: dict[str, Any], name: str, base: str, path: str
) -> tuple[float, float, float] | None:
    """``name`` against ``base`` on ``path``, round by round (``load.paired``)."""
    a, b = results.get(name, {}).get(path), results.get(base, {}).get(path)
    if not a or not b:
        return None
    return paired(_result(a), _result(b))


def _result(raw: dict[str, Any]) -> WrkResult:
    return WrkResult(**raw)


def _mid_targets(mid: dict[str, Any]) -> list[str]:
    """Issue 14's speed targets on the mid-size feed: each ratio from two servers alone,
    taking turns in 1 s runs (``load.duel``)."""
    duels = [Duel(**d) for d in mid.get("duels", [])]
    if not duels:
        return []
    bare = {len(d.a_runs) for d in duels if d.b.startswith("bare-")}
    logs = {len(d.a_runs) for d in duels if not d.b.startswith("bare-")}
    counts = " and ".join(
        f"{'/'.join(map(str, sorted(n)))} pairs {what}"
        for n, what in ((bare, "against the bare app"), (logs, "with and without the log"))
        if n
    )
    lines = [
        f"Targets: each ratio from the two servers alone, taking turns in 1 s runs (A B B A …; "
        f"{counts}), the median of the pairs' ratios and their quartiles.",
        "",
        "| target (mid-size feed) | path | ratio | quartiles | verdict |",
        "|---|---|---:|---:|---|",
    ]
    for d in duels:
        middle, low, high = d.summary()
        if d.b.startswith("bare-"):
            lines.append(
                f"| the Procfile's smcfeed ≥ 1.0× the best bare app ({d.b.removeprefix('bare-')})"
                f" | {d.path} | {middle:.2f}× | {low:.2f}–{high:.2f} | "
                f"{'PASS' if middle >= 1.0 else 'FAIL'} |"
            )
        else:
            cost = 1 - middle
            lines.append(
                f"| the access log costs ≤ 5 % (Procfile with / without it) | {d.path} | "
                f"{middle:.3f}× (costs {cost:.1%}) | {low:.2f}–{high:.2f} | "
                f"{'PASS' if cost <= 0.05 else 'FAIL'} |"
            )
    return lines


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
            "log on (to its log file). Varnish (Debian's, with the shipped VCL, `malloc,256m`) "
            "sits in front of the Procfile's smcfeed and answers from its cache; it and the "
            "export are compared with nginx serving the same bytes from a plain file.",
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
                "| server | path | req/s | vs bare (rounds' quartiles) | p50 ms | p99 ms "
                "| body bytes |",
                "|---|---|---:|---:|---:|---:|---:|",
            ]
            for name, title in MID_SERVERS.items():
                for path, r in results.get(name, {}).items():
                    base = "nginx" if name in VS_NGINX else "bare"
                    ratio = _ratio(results, name, base, path)
                    shown = f"{ratio[0]:.2f}× ({ratio[1]:.2f}–{ratio[2]:.2f})" if ratio else "—"
                    if name in VS_NGINX and ratio:
                        shown += " vs nginx"
                    lines.append(
                        f"| {title} | {path} | {r['rps']:,.0f} | {shown} | {r['p50_ms']:.2f} | "
                        f"{r['p99_ms']:.2f} | {r['bytes_per_response']:,} |"
                    )
            if mid.get("bare_note"):
                lines += ["", f"Bare app: {mid['bare_note']}."]
            lines += ["", *_mid_targets(mid)]
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


def chart(suite: Suite, left: Any, right: Any) -> None:
    """The chart's last row: the mid-size feed's req/s per server and path (left), and the
    targets' duel ratios with their quartiles (right)."""
    mid = suite.extra.get("mid") or {}
    results = mid.get("results", {})
    paths = ("identity", "gzip", "304")
    names = [n for n in MID_SERVERS if n in results]
    if not names:
        for ax in (left, right):
            ax.set_axis_off()
            ax.text(0.5, 0.5, "mid-size feed: not measured", ha="center", transform=ax.transAxes)
        return
    width = 0.8 / len(names)
    for i, name in enumerate(names):
        xs = [p + (i - (len(names) - 1) / 2) * width for p in range(len(paths))]
        ys = [results[name].get(path, {}).get("rps", 0) for path in paths]
        left.bar(xs, ys, width, label=MID_SERVERS[name].replace("`", ""))
    left.set_yscale("log")
    left.set_xticks(range(len(paths)), paths)
    left.set_ylabel("req/s (log scale)")
    left.set_title(
        f"mid-size feed ({mid.get('bytes', 0) / 1000:.0f} KB, 50 items): req/s", fontsize=10
    )
    left.legend(fontsize=7, loc="upper left")
    duels = [Duel(**d) for d in mid.get("duels", [])]
    groups = {"bare": "Procfile's smcfeed / best bare app", "log": "access log on / off"}
    for j, (kind, title) in enumerate(groups.items()):
        chosen = [d for d in duels if d.b.startswith("bare-") == (kind == "bare")]
        xs = [paths.index(d.path) + (j - 0.5) * 0.35 for d in chosen]
        summary = [d.summary() for d in chosen]
        middle = [m for m, _, _ in summary]
        errors = [[m - lo for m, lo, _ in summary], [hi - m for m, _, hi in summary]]
        right.bar(xs, middle, 0.35, yerr=errors, capsize=4, label=title)
        for x, m in zip(xs, middle, strict=True):
            right.annotate(f"{m:.2f}×", (x, m), ha="center", va="bottom", fontsize=8)
    right.axhline(1.0, color="#2ca02c", ls="--", lw=0.8)
    right.axhline(0.95, color="#d62728", ls=":", lw=0.8)
    right.set_xticks(range(len(paths)), paths)
    right.set_ylim(0.5, 1.6)
    right.set_title(
        "targets, duels of 1 s runs: median ratio, bars = quartiles\n"
        "dashed 1.0× (vs bare app ≥), dotted 0.95× (access log ≥)",
        fontsize=10,
    )
    right.legend(fontsize=8, loc="upper left")
