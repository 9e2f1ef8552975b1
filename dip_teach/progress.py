"""Progress bars for long work: a ``tqdm`` bar, drawn as a widget in a notebook, as text elsewhere.

Used by ``Fit.run(progress=True)``, ``denoiser.train(progress=True)``,
``pretrain.reptile(progress=True)``, the command line and the benchmarks. A loop in a
notebook uses :func:`new_bar` like ``tqdm``::

    from dip_teach.progress import new_bar
    for seed in new_bar(SEEDS, desc="seeds"):
        ...

In a notebook run by a batch executor (nbconvert, nbval, the HTML build: see
:func:`dip_teach.live.core.headless_reason`) bars are switched off.

Outside a notebook the bar goes to stderr, so tables and results on stdout stay clean.
On a terminal it is redrawn 10 times a second; when stderr goes to a file or a pipe,
every 10 s, so a log gets a few lines rather than thousands.
"""
from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Callable, Iterable, TextIO

if TYPE_CHECKING:
    from tqdm import tqdm as Tqdm
    from .fit import Fit


def in_notebook() -> bool:
    """True inside a Jupyter kernel (the test ``tqdm.auto`` makes before drawing a widget)."""
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None else None
    return shell is not None and "IPKernelApp" in shell.config


def new_bar(iterable: Iterable | None = None, total: int | None = None, desc: str = "", unit: str = "it",
            stream: TextIO | None = None, **options) -> "Tqdm":
    """A ``tqdm`` bar: a notebook widget in Jupyter, else text on ``stream`` (default stderr).

    Wrap an ``iterable`` (``for x in new_bar(items): ...``) or give a ``total`` and call
    ``update()``. Extra keyword arguments go to ``tqdm`` (``initial=``, ``disable=``, ...).
    """
    if stream is None and in_notebook():
        from tqdm.auto import tqdm

        from .live.core import is_headless
        # a batch run (nbconvert, nbval, the HTML build) has no one to watch the bar, and a
        # widget saved in a page would show its first state ("0%") forever: no bar there
        options.setdefault("disable", is_headless())
        return tqdm(iterable, total=total, desc=desc, unit=unit, **options)
    from tqdm import tqdm

    stream = stream or sys.stderr
    tty = hasattr(stream, "isatty") and stream.isatty()
    return tqdm(iterable, total=total, desc=desc, unit=unit, file=stream, mininterval=0.1 if tty else 10.0,
                dynamic_ncols=tty, ascii=not tty, **options)


def log_line(log: Callable[[str], None], line: str) -> None:
    """``log(line)`` (``print`` or any logger) without breaking a text bar: bars step aside meanwhile.

    Standard output is flushed at once, so a table piped to a file grows row by row.
    """
    from tqdm import tqdm

    with tqdm.external_write_mode():
        log(line)
        sys.stdout.flush()


class FitBar:
    """A fit callback (see ``Fit.add_callback``): iterations, it/s, time left and the PSNR
    of the averaged output so far (to the clean image, or to the observation without one).

    Parameters
    ----------
    total : int
        The fit's iteration budget.
    initial : int
        Iterations already done (a fit that continues after a stop).
    stream : file, optional
        Where the text bar goes (stderr by default; a notebook draws a widget instead).
    """

    def __init__(self, total: int, initial: int = 0, stream: TextIO | None = None):
        self.bar = new_bar(total=total, desc="DIP", stream=stream, initial=initial)
        self.done = initial

    def __call__(self, fit: "Fit") -> None:       # runs in the training thread after each iteration
        key = "psnr_clean_avg" if fit.clean is not None else "psnr_obs_avg"
        self.bar.set_postfix_str(f"{fit.history[key][-1]:5.2f} dB", refresh=False)
        self.bar.update(fit.iteration - self.done)
        self.done = fit.iteration

    def close(self) -> None:
        self.bar.close()
