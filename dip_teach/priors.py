"""Handcrafted priors written as energies, minimised by the same loop DIP will use.

A restoration is the image ``x`` that minimises an energy (the MAP estimate)::

    E(x) = data_term(A(x), y) + weight * R(x)

The data term comes from the forward operator (:mod:`dip_teach.operators`), so one
loop serves denoising, inpainting and super-resolution. ``R`` is the prior, the
regulariser that says what images look like:

``"none"``      no prior at all (``weight`` is ignored): the prior-free fit;
``"tikhonov"``  smooth gradients, ``mean(|grad x|^2)``: blurs edges and noise alike;
``"tv"``        total variation, ``mean(|grad x|)``: flat regions, sharp edges, staircases;
``"wavelet"``   sparsity, ``mean(|Haar detail coefficients|)``: few large coefficients.

Every regulariser is a mean over pixels and channels, and the data term is a mean
squared error, so a weight means the same thing at every image size.

:func:`restore` minimises ``E`` with Adam on the pixels: the DIP loop of notebook 04
with the network replaced by the image itself. :func:`best_weight` sweeps the weight
and keeps the best PSNR (an oracle: it needs the clean image). The last section wraps
scikit-image's solvers (Chambolle's TV, wavelet shrinkage, non-local means), which we
compare against; ``tests/test_priors.py`` checks that at each one's best weight our TV
and wavelet minimisers reach a PSNR within 0.5 dB of scikit-image's.

Example
-------
>>> from dip_teach import images, operators, priors
>>> clean = images.to_tensor(images.load("cartoon", size=64))
>>> op = operators.Denoising(25)
>>> y = op.corrupt(clean, seed=0)
>>> result = priors.restore(y, op, "tv", weight=0.2, clean=clean)
>>> result.psnr > 25          # the noisy input is at about 20 dB
True
"""
from __future__ import annotations

import math
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import torch

from . import metrics
from .images import ImageError, as_array, as_tensor, to_array
from .operators import Denoising, Downsampling, Inpainting, Operator, upsample_bicubic
from .tables import markdown_table

#: The smoothing of |.| in TV and the wavelet L1 (on the [0, 1] intensity scale):
#: small enough not to blur an edge, large enough that Adam's steps stay well behaved.
EPS = 1e-3


