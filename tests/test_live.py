"""Live dashboards: thread life cycle, rendering, headless mode, race, panel.

Most tests drive a small fake fit that follows the engine's contract (start, pause,
resume, stop, wait, status, history, snapshots, ...) and takes a few milliseconds per
"iteration", so the life cycle can be checked quickly and exactly. A few tests use
the real :class:`dip_teach.fit.Fit` with the tiny network.

Widgets are real ``ipywidgets`` objects (they work without a front end); the checks
read their values, which is what the browser would show.
"""
from __future__ import annotations

import math
import threading
import time
from types import SimpleNamespace

import numpy as np
import pytest

from dip_teach import images, live, operators
from dip_teach.live import core

ipywidgets = pytest.importorskip("ipywidgets")


# ----------------------------------------------------------------------- a fake fit
class FakeFit:
    """Follows the contract of dip_teach.fit.Fit; each iteration sleeps ``delay`` seconds.

    The output brightens with the iterations, so frames differ; ``fail_at`` raises
    in the training thread at that iteration.
    """

    def __init__(self, iterations=200, delay=0.004, fail_at=None, size=16, clean=True, snapshots=(1, 3, 10, 30, 100)):
        self.config = SimpleNamespace(iterations=iterations, ema=0.9, net="fake")
        self.operator = operators.Denoising(25)
        rng = np.random.default_rng(0)
        self._clean = rng.random((size, size, 3)).astype(np.float32)
        self.observation = images.to_tensor(self._clean)
        self.clean = images.to_tensor(self._clean) if clean else None
        self.delay, self.fail_at = delay, fail_at
        self.status, self.error, self.iteration = "idle", None, 0
        self.history = {k: [] for k in ("iteration", "loss", "psnr_clean", "psnr_clean_avg", "psnr_obs",
                                        "psnr_obs_avg", "seconds")}
        self.snapshots, self.best, self.stop_iteration = [], None, None
        self.lock = threading.Lock()
        self._snapshot_at = set(snapshots) | {iterations}
        self._callbacks, self._thread = [], None
        self._stop, self._running = threading.Event(), threading.Event()
        self._running.set()
        self._out = np.zeros_like(self._clean)

    def add_callback(self, fn):
        self._callbacks.append(fn)

    def start(self):
        self.status = "running"
        self._thread = threading.Thread(target=self._thread_main, daemon=True)
        self._thread.start()
        return self

    def _thread_main(self):
        try:
            self.run()
        except BaseException as err:
            self.error = err

    def run(self):
        self.status = "running"
        t0 = time.perf_counter()
        try:
            while self.iteration < self.config.iterations:
                if not self._running.is_set():
                    self._running.wait()
                if self._stop.is_set():
                    self.status = "stopped"
                    return self.result
                time.sleep(self.delay)
                it = self.iteration + 1
                if it == self.fail_at:
                    raise ValueError(f"boom at iteration {it}")
                out = self._clean * min(1.0, it / 50)
                with self.lock:
                    self._out = out
                    p = 10 * math.log10(1 / max(1e-8, float(np.mean((out - self._clean) ** 2))))
                    for k, v in zip(self.history, (it, 1 / it, p, p - 1, p, p, time.perf_counter() - t0)):
                        self.history[k].append(v)
                    if it in self._snapshot_at:
                        self.snapshots.append(SimpleNamespace(iteration=it, image=out, averaged=out * 0.9))
                    if self.best is None or p > self.best.psnr:
                        self.best = SimpleNamespace(iteration=it, psnr=p, image=out)
                    self.iteration = it
                for fn in self._callbacks:
                    fn(self)
            self.status = "finished"
        except BaseException as err:
            self.status, self.error = "failed", err
            raise
        return self.result

    @property
    def result(self):
        return SimpleNamespace(iterations=self.iteration, image=self._out)

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

    def wait(self, timeout=None):
        if self._thread is not None:
            self._thread.join(timeout)
            if self._thread.is_alive():
                raise TimeoutError("still running")
        if self.error is not None:
            raise self.error
        return self.result

    def latest(self):
        with self.lock:
            return None if self.iteration == 0 else self._out.copy()

    def latest_averaged(self):
        return None if self.iteration == 0 else self.latest() * 0.9


