"""The report: targets, the Markdown table and the chart, and the raw numbers kept between runs."""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import subprocess
import time
from dataclasses import asdict
from datetime import datetime
from importlib import metadata
from pathlib import Path

from .common import PATHS, SERVER_LABELS, SERVERS, TARGETS, label
from .load import WrkResult, paired
from .suites import SizeResult, Suite

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
    sm, bare, dj, same = (
        suite.compare.get(k, {}) for k in ("smcfeed", "bare", "django", "bare-granian")
    )
    for path in PATHS:
        s, b, d, g = sm.get(path), bare.get(path), dj.get(path), same.get(path)
        if s and b:
            ratio, low, high = paired(s, b)
            rows.append(
                (
                    f"{path}: throughput ≥ {TARGETS['vs_bare']}× bare app (best of both)",
                    f"{s.rps:,.0f} vs {b.rps:,.0f} req/s",
                    f"{ratio:.2f}× (rounds: {low:.2f}–{high:.2f})",
                    verdict(ratio >= TARGETS["vs_bare"]),
                )
            )
        if s and g and g != b:  # (the best one was not granian)
            # Issue 5 defined its bare app as running under the same ASGI server.
            ratio, low, high = paired(s, g)
            rows.append(
                (
                    f"{path}: throughput ≥ {TARGETS['vs_bare']}× bare app, same server (granian)",
                    f"{s.rps:,.0f} vs {g.rps:,.0f} req/s",
                    f"{ratio:.2f}× (rounds: {low:.2f}–{high:.2f})",
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
        # With child processes (parse workers, forked workers) a sum of RSS counts the pages
        # they share with the main process twice: the peak of the summed PSS is what the
        # machine gives the server.
        peak = r.peak_pss_mb or r.peak_rss_mb
        what = "summed PSS" if r.peak_pss_mb else "RSS"
        detail = r.peak_rss_note + (
            f"; summed RSS {r.peak_rss_mb:,.0f} MB counts shared pages per process"
            if r.peak_pss_mb and r.peak_rss_mb
            else ""
        )
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
            (
                f"{name}: peak memory ≤ 1 GB ({what})",
                fmt_num(peak) + " MB",
                detail,
                verdict(rss_ok),
            )
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
        # The median of the rounds' ratios, as for the other side-by-side targets: a round in
        # which the machine slowed moves the ratio of the means, not the median.
        ratio, low, high = paired(large.hot, large.hot_reference)
        rows.append(
            (
                what,
                f"{large.hot.rps:,.0f} vs {large.hot_reference.rps:,.0f} req/s",
                f"{ratio:.2f}× (rounds: {low:.2f}–{high:.2f}; identity, the two servers "
                "taking turns)",
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
        "of the rounds, and their spread ((max − min) / 2 / median). Ratios between servers "
        "(targets below) are the median of the rounds' ratios, each round's servers measured "
        "seconds apart, with the quartiles of those ratios: this machine's speed drifts by tens "
        "of percent over a minute, which moves the servers of a round alike; "
        f"{label(suite.sizes[0])}-article folder, 50 items per feed. "
        "**Every server runs ONE worker process**"
        + (
            ", pinned to CPU 0 while measured, wrk pinned to CPU 1 (the machine has 2 cores)"
            if suite.pinned
            else ", unpinned, sharing the cores with wrk"
        )
        + ". Servers: smcfeed "
        "(`smcfeed serve --workers 1 --no-watch`: granian, uvloop, **access log on**, as the "
        "Procfile runs it), "
        "the bare Starlette app (`bench.bare_app:app` under granian `--loop uvloop --no-ws` and "
        "under uvicorn `--loop uvloop --http httptools --no-access-log`; the faster of the two "
        "per path is reported), nginx (`worker_processes 1`, gzip_static, etag), "
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
    if "bare" in suite.compare_notes:
        lines += ["", f"Bare app: {suite.compare_notes['bare']}."]
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
        res = suite.sizes_out.get(n)
        if res is None:
            continue
        warm = (
            fmt_s(res.warm_s, res.warm_timeout_s)
            if (res.warm_s or res.warm_timeout_s)
            else ("skipped" if res.warm_note else "—")
        )
        edit = (
            fmt_s(res.edit_s)
            if res.edit_s is not None
            else (
                res.edit_note.split(":")[0]
                if res.edit_note
                else ("—" if n in suite.edit_sizes else "not run")
            )
        )
        peak = fmt_num(res.peak_rss_mb) + (f" ({res.peak_rss_note})" if res.peak_rss_note else "")
        hot = res.hot
        lines.append(
            f"| {n:,} | {res.content_mb:.0f} | "
            f"{fmt_s(res.cold_s, res.cold_timeout_s, res.projected_cold_s)} | "
            f"{warm} | {fmt_num(res.cold_rss_mb)} | {peak} | {edit} | "
            f"{fmt_num(hot.rps if hot else None)} | {fmt_num(hot.p50_ms if hot else None, 2)} | "
            f"{fmt_num(hot.p99_ms if hot else None, 2)} | "
            + (
                f"{paired(hot, res.hot_reference)[0]:.2f}"
                if hot and res.hot_reference
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
        res = suite.sizes_out.get(n)
        if res is None:
            continue
        for what, note in (
            ("edit", res.edit_note),
            ("warm restart", res.warm_note),
            ("hot feed", res.hot_note),
        ):
            if note and not note.startswith(">"):
                notes.append(f"{label(n)} {what}: {note}.")
        if res.cold_timeout_s is not None:
            notes.append(
                f"{label(n)}: the server did not answer within the {res.cold_timeout_s:.0f} s "
                "left in "
                "the budget, so nothing else was measured at this size"
                + (
                    f"; a straight line through the measured cold starts projects ≈ "
                    f"{res.projected_cold_s:.0f} s"
                    if res.projected_cold_s
                    else ""
                )
                + "."
            )
        if res.peak_rss_mb and res.main_peak_rss_mb and res.peak_rss_mb - res.main_peak_rss_mb > 20:
            notes.append(
                f"{label(n)}: peak RSS {res.peak_rss_mb:,.0f} MB is summed over the server and its "
                f"parse worker processes; the main process alone peaked at "
                f"{res.main_peak_rss_mb:,.0f} MB"
                + (
                    f", and the summed PSS (shared pages counted once) at {res.peak_pss_mb:,.0f} MB"
                    if res.peak_pss_mb
                    else ""
                )
                + "."
            )
        if res.generated_s:
            notes.append(
                f"{label(n)}: content generated in {res.generated_s:.1f} s during this run."
            )
        if res.healthz:
            notes.append(f"{label(n)}: the operator view after start: {res.healthz}.")
    from .beyond import markdown as beyond_markdown

    lines += beyond_markdown(suite)
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

    fig, axes = plt.subplots(3, 2, figsize=(13, 14))
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
    own = [own_hot.rps if (own_hot := suite.sizes_out[n].hot) else 0 for n in sizes]
    ref = [ref_hot.rps if (ref_hot := suite.sizes_out[n].hot_reference) else 0 for n in sizes]
    ax.bar([x - 0.18 for x in xs], own, 0.36, color="#1f77b4", label="this size, req/s")
    ax.bar(
        [x + 0.18 for x in xs],
        ref,
        0.36,
        color="#aec7e8",
        label=f"{label(suite.sizes[0])} server, in turns with it",
    )
    for x, y, y_ref in zip(xs, own, ref, strict=True):
        text = f"{y:,.0f}" if y else "not measured"
        if y and y_ref:
            text += f"\n({y / y_ref:.2f}×)"
        ax.annotate(text, (x - 0.18, y), ha="center", va="bottom", fontsize=7)
    ax.set_xticks(xs, [f"{label(n)} articles" for n in sizes])
    ax.set_ylabel("hot feed req/s (identity)")
    ax.set_ylim(top=max([1.0, *own, *ref]) * 1.35)
    ax2 = ax.twinx()
    # The summed PSS where there were child processes (a sum of RSS counts shared pages twice).
    rss = [(suite.sizes_out[n].peak_pss_mb or suite.sizes_out[n].peak_rss_mb or 0) for n in sizes]
    ax2.plot(xs, rss, "o-", color="#9467bd", label="peak memory (summed PSS), MB (right)")
    ax2.axhline(TARGETS["rss_mb"], color="#9467bd", ls="--", lw=0.8)
    ax2.set_ylim(0, max([TARGETS["rss_mb"], *rss]) * 1.2)
    ax2.set_ylabel("MB")
    ax.set_title("per-request cost and memory by content size\ndashed: 1 GB target", fontsize=10)
    lines1, labels1 = ax.get_legend_handles_labels()
    lines2, labels2 = ax2.get_legend_handles_labels()
    ax.legend(lines1 + lines2, labels1 + labels2, fontsize=8, loc="upper left")
    from .beyond import chart as beyond_chart

    beyond_chart(suite, axes[2][0], axes[2][1])
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
        "extra": suite.extra,
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
    suite.extra = raw.get("extra", {})
    suite.compare = {
        k: {p: WrkResult(**r) for p, r in v.items()} for k, v in raw["compare"].items()
    }
    for n, r in raw["sizes"].items():
        for key in ("hot", "hot_reference"):
            if r.get(key):
                r[key] = WrkResult(**r[key])
        suite.sizes_out[int(n)] = SizeResult(**r)
    return suite, raw["machine"], datetime.fromisoformat(raw["date"])
