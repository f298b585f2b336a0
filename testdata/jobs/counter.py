#!/usr/bin/env python3
"""counter.py N M [DELAY_MS]

The parent forks a child that prints "child line J" (J in 0..M-1) to stderr,
prints "line I" (I in 0..N-1) to stdout, waits for the child, prints "done"."""
import os
import sys
import time
import warnings

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import dmtcp_double  # noqa: E402


def child(start, m, delay):
    for j in range(start, m):
        dmtcp_double.poll({"role": "child", "j": j})
        print(f"child line {j}", file=sys.stderr, flush=True)
        time.sleep(delay)
    os._exit(0)


def fork():
    """os.fork without Python 3.12+'s warning about forking a process with
    several threads. This program starts no thread of its own; under a real
    DMTCP the other thread is DMTCP's checkpoint thread, which holds no
    Python lock (DMTCP's fork wrapper looks after its own state)."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", r"This process \(pid=\d+\) is multi-threaded", DeprecationWarning)
        return os.fork()


def main():
    n, m = int(sys.argv[1]), int(sys.argv[2])
    delay = (int(sys.argv[3]) if len(sys.argv) > 3 else 20) / 1000.0
    state = dmtcp_double.init()
    if state and state["role"] == "child":
        child(state["j"], m, delay)
    start, forked = 0, False
    if state:
        start, forked = state["i"], state["forked"]
    if not forked:
        if fork() == 0:
            dmtcp_double.after_fork()
            child(0, m, delay)
        forked = True
    for i in range(start, n):
        dmtcp_double.poll({"role": "parent", "i": i, "forked": forked})
        print(f"line {i}", flush=True)
        time.sleep(delay)
    while True:
        dmtcp_double.poll({"role": "parent", "i": n, "forked": forked})
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            break
        if pid == 0:
            time.sleep(delay)
    print("done", flush=True)


main()
