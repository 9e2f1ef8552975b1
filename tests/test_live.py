"""Live dashboards: life cycle, rendering, headless mode, race, panel, clicks in a real kernel.

Most tests drive a small fake fit that follows the engine's contract (steps, pause,
resume, stop, wait, status, history, snapshots, ...) and takes a few milliseconds per
"iteration", so the life cycle can be checked quickly and exactly. A few tests use
the real :class:`dip_teach.fit.Fit` with the tiny network.

Live views train in the calling thread, so a test's "clicks" come from a second
thread (:func:`meanwhile`), as they do in a kernel (its subshell thread). Widgets are
real ``ipywidgets`` objects (they work without a front end); the checks read their
values, which is what the browser would show. The last test starts a real kernel and
sends it a click while a cell trains, as JupyterLab does.
"""
from __future__ import annotations

import inspect
import math
import threading
import time
from types import SimpleNamespace

import numpy as np
import pytest

from dip_teach import images, live, operators, progress
from dip_teach.fit import Best, FitConfig, FitLike, FitResult, Snapshot, append_row, new_history
from dip_teach.live import core

ipywidgets = pytest.importorskip("ipywidgets")


# ----------------------------------------------------------------------- a fake fit
class FakeFit:
    """Keeps the contract of dip_teach.fit.Fit (:class:`FitLike`); each iteration sleeps ``delay`` seconds.

    The output brightens with the iterations, so frames differ; ``fail_at`` raises
    in the training thread at that iteration.
    """

    def __init__(self, iterations=200, delay=0.004, fail_at=None, size=16, clean=True, snapshots=(1, 3, 10, 30, 100)):
        self.config = FitConfig(iterations=iterations, ema=0.9, net="tiny")
        self.operator = operators.Denoising(25)
        rng = np.random.default_rng(0)
        self._clean = rng.random((size, size, 3)).astype(np.float32)
        self.observation = images.to_tensor(self._clean)
        self.clean = images.to_tensor(self._clean) if clean else None
        self.output_size = (size, size)
        self.delay, self.fail_at = delay, fail_at
        self.status, self.error, self.iteration = "idle", None, 0
        self.history = new_history()
        self.snapshots, self.best, self.criterion_fired_at = [], None, None
        self.lock = threading.Lock()
        self._snapshot_at = set(snapshots) | {iterations}
        self._callbacks = []
        self._stop, self._running = threading.Event(), threading.Event()
        self._running.set()
        self._out = np.zeros_like(self._clean)

    def add_callback(self, fn):
        self._callbacks.append(fn)

    def steps(self):
        self.status = "running"
        t0 = time.perf_counter()
        try:
            while self.iteration < self.config.iterations:
                if not self._running.is_set():
                    self._running.wait()
                if self._stop.is_set():
                    self.status = "stopped"
                    return
                time.sleep(self.delay)
                it = self.iteration + 1
                if it == self.fail_at:
                    raise ValueError(f"boom at iteration {it}")
                out = self._clean * min(1.0, it / 50)
                with self.lock:
                    self._out = out
                    p = 10 * math.log10(1 / max(1e-8, float(np.mean((out - self._clean) ** 2))))
                    append_row(self.history, iteration=it, loss=1 / it, psnr_clean=p, psnr_clean_avg=p - 1,
                               psnr_obs=p, psnr_obs_avg=p, seconds=time.perf_counter() - t0)
                    if it in self._snapshot_at:
                        self.snapshots.append(Snapshot(it, out, out * 0.9))
                    if self.best is None or p > self.best.psnr:
                        self.best = Best(it, p, out)
                    self.iteration = it
                for fn in self._callbacks:
                    fn(self)
                yield it
            self.status = "finished"
        except (KeyboardInterrupt, GeneratorExit):
            self.status = "stopped"
            raise
        except BaseException as err:
            self.status, self.error = "failed", err
            raise

    @property
    def result(self):
        if self.iteration == 0:
            return None
        h = self.get_history()
        return FitResult(image=self._out, best_image=self.best.image, iter_best=self.best.iteration,
                         psnr_best=self.best.psnr, psnr_final=h["psnr_clean_avg"][-1], iter_picked=None,
                         psnr_picked=math.nan, iterations=self.iteration, seconds=h["seconds"][-1],
                         seconds_best=math.nan, history=h, diverged=0)

    def pause(self):
        if self.status == "running":
            self._running.clear()
            self.status = "paused"

    def resume(self):
        if self.status == "paused":
            self.status = "running"
        self._running.set()

    def stop(self):
        self._stop.set()
        self._running.set()

    def latest(self):
        with self.lock:
            return None if self.iteration == 0 else self._out.copy()

    def latest_averaged(self):
        return None if self.iteration == 0 else self.latest() * 0.9

    def get_history(self):
        with self.lock:
            return {k: list(v) for k, v in self.history.items()}


