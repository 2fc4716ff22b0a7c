"""``serve`` has its address to itself: it refuses a port another server listens on, and a
second smcfeed starting on the same port at the same moment (granian listens with
SO_REUSEPORT, which would otherwise let both share the port, each answering from its own
content); and its workers are forked anew without stopping the old ones before the new ones
are ready."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import threading
import time
import types
from pathlib import Path
from typing import Any

import pytest

from smcfeed._serve import workers
from smcfeed.cli import main

from ._support import SAMPLE


def _listening() -> socket.socket:
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    return server


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_a_port_another_server_listens_on_is_refused_in_one_line() -> None:
    with _listening() as other:
        port = other.getsockname()[1]
        with pytest.raises(workers.AddressError) as refused:
            workers.claim("127.0.0.1", port)
    message = str(refused.value)
    assert message.startswith(f"127.0.0.1:{port} is already in use") and "\n" not in message


def test_a_reuseport_group_is_refused_too() -> None:
    """What granian's workers hold: listening sockets with SO_REUSEPORT, which a later
    SO_REUSEPORT socket of the same user could join."""
    with socket.socket() as first:
        first.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        first.bind(("127.0.0.1", 0))
        first.listen()
        port = first.getsockname()[1]
        with socket.socket() as joining:  # the kernel lets this one in…
            joining.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
            joining.bind(("127.0.0.1", port))
        with pytest.raises(workers.AddressError, match="already in use"):  # …not smcfeed
            workers.claim("127.0.0.1", port)


def test_the_wildcard_address_overlapping_a_listener_is_refused() -> None:
    with _listening() as other:
        port = other.getsockname()[1]
        with pytest.raises(workers.AddressError, match="already in use"):
            workers.claim("0.0.0.0", port)


@pytest.mark.parametrize("first_address", ["127.0.0.1", "0.0.0.0"])  # these two overlap
def test_two_servers_starting_at_once_on_one_port_cannot_both_go_on(first_address: str) -> None:
    port = _free_port()
    first = workers.claim(first_address, port)
    assert first is not None
    try:
        with pytest.raises(workers.AddressError, match="already in use by another smcfeed"):
            workers.claim("127.0.0.1", port)
    finally:
        first.close()
    # Once the first has gone (its lock closes with it), the port can be had again.
    again = workers.claim("127.0.0.1", port)
    assert again is not None
    again.close()


def test_an_address_that_cannot_be_had_is_named_with_the_reason() -> None:
    with pytest.raises(workers.AddressError, match=r"cannot listen on 192\.0\.2\.1:\d+: "):
        workers.claim("192.0.2.1", _free_port())  # TEST-NET-1: not this machine's


def test_a_port_in_time_wait_is_free() -> None:
    """A restart right after a stop: the old server's connections still wait in TIME_WAIT
    (its sockets had SO_REUSEADDR, as granian's and uvicorn's have)."""
    with socket.socket() as server:
        server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        server.bind(("127.0.0.1", 0))
        server.listen()
        port = server.getsockname()[1]
        client = socket.create_connection(("127.0.0.1", port))
        accepted, _ = server.accept()
        accepted.close()  # the server side closes first: its end waits in TIME_WAIT
        client.close()
    lock = workers.claim("127.0.0.1", port)
    assert lock is not None
    lock.close()


class _Worker:
    """A stand-in for a granian worker process: a real forked process that gets its app
    from the loader (where a granian worker says it is ready) after ``delay`` seconds, or
    dies first; the main process's side notes when it is stopped."""

    def __init__(self, name: str, events: list[str], loader: Any = None, delay: float = 0) -> None:
        self.name, self.events, self.loader, self.delay = name, events, loader, delay
        self.pid = 0
        self.stopped = False

    def start(self) -> None:
        self.events.append(f"start {self.name}")
        if self.loader is None:
            return
        self.pid = os.fork()
        if self.pid == 0:  # the worker: never back into pytest
            try:
                time.sleep(abs(self.delay))
                if self.delay >= 0:
                    self.loader()
                    time.sleep(5)  # serving, until stopped
            finally:
                os._exit(0)

    def is_alive(self) -> bool:
        if self.stopped:
            return False
        if self.pid:
            with contextlib.suppress(ChildProcessError):
                if os.waitpid(self.pid, os.WNOHANG)[0]:
                    self.pid = 0
                    self.stopped = True
                    return False
        return True

    def terminate(self) -> None:
        self.events.append(f"stop {self.name}")
        self.stopped = True

    def join(self, timeout: float | None = None) -> None:
        pass

    def end(self) -> None:
        if self.pid:
            with contextlib.suppress(OSError):
                os.kill(self.pid, signal.SIGKILL)
                os.waitpid(self.pid, 0)


