"""What every live view shares: PNG frames, training in the cell, the registry.

The rules that keep a notebook fast and responsive:

* the fits train in the cell that made the view, in the kernel's main thread: one
  team of torch threads, as fast as the same fit in a script (a fit in a second
  thread ran 2.3x slower on 2 cores once the main thread had used torch). Several
  fits (the race) take one iteration each in turn. The cell ends when the fits do,
  so "Run All" runs the next cells with the finished (or stopped) fit;
* clicks reach the running cell through a kernel subshell (:mod:`.clicks`): widget
  callbacks run in that thread and only set flags or draw a snapshot; they never
  print or ``display()``, so no output lands in another cell;
* the widgets are drawn between iterations, from the training thread, throttled by a
  time budget: each kind of frame waits at least ``cost / budget`` seconds after the
  last one, so drawing takes at most about ``max_overhead`` of the time, on a slow
  laptop or a fast one; the counter and buttons tick every ``TICK`` seconds;
* one live view per kind (or per ``name``): re-running a cell closes the view it
  made last time, and stops its fit, instead of leaving two fits fighting for the CPU.
"""
from __future__ import annotations

import html
import io
import math
import threading
import time
import traceback
from typing import Protocol

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from PIL import Image

from .. import images
from ..files import write_atomically
from ..fit import FitLike, FitResult
from ..progress import in_kernel, ipython_shell, is_headless, kernel_shell
from . import clicks

ENDED = ("finished", "stopped", "failed")


def show(obj) -> None:
    """``IPython.display.display(obj)`` when IPython runs; nothing in a plain script."""
    if ipython_shell() is not None:
        from IPython.display import display   # imported here: IPython is loaded only where it runs
        display(obj)


# --------------------------------------------------------------------------- frames
def to_uint8(img: np.ndarray) -> np.ndarray:
    """(H, W, C) float image -> uint8 (H, W, 3) or (H, W) for grey; out-of-range values are clipped.

    Frames can stray a little outside [0, 1] (amplified residuals, raw outputs), so
    they are clipped first; the conversion itself is :func:`dip_teach.images.to_uint8`.
    """
    return images.to_uint8(np.clip(np.asarray(img, dtype=np.float32), 0.0, 1.0))


def image_axis(ax, img: np.ndarray, title: str) -> None:
    """Show an ``(H, W, C)`` float image on a matplotlib axis (one channel in grey), titled, no ticks."""
    a = to_uint8(img)
    ax.imshow(a, cmap="gray" if a.ndim == 2 else None, interpolation="nearest")
    ax.set_title(title, fontsize=8)
    ax.set_axis_off()


def png_bytes(img: np.ndarray, min_side: int = 0) -> bytes:
    """Encode an ``(H, W, C)`` float image as PNG bytes for an ``ipywidgets.Image``.

    Small images are enlarged by an integer factor with nearest-neighbour, so a
    64x64 crop shows crisp pixels instead of the browser's blur. Compression level 1:
    the bytes travel over a local socket, speed matters more than size.
    """
    im = Image.fromarray(to_uint8(img))
    side = min(im.size)
    if min_side and side < min_side:
        k = math.ceil(min_side / side)
        im = im.resize((im.width * k, im.height * k), Image.NEAREST)
    buf = io.BytesIO()
    im.save(buf, format="png", compress_level=1)
    return buf.getvalue()


def figure_png(fig) -> bytes:
    """Render a matplotlib ``Figure`` (Agg canvas) to PNG bytes."""
    canvas = fig.canvas if isinstance(fig.canvas, FigureCanvasAgg) else FigureCanvasAgg(fig)
    canvas.draw()
    rgba = np.asarray(canvas.buffer_rgba())
    buf = io.BytesIO()
    Image.fromarray(rgba[..., :3]).save(buf, format="png", compress_level=1)
    return buf.getvalue()


def new_figure(width: float, height: float, dpi: int = 80):
    """A matplotlib Figure on its own Agg canvas: no pyplot, so nothing shows by itself
    and it is safe to draw from any thread."""
    fig = Figure(figsize=(width, height), dpi=dpi)
    FigureCanvasAgg(fig)
    return fig


