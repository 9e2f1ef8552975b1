"""Progress bars for long work, and where the kit runs: a Jupyter kernel with a front end, or not.

Used by ``Fit.run(progress=True)``, ``denoiser.train(progress=True)``,
``pretrain.reptile(progress=True)``, the command line and the benchmarks. A loop in a
notebook uses :func:`new_bar` like ``tqdm``::

    from dip_teach.progress import new_bar
    for seed in new_bar(SEEDS, desc="seeds"):
        ...

In a notebook run by a batch executor (nbconvert, nbval, the HTML build: see
:func:`headless_reason`) bars are switched off.

Outside a notebook the bar goes to stderr, so tables and results on stdout stay clean.
On a terminal it is redrawn 10 times a second; when stderr goes to a file or a pipe,
every 10 s, so a log gets a few lines rather than thousands.

The questions "am I in a Jupyter kernel?" (:func:`in_kernel`) and "does someone watch
this kernel's widgets?" (:func:`headless_reason`) are answered here, once, for the bars
and for the live views (:mod:`dip_teach.live`).
"""
from __future__ import annotations

import os
import sys
from typing import Callable, Iterable, TextIO

from tqdm import tqdm

#: ``DIP_TEACH_HEADLESS=1`` forces the static mode (no widgets), ``0`` the live one.
HEADLESS_ENV = "DIP_TEACH_HEADLESS"


# --------------------------------------------------------------- where we run
def ipython_shell():
    """The running IPython shell (a Jupyter kernel's or a terminal's), else None."""
    ipython = sys.modules.get("IPython")     # not imported means not running (and importing it is slow)
    return ipython.get_ipython() if ipython is not None else None


def kernel_shell():
    """The IPython shell of the Jupyter kernel we run in, else None (a script, a terminal IPython)."""
    shell = ipython_shell()
    return shell if shell is not None and hasattr(shell, "kernel") else None


def in_kernel() -> bool:
    """True inside a Jupyter kernel (a notebook, Voila, nbval, nbconvert), where widgets can be made."""
    return kernel_shell() is not None


def headless_reason() -> tuple[bool, str]:
    """Decide whether live widgets can be seen here; return ``(headless, why)``.

    In order:

    1. ``DIP_TEACH_HEADLESS=1`` (or ``0``) in the environment decides;
    2. no Jupyter kernel (a plain script, terminal IPython): headless;
    3. the running cell was sent by a notebook front end (JupyterLab and Notebook 7
       attach metadata such as ``cellId`` to every execute request): live;
    4. inside pytest (nbval): headless;
    5. a kernel started by a Jupyter server (``JPY_SESSION_NAME``), or in Colab: live;
    6. anything else (nbconvert, papermill and other batch runners send bare requests;
       front ends we cannot recognise): headless, the mode that works everywhere.
    """
    env = os.environ.get(HEADLESS_ENV, "").strip().lower()
    if env in ("1", "true", "yes"):
        return True, f"${HEADLESS_ENV}={env}"
    if env in ("0", "false", "no"):
        return False, f"${HEADLESS_ENV}={env}"
    shell = kernel_shell()
    if shell is None:
        return True, "not running in a Jupyter kernel"
    try:
        metadata = shell.kernel.get_parent().get("metadata") or {}
    except Exception:  # an older ipykernel without get_parent(): fall through to the other signs
        metadata = {}
    if metadata:
        return False, "the cell was run from a notebook front end"
    if "PYTEST_CURRENT_TEST" in os.environ:
        return True, "running under pytest (nbval)"
    if "JPY_SESSION_NAME" in os.environ:
        return False, "kernel started by a Jupyter server"
    if "google.colab" in sys.modules:
        return False, "Colab front end"
    # the safe default: a blocking run and a static figure work everywhere
    return True, ("kernel run by a batch executor (nbconvert, papermill) or an unknown front end; "
                  f"set {HEADLESS_ENV}=0 for live widgets")


def is_headless(headless: bool | None = None) -> bool:
    """``headless`` if given, else :func:`headless_reason`'s verdict."""
    return bool(headless) if headless is not None else headless_reason()[0]


# ---------------------------------------------------------------------- bars
def new_bar(iterable: Iterable | None = None, total: int | None = None, desc: str = "", unit: str = "it",
            stream: TextIO | None = None, **options) -> tqdm:
    """A ``tqdm`` bar: a notebook widget in Jupyter, else text on ``stream`` (default stderr).

    Wrap an ``iterable`` (``for x in new_bar(items): ...``) or give a ``total`` and call
    ``update()``. Extra keyword arguments go to ``tqdm`` (``initial=``, ``disable=``, ...).
    """
    if stream is None and in_kernel():
        from tqdm.auto import tqdm as auto_tqdm   # imported here: it loads IPython and ipywidgets (kernel only)

        # a batch run (nbconvert, nbval, the HTML build) has no one to watch the bar, and a
        # widget saved in a page would show its first state ("0%") forever: no bar there
        options.setdefault("disable", is_headless())
        return auto_tqdm(iterable, total=total, desc=desc, unit=unit, **options)
    stream = stream or sys.stderr
    tty = hasattr(stream, "isatty") and stream.isatty()
    return tqdm(iterable, total=total, desc=desc, unit=unit, file=stream, mininterval=0.1 if tty else 10.0,
                dynamic_ncols=tty, ascii=not tty, **options)


def log_line(log: Callable[[str], None], line: str) -> None:
    """``log(line)`` (``print`` or any logger) without breaking a text bar: bars step aside meanwhile.

    Standard output is flushed at once, so a table piped to a file grows row by row.
    """
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

    def __call__(self, fit) -> None:     # a dip_teach.fit.Fit (not imported: fit imports this module)
        """Called by the fit in its training thread after each iteration."""
        key = "psnr_clean_avg" if fit.clean is not None else "psnr_obs_avg"
        self.bar.set_postfix_str(f"{fit.history[key][-1]:5.2f} dB", refresh=False)
        self.bar.update(fit.iteration - self.done)
        self.done = fit.iteration

    def close(self) -> None:
        self.bar.close()