def _members(cls):
    """A protocol's members: name -> signature (methods) or None (attributes and properties)."""
    names = [n for n in dir(cls) if not n.startswith("_")] + list(getattr(cls, "__annotations__", {}))
    out = {}
    for name in set(names):
        value = inspect.getattr_static(cls, name, None)
        out[name] = inspect.signature(value) if inspect.isfunction(value) else None
    return out


def test_the_fake_fit_keeps_the_fit_contract():
    """FakeFit stands in for Fit in these tests: both satisfy FitLike, with the same method signatures."""
    from dip_teach.fit import Fit

    contract = _members(FitLike)
    real = Fit(operators.Operator(), images.load("coffee", size=64), config=FitConfig(net="tiny", iterations=2))
    fake = FakeFit()
    assert isinstance(real, FitLike) and isinstance(fake, FitLike)
    assert not isinstance(object(), FitLike)
    for name, signature in contract.items():
        if signature is None:
            continue
        for impl in (Fit, FakeFit):
            got = inspect.signature(getattr(impl, name))
            assert list(got.parameters) == list(signature.parameters), (impl.__name__, name, got, signature)
    assert set(contract) >= {"steps", "pause", "resume", "stop", "result", "history", "status", "config"}


def until(condition, timeout=10.0, what="condition"):
    """Poll ``condition`` until true; fail the test after ``timeout`` seconds."""
    end = time.perf_counter() + timeout
    while time.perf_counter() < end:
        if condition():
            return
        time.sleep(0.01)
    raise AssertionError(f"timed out waiting for {what}")


def meanwhile(condition, action, timeout=20.0):
    """In a second thread (like the kernel's subshell): wait for ``condition``, then ``action()``.

    Returns the thread; ``join()`` it and check ``.error`` (None, or what failed there).
    """
    def main():
        try:
            until(condition, timeout)
            action()
        except BaseException as err:     # shown by the test that joins the thread
            thread.error = err

    thread = threading.Thread(target=main, daemon=True)
    thread.error = None
    thread.start()
    return thread


def joined(thread):
    thread.join(30)
    if thread.error is not None:
        raise thread.error


@pytest.fixture(autouse=True)
def _close_views():
    yield
    live.close_all()


def count(dash) -> int:
    """The iteration the counter widget shows (what the browser test reads)."""
    text = dash.counter.value
    return int(text.split("dip-count'>")[1].split("<")[0])


# ------------------------------------------------------------------ life cycle
def test_watch_trains_in_the_cell_and_wait_returns_the_result():
    fit = FakeFit(iterations=150)
    callers = set()
    fit.add_callback(lambda f: callers.add(threading.current_thread()))
    dash = live.watch(fit, headless=False)
    assert fit.status == "finished" and callers == {threading.current_thread()}   # trained right here
    assert count(dash) == 150                      # the last frame reached the widgets
    assert dash.out_img.value and dash.res_img.value and dash.curves_img.value
    assert dash.slider.max == len(fit.snapshots) - 1
    assert "finished" in dash.stats.value
    assert dash.start_btn.disabled and dash.stop_btn.disabled and dash.pause_btn.disabled
    calls = len(fit.history["iteration"])
    assert dash.wait().iterations == 150 and len(fit.history["iteration"]) == calls   # nothing trained again


def test_frames_change_while_training():
    fit = FakeFit(iterations=400, delay=0.005)
    seen = []
    dash = live.watch(fit, headless=False, fps=20, start=False)
    fit.add_callback(lambda f: seen.append((count(dash), bytes(dash.out_img.value))) if f.iteration % 10 == 0 else None)
    dash.start()                                   # what watch() does: train here, drawing as it goes
    counts = [c for c, _ in seen]
    assert counts == sorted(counts) and len(set(counts)) > 5        # the counter moved during the fit
    assert len({img for _, img in seen}) >= 2                        # and so did the picture


def test_counter_keeps_moving_when_image_frames_are_held_back():
    fit = FakeFit(iterations=600, delay=0.003)
    shown = []

    def after(f):
        if f.iteration == 20:
            dash.image_throttle.next_at = time.perf_counter() + 60      # as after a very slow frame
            shown.append((count(dash), dash.out_img.value))
        if f.iteration == 500:
            shown.append((count(dash), dash.out_img.value))

    dash = live.watch(fit, headless=False, fps=20, start=False)
    fit.add_callback(after)
    dash.start()
    (c1, image1), (c2, image2) = shown
    assert c2 > c1 + 10                            # the counter ticked between frames ...
    assert image2 == image1                        # ... while no image frame was drawn