# --------------------------------------------------------------------------- priors
def image_gradient(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Forward differences ``(dx, dy)`` with a zero difference past the last row/column.

    This is the discrete gradient of Chambolle (2004) and scikit-image's
    ``denoise_tv_chambolle``; both outputs have the shape of ``x``.
    """
    _check_tensor(x, "x")
    dx = torch.zeros_like(x)
    dy = torch.zeros_like(x)
    dx[..., :, :-1] = x[..., :, 1:] - x[..., :, :-1]
    dy[..., :-1, :] = x[..., 1:, :] - x[..., :-1, :]
    return dx, dy


def tikhonov(x: torch.Tensor) -> torch.Tensor:
    """Smooth-gradient (Tikhonov / Sobolev) energy ``mean(dx^2 + dy^2)``.

    Quadratic, so the denoiser it gives is a linear low-pass filter: it cannot tell an
    edge from noise and blurs both.
    """
    dx, dy = image_gradient(x)
    return (dx ** 2 + dy ** 2).mean()


def total_variation(x: torch.Tensor, eps: float = EPS) -> torch.Tensor:
    """Isotropic total variation ``mean(sqrt(dx^2 + dy^2 + eps^2) - eps)``, per channel.

    The L1 norm of the gradient magnitude: it tolerates a few large jumps (edges) but
    penalises many small ones (noise, and also fine texture). ``eps`` smooths the
    kink of the square root at zero so the energy is differentiable; ``eps -> 0`` gives
    the exact TV of Rudin, Osher and Fatemi (1992).
    """
    _check_eps(eps)
    dx, dy = image_gradient(x)
    return (torch.sqrt(dx ** 2 + dy ** 2 + eps ** 2) - eps).mean()


def haar_decompose(x: torch.Tensor, levels: int) -> tuple[torch.Tensor, list[torch.Tensor]]:
    """Orthonormal 2-D Haar wavelet transform (``db1``) over ``levels`` scales.

    Each level splits the current approximation into 2x2 blocks ``a b / c d`` and
    keeps their orthonormal combinations: the average ``(a+b+c+d)/2`` goes on to the
    next level, the three details ``(a-b+c-d)/2``, ``(a+b-c-d)/2``, ``(a-b-c+d)/2``
    (horizontal, vertical, diagonal changes) are returned.

    Returns
    -------
    approx : tensor ``(1, C, H / 2^levels, W / 2^levels)``
    details : list of tensors ``(1, C, 3, h, w)``, finest scale first
    """
    _check_tensor(x, "x")
    h, w = x.shape[-2:]
    if levels < 1 or h % 2 ** levels or w % 2 ** levels:
        raise ValueError(f"a {levels}-level Haar transform needs sides divisible by {2 ** levels}, "
                         f"got {h}x{w}; crop the image (dip_teach.images.prepare) or use fewer levels")
    details = []
    a = x
    for _ in range(levels):
        p, q = a[..., 0::2, 0::2], a[..., 0::2, 1::2]
        r, s = a[..., 1::2, 0::2], a[..., 1::2, 1::2]
        details.append(torch.stack([(p - q + r - s), (p + q - r - s), (p - q - r + s)], dim=2) / 2)
        a = (p + q + r + s) / 2
    return a, details


def haar_reconstruct(approx: torch.Tensor, details: list[torch.Tensor]) -> torch.Tensor:
    """Inverse of :func:`haar_decompose` (the transform is orthonormal, so this is its transpose)."""
    a = approx
    for d in reversed(details):
        h, v, g = d[:, :, 0], d[:, :, 1], d[:, :, 2]
        out = a.new_zeros(a.shape[:-2] + (2 * a.shape[-2], 2 * a.shape[-1]))
        out[..., 0::2, 0::2] = (a + h + v + g) / 2
        out[..., 0::2, 1::2] = (a - h + v - g) / 2
        out[..., 1::2, 0::2] = (a + h - v - g) / 2
        out[..., 1::2, 1::2] = (a - h - v + g) / 2
        a = out
    return a


def default_levels(shape: tuple[int, ...]) -> int:
    """Number of wavelet scales scikit-image's ``denoise_wavelet`` uses: the maximum minus 3."""
    side = min(shape[-2:])
    return max(1, int(math.log2(side)) - 3)


def wavelet_l1(x: torch.Tensor, levels: int | None = None, eps: float = EPS) -> torch.Tensor:
    """Wavelet sparsity: the (smoothed) L1 norm of the Haar detail coefficients.

    ``sum(sqrt(d^2 + eps^2) - eps) / x.numel()``: the sum over all detail
    coefficients, divided by the number of pixel values so the weight does not depend
    on the image size. The coarse approximation is not penalised. Because the Haar
    transform is orthonormal, for denoising the minimiser is soft thresholding of the
    coefficients at ``weight / 2`` (what scikit-image's ``denoise_wavelet`` does).

    Parameters
    ----------
    levels : int, optional
        Number of scales; by default :func:`default_levels` (3 at 64x64, 5 at 256x256).
    """
    _check_eps(eps)
    levels = default_levels(x.shape) if levels is None else int(levels)
    _, details = haar_decompose(x, levels)
    total = sum((torch.sqrt(d ** 2 + eps ** 2) - eps).sum() for d in details)
    return total / x.numel()


def no_prior(x: torch.Tensor) -> torch.Tensor:
    """The prior-free fit: ``R(x) = 0``, every image that explains the data is equally good."""
    return x.new_zeros(())


#: The priors :func:`restore` knows by name.
PRIORS: dict[str, Callable[[torch.Tensor], torch.Tensor]] = {
    "none": no_prior,
    "tikhonov": tikhonov,
    "tv": total_variation,
    "wavelet": wavelet_l1,
}


def get_prior(prior: str | Callable[[torch.Tensor], torch.Tensor]) -> Callable[[torch.Tensor], torch.Tensor]:
    """Return the regulariser for a name in :data:`PRIORS`, or a function ``R(x) -> scalar`` as is."""
    if callable(prior):
        return prior
    if isinstance(prior, str) and prior.strip().lower() in PRIORS:
        return PRIORS[prior.strip().lower()]
    raise ValueError(f"unknown prior {prior!r}; choose one of {', '.join(repr(p) for p in PRIORS)} "
                     "or pass a function R(x) that returns a scalar tensor")


def energy(x: torch.Tensor, y: torch.Tensor, operator: Operator, prior="tv", weight: float = 0.1) -> torch.Tensor:
    """The MAP energy ``E(x) = operator.loss(x, y) + weight * R(x)`` (a scalar tensor)."""
    return operator.loss(x, y) + weight * get_prior(prior)(x)


# ------------------------------------------------------------------------ the loop
@dataclass
class Restoration:
    """What :func:`restore` returns.

    Attributes
    ----------
    x : tensor ``(1, C, H, W)``
        The restored image, clipped to ``[0, 1]``.
    prior, weight :
        What was minimised.
    energies : list of float
        ``E(x)`` at every iteration: it should fall and flatten out.
    psnrs : list of float
        PSNR to the clean image every ``record_every`` iterations (empty without one).
    psnr : float or None
        PSNR of the result to the clean image, when it was given.
    seconds : float
        Wall time of the loop.
    """

    x: torch.Tensor
    prior: str
    weight: float
    energies: list[float] = field(default_factory=list)
    psnrs: list[float] = field(default_factory=list)
    psnr: float | None = None
    seconds: float = 0.0

    @property
    def image(self) -> np.ndarray:
        """The result as an ``(H, W, C)`` array, ready for ``plt.imshow``."""
        return to_array(self.x)


def initial_guess(y: torch.Tensor, operator: Operator) -> torch.Tensor:
    """Where the loop starts: the observation itself, upsampled (bicubic) for super-resolution.

    For inpainting the missing pixels start at 0 (black), so an unregularised fit
    shows exactly which pixels the data term never touched.
    """
    if isinstance(operator, Downsampling):
        return upsample_bicubic(y, operator.factor)
    return y.clone()


def restore(y, operator: Operator, prior="tv", weight: float = 0.1, iterations: int = 200,
            lr: float = 0.02, x0: torch.Tensor | None = None, clean=None, record_every: int = 10,
            eps: float | None = None) -> Restoration:
    """Minimise ``operator.loss(x, y) + weight * R(x)`` over the pixels ``x`` with Adam.

    This is the Deep Image Prior loop with the network removed: the parameters are the
    pixels themselves, and the prior is written down by hand instead of coming from an
    architecture. The learning rate decays to zero on a cosine so the end point is a
    converged minimiser rather than a point that jitters around it; pixels are kept in
    ``[0, 1]`` after every step (the prior knowledge that intensities are bounded).

    Parameters
    ----------
    y : tensor ``(1, C, h, w)`` or array ``(h, w, C)``
        The observation (low resolution for super-resolution).
    operator : Operator
        The forward model that made ``y``: ``Denoising``, ``Inpainting``, ``Downsampling``.
    prior : str or callable
        ``"none"``, ``"tikhonov"``, ``"tv"``, ``"wavelet"`` or a function ``R(x)``.
    weight : float
        Regularisation weight (>= 0): larger trusts the prior more and the data less.
    iterations : int
        Adam steps. The energies are convex and Adam's step does not depend on the
        image size: denoising converges in about 100 steps, inpainting in about 300
        (measured at 64 and 128 pixels; see tests/test_priors.py).
    lr : float
        Adam's initial step (in intensity units per pixel).
    x0 : tensor, optional
        Starting image; :func:`initial_guess` by default. Without a prior the result
        depends on it wherever the data term is blind (holes, high frequencies).
    clean : tensor or array, optional
        The true image, to record PSNR along the way and of the result.
    record_every : int
        Record PSNR every this many iterations.
    eps : float, optional
        Smoothing of TV / wavelet L1 (default :data:`EPS`).

    Returns
    -------
    Restoration
    """
    if not isinstance(operator, Operator):
        raise TypeError(f"operator must be a dip_teach.operators.Operator (e.g. Denoising(25)), "
                        f"got {type(operator).__name__}")
    y = as_tensor(y, "y")
    operator.check(y)
    name = prior if isinstance(prior, str) else getattr(prior, "__name__", "custom")
    regulariser = get_prior(prior)
    if eps is not None and regulariser in (total_variation, wavelet_l1):
        _check_eps(eps)
        base = regulariser
        regulariser = lambda x: base(x, eps=eps)  # noqa: E731
    weight = _check_weight(weight)
    if int(iterations) != iterations or iterations < 1:
        raise ValueError(f"iterations must be a positive integer, got {iterations}")
    if not (lr > 0 and math.isfinite(lr)):
        raise ValueError(f"lr must be a positive number, got {lr}")
    start = initial_guess(y, operator) if x0 is None else as_tensor(x0, "x0")
    clean_t = None if clean is None else as_tensor(clean, "clean image").to(y.device)
    if clean_t is not None and clean_t.shape != start.shape:
        raise ImageError(f"clean image is {tuple(clean_t.shape)} but the restoration is {tuple(start.shape)}; "
                         "pass the clean image the observation was made from")
    if name == "none":
        weight = 0.0

    x = start.detach().clone().to(y.device).requires_grad_(True)
    opt = torch.optim.Adam([x], lr=lr)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=int(iterations))
    out = Restoration(x=x, prior=str(name), weight=weight)
    with _small_work_threads(x):
        t0 = time.perf_counter()
        _minimise(x, y, operator, regulariser, weight, opt, schedule, int(iterations), clean_t, record_every, out)
        out.seconds = time.perf_counter() - t0
    out.x = x.detach()
    if clean_t is not None:
        out.psnr = metrics.psnr(out.x, clean_t)
    return out


