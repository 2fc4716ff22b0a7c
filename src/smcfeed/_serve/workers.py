"""``serve`` with granian: the content is loaded once, in the main process, and the workers
are forked from it, sharing its memory.

granian forks its worker processes (``multiprocessing``'s default on Linux) and asks a loader
for the app in each. Handing it the app made here, before the fork, means every worker starts
with the loaded catalogue, the warmed responses and the parse cache already in memory, shared
copy-on-write: a page is copied only when a worker writes to it. ``gc.freeze()`` keeps the
cycle collector of each worker from writing to every object it would otherwise visit.

A second after start this process looks at every file again (in case one changed while
loading) and forks the workers anew, once. From then on each worker watches the folder and
reloads on its own, as a single process would: an edit never replaces a worker, so no
connection is closed and no response cache is emptied by it (replacing the workers on every
edit, tried first, cost a soak under live edits its socket errors and three quarters of its
throughput). The price is memory: what a reload builds is each worker's own. This process
reloads too, only to announce changes: pings and purges go out once, from here, however many
workers run.

This process holds the listening sockets, one per worker slot, so that workers come and go
(forked anew, respawned after a crash) without a queued connection being lost; see
``Server._init_shared_socket``.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import fcntl
import gc
import logging
import logging.config
import os
import select
import signal
import socket
import tempfile
import threading
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import IO, Any

from ..exceptions import SmcfeedError
from ..settings import Settings
from .asgi import make_app
from .state import ContentState
from .watch import content_changes, elsewhere, leads_to, watch_options

log = logging.getLogger("smcfeed")
#: Seconds new workers are given, once they are ready, before the old ones are stopped.
RESPAWN_DELAY = 0.05
#: Longest wait for a new worker to be ready; an old worker whose successor is not ready by
#: then keeps its slot.
LISTEN_TIMEOUT = 10.0
#: Seconds old workers are given, once they take no more connections, to read the requests
#: on those they took: a client's request arrives with, or right behind, the last packet of
#: its handshake (the kernel hands over a connection once that packet is in), whatever the
#: distance. Every re-fork and every stop waits this long.
ACCEPT_GRACE = 0.2
#: The signal that tells a worker to take no more connections (it waits for it in a thread).
STOP_ACCEPTING = signal.SIGUSR1
#: Longest wait, after a worker stopped cleanly on its own, for this process's own signal
#: (the whole group was signalled) before its end counts as a crash and it is forked again.
#: The group's signal reaches every process at once; this one reads its copy within
#: milliseconds, unless busy. A worker signalled alone leaves its slot unserved this long.
GROUP_SIGNAL_WAIT = 0.1


def serve(
    settings: Settings,
    host: str,
    port: int,
    workers: int,
    log_config: dict[str, Any],
    limits: dict[str, Any] | None = None,
    hangups: threading.Event | None = None,
) -> None:
    """Load the content, fork ``workers`` granian workers over it, reload on edits.

    ``limits`` are granian's own connection settings (``http``, ``http1_settings``,
    ``backpressure``, ``backlog``), as ``smcfeed serve``'s flags set them; ``hangups`` is set
    by a SIGHUP that came before granian handles them."""
    from granian.constants import Interfaces, Loops

    logging.config.dictConfig(log_config)
    # Each worker watches and reloads the content itself (its lifespan starts the watcher), so
    # an edit never replaces a worker: connections stay open and response caches stay warm.
    app = make_app(settings)
    state: ContentState = app.state.content
    # This process takes the second look at every file after start (and forks the workers
    # again after it, see watch_and_reload): the workers' own watchers need not.
    state.catch_up = False
    # Pings and purges are sent from here, once, whatever the number of workers.
    changes = app.state.changes
    changes.fork_lock = state.fork_lock
    changes.start()
    _share(state)
    server = _server_class()(
        "smcfeed._serve.asgi:app",
        address=host,
        port=port,
        interface=Interfaces.ASGI,
        workers=workers,
        loop=Loops.uvloop,
        websockets=False,
        log_dictconfig=log_config,
        log_access=False,
        respawn_failed_workers=True,
        respawn_interval=RESPAWN_DELAY,
        workers_kill_timeout=10,
        **(limits or {}),
    )
    server.on_hangup = partial(_look_before_hangup_fork, state)
    if hangups is not None:
        # A SIGHUP that came while the content loaded (granian's own handler is not set yet)
        # is taken once the workers run.
        server.on_startup(partial(_replay_hangup, server, hangups))
    stop = threading.Event()
    if settings.watch:
        threading.Thread(
            target=watch_and_reload,
            args=(state, server.fork_looked_at, stop),
            name="smcfeed-watch",
            daemon=True,
        ).start()
    try:
        server.serve(target_loader=lambda _target: app)
    finally:
        stop.set()
        changes.close()


def _server_class() -> type[Any]:
    """granian's process server, respawning all workers at once on a reload."""
    from granian.server.mp import MPServer, WorkerProcess

    class Worker(WorkerProcess):
        def _watcher(self) -> None:
            self.inner.join()
            server: Any = self.parent
            if not self.interrupt_by_parent and self.inner.exitcode == 0:
                # It stopped cleanly, on a signal of its own: platforms stop a service by
                # signalling its whole process group (systemd, Heroku, `kill -- -PGID`), and
                # the worker may be done before this process has read its copy. Then its end
                # is expected, not a crash to log, respawn and exit 1 for.
                deadline = time.monotonic() + GROUP_SIGNAL_WAIT
                while not server.interrupt_signal and time.monotonic() < deadline:
                    time.sleep(0.01)
                if server.interrupt_signal:
                    self.interrupt_by_parent = True
                else:
                    # A signal to it alone: forked again as after a crash; but should the
                    # group's signal be read later still, it is no failure at shutdown.
                    server.clean_exits.add(self.idx)
            elif not self.interrupt_by_parent:
                server.clean_exits.discard(self.idx)
            granians: Callable[[], None] = super()._watcher
            granians()

    class Server(MPServer):
        #: Called before the workers are forked anew on SIGHUP (granian's reload signal),
        #: to read the content again first.
        on_hangup: Callable[[], None] | None = None
        #: Whether the content was just looked at, by whoever asked for the fork.
        looked = False
        #: The listening sockets, one per worker slot (granian's SocketHolder).
        slots: tuple[Any, ...] = ()
        #: Slots whose worker last ended cleanly (exit status 0) on a signal of its own.
        clean_exits: set[int]

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self.clean_exits = set()

        def fork_looked_at(self) -> None:
            """Fork the workers anew from the content just looked at."""
            self.looked = True
            reload: Callable[[], None] = self.signal_handler_reload
            reload()

        def _init_shared_socket(self) -> None:
            # One listening socket per worker slot, all on the address with SO_REUSEPORT (the
            # kernel spreads connections evenly over them; over one shared socket, one worker
            # took 62 of 64 keep-alive connections). They are made here and held by this
            # process: granian would have each worker make its own, and the kernel resets
            # what is queued on a socket when it closes, so every worker stopped (on a
            # re-fork, after a crash) reset clients that had just connected to it. A worker
            # forked anew takes over its slot's socket, and what waits there, open all along.
            from granian._granian import ListenerSpec

            self._ssp = self._sso = None
            first: Any = ListenerSpec(self.bind_addr, self.bind_port, self.backlog).build()
            # With port 0 the kernel picks one: every slot listens on the one it picked.
            port = _port_of(first.get_fd()) if not self.bind_port else self.bind_port
            others = [
                ListenerSpec(self.bind_addr, port, self.backlog) for _ in range(1, self.workers)
            ]
            self.slots = (first, *(spec.build() for spec in others))
            self._shd, self._sfd = first, first.get_fd()

        def _drop_shared_socket(self) -> None:
            # On the way out, before the workers are stopped: they take no more connections,
            # read the requests on those they took, and this process lets go of the sockets.
            # Nothing then holds them (each worker holds its own slot's alone), so clients
            # are refused at once (a load balancer moves on) rather than left waiting while
            # the workers finish. (granian's holders never close their socket themselves;
            # shutting a listening socket down instead sends granian's accept loop spinning.)
            for worker in self.wrks:
                # Their ends are expected now (a SIGTERM to the whole group, as systemd and
                # process managers send, reaches them too): no crash to report.
                worker.interrupt_by_parent = True
            told = [_tell_to_stop_accepting(worker) for worker in self.wrks]
            for slot in self.slots:
                with contextlib.suppress(OSError):
                    os.close(slot.get_fd())
            self.slots = ()
            self._shd = self._sfd = None
            if any(told):
                time.sleep(ACCEPT_GRACE)

        def _spawn_worker(
            self, idx: Any, target: Any, callback_loader: Any, *args: Any, **kwargs: Any
        ) -> Any:
            # Every worker, however forked (at start, anew, after a crash), listens on its
            # slot's socket, and waits for the word to take no more connections from it.
            self._shd, self._sfd = self.slots[idx], self.slots[idx].get_fd()
            others = tuple(slot.get_fd() for slot in self.slots if slot is not self._shd)
            loader = partial(_accept_until_told, callback_loader, self._sfd, others)
            worker = super()._spawn_worker(idx, target, loader, *args, **kwargs)
            worker.__class__ = Worker  # watched by the rule above once started
            return worker

        def _reload(self, spawn_target: Any, target_loader: Any) -> None:
            # Taken before the look: a SIGHUP that comes during it asks for one more.
            looked, self.looked = self.looked, False
            self.reload_signal = False
            self.respawned_wrks.clear()
            self.main_loop_interrupt.clear()
            if not looked and self.on_hangup is not None:
                self.on_hangup()
            if self.interrupt_signal:  # a SIGTERM came meanwhile: stop, fork nothing
                self.main_loop_interrupt.set()
                return
            log.info("new content: forking %d new worker(s)", self.workers)
            old: list[Any] = list(self.wrks)
            for stale in old:
                stale.interrupt_by_parent = True  # their ends are expected from now on
            self.wrks.clear()
            started: list[Any] = []
            ready, readying = os.pipe()
            try:
                for idx in range(self.workers):
                    loader = partial(_say_ready, target_loader, readying, idx)
                    worker: Any = self._spawn_worker(
                        idx=idx, target=spawn_target, callback_loader=loader
                    )
                    worker.start()
                    self.wrks.append(worker)
                    started.append(worker)
                os.close(readying)
                readying = -1
                # Clients would wait in the slots' sockets meanwhile, but the old workers
                # answer them sooner: they stop once the new ones have their app.
                said = _wait_ready(ready, started, lambda: bool(self.interrupt_signal))
            finally:
                for descriptor in (ready, readying):
                    if descriptor >= 0:
                        os.close(descriptor)
            time.sleep(RESPAWN_DELAY)
            # A SIGTERM while the new workers started (to the whole group, as platforms send
            # it, so the old ones may be gone already): a new worker that has not said it is
            # ready is not hung, and no slot is forked again; everything stops now.
            stopping = bool(self.interrupt_signal)
            retiring = []
            for idx, stale in enumerate(old):
                fresh = started[idx] if idx < len(started) else None
                if not stopping and fresh is not None and idx not in said and fresh.is_alive():
                    # Hung before its accept loop: its slot's connections would wait for
                    # nothing. The old worker keeps the slot; the next re-fork tries again.
                    log.error(
                        "worker-%d did not start within %.0f s: stopped; the previous one "
                        "keeps its place",
                        idx + 1,
                        LISTEN_TIMEOUT,
                    )
                    fresh.kill()
                    fresh.join()
                    if stale.is_alive():
                        stale.interrupt_by_parent = False
                        self.wrks[idx] = stale
                    else:  # gone too: granian forks the slot's worker once more
                        self.interrupt_children.append(idx)
                        self.main_loop_interrupt.set()
                else:
                    retiring.append(stale)
            # granian's graceful stop closes, unanswered, every connection whose request it
            # has not read yet, those it has just accepted included: the old workers first
            # take no more connections, and read the requests on those they took.
            told = [stale for stale in retiring if _tell_to_stop_accepting(stale)]
            if told:
                time.sleep(ACCEPT_GRACE)
            for stale in retiring:
                stale.terminate()
            for stale in retiring:
                stale.join(self.workers_kill_timeout)
                if stale.is_alive():
                    stale.kill()
                    stale.join()
            if self.interrupt_signal:  # taken by the main loop, even if it came just now
                self.main_loop_interrupt.set()

        def shutdown(self, exit_code: int = 0) -> None:
            if self.interrupt_signal:
                # A worker that stopped cleanly a moment before this process read its own
                # signal (the whole group was signalled) did not fail.
                self.interrupt_children[:] = [
                    idx for idx in self.interrupt_children if idx not in self.clean_exits
                ]
            granians: Callable[[int], None] = super().shutdown
            granians(exit_code)

    return Server