def _reloading_server(events: list[str], delays: list[float]) -> types.SimpleNamespace:
    return types.SimpleNamespace(
        workers=len(delays),
        wrks=[_Worker(f"old-{n + 1}", events) for n in range(len(delays))],
        reload_signal=True,
        interrupt_signal=False,
        looked=True,
        on_hangup=None,
        respawned_wrks={},
        main_loop_interrupt=threading.Event(),
        workers_kill_timeout=1,
        generation=os.pipe(),  # on which the old workers are told to take no more connections
        _spawn_worker=lambda idx, target, callback_loader: _Worker(
            f"new-{idx + 1}", events, callback_loader, delays[idx]
        ),
    )


def test_old_workers_stop_only_once_the_new_ones_are_ready(tmp_path: Path) -> None:
    """Clients wait in the one listening socket while no worker accepts: the old workers keep
    answering them until the new ones have their app and are about to accept."""
    events: list[str] = []
    said = tmp_path / "ready"

    def load() -> None:  # in each new worker, as granian asks for the app
        with said.open("a") as note:
            note.write(f"{time.monotonic()}\n")

    server = _reloading_server(events, [0.3, 0.6])
    told: list[tuple[float, bytes]] = []
    hearing = os.dup(server.generation[0])  # as the old workers hear it

    def hear() -> None:
        word = os.read(hearing, 8)
        told.append((time.monotonic(), word))

    listener = threading.Thread(target=hear)
    listener.start()
    began = time.monotonic()
    try:
        workers._server_class()._reload(server, None, load)
        stopped = time.monotonic()
    finally:
        for worker in server.wrks:
            worker.end()
        listener.join(5)
        os.close(hearing)
    readies = [float(line) for line in said.read_text().split()]
    assert len(readies) == 2 and max(readies) - began >= 0.6
    # The old workers are told (one word each) once the new ones are ready, and stopped only
    # once they have read the requests on the connections they took.
    [(when, word)] = told
    assert word == b".." and when >= max(readies) + workers.RESPAWN_DELAY
    # (``when`` is taken once the listening thread runs: a little after the word was sent.)
    assert stopped >= when + workers.ACCEPT_GRACE - 0.05
    assert events[-2:] == ["stop old-1", "stop old-2"]
    assert [w.name for w in server.wrks] == ["new-1", "new-2"]
    assert server.generation is None  # the new workers' pipe is made with the first of them


def test_a_new_worker_that_dies_before_it_is_ready_does_not_hold_up_the_old_ones() -> None:
    events: list[str] = []
    server = _reloading_server(events, [0.05, -0.1])  # the second dies after 0.1 s
    began = time.monotonic()
    try:
        workers._server_class()._reload(server, None, lambda: None)
    finally:
        for worker in server.wrks:
            worker.end()
    assert time.monotonic() - began < 2  # not the whole LISTEN_TIMEOUT
    assert events[-2:] == ["stop old-1", "stop old-2"]


def test_a_worker_told_takes_no_more_connections_and_none_is_lost() -> None:
    """The listening socket is shared by the main process and every worker: a worker told to
    stop taking connections finds nothing to accept, while what comes waits for the others."""
    shared = _listening()
    port = shared.getsockname()[1]
    kept = shared.dup()  # the main process's and the new workers' hold on the same socket
    shared.setblocking(False)
    told, telling = os.pipe()
    try:
        worker = threading.Thread(
            target=workers._stop_accepting_when_told, args=(told, shared.fileno())
        )
        worker.start()
        os.write(telling, b".")
        worker.join(5)
        with socket.create_connection(("127.0.0.1", port), timeout=5) as client:
            client.sendall(b"GET / HTTP/1.1\r\n\r\n")
            # The told worker's accept finds nothing...
            with (
                socket.socket(fileno=os.dup(shared.fileno())) as where_it_listened,
                pytest.raises(BlockingIOError),
            ):
                where_it_listened.accept()
            accepted, _ = kept.accept()  # ...and the connection waits for the others, whole
            with accepted:
                assert accepted.recv(64).startswith(b"GET / ")
    finally:
        for descriptor in (told, telling):
            os.close(descriptor)
        shared.close()
        kept.close()