def _minimise(x, y, operator, regulariser, weight, opt, schedule, iterations, clean_t, record_every, out) -> None:
    """The loop itself: the same five lines as the DIP fit in notebook 04."""
    for i in range(iterations):
        opt.zero_grad(set_to_none=True)
        loss = operator.loss(x, y)
        if weight > 0:
            loss = loss + weight * regulariser(x)
        loss.backward()
        opt.step()
        schedule.step()
        with torch.no_grad():
            x.clamp_(0, 1)
        out.energies.append(loss.item())
        if clean_t is not None and (i % record_every == 0 or i == iterations - 1):
            out.psnrs.append(metrics.psnr(x, clean_t))


@contextmanager
def _small_work_threads(x: torch.Tensor, limit: int = 3 * 128 * 128):
    """Run small CPU images on one thread, then restore torch's setting.

    Each step on a 64x64 image is a few microseconds of arithmetic; with two threads the
    synchronisation costs more than it saves, badly so when the cores are busy
    (measured on a loaded 2-core machine: 7.5 ms per TV step with 2 threads, 0.8 with 1).
    """
    if x.device.type != "cpu" or x.numel() > limit or torch.get_num_threads() == 1:
        yield
        return
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def prior_free_fit(y, operator: Operator, iterations: int = 200, lr: float = 0.02,
                   x0: torch.Tensor | None = None, clean=None) -> Restoration:
    """Fit the data term alone (weight 0): the maximum-likelihood answer of notebook 01.

    For denoising it returns the noisy image (noise included, since it is data too);
    for inpainting the missing pixels never move from ``x0``; for super-resolution
    whatever high frequencies ``x0`` had survive, because ``A`` cannot see them.
    """
    return restore(y, operator, "none", 0.0, iterations=iterations, lr=lr, x0=x0, clean=clean)