def test_pause_holds_the_fit_and_resume_continues():
    fit = FakeFit(iterations=5000, delay=0.002)
    log = {}

    def click():                                   # what the student does, from the kernel's subshell
        dash.toggle_pause()                        # the Pause button
        until(lambda: fit.status == "paused")
        log["held"] = fit.iteration
        time.sleep(0.2)
        log["after"] = fit.iteration
        log["button"] = dash.pause_btn.description
        dash.pause_btn.click()                     # Resume
        until(lambda: fit.iteration > log["held"] + 10, what="training to continue")
        log["status"] = fit.status
        dash.stop_btn.click()

    dash = live.watch(fit, headless=False, fps=20, start=False)
    thread = meanwhile(lambda: fit.iteration > 5, click)
    dash.start()
    joined(thread)
    assert log["after"] <= log["held"] + 1         # at most the iteration under way
    assert log["button"] == "Resume" and log["status"] == "running"
    assert fit.status == "stopped" and fit.iteration < 5000


def test_stop_halts_the_fit_and_the_counter():
    fit = FakeFit(iterations=100_000, delay=0.002)
    dash = live.watch(fit, headless=False, fps=20, start=False)
    thread = meanwhile(lambda: fit.iteration > 10, dash.stop_btn.click)
    dash.start()                                   # returns once stopped
    joined(thread)
    assert fit.status == "stopped" and fit.iteration < 100_000
    assert count(dash) == fit.iteration            # final frame after the stop
    assert "stopped" in dash.stats.value and dash.wait().iterations == fit.iteration


def test_the_kernel_interrupt_stops_a_live_fit_and_keeps_it():
    fit = FakeFit(iterations=1000)

    def interrupt(f):
        if f.iteration == 30:
            raise KeyboardInterrupt                # what the kernel's interrupt button raises

    fit.add_callback(interrupt)
    dash = live.watch(fit, headless=False)         # no error: the next cells run on
    assert fit.status == "stopped" and fit.iteration == 30 and count(dash) == 30
    headless = FakeFit(iterations=1000)
    headless.add_callback(interrupt)
    with pytest.raises(KeyboardInterrupt):         # headless (a script, nbval) it still ends the run
        live.watch(headless, headless=True, name="h")
    assert headless.status == "stopped"


def test_rerunning_the_cell_closes_the_previous_dashboard():
    first = FakeFit(iterations=100_000)
    d1 = live.watch(first, headless=False, start=False)
    second = FakeFit(iterations=100_000)
    d2 = live.watch(second, headless=False, start=False)     # same kind: replaces d1
    assert first._stop.is_set()                    # the old fit can never start
    assert d1.status == "closed" and "replaced" in d1.closed_reason
    assert live.active("fit") is d2
    d3 = live.watch(FakeFit(iterations=10), headless=False, name="other")
    assert d2.status == "idle" and d3.status == "finished"   # a different name lives side by side
    d4 = live.watch(second, headless=False, start=False)     # only the watch() cell ran again: same fit
    assert d2.status == "closed" and not second._stop.is_set()   # detached, the fit is kept
    thread = meanwhile(lambda: second.iteration > 3, d4.stop)
    assert d4.wait().iterations == second.iteration > 3
    joined(thread)


def test_an_error_in_the_fit_surfaces_in_the_cell_in_wait_and_in_the_dashboard():
    fit = FakeFit(iterations=100, fail_at=7)
    with pytest.raises(ValueError, match="boom at iteration 7"):
        live.watch(fit, headless=False)
    dash = live.active("fit")
    assert fit.status == "failed"
    with pytest.raises(ValueError, match="boom at iteration 7"):
        dash.wait()
    assert "boom at iteration 7" in dash.error.value and "ValueError" in dash.error.value
    assert "failed" in dash.stats.value


def test_a_drawing_error_is_shown_and_does_not_stop_the_fit(monkeypatch):
    fit = FakeFit(iterations=60)
    dash = live.watch(fit, headless=False, start=False)
    monkeypatch.setattr(dash, "_update_slider", lambda: 1 / 0)
    dash.start()
    assert fit.status == "finished"
    assert dash.render_errors and "ZeroDivisionError" in dash.error.value


def test_start_button_or_wait_trains_an_idle_fit():
    fit = FakeFit(iterations=30)
    dash = live.watch(fit, headless=False, start=False)
    assert fit.status == "idle" and not dash.start_btn.disabled
    dash.start_btn.click()
    assert fit.status == "finished"
    other = FakeFit(iterations=20)
    assert live.watch(other, headless=False, start=False).wait().iterations == 20


def test_start_clicked_beside_another_training_fit_does_not_train_in_the_click_thread():
    idle = FakeFit(iterations=30)
    waiting = live.watch(idle, headless=False, start=False, name="waiting")
    busy = FakeFit(iterations=100_000, delay=0.002)
    dash = live.watch(busy, headless=False, start=False)

    def click_start_then_stop():                   # both clicks arrive in the subshell's thread
        waiting.start_btn.click()
        dash.stop_btn.click()

    thread = meanwhile(lambda: busy.iteration > 5, click_start_then_stop)
    dash.start()
    joined(thread)
    assert idle.status == "idle" and "once it has ended" in waiting.error.value
    waiting.start_btn.click()                      # now, in the main thread, it trains
    assert idle.status == "finished" and not waiting.error.value


