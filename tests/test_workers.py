"""``serve --workers N``: the content is loaded and watched once, in the main process; the
workers are forked from it and share its memory; an edit reaches every worker at once; the
buffered access log loses no line at shutdown."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from smcfeed._serve.workers import GROUP_SIGNAL_WAIT

from ._support import SAMPLE, point_link, releases

pytestmark = pytest.mark.e2e


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


#: The operator token the server is started with (its /operator/status needs it).
OPERATOR = "workers-operator-token"


def _get(url: str, headers: dict[str, str] | None = None) -> tuple[int, bytes]:
    request = urllib.request.Request(url, headers=headers or {})
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.status, response.read()


def _orphans(content: str) -> list[int]:
    """Processes still serving ``content`` (none should outlive the server)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                command = (entry / "cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            if b"serve" in command and content.encode() in command:
                found.append(int(entry.name))
    return found


def _children(pid: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry))
    return sorted(found)


def _memory(pid: int) -> dict[str, int]:
    """kB figures of /proc/PID/smaps_rollup (Rss, Pss, Private_Dirty, …)."""
    values = {}
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()[1:]:
        name, amount, *_ = line.split()
        values[name.rstrip(":")] = int(amount)
    return values


class Served:
    def __init__(self, process: subprocess.Popen[bytes], base: str, content: Path, log: Path):
        self.process, self.base, self.content, self.log = process, base, content, log

    def get(self, path: str) -> tuple[int, bytes]:
        return _get(self.base + path)

    def status(self) -> bytes:
        """The operator's view (content errors, last loads)."""
        return _get(self.base + "/operator/status", {"Authorization": f"Bearer {OPERATOR}"})[1]

    def loads(self) -> int:
        return self.log.read_text().count("content loaded:")


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
    process.wait(10)


