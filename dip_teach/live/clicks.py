"""How a click reaches a fit that trains in the running cell.

A live view trains in the cell that made it, in the kernel's main thread: one team of
torch threads, as fast as a plain script. But while a cell runs, the kernel's main
thread reads no messages from the front end, so clicks on Stop or Pause would wait
until the cell ends.

ipykernel 7.4 and later can hand the messages of one widget to a *subshell*, a thread
of the kernel with its own message loop (``Comm._reply_subshell_for``: the kernel asks
each comm which (sub)shell should get its next message). While a view trains, its
widgets' messages (clicks, slider moves) go to one subshell, whose thread runs the
widget callbacks at once: they only set flags (pause, stop) or draw a snapshot, never
torch work. Execute requests (the cells a "Run All" queued) still wait for the main
thread, in order, so the next cell runs when the fit ends or is stopped. When nothing
trains, messages go to the main thread as usual, so Start and Run train there too.

On other kernels (ipykernel < 7.4, Colab, ...) fits still train at full speed in the
cell, but the buttons answer only after it; the kernel's interrupt button (a Ctrl-C)
stops a live fit and keeps its best result.
"""
from __future__ import annotations

import contextlib
import sys
import threading

_LOCK = threading.Lock()
_SUBSHELL: str | None = None       # the subshell that handles our widgets' messages while we train
_FAILED: str | None = None         # why no subshell could be made (then clicks wait for the cell)
_TRAINING = 0                      # fits training in a cell right now (views can nest: panel -> dashboard)


def _kernel():
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None else None
    return getattr(shell, "kernel", None)


def support() -> tuple[bool, str]:
    """Can clicks reach a running cell here? ``(yes, why)``."""
    kernel = _kernel()
    if kernel is None:
        return False, "not in a Jupyter kernel"
    thread = getattr(kernel, "shell_channel_thread", None)
    if thread is None or not hasattr(getattr(thread, "manager", None), "_create_subshell"):
        return False, "this kernel has no subshells (ipykernel < 7)"
    try:
        from ipykernel.comm.comm import BaseComm
    except ImportError:
        return False, "ipykernel's comms are not in use"
    if not hasattr(BaseComm, "_reply_subshell_for"):
        return False, "this ipykernel cannot route widget messages to a subshell (needs ipykernel >= 7.4)"
    return True, "widget messages go to a subshell while a fit trains"


def subshell() -> str | None:
    """The id of our subshell, made on first use (None where that is impossible)."""
    global _SUBSHELL, _FAILED
    with _LOCK:
        if _SUBSHELL is not None or _FAILED is not None:
            return _SUBSHELL
        ok, why = support()
        if not ok:
            _FAILED = why
            return None
        thread = _kernel().shell_channel_thread
        made: dict = {}
        done = threading.Event()

        def make():                  # subshells are made in the shell-channel thread
            try:
                made["id"] = thread.manager._create_subshell()
            except Exception as err:
                made["error"] = err
            finally:
                done.set()

        thread.io_loop.add_callback(make)
        if not done.wait(5.0) or "id" not in made:
            _FAILED = f"could not make a subshell: {made.get('error', 'no answer in 5 s')}"
            return None
        _SUBSHELL = made["id"]
        return _SUBSHELL


def why_not() -> str | None:
    """Why clicks wait for the cell to end here (None when they do not)."""
    subshell()
    return _FAILED


def route(widget) -> None:
    """Send the messages of ``widget`` and all its children to our subshell while a fit trains."""
    sid = subshell()
    if sid is None:
        return
    for w in _walk(widget):
        comm = getattr(w, "comm", None)
        if comm is None or getattr(comm, "_dip_routed", False):
            continue
        usual = comm._reply_subshell_for            # the kernel's own choice, used when nothing trains

        def choose(data, default, usual=usual):
            return sid if _TRAINING else usual(data, default)

        comm._reply_subshell_for = choose
        comm._dip_routed = True


def _walk(widget):
    yield widget
    for child in getattr(widget, "children", ()) or ():
        yield from _walk(child)


@contextlib.contextmanager
def training():
    """Mark "a fit trains in this cell": our widgets' messages go to the subshell meanwhile."""
    global _TRAINING
    with _LOCK:
        _TRAINING += 1
    try:
        yield
    finally:
        with _LOCK:
            _TRAINING -= 1


def is_training() -> bool:
    """True while a live view trains (in any thread)."""
    return _TRAINING > 0


def busy_elsewhere() -> bool:
    """True in a click handler that runs beside a fit training in the main thread.

    Such a handler must not train a fit itself: it would run in the subshell's thread,
    beside the other fit (two teams of torch threads), and hold up every other click.
    """
    return is_training() and threading.current_thread() is not threading.main_thread()