def test_snapshot_slider_shows_earlier_outputs_during_and_after_training():
    fit = FakeFit(iterations=100_000, delay=0.003)
    log = {}

    def drag():                                    # the student drags during training (a second thread):
        dash.slider.value = 0                      # the callback only notes it; the training thread draws it
        until(lambda: "iteration <b>1</b>" in dash.snap_label.value, 10, "the chosen snapshot")
        log["label"], log["image"], log["running"] = dash.snap_label.value, dash.snap_img.value, fit.status
        dash.stop()

    dash = live.watch(fit, headless=False, fps=20, start=False)
    thread = meanwhile(lambda: dash.slider.max >= 2, drag)
    dash.start()
    joined(thread)
    assert "iteration <b>1</b>" in log["label"] and log["running"] == "running"
    assert dash.slider.value == 0                  # not dragged back to the newest by new snapshots
    dash.slider.value = dash.slider.max
    assert dash.snap_img.value != log["image"]
    assert f"iteration <b>{fit.snapshots[-1].iteration}</b>" in dash.snap_label.value


def test_throttle_keeps_drawing_within_its_budget():
    # "sooner than" is read after the call, "later than" before it: a stalled test process
    # (a busy machine) can then only make each check easier, never fail it
    t = core.Throttle(min_interval=0.1, budget=0.02)
    t.spent(0.3)                                   # the first frame pays one-off costs
    assert t.next_at - time.perf_counter() < 0.2
    before = time.perf_counter()
    t.spent(0.01)                                  # a 10 ms frame ...
    assert t.next_at - before > 0.4                # ... waits ~0.5 s for the next one
    t = core.Throttle(min_interval=0.25, budget=0.5)
    t.spent(0.001)
    before = time.perf_counter()
    t.spent(0.001)
    assert t.next_at - before > 0.2                # never faster than min_interval


def test_a_kernel_without_subshells_says_how_to_stop(monkeypatch):
    from dip_teach.live import clicks

    monkeypatch.setattr(clicks, "_FAILED", "this kernel has no subshells (ipykernel < 7)")
    monkeypatch.setattr(core, "in_kernel", lambda: True)
    dash = live.watch(FakeFit(iterations=5), headless=False)
    assert "interrupt button" in dash.error.value and "ipykernel" in dash.error.value
    assert dash.fit.status == "finished"           # the fit itself trains all the same


# ------------------------------------------- the routing hook: no single point of failure
class _FakeManager:
    def __init__(self, fail=False):
        self.subshells, self.fail = [], fail

    def _create_subshell(self):
        if self.fail:
            raise RuntimeError("kernel busy")
        self.subshells.append(f"sub{len(self.subshells)}")
        return self.subshells[-1]

    def list_subshell(self):
        return list(self.subshells)


def _fake_kernel(monkeypatch, manager):
    from dip_teach.live import clicks

    loop = SimpleNamespace(add_callback=lambda fn: fn())     # runs "in the shell-channel thread" at once
    kernel = SimpleNamespace(shell_channel_thread=SimpleNamespace(manager=manager, io_loop=loop))
    monkeypatch.setattr(clicks, "_kernel", lambda: kernel)
    for name, value in (("_SUBSHELL", None), ("_FAILED", None), ("_FAILED_AT", 0.0), ("_TRAINING", 0)):
        monkeypatch.setattr(clicks, name, value)
    return clicks


def test_routing_hook_passes_any_signature_through_and_falls_back(monkeypatch):
    """A changed hook signature, a lost subshell, the cell's end: the kernel's own choice decides."""
    manager = _FakeManager()
    clicks = _fake_kernel(monkeypatch, manager)
    calls = []

    def changed_hook(data, default, *, request=None):   # a future ipykernel with another signature
        calls.append((data, default, request))
        return default

    comm = SimpleNamespace(_reply_subshell_for=changed_hook)
    clicks.route(SimpleNamespace(comm=comm, children=[SimpleNamespace(comm=None)]))
    hook = comm._reply_subshell_for
    assert hook({"x": 1}, None, request="r") is None and calls == [({"x": 1}, None, "r")]   # not training
    with clicks.training():
        assert hook({}, None) == "sub0"                      # while a fit trains: our subshell
        manager.subshells.clear()                            # the subshell is gone (another client deleted it)
        assert hook({}, "main") == "main"                    # the kernel's choice, not a dropped message
    assert hook({}, "main") == "main" and len(calls) == 3    # after the cell: buttons work as usual
    clicks.route(SimpleNamespace(comm=comm))                 # routing twice does not wrap twice
    assert comm._reply_subshell_for is hook


