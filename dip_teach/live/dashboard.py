"""The fit dashboard: watch one DIP fit learn structure first and noise later.

>>> from dip_teach import live
>>> dash = live.watch(fit)      # doctest: +SKIP
>>> result = dash.wait()        # doctest: +SKIP

``watch`` trains the fit in its own cell, at full speed, while the dashboard shows it;
the cell ends when the fit finishes or Stop is pressed (Pause, Stop and the slider
answer meanwhile). ``wait``, in a later cell, then returns the result at once (and
re-raises an error of the fit).

What it shows, updated a few times a second while the fit trains:

* the observation, the raw output, the averaged output (EMA), the residual
  ``A(output) - observation`` amplified so the noise the network copies becomes
  visible, and the clean image when known;
* PSNR curves against iterations (to the clean image, raw and averaged, and to the
  observation), with the best point and the blind stopping point marked;
* iteration, iterations per second, time left; Start, Pause/Resume, Stop;
* a slider over the snapshots (log-spaced iterations) that works during and after
  training: slide back to "structure only", forward to "noise too";
* optionally (``spectral=True``) a heat map of the error per frequency band.

Without a front end (nbval, nbconvert, a script) :func:`watch` runs the fit to the
end and shows one static figure with the same panels.
"""
from __future__ import annotations

import html
import math
import time

import numpy as np
from matplotlib.lines import Line2D

from .. import nets
from .. import spectral as _spectral
from ..fit import FitLike
from ..images import as_array
from ..metrics import db_from_mse
from ..plots import residual
from .core import BlitFigure, LiveView, axis_limit, format_seconds, image_axis, new_figure, png_bytes, recent_rate

PANEL_SIDE = 128      # images are enlarged (nearest neighbour) to at least this many pixels


