"""When to stop a DIP fit: the oracle, a fixed budget, and a blind criterion.

A DIP fit first reproduces the image's structure and only later its noise, so its
PSNR to the clean image rises, peaks, then falls while the loss keeps dropping.
Where to stop is the whole game:

``oracle_iteration(history)``
    the peak of the PSNR curve. It needs the clean image, so it exists only in
    experiments; it is the yardstick for the others.
``fixed_budget(n)``
    stop after ``n`` iterations, whatever happens (the paper's choice: e.g. 1800 for
    denoising). Cheap, but the best ``n`` changes from image to image.
``ESWMV(window, patience)``
    the windowed moving variance of Wang et al. (2021): the variance of the last
    ``window`` outputs is lowest when the fit has settled on the image and not yet
    started to chase the noise. Stop once ``patience`` iterations have passed without
    a new minimum, and return the output at the minimum. Needs no clean image.

:func:`compare` shows how far each stops from the oracle peak. :func:`record_variance`
and :func:`fire_point` replay ES-WMV with other windows and patiences on one fit (a sweep
for the price of one fit).

Example
-------
>>> import torch
>>> crit = ESWMV(window=20, patience=50)
>>> # made-up outputs: they settle until iteration 100, then start to flicker (as when noise is fitted)
>>> outputs = [torch.full((1, 3, 8, 8), 1 / t + 0.02 * (t > 100) * (t % 2)) for t in range(1, 401)]
>>> for it, image in enumerate(outputs, 1):
...     if crit.update(it, image):
...         break
>>> crit.best_iteration, crit.fired_at             # the last quiet window; 50 iterations later it fires
(100, 150)
"""
from __future__ import annotations

import math
from typing import Callable, Mapping, Sequence

import torch

from . import settings
from .tables import markdown_table


class ESWMV:
    """Early stopping by windowed moving variance (ES-WMV, Wang et al. 2021).

    ``VAR_t = mean over the last W outputs of ||x - mean(x)||^2 / n_pixels``. The
    criterion remembers the iteration with the lowest ``VAR_t`` and fires (``update``
    returns True) when ``patience`` iterations pass without a lower one. After firing
    it stops tracking, so :attr:`best_iteration` stays the point it named.

    Parameters
    ----------
    window : int, optional
        ``W``, outputs per variance. Default: the paper's 100 scaled by the run mode
        (``settings.iterations(100)``).
    patience : int, optional
        ``P``, iterations without a new minimum before firing. Default: the paper's
        1000 scaled by the run mode.
    """

    def __init__(self, window: int | None = None, patience: int | None = None):
        self.window = int(window) if window is not None else settings.iterations(100)
        self.patience = int(patience) if patience is not None else settings.iterations(1000)
        if self.window < 2 or self.patience < 1:
            raise ValueError(f"window must be >= 2 and patience >= 1, got {self.window} and {self.patience}")
        self.reset()

    def reset(self) -> None:
        """Forget everything seen so far."""
        self._frames: list[torch.Tensor] = []
        self._sum = None            # running sums over the window, float64 to avoid drift
        self._sum_sq = None
        self.variances: list[tuple[int, float]] = []    # (iteration, VAR) once the window is full
        self.best_iteration: int | None = None
        self.best_variance = math.inf
        self.fired_at: int | None = None

    @property
    def fired(self) -> bool:
        return self.fired_at is not None

    def update(self, iteration: int, image: torch.Tensor) -> bool:
        """Feed the output of ``iteration``; return True when the criterion says stop."""
        if self.fired:
            return True
        frame = image.detach().float().clone()     # kept for the window (float32 saves memory)
        x = frame.double()
        if self._sum is None:
            self._sum, self._sum_sq = torch.zeros_like(x), torch.zeros_like(x)
        self._frames.append(frame)
        self._sum += x
        self._sum_sq += x * x
        if len(self._frames) > self.window:
            old = self._frames.pop(0).double()
            self._sum -= old
            self._sum_sq -= old * old
        if len(self._frames) < self.window:
            return False
        mean = self._sum / self.window
        var = float((self._sum_sq / self.window - mean * mean).clamp_min(0).mean())
        self.variances.append((iteration, var))
        if var < self.best_variance:
            self.best_variance, self.best_iteration = var, iteration
        elif iteration - self.best_iteration >= self.patience:
            self.fired_at = iteration
            self._frames.clear()    # free the window's memory
            return True
        return False

    def __repr__(self) -> str:
        return f"ESWMV(window={self.window}, patience={self.patience})"


