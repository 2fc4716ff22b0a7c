"""``serve`` has its address to itself: it refuses a port another server listens on, and a
second smcfeed starting on the same port at the same moment (granian's workers listen with
SO_REUSEPORT, which would otherwise let both share the port, each answering from its own
content)."""

from __future__ import annotations

import socket
import threading
import types
from pathlib import Path

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


def test_the_number_of_listeners_on_a_port_is_read_from_the_kernel() -> None:
    port = _free_port()
    assert workers.listeners(port) == 0
    sockets = []
    try:
        for _ in range(3):
            s = socket.socket()
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
            s.bind(("127.0.0.1", port))
            s.listen()
            sockets.append(s)
            assert workers.listeners(port) == len(sockets)
    finally:
        for s in sockets:
            s.close()
    assert workers.listeners(port) == 0


class _Worker:
    """A stand-in for a granian worker process: notes when it starts and is stopped."""

    def __init__(self, name: str, events: list[str]) -> None:
        self.name, self.events, self.stopped = name, events, False

    def start(self) -> None:
        self.events.append(f"start {self.name}")

    def is_alive(self) -> bool:
        return not self.stopped

    def terminate(self) -> None:
        self.events.append(f"stop {self.name}")
        self.stopped = True

    def join(self, timeout: float | None = None) -> None:
        pass


def test_old_workers_stop_only_once_the_new_ones_listen(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each granian worker listens on its own socket: stopping the old ones before the new
    ones listen would leave the port with no listener, and clients would be refused."""
    events: list[str] = []
    listening = {"count": 2}  # the two old workers' sockets

    def listeners(port: int) -> int:
        assert port == 8123
        if sum(e.startswith("start new") for e in events) == 2:
            listening["count"] += 1  # the new workers come up one poll at a time
        events.append(f"listeners {min(listening['count'], 4)}")
        return min(listening["count"], 4)

    monkeypatch.setattr(workers, "listeners", listeners)
    server = types.SimpleNamespace(
        workers=2,
        wrks=[_Worker("old-1", events), _Worker("old-2", events)],
        reload_signal=True,
        interrupt_signal=False,
        looked=True,
        on_hangup=None,
        respawned_wrks={},
        main_loop_interrupt=threading.Event(),
        bind_port=8123,
        workers_kill_timeout=1,
        _spawn_worker=lambda idx, target, callback_loader: _Worker(f"new-{idx + 1}", events),
    )
    workers._server_class()._reload(server, None, None)
    first_stop = events.index("stop old-1")
    assert events[first_stop - 1] == "listeners 4", events
    assert "listeners 4" not in events[: events.index("start new-2")]
    assert [w.name for w in server.wrks] == ["new-1", "new-2"]


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


def test_a_sighup_during_a_sighups_look_asks_for_one_more(monkeypatch: pytest.MonkeyPatch) -> None:
    """The look takes seconds at 100k articles: a deploy's second SIGHUP in the meantime must
    not be wiped out when the first one's fork clears granian's reload flags."""
    events: list[str] = []
    monkeypatch.setattr(workers, "listeners", lambda port: None)
    server = types.SimpleNamespace(
        workers=1,
        wrks=[_Worker("old", events)],
        reload_signal=True,
        interrupt_signal=False,
        looked=False,
        respawned_wrks={},
        main_loop_interrupt=threading.Event(),
        bind_port=8123,
        workers_kill_timeout=1,
        _spawn_worker=lambda idx, target, callback_loader: _Worker("new", events),
    )

    def look() -> None:
        events.append("look")
        server.reload_signal = True  # the second SIGHUP, as granian's handler sets it
        server.main_loop_interrupt.set()

    server.on_hangup = look
    workers._server_class()._reload(server, None, None)
    assert events[0] == "look" and "start new" in events
    assert server.reload_signal and server.main_loop_interrupt.is_set()  # one more to come