def _replay_hangup(server: Any, hangups: threading.Event) -> None:
    if hangups.is_set():
        log.info("SIGHUP came while starting: taking it now")
        server.signal_handler_reload()


def _look_before_hangup_fork(state: ContentState) -> None:
    """SIGHUP: an operator asks for the content to be read again (with ``--no-watch``, after
    a deploy; or on a file system that reports no changes). Every file is looked at, then the
    workers are forked anew from what was read (and look again at what changed since)."""
    log.info("SIGHUP: looking at every file, then forking the workers anew")
    began = time.time()
    state.reload(None)
    state.forked_at = began


def _port_of(descriptor: int) -> int:
    with socket.socket(fileno=os.dup(descriptor)) as bound:
        return int(bound.getsockname()[1])


def _say_ready(loader: Callable[[], Any], readying: int, idx: int) -> Any:
    """In a new worker: get the app, then tell the main process this worker (slot ``idx``)
    is about to accept (its accept loop starts as soon as the loader returns)."""
    app = loader()
    with contextlib.suppress(OSError):
        os.write(readying, idx.to_bytes(2, "big"))
        os.close(readying)
    return app


def _accept_until_told(
    loader: Callable[[], Any], listening: int | None, others: tuple[int, ...] = ()
) -> Any:
    """In a worker: let go of the other slots' sockets (inherited), get the app, and from a
    thread of its own wait for STOP_ACCEPTING, then take no more connections from the
    listening socket ``listening``."""
    for descriptor in others:
        with contextlib.suppress(OSError):
            os.close(descriptor)
    app = loader()
    if listening is not None:
        # Blocked here, before granian starts its threads, so in every thread of the worker:
        # only the waiting thread takes it.
        signal.pthread_sigmask(signal.SIG_BLOCK, {STOP_ACCEPTING})
        threading.Thread(
            target=_stop_accepting_when_told,
            args=(listening,),
            name="smcfeed-accepting",
            daemon=True,
        ).start()
    return app