def test_port_zero_takes_no_lock() -> None:
    """Port 0 asks the kernel for any free port: two such servers never share one."""
    first = workers.claim("127.0.0.1", 0)
    second = workers.claim("127.0.0.1", 0)
    assert first is None and second is None


def test_an_ipv6_address_is_written_in_brackets() -> None:
    with socket.socket(socket.AF_INET6) as other:
        try:
            other.bind(("::1", 0))
        except OSError:
            pytest.skip("no IPv6 loopback on this machine")
        other.listen()
        port = other.getsockname()[1]
        with pytest.raises(workers.AddressError) as refused:
            workers.claim("::1", port)
    assert str(refused.value).startswith(f"[::1]:{port} is already in use")


def test_a_host_no_resolver_takes_is_named_without_a_traceback() -> None:
    with pytest.raises(workers.AddressError, match=r"^cannot listen on a{64}\.example:\d+: "):
        workers.claim("a" * 64 + ".example", _free_port())


def test_no_lock_in_a_folder_others_can_write_to(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another user could hold such a lock, and keep the server from starting."""
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o777)
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(shared))
    assert workers.claim("127.0.0.1", _free_port()) is None
    own = tmp_path / "own"
    own.mkdir(mode=0o700)
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(own))
    port = _free_port()
    lock = workers.claim("127.0.0.1", port)
    assert lock is not None
    lock.close()
    assert [path.name for path in own.iterdir()] == [f"smcfeed-listen-{port}.lock"]


@pytest.mark.parametrize(
    ("options", "said"),
    [
        (
            ["--host", "localhost"],
            "smcfeed: --host localhost: granian listens on an IP address (127.0.0.1, "
            "0.0.0.0, ::), not a name; --server uvicorn takes names too\n",
        ),
    ],
)
def test_serve_refuses_an_address_it_cannot_use_in_one_line(
    options: list[str], said: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["serve", "--content", str(SAMPLE), *options]) == 1
    assert capsys.readouterr().err == said


@pytest.mark.parametrize("port", ["70000", "-1", "abc", "80.5"])
def test_a_port_that_is_not_one_is_refused_in_one_line(
    port: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as given:
        main(["serve", "--content", str(SAMPLE), "--port", port])
    assert given.value.code == 2
    said = capsys.readouterr().err.splitlines()[-1]
    assert said.endswith(
        f"argument --port: {port!r} is not a port: a number from 0 to 65535 "
        "(the default comes from $PORT)"
    )
    # The same from the environment; and another command never minds $PORT.
    monkeypatch.setenv("PORT", port)
    with pytest.raises(SystemExit):
        main(["serve", "--content", str(SAMPLE)])
    assert "is not a port" in capsys.readouterr().err
    assert main(["check", str(SAMPLE)]) == 0


def test_a_sighup_during_a_sighups_look_asks_for_one_more() -> None:
    """The look takes seconds at 100k articles: a deploy's second SIGHUP in the meantime must
    not be wiped out when the first one's fork clears granian's reload flags."""
    events: list[str] = []
    server = types.SimpleNamespace(
        workers=1,
        wrks=[_Worker("old", events)],
        reload_signal=True,
        interrupt_signal=False,
        looked=False,
        generation=None,
        respawned_wrks={},
        main_loop_interrupt=threading.Event(),
        workers_kill_timeout=1,
        _spawn_worker=lambda idx, target, callback_loader: _Worker("new", events, callback_loader),
    )

    def look() -> None:
        events.append("look")
        server.reload_signal = True  # the second SIGHUP, as granian's handler sets it
        server.main_loop_interrupt.set()

    server.on_hangup = look
    try:
        workers._server_class()._reload(server, None, lambda: None)
    finally:
        server.wrks[0].end()
    assert events[0] == "look" and "start new" in events
    assert server.reload_signal and server.main_loop_interrupt.is_set()  # one more to come