def _two_workers(tmp_path: Path, **popen: Any) -> tuple[Path, int, Path, subprocess.Popen[bytes]]:
    """``serve --workers 2`` on a copy of the sample: its content, port, log and process."""
    content = tmp_path / "content"
    shutil.copytree(SAMPLE, content)
    port = _free_port()
    log = tmp_path / "server.log"
    command = [sys.executable, "-m", "smcfeed", "serve", "--content", str(content)]
    command += ["--port", str(port), "--workers", "2", "--cache", "off"]
    with log.open("wb") as sink:
        process = subprocess.Popen(command, stdout=sink, stderr=subprocess.STDOUT, **popen)
    return content, port, log, process


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    if not Path("/proc/self/smaps_rollup").exists():
        pytest.skip("needs Linux's /proc/PID/smaps_rollup to see shared memory")
    content, port, log, process = _two_workers(
        tmp_path, env={**os.environ, "SMCFEED_OPERATOR_TOKEN": OPERATOR}
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        _wait_serving(process, base, log, deadline)
        # The workers are forked again after the second look at the folder, a second after
        # start: wait for that, so each test sees its settled workers.
        while "forking 2 new worker(s)" not in log.read_text():
            assert process.poll() is None and time.monotonic() < deadline + 30, log.read_text()
            time.sleep(0.05)
        # The old workers stop once the new ones have started.
        while log.read_text().count("Stopping worker") < 2 or len(_children(process.pid)) != 2:
            assert process.poll() is None and time.monotonic() < deadline + 30, log.read_text()
            time.sleep(0.05)
        yield Served(process, base, content, log)
    finally:
        _stop(process)
        # Workers die with the process that forked them, however it ended.
        deadline = time.monotonic() + 10
        while _orphans(str(content)) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not _orphans(str(content))


def _wait_serving(process: subprocess.Popen[bytes], base: str, log: Path, deadline: float) -> None:
    """Until the server's two workers run and it answers."""
    while len(_children(process.pid)) < 2 or not _up(base):
        assert process.poll() is None and time.monotonic() < deadline, log.read_text()
        time.sleep(0.05)


def _up(base: str) -> bool:
    try:
        return _get(base + "/healthz")[0] == 200
    except OSError:
        return False


def test_workers_share_one_load(served: Served) -> None:
    assert served.loads() == 1, served.log.read_text()
    workers = _children(served.process.pid)
    assert len(workers) == 2
    for _ in range(20):
        assert served.get("/es/rss.xml")[0] == 200
    main = _memory(served.process.pid)
    for pid in workers:
        own = _memory(pid)
        # A worker's own pages are a small part of what the main process loaded: the
        # catalogue, the warmed responses and the modules are shared with it.
        assert own["Private_Dirty"] + own["Private_Clean"] < main["Rss"] / 3, (own, main)


def test_an_edit_reaches_every_worker_without_replacing_it(served: Served) -> None:
    before = sorted(_children(served.process.pid))
    loads = served.loads()
    article = next((served.content / "articles" / "2026").glob("*.es.md"))
    text = article.read_text()
    article.write_text(text.replace("\ntitle: ", '\ntitle: "Editado por la prueba" #', 1))
    started = time.monotonic()
    while b"Editado por la prueba" not in served.get("/es/rss.xml")[1]:
        assert time.monotonic() - started < 5, served.log.read_text()
        time.sleep(0.02)
    seen = time.monotonic() - started
    # Every worker follows the edit itself, moments apart.
    deadline = time.monotonic() + 2.0
    while not all(b"Editado por la prueba" in served.get("/es/rss.xml")[1] for _ in range(20)):
        assert time.monotonic() < deadline, served.log.read_text()
        time.sleep(0.05)
    assert seen < 2.0
    # The workers are the same processes (no connection was closed for the edit), and the
    # edit was read by each of them and by the process that announces changes.
    assert sorted(_children(served.process.pid)) == before
    assert served.loads() >= loads + 3, served.log.read_text()


def test_a_broken_edit_shows_in_every_workers_status(served: Served) -> None:
    article = next((served.content / "articles" / "2026").glob("*.en.md"))
    article.write_text("---\ntitle: [broken\n---\n")
    started = time.monotonic()
    while b'"degraded"' not in served.status():
        assert time.monotonic() - started < 5, served.log.read_text()
        time.sleep(0.02)
    time.sleep(0.3)
    for _ in range(10):
        assert b'"degraded"' in served.status()
        assert served.get("/es/rss.xml")[0] == 200


def test_sigterm_writes_every_buffered_access_line(served: Served) -> None:
    for number in range(30):
        served.get(f"/es/rss.xml?n={number}")
    served.process.send_signal(signal.SIGTERM)
    assert served.process.wait(20) == 0
    logged = [line for line in served.log.read_text().splitlines() if '"GET /es/rss.xml?n=' in line]
    assert sorted(int(line.split("?n=")[1].split()[0]) for line in logged) == list(range(30))


def test_a_worker_stopped_on_its_own_is_replaced_but_not_when_the_group_is_stopped(
    served: Served,
) -> None:
    """A worker that stops on a signal sent to it alone is forked again; but platforms stop a
    service by signalling its whole process group, and a worker may be done before the main
    process has read its own copy: that is a clean stop (exit 0, no crash logged), not a
    crash (granian logged one, and exited 1)."""
    first, second = _children(served.process.pid)
    os.kill(first, signal.SIGTERM)
    deadline = time.monotonic() + 15
    while (
        sorted(_children(served.process.pid)) == sorted([first, second])
        or len(_children(served.process.pid)) != 2
    ):
        assert served.process.poll() is None and time.monotonic() < deadline, served.log.read_text()
        time.sleep(0.05)
    assert "Unexpected exit from worker" in served.log.read_text()
    assert served.get("/es/rss.xml")[0] == 200
    crashes = served.log.read_text().count("Unexpected exit from worker")
    spawned = served.log.read_text().count("Spawning worker")
    # The group's signal, as it arrives when this process is slow to take its copy.
    os.kill(_children(served.process.pid)[0], signal.SIGTERM)
    time.sleep(GROUP_SIGNAL_WAIT / 3)
    served.process.send_signal(signal.SIGTERM)
    assert served.process.wait(20) == 0, served.log.read_text()
    log = served.log.read_text()
    assert (log.count("Unexpected exit from worker"), log.count("Spawning worker")) == (
        crashes,
        spawned,
    ), log


@pytest.mark.parametrize("moment", ["startup-fork", "sighup-fork"])
def test_a_group_sigterm_while_the_workers_are_forked_anew_is_a_clean_stop(
    tmp_path: Path, moment: str
) -> None:
    """The whole group is signalled as new workers start (after the look a second after
    start, or on SIGHUP): the old workers may be gone already and the new ones not ready.
    That is a stop, not new workers hung and slots to fork again (which logged errors and
    exited 1)."""
    _, port, log, process = _two_workers(tmp_path, start_new_session=True)
    try:
        deadline = time.monotonic() + 30
        _wait_serving(process, f"http://127.0.0.1:{port}", log, deadline)
        if moment == "sighup-fork":
            while log.read_text().count("Stopping worker") < 2:  # the startup fork is done
                assert process.poll() is None and time.monotonic() < deadline, log.read_text()
                time.sleep(0.02)
            process.send_signal(signal.SIGHUP)
            time.sleep(0.01)
        else:
            while "forking 2 new worker(s)" not in log.read_text():
                assert process.poll() is None and time.monotonic() < deadline, log.read_text()
                time.sleep(0.002)
        os.killpg(process.pid, signal.SIGTERM)
        assert process.wait(20) == 0, log.read_text()
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(10)
    text = log.read_text()
    assert "ERROR" not in text and "Unexpected exit" not in text, text


def test_workers_never_outlive_a_killed_server(served: Served) -> None:
    assert _children(served.process.pid)
    served.process.kill()  # no chance to stop its workers itself
    served.process.wait(10)
    deadline = time.monotonic() + 10
    while _orphans(str(served.content)) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _orphans(str(served.content))


def _start(content: Path, port: int, log: Path, *extra: str) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "smcfeed", "serve", "--content", str(content)]
    command += ["--port", str(port), "--cache", "off", "--no-access-log", *extra]
    with log.open("wb") as sink:
        return subprocess.Popen(command, stdout=sink, stderr=subprocess.STDOUT)


