"""Work that must be stoppable (a user's SPARQL query) in a child process forked from this one: the
child shares the in-process store copy-on-write, can open no file or socket, may grow by a bounded
amount of memory (RLIMIT_AS), and is killed at the deadline, which frees its CPU at once (a thread
cannot be stopped: pyoxigraph has no cancellation). Its answer comes back over a pipe.

The second wall behind kg.query_guard: pyoxigraph 0.5's Store.query has no option to disable SERVICE
and ignores proxy variables (HTTP_PROXY, ALL_PROXY), so the child is made unable to connect: every
free descriptor number below RLIMIT_NOFILE is taken and the limit set just above them, so socket()
(and the resolver's files) fail with EMFILE before any connection is tried. Forking needs no second
copy of the store, works for an embedded store on disk too, and costs about 10 ms a query (the fork
and exit of a 200 MB server).

A child still running after YIELD_AFTER seconds is reniced to the lowest CPU priority: quick queries,
the pages and the API keep the processors while a few heavy queries take what is left; the caller
may then also stop it (`may_go_on`: the server keeps a slot free for quick queries)."""

import contextlib
import faulthandler
import os
import resource
import select
import signal
import sys
import time
from collections.abc import Callable

from pyoxigraph import Store

from kg.store.dataset import DatasetView
from kg.store.embedded import EmbeddedStore

YIELD_AFTER = 0.25   # seconds a query runs at the server's priority before its child yields the CPU
_RETRY = "narrow it down (a LIMIT, more specific patterns, bounded property paths)."


class Stopped(Exception):
    """The work gave no answer. `kind`: timeout, memory or crashed (stopped), syntax or error (the
    work raised: SyntaxError or another exception); the message is for the user."""

    def __init__(self, kind: str, message: str):
        super().__init__(message)
        self.kind = kind


def in_process(store) -> bool:
    """Whether pyoxigraph evaluates queries on `store` in this process (so a child can run them)."""
    return isinstance(store, Store) or (isinstance(store, DatasetView) and isinstance(store.store, EmbeddedStore))


def run_confined(work: Callable[[], bytes], timeout: float | None, memory_bytes: int | None,
                 may_go_on: Callable[[], bool] | None = None) -> bytes:
    """work()'s bytes, computed in a confined child (None: no time or memory limit); Stopped when it
    times out, runs out of memory, crashes or raises, or when may_go_on(), asked once the child has run
    YIELD_AFTER seconds, says no ("busy"). The child is killed if the caller is interrupted."""
    read_end, write_end = os.pipe()
    try:
        pid = os.fork()
    except OSError:
        os.close(read_end)
        os.close(write_end)
        raise
    if pid == 0:
        _child(work, read_end, write_end, memory_bytes)
    os.close(write_end)
    deadline = None if timeout is None else time.monotonic() + timeout
    try:
        data = _read_until(read_end, deadline, pid, may_go_on)
    except BaseException as err:   # the deadline, no room to go on, or the caller interrupted (Ctrl-C)
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        if isinstance(err, TimeoutError):
            raise Stopped("timeout", f"The query ran longer than {timeout:g} s and was stopped: {_RETRY}") from None
        if isinstance(err, _NoRoom):
            raise Stopped("busy", "The endpoint is busy with other long queries: try again shortly.") from None
        raise
    finally:
        os.close(read_end)
    status = os.waitpid(pid, 0)[1]
    kind, _, body = data.partition(b"\n")
    if kind == b"ok":
        return body
    if kind == b"memory" or (not data and os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGABRT):
        raise Stopped("memory", f"The query needed more memory than one query may use and was stopped: {_RETRY}")
    if not data:
        raise Stopped("crashed", "The query engine crashed on this query (in a process of its own: nothing "
                                 "else was affected).")
    raise Stopped(kind.decode(), body.decode("utf-8", "replace"))


def _child(work, read_end: int, write_end: int, memory_bytes: int | None):
    """Evaluate, write `ok\\n<bytes>` or `<kind>\\n<message>`, and exit without the parent's exit handlers."""
    try:
        os.close(read_end)
        _confine(memory_bytes)
        out = b"ok\n" + work()
    except SyntaxError as err:
        out = b"syntax\n" + str(err).encode()
    except MemoryError:
        out = b"memory\n"
    except BaseException as err:  # noqa: BLE001 - whatever happens, the child reports and exits
        out = f"error\n{err or type(err).__name__}".encode("utf-8", "replace")
    try:
        view = memoryview(out)
        while view:
            view = view[os.write(write_end, view):]
    finally:
        os._exit(0)


def _confine(memory_bytes: int | None) -> None:
    """No new descriptor (so no socket), no output on the server's stderr (the engine's own messages,
    such as a failed allocation), at most memory_bytes more address space, and room for deep Python
    recursion (rdflib's SPARQL parser recurses once per triple): past the stack it ends only this child."""
    faulthandler.disable()    # a crash of the engine is reported by the parent, not dumped here
    sys.setrecursionlimit(100_000)
    filler = os.open(os.devnull, os.O_RDWR)
    os.dup2(filler, 2)
    highest = max([filler] + [int(fd) for fd in os.listdir("/proc/self/fd")])
    for fd in range(highest + 1):
        try:
            os.fstat(fd)
        except OSError:       # a free number below the limit: take it
            os.dup2(filler, fd)
    if memory_bytes is not None:
        with open("/proc/self/statm") as statm:
            size = int(statm.read().split()[0]) * resource.getpagesize()
        resource.setrlimit(resource.RLIMIT_AS, (size + memory_bytes, size + memory_bytes))
    resource.setrlimit(resource.RLIMIT_NOFILE, (highest + 1, highest + 1))


class _NoRoom(Exception):
    """may_go_on() said no."""


def _read_until(fd: int, deadline: float | None, pid: int, may_go_on: Callable[[], bool] | None) -> bytes:
    """The child's output; TimeoutError past the deadline. After YIELD_AFTER the child is reniced and
    may_go_on asked (_NoRoom when it says no)."""
    chunks, yield_at = [], time.monotonic() + YIELD_AFTER
    while True:
        now = time.monotonic()
        if yield_at is not None and now >= yield_at:
            with contextlib.suppress(OSError):   # the child may have just ended
                os.setpriority(os.PRIO_PROCESS, pid, 19)
            if may_go_on is not None and not may_go_on():
                raise _NoRoom
            yield_at = None
        waits = [t for t in (deadline, yield_at) if t is not None]
        if waits and not select.select([fd], [], [], max(0.0, min(waits) - now))[0]:
            if deadline is not None and time.monotonic() >= deadline:
                raise TimeoutError
            continue
        chunk = os.read(fd, 1 << 20)
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)