def descend(y, operator: Operator, x0, steps: int = 200, lr: float = 1.0, clean=None) -> Restoration:
    """Plain gradient descent on the data term ``0.5 * sum((A(x) - y)^2)`` over the pixels: no prior.

    The loop notebook 01 asks students to write. Each step is ``x -= lr * A^T (A x - y)``:
    it moves ``x`` only along what ``A`` sees (the row space of ``A``), so whatever ``x0``
    holds in the null space of ``A`` (the holes of a mask, the detail a downsampler averages
    away) is kept *exactly*. That is the argument of the null space, and it needs this bare
    loop: Adam (:func:`prior_free_fit`) rescales every pixel's step by its own history and
    the clipping to ``[0, 1]`` of :func:`restore` is not linear, so neither keeps the null
    space exactly.

    Parameters
    ----------
    y : tensor or array
        The observation.
    operator : Operator
        The forward model; only ``operator.forward`` is used.
    x0 : tensor or array
        The start; never changed in place.
    steps : int
        Gradient steps.
    lr : float
        Step size. It converges when ``lr < 2 / ||A||^2``; a downsampler that averages
        ``f x f`` pixels has ``||A||^2`` close to ``1 / f^2``, so ``lr = f**2`` is a safe choice.
    clean : tensor or array, optional
        The true image, for the PSNR of the result.

    Returns
    -------
    Restoration
        ``energies`` holds the data term at every step.
    """
    y = as_tensor(y, "y")
    x = as_tensor(x0, "x0").detach().clone().to(y.device).requires_grad_(True)
    if int(steps) != steps or steps < 1:
        raise ValueError(f"steps must be a positive integer, got {steps}")
    out = Restoration(x=x, prior="none", weight=0.0)
    t0 = time.perf_counter()
    for _ in range(int(steps)):
        loss = 0.5 * ((operator.forward(x) - y) ** 2).sum()
        (grad,) = torch.autograd.grad(loss, x)
        with torch.no_grad():
            x -= lr * grad
        out.energies.append(loss.item())
    out.seconds = time.perf_counter() - t0
    out.x = x.detach()
    if clean is not None:
        out.psnr = metrics.psnr(out.x.clamp(0, 1), as_tensor(clean, "clean image").to(y.device))
    return out