def _stop_accepting_when_told(listening: int) -> None:
    """Once told, put a listening socket that no one connects to (an unnamed one, in the
    abstract namespace) where the slot's socket was: granian's accept loop then finds nothing
    to accept, and what clients send waits in the slot's socket for the new worker. (That
    socket stays open in the main process and the new worker, so nothing queued is lost.)"""
    signal.sigwait({STOP_ACCEPTING})
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as nowhere:
            nowhere.bind("")  # Linux picks an unused abstract name
            nowhere.listen(1)
            nowhere.setblocking(False)
            os.dup2(nowhere.fileno(), listening, inheritable=False)
    except OSError as error:
        log.warning("a worker could not stop taking connections before it stops: %s", error)
        return
    log.debug("worker %d takes no more connections", os.getpid())


def _tell_to_stop_accepting(worker: Any) -> bool:
    """Send STOP_ACCEPTING to a worker still running; whether it was sent."""
    pid = getattr(getattr(worker, "inner", None), "pid", None)
    if not pid or not worker.is_alive():
        return False
    try:
        os.kill(pid, STOP_ACCEPTING)
    except OSError:
        return False
    return True


def _wait_ready(ready: int, workers: list[Any], interrupted: Callable[[], bool]) -> set[int]:
    """The slots of ``workers`` that said they are ready on the pipe ``ready``, once every one
    still alive has (or LISTEN_TIMEOUT has passed, or a SIGTERM came)."""
    deadline = time.monotonic() + LISTEN_TIMEOUT
    said: set[int] = set()
    pending = b""
    while not interrupted():
        if all(idx in said or not w.is_alive() for idx, w in enumerate(workers)):
            break
        if time.monotonic() > deadline:
            log.warning("new workers not ready within %.0f s", LISTEN_TIMEOUT)
            break
        readable, _, _ = select.select([ready], [], [], 0.01)
        if readable:
            told = os.read(ready, 64)
            if not told:
                break  # every new worker has said all it will
            pending += told
            while len(pending) >= 2:
                said.add(int.from_bytes(pending[:2], "big"))
                pending = pending[2:]
    return said