class BlitFigure:
    """Fast frames of a figure whose axes stay put while a few artists (lines) change.

    The axes, ticks, labels and legend are drawn once and kept as a bitmap; a frame
    restores that bitmap and draws only the changing artists on top ("blitting").
    When any axes' limits change, the background is drawn again. On a 2-core CPU
    this turns a ~50-100 ms redraw into a few milliseconds.

    Parameters
    ----------
    fig : Figure
        Made with :func:`new_figure`.
    artists : list of Artist
        The artists that change between frames; they are marked ``animated``.
    """

    def __init__(self, fig, artists):
        self.fig = fig
        self.artists = list(artists)
        for a in self.artists:
            a.set_animated(True)
        self._background = None
        self._key = None
        self.backgrounds = 0         # how many full redraws so far (for the curious)

    def png(self) -> bytes:
        canvas = self.fig.canvas
        key = tuple((tuple(ax.get_xlim()), tuple(ax.get_ylim())) for ax in self.fig.axes)
        if self._background is None or key != self._key:
            canvas.draw()                    # everything except the animated artists
            self._background = canvas.copy_from_bbox(self.fig.bbox)
            self._key = key
            self.backgrounds += 1
        else:
            canvas.restore_region(self._background)
        for a in self.artists:
            if a.get_visible():
                a.axes.draw_artist(a)
        rgba = np.asarray(canvas.buffer_rgba())
        buf = io.BytesIO()
        Image.fromarray(rgba[..., :3]).save(buf, format="png", compress_level=1)
        return buf.getvalue()


def error_html(err: BaseException, title: str = "The fit failed") -> str:
    """A red box with the exception and its traceback, for an ``ipywidgets.HTML``."""
    tb = "".join(traceback.format_exception(type(err), err, err.__traceback__))
    return (f"<div style='border:2px solid #c00;padding:4px;background:#fee'>"
            f"<b>{html.escape(title)}: {html.escape(type(err).__name__)}: {html.escape(str(err))}</b>"
            f"<details><summary>traceback</summary><pre style='font-size:11px'>{html.escape(tb)}</pre>"
            f"</details><i>Calling <code>wait()</code> raises this error again.</i></div>")


def note_html(text: str) -> str:
    """A grey italic line for a view's message box ('' clears it)."""
    return f"<small style='color:#555'><i>{html.escape(text)}</i></small>" if text else ""


def format_seconds(s: float) -> str:
    """``75.3`` -> ``'1:15'``; ``nan`` -> ``'?'``."""
    if not math.isfinite(s):
        return "?"
    s = int(round(s))
    return f"{s // 3600}:{s // 60 % 60:02d}:{s % 60:02d}" if s >= 3600 else f"{s // 60}:{s % 60:02d}"


def recent_rate(fit, window: float = 3.0) -> float:
    """Iterations per second over about the last ``window`` seconds of training (nan if unknown).

    Read from the fit's history (iteration and training seconds, pauses excluded),
    so it needs no state of its own and is right after a pause.
    """
    its, secs = fit.history["iteration"], fit.history["seconds"]
    n = min(len(its), len(secs))      # the training thread may be appending right now
    if n < 2:
        return math.nan
    last = n - 1
    first = last
    while first > 0 and secs[last] - secs[first - 1] <= window:
        first -= 1
    first = min(first, last - 1)
    dt = secs[last] - secs[first]
    return (its[last] - its[first]) / dt if dt > 0 else math.nan


def axis_limit(value: float, total: float) -> float:
    """A round axis end above ``value`` (1, 2 or 5 times a power of ten), at most ``total``.

    Live curves use it for their x axis: the axis grows in a few steps as the fit
    advances, instead of squeezing the first iterations of a long budget into a corner.
    """
    value = max(1.0, 1.25 * value)
    power = 10 ** math.floor(math.log10(value))
    for m in (1, 2, 5, 10):
        if m * power >= value:
            return float(min(total, m * power)) if total else float(m * power)
    return float(total or value)


class Throttle:
    """Decides when the next frame of one kind is due, within a time budget.

    After a frame that took ``cost`` seconds, the next one waits at least
    ``max(min_interval, cost / budget)``: with ``budget=0.02`` drawing takes at most
    about 2% of the time, however slow the machine.
    """

    max_interval = 10.0        # even a very slow machine gets a frame every 10 s

    def __init__(self, min_interval: float, budget: float):
        self.min_interval = float(min_interval)
        self.budget = float(budget)
        self.next_at = 0.0
        self.frames = 0
        self.seconds = 0.0       # total time spent on this kind of frame

    def due(self, now: float | None = None) -> bool:
        return (time.perf_counter() if now is None else now) >= self.next_at

    def spent(self, cost: float) -> None:
        self.frames += 1
        self.seconds += cost
        if self.frames == 1:
            wait = self.min_interval      # the first frame pays one-off costs (fonts, caches)
        else:
            wait = min(self.max_interval, max(self.min_interval, cost / self.budget))
        self.next_at = time.perf_counter() + wait