def until(condition, timeout=10.0, what="condition"):
    """Poll ``condition`` until true; fail the test after ``timeout`` seconds."""
    end = time.perf_counter() + timeout
    while time.perf_counter() < end:
        if condition():
            return
        time.sleep(0.01)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture(autouse=True)
def _close_views():
    yield
    live.close_all()


def count(dash) -> int:
    """The iteration the counter widget shows (what the browser test reads)."""
    text = dash.counter.value
    return int(text.split("dip-count'>")[1].split("<")[0])


# ------------------------------------------------------------------ life cycle
def test_watch_returns_at_once_and_the_fit_trains_in_the_background():
    fit = FakeFit(iterations=150)
    dash = live.watch(fit, headless=False)
    assert fit.status == "running" and fit.iteration < 150      # the call did not wait
    result = dash.wait()
    assert fit.status == "finished" and result.iterations == 150
    assert count(dash) == 150                      # the last frame reached the widgets
    assert dash.out_img.value and dash.res_img.value and dash.curves_img.value
    assert dash.slider.max == len(fit.snapshots) - 1
    assert "finished" in dash.stats.value
    assert dash.start_btn.disabled and dash.stop_btn.disabled and dash.pause_btn.disabled


def test_frames_change_while_training():
    fit = FakeFit(iterations=400, delay=0.005)
    dash = live.watch(fit, headless=False, fps=20)
    until(lambda: count(dash) > 0, what="a first frame")
    first = (count(dash), dash.out_img.value)
    until(lambda: count(dash) > first[0] + 20, what="the counter to move")
    assert dash.out_img.value != first[1]
    dash.stop()
    dash.wait()


def test_counter_keeps_moving_when_image_frames_are_held_back():
    fit = FakeFit(iterations=3000, delay=0.003)
    dash = live.watch(fit, headless=False, fps=20)
    until(lambda: count(dash) > 0, what="a first frame")
    dash.frames.next_at = time.perf_counter() + 60      # as after a very slow frame
    image, shown = dash.out_img.value, count(dash)
    until(lambda: count(dash) > shown + 10, what="the counter to tick between frames")
    assert dash.out_img.value == image                   # no image frame was drawn meanwhile
    dash.stop()
    dash.wait()


def test_pause_holds_the_fit_and_resume_continues():
    fit = FakeFit(iterations=5000, delay=0.002)
    dash = live.watch(fit, headless=False, fps=20)
    until(lambda: fit.iteration > 5)
    dash.toggle_pause()                            # the Pause button
    until(lambda: fit.status == "paused")
    held = fit.iteration
    time.sleep(0.2)
    assert fit.iteration <= held + 1               # at most the iteration under way
    until(lambda: dash.pause_btn.description == "Resume", what="the button to say Resume")
    dash.pause_btn.click()                         # Resume
    until(lambda: fit.iteration > held + 10, what="training to continue")
    assert fit.status == "running"
    dash.stop_btn.click()
    dash.wait()
    assert fit.status == "stopped"


def test_stop_halts_the_fit_and_the_counter():
    fit = FakeFit(iterations=100_000, delay=0.002)
    dash = live.watch(fit, headless=False, fps=20)
    until(lambda: count(dash) > 10)
    dash.stop_btn.click()
    dash.wait(timeout=5)
    assert fit.status == "stopped" and fit.iteration < 100_000
    assert count(dash) == fit.iteration            # final frame after the stop
    shown = count(dash)
    time.sleep(0.2)
    assert count(dash) == shown and "stopped" in dash.stats.value