class AddressError(SmcfeedError):
    """The server cannot have its address to itself."""


def claim(host: str, port: int) -> IO[bytes] | None:
    """Make sure this server has ``host:port`` to itself, before loading anything; returns a
    lock to keep open while serving (None for port 0, or where no lock can be made).

    granian's listening socket has SO_REUSEPORT, which lets any later process of the same
    user listen on the same port too: a second smcfeed (an older
    release left running, a start by mistake) would silently get half the connections and
    answer them from its own content, embargoes included. So a plain socket, without
    SO_REUSEPORT, is bound first (it fails while anything listens there), and a lock named
    after the port (whatever the address: 0.0.0.0 and 127.0.0.1 overlap) covers two servers
    starting at the same moment."""
    where = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    lock = _lock(port) if port else None
    if lock is not None:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            lock.close()
            raise AddressError(
                f"{where} is already in use by another smcfeed (serving there, or "
                "starting); stop it or choose another --port"
            ) from None
    try:
        family, kind, protocol, _, address = socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )[0]
        with socket.socket(family, kind, protocol) as probe:
            # A port whose last connections wait in TIME_WAIT is free to listen on.
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind(address)
    except (OSError, UnicodeError, ValueError) as error:
        if lock is not None:
            lock.close()
        if isinstance(error, OSError) and error.errno == errno.EADDRINUSE:
            raise AddressError(
                f"{where} is already in use (another server listens there: an "
                "earlier smcfeed still running?); stop it or choose another --port"
            ) from None
        reason = getattr(error, "strerror", None) or str(error) or type(error).__name__
        raise AddressError(f"cannot listen on {where}: {reason}") from None
    return lock


