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
    """A stand-in for a granian worker process, a real forked one. A new worker gets its app
    from the loader (where a granian worker says it is ready) after ``delay`` seconds (dies
    first if ``delay`` is negative; hangs if it is None); an old one (no loader) waits for
    STOP_ACCEPTING as a worker does and notes when it heard it in ``heard``."""

    def __init__(
        self,
        name: str,
        events: list[str],
        loader: Any = None,
        delay: float | None = 0,
        heard: Path | None = None,
    ) -> None:
        self.name, self.events, self.loader, self.delay, self.heard = (
            name,
            events,
            loader,
            delay,
            heard,
        )
        self.inner = types.SimpleNamespace(pid=0)
        self.interrupt_by_parent = False
        self.stopped = False

    def start(self) -> None:
        self.events.append(f"start {self.name}")
        if self.loader is None:
            signal.pthread_sigmask(signal.SIG_BLOCK, {workers.STOP_ACCEPTING})
        pid = os.fork()
        if pid == 0:  # the worker: never back into pytest
            try:
                if self.loader is None:
                    signal.sigwait({workers.STOP_ACCEPTING})
                    if self.heard is not None:
                        with self.heard.open("a") as note:
                            note.write(f"{time.monotonic()}\n")
                elif self.delay is None:
                    time.sleep(30)  # hung
                else:
                    time.sleep(abs(self.delay))
                    if self.delay < 0:
                        return  # died
                    self.loader()
                time.sleep(30)  # serving, until stopped
            finally:
                os._exit(0)
        if self.loader is None:
            signal.pthread_sigmask(signal.SIG_UNBLOCK, {workers.STOP_ACCEPTING})
        self.inner.pid = pid

    def is_alive(self) -> bool:
        if self.stopped or not self.inner.pid:
            return False
        with contextlib.suppress(ChildProcessError):
            if os.waitpid(self.inner.pid, os.WNOHANG)[0]:
                self.stopped = True
        return not self.stopped

    def terminate(self) -> None:
        self.events.append(f"stop {self.name}")
        self.end()

    def kill(self) -> None:
        self.events.append(f"kill {self.name}")
        self.end()

    def join(self, timeout: float | None = None) -> None:
        pass

    def end(self) -> None:
        if not self.stopped and self.inner.pid:  # (never pid 0: that is pytest's group)
            with contextlib.suppress(OSError):
                os.kill(self.inner.pid, signal.SIGKILL)
                os.waitpid(self.inner.pid, 0)
        self.stopped = True


def _reloading_server(
    events: list[str], delays: list[float | None], heard: Path | None = None
) -> types.SimpleNamespace:
    old = [_Worker(f"old-{n + 1}", events, heard=heard) for n in range(len(delays))]
    for worker in old:
        worker.start()
    return types.SimpleNamespace(
        workers=len(delays),
        wrks=old,
        reload_signal=True,
        interrupt_signal=False,
        looked=True,
        on_hangup=None,
        respawned_wrks={},
        main_loop_interrupt=threading.Event(),
        workers_kill_timeout=1,
        _spawn_worker=lambda idx, target, callback_loader: _Worker(
            f"new-{idx + 1}", events, callback_loader, delays[idx]
        ),
    )


def test_old_workers_stop_only_once_the_new_ones_are_ready(tmp_path: Path) -> None:
    """Clients wait in the slots' sockets while no worker accepts: the old workers keep
    answering them until the new ones have their app and are about to accept; then they take
    no more connections, and are stopped once they have read the requests they took."""
    events: list[str] = []
    said, heard = tmp_path / "ready", tmp_path / "heard"

    def load() -> None:  # in each new worker, as granian asks for the app
        with said.open("a") as note:
            note.write(f"{time.monotonic()}\n")

    server = _reloading_server(events, [0.3, 0.6], heard)
    old = list(server.wrks)
    began = time.monotonic()
    try:
        workers._server_class()._reload(server, None, load)
        stopped = time.monotonic()
    finally:
        for worker in [*server.wrks, *old]:
            worker.end()
    readies = [float(line) for line in said.read_text().split()]
    assert len(readies) == 2 and max(readies) - began >= 0.6
    # Each old worker heard the word once the new ones were ready (a little after, as the
    # time is taken once it runs again), and was stopped only after the grace.
    told = [float(line) for line in heard.read_text().split()]
    assert len(told) == 2 and min(told) >= max(readies) + workers.RESPAWN_DELAY
    assert stopped >= max(told) + workers.ACCEPT_GRACE - 0.05
    assert events[-2:] == ["stop old-1", "stop old-2"]
    assert [w.name for w in server.wrks] == ["new-1", "new-2"]
    assert all(w.interrupt_by_parent for w in old)  # their ends are no crash to respawn


def test_a_new_worker_that_dies_before_it_is_ready_does_not_hold_up_the_old_ones() -> None:
    events: list[str] = []
    server = _reloading_server(events, [0.05, -0.1])  # the second dies after 0.1 s
    old = list(server.wrks)
    began = time.monotonic()
    try:
        workers._server_class()._reload(server, None, lambda: None)
    finally:
        for worker in [*server.wrks, *old]:
            worker.end()
    assert time.monotonic() - began < 2 + workers.ACCEPT_GRACE  # not the whole LISTEN_TIMEOUT
    # granian respawns the dead one into its slot (its end was not asked for).
    assert events[-2:] == ["stop old-1", "stop old-2"]


