"""Live widgets: watch a Deep Image Prior fit learn, while it learns.

Four views, each one call from a notebook:

:func:`watch`
    the fit dashboard: observation, output, residual, clean image, PSNR curves,
    Start / Pause / Stop, and a slider back through the snapshots
    (``spectral=True`` adds the error per frequency band as a heat map);
:func:`race`
    the paper's Figure 2: one network fitting a natural image, the image plus noise,
    shuffled pixels and white noise, side by side;
:func:`side_by_side`
    the race's view for any prepared fits (up to four), with one curve each;
:func:`panel`
    pick image, noise level, network and learning rate, press Run (for workshops).

A live view trains its fits *in the cell that makes it*, in the kernel's main thread,
so a fit runs as fast as in a plain script (one team of torch threads; a second
training thread made it 2.3x slower on 2 cores). The cell ends when the fits finish
or when Stop is pressed, so "Run All" runs the next cells in order, with the best
result so far. While the cell trains, Pause/Resume, Stop and the snapshot slider
answer within a fraction of a second: the widgets' messages go to a kernel subshell
(:mod:`dip_teach.live.clicks`; needs ipykernel >= 7.4, elsewhere the buttons answer
after the cell and the kernel's interrupt button stops the fit). A later cell calls
``view.wait()`` for the result: it returns at once (the fit has ended) and re-raises
an error of the fit. ``watch(fit, start=False)`` leaves the fit for the Start button
(or trains it in ``wait()``); :func:`panel` trains when Run is pressed. Re-running a
cell closes the view it made before.

Without a front end (nbval, nbconvert, a plain script) the same calls run to the end
and leave a static matplotlib figure; see :func:`headless_reason` for how that is
decided and ``DIP_TEACH_HEADLESS=1`` / ``0`` to force it.

The widgets only observe: a fit knows nothing about them (:mod:`dip_teach.fit`). What
they need of a fit is :class:`dip_teach.fit.FitLike`.
"""
from ..progress import HEADLESS_ENV, headless_reason, is_headless
from .core import LiveView, active, close_all
from .dashboard import FitDashboard, watch
from .panel import ParameterPanel, panel
from .race import Race, race, race_targets, side_by_side

__all__ = ["watch", "race", "side_by_side", "panel", "FitDashboard", "Race", "ParameterPanel", "LiveView",
           "race_targets", "is_headless", "headless_reason", "active", "close_all", "HEADLESS_ENV"]