def _lock(port: int) -> IO[bytes] | None:
    """The lock file of ``port``, open, in a folder only this user can write to (only
    processes of one user can share a port; another user must not be able to hold it)."""
    runtime = os.environ.get("XDG_RUNTIME_DIR")
    folder = Path(runtime) if runtime else Path(tempfile.gettempdir()) / f"smcfeed-{os.getuid()}"
    try:
        folder.mkdir(mode=0o700, exist_ok=True)
        mode = folder.lstat()
        if mode.st_uid != os.getuid() or mode.st_mode & 0o077 or not folder.is_dir():
            return None  # not ours alone: no lock rather than one another user can hold
        flags = os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_NOFOLLOW | os.O_CLOEXEC
        # One per port, whatever the address: 0.0.0.0 and 127.0.0.1 overlap.
        descriptor = os.open(folder / f"smcfeed-listen-{port}.lock", flags, 0o600)
    except OSError:
        return None  # the probe still runs
    return os.fdopen(descriptor, "ab")


def _share(state: ContentState) -> None:
    """Make what is loaded now cheap to share with workers forked later."""
    # A fork must not copy a reload half done (its locks held, its snapshot half built).
    lock = state.fork_lock
    os.register_at_fork(before=lock.acquire, after_in_parent=lock.release)
    os.register_at_fork(after_in_child=_release_in_child(lock))
    os.register_at_fork(before=_note_forking_thread, after_in_child=_die_with(os.getpid()))
    # From now on the parse cache is saved from a forked child, never by touching this
    # process's objects (see ContentState._save_in_child).
    state.fork_saves = True
    state.wait_saved()
    gc.freeze()


