"""Every case of the corpus ends within a deadline: a hang (a FIFO opened, /dev/zero read) fails it."""

import signal

import pytest

DEADLINE = 30    # seconds


@pytest.fixture(autouse=True)
def deadline():
    def hung(signum, frame):
        raise TimeoutError(f"the case took longer than {DEADLINE} s: it hangs")

    previous = signal.signal(signal.SIGALRM, hung)
    signal.alarm(DEADLINE)
    yield
    signal.alarm(0)
    signal.signal(signal.SIGALRM, previous)
