"""Cooperation with the dmtcp-condor TEST DOUBLE of DMTCP (see README.md).

Inert under a real DMTCP, which keeps SIGUSR2 for itself."""
import json
import os
import signal
import sys

_requested = False


def _on_usr2(sig, frame):
    global _requested
    _requested = True


def init():
    """Installs the handler; returns the saved state (a dict) or None."""
    signal.signal(signal.SIGUSR2, _on_usr2)
    path = os.environ.pop("DMTCP_DOUBLE_RESTORE", None)
    if path and os.path.exists(path):
        with open(path) as f:
            return json.load(f)
    return None


def after_fork():
    """A forked child starts with no request of its own."""
    global _requested
    _requested = False


def poll(state):
    """Called at a safe point with the state to save (a dict)."""
    global _requested
    if not _requested:
        return
    _requested = False
    d = os.environ.get("DMTCP_DOUBLE_DIR")
    if not d:
        return
    pid = os.getpid()
    exit_path = f"{d}/{pid}.exit"
    if os.path.exists(exit_path):
        with open(exit_path) as f:
            code = int(f.read().strip() or "0")
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    path = f"{d}/{pid}.state"
    with open(path + ".tmp", "w") as f:
        json.dump(state, f)
    os.rename(path + ".tmp", path)
    sys.stdout.flush()
    sys.stderr.flush()
    os.kill(pid, signal.SIGSTOP)