def test_an_old_worker_keeps_its_slot_while_its_successor_hangs(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """A new worker that never gets to accepting would leave its slot's connections waiting
    for nothing: it is stopped, and the old one keeps the slot (and is respawned if it dies)."""
    monkeypatch.setattr(workers, "LISTEN_TIMEOUT", 0.5)
    events: list[str] = []
    server = _reloading_server(events, [0.05, None])
    old = list(server.wrks)
    try:
        workers._server_class()._reload(server, None, lambda: None)
        assert [w.name for w in server.wrks] == ["new-1", "old-2"]
        assert server.wrks[1].is_alive() and not server.wrks[1].interrupt_by_parent
    finally:
        for worker in [*server.wrks, *old]:
            worker.end()
    assert "kill new-2" in events and "stop old-1" in events and "stop old-2" not in events
    assert "worker-2 did not start within" in caplog.text


def test_a_slot_whose_old_and_new_workers_are_both_gone_is_forked_once_more(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(workers, "LISTEN_TIMEOUT", 0.5)
    events: list[str] = []
    server = _reloading_server(events, [0.05, None])
    server.interrupt_children = []
    old = list(server.wrks)
    old[1].end()  # the old worker of the slot whose new one hangs dies meanwhile
    try:
        workers._server_class()._reload(server, None, lambda: None)
    finally:
        for worker in [*server.wrks, *old]:
            worker.end()
    assert "kill new-2" in events and server.interrupt_children == [1]
    assert server.main_loop_interrupt.is_set()  # granian's loop respawns slot 2


def test_a_worker_told_takes_no_more_connections_and_none_is_lost() -> None:
    """The slot's listening socket is held by the main process and the workers: a worker
    told to stop taking connections finds nothing to accept, while what comes waits."""
    shared = _listening()
    port = shared.getsockname()[1]
    kept = shared.dup()  # the main process's and the new worker's hold on the same socket
    shared.setblocking(False)
    # The signal is blocked in the waiting thread (as in every thread of a worker) and sent to
    # it alone, as the worker's own.
    signal.pthread_sigmask(signal.SIG_BLOCK, {workers.STOP_ACCEPTING})
    try:
        worker = threading.Thread(target=workers._stop_accepting_when_told, args=(shared.fileno(),))
        worker.start()
    finally:
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {workers.STOP_ACCEPTING})
    try:
        assert worker.ident is not None
        signal.pthread_kill(worker.ident, workers.STOP_ACCEPTING)
        worker.join(5)
        assert not worker.is_alive()
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
        shared.close()
        kept.close()


def _slots(port: int, count: int) -> types.SimpleNamespace:
    server = types.SimpleNamespace(
        bind_addr="127.0.0.1", bind_port=port, backlog=16, workers=count, wrks=[]
    )
    workers._server_class()._init_shared_socket(server)
    return server


def test_port_zero_gives_every_slot_the_one_port_the_kernel_picked() -> None:
    server = _slots(0, 3)
    try:
        ports = {workers._port_of(slot.get_fd()) for slot in server.slots}
        assert len(server.slots) == 3 and len(ports) == 1 and 0 not in ports
    finally:
        workers._server_class()._drop_shared_socket(server)


def test_on_the_way_out_nothing_holds_the_slots_and_clients_are_refused() -> None:
    """granian's socket holders never close their socket: clients would wait, unanswered,
    while the workers finish, instead of being refused (so a load balancer moves on). A
    worker holds its own slot's socket alone, and lets go of it when told; this process
    lets go of them all."""
    server = _slots(_free_port(), 2)
    port = workers._port_of(server.slots[0].get_fd())
    descriptors = [slot.get_fd() for slot in server.slots]
    worker = socket.socket(fileno=os.dup(descriptors[0]))
    worker.listen()  # the worker's accept loop
    socket.create_connection(("127.0.0.1", port), timeout=5).close()
    worker.close()  # told: it has let go of its slot
    server.wrks = []
    workers._server_class()._drop_shared_socket(server)
    for descriptor in descriptors:
        with pytest.raises(OSError):
            os.fstat(descriptor)
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", port), timeout=5)


def test_a_worker_lets_go_of_the_other_slots_sockets() -> None:
    inherited = [os.pipe() for _ in range(2)]
    others = tuple(end for pair in inherited for end in pair)
    app = object()
    assert workers._accept_until_told(lambda: app, None, others) is app
    for descriptor in others:
        with pytest.raises(OSError):
            os.fstat(descriptor)


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
    server = _reloading_server(events, [0])
    server.looked = False
    old = list(server.wrks)

    def look() -> None:
        events.append("look")
        server.reload_signal = True  # the second SIGHUP, as granian's handler sets it
        server.main_loop_interrupt.set()

    server.on_hangup = look
    try:
        workers._server_class()._reload(server, None, lambda: None)
    finally:
        for worker in [*server.wrks, *old]:
            worker.end()
    assert events[1] == "look" and "start new-1" in events
    assert server.reload_signal and server.main_loop_interrupt.is_set()  # one more to come
