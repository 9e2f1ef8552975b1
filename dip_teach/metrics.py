"""Image quality metrics: PSNR (whole image, masked, on luminance) and SSIM, on arrays or tensors.

All accept the kit's arrays ``(H, W, C)`` or tensors ``(1, C, H, W)`` with values in
``[0, 1]`` and return a Python float. :func:`psnr` and :func:`ssim` agree with
scikit-image's ``peak_signal_noise_ratio`` and ``structural_similarity`` (tested), but
are written in torch so they are short to read and run on the same device as a fit.

:func:`psnr` compares every pixel and every channel. Two tasks of the paper score
differently:

* **inpainting**: the known pixels are given, so a method is judged by what it puts
  in the *holes*; :func:`psnr_masked` scores only the pixels a mask selects;
* **super-resolution**: the literature (and the paper's Set5/Set14 tables) measures PSNR
  on the luminance channel ``Y`` of ``YCbCr`` (ITU-R BT.601, as MATLAB's ``rgb2ycbcr``),
  with a border of ``factor`` pixels cropped away, where every method is unreliable;
  :func:`psnr_luminance` does that.

Example
-------
>>> import numpy as np
>>> from dip_teach import metrics
>>> clean = np.full((8, 8, 3), 0.5, np.float32)
>>> guess = clean.copy(); guess[:4] = 0.6                       # wrong only in the top half
>>> mask = np.zeros((8, 8)); mask[:4] = 1                        # score the top half only
>>> round(metrics.psnr_masked(guess, clean, mask), 1)
20.0
"""
from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F

from .images import as_array

#: ITU-R BT.601 luma weights for RGB in [0, 1] giving Y in [16, 235] / 255 (MATLAB's rgb2ycbcr).
LUMA = (65.481 / 255, 128.553 / 255, 24.966 / 255)


def _to_nchw(x) -> torch.Tensor:
    if isinstance(x, torch.Tensor):
        t = x.detach().double()
        return t[None] if t.dim() == 3 else t
    a = np.asarray(x, dtype=np.float64)
    if a.ndim == 2:
        a = a[..., None]
    return torch.from_numpy(np.ascontiguousarray(a.transpose(2, 0, 1)))[None]


def _pair(x, reference) -> tuple[torch.Tensor, torch.Tensor]:
    a, b = _to_nchw(x), _to_nchw(reference).to(_to_nchw(x).device)
    if a.shape != b.shape:
        raise ValueError(f"images differ in shape: {tuple(a.shape)} vs {tuple(b.shape)} "
                         "(compare images of the same size and channel count)")
    return a, b


def mse(x, reference) -> float:
    """Mean squared error between two images."""
    a, b = _pair(x, reference)
    return float(((a - b) ** 2).mean())


def db_from_mse(mse: float, peak: float = 1.0) -> float:
    """A mean squared error as a PSNR in dB: ``10 log10(peak^2 / mse)``.

    The one place the kit turns an MSE into decibels (the PSNR of :func:`psnr`, of a
    fit's history, of a training curve). An MSE of 0 gives +inf; a NaN gives NaN.

    Examples
    --------
    >>> db_from_mse(0.01)
    20.0
    >>> db_from_mse(0.0)
    inf
    """
    mse = float(mse)
    if mse < 0:
        raise ValueError(f"a mean squared error cannot be negative, got {mse}")
    return math.inf if mse == 0 else 10.0 * math.log10(peak ** 2 / mse)


def psnr(x, reference, data_range: float = 1.0) -> float:
    """Peak signal-to-noise ratio in dB: ``10 log10(data_range^2 / MSE)``.

    Higher is better; +inf for identical images. On 8-bit images a gain of 1 dB is
    clearly visible, 0.1 dB is not.
    """
    return db_from_mse(mse(x, reference), data_range)


def _array64(img) -> np.ndarray:
    return as_array(img).astype(np.float64)


def psnr_masked(x, reference, mask) -> float:
    """PSNR (dB, peak 1) over the pixels where ``mask`` is 1, all channels.

    Pass ``1 - mask`` of an inpainting mask to score the missing pixels.
    """
    a, r = _array64(x), _array64(reference)
    m = _array64(mask)[..., :1] > 0.5
    if a.shape != r.shape or m.shape[:2] != a.shape[:2]:
        raise ValueError(f"shapes differ: image {a.shape}, reference {r.shape}, mask {m.shape[:2]}")
    if not m.any():
        raise ValueError("the mask selects no pixel")
    err = ((a - r) ** 2)[np.broadcast_to(m, a.shape)]
    return db_from_mse(float(err.mean()))


def luminance(img) -> np.ndarray:
    """The ``Y`` channel (BT.601, ``16/255 + LUMA . rgb``) of an RGB image, ``(H, W)``."""
    a = _array64(img)
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
    return db_from_mse(float(((y - r) ** 2).mean()))


def _gaussian_window(sigma: float = 1.5, truncate: float = 3.5) -> torch.Tensor:
    radius = int(truncate * sigma + 0.5)
    t = torch.arange(-radius, radius + 1, dtype=torch.float64)
    g = torch.exp(-(t ** 2) / (2 * sigma ** 2))
    return g / g.sum()


def ssim(x, reference, data_range: float = 1.0) -> float:
    """Structural similarity (Wang et al. 2004), mean over pixels and channels.

    Uses the Gaussian-weighted form of the original paper (window sigma 1.5,
    K1 = 0.01, K2 = 0.03), like ``skimage.metrics.structural_similarity(...,
    gaussian_weights=True, use_sample_covariance=False)``: local means, variances
    and covariance are blurred with the window, and the border where the window
    does not fit is left out of the mean.
    """
    a, b = _pair(x, reference)
    c = a.shape[1]
    g = _gaussian_window().to(a.device)
    if min(a.shape[-2:]) < len(g):
        raise ValueError(f"SSIM needs images of at least {len(g)}x{len(g)} pixels, got {tuple(a.shape[-2:])}")

    def blur(t: torch.Tensor) -> torch.Tensor:  # separable Gaussian, 'valid' region only
        t = F.conv2d(t, g.view(1, 1, -1, 1).repeat(c, 1, 1, 1), groups=c)
        return F.conv2d(t, g.view(1, 1, 1, -1).repeat(c, 1, 1, 1), groups=c)

    mu_a, mu_b = blur(a), blur(b)
    var_a = blur(a * a) - mu_a ** 2
    var_b = blur(b * b) - mu_b ** 2
    cov = blur(a * b) - mu_a * mu_b
    c1, c2 = (0.01 * data_range) ** 2, (0.03 * data_range) ** 2
    s = ((2 * mu_a * mu_b + c1) * (2 * cov + c2)) / ((mu_a ** 2 + mu_b ** 2 + c1) * (var_a + var_b + c2))
    return float(s.mean())
