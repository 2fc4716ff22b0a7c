"""Where smcfeed's start-up time and memory go, on one generated content folder.

    python bench/profile_load.py bench/work/content-100k            # py-spy: cold + warm start
    python bench/profile_load.py bench/work/content-10k --memory    # tracemalloc: what holds RSS

Start-up: runs the real ``smcfeed serve`` (as bench/run.py does: first a cold start with an
empty parse cache, then a warm restart) under ``py-spy record --subprocesses`` until
``/es/rss.xml`` answers, and prints, for each start, the functions with the most samples
(inclusive: the function and what it calls) and self time by package, as shares of all CPU
samples of the server and its parse workers. Raw stacks go to bench/work/pyspy-*.txt.

Memory: loads the folder in this process (parsing in one process, so allocations are seen
where they are made) under tracemalloc, and prints the allocation sites holding the most
memory once the content is loaded and its hot feeds prepared.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import signal
import subprocess
import sys
import time
import tracemalloc
from collections import Counter, defaultdict
from datetime import UTC, datetime
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

from harness import common, servers, suites  # noqa: E402

#: Where start-up work hangs from: shares below are of the samples under it, and
#: pass-through frames (pools, imports, the server) are left out of the listing.
ANCHOR = "ContentState._reload (smcfeed/_state.py)"
PLUMBING = (
    "stdlib importlib",
    "stdlib multiprocessing",
    "stdlib concurrent",
    "uvicorn",
    "stdlib <frozen",
    "stdlib threading",
    "stdlib runpy",
)


def _key(frame: str) -> str:
    """``func (path:line)`` -> ``func (package/module.py)``."""
    name, _, where = frame.partition(" (")
    path = where.rsplit(":", 1)[0]
    parts = Path(path).parts
    if "site-packages" in parts:
        parts = parts[parts.index("site-packages") + 1 :]
    elif "smcfeed" in parts:
        parts = parts[parts.index("smcfeed") :]
    elif Path(path).is_absolute():
        parts = parts[-1:]
    return f"{name} ({'/'.join(parts)})"


def _package(key: str) -> str:
    path = key.rsplit("(", 1)[-1].rstrip(")")
    top = path.split("/")[0].removesuffix(".py")
    if top == "smcfeed":
        return path
    if top in sys.stdlib_module_names or top.startswith("<frozen"):
        return f"stdlib {path if '/' not in path else top}"
    return top


def summarize(raw: Path, top: int) -> None:
    inclusive: Counter[str] = Counter()
    self_time: Counter[str] = Counter()
    processes: Counter[str] = Counter()
    total = anchored = 0
    for line in raw.read_text(errors="replace").splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not count_text.isdigit():
            continue
        count = int(count_text)
        frames = stack.split(";")
        own = [f for f in frames if f.startswith("process ")]
        if own:
            processes["main process" if len(own) == 1 else "parse workers"] += count
            frames = frames[len(own) :]
        if not frames:
            continue
        total += count
        keys = [_key(f) for f in frames]
        self_time[keys[-1]] += count
        if ANCHOR in keys:
            anchored += count
            below = keys[keys.index(ANCHOR) + 1 :]
            for key in set(below):
                if not _package(key).startswith(PLUMBING):
                    inclusive[key] += count
    if not total:
        print("  no samples")
        return
    print(
        f"  {total} CPU samples (50 Hz over the server and its parse workers): "
        + ", ".join(f"{p} {n * 100 / total:.0f} %" for p, n in processes.most_common())
        + f"; loading the content (under {ANCHOR.split(' ')[0]}): {anchored * 100 / total:.0f} %"
    )
    print("  functions by inclusive share of all samples (pool/import plumbing left out):")
    for key, n in inclusive.most_common(top):
        print(f"    {n * 100 / total:5.1f} %  {key}")
    print("  functions by self share:")
    for key, n in self_time.most_common(12):
        print(f"    {n * 100 / total:5.1f} %  {key}")
    packages: dict[str, int] = defaultdict(int)
    for key, n in self_time.items():
        packages[_package(key)] += n
    print("  self time by package / smcfeed module:")
    for name, n in sorted(packages.items(), key=lambda kv: -kv[1])[:12]:
        print(f"    {n * 100 / total:5.1f} %  {name}")


def profile_start(folder: Path, cold: bool, top: int, timeout: float) -> None:
    what = "cold start" if cold else "warm restart"
    if cold:
        shutil.rmtree(servers.CACHE_HOME, ignore_errors=True)
        suites.evict_from_page_cache(folder)
    out = common.WORK / f"pyspy-{folder.name}-{'cold' if cold else 'warm'}.txt"
    server = servers.smcfeed_server(folder, watch=False)
    server.cmd = [
        "py-spy",
        "record",
        "--format",
        "raw",
        "-r",
        "50",
        "--subprocesses",
        "-o",
        str(out),
        "--",
        *server.cmd,
    ]
    server.name = f"pyspy-{server.name}"
    server.start()
    try:
        seconds = server.wait_ready(timeout)
        if seconds is None:
            print(f"{what}: no answer within {timeout:.0f} s")
        else:
            print(f"{what}: first 200 after {seconds:.1f} s (under py-spy)")
            # Let the server finish what it does after its first answer (e.g. write its
            # parse cache, which the warm restart then reads).
            idle = server.wait_idle(120)
            print(f"  busy for {idle:.1f} s more after its first answer")
        assert server.proc is not None
        server.proc.send_signal(signal.SIGINT)  # py-spy writes its file and exits
        with contextlib.suppress(subprocess.TimeoutExpired):
            server.proc.wait(30)
    finally:
        server.stop()
    for line in server.log_tail(40).splitlines():
        if "content loaded" in line or "parsing" in line:
            print("  log: " + line.split(": ", 1)[-1])
    if out.exists():
        summarize(out, top)
        print(f"  raw stacks: {out}")


def profile_memory(folder: Path, top: int) -> None:
    import linecache

    from smcfeed._content import parallel as _parallel
    from smcfeed._content.loader import load_content
    from smcfeed._serve.state import build_snapshot

    _parallel.PARALLEL_FROM = 10**9  # one process: see the sites
    tracemalloc.start(12)
    started = time.perf_counter()
    result = load_content(folder)
    assert result.catalogue is not None
    snapshot = build_snapshot(result.catalogue, datetime.now(UTC))
    elapsed = time.perf_counter() - started
    taken = tracemalloc.take_snapshot()
    tracemalloc.stop()
    traces = taken.statistics("traceback")
    total = sum(s.size for s in traces)
    print(
        f"{folder}: {len(result.catalogue)} articles loaded and prepared in {elapsed:.1f} s "
        f"(under tracemalloc); {total / 2**20:.0f} MiB allocated and still held"
    )

    def where(frame: tracemalloc.Frame) -> str:
        code = linecache.getline(frame.filename, frame.lineno).strip()
        return f"{_key(f'x ({frame.filename}:{frame.lineno})')[3:-1]}:{frame.lineno}  {code[:70]}"

    by_site: Counter[str] = Counter()
    by_smcfeed: Counter[str] = Counter()
    for stat in traces:
        frames = list(reversed(stat.traceback))  # most recent call first
        by_site[where(frames[0])] += stat.size
        own = next((f for f in frames if f"{os.sep}smcfeed{os.sep}" in f.filename), None)
        by_smcfeed[where(own) if own else "(outside smcfeed)"] += stat.size
    print("  held memory by the smcfeed line that allocated it (directly or in a library):")
    for name, size in by_smcfeed.most_common(top):
        print(f"    {size / total * 100:5.1f} %  {size / 2**20:7.1f} MiB  {name}")
    print("  held memory by allocation site:")
    for name, size in by_site.most_common(12):
        print(f"    {size / total * 100:5.1f} %  {size / 2**20:7.1f} MiB  {name}")
    del snapshot


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("folder", type=Path)
    p.add_argument("--top", type=int, default=25)
    p.add_argument("--memory", action="store_true", help="tracemalloc instead of py-spy")
    p.add_argument("--timeout", type=float, default=600)
    args = p.parse_args()
    if args.memory:
        profile_memory(args.folder, args.top)
        return 0
    if shutil.which("py-spy") is None:
        print("py-spy is needed: pip install py-spy", file=sys.stderr)
        return 2
    os.environ.pop("SMCFEED_CACHE", None)
    try:
        profile_start(args.folder.resolve(), cold=True, top=args.top, timeout=args.timeout)
        profile_start(args.folder.resolve(), cold=False, top=args.top, timeout=args.timeout)
    finally:
        servers.stop_all()
    return 0


if __name__ == "__main__":
    sys.exit(main())
