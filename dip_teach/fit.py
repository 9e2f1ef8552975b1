"""The Deep Image Prior fit: one loop for every forward operator.

Given an observation ``y = A(x) + n`` the fit looks for an image of the form
``f_theta(z)``: a generator network ``f`` with weights ``theta`` applied to a fixed
random input ``z``. It minimises the data term only::

    theta* = argmin_theta  || A(f_theta(z)) - y ||^2

There is no explicit prior: the network's architecture, and stopping early, do the
work. Read :func:`dip_loop` first; it is the whole algorithm:

1. perturb the input ``z`` a little (the paper's input-noise regularisation);
2. run the network: the current image ``f(z)``;
3. the data term through the operator ``A``;
4. one Adam step on the weights;
5. an exponential moving average (EMA) of the outputs, which is smoother than
   any single output and peaks higher.

:class:`Fit` runs that loop and keeps the books: history, snapshots, best-so-far,
recovery from divergence, and pause, resume and stop from any thread, so a notebook's
buttons can steer a fit that trains in the cell (see :mod:`dip_teach.live`).
:class:`FitLike` is what the live views need of a fit.

Example
-------
>>> from dip_teach import images, operators
>>> from dip_teach.fit import Fit, FitConfig
>>> x = images.load("coffee", size=64)
>>> op = operators.Denoising(sigma=25)
>>> y = op.corrupt(x, seed=0)
>>> fit = Fit(op, y, clean=x, config=FitConfig(iterations=100))
>>> result = fit.run()                                   # doctest: +SKIP
>>> result.psnr_best > result.psnr_final - 1             # doctest: +SKIP
True
"""
from __future__ import annotations

import copy
import math
import threading
import time
from dataclasses import dataclass, field, asdict
from typing import Callable, Iterator, NamedTuple, Protocol, runtime_checkable

import numpy as np
import torch

from . import nets, settings
from .images import ImageError, as_tensor, to_array
from .metrics import db_from_mse, psnr
from .progress import FitBar
from .stopping import ESWMV


