"""Start-up and edit latency of two builds side by side: cold start, edit visible, warm restart.

    python bench/startup.py 100000 --other main=/path/to/other/checkout/src [--rounds 2]

Each round measures every build in turn on the same generated folder (``bench/work/
content-<size>``, made by gen.py if missing), so that other work on a shared machine falls on
both alike: a cold start (parse cache emptied, the folder's files dropped from the page cache)
of a watching server to its first 200 on /es/rss.xml, an edit of the newest Spanish title until
that feed shows it, then a warm restart (page cache and the build's own parse cache warm,
``--no-watch``) to its first 200. The other build runs with this interpreter and its ``src``
first on PYTHONPATH. Prints one Markdown table; writes nothing else but logs under bench/work.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
from pathlib import Path

from harness.common import WORK, gen, label, log
from harness.servers import CACHE_HOME, Server, smcfeed_server, stop_all
from harness.suites import edit_once, evict_from_page_cache


def measure(
    name: str, folder: Path, article: Path, pythonpath: str | None, timeout: float
) -> dict[str, float | None]:
    env_cache = CACHE_HOME.with_name(f"xdg-cache-{name}")
    shutil.rmtree(env_cache, ignore_errors=True)
    evict_from_page_cache(folder)
    original = article.read_bytes()
    out: dict[str, float | None] = {}

    def server(watch: bool) -> Server:
        s = smcfeed_server(folder, watch=watch)
        s.cmd = [sys.executable, "-m", "smcfeed", *s.cmd[1:]]
        s.name = f"{name}-{'watch' if watch else 'warm'}"
        s.env["XDG_CACHE_HOME"] = str(env_cache)
        if pythonpath:
            s.env["PYTHONPATH"] = pythonpath
        return s

    cold = server(watch=True)
    try:
        cold.start()
        out["cold_s"] = cold.wait_ready(timeout)
        if out["cold_s"] is not None:
            # Let the catch-up reload and the parse cache's save finish before the edit.
            cold.wait_idle(60.0)
            out["edit_s"] = edit_once(cold, article, 30.0)
        out["peak_rss_mb"] = cold.hwm_kb() / 1024
    finally:
        cold.stop()
        article.write_bytes(original)
    warm = server(watch=False)
    try:
        warm.start()
        out["warm_s"] = warm.wait_ready(timeout)
    finally:
        warm.stop()
    return out


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("size", type=int)
    p.add_argument("--other", action="append", default=[], help="NAME=SRC_FOLDER")
    p.add_argument("--rounds", type=int, default=1)
    p.add_argument("--timeout", type=float, default=180.0)
    args = p.parse_args()
    folder = WORK / f"content-{label(args.size)}"
    stamp = gen.ensure(args.size, folder, 5, force=False)[0]
    article = folder / str(stamp["newest_es"])
    builds: list[tuple[str, str | None]] = [("this branch", None)]
    for other in args.other:
        other_name, other_src = other.split("=", 1)
        builds.append((other_name, other_src))
    results: dict[str, list[dict[str, float | None]]] = {name: [] for name, _ in builds}
    try:
        for round_no in range(args.rounds):
            order = builds if round_no % 2 == 0 else builds[::-1]
            for name, src in order:
                log(f"round {round_no + 1}: {name}")
                got = measure(name.replace(" ", "-"), folder, article, src, args.timeout)
                log(f"  {got}")
                results[name].append(got)
    finally:
        stop_all()

    def median(name: str, key: str) -> str:
        values = [r[key] for r in results[name] if r.get(key) is not None]
        return f"{statistics.median(values):.2f}" if values else "—"  # type: ignore[type-var]

    print(f"\n{label(args.size)} articles, median of {args.rounds} round(s)\n")
    print("| build | cold start s | warm restart s | edit visible s | peak RSS MB |")
    print("|---|---:|---:|---:|---:|")
    for name, _ in builds:
        row = [median(name, k) for k in ("cold_s", "warm_s", "edit_s", "peak_rss_mb")]
        print(f"| {name} | {' | '.join(row)} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
