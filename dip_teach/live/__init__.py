"""Live widgets: watch a Deep Image Prior fit learn, while it learns.

Four views, each one call from a notebook:

:func:`watch`
    the fit dashboard: observation, output, residual, clean image, PSNR curves,
    Start / Pause / Stop, and a slider back through the snapshots
    (``spectral=True`` adds the error per frequency band as a heat map);
:func:`race`
    the paper's Figure 2: one network fitting a natural image, the image plus noise,
    shuffled pixels and white noise, side by side;
:func:`panel`
    pick image, noise level, network and learning rate, press Run (for workshops).

Every view returns at once: the fit trains in a background thread and the kernel
stays free, so the buttons answer within a fraction of a second. A later cell that
needs the result calls ``view.wait()``, which also re-raises any error from the
training thread. Re-running a cell closes the view it made before and stops its fit.

Without a front end (nbval, nbconvert, a plain script) the same calls run to the end
and leave a static matplotlib figure; see :func:`headless_reason` for how that is
decided and ``DIP_TEACH_HEADLESS=1`` / ``0`` to force it.

The widgets only observe: a fit knows nothing about them (:mod:`dip_teach.fit`).
"""
from .core import HEADLESS_ENV, LiveView, active, close_all, headless_reason, is_headless
from .dashboard import FitDashboard, watch
from .panel import ParameterPanel, panel
from .race import Race, Turns, race, race_targets

__all__ = ["watch", "race", "panel", "FitDashboard", "Race", "ParameterPanel", "LiveView", "Turns",
           "race_targets", "is_headless", "headless_reason", "active", "close_all", "HEADLESS_ENV"]