@dataclass
class FitConfig:
    """Settings of one DIP fit. ``None`` means "ask the run mode" (see :mod:`dip_teach.settings`).

    Attributes
    ----------
    net : str or NetConfig, optional
        Generator preset (:data:`dip_teach.nets.PRESETS`); default: the mode's net.
    iterations : int, optional
        Number of Adam steps; default ``settings.iterations(3000)``, the paper's budget scaled.
    lr : float, optional
        Adam learning rate; default: the preset's.
    input : str
        ``"noise"`` (the paper's) or ``"meshgrid"`` (2 channels, ``input_channels`` ignored).
    input_channels : int
        Channels of ``z`` (32 in the paper).
    reg_noise_std : float, optional
        Standard deviation of the noise added to ``z`` at every step (1/30 in the paper; 0 = off);
        default: the preset's for the operator's task (:meth:`dip_teach.nets.NetConfig.input_noise`:
        1/30 for ``paper``; ``lab`` denoises with more).
    ema : float, optional
        Weight of the exponential moving average of the outputs (0.99 in the paper; 0 = off).
        With averaging on, the averaged output is the fit's result. Default: the preset's
        averaging span for the task and image size (:meth:`dip_teach.nets.NetConfig.ema_span`:
        the paper's 100 iterations; ``lab`` denoises images of 256 px and more with 200),
        scaled by the run mode, ``1 - 1 / settings.iterations(span)`` (0.99 for the paper's
        span in ``full`` mode), so a short fit is not dominated by its early outputs.
    snapshots : int, optional
        Number of log-spaced snapshots to keep; default: the mode's.
    seed : int
        Seeds the weights, ``z`` and the input noise: same seed, same fit (on a CPU).
    device : str, optional
        Default :func:`dip_teach.settings.get_device`.
    stopping : ESWMV or None
        Blind stopping criterion watched during the fit (it does not end the fit
        unless ``stop_early``). A fresh copy is used per fit.
    stop_early : bool
        End the fit when the criterion fires (default False: run the whole budget,
        so the curves show what happens after).
    divergence_factor : float
        A loss more than this many times the last good loss counts as divergence
        (3.16 = a 5 dB drop of PSNR to the observation, the paper code's test).
    checkpoint_every : int
        Iterations between copies of the last good state (weights + optimiser), the
        state a diverged fit falls back to.
    channels_last : bool
        Run convolutions in channels-last memory layout (faster on CPUs; see the benchmark).
    precision : str, optional
        ``"fp32"`` or ``"bf16"`` (the network's forward pass under bfloat16 autocast; loss,
        output averaging and PSNR stay in fp32). Default: :func:`dip_teach.settings.precision`
        for the device.
    """

    net: str | nets.NetConfig | None = None
    iterations: int | None = None
    lr: float | None = None
    input: str = "noise"
    input_channels: int = 32
    reg_noise_std: float | None = None
    ema: float | None = None
    snapshots: int | None = None
    seed: int = 0
    device: str | None = None
    stopping: ESWMV | None = field(default_factory=ESWMV)
    stop_early: bool = False
    divergence_factor: float = 3.16
    checkpoint_every: int = 20
    channels_last: bool = True
    precision: str | None = None

    def resolved(self, task: str | None = None, side: int | None = None) -> "FitConfig":
        """A copy with every ``None`` replaced by the run mode's (or, for ``task``, the preset's) value.

        ``task`` is the operator's ``name`` and ``side`` the observation's shorter side in pixels;
        the input noise may depend on the task, the output averaging on both.
        """
        c = copy.copy(self)
        c.net = nets.get_config(c.net)
        c.iterations = settings.iterations(3000) if c.iterations is None else int(c.iterations)
        c.lr = c.net.lr if c.lr is None else float(c.lr)
        c.reg_noise_std = c.net.input_noise(task) if c.reg_noise_std is None else float(c.reg_noise_std)
        c.ema = 1 - 1 / settings.iterations(c.net.ema_span(task, side)) if c.ema is None else float(c.ema)
        c.snapshots = settings.get_mode().snapshots if c.snapshots is None else int(c.snapshots)
        c.device = str(settings.get_device() if c.device is None else torch.device(c.device))
        if c.precision is not None and c.precision not in settings.PRECISIONS:
            raise ValueError(f"precision must be one of {', '.join(settings.PRECISIONS)}, got {c.precision!r}")
        if c.iterations < 1:
            raise ValueError(f"iterations must be at least 1, got {c.iterations}")
        if not (math.isfinite(c.lr) and c.lr > 0):
            raise ValueError(f"lr must be a positive finite number (the presets use 0.01), got {c.lr}")
        if not 0 <= c.ema < 1:
            raise ValueError(f"ema is a weight in [0, 1), got {c.ema}")
        return c

    def to_dict(self) -> dict:
        """JSON-friendly description (for reports)."""
        d = {k: v for k, v in self.__dict__.items() if k not in ("net", "stopping")}
        d["net"] = asdict(self.net) if isinstance(self.net, nets.NetConfig) else self.net
        d["stopping"] = repr(self.stopping) if self.stopping is not None else None
        return d


@dataclass
class Snapshot:
    """The fit's output at one iteration: raw and averaged, ``(H, W, C)`` arrays."""

    iteration: int
    image: np.ndarray
    averaged: np.ndarray


@dataclass
class Best:
    """The best output seen so far (PSNR to the clean image, or the blind criterion's pick)."""

    iteration: int
    psnr: float
    image: np.ndarray
    seconds: float = math.nan


@dataclass
class FitResult:
    """What a fit leaves behind. PSNRs are of the presented output (averaged when ``ema > 0``)
    to the clean image, ``nan`` without one. Images are ``(H, W, C)`` arrays.

    ``iter_picked`` is the blind stopping criterion's pick (the iteration of the lowest
    variance it saw; None without a criterion) and ``psnr_picked`` the PSNR there; the
    iteration where the criterion *fired* is :attr:`Fit.criterion_fired_at`, later.
    """

    image: np.ndarray
    best_image: np.ndarray
    iter_best: int
    psnr_best: float
    psnr_final: float
    iter_picked: int | None
    psnr_picked: float
    iterations: int
    seconds: float
    seconds_best: float
    history: dict
    diverged: int


