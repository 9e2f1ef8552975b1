"""The race of the paper's Figure 2, live: structure is easy to fit, noise is hard.

The same network, from the same random start, fits four targets:

1. a natural image,
2. the same image plus noise,
3. the image with its pixels shuffled (same colours, no structure),
4. white noise.

Nothing in the loss prefers one target over another: all four are "just" images of
the same size. Yet the loss falls fastest for the natural image and slowest for
noise. The network's architecture is the prior: it reproduces structure easily and
resists noise.

>>> r = live.race("astronaut")          # doctest: +SKIP
>>> r.wait(); r.iterations_to(0.01)     # doctest: +SKIP
{'natural image': 42, 'image + noise': 120, 'shuffled pixels': 860, 'white noise': None}

The four fits take one iteration each in turn, in the cell's thread, so they
advance at the same pace without four fits fighting over the CPU cores.
"""
from __future__ import annotations

import copy
import math
import time

import numpy as np

from .. import images, settings
from ..bias import race_targets
from ..fit import Fit, FitConfig, FitLike
from ..operators import Operator
from .core import BlitFigure, LiveView, image_axis, new_figure, png_bytes

THUMB_SIDE = 112
COLOURS = ("tab:green", "tab:blue", "tab:orange", "tab:red")


class Race(LiveView):
    """Live race of several fits of the same network to different targets. See :func:`race`.

    Parameters
    ----------
    targets : dict of str -> array
        Name and image of each target (see :func:`race_targets`).
    config : FitConfig, optional
        Shared settings (same net, same seed, same budget). Default: the mode's net
        and budget, no output averaging (the race is about the raw fit) and no
        blind stopping criterion.
    **kwargs
        ``headless``, ``name``, ``fps``, ``max_overhead``: see :class:`LiveView`.
    """

    kind = "race"

    #: What a curve can show: history key -> (axis label, log scale).
    CURVES = {"loss": ("loss (MSE to the target)", True),
              "psnr_clean": ("PSNR to clean, raw output (dB)", False),
              "psnr_clean_avg": ("PSNR to clean, averaged output (dB)", False)}

    def __init__(self, targets: dict, config: FitConfig | None = None, *, fits: list[FitLike] | None = None,
                 curve: str = "loss", title: str = "The race: one network, four targets", **kwargs):
        if curve not in self.CURVES:
            raise ValueError(f"curve must be one of {', '.join(self.CURVES)}, got {curve!r}")
        if config is None:
            config = FitConfig(ema=0.0, stopping=None)
        self.names = list(targets)
        self.targets = {k: np.asarray(v, dtype=np.float32) for k, v in targets.items()}
        self.curve, self.title = curve, title
        if fits is None:
            fits = [Fit(Operator(), t, config=copy.deepcopy(config)) for t in self.targets.values()]
        elif len(fits) != len(self.names):
            raise ValueError(f"{len(fits)} fits for {len(self.names)} targets")
        self._thumbs_at = self._curves_at = None
        super().__init__(fits, **kwargs)

    # ----------------------------------------------------------------- results
    def losses(self) -> dict[str, float]:
        """The latest loss (mean squared error to the target) of each fit."""
        return {n: (f.history["loss"][-1] if f.history["loss"] else math.nan) for n, f in zip(self.names, self.fits)}

    def iterations_to(self, level: float) -> dict[str, int | None]:
        """For each target, the first iteration whose loss fell below ``level`` (None if never)."""
        out = {}
        for name, fit in zip(self.names, self.fits):
            losses = np.asarray(fit.history["loss"])
            hit = np.nonzero(losses < level)[0]
            out[name] = int(fit.history["iteration"][hit[0]]) if len(hit) else None
        return out

    # ----------------------------------------------------------------- widgets
    def _build(self):
        import ipywidgets as w   # imported here: only live views make widgets (headless runs never load them)

        columns = []
        self.out_imgs, self.labels = [], []
        for name, target, colour in zip(self.names, self.targets.values(), COLOURS):
            tgt = w.Image(value=png_bytes(target, THUMB_SIDE), format="png")
            out = w.Image(format="png")
            out.add_class("dip-race-output")
            label = w.HTML()
            self.out_imgs.append(out)
            self.labels.append(label)
            columns.append(w.VBox([w.HTML(f"<b style='color:{colour.replace('tab:', '')}'>{name}</b>"),
                                   w.HTML("<small>target</small>"), tgt, w.HTML("<small>network output</small>"),
                                   out, label], layout=w.Layout(align_items="center", margin="0 6px")))
        self.curves_img = w.Image(format="png", layout=w.Layout(width="480px", height="auto"))
        self.curves_img.add_class("dip-race-curves")
        self._fig = new_figure(6.0, 3.0)
        self._fig.subplots_adjust(left=0.12, right=0.98, bottom=0.15, top=0.96)
        self._lines = self.loss_lines(self._fig.subplots(), live=True)
        self._blit = BlitFigure(self._fig, self._lines)
        self._tick()
        return w.VBox([w.HTML(f"<b>{self.title}</b>"),
                       w.HBox([self.start_btn, self.pause_btn, self.stop_btn, self.counter],
                              layout=w.Layout(align_items="center")),
                       w.HBox(columns), self.curves_img, self.error])

    def _update(self, final: bool = False) -> None:
        self._check_failures()
        self._tick()
        its = tuple(f.iteration for f in self.fits)
        if its != self._thumbs_at:
            self._thumbs_at = its
            for fit, img in zip(self.fits, self.out_imgs):
                out = fit.latest()
                if out is not None:
                    img.value = png_bytes(out, THUMB_SIDE)
        if its != self._curves_at and (final or self.curve_throttle.due()):
            self._curves_at = its
            t0 = time.perf_counter()
            self.update_lines(self._lines, live=True)
            self.curves_img.value = self._blit.png()
            self.curve_throttle.spent(time.perf_counter() - t0)

    def _tick(self) -> None:
        """The buttons, the counter and each fit's label."""
        self._update_buttons()
        status = self.status
        total = max(f.config.iterations for f in self.fits)
        it = min(f.iteration for f in self.fits)
        extra = f" &middot; closed: {self.closed_reason}" if self.closed_reason else ""
        self.counter.value = (f"<b>iteration <span class='dip-count'>{it}</span> / {total}</b> "
                              f"&middot; <i>{status}</i>{extra}")
        for fit, label in zip(self.fits, self.labels):
            label.value = f"<small>{self._label(fit)} @ {fit.iteration}</small>"

    def _label(self, fit: FitLike) -> str:
        values = fit.history[self.curve]
        if self.curve == "loss":
            return f"loss {values[-1] if values else math.nan:.4f}"
        return f"{values[-1] if values else math.nan:.2f} dB"

    def loss_lines(self, ax, live: bool = False) -> list:
        """One (empty) line per target (the ``curve``: loss on log-log axes, or a PSNR); fill them with
        :meth:`update_lines`."""
        label, log = self.CURVES[self.curve]
        lines = [ax.plot([], [], color=colour, label=name)[0] for name, colour in zip(self.names, COLOURS)]
        ax.set_xscale("log" if log else "linear")
        ax.set_yscale("log" if log else "linear")
        ax.set_xlabel("iteration")
        ax.set_ylabel(label)
        ax.grid(alpha=0.3, which="both")
        ax.legend(fontsize=8, loc="lower left" if log else "lower right")
        ax.set_xlim(1 if log else 0, max(2, max(f.config.iterations for f in self.fits)))
        ax.set_ylim(*((1e-3, 1) if log else (10, 40)))
        return lines

    def update_lines(self, lines, live: bool = False) -> None:
        """Copy every fit's curve into its line; y limits in whole decades (whole 5 dB) when live."""
        log = self.CURVES[self.curve][1]
        lows, highs = [], []
        for line, fit in zip(lines, self.fits):
            n = min(len(fit.history["iteration"]), len(fit.history[self.curve]))
            step = max(1, n // 1500)
            its = np.asarray(fit.history["iteration"][:n:step], dtype=float)
            values = np.asarray(fit.history[self.curve][:n:step], dtype=float)
            line.set_data(its, values)
            good = values[np.isfinite(values) & ((values > 0) if log else True)]
            if len(good):
                lows.append(good.min())
                highs.append(good.max())
        if lows:
            lo, hi = min(lows), max(highs)
            if live and log:      # the axes stay put (fast blitted frames) until a curve leaves its decade
                lo, hi = 10 ** math.floor(math.log10(lo)), 10 ** math.ceil(math.log10(hi))
            elif live:
                lo, hi = 5 * math.floor(lo / 5), 5 * math.ceil(hi / 5 + 1e-9)
            elif log:
                lo, hi = lo / 1.2, hi * 1.2
            else:
                lo, hi = lo - 0.5, hi + 0.5
            lines[0].axes.set_ylim(lo, hi)

    # ----------------------------------------------------------------- headless
    def static_figure(self):
        """Targets, final outputs, and the loss curves."""
        n = len(self.fits)
        fig = new_figure(2.2 * n, 7.0, dpi=80)
        grid = fig.add_gridspec(3, n, height_ratios=[1, 1, 1.6])
        for j, (name, fit) in enumerate(zip(self.names, self.fits)):
            image_axis(fig.add_subplot(grid[0, j]), self.targets[name], name)
            out = fit.latest()
            ax = fig.add_subplot(grid[1, j])
            if out is not None:
                image_axis(ax, out, f"output @ {fit.iteration}")
            ax.set_axis_off()
        self.update_lines(self.loss_lines(fig.add_subplot(grid[2, :])))
        fig.tight_layout()
        return fig


def race(image: str = "astronaut", *, size: int | None = None, sigma: float = 25.0, net=None,
         iterations: int | None = None, lr: float | None = None, seed: int = 0, start: bool = True,
         headless: bool | None = None, name: str | None = None, **kwargs) -> Race:
    """Race one network on four targets (natural image, +noise, shuffled pixels, white noise).

    Live, the four fits train in this cell, one iteration each in turn, until they end
    or Stop is pressed (like :func:`~dip_teach.live.watch`); without a front end the
    same happens and a static figure is shown.

    Parameters
    ----------
    image : str or array
        The natural image (catalogue name, path or array).
    size : int, optional
        Crop side; default ``settings.image_size(128)``, at least 64.
    sigma : float
        Noise of the "image + noise" target (0-255 scale).
    net : str or NetConfig, optional
        Generator preset; default the mode's.
    iterations : int, optional
        Budget per fit; default ``settings.iterations(2000)``.
    lr, seed
        As in :class:`dip_teach.fit.FitConfig`.
    """
    iterations = settings.iterations(2000) if iterations is None else iterations
    config = FitConfig(net=net, iterations=iterations, lr=lr, seed=seed, ema=0.0, stopping=None)
    view = Race(race_targets(image, size=size, sigma=sigma, seed=seed), config, headless=headless, name=name,
                **kwargs)
    return view.launch(start)


def side_by_side(fits: dict[str, FitLike], *, curve: str = "psnr_clean_avg", title: str | None = None, start: bool = True,
                 headless: bool | None = None, name: str | None = None, **kwargs) -> Race:
    """Train up to four prepared fits side by side (one iteration each in turn) and draw one curve of each.

    The race's view, for any fits: notebook 06 watches four denoising fits this way.

    Parameters
    ----------
    fits : dict of str -> Fit
        Name and fit (not run yet); each fit's observation is shown as its "target".
    curve : str
        History key drawn: ``"psnr_clean_avg"`` (default), ``"psnr_clean"`` or ``"loss"``.
    title : str, optional
        Heading of the view.
    start, headless, name, **kwargs
        As in :func:`race`.
    """
    if not 1 <= len(fits) <= len(COLOURS):
        raise ValueError(f"side_by_side shows 1 to {len(COLOURS)} fits, got {len(fits)}")
    targets = {n: images.to_array(f.observation) for n, f in fits.items()}
    view = Race(targets, fits=list(fits.values()), curve=curve, headless=headless, name=name or "side-by-side",
                title=title or f"{len(fits)} fits side by side", **kwargs)
    return view.launch(start)