def test_no_connection_is_refused_while_the_workers_are_forked_again(tmp_path: Path) -> None:
    """A second after start the workers are replaced once, and again on every SIGHUP:
    clients connecting throughout (a load balancer's checks, the first readers) are never
    refused, and never reset (with a listening socket per worker, what the kernel had queued
    for a worker stopping was reset)."""
    content = tmp_path / "content"
    shutil.copytree(SAMPLE, content)
    port = _free_port()
    log = tmp_path / "server.log"
    process = _start(content, port, log, "--workers", "2")
    base = f"http://127.0.0.1:{port}"
    outcomes: list[str] = []
    done = threading.Event()

    def connect() -> None:
        """New connections, one after another, until told to stop."""
        while not done.is_set():
            try:
                _get(base + "/healthz")
                outcomes.append("answered")
            except OSError as error:
                outcomes.append(repr(error))

    try:
        deadline = time.monotonic() + 30
        while not _up(base):
            assert process.poll() is None and time.monotonic() < deadline, log.read_text()
            time.sleep(0.02)
        clients = [threading.Thread(target=connect) for _ in range(4)]
        for client in clients:
            client.start()
        try:
            # The re-fork after start, then two SIGHUPs: each time until the old workers
            # have stopped, and a moment more.
            for forks in (1, 2, 3):
                if forks > 1:
                    process.send_signal(signal.SIGHUP)
                while log.read_text().count("Stopping worker") < 2 * forks:
                    assert time.monotonic() < deadline + 30, log.read_text()
                    time.sleep(0.02)
                time.sleep(0.3)
        finally:
            done.set()
            for client in clients:
                client.join(15)
    finally:
        _stop(process)
    failures = [outcome for outcome in outcomes if outcome != "answered"]
    assert len(outcomes) > 50 and not failures, (failures, log.read_text())


def test_a_second_server_on_a_served_port_refuses_to_start(served: Served, tmp_path: Path) -> None:
    """An older release left running, or a start by mistake: with SO_REUSEPORT the second
    server would take half the connections and answer them from its own content (its own
    embargoes too). It stops at once, in one line, before loading anything."""
    other = tmp_path / "other"
    shutil.copytree(SAMPLE, other)
    article = next((other / "articles" / "2026").glob("*.es.md"))
    article.write_text(article.read_text().replace("\ntitle: ", '\ntitle: "Otro servidor" #', 1))
    port = int(served.base.rsplit(":", 1)[1])
    for server in ("granian", "uvicorn"):
        log = tmp_path / f"{server}.log"
        second = _start(other, port, log, "--workers", "2", "--server", server)
        try:
            assert second.wait(20) == 1
        finally:
            _stop(second)
        said = log.read_text()
        assert said.startswith(f"smcfeed: 127.0.0.1:{port} is already in use"), said
        assert len(said.splitlines()) == 1 and "content loaded" not in said
    # Every answer still comes from the first server's content.
    for _ in range(40):
        assert b"Otro servidor" not in served.get("/es/rss.xml")[1]


