"""Work that must be stoppable (a user's SPARQL query) in a child process forked from the server:
the child shares the in-memory store copy-on-write, may grow by a bounded amount of memory
(RLIMIT_AS), can open no file or socket (every descriptor number is taken and RLIMIT_NOFILE set just
above them: a federated SERVICE request cannot even connect, a second wall behind kg.query_guard),
and is killed at the deadline, which frees its CPU at once. Its answer comes back over a pipe."""

import json
import os
import resource
import select
import signal
import time
from typing import Callable


class Stopped(Exception):
    """The work gave no answer: `kind` is timeout, memory or error; the message is for the client."""

    def __init__(self, kind: str, message: str):
        super().__init__(message)
        self.kind = kind


def run_confined(work: Callable[[], bytes], timeout: float, memory_bytes: int) -> bytes:
    """work()'s bytes, computed in a confined child; Stopped when it times out, runs out of memory or
    raises (SyntaxError's message is kept, prefixed `syntax:`)."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:
        _child(work, read_end, write_end, memory_bytes)
    os.close(write_end)
    try:
        data = _read_until(read_end, time.monotonic() + timeout)
    except TimeoutError:
        os.kill(pid, signal.SIGKILL)
        raise Stopped("timeout", f"The query ran longer than {timeout:g} s and was stopped: narrow it down "
                                 "(a LIMIT, more specific patterns).") from None
    finally:
        os.close(read_end)
        os.waitpid(pid, 0)
    if not data:
        raise Stopped("memory", "The query needed more memory than one query may use here and was stopped: "
                                "narrow it down (a LIMIT, more specific patterns, bounded property paths).")
    status, _, body = data.partition(b"\n")
    if status == b"ok":
        return body
    raise Stopped(status.decode(), body.decode("utf-8", "replace"))


def _child(work, read_end: int, write_end: int, memory_bytes: int):
    """Evaluate, write `ok\\n<bytes>` or `<kind>\\n<message>`, and exit without the server's exit handlers."""
    try:
        os.close(read_end)
        _confine(memory_bytes)
        out = b"ok\n" + work()
    except SyntaxError as err:
        out = b"syntax\n" + str(err).encode()
    except MemoryError:
        out = b""
    except BaseException as err:  # noqa: BLE001 - whatever happens, the child reports and exits
        out = b"error\n" + json.dumps(f"{type(err).__name__}: {err}").encode()
    try:
        view = memoryview(out)
        while view:
            view = view[os.write(write_end, view):]
    finally:
        os._exit(0)


def _confine(memory_bytes: int) -> None:
    """No new descriptor (so no socket), and at most memory_bytes more address space."""
    with open("/proc/self/statm") as statm:
        size = int(statm.read().split()[0]) * resource.getpagesize()
    filler = os.open(os.devnull, os.O_RDONLY)
    highest = max([filler] + [int(fd) for fd in os.listdir("/proc/self/fd")])
    for fd in range(highest + 1):
        try:
            os.fstat(fd)
        except OSError:       # a free number below the limit: take it
            os.dup2(filler, fd)
    resource.setrlimit(resource.RLIMIT_NOFILE, (highest + 1, highest + 1))
    resource.setrlimit(resource.RLIMIT_AS, (size + memory_bytes, size + memory_bytes))


def _read_until(fd: int, deadline: float) -> bytes:
    chunks = []
    while True:
        left = deadline - time.monotonic()
        ready = select.select([fd], [], [], left)[0] if left > 0 else []
        if not ready:
            raise TimeoutError
        chunk = os.read(fd, 1 << 20)
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)