# ------------------------------------------------------------------------ registry
class View(Protocol):
    """What the registry keeps: a live view, or a panel that makes them."""

    key: str

    @property
    def fits(self) -> list[FitLike]: ...

    def close(self, reason: str = "closed", stop_fits: bool = True) -> None: ...


_ACTIVE: dict[str, View] = {}
_REGISTRY_LOCK = threading.Lock()


def active(key: str | None = None):
    """The live view registered under ``key`` (a copy of the whole registry when None)."""
    with _REGISTRY_LOCK:
        return dict(_ACTIVE) if key is None else _ACTIVE.get(key)


def close_all() -> None:
    """Close every live view (stops their fits)."""
    with _REGISTRY_LOCK:
        views = list(_ACTIVE.values())
        _ACTIVE.clear()
    for view in views:
        view.close()


def register(view: View) -> None:
    """Keep ``view`` under its key, closing the view that held the key before.

    One view per key, so re-running a cell never leaves two fits fighting for the CPU.
    The old view's fits are stopped, unless the new view watches the very same fit
    (only the ``watch()`` cell ran again): then the old view is detached and the fit goes on.
    """
    with _REGISTRY_LOCK:
        old = _ACTIVE.get(view.key)
        _ACTIVE[view.key] = view
    if old is not None and old is not view:
        same = {id(f) for f in old.fits} & {id(f) for f in view.fits}
        old.close(reason="replaced by a newer dashboard (the cell ran again)", stop_fits=not same)


def unregister(view: View) -> None:
    """Forget ``view`` (a closed one); a newer view under the same key stays."""
    with _REGISTRY_LOCK:
        if _ACTIVE.get(view.key) is view:
            del _ACTIVE[view.key]


