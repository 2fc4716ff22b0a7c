"""Soak: the Procfile's server under wrk while the content folder changes every second.

    python bench/soak.py                 # 1,000 articles, 256 connections, 60 s
    python bench/soak.py --articles 200 --duration 20 --connections 64   # a quick look

What it does (bench/README.md explains how to read the result):

1. Generates a content folder (bench/gen.py; a one-minute embargo grid) and starts the
   Procfile's command on 127.0.0.1.
2. Lists every feed from the OPML catalogues, plus second pages, article APIs, / and the OPML: many
   paths, which a wrk Lua script cycles through, checking that every 200 body is complete.
3. Warms up (wrk over every path), then runs wrk for the measured time while an editor
   changes the folder every second: valid edits, broken edits (then fixed), deletes (then
   restored), and articles whose embargo lifts during the run. A sampler fetches random paths
   and parses them whole (lxml, orjson); the server's memory (PSS) is sampled each second.
4. Restores the folder to valid content, waits for the reload, and compares every path's body
   with what a second server started fresh on the same folder sends.
5. Writes bench/results/soak-latest.md (and .json) and exits 1 if a target is missed.

Targets: zero 5xx, zero socket errors, every body well-formed, every final output equal to a
fresh load, memory (PSS) flat (within ±10 %) after the warm-up.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import random
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
from lxml import etree

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
WORK = BENCH / "work" / "soak"
RESULTS = BENCH / "results"
sys.path.insert(0, str(BENCH))

import gen  # noqa: E402

LUA = r"""
-- Cycles through the paths in PATHS_FILE (each thread from its own offset) and checks every
-- 200 body is complete: an XML document ends with its root's end tag, JSON with "}", HTML
-- with "</html>". Counts 5xx and incomplete bodies; done() prints one SOAK line.
local paths = {}
for line in io.lines("PATHS_FILE") do paths[#paths + 1] = line end
local threads = {}

function setup(thread)
  thread:set("id", #threads + 1)
  table.insert(threads, thread)
end

function init(args)
  counter = id * 7919
  s5xx = 0
  bad = 0
  n = 0
  statuses = {}
  bad_paths = ""
end

function request()
  counter = counter + 1
  current = paths[(counter % #paths) + 1]
  return wrk.format("GET", current)
end

local function complete(body)
  local head = body:sub(1, 16)
  local tail = body:sub(-16)
  if head:sub(1, 5) == "<?xml" then
    return tail:find("</rss>%s*$") or tail:find("</feed>%s*$") or tail:find("</opml>%s*$")
  elseif head:sub(1, 1) == "{" then
    return tail:find("}%s*$")
  elseif head:lower():sub(1, 9) == "<!doctype" then
    return tail:find("</html>%s*$")
  end
  return false
end

function response(status, headers, body)
  n = n + 1
  statuses[status] = (statuses[status] or 0) + 1
  if status >= 500 then s5xx = s5xx + 1 end
  if status == 200 and not complete(body) then
    bad = bad + 1
    if #bad_paths < 2000 then bad_paths = bad_paths .. current .. " " end
  end
end

function done(summary, latency, requests)
  local t5, tbad, tn, all, badp = 0, 0, 0, {}, ""
  for _, thread in ipairs(threads) do
    t5 = t5 + thread:get("s5xx")
    tbad = tbad + thread:get("bad")
    tn = tn + thread:get("n")
    badp = badp .. thread:get("bad_paths")
    for status, count in pairs(thread:get("statuses")) do
      all[status] = (all[status] or 0) + count
    end
  end
  local parts = {}
  for status, count in pairs(all) do parts[#parts + 1] = status .. ":" .. count end
  io.write(string.format("SOAK responses=%d 5xx=%d incomplete=%d statuses=%s bad=%s\n",
    tn, t5, tbad, table.concat(parts, ","), badp))
end
"""


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def fetch(base: str, path: str, timeout: float = 20) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(base + path, timeout=timeout) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def procfile_command() -> str:
    for line in (REPO / "Procfile").read_text().splitlines():
        if line.startswith("web:"):
            return line.split(":", 1)[1].strip()
    raise SystemExit("no web: line in the Procfile")


class Server:
    """The Procfile's command in WORK (its content folder is WORK/content), on 127.0.0.1."""

    def __init__(self, name: str, extra: str = "") -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        command = f"{procfile_command()} --host 127.0.0.1 {extra}"
        env = {
            **os.environ,
            "PORT": str(self.port),
            "SMCFEED_CACHE": str(WORK / f"parsed-{name}.pickle"),
        }
        self.log_path = WORK / f"{name}.log"
        self.log_file = open(self.log_path, "wb")  # noqa: SIM115
        self.process = subprocess.Popen(
            ["bash", "-c", f"exec {command}"],
            cwd=WORK,
            env=env,
            stdout=self.log_file,
            stderr=self.log_file,
            start_new_session=True,
        )

    def wait_up(self, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError):
                if fetch(self.base, "/healthz", 2)[0] == 200:
                    return
            if self.process.poll() is not None:
                break
            time.sleep(0.2)
        raise SystemExit(f"server did not start: see {self.log_path}")

    def rss_kb(self) -> int:
        """Memory of the server and every process under it, in KiB: proportional set size
        (a page shared by n processes counts 1/n in each, so forked workers sharing the
        loaded content are not counted once per worker), resident size where PSS is not
        available."""
        children: dict[int, list[int]] = {}
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                with contextlib.suppress(OSError, IndexError, ValueError):
                    stat = (entry / "stat").read_text()
                    ppid = int(stat.rsplit(")", 1)[1].split()[1])
                    children.setdefault(ppid, []).append(int(entry.name))
        total, todo = 0, [self.process.pid]
        while todo:
            pid = todo.pop()
            todo += children.get(pid, [])
            total += _memory_kb(pid)
        return total

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)
        self.log_file.close()


def _memory_kb(pid: int) -> int:
    for source, key in ((f"/proc/{pid}/smaps_rollup", "Pss:"), (f"/proc/{pid}/status", "VmRSS:")):
        with contextlib.suppress(OSError):
            for line in Path(source).read_text().splitlines():
                if line.startswith(key):
                    return int(line.split()[1])
    return 0


def list_paths(base: str, site_root: str) -> list[str]:
    """Every feed in the OPML catalogues (each format), the main feeds' second pages, article
    APIs, the index and the OPMLs."""
    opmls = ["/feeds.opml", "/feeds/rss.opml", "/feeds/atom.opml", "/feeds/json.opml"]
    paths = ["/", *opmls]
    for opml in opmls[1:]:
        status, body = fetch(base, opml)
        assert status == 200, (opml, status)
        outlines = etree.fromstring(body).iter("outline")
        paths += [o.get("xmlUrl").removeprefix(site_root) for o in outlines if o.get("xmlUrl")]
    for lang in ("es", "en"):
        feed = orjson.loads(fetch(base, f"/{lang}/feed.json")[1])
        if feed.get("next_url"):
            paths.append(feed["next_url"].removeprefix(site_root))
        for item in feed["items"][:20]:
            api = item.get("_smc", {}).get("api_url")
            if api:
                paths.append(api.removeprefix(site_root))
    return list(dict.fromkeys(paths))


def well_formed(path: str, body: bytes) -> bool:
    try:
        if body.startswith(b"<?xml"):
            etree.fromstring(body)
        elif body.startswith(b"{"):
            orjson.loads(body)
        elif body.lower().startswith(b"<!doctype html"):
            return body.rstrip().endswith(b"</html>")
        else:
            return False
    except (etree.XMLSyntaxError, orjson.JSONDecodeError):
        return False
    return True


@dataclass
class Editor:
    """Changes the folder every second, in a cycle of kinds of edit; everything it breaks or
    deletes it puts back before the run ends."""

    content: Path
    rng: random.Random
    counts: Counter[str] = field(default_factory=Counter)
    originals: dict[Path, str] = field(default_factory=dict)
    deleted: dict[Path, str] = field(default_factory=dict)
    lifts: list[tuple[datetime, str]] = field(default_factory=list)
    _step: int = 0

    def articles(self) -> list[Path]:
        return sorted(
            p
            for p in (self.content / "articles").rglob("*.md")
            if p not in self.originals and not p.name.startswith("soak-")
        )

    def plant_embargoes(self, instants: list[datetime]) -> None:
        """Articles whose embargo lifts at each of ``instants``: copies of an existing one with
        a new slug and publication time."""
        source = self.articles()[0].read_text(encoding="utf-8")
        for i, when in enumerate(instants):
            text = re.sub(r"(?m)^published: .*$", f"published: {when.isoformat()}", source, count=1)
            text = re.sub(r"(?m)^updated: .*\n", "", text, count=1)
            text = re.sub(r"(?m)^title: .*$", f'title: "Soak embargo {i} lifts"', text, count=1)
            slug = f"soak-embargo-{i}"
            folder = self.content / "articles" / str(when.year)
            folder.mkdir(parents=True, exist_ok=True)
            (folder / f"{slug}.en.md").write_text(text, encoding="utf-8")
            self.lifts.append((when, slug))
        self.counts["embargoed article added"] += len(instants)

    def step(self) -> str:
        kinds = ["valid edit", "broken edit", "fix", "delete", "restore"]
        kind = kinds[self._step % len(kinds)]
        self._step += 1
        if kind == "valid edit":
            path = self.rng.choice(self.articles())
            text = path.read_text(encoding="utf-8")
            new = re.sub(
                r"(?m)^title: .*$", f'title: "Soak edit {self._step} of {path.stem}"', text, count=1
            )
            path.write_text(new, encoding="utf-8")
        elif kind == "broken edit":
            path = self.rng.choice(self.articles())
            self.originals[path] = path.read_text(encoding="utf-8")
            path.write_text("---\ntitle: [broken\ntopics: {\n---\n", encoding="utf-8")
        elif kind == "fix":
            for path, text in list(self.originals.items()):
                path.write_text(text, encoding="utf-8")
                del self.originals[path]
        elif kind == "delete":
            path = self.rng.choice(self.articles())
            self.deleted[path] = path.read_text(encoding="utf-8")
            path.unlink()
        else:
            for path, text in list(self.deleted.items()):
                path.write_text(text, encoding="utf-8")
                del self.deleted[path]
        self.counts[kind] += 1
        return kind

    def restore_all(self) -> None:
        for path, text in [*self.originals.items(), *self.deleted.items()]:
            path.write_text(text, encoding="utf-8")
        self.originals.clear()
        self.deleted.clear()


def run_wrk(
    base: str, script: Path, connections: int, seconds: int, threads: int = 2
) -> dict[str, Any]:
    command = [
        "wrk",
        f"-t{threads}",
        f"-c{connections}",
        f"-d{seconds}s",
        "--timeout",
        "10s",
        "--latency",
        "-s",
        str(script),
        base,
    ]
    out = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 120).stdout
    result: dict[str, Any] = {"raw": out}
    m = re.search(r"Requests/sec:\s+([\d.]+)", out)
    result["rps"] = float(m.group(1)) if m else 0.0
    m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    result["socket_errors"] = dict(
        zip(["connect", "read", "write", "timeout"], map(int, m.groups()), strict=True)
        if m
        else {"connect": 0, "read": 0, "write": 0, "timeout": 0}
    )
    for pct in ("50", "99"):
        m = re.search(rf"^\s+{pct}%\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
        if m:
            value = float(m.group(1)) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[m.group(2)]
            result[f"p{pct}_ms"] = value
    m = re.search(
        r"SOAK responses=(\d+) 5xx=(\d+) incomplete=(\d+) statuses=(\S*) bad=(.*)$", out, re.M
    )
    if not m:
        raise SystemExit(f"wrk gave no SOAK line:\n{out}")
    result["responses"] = int(m.group(1))
    result["5xx"] = int(m.group(2))
    result["incomplete"] = int(m.group(3))
    result["statuses"] = dict(
        (int(k), int(v)) for k, v in (p.split(":") for p in m.group(4).split(",") if p)
    )
    result["incomplete_paths"] = m.group(5).split()[:20]
    return result


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--articles", type=int, default=1000)
    p.add_argument("--connections", type=int, default=256)
    p.add_argument("--duration", type=int, default=60, help="measured seconds (default 60)")
    p.add_argument("--warmup", type=int, default=20, help="warm-up seconds (default 20)")
    p.add_argument("--seed", type=int, default=11)
    p.add_argument("--out", type=Path, default=RESULTS / "soak-latest.md")
    args = p.parse_args(argv)
    if not shutil.which("wrk"):
        raise SystemExit("needs wrk: apt-get install -y wrk")
    if not shutil.which("smcfeed"):
        raise SystemExit("needs smcfeed on PATH: pip install -e .")

    WORK.mkdir(parents=True, exist_ok=True)
    source = BENCH / "work" / f"content-soak-{args.articles}"
    log(f"content: {args.articles} articles ({source})")
    gen.ensure(args.articles, source, seed=5)
    content = WORK / "content"
    shutil.rmtree(content, ignore_errors=True)
    shutil.copytree(source, content)
    for stale in WORK.glob("parsed-*.pickle"):
        stale.unlink()
    site_root = re.search(r"(?m)^base_url: (\S+)", (content / "site.yaml").read_text())
    assert site_root is not None
    root = site_root.group(1).rstrip("/")

    # Embargoes must fall on the site's grid (check refuses others): a one-minute grid, and an
    # embargo on every whole minute of the measured run (at least one in 60 s).
    site_yaml = content / "site.yaml"
    site_yaml.write_text(site_yaml.read_text() + "embargo_grid_minutes: 1\n")
    rng = random.Random(args.seed)
    editor = Editor(content, rng)
    start = datetime.now(UTC)
    soak_from = start + timedelta(seconds=args.warmup + 15)
    soak_to = start + timedelta(seconds=args.warmup + 15 + args.duration)
    minute = soak_from.replace(second=0, microsecond=0) + timedelta(minutes=1)
    lifts = []
    while minute < soak_to:
        lifts.append(minute)
        minute += timedelta(minutes=1)
    editor.plant_embargoes(lifts or [minute])

    server = Server("soak")
    fresh: Server | None = None
    memory: list[tuple[float, int]] = []
    samples = Counter[str]()
    sample_problems: list[str] = []
    stop = threading.Event()
    try:
        server.wait_up()
        paths = list_paths(server.base, root)
        log(f"server up on {server.base}; {len(paths)} paths")
        paths_file = WORK / "paths.txt"
        paths_file.write_text("\n".join(paths) + "\n")
        script = WORK / "soak.lua"
        script.write_text(LUA.replace("PATHS_FILE", str(paths_file)))

        t0 = time.monotonic()

        def sample_memory() -> None:
            while not stop.is_set():
                memory.append((time.monotonic() - t0, server.rss_kb()))
                stop.wait(1.0)

        def sample_bodies() -> None:
            while not stop.is_set():
                path = rng.choice(paths)
                try:
                    status, body = fetch(server.base, path, timeout=30)
                except OSError as e:
                    samples["socket error"] += 1
                    sample_problems.append(f"{path}: {e}")
                    continue
                samples[f"{status // 100}xx"] += 1
                if status >= 500:
                    sample_problems.append(f"{path}: {status}")
                if status == 200 and not well_formed(path, body):
                    samples["malformed"] += 1
                    sample_problems.append(f"{path}: malformed ({len(body)} bytes)")
                stop.wait(0.25)

        watchers = [threading.Thread(target=f, daemon=True) for f in (sample_memory, sample_bodies)]
        for thread in watchers:
            thread.start()

        log(f"warm-up: wrk {args.warmup} s over every path")
        warm = run_wrk(server.base, script, args.connections, args.warmup)
        warm_end = time.monotonic() - t0
        log(f"warm-up: {warm['rps']:.0f} req/s, 5xx {warm['5xx']}")

        edits: list[tuple[float, str]] = []

        def edit() -> None:
            while not stop.is_set():
                edits.append((time.monotonic() - t0, editor.step()))
                stop.wait(1.0)

        editing = threading.Thread(target=edit, daemon=True)
        log(f"soak: wrk -c{args.connections} {args.duration} s, editing every second")
        editing.start()
        soak = run_wrk(server.base, script, args.connections, args.duration)
        soak_end = time.monotonic() - t0
        stop.set()
        editing.join()
        for thread in watchers:
            thread.join()
        log(f"soak: {soak['rps']:.0f} req/s, 5xx {soak['5xx']}, incomplete {soak['incomplete']}")

        editor.restore_all()
        # Every embargo planted has lifted by now or lifts within the wait below.
        last_lift = max(when for when, _ in editor.lifts)
        wait = max(3.0, (last_lift - datetime.now(UTC)).total_seconds() + 3.0)
        log(f"restored the folder; waiting {wait:.0f} s for the reload and the last lift")
        time.sleep(wait)

        fresh = Server("fresh", "--no-watch")
        fresh.wait_up()
        # The lifted articles were not public when the paths were listed: compare them too.
        compare_paths = paths + [f"/en/articles/{slug}.json" for _, slug in editor.lifts]
        differing: list[str] = []
        for path in compare_paths:
            expected = fetch(fresh.base, path)
            for _ in range(3):  # new connections: more than one worker answers
                got = fetch(server.base, path)
                if got != expected:
                    if not differing:
                        (WORK / "differ-soaked.txt").write_bytes(b"%d\n" % got[0] + got[1])
                        (WORK / "differ-fresh.txt").write_bytes(b"%d\n" % expected[0] + expected[1])
                    differing.append(path)
                    break
        log(f"final outputs: {len(compare_paths) - len(differing)}/{len(compare_paths)} equal")
    finally:
        stop.set()
        server.stop()
        if fresh is not None:
            fresh.stop()

    after = [kb for t, kb in memory if warm_end + 5 <= t <= soak_end]
    baseline = statistics.median([kb for t, kb in memory if warm_end <= t <= warm_end + 5] or [0])
    low, high = (min(after), max(after)) if after else (0, 0)
    flat = bool(after) and baseline > 0 and 0.9 * baseline <= low and high <= 1.1 * baseline
    socket_errors = sum(soak["socket_errors"].values()) + samples["socket error"]
    result = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "articles": args.articles,
        "paths": len(paths),
        "connections": args.connections,
        "duration": args.duration,
        "warm": {k: v for k, v in warm.items() if k != "raw"},
        "soak": {k: v for k, v in soak.items() if k != "raw"},
        "edits": dict(editor.counts),
        "edit_count": len(edits),
        "embargo_lifts": [w.isoformat() for w, _ in editor.lifts],
        "samples": dict(samples),
        "sample_problems": sample_problems[:20],
        "memory_mb": {
            "baseline": round(baseline / 1024, 1),
            "min": round(low / 1024, 1),
            "max": round(high / 1024, 1),
            "final": round(after[-1] / 1024, 1) if after else 0,
        },
        "memory_series": [(round(t, 1), round(kb / 1024, 1)) for t, kb in memory],
        "compared": len(compare_paths),
        "differing": differing[:50],
        "load_average": os.getloadavg(),
        "machine": {
            "nproc": os.cpu_count(),
            "python": platform.python_version(),
            "kernel": platform.release(),
        },
        "raw_wrk": soak["raw"],
    }
    verdicts = {
        "zero 5xx": warm["5xx"] + soak["5xx"] + samples["5xx"] == 0,
        "zero socket errors": socket_errors == 0,
        "every body well-formed": soak["incomplete"] + warm["incomplete"] == 0
        and samples["malformed"] == 0,
        "final outputs equal a fresh load": not differing,
        "memory flat (±10 %) after warm-up": flat,
    }
    result["verdicts"] = verdicts
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.with_suffix(".json").write_text(json.dumps(result, indent=1, default=str))
    args.out.write_text(report(result))
    log(f"wrote {args.out}")
    for name, ok in verdicts.items():
        log(f"{'PASS' if ok else 'FAIL'} {name}")
    return 0 if all(verdicts.values()) else 1


def report(r: dict[str, Any]) -> str:
    soak, warm, mem = r["soak"], r["warm"], r["memory_mb"]
    statuses = ", ".join(f"{k}: {v:,}" for k, v in sorted(soak["statuses"].items()))
    errors = soak["socket_errors"]
    lines = [
        "# Soak: live edits under load",
        "",
        f"Run {r['when']} by `python bench/soak.py` ({r['articles']:,} articles, "
        f"{r['paths']:,} paths, the Procfile's server: `smcfeed serve --workers 2`, granian).",
        f"Machine: {r['machine']['nproc']} vCPU, shared with other work; load average at the "
        f"end {r['load_average'][0]:.1f} / {r['load_average'][1]:.1f} / "
        f"{r['load_average'][2]:.1f}, so read throughput and latency as noisy.",
        "",
        "| target | result | verdict |",
        "|---|---|---|",
        f"| zero 5xx | {soak['5xx'] + warm['5xx']} 5xx in {soak['responses'] + warm['responses']:,}"
        f" responses (statuses: {statuses}) | {_v(r, 'zero 5xx')} |",
        f"| zero socket errors | connect {errors['connect']}, read {errors['read']}, write "
        f"{errors['write']}, timeout {errors['timeout']}; sampler "
        f"{r['samples'].get('socket error', 0)} | {_v(r, 'zero socket errors')} |",
        f"| every body well-formed | {soak['incomplete']} incomplete of every 200 checked by wrk;"
        f" {r['samples'].get('malformed', 0)} malformed of "
        f"{sum(v for k, v in r['samples'].items() if k.endswith('xx')):,} parsed whole | "
        f"{_v(r, 'every body well-formed')} |",
        f"| final outputs equal a fresh load | {r['compared'] - len(r['differing'])} of "
        f"{r['compared']} paths byte-identical | {_v(r, 'final outputs equal a fresh load')} |",
        f"| memory (PSS) flat (±10 %) after warm-up | {mem['baseline']} MB after warm-up; "
        f"{mem['min']}–{mem['max']} MB during the soak; {mem['final']} MB at the end | "
        f"{_v(r, 'memory flat (±10 %) after warm-up')} |",
        "",
        f"Load: wrk, 2 threads, {r['connections']} connections, {r['duration']} s, "
        f"{soak['rps']:,.0f} req/s, p50 {soak.get('p50_ms', 0):.1f} ms, "
        f"p99 {soak.get('p99_ms', 0):.1f} ms (warm-up before it: {warm['rps']:,.0f} req/s).",
        "",
        f"Edits during the soak ({r['edit_count']}, one a second): "
        + ", ".join(f"{k} {v}" for k, v in r["edits"].items())
        + f"; embargoes lifting at {', '.join(t[11:19] for t in r['embargo_lifts'])} UTC.",
        "",
    ]
    if r["differing"]:
        lines += ["Paths that differed from a fresh load:", ""]
        lines += [f"- `{p}`" for p in r["differing"]]
        lines.append("")
    if r["sample_problems"]:
        lines += ["Sampler problems:", ""] + [f"- {p}" for p in r["sample_problems"]] + [""]
    lines += ["wrk's own summary of the soak:", "", "```", r["raw_wrk"].strip(), "```", ""]
    return "\n".join(lines)


def _v(r: dict[str, Any], name: str) -> str:
    return "met" if r["verdicts"][name] else "**missed**"


if __name__ == "__main__":
    sys.exit(main())