def test_a_failed_subshell_is_tried_again_later(monkeypatch):
    manager = _FakeManager(fail=True)
    clicks = _fake_kernel(monkeypatch, manager)
    assert clicks.subshell() is None and "kernel busy" in clicks.why_not()
    manager.fail = False
    assert clicks.subshell() is None                          # not at once: every view would wait 5 s
    monkeypatch.setattr(clicks, "_FAILED_AT", clicks._FAILED_AT - clicks.RETRY_AFTER - 1)
    assert clicks.subshell() == "sub0" and clicks.why_not() is None


def test_poll_route_keeps_clicks_from_a_waiting_dispatcher(monkeypatch):
    """A replayed cell (Run All, ipykernel 6): the kernel's dispatcher already waits on its queue.

    Without parking it, tornado's queue hands each click straight to that reader, which
    only runs after the cell, and polling finds nothing; afterwards it gets its message back.
    """
    import asyncio

    from tornado.queues import Queue, QueueEmpty

    from dip_teach.live import clicks

    async def scenario():
        queue = Queue()
        kernel = SimpleNamespace(msg_queue=queue)
        monkeypatch.setattr(clicks, "_kernel", lambda: kernel)
        dispatcher = asyncio.ensure_future(queue.get())      # ipykernel's dispatch_queue, waiting
        await asyncio.sleep(0)
        queue.put_nowait("lost click")                         # what happens without parking:
        with pytest.raises(QueueEmpty):
            queue.get_nowait()                                 # polling finds nothing
        assert await dispatcher == "lost click"                # the reader had it, too late

        dispatcher = asyncio.ensure_future(queue.get())
        await asyncio.sleep(0)
        parked = clicks._park_waiting_dispatcher()
        queue.put_nowait("click")
        assert queue.get_nowait() == "click"                   # polling takes it during the cell
        queue.put_nowait("next cell")
        clicks._unpark_dispatcher(parked)
        assert await dispatcher == "next cell"                 # the reader is back, with what waited
        dispatcher = asyncio.ensure_future(queue.get())        # and it waits as before
        await asyncio.sleep(0)
        clicks._unpark_dispatcher(clicks._park_waiting_dispatcher())   # nothing queued: just back
        queue.put_nowait("later")
        assert await dispatcher == "later"

    asyncio.run(scenario())
    monkeypatch.setattr(clicks, "_kernel", lambda: SimpleNamespace(msg_queue=[]))
    assert clicks._park_waiting_dispatcher() is None           # not tornado's queue: nothing touched


def test_unknown_kernels_are_gated_with_a_reason(monkeypatch):
    import ipykernel

    clicks = _fake_kernel(monkeypatch, _FakeManager())
    monkeypatch.setattr(ipykernel, "__version__", "8.1.0")
    ok, why = clicks.support()
    assert not ok and "8.1.0" in why and "7.4" in why
    monkeypatch.setattr(ipykernel, "__version__", "7.4.0")
    assert clicks.support()[0]
    monkeypatch.delattr(_FakeManager, "list_subshell")
    ok, why = clicks.support()
    assert not ok and "list_subshell" in why


# -------------------------------------------------------------------- headless
def test_headless_runs_to_the_end_and_leaves_a_static_figure():
    fit = FakeFit(iterations=40)
    dash = live.watch(fit, headless=True)
    assert fit.status == "finished" and fit.iteration == 40
    assert dash.widget is None
    fig = dash.figure
    assert fig is not None and len(fig.axes) >= 5


def test_headless_detection(monkeypatch):
    monkeypatch.setenv(live.HEADLESS_ENV, "1")
    assert live.is_headless() and "DIP_TEACH_HEADLESS" in live.headless_reason()[1]
    monkeypatch.setenv(live.HEADLESS_ENV, "0")
    assert not live.is_headless()
    monkeypatch.delenv(live.HEADLESS_ENV)
    headless, why = live.headless_reason()         # pytest is not a Jupyter kernel
    assert headless and "kernel" in why
    assert live.is_headless(False) is False and live.is_headless(True) is True


def test_headless_detection_inside_a_kernel(monkeypatch):
    """JupyterLab sends metadata with each cell; nbval and nbconvert send none."""
    metadata = {}
    kernel = SimpleNamespace(get_parent=lambda: {"metadata": metadata, "header": {"msg_id": "x"}})
    monkeypatch.setattr(progress, "kernel_shell", lambda: SimpleNamespace(kernel=kernel))
    monkeypatch.delenv(live.HEADLESS_ENV, raising=False)
    monkeypatch.delenv("JPY_SESSION_NAME", raising=False)
    monkeypatch.delenv("PYTEST_CURRENT_TEST", raising=False)
    assert live.headless_reason() == (True, live.headless_reason()[1])          # a bare request: batch run
    assert "nbconvert" in live.headless_reason()[1]
    monkeypatch.setenv("JPY_SESSION_NAME", "notebooks/04.ipynb")                # kernel of a Jupyter server
    assert live.is_headless() is False
    monkeypatch.setenv("PYTEST_CURRENT_TEST", "notebooks/04.ipynb::Cell 3")     # ... but under nbval
    assert live.is_headless() is True
    metadata.update(cellId="abc", deletedCells=[], recordTiming=False)         # what JupyterLab sends
    assert live.is_headless() is False


