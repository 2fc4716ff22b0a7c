"""Servers under test: child processes on free ports, pinned to a core while driven, their
memory watched."""

from __future__ import annotations

import contextlib
import http.client
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

from .common import HOT, REPO, WORK

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


#: Set while wrk drives servers: the memory samplers pause.
DRIVING = threading.Event()


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
        #: Workers a watching ``smcfeed serve`` forks again once, after its second look at
        #: the folder (0: none to wait for); see :meth:`wait_settled`.
        self.respawns = 0

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
            if DRIVING.is_set():
                # Reading smaps_rollup walks a process's page tables under its memory lock:
                # not while wrk measures it (VmHWM still records the peak RSS).
                continue
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

    def wait_settled(self, timeout: float = 180.0) -> bool:
        """Wait until a watching smcfeed has forked its workers again after its second look
        at the folder (once, soon after start; a measurement then would see requests cut
        by the old workers' shutdown). True when settled (or nothing to wait for)."""
        if not self.respawns:
            return True
        end = time.perf_counter() + timeout
        while time.perf_counter() < end:
            try:
                with open(self.log_path, "rb") as f:
                    text = f.read()
            except OSError:
                text = b""
            forked = text.rfind(b"new content: forking")
            if forked >= 0 and text.count(b"Stopping worker", forked) >= self.respawns:
                self.respawns = 0
                time.sleep(0.5)
                return True
            time.sleep(0.2)
        return False

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


def smcfeed_server(
    content: Path, watch: bool, workers: int = 1, access_log: bool = True, name: str = ""
) -> Server:
    """smcfeed as the Procfile starts it (access log on), with ``workers`` workers."""
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
    ]
    if not access_log:
        cmd.append("--no-access-log")
    if not watch:
        cmd.append("--no-watch")
    server = Server(
        name or ("smcfeed" + ("-watch" if watch else "")),
        cmd,
        port,
        env={"XDG_CACHE_HOME": str(CACHE_HOME), "SMCFEED_OPERATOR_TOKEN": OPERATOR_TOKEN},
    )
    server.env.pop("SMCFEED_CACHE", None)
    if watch:
        server.respawns = workers
    return server


#: Opens the operator's view (``/operator/status``) of the servers started here: the public
#: ``/healthz`` says only whether content is served.
OPERATOR_TOKEN = "bench-operator"

#: smcfeed's cache folder (XDG_CACHE_HOME) for the servers started here; emptied before each
#: cold start, so that "cold" is a first start, and kept for the warm restart.
CACHE_HOME = WORK / "xdg-cache"


def bare_server(kind: str, body: Path) -> Server:
    """bench/bare_app.py serving ``body`` (and ``body``.gz) under granian or uvicorn, one
    worker, as smcfeed runs (uvloop; httptools for uvicorn; no access log)."""
    port = free_port()
    if kind == "granian":
        cmd = [sys.executable, "-m", "granian", "--interface", "asgi", "--host", "127.0.0.1"]
        cmd += ["--port", str(port), "--workers", "1", "--loop", "uvloop", "--no-ws"]
        cmd += ["--log-level", "warning", "bench.bare_app:app"]
    else:
        cmd = [sys.executable, "-m", "uvicorn", "--host", "127.0.0.1", "--port", str(port)]
        cmd += ["--workers", "1", "--loop", "uvloop", "--http", "httptools", "--no-access-log"]
        cmd += ["--log-level", "warning", "bench.bare_app:app"]
    return Server(f"bare-{kind}", cmd, port, env={"BENCH_BARE_BODY": str(body)})


def nginx_server(name: str, conf: Path, home: Path, port: int) -> Server:
    """nginx in the foreground with ``conf``, which listens on ``port``."""
    home.mkdir(parents=True, exist_ok=True)
    cmd = ["nginx", "-p", str(home), "-c", str(conf), "-e", str(home / "error.log")]
    return Server(name, cmd, port)


#: The VCL shipped for operators (deploy/varnish/smcfeed.vcl).
VCL = REPO / "deploy" / "varnish" / "smcfeed.vcl"


def varnish_server(backend: int, home: Path) -> Server | None:
    """Debian's varnishd in the foreground with the shipped VCL, both of its backends pointed
    at the smcfeed on port ``backend``; None if varnishd is not installed."""
    varnishd = shutil.which("varnishd") or (
        "/usr/sbin/varnishd" if os.path.exists("/usr/sbin/varnishd") else None
    )
    if varnishd is None:
        return None
    text = VCL.read_text()
    for default in ('.port = "8001";', '.port = "8002";'):
        text = text.replace(default, f'.port = "{backend}";')
    home.mkdir(parents=True, exist_ok=True)
    vcl = home / "smcfeed.vcl"
    vcl.write_text(text)
    port = free_port()
    cmd = [varnishd, "-F", "-a", f"127.0.0.1:{port}", "-f", str(vcl), "-n", str(home / "n")]
    # No management port, no privilege separation (reads this folder as whoever runs it).
    cmd += ["-s", "malloc,256m", "-T", "none", "-j", "none"]
    return Server("varnish", cmd, port)