def record_variance(fit, windows: Sequence[int] | None = None) -> dict[int, ESWMV]:
    """Attach ES-WMVs that never fire to ``fit``: they record whole variance curves, one per window.

    Parameters
    ----------
    fit : dip_teach.fit.Fit
        A fit that has not run yet.
    windows : sequence of int, optional
        The windows ``W`` to record; default the run mode's (``[settings.iterations(100)]``).

    Returns
    -------
    dict
        Window -> :class:`ESWMV`, whose ``variances`` hold ``(iteration, VAR)`` for every
        iteration once its window is full; :func:`fire_point` then says where any
        patience would have stopped. Costs one window of images per entry and a few
        array operations per iteration.
    """
    never = 10**9                       # a patience no fit reaches: the criterion only records
    crits = [ESWMV(window=w, patience=never) for w in windows] if windows else [ESWMV(patience=never)]
    crits = {c.window: c for c in crits}

    def after_iteration(f) -> None:
        out = f.latest()
        if out is not None:
            frame = torch.from_numpy(out)
            for crit in crits.values():
                crit.update(f.iteration, frame)

    fit.add_callback(after_iteration)
    return crits


def fire_point(variances, patience: int) -> tuple[int | None, int | None]:
    """Where ES-WMV with this ``patience`` stops on a recorded variance curve.

    Parameters
    ----------
    variances : list of (iteration, variance)
        ``ESWMV.variances`` of a criterion that never fired (see :func:`record_variance`).
    patience : int
        Iterations without a new minimum before firing.

    Returns
    -------
    (best_iteration, fired_at)
        The iteration it picks (the minimum so far when it fires, else the overall
        minimum) and the iteration it fires at (None if it never would have).
    """
    if patience < 1:
        raise ValueError(f"patience must be >= 1, got {patience}")
    best_it, best_var = None, math.inf
    for it, var in variances:
        if var < best_var:
            best_it, best_var = it, var
        elif it - best_it >= patience:
            return best_it, it
    return best_it, None


# ------------------------------------------------------------- on a history
def _curve(history: Mapping[str, list], key: str | None) -> tuple[list[int], list[float], str]:
    if key is None:
        avg = history.get("psnr_clean_avg", [])
        key = "psnr_clean_avg" if any(math.isfinite(v) for v in avg) else "psnr_clean"
    values = list(history.get(key, []))
    if not values or not any(math.isfinite(v) for v in values):
        raise ValueError(f"history has no finite {key!r} values: the oracle needs the clean image "
                         "(pass clean=... to Fit)")
    return list(history["iteration"]), values, key


def oracle_iteration(history: Mapping[str, list], key: str | None = None) -> int:
    """Iteration where the PSNR to the clean image peaks (``psnr_clean_avg`` when averaging is on)."""
    its, values, _ = _curve(history, key)
    best = max(range(len(values)), key=lambda i: values[i] if math.isfinite(values[i]) else -math.inf)
    return its[best]


def fixed_budget(n: int) -> Callable[[Mapping[str, list]], int]:
    """A criterion that stops after ``n`` iterations (or at the end of a shorter history)."""
    if n < 1:
        raise ValueError(f"a budget must be at least 1 iteration, got {n}")

    def criterion(history: Mapping[str, list]) -> int:
        its = history["iteration"]
        return min(n, its[-1]) if its else n

    criterion.__name__ = f"fixed_budget({n})"
    return criterion


class ComparisonTable(list):
    """A list of row dicts that prints as a Markdown table (and renders in Jupyter)."""

    columns = ("criterion", "iteration", "psnr", "iterations_from_oracle", "db_below_oracle")

    def __str__(self) -> str:
        return markdown_table(self.columns, [[f"{row[c]:.2f}" if isinstance(row[c], float) else row[c]
                                              for c in self.columns] for row in self])

    def _repr_markdown_(self) -> str:
        return str(self)


def compare(history: Mapping[str, list], criteria: Mapping[str, int | Callable | None],
            key: str | None = None) -> ComparisonTable:
    """How far each stopping point is from the oracle peak.

    Parameters
    ----------
    history : dict
        A fit's history (needs the PSNR to the clean image).
    criteria : dict
        Name -> stopping iteration, or a callable ``history -> iteration`` such as
        :func:`fixed_budget`. ``None`` (a criterion that never fired) means the end.
    key : str, optional
        PSNR curve to use; default ``psnr_clean_avg`` when averaging is on.

    Returns
    -------
    ComparisonTable
        One row per criterion, starting with the oracle: iteration, PSNR there,
        iterations from the oracle peak (negative = too early) and dB below the peak.
    """
    its, values, key = _curve(history, key)
    index = {it: i for i, it in enumerate(its)}
    peak = oracle_iteration(history, key)
    rows = ComparisonTable()
    for name, crit in {"oracle": peak, **criteria}.items():
        it = crit(history) if callable(crit) else (its[-1] if crit is None else int(crit))
        if it not in index:  # nearest recorded iteration
            it = min(its, key=lambda j: abs(j - it))
        value = values[index[it]]
        rows.append({"criterion": name, "iteration": it, "psnr": float(value),
                     "iterations_from_oracle": it - peak, "db_below_oracle": float(values[index[peak]] - value)})
    return rows
