"""A warm start for the Deep Image Prior: generator weights learned on a dataset first.

The DIP starts every image from random weights. The question the paper ends on is
what a *dataset* could add. The simplest answer: learn a good starting point.
Reptile (Nichol, Achiam & Schulman, 2018), a first-order cousin of MAML, does it with
the DIP loop itself::

    repeat:
        pick a training image, make its noisy observation
        phi = theta, then k DIP steps on phi       (the inner loop, a short fit)
        theta += eps * (phi - theta)               (move the start towards where fits go)

The result is a set of weights from which a few steps fit a new image of the same
kind: the fit starts "knowing" average colours and the net's normalisation statistics
of natural images, so it rises faster; and it is biased towards the training images.
Meta-learned and pretrained DIPs in the literature do the same at a larger scale.

The input ``z`` must be the one the later fit uses: :func:`reptile` builds it exactly
as :class:`dip_teach.fit.Fit` does for the same ``seed``, and :func:`warm_start`
copies the learned weights into a fit before it runs.

Example
-------
>>> from dip_teach import pretrain
>>> state = pretrain.reptile(["rocket", "brick"], size=64, outer_steps=2, inner_steps=2)
>>> len(state) > 0
True
"""
from __future__ import annotations

import copy
import time

import torch

from . import images, nets
from .operators import Denoising
from .progress import log_line, new_bar


def reptile(names: list[str], size: int, outer_steps: int = 50, inner_steps: int = 20, sigma: float = 25,
            inner_lr: float | None = None, outer_lr: float = 0.5, net=None, seed: int = 0,
            log=None, progress: bool = False) -> dict[str, torch.Tensor]:
    """Meta-learn starting weights on the noisy training images ``names`` (Reptile).

    Parameters
    ----------
    names : list of str
        Training images (catalogue names or paths); each outer step uses the next one
        (a fresh noise draw every time).
    size : int
        Side of the crops, the size of the later fits.
    outer_steps, inner_steps : int
        Reptile updates, and DIP steps per update. Cost: ``outer_steps * inner_steps`` DIP steps.
    outer_lr : float
        ``eps``: how far the start moves towards each short fit's end (decays linearly to 0).
    net : str or NetConfig, optional
        Generator preset (the run mode's by default); must match the later fit's.
    seed : int
        The seed the later fit will use (its ``z`` and initial weights are built from it).
    log : callable, optional
        Called with a progress line five times during training (e.g. ``print``).
    progress : bool
        Show a bar over the outer steps with the last inner loss (see :mod:`dip_teach.progress`).

    Returns
    -------
    dict
        A state dict for ``nets.build(net)``: pass it to :func:`warm_start`.
    """
    if not names:
        raise ValueError("give at least one training image name")
    config = nets.get_config(net)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)          # the same initial weights as Fit(seed=seed)
        model = nets.build(config, in_channels=32, out_channels=3)
    z = nets.make_input("noise", 32, *nets.input_shape(config, size, size), seed=seed)
    crops = [images.to_tensor(images.load(n, size=size)) for n in names]
    op = Denoising(sigma)
    gen = torch.Generator().manual_seed(seed + 7)
    theta = copy.deepcopy(model.state_dict())
    t0 = time.perf_counter()
    bar = new_bar(range(int(outer_steps)), desc="Reptile", unit="step", disable=not progress)
    for step in bar:
        clean = crops[step % len(crops)]
        y = op.corrupt(clean, seed=gen)
        model.load_state_dict(theta)
        opt = torch.optim.Adam(model.parameters(), lr=config.lr if inner_lr is None else inner_lr)
        for _ in range(int(inner_steps)):
            loss = op.loss(model(z), y)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
        theta = reptile_update(theta, model.state_dict(), eps=outer_lr * (1 - step / outer_steps))
        bar.set_postfix_str(f"inner loss {loss.item():.4f}", refresh=False)
        if log and (step + 1) % max(1, outer_steps // 5) == 0:
            log_line(log, f"reptile step {step + 1}/{outer_steps}: inner loss {loss.item():.4f}, "
                          f"{time.perf_counter() - t0:.0f} s")
    return theta


def reptile_update(theta: dict[str, torch.Tensor], phi: dict[str, torch.Tensor], eps: float) -> dict[str, torch.Tensor]:
    """Reptile's outer step: a new state dict moved the fraction ``eps`` of the way from ``theta`` to ``phi``.

    ``theta`` is where the short fit started, ``phi`` where it ended; each weight becomes
    ``theta + eps * (phi - theta)``. Entries that are not weights (BatchNorm's counter of
    batches) take ``phi``'s value. Neither argument is changed.

    Examples
    --------
    >>> import torch
    >>> reptile_update({"w": torch.tensor([0.0, 2.0])}, {"w": torch.tensor([4.0, 2.0])}, 0.25)
    {'w': tensor([1., 2.])}
    """
    return {k: torch.add(v, phi[k] - v, alpha=eps) if v.is_floating_point() else phi[k].clone()
            for k, v in theta.items()}


def warm_start(fit, state: dict[str, torch.Tensor]):
    """Load pretrained generator weights into a :class:`dip_teach.fit.Fit` that has not run yet."""
    if fit.iteration:
        raise RuntimeError("warm_start must come before the fit's first iteration")
    fit.net.load_state_dict(state)
    return fit