# ----------------------------------------------------------------------- base class
class LiveView:
    """Base of the dashboards: owns fits, trains them in the calling thread, buttons, headless path.

    Live, the base makes the controls every view shows (:attr:`start_btn`,
    :attr:`pause_btn`, :attr:`stop_btn`, the iteration :attr:`counter`) and the message
    box (:attr:`error`), then asks the subclass for the rest. Subclasses provide
    :meth:`_build` (the widgets, arranged with those controls), :meth:`_update` (copy
    the fits' state into the widgets) and :meth:`static_figure` (the matplotlib figure
    shown without a front end).

    Parameters
    ----------
    fits : list of FitLike
        The fits this view watches (and starts, pauses and stops).
    headless : bool, optional
        Force (True) or forbid (False) the static mode; auto-detected when None
        (see :func:`dip_teach.progress.headless_reason`).
    name : str, optional
        Registry key; default the view's kind. A new view with the same key closes the
        old one, so re-running a cell never leaves two fits running.
    fps : float
        Most image frames per second.
    max_overhead : float
        Share of the time drawing may take (split between images and curves).
    curve_interval : float
        Fewest seconds between two frames of the curves.
    """

    kind = "view"

    #: Seconds between updates of the cheap parts (counter, buttons) when no frame is due.
    #: Every update is a message the browser must lay out, and on a 2-core laptop the
    #: browser's work is taken from the fit: once a second is enough for a counter.
    TICK = 1.0

    BUSY_NOTE = "Another live fit is training in a cell; press Start once it has ended."

    def __init__(self, fits: list[FitLike], *, headless: bool | None = None, name: str | None = None,
                 fps: float = 4.0, max_overhead: float = 0.03, curve_interval: float = 2.0):
        self.fits = list(fits)
        self.headless = is_headless(headless)
        self.key = name or self.kind
        self.image_throttle = Throttle(1.0 / fps, max_overhead / 2)
        self.curve_throttle = Throttle(curve_interval, max_overhead / 2)
        self.figure = None                 # the static figure (headless, or after static_figure())
        self.widget = None                 # the ipywidgets box (live)
        self.error = None                  # the message box under the view (live): errors and notes
        self.render_errors: list[BaseException] = []
        self.render_cpu = 0.0              # CPU seconds spent drawing (all threads that drew)
        self.closed_reason: str | None = None
        self._lock = threading.RLock()     # one drawer at a time: training thread vs click callbacks
        self._closed = threading.Event()
        self._trainer: threading.Thread | None = None    # the thread training this view's fits now
        self._busy_note_shown = False      # the view says another fit trains (Start was pressed meanwhile)
        self._next_tick = 0.0
        self._shown_errors: set[int] = set()
        self._displayed_in: object = None
        register(self)
        if not self.headless:
            with self._lock:
                self._build_controls()
                self.widget = self._build()
            clicks.route(self.widget)
            self.click_route = clicks.route_name()       # "subshell", "poll" or "none": see clicks
            for button in (self.pause_btn, self.stop_btn):
                button.tooltip = clicks.ROUTE_TEXT[self.click_route]
            why = clicks.why_not() if self.click_route == "none" else None
            if why and in_kernel():
                self._show_note(f"The buttons answer only once the cell has ended here ({why}); the kernel's "
                                "interrupt button stops the fit and keeps its best result.")
            for fit in self.fits:
                fit.add_callback(self._after_iteration)

    # -------------------------------------------------------------- subclass hooks
    def _build(self):
        """The view's widgets in one box, using the controls and the message box made before."""
        raise NotImplementedError

    def _update(self, final: bool = False) -> None:
        raise NotImplementedError

    def static_figure(self):
        raise NotImplementedError

    def _tick(self) -> None:
        """Text and buttons only, no images (default: the buttons)."""
        self._update_buttons()

    def _build_controls(self) -> None:
        """Start, Pause/Resume and Stop buttons, the iteration counter and the message box, wired to this view."""
        import ipywidgets as w   # imported here: only live views make widgets (headless runs never load them)

        self.start_btn = w.Button(description="Start", icon="play", layout=w.Layout(width="90px"))
        self.pause_btn = w.Button(description="Pause", icon="pause", layout=w.Layout(width="100px"))
        self.stop_btn = w.Button(description="Stop", icon="stop", button_style="danger",
                                 layout=w.Layout(width="90px"))
        for b, cls in ((self.start_btn, "dip-start"), (self.pause_btn, "dip-pause"), (self.stop_btn, "dip-stop")):
            b.add_class(cls)   # CSS classes: the browser test finds the buttons by them
        self.start_btn.on_click(lambda _: self.start())
        self.pause_btn.on_click(lambda _: self.toggle_pause())
        self.stop_btn.on_click(lambda _: self.stop())
        self.counter = w.HTML(layout=w.Layout(margin="0 0 0 12px"))
        self.counter.add_class("dip-iteration")
        self.error = w.HTML()
        self.error.add_class("dip-error")

    def _update_buttons(self) -> None:
        """Enable the buttons that make sense in the current status; Pause reads Resume when paused."""
        status = self.status                  # "closed" once the view is closed: everything off
        self.start_btn.disabled = status != "idle"
        self.pause_btn.disabled = self.stop_btn.disabled = status not in ("running", "paused")
        want = "Resume" if status == "paused" else "Pause"
        if self.pause_btn.description != want:     # send a message only when it changes
            self.pause_btn.description = want
            self.pause_btn.icon = "play" if want == "Resume" else "pause"

    # ------------------------------------------------------------------ controls
    @property
    def status(self) -> str:
        """``"closed"``, or the fits' common status (``"running"`` wins over ``"paused"`` ...)."""
        if self._closed.is_set():
            return "closed"
        states = [f.status for f in self.fits]
        for s in ("failed", "running", "paused", "idle", "stopped", "finished"):
            if s in states:
                return s
        return "idle"

    def ended(self) -> bool:
        """True once every fit has finished, stopped or failed."""
        return all(f.status in ENDED for f in self.fits)

    def start(self):
        """Train the idle fits here, drawing between iterations; return self when they end.

        Live, the cell that calls it (``watch``, ``race``, the Start button) runs until
        the fits finish or Stop is pressed; the buttons and the slider answer meanwhile
        (see :mod:`dip_teach.live.clicks`). An error in a fit is shown in the view and
        raised here. The kernel's interrupt button stops the fits like Stop does.
        Headless, this is :meth:`run`.
        """
        if self._closed.is_set():
            raise RuntimeError(f"this dashboard was closed ({self.closed_reason}); make a new one")
        if self.headless:
            return self.run()
        if self._trainer is not None:
            return self        # a click on Start while this view trains (another thread): nothing to do
        if clicks.busy_elsewhere():
            self._show_note(self.BUSY_NOTE)
            self._busy_note_shown = True
            return self
        if self._busy_note_shown:
            self._show_note("")
            self._busy_note_shown = False
        self._trainer = threading.current_thread()
        self.render()          # the first frame pays one-off costs (fonts, axes) before the fit's clock starts
        try:
            with clicks.training():
                self._drive()
        except KeyboardInterrupt:
            self.stop()        # the kernel's interrupt: stop, keep the best, let the next cells run
        finally:
            self._trainer = None
            self.render(final=True)
        return self

    def launch(self, start: bool = True):
        """Show this view and, with ``start``, train its fits; return self (what ``watch``/``race`` return).

        Live: display the widgets, then train in this cell until the fits end or Stop is
        pressed. Headless: train to the end first, then show the static figure.
        """
        if self.headless:
            if start:
                self.run()
                show(self)
        else:
            show(self)
            if start:
                self.start()       # blocks until the fits end or Stop is pressed
        return self

    def run(self):
        """Run the fits to the end in this thread, then make the static figure (the headless path).

        An error in a fit is raised here; an interrupt (Ctrl-C, the kernel's stop
        button) stops the fits and is raised too.
        """
        try:
            self._drive()
        except BaseException:
            self.stop()
            raise
        self.figure = self.static_figure()
        return self

    def _drive(self) -> None:
        """Train every idle fit in this thread, one iteration of each in turn, until all end."""
        steppers = [(fit, fit.steps()) for fit in self.fits if fit.status == "idle"]
        try:
            while steppers:
                for fit, stepper in list(steppers):
                    self._wait_while_paused(fit)
                    try:
                        next(stepper)
                    except StopIteration:
                        steppers.remove((fit, stepper))
        finally:
            for _, stepper in steppers:    # an error or an interrupt: the other fits stop too
                stepper.close()

    def _wait_while_paused(self, fit: FitLike) -> None:
        """Wait here, not inside the fit, while it is paused, drawing meanwhile.

        On the poll route a fit blocked on its pause would block the only thread that can
        hear Resume; on the subshell route the click callbacks only set flags (see
        :meth:`_training_elsewhere`), so this thread draws the paused state.
        """
        while fit.status == "paused":
            if clicks.polling():
                clicks.pump(force=True)
            time.sleep(clicks.POLL_EVERY)
            self._after_iteration(None)

    def _training_elsewhere(self) -> bool:
        """True in a click callback that runs beside this view's training thread.

        That is the kernel's subshell thread on the subshell route. Such a callback only
        sets flags (pause, stop, which snapshot to show) and asks for a tick; the training
        thread draws it within an iteration, so widgets and matplotlib are only ever used
        from one thread at a time, and a slow drawing cannot hold up the next click.
        """
        trainer = self._trainer
        return trainer is not None and trainer is not threading.current_thread()

    def _after_iteration(self, fit: FitLike | None) -> None:
        """Fit callback, in the training thread: take clicks (poll route), draw if a frame is due, else tick."""
        clicks.pump()
        if self.widget is None or self._closed.is_set():
            return
        now = time.perf_counter()
        if self.image_throttle.due(now):
            self.render()
        elif now >= self._next_tick:
            self.tick()     # a slow frame must not freeze the counter and the buttons

    def pause(self) -> None:
        """Pause every running fit after its current iteration."""
        for fit in self.fits:
            fit.pause()
        self.tick()

    def resume(self) -> None:
        """Resume paused fits."""
        for fit in self.fits:
            fit.resume()
        self.tick()

    def toggle_pause(self) -> None:
        """Pause when running, resume when paused (the Pause/Resume button)."""
        if any(f.status == "running" for f in self.fits):
            self.pause()
        else:
            self.resume()

    def stop(self) -> None:
        """Stop every fit after its current iteration; what was learnt so far is kept."""
        for fit in self.fits:
            fit.stop()

    def wait(self) -> FitResult | list[FitResult]:
        """The result of the fit (a list for several fits); re-raises an error from a fit.

        Live fits train in the cell that made the view, so by the time a later cell calls
        ``wait()`` they have ended, and it returns at once. A fit that was never started
        (``start=False`` and no click on Start) is trained now, in this cell.
        """
        if not self._closed.is_set() and any(f.status == "idle" for f in self.fits):
            self.start()
        for fit in self.fits:
            if fit.error is not None:
                raise fit.error
        results = [fit.result for fit in self.fits]
        return results[0] if len(results) == 1 else results

    def close(self, reason: str = "closed", stop_fits: bool = True) -> None:
        """Stop the fits (unless ``stop_fits=False``) and detach the widgets; they keep their last frame."""
        if self._closed.is_set():
            return
        self.closed_reason = reason
        if stop_fits:
            self.stop()
        self._closed.set()
        if self.widget is not None:
            with self._lock:
                self._tick()       # buttons off, the counter says why
        unregister(self)

    # ------------------------------------------------------------------- drawing
    def tick(self) -> None:
        """Update only the cheap widgets (see :meth:`_tick`), between image frames.

        From a click callback beside the training thread this only asks that thread to
        tick after its current iteration.
        """
        if self.widget is None:
            return
        if self._training_elsewhere():
            self._next_tick = 0.0
            return
        self._next_tick = time.perf_counter() + self.TICK
        try:
            with self._lock:
                self._tick()
        except Exception as err:
            self.render_errors.append(err)
            self._show_error(err, "The dashboard failed to draw (the fit goes on)")

    def render(self, final: bool = False) -> None:
        """Copy the fits' state into the widgets now (any thread)."""
        if self.widget is None:
            return
        t0, cpu0, curve_seconds = time.perf_counter(), time.thread_time(), self.curve_throttle.seconds
        self._next_tick = t0 + self.TICK
        try:
            with self._lock:
                self._update(final=final)
        except Exception as err:  # a drawing bug must not kill the fit; show it instead
            self.render_errors.append(err)
            self._show_error(err, "The dashboard failed to draw (the fit goes on)")
        # curves keep their own budget (see Throttle); the rest counts as the image frame
        self.image_throttle.spent(time.perf_counter() - t0 - (self.curve_throttle.seconds - curve_seconds))
        self.render_cpu += time.thread_time() - cpu0     # CPU time, for the overhead benchmark

    def _show_error(self, err: BaseException, title: str) -> None:
        """The exception and its traceback in the message box under the view (live only)."""
        if self.error is not None:
            self.error.value = error_html(err, title)

    def _show_note(self, text: str) -> None:
        """A grey line in the message box under the view ('' clears it; live only)."""
        if self.error is not None:
            self.error.value = note_html(text)

    def _check_failures(self) -> None:
        """Show each failed fit's exception once."""
        for fit in self.fits:
            err = fit.error
            if fit.status == "failed" and err is not None and id(err) not in self._shown_errors:
                self._shown_errors.add(id(err))
                self._show_error(err, "The fit failed")

    # ------------------------------------------------------------------- display
    def _ipython_display_(self) -> None:
        from IPython.display import display   # imported here: IPython calls this method, so it is loaded

        parent = _parent_id()
        if parent is not None and parent == self._displayed_in:
            return              # already shown by watch()/race() in this very cell
        self._displayed_in = parent
        if self.headless:
            if self.figure is None:
                self.figure = self.static_figure()
            display(self.figure)
        else:
            display(self.widget)

    def display(self):
        """Show the view (widgets live, the static figure headless); returns self."""
        if ipython_shell() is not None:
            self._ipython_display_()
        return self

    def save(self, path, overwrite: bool = False) -> str:
        """Save the static figure (made now if needed) to ``path``; returns the path.

        An existing file is kept unless ``overwrite=True`` (:class:`FileExistsError`), as
        :func:`dip_teach.images.save_image` does; the file is written whole or not at all.
        """
        fig = self.static_figure() if self.figure is None else self.figure
        write_atomically(path, lambda tmp: fig.savefig(tmp, dpi=100, bbox_inches="tight"), overwrite)
        return str(path)


def _parent_id():
    """Message id of the request being executed (to avoid showing a view twice in one cell)."""
    shell = kernel_shell()
    if shell is None:
        return None
    try:
        return shell.kernel.get_parent().get("header", {}).get("msg_id")
    except Exception:
        return None