def test_rerunning_the_cell_closes_the_previous_dashboard():
    first = FakeFit(iterations=100_000)
    d1 = live.watch(first, headless=False)
    until(lambda: first.iteration > 0)
    second = FakeFit(iterations=100_000)
    d2 = live.watch(second, headless=False)        # same kind: replaces d1
    assert first.status == "stopped"              # the old fit is stopped, not left running
    assert d1.status == "closed" and "replaced" in d1.closed_reason
    assert live.active("fit") is d2 and second.status == "running"
    d3 = live.watch(FakeFit(iterations=100_000), headless=False, name="other")
    assert second.status == "running"              # a different name runs side by side
    d4 = live.watch(second, headless=False)        # only the watch() cell ran again: same fit
    assert d2.status == "closed" and second.status == "running"   # detached, the fit goes on
    until(lambda: count(d4) > 0, what="the new dashboard to show the running fit")
    d4.stop(), d3.stop()
    assert d4.wait(5).iterations == second.iteration


def test_an_error_in_the_training_thread_surfaces_in_wait_and_in_the_dashboard():
    fit = FakeFit(iterations=100, fail_at=7)
    dash = live.watch(fit, headless=False)
    with pytest.raises(ValueError, match="boom at iteration 7"):
        dash.wait()
    assert fit.status == "failed"
    until(lambda: "boom at iteration 7" in dash.error.value, what="the error box")
    assert "ValueError" in dash.error.value
    assert "failed" in dash.stats.value


def test_a_drawing_error_is_shown_and_does_not_stop_the_fit(monkeypatch):
    fit = FakeFit(iterations=60)
    dash = live.watch(fit, headless=False, start=False)
    monkeypatch.setattr(dash, "_update_slider", lambda: 1 / 0)
    dash.start()
    dash.wait()
    assert fit.status == "finished"
    assert dash.render_errors and "ZeroDivisionError" in dash.error.value


def test_start_button_starts_an_idle_fit():
    fit = FakeFit(iterations=30)
    dash = live.watch(fit, headless=False, start=False)
    assert fit.status == "idle" and not dash.start_btn.disabled
    dash.start_btn.click()
    dash.wait()
    assert fit.status == "finished"


def test_snapshot_slider_shows_earlier_outputs_during_and_after_training():
    fit = FakeFit(iterations=300, delay=0.003)
    dash = live.watch(fit, headless=False, fps=20)
    until(lambda: len(fit.snapshots) >= 3)
    until(lambda: dash.slider.max >= 2, what="the slider to grow")
    dash.slider.value = 0                          # during training
    assert "iteration <b>1</b>" in dash.snap_label.value
    during = dash.snap_img.value
    dash.wait()
    assert dash.slider.value == 0                  # not dragged back to the newest by new snapshots
    dash.slider.value = dash.slider.max
    assert dash.snap_img.value != during
    assert f"iteration <b>{fit.snapshots[-1].iteration}</b>" in dash.snap_label.value


def test_render_from_the_training_thread_also_works():
    fit = FakeFit(iterations=80)
    dash = live.watch(fit, headless=False, render_in="callback")
    dash.wait()
    assert count(dash) == 80 and dash.frames.frames >= 2


def test_throttle_keeps_drawing_within_its_budget():
    t = core.Throttle(min_interval=0.1, budget=0.02)
    t.spent(0.3)                                   # the first frame pays one-off costs
    assert t.next_at - time.perf_counter() < 0.2
    t.spent(0.01)                                  # a 10 ms frame ...
    assert t.next_at - time.perf_counter() > 0.4   # ... waits ~0.5 s for the next one
    t = core.Throttle(min_interval=0.25, budget=0.5)
    t.spent(0.001), t.spent(0.001)
    assert t.next_at - time.perf_counter() > 0.2   # never faster than min_interval


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
    monkeypatch.setattr(core, "_kernel_shell", lambda: SimpleNamespace(kernel=kernel))
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
    from dip_teach.live.dashboard import residual

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
def test_turns_keep_fits_in_lockstep():
    fits = [FakeFit(iterations=40, delay=0.001 * (k + 1)) for k in range(3)]
    turns = live.Turns(fits)
    gaps = []
    for i, f in enumerate(fits):
        f.add_callback(turns.callback(i))
        f.add_callback(lambda _: gaps.append(max(g.iteration for g in fits) - min(g.iteration for g in fits)))
    for f in fits:
        f.start()
    for f in fits:
        f.wait(10)
    assert max(gaps) <= 2                          # nobody runs ahead
    assert all(f.iteration == 40 for f in fits)