def test_headless_error_raises_in_the_calling_cell():
    with pytest.raises(ValueError, match="boom"):
        live.watch(FakeFit(iterations=20, fail_at=3), headless=True)


def test_save_writes_the_static_figure(tmp_path):
    dash = live.watch(FakeFit(iterations=20), headless=True)
    path = dash.save(tmp_path / "fit.png")
    assert (tmp_path / "fit.png").stat().st_size > 1000 and path.endswith("fit.png")


# --------------------------------------------------------------------- helpers
def test_png_bytes_enlarges_small_images_with_crisp_pixels():
    from PIL import Image
    import io

    img = np.zeros((16, 16, 3), np.float32)
    img[::2, ::2] = 1
    data = core.png_bytes(img, min_side=64)
    im = np.asarray(Image.open(io.BytesIO(data)))
    assert im.shape == (64, 64, 3)
    assert set(np.unique(im)) == {0, 255}          # nearest neighbour: no blur


def test_residual_is_grey_where_the_fit_matches_the_data():
    from dip_teach.plots import residual

    fit = FakeFit()
    r = residual(fit, fit._clean, gain=4)
    assert np.allclose(r, 0.5, atol=1e-6)


def test_recent_rate_reads_the_history():
    fit = SimpleNamespace(history={"iteration": list(range(1, 101)), "seconds": [i * 0.1 for i in range(1, 101)]})
    assert core.recent_rate(fit) == pytest.approx(10.0)
    fit.history = {"iteration": [1], "seconds": [0.1]}
    assert math.isnan(core.recent_rate(fit))


def test_blit_figure_matches_a_full_redraw():
    from PIL import Image
    import io

    fig = core.new_figure(3, 2)
    ax = fig.subplots()
    (line,) = ax.plot([0, 1], [0, 1])
    ax.set_xlim(0, 2), ax.set_ylim(0, 2)
    blit = core.BlitFigure(fig, [line])
    blit.png()
    line.set_data([0, 2], [2, 0])                  # change the data only: blitted frame
    fast = np.asarray(Image.open(io.BytesIO(blit.png())))
    assert blit.backgrounds == 1
    line.set_animated(False)
    full = np.asarray(Image.open(io.BytesIO(core.figure_png(fig))))
    assert np.abs(fast.astype(int) - full.astype(int)).mean() < 1.0


# ------------------------------------------------------------------------ race
@pytest.mark.usefixtures("one_thread")
def test_race_fits_take_turns_in_the_calling_thread():
    r = live.race("coffee", size=64, iterations=6, net="tiny", headless=False, start=False)
    gaps, callers = [], set()
    for f in r.fits:
        f.add_callback(lambda _: gaps.append(max(g.iteration for g in r.fits) - min(g.iteration for g in r.fits)))
        f.add_callback(lambda _: callers.add(threading.current_thread()))
    r.start()
    assert max(gaps) <= 1 and callers == {threading.current_thread()}
    assert [f.status for f in r.fits] == ["finished"] * 4


def test_race_targets_have_the_same_pixels_or_none_of_the_structure():
    t = live.race_targets("coffee", size=64, seed=0)
    assert list(t) == ["natural image", "image + noise", "shuffled pixels", "white noise"]
    nat, shuf = t["natural image"], t["shuffled pixels"]
    assert all(v.shape == nat.shape for v in t.values())
    # same colours, rearranged: equal sorted values, very different neighbours
    assert np.allclose(np.sort(nat.reshape(-1, 3), axis=0), np.sort(shuf.reshape(-1, 3), axis=0))
    smooth = lambda a: np.abs(np.diff(a, axis=0)).mean()
    assert smooth(shuf) > 2 * smooth(nat)


@pytest.mark.usefixtures("one_thread")
def test_race_live_and_headless_with_the_real_engine():
    r = live.race("coffee", size=64, iterations=4, net="tiny", headless=False)
    assert [f.iteration for f in r.fits] == [4, 4, 4, 4]
    assert all(img.value for img in r.out_imgs) and r.curves_img.value
    assert r.status == "finished"
    h = live.race("coffee", size=64, iterations=10, net="tiny", headless=True)   # replaces r
    assert h.figure is not None and all(f.status == "finished" for f in h.fits)
    assert r.status == "closed"
    # the paper's ordering, already after 10 steps: structure is fitted first
    losses = h.losses()
    assert losses["natural image"] < 0.7 * min(losses["shuffled pixels"], losses["white noise"])


