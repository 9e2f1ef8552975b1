"""Image quality metrics: PSNR and SSIM, on arrays or tensors.

Both accept the kit's arrays ``(H, W, C)`` or tensors ``(1, C, H, W)`` with values in
``[0, 1]`` and return a Python float. They agree with scikit-image's
``peak_signal_noise_ratio`` and ``structural_similarity`` (tested), but are written in
torch so they are short to read and run on the same device as a fit.
"""
from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F


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


def psnr(x, reference, data_range: float = 1.0) -> float:
    """Peak signal-to-noise ratio in dB: ``10 log10(data_range^2 / MSE)``.

    Higher is better; +inf for identical images. On 8-bit images a gain of 1 dB is
    clearly visible, 0.1 dB is not.
    """
    err = mse(x, reference)
    return math.inf if err == 0 else 10.0 * math.log10(data_range ** 2 / err)


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