@pytest.mark.parametrize(("server", "noticing"), [("granian", 3), ("uvicorn", 2)])
def test_every_worker_follows_a_release_swapped_in_behind_a_link(
    tmp_path: Path, server: str, noticing: int
) -> None:
    """Deploys often keep releases side by side and re-point a link at the new one. The
    server was serving the old release for good: it had resolved the link once, at start."""
    link, _, second = releases(tmp_path)
    port = _free_port()
    log = tmp_path / "server.log"
    process = _start(link, port, log, "--workers", "2", "--server", server)
    base = f"http://127.0.0.1:{port}"
    settled = "Stopping worker" if server == "granian" else "Application startup complete"
    try:
        deadline = time.monotonic() + 30
        while log.read_text().count(settled) < 2 or not _up(base):
            assert process.poll() is None and time.monotonic() < deadline, log.read_text()
            time.sleep(0.05)
        assert b"Segunda entrega" not in _get(base + "/es/rss.xml")[1]
        point_link(link, second)
        started = time.monotonic()
        while not all(b"Segunda entrega" in _get(base + "/es/rss.xml")[1] for _ in range(20)):
            assert time.monotonic() - started < 5, log.read_text()
            time.sleep(0.05)
        # Each worker noticed, and with granian the main process too (it announces changes):
        # by its watcher, or, when the swap came before its first look, by that look.
        said = log.read_text()
        noticed = said.count("the content folder now leads to")
        noticed += said.count("content changed while starting")
        assert noticed >= noticing, said
    finally:
        _stop(process)


def test_sighup_reads_the_content_again_and_forks_the_workers_from_it(tmp_path: Path) -> None:
    """With --no-watch (a deploy that says when it is done; a file system that reports no
    changes), an operator's SIGHUP is how new content is taken in: every file is looked at,
    then the workers are forked anew from what was read."""
    content = tmp_path / "content"
    shutil.copytree(SAMPLE, content)
    port = _free_port()
    log = tmp_path / "server.log"
    process = _start(content, port, log, "--workers", "2", "--no-watch")
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        _wait_serving(process, base, log, deadline)
        before = _children(process.pid)
        article = next((content / "articles" / "2026").glob("*.es.md"))
        article.write_text(
            article.read_text().replace("\ntitle: ", '\ntitle: "Tras la señal" #', 1)
        )
        time.sleep(1.5)  # nothing watches: nothing changes
        assert "Tras la señal" not in _get(base + "/es/rss.xml")[1].decode()
        process.send_signal(signal.SIGHUP)
        started = time.monotonic()
        while not all("Tras la señal" in _get(base + "/es/rss.xml")[1].decode() for _ in range(20)):
            assert time.monotonic() - started < 10, log.read_text()
            time.sleep(0.05)
        # The old workers, which take no more connections by now, are stopped.
        while not set(_children(process.pid)).isdisjoint(before):
            assert time.monotonic() - started < 15, log.read_text()
            time.sleep(0.05)
        assert process.poll() is None and len(_children(process.pid)) == 2
        assert "SIGHUP: looking at every file" in log.read_text()
    finally:
        _stop(process)


def _catches_sighup(pid: int) -> bool:
    """Whether the process has a handler for SIGHUP (else SIGHUP ends it)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False
    caught = next(line for line in status.splitlines() if line.startswith("SigCgt:"))
    return bool(int(caught.split()[1], 16) & (1 << (signal.SIGHUP - 1)))


def test_a_sighup_while_the_content_loads_is_taken_not_fatal(tmp_path: Path) -> None:
    """A deploy may send SIGHUP while a server is still starting: it must not end it (the
    signal's default), and it is taken once the server runs."""
    content = tmp_path / "content"
    shutil.copytree(SAMPLE, content)
    template = (content / "articles/2026/voz-experto-comunicar-incertidumbre.es.md").read_text()
    for number in range(1500):  # a load that takes a moment
        (content / f"articles/2026/voz-{number}.es.md").write_text(template)
    port = _free_port()
    log = tmp_path / "server.log"
    process = _start(content, port, log, "--workers", "2", "--no-watch")
    base = f"http://127.0.0.1:{port}"
    try:
        # Once the handler is set (a SIGHUP before Python has even started ends any
        # process): on a loaded machine that can take seconds.
        started = time.monotonic()
        while not _catches_sighup(process.pid):
            assert process.poll() is None and time.monotonic() - started < 30, log.read_text()
            time.sleep(0.005)
        assert not _up(base)  # still starting
        process.send_signal(signal.SIGHUP)
        deadline = time.monotonic() + 60
        while not _up(base):
            assert process.poll() is None, f"SIGHUP ended the server\n{log.read_text()}"
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.05)
        said = log.read_text()
        while "new content: forking" not in said:
            assert process.poll() is None and time.monotonic() < deadline, said
            time.sleep(0.05)
            said = log.read_text()
        assert "SIGHUP came while starting: taking it now" in said
    finally:
        _stop(process)