# ------------------------------------------------------------------ real engine
@pytest.mark.usefixtures("one_thread")
def test_dashboard_with_the_real_fit_and_spectral_view():
    from dip_teach.fit import Fit, FitConfig

    x = images.load("coffee", size=64)
    op = operators.Denoising(25)
    fit = Fit(op, op.corrupt(x, seed=0), clean=x, config=FitConfig(iterations=12, net="tiny"))
    dash = live.watch(fit, headless=False, spectral=True)
    result = dash.wait()
    assert result.iterations == 12 and count(dash) == 12
    assert dash.spectral_img.value and len(dash.track.iterations) >= 2
    assert dash.slider.max == len(fit.snapshots) - 1 >= 1


@pytest.mark.usefixtures("one_thread")
def test_real_fit_stop():
    from dip_teach.fit import Fit, FitConfig

    x = images.load("coffee", size=64)
    op = operators.Denoising(25)
    fit = Fit(op, op.corrupt(x, seed=0), clean=x, config=FitConfig(iterations=10_000, net="tiny"))
    dash = live.watch(fit, headless=False, start=False)
    thread = meanwhile(lambda: fit.iteration >= 3, dash.stop_btn.click, timeout=60)
    dash.start()
    joined(thread)
    assert fit.status == "stopped" and dash.wait().iterations == fit.iteration < 10_000
    assert dash.wait().psnr_best == fit.best.psnr          # the best so far is kept


# ----------------------------------------------------------------------- panel
@pytest.mark.usefixtures("one_thread")
def test_panel_runs_headless_and_live():
    p = live.panel("coffee", sigma=25, preset="tiny", iterations=3, headless=True)
    assert p.dashboard.fit.status == "finished" and p.dashboard.figure is not None
    q = live.panel("coffee", sigma=25, preset="tiny", iterations=10_000, headless=False)
    assert q.dashboard is None                     # live: waits for Run
    q.preset_w.value = "lab"
    from dip_teach import nets
    assert q.lr_w.value == pytest.approx(nets.get_config("lab").lr)     # the preset's own learning rate
    q.preset_w.value = "tiny"
    runs = []

    def run_again():                               # Run pressed again during the first run
        runs.append(q.dashboard)
        q.sigma_w.value = 50
        q.run_btn.click()
        until(lambda: q.dashboard is not runs[0] and q.dashboard.fit.iteration >= 1, timeout=30)
        runs.append(q.dashboard)
        q.dashboard.stop_btn.click()

    thread = meanwhile(lambda: q.dashboard is not None and q.dashboard.fit.iteration >= 1, run_again, timeout=60)
    q.run_btn.click()                              # trains here, until the second run is stopped
    joined(thread)
    first, second = runs
    assert first.fit.status == "stopped" and second.fit.status == "stopped"
    assert second.fit.operator.sigma == 50 and q.dashboard is second
    assert q.area.children == (second.widget,)
    q.close()
    assert second.status == "closed"


@pytest.mark.usefixtures("one_thread")
def test_panel_shows_bad_settings_in_the_panel():
    q = live.panel("coffee", preset="tiny", headless=False)
    q.iter_w.value = 5
    q.image_w.options = ["no-such-image", *q.image_w.options]
    q.image_w.value = "no-such-image"
    assert q.run() is None
    assert "no-such-image" in q.error.value


# ------------------------------------------------- clicks reach a cell that trains
KERNEL_SETUP = """\
import torch
torch.set_num_threads(1)
from dip_teach import images, operators, live
from dip_teach.fit import Fit, FitConfig
x = images.load("coffee", size=64)
op = operators.Denoising(25)
fit = Fit(op, op.corrupt(x, seed=0), clean=x, config=FitConfig(iterations=100_000, net="tiny"))
dash = live.watch(fit, start=False)
fit2 = Fit(op, op.corrupt(x, seed=1), clean=x, config=FitConfig(iterations=100_000, net="tiny"))
dash2 = live.watch(fit2, start=False, name="second")
print(live.clicks.route_name(), dash.pause_btn.comm.comm_id, dash.stop_btn.comm.comm_id, dash2.stop_btn.comm.comm_id)"""