def test_turns_skip_a_stopped_fit():
    fits = [FakeFit(iterations=10_000, delay=0.001) for _ in range(3)]
    turns = live.Turns(fits)
    for i, f in enumerate(fits):
        f.add_callback(turns.callback(i))
        f.start()
    until(lambda: fits[0].iteration > 5)
    fits[1].stop()
    fits[1].wait(5)
    before = fits[0].iteration
    until(lambda: fits[0].iteration > before + 20, what="the others to go on")
    turns.close()
    for f in fits:
        f.stop()
        f.wait(5)


def test_race_targets_have_the_same_pixels_or_none_of_the_structure():
    t = live.race_targets("coffee", size=64, seed=0)
    assert list(t) == ["natural image", "image + noise", "shuffled pixels", "white noise"]
    nat, shuf = t["natural image"], t["shuffled pixels"]
    assert all(v.shape == nat.shape for v in t.values())
    # same colours, rearranged: equal sorted values, very different neighbours
    assert np.allclose(np.sort(nat.reshape(-1, 3), axis=0), np.sort(shuf.reshape(-1, 3), axis=0))
    smooth = lambda a: np.abs(np.diff(a, axis=0)).mean()
    assert smooth(shuf) > 2 * smooth(nat)


def test_race_live_and_headless_with_the_real_engine():
    r = live.race("coffee", size=64, iterations=4, net="tiny", headless=False)
    r.wait()
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


def test_real_fit_stop_and_rerun():
    from dip_teach.fit import Fit, FitConfig

    x = images.load("coffee", size=64)
    op = operators.Denoising(25)
    make = lambda: Fit(op, op.corrupt(x, seed=0), clean=x, config=FitConfig(iterations=10_000, net="tiny"))
    first = make()
    live.watch(first, headless=False)
    until(lambda: first.iteration >= 1, timeout=30)
    second = make()
    d2 = live.watch(second, headless=False)
    assert first.status == "stopped"
    until(lambda: second.iteration >= 1, timeout=30)
    d2.stop_btn.click()
    d2.wait(timeout=30)
    assert second.status == "stopped"


# ----------------------------------------------------------------------- panel
def test_panel_runs_headless_and_live():
    p = live.panel("coffee", sigma=25, preset="tiny", iterations=3, headless=True)
    assert p.dashboard.fit.status == "finished" and p.dashboard.figure is not None
    q = live.panel("coffee", sigma=25, preset="tiny", iterations=10_000, headless=False)
    assert q.dashboard is None                     # live: waits for Run
    q.preset_w.value = "lab"
    from dip_teach import nets
    assert q.lr_w.value == pytest.approx(nets.get_config("lab").lr)     # the preset's own learning rate
    q.preset_w.value = "tiny"
    q.run_btn.click()
    first = q.dashboard
    until(lambda: first.fit.iteration >= 1, timeout=30)
    q.sigma_w.value = 50
    q.run_btn.click()                              # a new run stops the old one
    assert first.fit.status == "stopped" and q.dashboard is not first
    assert q.area.children == (q.dashboard.widget,)
    q.close()
    assert q.dashboard.fit.status == "stopped"


def test_panel_shows_bad_settings_in_the_panel():
    q = live.panel("coffee", preset="tiny", headless=False)
    q.iter_w.value = 5
    q.image_w.options = ["no-such-image", *q.image_w.options]
    q.image_w.value = "no-such-image"
    assert q.run() is None
    assert "no-such-image" in q.error.value
