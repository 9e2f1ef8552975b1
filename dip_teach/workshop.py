"""The workshop app: pick an image and a task, press Run, watch the fit learn, press Stop.

``make demo`` serves ``demo/workshop.ipynb`` with Voila as a page without code, for a
speaker on a projector; the notebook's one cell is::

    from dip_teach import workshop
    app = workshop.app()     # a name, not a bare call: a bare call would show the app twice

It is the parameter panel of :mod:`dip_teach.live.panel` with a choice of task
(denoising, inpainting, super-resolution) and its one knob (noise level, fraction
of missing pixels, zoom factor); every Run builds a fresh fit and shows the live
dashboard, with Pause and Stop, under the controls.

A visitor can ask for at most :func:`max_iterations` per run (20000 at full scale,
scaled by the run mode), so one click cannot hold the machine for hours. The app has no token and
runs one kernel per visitor: serve it on 127.0.0.1 only (``make demo`` does).
"""
from __future__ import annotations

from . import images, operators, settings
from .fit import Fit, FitConfig
from .live.core import show
from .live.panel import STYLE, ParameterPanel

#: task -> (label of its knob, options of the knob, default)
KNOBS = {
    "denoise": ("noise sigma", [5, 10, 15, 25, 35, 50, 75], 25),
    "inpaint": ("% missing", [10, 30, 50, 70, 90], 50),
    "superres": ("zoom factor", [2, 4, 8], 4),
}


#: The most iterations one run may ask for, at full scale (4x the paper's longest budget).
MAX_ITERATIONS_FULL = 20_000


def max_iterations() -> int:
    """The most iterations one run of the app may ask for in this run mode."""
    return settings.iterations(MAX_ITERATIONS_FULL)


def corrupt(task: str, clean, knob: float, seed: int = 0):
    """``(operator, observation)`` for ``task`` applied to the clean image.

    ``knob`` is the noise sigma (0-255 scale), the percentage of missing pixels, or the
    zoom factor, as in :data:`KNOBS`.
    """
    if task == "denoise":
        op = operators.Denoising(sigma=float(knob))
        return op, op.corrupt(clean, seed=seed)
    if task == "inpaint":
        op = operators.Inpainting(operators.pixel_mask(clean.shape[:2], missing=knob / 100, seed=seed))
        return op, op.corrupt(clean)
    if task == "superres":
        op = operators.Downsampling(int(knob))
        return op, op.corrupt(clean)
    raise ValueError(f"unknown task {task!r}; choose one of {', '.join(KNOBS)}")


class WorkshopPanel(ParameterPanel):
    """The parameter panel with a task to choose (see the module docstring)."""

    kind = "workshop"
    heading = "<h2>Deep Image Prior: restore a picture with an untrained network</h2>"

    def __init__(self, image: str = "astronaut", task: str = "denoise", iterations: int | None = None, **kwargs):
        if task not in KNOBS:
            raise ValueError(f"unknown task {task!r}; choose one of {', '.join(KNOBS)}")
        self.task = task
        self.knobs = {name: default for name, (_, _, default) in KNOBS.items()}
        if iterations is None:
            iterations = settings.iterations(operators.TASKS[task].paper_iterations)
        super().__init__(image, iterations=iterations, **kwargs)

    def _setting_widgets(self, w) -> list:
        """The image, the task with its one knob, and the number of iterations."""
        self.task_w = w.ToggleButtons(options=list(KNOBS), value=self.task, description="task", style=STYLE)
        self.knob_w = {name: w.SelectionSlider(options=opts, value=default, description=label, style=STYLE)
                       for name, (label, opts, default) in KNOBS.items()}
        self.iter_w = w.BoundedIntText(value=self.values["iterations"], min=1, max=max_iterations(),
                                       description="iterations", style=STYLE)
        self.knob_box = w.Box([self.knob_w[self.task]])
        self.task_w.observe(self._on_task, names="value")
        return [self._image_widget(w), self.task_w, self.knob_box, self.iter_w]

    def _on_task(self, change) -> None:
        """A new task brings its own knob and the paper's budget for it, scaled by the run mode."""
        self.knob_box.children = [self.knob_w[change["new"]]]
        self.iter_w.value = settings.iterations(operators.TASKS[change["new"]].paper_iterations)

    def _read(self) -> dict:
        v = dict(self.values, task=self.task, knob=self.knobs[self.task])
        if self.widget is not None:
            task = self.task_w.value
            v.update(image=self.image_w.value, task=task, knob=self.knob_w[task].value,
                     iterations=int(self.iter_w.value))
        return v

    def make_fit(self, values: dict | None = None) -> Fit:
        """The fit the current settings describe (not started)."""
        v = self._read() if values is None else values
        if v["iterations"] > max_iterations():
            raise ValueError(f"at most {max_iterations()} iterations per run in this app")
        clean = images.load(v["image"], size=self.size)
        op, y = corrupt(v["task"], clean, v["knob"], seed=self.seed)
        config = FitConfig(net=v["preset"], lr=v["lr"], iterations=v["iterations"], seed=self.seed)
        return Fit(op, y, clean=clean, config=config)


def app(image: str = "astronaut", task: str = "denoise", *, headless: bool | None = False,
        **kwargs) -> WorkshopPanel:
    """Show the workshop app. Live by default: Voila, its one user, is always a front end."""
    p = WorkshopPanel(image, task, headless=headless, **kwargs)
    if p.headless:
        p.run()
    show(p)
    return p
