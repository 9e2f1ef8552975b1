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

:class:`WithDenoiser` wraps any forward operator, so :class:`dip_teach.fit.Fit` runs it
unchanged.

Example
-------
>>> from dip_teach import operators, red
>>> op = red.WithDenoiser(operators.Denoising(25), red.nlm(25), weight=1.0)
"""
from __future__ import annotations

from typing import Callable

import torch
import torch.nn.functional as F

from .images import to_tensor
from .operators import Operator, check_sigma
from .priors import skimage_nlm

Denoiser = Callable[[torch.Tensor], torch.Tensor]


class WithDenoiser(Operator):
    """A forward operator whose loss adds the RED pull towards ``D(x)``.

    Parameters
    ----------
    base : Operator
        The task's forward model (its ``forward``, ``corrupt`` and ``check`` are used as they are).
    denoiser : callable
        ``D``: a ``(1, C, H, W)`` tensor in, a denoised one out (see :func:`nlm`, :func:`dncnn`).
    weight : float
        How strongly the output is pulled towards ``D(output)`` (0 = plain DIP).
    every : int
        Refresh ``t = D(x)`` every this many training steps (denoisers are slow; ``t``
        changes little between two steps).
    """

    def __init__(self, base: Operator, denoiser: Denoiser, weight: float = 1.0, every: int = 10):
        if weight < 0:
            raise ValueError(f"weight must be non-negative, got {weight}")
        if int(every) < 1:
            raise ValueError(f"every must be a positive number of steps, got {every}")
        self.base, self.denoiser, self.weight, self.every = base, denoiser, float(weight), int(every)
        self.name = f"{base.name}+red"
        self.target: torch.Tensor | None = None
        self.steps = 0

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.base.forward(x)

    def corrupt(self, clean, seed=None) -> torch.Tensor:
        return self.base.corrupt(clean, seed)

    def check(self, y: torch.Tensor) -> None:
        self.base.check(y)

    def output_size(self, shape):
        return self.base.output_size(shape) if hasattr(self.base, "output_size") else shape

    def loss(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """Data term, plus the RED term during training steps (calls with gradients)."""
        data = self.base.loss(x, y)
        if not (torch.is_grad_enabled() and x.requires_grad) or self.weight == 0:
            return data          # reporting calls (PSNR to the observation) see the data term alone
        if self.target is None or self.steps % self.every == 0:
            with torch.no_grad():
                self.target = self.denoiser(x.detach()).to(x.dtype)
        self.steps += 1
        return data + self.weight * F.mse_loss(x, self.target)

    def __repr__(self) -> str:
        return f"WithDenoiser({self.base!r}, weight={self.weight:g}, every={self.every})"


def nlm(sigma: float) -> Denoiser:
    """Non-local means (scikit-image) for noise of level ``sigma`` (0-255), as a tensor denoiser."""
    s = check_sigma(sigma)
    # the recipe of notebook 02's baseline, with the known noise level instead of an estimate
    return lambda x: to_tensor(skimage_nlm(x, sigma=s)).to(x.device)


def dncnn(net=None) -> Denoiser:
    """Notebook 03's learned denoiser (the shipped sigma-25 DnCNN unless ``net`` is given)."""
    from . import denoiser

    net = denoiser.load_pretrained() if net is None else net
    return lambda x: denoiser.denoise(net, x)