#: What a fit records at every iteration; each key is a list in ``fit.history``.
HISTORY_KEYS = ("iteration", "loss", "psnr_clean", "psnr_clean_avg", "psnr_obs", "psnr_obs_avg", "seconds")


def new_history() -> dict[str, list]:
    """An empty history: one list per key of :data:`HISTORY_KEYS`."""
    return {key: [] for key in HISTORY_KEYS}


def append_row(history: dict[str, list], **row) -> None:
    """Append one iteration's values to ``history``, by name: every key of the history, once."""
    if row.keys() != history.keys():
        raise KeyError(f"a history row needs exactly {', '.join(history)}; got {', '.join(row)}")
    for key, value in row.items():
        history[key].append(value)


def log_spaced(n: int, count: int) -> list[int]:
    """``count`` iterations from 1 to ``n``, evenly spaced on a log scale (early ones dense)."""
    if count <= 0:
        return []
    return sorted({int(round(v)) for v in np.geomspace(1, n, count)})


def _adam(params, lr: float, device: torch.device) -> torch.optim.Adam:
    """Adam; the fused kernel (one call for all weights) is ~20% faster for small nets on a CPU."""
    try:
        return torch.optim.Adam(params, lr=lr, fused=device.type in ("cpu", "cuda"))
    except (RuntimeError, TypeError):  # older torch or an unsupported device
        return torch.optim.Adam(params, lr=lr)


# ----------------------------------------------------------------- the algorithm
class Step(NamedTuple):
    """What one iteration of :func:`dip_loop` yields."""

    output: torch.Tensor            # the network's image before the update (detached)
    averaged: torch.Tensor | None   # the moving average of the outputs (the output itself when ema = 0)
    loss: float                     # the data term
    updated: bool                   # False: the loss was rejected, the weights did not move


def dip_loop(net, z, operator, observation, optimizer, *, reg_noise_std: float = 1 / 30, ema: float = 0.99,
             noise: torch.Generator | None = None, averaged: torch.Tensor | None = None,
             healthy: Callable[[float], bool] = math.isfinite,
             prior: Callable[[torch.Tensor], torch.Tensor] | None = None,
             autocast: torch.dtype | None = None) -> Iterator[Step]:
    """The Deep Image Prior: fit the weights of ``net`` so that ``operator(net(z))`` matches ``observation``.

    A generator: every ``next()`` is one iteration, and it never ends by itself (the
    caller decides how many iterations: ``itertools.islice(dip_loop(...), 1000)``).
    ``noise`` seeds the input noise; ``averaged`` continues an earlier average; a loss
    that ``healthy`` rejects (NaN, or a sudden jump) moves nothing, and the caller
    restores a good state (:class:`Fit` does). ``prior(output)``, when given, is added to
    the data term (the paper has none; notebook 10's DeepRED has one). ``autocast=torch.bfloat16``
    runs the network in bfloat16 where the hardware has it (faster); the image it returns,
    the loss and the average stay in fp32.
    """
    while True:
        # 1. perturb the fixed input: a little noise on z each step regularises the fit
        z_in = z
        if reg_noise_std > 0:
            z_in = z + reg_noise_std * torch.randn(z.shape, generator=noise, device=z.device)
        # 2. the generator's current image
        with torch.autocast(z.device.type, dtype=autocast, enabled=autocast is not None):
            out = net(z_in)
        out = out.float()       # a no-op in fp32; after bf16 the loss and average stay exact
        # 3. the data term: how far A(image) is from the observation (no prior term in the paper)
        loss = operator.loss(out, observation)
        if prior is not None:
            loss = loss + prior(out)
        value = loss.item()
        if not healthy(value):
            yield Step(out.detach(), averaged, value, updated=False)
            continue
        # 4. one Adam step on the weights; z itself never changes
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        # 5. exponential moving average of the outputs (smoother, peaks higher)
        out = out.detach()
        if averaged is None or ema == 0:
            averaged = out
        else:
            averaged = averaged.mul(ema).add_(out, alpha=1 - ema)
        yield Step(out, averaged, value, updated=True)