# ------------------------------------------------------------------ weight search
@dataclass
class WeightSearch:
    """What :func:`best_weight` and :func:`sweep` return: PSNR for every weight tried."""

    weights: list[float]
    psnrs: list[float]
    best_weight: float
    best_psnr: float
    best: object = None   # the best result (a Restoration, or an array from sweep)

    def table(self) -> str:
        """The sweep as Markdown (weight | PSNR), the best row marked."""
        return markdown_table(["weight", "PSNR (dB)"],
                              [[f"{w:.4g}", f"{p:.2f}{' (best)' if w == self.best_weight else ''}"]
                               for w, p in zip(self.weights, self.psnrs)], align="rr")


#: Weight ranges worth searching for each prior (our units; see the module docstring).
DEFAULT_WEIGHTS: dict[str, np.ndarray] = {
    "tikhonov": np.geomspace(0.05, 3.2, 7),
    "tv": np.geomspace(0.02, 1.28, 7),
    "wavelet": np.geomspace(0.025, 1.6, 7),
}


def sweep(denoise: Callable[[float], object], weights, clean) -> WeightSearch:
    """Run ``denoise(weight)`` for each weight and keep the best PSNR to ``clean``.

    ``denoise`` may return a tensor, an array, or a :class:`Restoration`; this is how
    we search scikit-image's weights and ours the same way.
    """
    weights = [float(w) for w in np.atleast_1d(np.asarray(weights, dtype=float))]
    if not weights:
        raise ValueError("give at least one weight to try")
    psnrs, best, best_p = [], None, -math.inf
    for w in weights:
        res = denoise(w)
        img = res.x if isinstance(res, Restoration) else res
        p = metrics.psnr(img, clean)
        psnrs.append(p)
        if p > best_p:
            best, best_p = res, p
    return WeightSearch(weights, psnrs, weights[int(np.argmax(psnrs))], best_p, best)


def best_weight(y, operator: Operator, prior: str, clean, weights=None, refine: bool = True,
                **restore_kwargs) -> WeightSearch:
    """Oracle weight search: the weight whose restoration has the best PSNR to ``clean``.

    Tries a log-spaced grid (:data:`DEFAULT_WEIGHTS` unless ``weights`` is given),
    then, with ``refine``, two more weights halfway (in log scale) on each side of the
    best. Only possible when the clean image is known: in practice the weight is
    chosen on similar images, or by a rule such as the discrepancy principle.
    """
    if prior not in DEFAULT_WEIGHTS and weights is None:
        raise ValueError(f"no default weights for prior {prior!r}; pass weights=[...] "
                         f"(defaults exist for {', '.join(DEFAULT_WEIGHTS)})")
    if clean is None:
        raise ValueError("best_weight needs the clean image: it picks the weight by PSNR to it")
    grid = np.asarray(DEFAULT_WEIGHTS[prior] if weights is None else weights, dtype=float)
    if (grid < 0).any():
        raise ValueError(f"weights must be non-negative, got {grid.min():g}")
    run = lambda w: restore(y, operator, prior, w, clean=clean, **restore_kwargs)  # noqa: E731
    found = sweep(run, grid, clean)
    if refine and len(grid) > 1 and found.best_weight > 0:
        step = np.sqrt(np.median(grid[1:] / np.maximum(grid[:-1], 1e-12)))
        extra = sweep(run, [found.best_weight / step, found.best_weight * step], clean)
        pairs = sorted(zip(found.weights + extra.weights, found.psnrs + extra.psnrs))
        ws, ps = [p[0] for p in pairs], [p[1] for p in pairs]
        better = extra.best_psnr > found.best_psnr
        found = WeightSearch(ws, ps, extra.best_weight if better else found.best_weight,
                             max(extra.best_psnr, found.best_psnr), extra.best if better else found.best)
    return found


