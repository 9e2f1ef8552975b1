"""Small matplotlib helpers so notebooks show pictures in one line.

>>> from dip_teach import images, operators, plots
>>> clean = images.load("coffee", size=64)
>>> noisy = operators.Denoising(25).corrupt(clean, seed=0)
>>> fig = plots.show_images([clean, noisy], ["clean", "noisy"])
>>> len(fig.axes)
2
"""
from __future__ import annotations

import math
from typing import TYPE_CHECKING, Sequence

import matplotlib.pyplot as plt
import numpy as np
import torch

from . import images as _images

if TYPE_CHECKING:      # for the type hint only: fit imports nothing from here, but keep it that way
    from .fit import FitLike


def _displayable(img) -> np.ndarray:
    arr = _images.to_array(img) if isinstance(img, torch.Tensor) else _images.as_image(img)
    return arr[..., 0] if arr.shape[2] == 1 else arr


def show_images(imgs: Sequence, titles: Sequence[str] | None = None, ncols: int | None = None,
                size: float = 3.0, suptitle: str | None = None) -> plt.Figure:
    """Show images side by side (arrays ``(H, W, C)`` or tensors ``(1, C, H, W)``).

    Parameters
    ----------
    imgs : sequence of arrays or tensors
    titles : sequence of str, optional
        One title per image (e.g. with its PSNR).
    ncols : int, optional
        Images per row; all in one row by default (at most 5).
    size : float
        Size of each panel in inches.
    suptitle : str, optional
        Title above the whole figure.
    """
    imgs = list(imgs)
    if not imgs:
        raise ValueError("show_images needs at least one image")
    ncols = ncols or min(len(imgs), 5)
    nrows = math.ceil(len(imgs) / ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(size * ncols, size * nrows + (0.4 if suptitle else 0)),
                             squeeze=False)
    for i, ax in enumerate(axes.flat):
        ax.axis("off")
        if i < len(imgs):
            ax.imshow(_displayable(imgs[i]), cmap="gray", vmin=0, vmax=1, interpolation="nearest")
            if titles is not None and i < len(titles):
                ax.set_title(titles[i], fontsize=10)
    if suptitle:
        fig.suptitle(suptitle)
    fig.tight_layout()
    return fig


def show_catalogue(split: str | None = None, size: float = 2.0) -> plt.Figure:
    """A gallery of the course images in ``data/`` with their names and splits."""
    entries = _images.catalogue(split)
    return show_images([_images.load_image(e.path) for e in entries],
                       [f"{e.name} ({e.split})" for e in entries], ncols=min(len(entries), 8), size=size)


def residual(fit: FitLike, output: np.ndarray, gain: float = 4.0) -> np.ndarray:
    """``0.5 + gain * (A(output) - observation)``: grey where the fit matches the data.

    Computed in the observation's space (through the operator), so it is right for
    masks and downsampling too; clipped to ``[0, 1]`` for display.
    """
    y = fit.observation
    x = torch.from_numpy(np.ascontiguousarray(output.transpose(2, 0, 1)))[None].to(y.device, y.dtype)
    with torch.no_grad():
        ax = fit.operator.forward(x)
    # the rest in numpy: small torch ops cost milliseconds between iterations on a busy CPU
    r = ax[0].float().cpu().numpy().transpose(1, 2, 0) - y[0].float().cpu().numpy().transpose(1, 2, 0)
    return np.clip(0.5 + gain * r, 0.0, 1.0)
