"""Progress of long work on stderr: for a big model (PROGRESS_FROM elements or more), a line when
each long step starts and how long it took. Said when stderr is a terminal, or always with
THREATKG_PROGRESS=1 (never with THREATKG_PROGRESS=0)."""

import os
import sys
import time
from contextlib import contextmanager

PROGRESS_FROM = 1000    # elements (zones, components, flows, controls) from which steps are said


def _enabled(size: int) -> bool:
    wanted = os.environ.get("THREATKG_PROGRESS")
    if wanted in ("0", "1"):
        return wanted == "1" and size >= PROGRESS_FROM
    return size >= PROGRESS_FROM and sys.stderr.isatty()


@contextmanager
def step(label: str, size: int):
    """Say `label` for a model of `size` elements, then the seconds it took."""
    if not _enabled(size):
        yield
        return
    print(f"threatkg: {label} ({size:,} elements) …", file=sys.stderr, flush=True)
    start = time.perf_counter()
    yield
    print(f"threatkg: {label}: {time.perf_counter() - start:.1f} s", file=sys.stderr, flush=True)