# ------------------------------------------------------------------ the contract
@runtime_checkable
class FitLike(Protocol):
    """What a live view (:mod:`dip_teach.live`) and :func:`dip_teach.spectral.track` need of a fit.

    :class:`Fit` is one; a test's fake fit is another. ``status`` is one of ``"idle"``,
    ``"running"``, ``"paused"``, ``"stopped"``, ``"finished"``, ``"failed"`` (then
    ``error`` holds the exception). ``history`` maps each key of :data:`HISTORY_KEYS` to
    a list; ``snapshots`` and ``best`` hold :class:`Snapshot` and :class:`Best` (or
    objects with the same fields).
    """

    config: FitConfig
    operator: object
    observation: torch.Tensor
    clean: torch.Tensor | None
    status: str
    error: BaseException | None
    iteration: int
    history: dict[str, list]
    snapshots: list
    best: Best | None
    criterion_fired_at: int | None

    @property
    def output_size(self) -> tuple[int, int]: ...

    @property
    def result(self) -> FitResult | None: ...

    def add_callback(self, fn: Callable[[FitLike], None]) -> None: ...

    def steps(self) -> Iterator[int]: ...

    def pause(self) -> None: ...

    def resume(self) -> None: ...

    def stop(self) -> None: ...

    def latest(self) -> np.ndarray | None: ...

    def latest_averaged(self) -> np.ndarray | None: ...

    def get_history(self) -> dict[str, list]: ...


