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

The hook is private, so every piece of it is checked before use (:func:`support`, with a
version gate), the kernel's own choice decides whenever anything is unexpected (a
changed signature, a lost subshell), and a failed attempt is tried again later.

ipykernel 6 (Colab, older Hub images) has no subshells, but its main loop can be asked
to handle what is waiting: between iterations, at most every :data:`POLL_EVERY` seconds,
the view lets jupyter-ui-poll process pending widget messages (the *poll* route), and
jupyter-ui-poll holds back the execute requests of queued cells until the training cell
ends, so Run All keeps its order. (ipykernel 7's loop no longer delivers widget messages
that way, hence the subshell there.)

On other kernels (ipykernel 7.0 to 7.3, or without jupyter-ui-poll) fits still train at
full speed in the cell, but the buttons answer only after it; the kernel's interrupt button (a Ctrl-C)
stops a live fit and keeps its best result.
"""
from __future__ import annotations

import collections
import contextlib
import threading
import time

from ..progress import kernel_shell

#: ipykernel versions whose private routing hook this module was written and tested against.
#: Outside them the views still train at full speed; clicks wait for the cell to end.
TESTED_IPYKERNEL = ((7, 4), (8, 0))
#: Seconds before a failed attempt to make a subshell may be tried again (by the next view).
RETRY_AFTER = 30.0

_LOCK = threading.Lock()
_SUBSHELL: str | None = None       # the subshell that handles our widgets' messages while we train
_FAILED: str | None = None         # why no subshell could be made (then clicks wait for the cell)
_FAILED_AT = 0.0                   # when _FAILED was set by a failure that may pass (e.g. a busy kernel)
_TRAINING = 0                      # fits training in a cell right now (views can nest: panel -> dashboard)
#: Seconds between two looks at pending widget messages on the poll route (ipykernel 6).
POLL_EVERY = 0.1
_POLL = None                       # jupyter-ui-poll's poll function while a fit trains on the poll route
_NEXT_POLL = 0.0


def _kernel():
    shell = kernel_shell()
    return None if shell is None else shell.kernel


def _version(text: str) -> tuple[int, int]:
    parts = (text.split(".") + ["0"])[:2]
    return tuple(int("".join(ch for ch in p if ch.isdigit()) or 0) for p in parts)


def support() -> tuple[bool, str]:
    """Can clicks reach a running cell here? ``(yes, why)``.

    Every private piece of ipykernel this module relies on is checked here, one by one,
    so a kernel that lacks one says which instead of leaving the buttons dead.
    """
    kernel = _kernel()
    if kernel is None:
        return False, "not in a Jupyter kernel"
    try:
        import ipykernel          # imported here: a script or a test without a kernel still imports this module
        from ipykernel.comm.comm import BaseComm
    except ImportError:
        return False, "ipykernel's comms are not in use"
    low, high = TESTED_IPYKERNEL
    version = getattr(ipykernel, "__version__", "0")
    if not low <= _version(version) < high:
        return False, (f"ipykernel {version}: widget messages reach a running cell only with ipykernel "
                       f"{low[0]}.{low[1]} to below {high[0]}")
    thread = getattr(kernel, "shell_channel_thread", None)
    manager = getattr(thread, "manager", None)
    needed = {"the kernel's shell-channel loop": getattr(thread, "io_loop", None),
              "the subshell manager's _create_subshell": getattr(manager, "_create_subshell", None),
              "the subshell manager's list_subshell": getattr(manager, "list_subshell", None),
              "the comms' _reply_subshell_for": getattr(BaseComm, "_reply_subshell_for", None)}
    missing = [what for what, found in needed.items() if found is None]
    if missing:
        return False, f"this kernel has no {missing[0]} (subshells off, or an ipykernel this kit does not know)"
    return True, "widget messages go to a subshell while a fit trains"


def subshell() -> str | None:
    """The id of our subshell, made on first use (None where that is impossible).

    A failure that may pass (no answer in time, an error while making it) is tried again
    by the next view after :data:`RETRY_AFTER` seconds; a kernel that cannot have
    subshells at all is not asked again.
    """
    global _SUBSHELL, _FAILED, _FAILED_AT
    with _LOCK:
        if _SUBSHELL is not None and not _exists(_SUBSHELL):
            _SUBSHELL = None                 # deleted under us (another client): make a new one
        if _SUBSHELL is not None:
            return _SUBSHELL
        if _FAILED is not None and not (_FAILED_AT and time.monotonic() - _FAILED_AT > RETRY_AFTER):
            return None
        ok, why = support()
        if not ok:
            _FAILED, _FAILED_AT = why, 0.0
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
            _FAILED_AT = time.monotonic()
            return None
        _SUBSHELL, _FAILED, _FAILED_AT = made["id"], None, 0.0
        return _SUBSHELL


def _exists(sid: str) -> bool:
    """Does the kernel still know subshell ``sid``? (A message sent to a lost one is dropped.)"""
    try:
        return sid in _kernel().shell_channel_thread.manager.list_subshell()
    except Exception:
        return False


def poll_support() -> tuple[bool, str]:
    """Can the poll route (ipykernel 6 + jupyter-ui-poll) bring clicks to a running cell? ``(yes, why)``."""
    kernel = _kernel()
    if kernel is None:
        return False, "not in a Jupyter kernel"
    try:
        import ipykernel          # imported here, like jupyter_ui_poll: both are optional outside a kernel
        import jupyter_ui_poll  # noqa: F401  (imported here: only live views on ipykernel 6 need it)
    except ImportError:
        return False, "jupyter-ui-poll is not installed (pip install jupyter-ui-poll)"
    version = getattr(ipykernel, "__version__", "0")
    if not (6, 0) <= _version(version) < (7, 0):
        return False, f"ipykernel {version}'s main loop does not hand widget messages to a running cell"
    if not callable(getattr(kernel, "do_one_iteration", None)):
        return False, "this kernel has no do_one_iteration"
    return True, "pending widget messages are processed between iterations (jupyter-ui-poll)"


def route_name() -> str:
    """How clicks reach a cell that trains here: ``"subshell"``, ``"poll"`` or ``"none"``."""
    if subshell() is not None:
        return "subshell"
    return "poll" if poll_support()[0] else "none"


ROUTE_TEXT = {
    "subshell": "Buttons answer while the fit trains (widget messages go to a kernel subshell).",
    "poll": "Buttons answer while the fit trains (pending widget messages are handled between iterations).",
    "none": "Buttons answer once the cell has ended.",
}


def why_not() -> str | None:
    """Why clicks wait for the cell to end here (None when they do not)."""
    if route_name() != "none":
        return None
    return f"{_FAILED or support()[1]}; {poll_support()[1]}"


def route(widget) -> None:
    """Send the messages of ``widget`` and all its children to our subshell while a fit trains."""
    sid = subshell()
    if sid is None:
        return
    for w in _walk(widget):
        comm = getattr(w, "comm", None)
        if comm is None or getattr(comm, "_dip_routed", False):
            continue
        usual = getattr(comm, "_reply_subshell_for", None)     # the kernel's own choice
        if not callable(usual):
            continue
        comm._reply_subshell_for = _router(usual)
        comm._dip_routed = True


def _router(usual):
    """The kernel's own routing choice, except "our subshell" while a fit trains.

    Whatever the kernel passes is handed on unchanged (a changed signature must not drop
    messages), and on any surprise the kernel's own choice decides: a message routed to a
    subshell that is gone would be dropped and leave every button dead.
    """
    def choose(*args, **kwargs):
        try:
            if _TRAINING and _SUBSHELL is not None and _exists(_SUBSHELL):
                return _SUBSHELL
        except Exception:       # nothing above should raise; if it does, the kernel decides
            pass
        return usual(*args, **kwargs)

    return choose


def _walk(widget):
    yield widget
    for child in getattr(widget, "children", ()) or ():
        yield from _walk(child)


@contextlib.contextmanager
def training():
    """Mark "a fit trains in this cell": our widgets' messages reach it meanwhile.

    On the subshell route the routing hook reads the mark; on the poll route the
    outermost training opens jupyter-ui-poll, and :func:`pump` processes what waits.
    jupyter-ui-poll holds back the cells run meanwhile until the cell ends; a fit
    started by a click (a panel's Run) trains outside any cell, so at its end we
    release those cells ourselves (and do not poll where that is impossible).
    """
    global _TRAINING, _POLL, _NEXT_POLL
    with _LOCK:
        _TRAINING += 1
        outermost = _TRAINING == 1
    poller, parked, in_cell = None, None, _in_cell()
    try:
        if outermost and _SUBSHELL is None and poll_support()[0] and (in_cell or _release_held_cells(None)):
            from jupyter_ui_poll import ui_events     # optional: only the poll route (ipykernel 6) needs it

            poller = ui_events()
            parked = _park_waiting_dispatcher()
            _POLL, _NEXT_POLL = poller.__enter__(), 0.0
        yield
    finally:
        if poller is not None:
            _POLL = None
            poller.__exit__(None, None, None)
            _unpark_dispatcher(parked)
            if not in_cell:
                _release_held_cells(poller)
        with _LOCK:
            _TRAINING -= 1


def _park_waiting_dispatcher():
    """Poll route, in a cell that jupyter-ui-poll replays: keep clicks from going astray.

    Under Run All, jupyter-ui-poll runs the cells it held back one after another once
    the first live cell ends, from a task of the kernel's event loop. Meanwhile the
    kernel's own dispatcher (ipykernel 6's ``dispatch_queue``) already waits on its
    message queue, so tornado's queue hands every new message straight to that waiting
    reader, which only runs after the replayed cell: polling finds the queue empty and
    every click waits for the cell to end. Parking the waiting reader while we poll keeps
    the messages in the queue, where polling takes them; :func:`_unpark_dispatcher` gives
    it back. Returns what was parked (None when nothing waits or the queue is not the
    tornado queue this was written against: then nothing is touched).
    """
    queue = getattr(_kernel(), "msg_queue", None)
    getters = getattr(queue, "_getters", None)
    if not type(queue).__module__.startswith("tornado.") or not isinstance(getters, collections.deque) \
            or not getters:
        return None
    parked = list(getters)
    getters.clear()
    return queue, parked


def _unpark_dispatcher(parked) -> None:
    """Give the parked readers back, each with a message that waits (as ``put_nowait`` would have)."""
    if parked is None:
        return
    queue, getters = parked
    for getter in getters:
        if getter.done():
            continue
        if queue.qsize():
            getter.set_result(queue.get_nowait())
        else:
            queue._getters.append(getter)


def _release_held_cells(poller) -> bool:
    """Run the cells jupyter-ui-poll held back, as it does itself when a cell ends.

    With ``poller=None`` only say whether this jupyter-ui-poll can do it (its private
    ``_post_run_cell``); without it a click-started fit does not poll at all.
    """
    try:
        from jupyter_ui_poll._poll import KernelWrapper    # optional, as above
    except ImportError:
        return False
    release = getattr(KernelWrapper, "_post_run_cell", None)
    if poller is None or not callable(release):
        return callable(release)
    poller._post_run_cell()
    return True


def pump(force: bool = False) -> None:
    """Poll route: handle the widget messages that wait (at most every :data:`POLL_EVERY` s).

    Called by a live view between iterations, in the training thread; the callbacks run
    meanwhile (in jupyter-ui-poll's thread, while this one waits) and only set flags or
    draw. Does nothing on the other routes.
    """
    global _NEXT_POLL
    poll = _POLL
    if poll is None:
        return
    now = time.monotonic()
    if not force and now < _NEXT_POLL:
        return
    _NEXT_POLL = now + POLL_EVERY
    poll(10)


def polling() -> bool:
    """True while a fit trains on the poll route (its view must keep pumping while paused)."""
    return _POLL is not None


def _in_cell() -> bool:
    """Is the kernel executing a cell (not a widget callback) right now?"""
    try:
        return _kernel().get_parent()["header"]["msg_type"] == "execute_request"
    except Exception:
        return False


def is_training() -> bool:
    """True while a live view trains (in any thread)."""
    return _TRAINING > 0


def busy_elsewhere() -> bool:
    """True in a click handler that runs beside a fit training in the main thread.

    Such a handler must not train a fit itself: it would run in the subshell's thread,
    beside the other fit (two teams of torch threads), and hold up every other click.
    """
    return is_training() and threading.current_thread() is not threading.main_thread()