#: Whether the fork under way is made by the main thread (granian's workers are; the child that
#: saves the parse cache is forked by a thread of its own).
_forked_by_main = False


def _note_forking_thread() -> None:
    global _forked_by_main
    _forked_by_main = threading.current_thread() is threading.main_thread()


def _die_with(parent: int) -> Callable[[], None]:
    """A worker must not outlive the process that forked it (killed, or crashed): ask Linux to
    send it SIGTERM when that process ends (PR_SET_PDEATHSIG, which follows the forking
    *thread*, hence main-thread forks only)."""

    def arm() -> None:
        if not _forked_by_main:
            return
        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
        if os.getppid() != parent:  # it ended before the request took effect
            os._exit(0)

    return arm


_PR_SET_PDEATHSIG = 1


def _release_in_child(lock: threading.Lock) -> Callable[[], None]:
    def release() -> None:
        if lock.locked():
            lock.release()

    return release


def watch_and_reload(
    state: ContentState, respawn: Callable[[], None], stop: threading.Event
) -> None:
    """Reload on edits (once they settle), so that pings and purges go out once, from here;
    respawn the workers once, after the second look at every file a second after start."""
    from watchfiles import watch

    first = True

    def look_at_every_file() -> None:
        """The second look at start (then the workers are forked anew, once), or a look
        after the watcher stopped."""
        nonlocal first
        began = time.time()
        state.reload(None)
        if first:
            first = False
            _fork_anew(state, respawn, began)

    # Like the single-process watcher (watch.py), it cannot die: if watching fails, it
    # starts again, and looks at every file once it runs.
    while not stop.is_set():
        look = True
        watched = leads_to(state.root)
        moved = False
        try:
            # The watcher says so each second it has seen nothing: its first word comes once
            # it is running, so the look taken then leaves no edit unseen.
            changes_seen = watch(state.root, stop_event=stop, **watch_options())  # type: ignore[arg-type]
            with contextlib.closing(changes_seen):
                for changes in changes_seen:
                    if look:
                        look = False
                        look_at_every_file()
                    if elsewhere(state, watched):
                        moved = True  # a release swapped in: watch where the folder leads now
                        break
                    paths = content_changes(changes)
                    if paths:
                        log.info("content changed (%d file(s)); reloading", len(paths))
                        state.reload(paths)
            if stop.is_set():
                break
            if not moved:
                log.warning("the file watcher stopped; starting it again")
        except FileNotFoundError:
            log.warning("the content folder %s is missing; looking again", state.root)
        except Exception:
            log.exception("the file watcher failed; starting it again")
        if moved:
            log.info("the content folder now leads to %s: reloading", leads_to(state.root))
        elif stop.wait(1.0):
            break
        # While no watcher runs (one that cannot start: inotify's limits reached), each try
        # still looks at every file, and the workers are forked anew once all the same.
        look_at_every_file()


def _fork_anew(state: ContentState, respawn: Callable[[], None], looked: float) -> None:
    """After the second look (a file may have changed while the first load ran): looking at
    every file touches what the workers share, so they are forked again, once; from then on
    each worker follows the edits itself. Only what is loaded now is frozen (kept from the
    cycle collector, which would write to every shared page): frozen objects are never
    collected, so freezing after every reload would keep each old snapshot for good."""
    gc.freeze()
    # The new workers look at what changed since the look began (an edit made during it,
    # behind where it had got to, is theirs to find: this process's watcher reports it here).
    state.forked_at = looked
    respawn()