# ------------------------------------------------------------------------ the fit
class Fit:
    """A Deep Image Prior fit of one observation: :func:`dip_loop` with its books kept.

    Parameters
    ----------
    operator : dip_teach.operators.Operator
        The forward model ``A`` (Denoising, Inpainting, Downsampling, ...).
    observation : tensor (1, C, H, W) or array (H, W, C)
        The measured image ``y``.
    clean : tensor or array, optional
        The clean image, for PSNR curves and the oracle (experiments only).
    config : FitConfig, optional
        Settings; defaults follow the run mode.
    prior : callable, optional
        An explicit prior term ``prior(output) -> tensor`` added to the data term in every
        training step (e.g. :class:`dip_teach.red.Pull`); none by default, as in the paper.

    The fit trains in the thread that calls :meth:`run` (or :meth:`steps`); :meth:`pause`,
    :meth:`resume` and :meth:`stop` may be called from any thread (a live view's buttons).
    """

    def __init__(self, operator, observation, clean=None, config: FitConfig | None = None,
                 prior: Callable[[torch.Tensor], torch.Tensor] | None = None):
        self.prior = prior
        observation = as_tensor(observation, "observation")
        self.config = (config or FitConfig()).resolved(task=getattr(operator, "name", None),
                                                       side=min(observation.shape[-2:]))
        c = self.config
        self.device = torch.device(c.device)
        self.operator = operator
        self.observation = observation.to(self.device)
        self.clean = None if clean is None else as_tensor(clean, "clean image").to(self.device)
        operator.check(self.observation)
        height, width = self.output_size
        if self.clean is not None and self.clean.shape[-2:] != (height, width):
            raise ImageError(f"the clean image is {tuple(self.clean.shape[-2:])} but the fit makes "
                             f"{(height, width)} images for this operator")
        m = c.net.size_multiple
        if height % m or width % m:
            raise ImageError(f"the image is {height}x{width}; the {c.net.scales}-scale network needs sides "
                             f"divisible by {m}. Crop it with dip_teach.images.prepare(img, size=...)")
        if min(height, width) < c.net.min_side:
            raise ImageError(f"the image is {height}x{width}; the {c.net.scales}-scale network needs at least "
                             f"{c.net.min_side} pixels a side. Use a larger image or size={c.net.min_side}")
        channels = self.observation.shape[1]

        # seeded, and without touching the global random state (other code may use it)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(c.seed)
            in_ch = 2 if c.input == "meshgrid" else c.input_channels
            self.net = nets.build(c.net, in_channels=in_ch, out_channels=channels).to(self.device)
        zh, zw = nets.input_shape(c.net, height, width)
        self.z = nets.make_input(c.input, in_ch, zh, zw, seed=c.seed).to(self.device)
        if c.channels_last and self.device.type == "cpu":
            self.net = self.net.to(memory_format=torch.channels_last)
            self.z = self.z.contiguous(memory_format=torch.channels_last)
        if c.precision is None:      # bf16 pays only for a big enough network (settings.BF16_MIN_GMAC)
            maybe = settings.precision(self.device) == "bf16"      # count MACs only when it matters
            c.precision = settings.precision(self.device, gmac=self._gmac() if maybe else None)
        self.optimizer = _adam(self.net.parameters(), c.lr, self.device)
        self._noise_gen = torch.Generator(device=self.device).manual_seed(c.seed + 1)
        self.stopping = copy.deepcopy(c.stopping)   # fresh state per fit

        # control: the status is the one record of a pause; _control wakes a paused loop
        self.status = "idle"
        self.error: BaseException | None = None
        self._stop_requested = False
        self._control = threading.Condition()
        # the books
        self.lock = threading.Lock()                # history, snapshots and outputs are read from other threads
        self.iteration = 0
        self.history = new_history()
        self.snapshots: list[Snapshot] = []
        self._snapshot_at = set(log_spaced(c.iterations, c.snapshots))
        self.best: Best | None = None
        self.criterion_fired_at: int | None = None  # where the blind criterion fired (its pick is earlier)
        self.diverged = 0
        self._out: torch.Tensor | None = None       # latest raw output
        self._avg: torch.Tensor | None = None       # EMA of the outputs (the output itself when ema = 0)
        self._blind_pick: Best | None = None        # output at the criterion's current minimum
        self._good_state = None
        self._last_good_loss = math.inf
        self._callbacks: list[Callable[[Fit], None]] = []
        self._seconds = 0.0
        self._paused_seconds = 0.0

    # ------------------------------------------------------------ helpers
    @property
    def output_size(self) -> tuple[int, int]:
        """Size of the images the fit makes: the observation's, or larger for super-resolution."""
        h, w = self.observation.shape[-2:]
        if hasattr(self.operator, "output_size"):
            return tuple(self.operator.output_size((h, w)))
        return h, w

    def add_callback(self, fn: Callable[[Fit], None]) -> None:
        """Call ``fn(fit)`` in the training thread after every iteration (keep it cheap)."""
        self._callbacks.append(fn)

    def presented(self) -> torch.Tensor | None:
        """The output the kit presents as its result: the average when ``ema > 0``."""
        return self._avg if self.config.ema > 0 else self._out

    # ------------------------------------------------------- pause, resume, stop
    def pause(self) -> None:
        """Pause after the current iteration (the loop waits; call from another thread)."""
        with self._control:
            if self.status == "running":
                self.status = "paused"

    def resume(self) -> None:
        """Continue a paused fit."""
        with self._control:
            if self.status == "paused":
                self.status = "running"
            self._control.notify_all()

    def stop(self) -> None:
        """End the fit after the current iteration; history and best result are kept."""
        with self._control:
            self._stop_requested = True
            self._control.notify_all()          # wake a paused loop so it can see the stop

    def _pause_or_stop(self) -> bool:
        """The gate the loop passes before each iteration: wait while paused; True means stop."""
        with self._control:
            if self.status == "paused" and not self._stop_requested:
                paused_at = time.perf_counter()
                self._control.wait_for(lambda: self.status != "paused" or self._stop_requested)
                self._paused_seconds += time.perf_counter() - paused_at
            return self._stop_requested

    def _gmac(self) -> float:
        """Billions of multiply-accumulates of the network's forward pass on ``z``."""
        return sum(nets.conv_macs(self.net, torch.zeros_like(self.z)).values()) / 1e9

    # ----------------------------------------------------- divergence guard
    def _healthy(self, loss: float) -> bool:
        """A finite loss not far above the last good one (Adam sometimes blows up)."""
        return math.isfinite(loss) and loss <= self.config.divergence_factor * self._last_good_loss

    def _save_good_state(self) -> None:
        self._good_state = (copy.deepcopy(self.net.state_dict()), copy.deepcopy(self.optimizer.state_dict()),
                            self._last_good_loss)

    def _restore_good_state(self) -> None:
        weights, optim, loss = self._good_state
        self.net.load_state_dict(weights)
        self.optimizer.load_state_dict(optim)
        self._last_good_loss = loss     # judge the next step against the restored state's loss
        self.diverged += 1

    # ------------------------------------------------------------ the loop
    def run(self, progress: bool = False) -> FitResult:
        """Run the fit to its budget (or until stopped) in this thread; return the result.

        Calling it again after a stop continues where the fit left off. A Ctrl-C (the
        kernel's interrupt) stops the fit and is raised. With ``progress=True`` a bar
        shows the iterations and the PSNR so far (a widget in a notebook, text on stderr
        elsewhere; see :mod:`dip_teach.progress`).
        """
        self._stop_requested = False
        bar = FitBar(self.config.iterations, initial=self.iteration) if progress else None
        if bar is not None:
            self.add_callback(bar)
        try:
            for _ in self.steps():
                pass
        finally:                                     # also on an error or Ctrl-C
            if bar is not None:
                self._callbacks.remove(bar)
                bar.close()
        return self.result

    def steps(self) -> Iterator[int]:
        """Train in this thread, one iteration per ``next()``: a generator of iteration numbers.

        It ends when the budget is spent (status ``"finished"``), on :meth:`stop` or the
        blind criterion with ``stop_early`` (``"stopped"``), or on an error (``"failed"``,
        re-raised). A Ctrl-C (the kernel's interrupt) counts as a stop and is re-raised.
        Several fits can take turns in one thread by calling ``next()`` on each in
        turn; that is how a live race runs its four fits without extra threads.
        """
        c = self.config
        self.status, self.error = "running", None
        start = time.perf_counter() - self._seconds
        self._paused_seconds = 0.0
        if self._good_state is None:
            self._save_good_state()
        loop = dip_loop(self.net, self.z, self.operator, self.observation, self.optimizer,
                        reg_noise_std=c.reg_noise_std, ema=c.ema, noise=self._noise_gen, averaged=self._avg,
                        healthy=self._healthy, prior=self.prior,
                        autocast=torch.bfloat16 if c.precision == "bf16" else None)
        failures = 0
        try:
            while self.iteration < c.iterations:
                if self._pause_or_stop():
                    self.status = "stopped"
                    break
                step = next(loop)
                if not step.updated:
                    failures += 1
                    if failures > 10:
                        raise FloatingPointError(f"the fit diverged 10 times in a row at iteration "
                                                 f"{self.iteration}; try a smaller lr (now {c.lr})")
                    self._restore_good_state()
                    continue
                failures = 0
                self.iteration += 1
                self._last_good_loss = step.loss
                if self.iteration % c.checkpoint_every == 0:
                    self._save_good_state()
                self._seconds = time.perf_counter() - start - self._paused_seconds
                self._record(step)
                for fn in self._callbacks:
                    fn(self)
                if c.stop_early and self.criterion_fired_at is not None:
                    self.status = "stopped"     # the blind criterion fired
                    break
                yield self.iteration
            else:
                self.status = "finished"
        except (KeyboardInterrupt, GeneratorExit):
            self.status = "stopped"             # interrupted or abandoned: what was learnt is kept
            raise
        except BaseException as err:
            self.status, self.error = "failed", err
            raise
        finally:
            self._finish_best()

    def _record(self, step: Step) -> None:
        """History, snapshots, best-so-far and the blind criterion, after one iteration."""
        c, it = self.config, self.iteration
        out, avg = step.output, step.averaged
        with torch.inference_mode():
            obs_avg = db_from_mse(float(self.operator.loss(avg, self.observation)))
            clean = self.clean
            p_raw = psnr(out, clean) if clean is not None else math.nan
            p_avg = psnr(avg, clean) if clean is not None else math.nan
        shown = p_avg if c.ema > 0 else p_raw
        with self.lock:
            self._out, self._avg = out, avg
            append_row(self.history, iteration=it, loss=step.loss, psnr_clean=p_raw, psnr_clean_avg=p_avg,
                       psnr_obs=db_from_mse(step.loss), psnr_obs_avg=obs_avg, seconds=self._seconds)
            if it in self._snapshot_at or it == c.iterations:
                if not self.snapshots or self.snapshots[-1].iteration != it:
                    self.snapshots.append(Snapshot(it, to_array(out), to_array(avg)))
            if clean is not None and (self.best is None or shown > self.best.psnr):
                self.best = Best(it, shown, to_array(self.presented()), self._seconds)
        if self.stopping is not None and self.criterion_fired_at is None:
            fired = self.stopping.update(it, out)
            if self.stopping.best_iteration == it:     # a new minimum of the variance
                self._blind_pick = Best(it, shown, to_array(self.presented()), self._seconds)
            if fired:
                self.criterion_fired_at = it
                if clean is None:
                    with self.lock:
                        self.best = self._blind_pick

    def _finish_best(self) -> None:
        """Without a clean image and no criterion verdict, the best is the blind pick or the last output."""
        if self.best is None and self.iteration > 0:
            pick = self._blind_pick
            if pick is None:
                pick = Best(self.iteration, math.nan, to_array(self.presented()), self._seconds)
            with self.lock:
                self.best = pick

    # ------------------------------------------------------------- reading
    def latest(self) -> np.ndarray | None:
        """The most recent raw output, ``(H, W, C)`` array (None before the first iteration)."""
        with self.lock:
            return None if self._out is None else to_array(self._out)

    def latest_averaged(self) -> np.ndarray | None:
        """The most recent averaged (EMA) output, ``(H, W, C)`` array."""
        with self.lock:
            return None if self._avg is None else to_array(self._avg)

    def get_history(self) -> dict[str, list]:
        """A copy of the history, safe to use while the fit trains (from a button's thread, say)."""
        with self.lock:
            return {k: list(v) for k, v in self.history.items()}

    @property
    def seconds(self) -> float:
        """Training time so far (pauses excluded)."""
        return self._seconds

    @property
    def result(self) -> FitResult | None:
        """The result so far (available at any time after the first iteration)."""
        if self.iteration == 0:
            return None
        history = self.get_history()
        key = "psnr_clean_avg" if self.config.ema > 0 else "psnr_clean"
        best = self.best or self._blind_pick or Best(self.iteration, math.nan, self.latest_averaged(), self._seconds)
        iter_picked = self.stopping.best_iteration if self.stopping is not None else None
        psnr_picked = history[key][iter_picked - 1] if iter_picked else math.nan
        return FitResult(
            image=to_array(self.presented()), best_image=best.image, iter_best=best.iteration,
            psnr_best=best.psnr, psnr_final=history[key][-1], iter_picked=iter_picked,
            psnr_picked=psnr_picked, iterations=self.iteration, seconds=self._seconds,
            seconds_best=best.seconds, history=history, diverged=self.diverged)

    def __repr__(self) -> str:
        return (f"Fit({self.operator!r}, {self.status}, iteration {self.iteration}/{self.config.iterations}, "
                f"net={self.config.net.kind}{list(self.config.net.up)})")


def dip(operator, observation, clean=None, **config) -> FitResult:
    """Run a DIP fit in one call: ``dip(op, y, clean, iterations=500)``; keyword args go to FitConfig."""
    return Fit(operator, observation, clean, FitConfig(**config)).run()
