"""DIP plus a denoiser: the Deep Image Prior regularised by Regularisation by Denoising (DeepRED).

Mataev, Elad & Milanfar (2019) add an explicit prior to the DIP's data term: RED
(Romano, Elad & Milanfar, 2017), whose regulariser ``rho(x) = 1/2 x^T (x - D(x))`` has
the gradient ``x - D(x)`` only when the denoiser ``D`` is locally homogeneous and has a
symmetric Jacobian; Reehorst & Schniter (2019) show that common denoisers (non-local
means, DnCNNs) are not symmetric, so for them ``x - D(x)`` is the gradient of no
regulariser, though the pull towards the image's own denoised version still works. We
use that pull directly, the simplest form of their method::

    loss(x) = data_term(A(x), y) + weight * mean((x - t)^2),   t = D(x) refreshed every few steps

with ``t`` held fixed (no gradient through the denoiser) between refreshes, which
is what makes any denoiser usable: non-local means from scikit-image, or the DnCNN of
notebook 03. Once the network starts fitting the noise, ``D`` keeps pulling the output
back, so the PSNR curve stays near its peak and the stopping point matters less.

:class:`Pull` is that term, a prior handed to the solver next to the forward operator:
``Fit(operator, y, prior=red.Pull(D))`` adds it to the data term in every training step.

Example
-------
>>> from dip_teach import red
>>> pull = red.Pull(red.nlm(25), weight=1.0)
>>> pull
Pull(weight=1, every=10)
"""
from __future__ import annotations

from typing import Callable

import torch
import torch.nn.functional as F

from . import denoiser as dncnn_denoiser
from .images import to_tensor
from .operators import check_sigma
from .priors import skimage_nlm

Denoiser = Callable[[torch.Tensor], torch.Tensor]


class Pull:
    """The RED prior term ``weight * mean((x - t)^2)``, ``t = D(x)`` refreshed every ``every`` calls.

    A solver calls it once per training step on the current output ``x`` and adds the
    result to its data term (:class:`dip_teach.fit.Fit` does, given ``prior=``); its
    gradient is ``2 * weight * (x - t) / n``, the pull towards the denoised output. ``t``
    holds no gradient: any denoiser works, differentiable or not.

    Parameters
    ----------
    denoiser : callable
        ``D``: a ``(1, C, H, W)`` tensor in, a denoised one out (see :func:`nlm`, :func:`dncnn`).
    weight : float
        How strongly the output is pulled towards ``D(output)`` (0 = plain DIP).
    every : int
        Refresh ``t = D(x)`` every this many calls (denoisers are slow; ``t`` changes
        little between two steps).
    """

    def __init__(self, denoiser: Denoiser, weight: float = 1.0, every: int = 10):
        if weight < 0:
            raise ValueError(f"weight must be non-negative, got {weight}")
        if int(every) < 1:
            raise ValueError(f"every must be a positive number of steps, got {every}")
        self.denoiser, self.weight, self.every = denoiser, float(weight), int(every)
        self.target: torch.Tensor | None = None
        self.steps = 0

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        """The term for the output ``x`` of this training step (0 when ``weight`` is 0)."""
        if self.weight == 0:
            return x.new_zeros(())
        if self.target is None or self.steps % self.every == 0:
            with torch.no_grad():
                self.target = self.denoiser(x.detach()).to(x.dtype)
        self.steps += 1
        return self.weight * F.mse_loss(x, self.target)

    def __repr__(self) -> str:
        return f"Pull(weight={self.weight:g}, every={self.every})"


def nlm(sigma: float) -> Denoiser:
    """Non-local means (scikit-image) for noise of level ``sigma`` (0-255), as a tensor denoiser."""
    s = check_sigma(sigma)
    # the recipe of notebook 02's baseline, with the known noise level instead of an estimate
    return lambda x: to_tensor(skimage_nlm(x, sigma=s)).to(x.device)


def dncnn(net=None) -> Denoiser:
    """Notebook 03's learned denoiser (the shipped sigma-25 DnCNN unless ``net`` is given)."""
    net = dncnn_denoiser.load_pretrained() if net is None else net
    return lambda x: dncnn_denoiser.denoise(net, x)
