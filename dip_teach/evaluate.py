"""How results are scored: PSNR on the missing pixels, PSNR on luminance, roughness.

:func:`dip_teach.metrics.psnr` compares every pixel and every channel. Two tasks of the
paper score differently:

* **inpainting**: the known pixels are given, so a method is judged by what it puts
  in the *holes*; :func:`psnr_masked` scores only the pixels a mask selects;
* **super-resolution**: the literature (and the paper's Set5/Set14 tables) measures PSNR
  on the luminance channel ``Y`` of ``YCbCr`` (ITU-R BT.601, as MATLAB's ``rgb2ycbcr``),
  with a border of ``factor`` pixels cropped away, where every method is unreliable;
  :func:`psnr_luminance` does that.

Without a clean image (super-resolving a small photo, inverting a classifier) the
question is often "how much fine detail did the method add?": :func:`roughness` gives
the total variation and the share of spectral energy in the upper half of the frequencies.

Example
-------
>>> import numpy as np
>>> from dip_teach import evaluate
>>> clean = np.full((8, 8, 3), 0.5, np.float32)
>>> guess = clean.copy(); guess[:4] = 0.6                       # wrong only in the top half
>>> mask = np.zeros((8, 8)); mask[:4] = 1                        # score the top half only
>>> round(evaluate.psnr_masked(guess, clean, mask), 1)
20.0
"""
from __future__ import annotations

import math

import numpy as np
import torch

from . import priors, spectral

#: ITU-R BT.601 luma weights for RGB in [0, 1] giving Y in [16, 235] / 255 (MATLAB's rgb2ycbcr).
LUMA = (65.481 / 255, 128.553 / 255, 24.966 / 255)


def _array(img) -> np.ndarray:
    if isinstance(img, torch.Tensor):
        t = img.detach().float().cpu()
        t = t[0] if t.dim() == 4 else t
        return t.permute(1, 2, 0).numpy().astype(np.float64)
    a = np.asarray(img, dtype=np.float64)
    return a[..., None] if a.ndim == 2 else a


def _db(mse: float) -> float:
    return 10 * math.log10(1 / mse) if mse > 0 else math.inf


def psnr_masked(x, reference, mask) -> float:
    """PSNR (dB, peak 1) over the pixels where ``mask`` is 1, all channels.

    Pass ``1 - mask`` of an inpainting mask to score the missing pixels.
    """
    a, r = _array(x), _array(reference)
    m = _array(mask)[..., :1] > 0.5
    if a.shape != r.shape or m.shape[:2] != a.shape[:2]:
        raise ValueError(f"shapes differ: image {a.shape}, reference {r.shape}, mask {m.shape[:2]}")
    if not m.any():
        raise ValueError("the mask selects no pixel")
    err = ((a - r) ** 2)[np.broadcast_to(m, a.shape)]
    return _db(float(err.mean()))


def luminance(img) -> np.ndarray:
    """The ``Y`` channel (BT.601, ``16/255 + LUMA . rgb``) of an RGB image, ``(H, W)``."""
    a = _array(img)
    if a.shape[-1] == 1:
        return a[..., 0]
    return 16 / 255 + a[..., :3] @ np.asarray(LUMA)


def psnr_luminance(x, reference, border: int = 4) -> float:
    """PSNR on the luminance channel with ``border`` pixels cropped on every side (peak 1)."""
    y, r = luminance(x), luminance(reference)
    if y.shape != r.shape:
        raise ValueError(f"shapes differ: {y.shape} vs {r.shape}")
    if border:
        y, r = y[border:-border, border:-border], r[border:-border, border:-border]
    return _db(float(((y - r) ** 2).mean()))


def roughness(img) -> dict[str, float]:
    """How much fine-scale variation an image has, two ways.

    Returns
    -------
    dict
        ``tv``: mean total variation (:func:`dip_teach.priors.total_variation`);
        ``high_freq``: share of the (windowed, mean-removed) spectral energy above
        a quarter cycle per pixel, the upper half of the frequencies.
    """
    a = _array(img).astype(np.float32)
    t = torch.from_numpy(a).permute(2, 0, 1)[None]
    energy = spectral.band_energy(a - a.mean(axis=(0, 1)), bands=8, window=True)
    return {"tv": float(priors.total_variation(t)), "high_freq": float(energy[4:].sum() / energy.sum())}