class PsnrCurves:
    """PSNR against iterations on one matplotlib axes, with the best and blind stopping points.

    The lines are made once and only their data change at each frame (``set_data``):
    several times cheaper than clearing and re-plotting, which matters when drawing
    runs next to training on a 2-core CPU.
    """

    def __init__(self, ax, fit: FitLike, live: bool = False):
        self.ax, self.fit, self.live = ax, fit, live
        self.has_clean = fit.clean is not None
        line = lambda **kw: ax.plot([], [], **kw)[0]
        self.raw = line(color="tab:blue", lw=0.8, alpha=0.6, label="to clean (raw)")
        self.avg = line(color="tab:blue", lw=1.8, label="to clean (averaged)")
        self.obs = line(color="tab:gray", lw=0.8, ls="--", label="to observation (raw)")
        self.best = line(marker="*", ms=12, color="tab:orange", ls="none", label="best")
        self.stop = ax.axvline(0, color="tab:red", ls=":", lw=1.5, label="blind stop", visible=False)
        self.marker = ax.axvline(0, color="k", lw=0.6, alpha=0.5, visible=False)
        self.note = ax.text(0.01, 0.97, "", transform=ax.transAxes, va="top", fontsize=8)
        if not self.has_clean:
            for artist in (self.raw, self.avg, self.best):
                artist.set_visible(False)
        stop_proxy = Line2D([], [], color="tab:red", ls=":", lw=1.5, label="blind stop")
        shown = [a for a in (self.raw, self.avg, self.obs, self.best) if a.get_visible()] + [stop_proxy]
        ax.legend(handles=shown, fontsize=7, loc="lower right")
        ax.set_xlabel("iteration")
        ax.set_ylabel("PSNR (dB)")
        ax.grid(alpha=0.3)
        ax.set_xlim(0, max(1, fit.config.iterations))
        ax.set_ylim(0, 1)

    @property
    def artists(self) -> list:
        """The artists that change from frame to frame (see :class:`~dip_teach.live.core.BlitFigure`)."""
        return [self.raw, self.avg, self.obs, self.best, self.stop, self.marker, self.note]

    def update(self, marker: int | None = None) -> None:
        """Copy the fit's history into the lines; ``marker`` draws a thin line at that iteration."""
        fit, ax = self.fit, self.ax
        h = fit.get_history()
        its = np.asarray(h["iteration"], dtype=float)
        step = max(1, len(its) // 1500)      # enough points for a smooth curve, fast to draw
        its = its[::step]
        self.obs.set_data(its, np.asarray(h["psnr_obs"], dtype=float)[::step])
        notes = []
        if self.has_clean:
            self.raw.set_data(its, np.asarray(h["psnr_clean"], dtype=float)[::step])
            self.avg.set_data(its, np.asarray(h["psnr_clean_avg"], dtype=float)[::step])
            best = fit.best
            if best is not None and math.isfinite(best.psnr):
                self.best.set_data([best.iteration], [best.psnr])
                notes.append(f"best {best.psnr:.2f} dB @ {best.iteration}")
        stop_it = fit.criterion_fired_at
        self.stop.set_visible(bool(stop_it))
        if stop_it:
            self.stop.set_xdata([stop_it, stop_it])
            notes.append(f"blind stop @ {stop_it}")
        self.marker.set_visible(bool(marker))
        if marker:
            self.marker.set_xdata([marker, marker])
        self.note.set_text("   ".join(notes))
        last = int(its[-1]) if len(its) else 1
        total = fit.config.iterations
        ax.set_xlim(0, axis_limit(last, max(total, last)) if self.live else max(total, last))
        values = np.concatenate([np.asarray(l.get_ydata(), dtype=float) for l in (self.raw, self.avg, self.obs)
                                 if l.get_visible()] or [np.zeros(0)])
        values = values[np.isfinite(values)]
        if len(values):
            lo, hi = float(values.min()), float(values.max())
            if self.live:   # whole steps of 4 dB: the axes (the blitted background) rarely change
                lo, hi = 4 * math.floor(lo / 4), 4 * math.ceil(hi / 4 + 0.1)
            else:
                lo, hi = lo - 0.5, hi + 0.5
            ax.set_ylim(lo, hi)


class FitDashboard(LiveView):
    """Live view of one :class:`dip_teach.fit.Fit`. Use :func:`watch` to make one.

    Parameters
    ----------
    fit : Fit
        The fit to watch; an idle one trains when the view starts.
    spectral : bool
        Also record and show the error per frequency band (a heat map).
    residual_gain : float
        Amplification of the residual panel.
    title : str, optional
        Heading; default describes the operator, the image size and the network.
    **kwargs
        ``headless``, ``name``, ``fps``, ``max_overhead``, ``curve_interval``: see :class:`LiveView`.
    """

    kind = "fit"

    def __init__(self, fit: FitLike, *, spectral: bool = False, residual_gain: float = 4.0, title: str | None = None,
                 **kwargs):
        self.fit = fit
        self.residual_gain = float(residual_gain)
        self.title = title or _describe(fit)
        self.track = _spectral.track(fit) if spectral else None
        self._frame_at = self._curves_at = -1
        self._snapshot_count = 0
        super().__init__([fit], **kwargs)

    # ----------------------------------------------------------------- widgets
    def _build(self):
        import ipywidgets as w   # imported here: only live views make widgets (headless runs never load them)

        def panel(caption, cls):
            img = w.Image(format="png", layout=w.Layout(width=f"{PANEL_SIDE + 32}px", height="auto"))
            img.add_class(cls)
            box = w.VBox([w.HTML(f"<small><b>{caption}</b></small>"), img],
                         layout=w.Layout(align_items="center", margin="0 4px"))
            return img, box

        fit = self.fit
        self._clean = as_array(fit.clean, clip=True) if fit.clean is not None else None
        self.obs_img, obs_box = panel("observation", "dip-observation")
        self.out_img, out_box = panel("output (raw)", "dip-output")
        self.avg_img, avg_box = panel("output (averaged)", "dip-averaged")
        self.res_img, res_box = panel(f"residual x{self.residual_gain:g}", "dip-residual")
        averaging = fit.config.ema > 0
        boxes = [obs_box, out_box, avg_box, res_box] if averaging else [obs_box, out_box, res_box]
        self.obs_img.value = png_bytes(as_array(fit.observation, clip=True), PANEL_SIDE)
        if self._clean is not None:
            clean_img, clean_box = panel("clean (unknown to the fit)", "dip-clean")
            clean_img.value = png_bytes(self._clean, PANEL_SIDE)
            boxes.append(clean_box)

        self.stats = w.HTML(layout=w.Layout(margin="0 0 0 12px"))
        self.stats.add_class("dip-stats")

        self.curves_img = w.Image(format="png", layout=w.Layout(width="480px", height="auto"))
        self.curves_img.add_class("dip-curves")
        psnr_fig = new_figure(6.0, 2.6)
        psnr_fig.subplots_adjust(left=0.1, right=0.98, bottom=0.17, top=0.96)
        self._psnr_plot = PsnrCurves(psnr_fig.subplots(), fit, live=True)
        self._psnr_blit = BlitFigure(psnr_fig, self._psnr_plot.artists)
        plots = [self.curves_img]
        if self.track is not None:
            self.spectral_img = w.Image(format="png", layout=w.Layout(width="368px", height="auto"))
            self.spectral_img.add_class("dip-spectral")
            self._spec_fig = new_figure(4.6, 2.6)
            self._spec_fig.subplots_adjust(left=0.14, right=0.97, bottom=0.17, top=0.9)
            self._spec = _spectral.BandErrorMap(self._spec_fig.subplots(), self.track, xmax=fit.config.iterations)
            self._spec_blit = BlitFigure(self._spec_fig, [self._spec.image])
            plots.append(self.spectral_img)

        self.slider = w.IntSlider(value=0, min=0, max=0, description="snapshot", continuous_update=True,
                                  layout=w.Layout(width="420px"))
        self.slider.add_class("dip-snapshot-slider")
        self.snap_label = w.HTML()
        self.snap_label.add_class("dip-snapshot-label")
        self.snap_img, snap_box = panel("snapshot (raw)", "dip-snapshot-image")
        self.snap_avg_img, snap_avg_box = panel("snapshot (averaged)", "dip-snapshot-averaged")
        self._follow = True            # the slider follows the newest snapshot until the student moves it
        self._wanted_snapshot: int | None = None    # a snapshot chosen during training, shown at the next tick
        self.slider.observe(self._on_slider, names="value")
        self._update_buttons()
        self._set_counter()
        return w.VBox([
            w.HTML(f"<b>{html.escape(self.title)}</b>"),
            w.HBox([self.start_btn, self.pause_btn, self.stop_btn, self.counter, self.stats],
                   layout=w.Layout(align_items="center")),
            w.HBox(boxes),
            w.HBox(plots),
            w.HBox([self.slider, self.snap_label], layout=w.Layout(align_items="center")),
            w.HBox([snap_box, snap_avg_box] if averaging else [snap_box]),
            self.error,
        ])

    # ----------------------------------------------------------------- drawing
    def _tick(self) -> None:
        if self._wanted_snapshot is not None:       # the slider moved during training (see _on_slider)
            i, self._wanted_snapshot = self._wanted_snapshot, None
            self._show_snapshot(i)
        self._check_failures()
        self._update_buttons()
        self._set_counter()

    def _update(self, final: bool = False) -> None:
        fit = self.fit
        it = fit.iteration
        self._tick()
        if it != self._frame_at:
            self._frame_at = it
            out, avg = fit.latest(), fit.latest_averaged()
            if out is not None:
                self.out_img.value = png_bytes(out, PANEL_SIDE)
                self.res_img.value = png_bytes(residual(fit, out, self.residual_gain), PANEL_SIDE)
            if avg is not None and fit.config.ema > 0:
                self.avg_img.value = png_bytes(avg, PANEL_SIDE)
            self._update_slider()
        if it != self._curves_at and (final or self.curve_throttle.due()):
            self._curves_at = it
            self._draw_plots()

    def _draw_plots(self) -> None:
        t0 = time.perf_counter()
        marker = None
        snaps = self.fit.snapshots
        if snaps and not self._follow and self.slider.value < len(snaps):
            marker = snaps[self.slider.value].iteration
        self._psnr_plot.update(marker=marker)
        self.curves_img.value = self._psnr_blit.png()
        if self.track is not None:
            self._spec.update()
            self.spectral_img.value = self._spec_blit.png()
        self.curve_throttle.spent(time.perf_counter() - t0)

    def _set_counter(self) -> None:
        fit = self.fit
        total = fit.config.iterations
        self.counter.value = f"<b>iteration <span class='dip-count'>{fit.iteration}</span> / {total}</b>"
        rate = recent_rate(fit)
        left = (total - fit.iteration) / rate if rate and math.isfinite(rate) and rate > 0 else math.nan
        status = fit.status if self.closed_reason is None else f"closed: {self.closed_reason}"
        parts = [f"{rate:.1f} it/s" if math.isfinite(rate) else "- it/s",
                 f"{format_seconds(left)} left" if fit.status == "running" else "",
                 f"<i>{status}</i>"]
        best = fit.best
        if best is not None and math.isfinite(best.psnr):
            parts.insert(2, f"best {best.psnr:.2f} dB @ {best.iteration}")
        self.stats.value = " &middot; ".join(p for p in parts if p)

    def _update_slider(self) -> None:
        n = len(self.fit.snapshots)
        if n != self._snapshot_count:
            self._snapshot_count = n
            follow = self._follow
            self.slider.max = max(0, n - 1)
            if follow:
                if self.slider.value == n - 1:
                    self._show_snapshot(n - 1)
                else:
                    self.slider.value = n - 1   # fires _on_slider, which shows it
                self._follow = True
            elif n == 1:
                self._show_snapshot(0)

    def _on_slider(self, change) -> None:
        # runs in the kernel's subshell when the student drags during training (then it
        # only notes the choice, and the training thread shows it at its next tick), in
        # the main thread after it, and in the training thread when it follows the newest snapshot
        self._follow = change["new"] >= self.slider.max
        if self._training_elsewhere():
            self._wanted_snapshot = change["new"]
            self._next_tick = 0.0
            return
        with self._lock:
            self._show_snapshot(change["new"])

    def _show_snapshot(self, i: int) -> None:
        snaps = self.fit.snapshots
        if not 0 <= i < len(snaps):
            return
        s = snaps[i]
        self.snap_img.value = png_bytes(s.image, PANEL_SIDE)
        if self.fit.config.ema > 0:
            self.snap_avg_img.value = png_bytes(s.averaged, PANEL_SIDE)
        text = f"iteration <b>{s.iteration}</b>"
        if self._clean is not None:
            text += f" &middot; PSNR raw {db_from_mse(float(np.mean((s.image - self._clean) ** 2))):.2f} dB"
        self.snap_label.value = text

    # ----------------------------------------------------------------- headless
    def static_figure(self):
        """One figure with the final panels, the curves and a strip of snapshots."""
        fit = self.fit
        out = fit.latest()
        avg = fit.latest_averaged() if fit.config.ema > 0 else None
        panels = [("observation", as_array(fit.observation, clip=True))]
        if out is not None:
            panels.append((f"output @ {fit.iteration}", out))
            if avg is not None:
                panels.append(("averaged", avg))
            panels.append((f"residual x{self.residual_gain:g}", residual(fit, out, self.residual_gain)))
        if fit.clean is not None:
            panels.append(("clean", as_array(fit.clean, clip=True)))
        snaps = list(fit.snapshots)
        if len(snaps) > 6:
            snaps = [snaps[int(round(i))] for i in np.linspace(0, len(snaps) - 1, 6)]
        cols = max(len(panels), len(snaps), 3)
        rows = 3 if snaps else 2
        fig = new_figure(1.9 * cols, 1.9 * rows + 1.2, dpi=80)
        grid = fig.add_gridspec(rows, cols, height_ratios=[1, 1.3] + ([1] if snaps else []))
        for j, (name, img) in enumerate(panels):
            image_axis(fig.add_subplot(grid[0, j]), img, name)
        ax = fig.add_subplot(grid[1, : cols if self.track is None else max(1, cols - cols // 2)])
        PsnrCurves(ax, fit).update()
        if self.track is not None:
            _spectral.plot(self.track, ax=fig.add_subplot(grid[1, max(1, cols - cols // 2):]))
        for j, s in enumerate(snaps):
            image_axis(fig.add_subplot(grid[2, j]), s.image, f"snapshot @ {s.iteration}")
        fig.suptitle(self.title, fontsize=10)
        fig.tight_layout()
        return fig


def _describe(fit: FitLike) -> str:
    h, w = fit.observation.shape[-2:]
    return f"DIP fit \u00b7 {fit.operator!r} \u00b7 {h}x{w} \u00b7 net {preset_name(fit.config.net)}"


def preset_name(net: str | nets.NetConfig) -> str:
    """The preset name of a network config (``"lab"``), else its kind."""
    if isinstance(net, str):
        return net
    for name, cfg in nets.PRESETS.items():
        if cfg == net:
            return name
    return net.kind


def watch(fit: FitLike, *, spectral: bool = False, start: bool = True, headless: bool | None = None,
          name: str | None = None, **kwargs) -> FitDashboard:
    """Show a live dashboard of ``fit`` and train it in this cell; return the dashboard.

    The fit trains in the kernel's main thread, as fast as in a script, and the cell
    ends when it finishes or when Stop is pressed; Pause/Resume, Stop and the snapshot
    slider answer within a fraction of a second meanwhile, also while "Run All" has
    queued the next cells (they run after, with the best result so far). The kernel's
    interrupt button stops the fit too. ``dash.wait()`` in a later cell returns the
    result at once (and re-raises an error of the fit, which this call also raises).
    Running the cell again closes the previous dashboard.

    Without a front end (nbval, nbconvert, a plain script) it runs the fit to the end
    the same way and shows a static figure instead.

    Parameters
    ----------
    fit : Fit
        An idle fit.
    spectral : bool
        Add a heat map of the error per frequency band.
    start : bool
        Train at once (default); otherwise the cell ends at once and the Start button
        (or a later ``dash.wait()``) trains the fit.
    headless : bool, optional
        Force or forbid the static mode (auto-detected when None).
    name : str, optional
        Registry key: dashboards with different names may run side by side.
    **kwargs
        More options of :class:`FitDashboard` (``fps``, ``max_overhead``, ``residual_gain``, ...).
    """
    dash = FitDashboard(fit, spectral=spectral, headless=headless, name=name, **kwargs)
    return dash.launch(start)