# ------------------------------------------------------------- scikit-image references
def skimage_tv(noisy: np.ndarray, weight: float) -> np.ndarray:
    """scikit-image's TV denoiser (Chambolle's projection algorithm), per colour channel.

    Its ``weight`` is ``1/lambda`` of ``TV(u) + lambda/2 ||u - f||^2``; in the units of
    :func:`restore` that is ``our_weight = 2 * weight``. We tighten its stopping rule
    (``eps=1e-6`` instead of ``2e-4``): with the default it stops early on flat
    cartoon images, up to 0.9 dB short of the minimiser (measured at 64x64, sigma 25).
    """
    from skimage.restoration import denoise_tv_chambolle   # here: scikit-image's solvers take ~1 s to import

    return denoise_tv_chambolle(as_array(noisy, clip=True), weight=weight, channel_axis=-1, eps=1e-6,
                                max_num_iter=500).astype(np.float32)


def skimage_wavelet(noisy: np.ndarray, sigma: float | None = None) -> np.ndarray:
    """scikit-image's wavelet shrinkage with Haar (``db1``) wavelets and soft thresholds.

    With ``sigma`` (on the [0, 1] scale): VisuShrink, one threshold
    ``sigma * sqrt(2 log n)`` for every detail coefficient, the same estimator as our
    ``"wavelet"`` prior with ``weight = 2 * sigma * sqrt(2 log n)``. Without ``sigma``:
    BayesShrink, a threshold per sub-band from the estimated noise (scikit-image's default).
    """
    from skimage.restoration import denoise_wavelet   # here: ~1 s to import, for these baselines only

    kw = dict(wavelet="db1", mode="soft", channel_axis=-1, rescale_sigma=True)
    if sigma is None:
        out = denoise_wavelet(as_array(noisy, clip=True), method="BayesShrink", **kw)
    else:
        out = denoise_wavelet(as_array(noisy, clip=True), sigma=sigma, method="VisuShrink", **kw)
    return out.astype(np.float32)


def skimage_nlm(noisy: np.ndarray, sigma: float | None = None) -> np.ndarray:
    """Non-local means with the noise level estimated from the image (scikit-image's recipe).

    ``h = 0.8 * sigma_hat``, 5x5 patches searched within 6 pixels, ``sigma_hat`` from
    ``estimate_sigma``: no clean image, no tuning, which makes it a fair baseline.
    ``sigma`` (a fraction of 1) replaces the estimate when the noise level is known.
    """
    from skimage.restoration import denoise_nl_means, estimate_sigma   # here: ~1 s to import (see skimage_tv)

    a = as_array(noisy, clip=True)
    if sigma is None:
        sigma = float(np.mean(estimate_sigma(a, channel_axis=-1)))
    return denoise_nl_means(a, h=0.8 * sigma, sigma=sigma, patch_size=5, patch_distance=6,
                            fast_mode=True, channel_axis=-1).astype(np.float32)


# ---------------------------------------------------------------------- checks
def _check_tensor(x, what: str) -> None:
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"{what} must be a torch tensor (1, C, H, W); convert arrays with "
                        f"dip_teach.images.to_tensor, got {type(x).__name__}")
    if x.dim() != 4:
        raise ImageError(f"{what} must have shape (1, C, H, W), got {tuple(x.shape)}")


def _check_eps(eps: float) -> None:
    if not (eps > 0 and math.isfinite(eps)):
        raise ValueError(f"eps must be a small positive number such as 1e-3, got {eps}")


def _check_weight(weight: float) -> float:
    try:
        w = float(weight)
    except (TypeError, ValueError):
        raise TypeError(f"weight must be a number, got {type(weight).__name__}") from None
    if not (w >= 0 and math.isfinite(w)):
        raise ValueError(f"weight must be a non-negative number (0 means no prior), got {weight}")
    return w
