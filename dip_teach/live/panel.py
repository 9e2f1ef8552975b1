"""A parameter panel for workshops: pick image, noise, network and learning rate, press Run.

>>> live.panel()          # doctest: +SKIP

Each Run builds a fresh denoising fit and a :class:`~dip_teach.live.dashboard.FitDashboard`
under the panel, and trains it in the kernel's main thread (the cell that made the
panel returns at once; the click runs the fit). A Run while a fit trains stops that
fit, and the new settings train next. Without a front end the panel runs once with
its initial values and shows the static figure.

:class:`ParameterPanel` is extended through two hooks: :meth:`~ParameterPanel._setting_widgets`
(the controls above Run) and :meth:`~ParameterPanel.make_fit` (the fit they describe);
the workshop app (:mod:`dip_teach.workshop`) adds a choice of task that way.
"""
from __future__ import annotations

import threading

from .. import images, nets, settings
from ..fit import Fit, FitConfig, FitLike, FitResult
from ..operators import Denoising
from . import clicks
from ..progress import is_headless
from .core import error_html, note_html, register, show, unregister
from .dashboard import FitDashboard

#: Widths of the labels left of the panel's controls.
STYLE = {"description_width": "110px"}


class ParameterPanel:
    """Widgets for the settings of one denoising fit, and a Run button. See :func:`panel`."""

    kind = "panel"
    #: The panel's heading (HTML).
    heading = "<b>Deep Image Prior: denoise a picture of your choice</b>"

    def __init__(self, image: str = "astronaut", sigma: float = 25.0, preset: str | None = None,
                 lr: float | None = None, iterations: int | None = None, size: int | None = None,
                 seed: int = 0, headless: bool | None = None, name: str | None = None, spectral: bool = False):
        self.headless = is_headless(headless)
        self.key = name or self.kind
        self.size = settings.image_size() if size is None else int(size)
        self.seed = int(seed)
        self.spectral = spectral
        self.dashboard: FitDashboard | None = None
        preset = preset or settings.get_mode().net
        self.values = {"image": image, "sigma": float(sigma), "preset": preset,
                       "lr": float(lr) if lr is not None else nets.get_config(preset).lr,
                       "iterations": int(iterations) if iterations is not None else settings.iterations(3000)}
        self.widget = None
        self.error = None                                # the message box (live)
        self._trainer: threading.Thread | None = None    # the thread training a run now
        self._again = False                              # Run was pressed during a run
        register(self)
        if not self.headless:
            self.widget = self._build()
            clicks.route(self.widget)

    @property
    def fits(self) -> list[FitLike]:
        """The fit of the current run (none before the first Run)."""
        return [] if self.dashboard is None else [self.dashboard.fit]

    # ----------------------------------------------------------------- widgets
    def _build(self):
        import ipywidgets as w   # imported here: only live panels make widgets (headless runs never load them)

        self.run_btn = w.Button(description="Run", icon="play", button_style="success")
        self.run_btn.add_class("dip-run")
        self.run_btn.on_click(lambda _: self.run())
        self.error = w.HTML()
        self.error.add_class("dip-error")
        self.area = w.VBox()
        controls = w.VBox([*self._setting_widgets(w), self.run_btn])
        return w.VBox([w.HTML(self.heading), controls, self.error, self.area])

    def _image_widget(self, w):
        """The image dropdown: the catalogue, and the panel's own image first when it is not in it."""
        names = images.catalogue_names()
        image = self.values["image"]
        self.image_w = w.Dropdown(options=names if image in names else [image, *names], value=image,
                                  description="image", style=STYLE)
        return self.image_w

    def _setting_widgets(self, w) -> list:
        """Hook: the controls above Run (``w`` is :mod:`ipywidgets`); :meth:`_read` reads them back."""
        v = self.values
        self.sigma_w = w.IntSlider(value=int(v["sigma"]), min=0, max=75, step=5, description="noise sigma",
                                   style=STYLE)
        self.preset_w = w.Dropdown(options=list(nets.PRESETS), value=v["preset"], description="network",
                                   style=STYLE)
        self.lr_w = w.FloatLogSlider(value=v["lr"], base=10, min=-4, max=-0.5, step=0.1,
                                     description="learning rate", readout_format=".4f", style=STYLE)
        self.iter_w = w.BoundedIntText(value=v["iterations"], min=1, max=100_000, description="iterations",
                                       style=STYLE)
        # a new preset brings its own default learning rate
        self.preset_w.observe(lambda ch: setattr(self.lr_w, "value", nets.get_config(ch["new"]).lr), names="value")
        return [self._image_widget(w), self.sigma_w, self.preset_w, self.lr_w, self.iter_w]

    def _read(self) -> dict:
        """The settings: the widgets' values live, the initial values headless."""
        if self.widget is None:
            return dict(self.values)
        return {"image": self.image_w.value, "sigma": float(self.sigma_w.value), "preset": self.preset_w.value,
                "lr": float(self.lr_w.value), "iterations": int(self.iter_w.value)}

    def make_fit(self, values: dict | None = None) -> Fit:
        """Hook: the fit the current settings describe (not started)."""
        v = self._read() if values is None else values
        clean = images.load(v["image"], size=self.size)
        op = Denoising(sigma=v["sigma"])
        noisy = op.corrupt(clean, seed=self.seed)
        config = FitConfig(net=v["preset"], lr=v["lr"], iterations=v["iterations"], seed=self.seed)
        return Fit(op, noisy, clean=clean, config=config)

    # --------------------------------------------------------------------- runs
    def run(self) -> FitDashboard | None:
        """Build a fit from the settings and watch it (the Run button); returns its dashboard.

        Live, the fit trains in the calling thread until it ends. Pressed while a fit
        trains (the click arrives in another thread), Run stops that fit and the
        thread that trains it starts the new settings next.
        """
        if self._trainer is not None and self._trainer is not threading.current_thread():
            self._again = True
            if self.dashboard is not None:
                self.dashboard.stop()
            return self.dashboard
        if clicks.busy_elsewhere():
            self.error.value = note_html("Another live fit is training in a cell; press Run once it has ended.")
            return self.dashboard
        self._trainer = threading.current_thread()
        try:
            while True:
                self._again = False
                dash = self._run_once()
                if not self._again:
                    return dash
        finally:
            self._trainer = None

    def _run_once(self) -> FitDashboard | None:
        try:
            fit = self.make_fit()
        except Exception as err:          # a bad setting: say so in the panel, not in a log
            if self.widget is None:
                raise
            self.error.value = error_html(err, "Could not set up the fit")
            return None
        if self.widget is not None:
            self.error.value = ""
        # same registry key every time: the previous Run's dashboard is closed, its fit stopped
        self.dashboard = FitDashboard(fit, headless=self.headless, name=f"{self.key}/fit", spectral=self.spectral)
        if self.headless:
            self.dashboard.run()
        else:
            self.area.children = [self.dashboard.widget]
            self.dashboard.start()
        return self.dashboard

    def wait(self) -> FitResult:
        """The current run's result (see :meth:`FitDashboard.wait`)."""
        if self.dashboard is None:
            raise RuntimeError("nothing runs yet: press Run (or call run()) first")
        return self.dashboard.wait()

    def close(self, reason: str = "closed", stop_fits: bool = True) -> None:
        """Close the current dashboard (stops its fit)."""
        if self.dashboard is not None:
            self.dashboard.close(reason, stop_fits)
        unregister(self)

    def _ipython_display_(self) -> None:
        from IPython.display import display   # imported here: IPython calls this method, so it is loaded

        if self.headless:
            if self.dashboard is not None:
                self.dashboard._ipython_display_()
        else:
            display(self.widget)


def panel(image: str = "astronaut", sigma: float = 25.0, preset: str | None = None, lr: float | None = None,
          iterations: int | None = None, *, headless: bool | None = None, **kwargs) -> ParameterPanel:
    """Show a parameter panel (image, noise level, network preset, learning rate, Run).

    Without a front end it runs once with these values and shows the static figure.
    """
    p = ParameterPanel(image, sigma, preset, lr, iterations, headless=headless, **kwargs)
    if p.headless:
        p.run()
    show(p)
    return p