def test_clicks_reach_a_cell_that_trains_in_a_real_kernel():
    """Pause, Resume and Stop sent while the cell trains and the next cells wait (Run All).

    ipykernel 7.4+ takes the subshell route, ipykernel 6 the poll route (``make test-kernel6``
    runs this test there); both must answer within a second. A second training cell waits
    behind the first: on the poll route jupyter-ui-poll holds it back and replays it when
    the first ends, and its Stop must answer too.
    """
    import os
    import queue
    from pathlib import Path

    import ipykernel
    from dip_teach.live.clicks import _version
    expected_route = "poll" if _version(ipykernel.__version__) < (7, 0) else "subshell"

    manager = pytest.importorskip("jupyter_client.manager")
    root = str(Path(__file__).resolve().parents[1])
    env = {**os.environ, "PYTHONPATH": root + os.pathsep + os.environ.get("PYTHONPATH", ""),
           "DIP_TEACH_HEADLESS": "0", "DIP_TEACH_MODE": "test"}
    env.pop("PYTEST_CURRENT_TEST", None)
    km, kc = manager.start_new_kernel(kernel_name="python3", extra_arguments=[], env=env)
    counts: list[tuple[float, int]] = []
    outputs: dict[str, list[str]] = {}
    ended_at: dict[str, float] = {}       # execute_reply: the cell has ended (a status "idle" is not
                                          # proof: ipykernel 6 publishes one per message it handles)

    def pump(seconds):
        """Read the kernel's broadcasts for ``seconds``: counter updates, outputs, replies."""
        end = time.time() + seconds
        while time.time() < end:
            while True:
                try:
                    reply = kc.get_shell_msg(timeout=0)
                except queue.Empty:
                    break
                if reply["msg_type"] == "execute_reply":
                    ended_at.setdefault(reply["parent_header"]["msg_id"], time.time())
            try:
                m = kc.get_iopub_msg(timeout=0.05)
            except queue.Empty:
                continue
            parent = m["parent_header"].get("msg_id")
            content = m["content"]
            if m["msg_type"] == "comm_msg":
                value = str(content.get("data", {}).get("state", {}).get("value", ""))
                if "dip-count'>" in value:
                    counts.append((time.time(), int(value.split("dip-count'>")[1].split("<")[0])))
            elif m["msg_type"] in ("stream", "error"):
                outputs.setdefault(parent, []).append(content.get("text") or "\n".join(content["traceback"]))

    def until_seen(condition, timeout, what):
        end = time.time() + timeout
        while time.time() < end:
            pump(0.1)
            if condition():
                return
        raise AssertionError(f"timed out waiting for {what}; outputs: {outputs}")

    def click(comm_id):
        kc.shell_channel.send(kc.session.msg("comm_msg", {
            "comm_id": comm_id, "data": {"method": "custom", "content": {"event": "click"}}}))
        return time.time()

    def last_count(before=math.inf):
        return max((c for t, c in counts if t <= before), default=0)

    try:
        setup = kc.execute(KERNEL_SETUP)
        until_seen(lambda: setup in ended_at and setup in outputs, 120, "the setup cell")
        route, pause_id, stop_id, stop2_id = "".join(outputs[setup]).split()
        assert route == expected_route, outputs[setup]
        train = kc.execute("dash.start()")                 # the cell that trains ...
        train2 = kc.execute("dash2.start()")               # ... a second one queued behind it ...
        after = kc.execute("print(fit.status, fit.iteration, dash.wait().iterations)")   # ... and a third
        until_seen(lambda: last_count() > 5, 60, "the counter to move")
        paused = click(pause_id)
        pump(1.0)
        held = last_count()
        pump(1.0)
        assert last_count() == held and train not in ended_at, "Pause did not hold the fit within 1 s"
        click(pause_id)                                    # Resume
        until_seen(lambda: last_count() > held, 10, "training to resume")
        stopped = click(stop_id)
        until_seen(lambda: train in ended_at, 10, "the training cell to end after Stop")
        assert ended_at[train] - stopped < 1.0, f"Stop took {ended_at[train] - stopped:.2f} s"
        second = lambda: {c for t, c in counts if t > ended_at[train]}    # the second view's counter
        until_seen(lambda: len(second()) > 5, 60, "the second fit's counter to move")
        stopped2 = click(stop2_id)
        until_seen(lambda: train2 in ended_at, 10, "the second training cell to end after Stop")
        assert ended_at[train2] - stopped2 < 1.0, f"Stop (second cell) took {ended_at[train2] - stopped2:.2f} s"
        until_seen(lambda: after in ended_at and after in outputs, 10, "the queued cell")
        status, iteration, result = "".join(outputs[after]).split()
        assert status == "stopped" and iteration == result == str(last_count(ended_at[train])) and held > 5
        assert paused < stopped
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)


def test_views_make_their_controls_and_message_box_themselves():
    """The base class builds the buttons, counter and error box; each view only arranges them."""
    for view in (live.watch(FakeFit(iterations=3), headless=False, start=False),
                 live.side_by_side({"a": FakeFit(iterations=3)}, headless=False, start=False)):
        parts = set()
        stack = [view.widget]
        while stack:
            w = stack.pop()
            parts.add(id(w))
            stack.extend(getattr(w, "children", ()))
        assert {id(view.start_btn), id(view.pause_btn), id(view.stop_btn), id(view.counter), id(view.error)} <= parts
    assert live.watch(FakeFit(iterations=3), headless=True, name="h").error is None     # headless: no widgets
