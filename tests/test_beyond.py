"""Notebook 10's pieces: JPEG observations, DIP + denoiser (RED), the Reptile warm start."""
import numpy as np
import pytest
import torch

from dip_teach import images, metrics, operators, pretrain, red
from dip_teach.fit import Fit, FitConfig


def test_jpeg_keeps_the_size_and_makes_8x8_blocks():
    clean = images.load("astronaut", size=64)
    low, high = operators.JPEG(10), operators.JPEG(90)
    y_low, y_high = low.corrupt(clean), high.corrupt(clean)
    assert y_low.shape == (1, 3, 64, 64)
    assert metrics.psnr(y_low, clean) < metrics.psnr(y_high, clean) - 5
    assert low.bytes < high.bytes
    # blocking: jumps across the 8x8 grid lines are larger than jumps inside the blocks
    d = (y_low[..., :, 1:] - y_low[..., :, :-1]).abs().mean(dim=(0, 1, 2))
    on_grid = d[7::8].mean()
    off_grid = torch.cat([d[i::8] for i in range(7)]).mean()
    assert on_grid > 1.2 * off_grid, (on_grid, off_grid)
    with pytest.raises(ValueError, match="1 to 95"):
        operators.JPEG(0)


def test_red_term_only_in_training_steps_and_refreshed():
    calls = []

    def denoiser(x):
        calls.append(1)
        return torch.zeros_like(x)

    base = operators.Denoising(25)
    op = red.WithDenoiser(base, denoiser, weight=2.0, every=3)
    x = torch.full((1, 3, 8, 8), 0.5, requires_grad=True)
    y = torch.full((1, 3, 8, 8), 0.4)
    data = base.loss(x, y).item()
    assert op.loss(x, y).item() == pytest.approx(data + 2.0 * 0.25)       # pulled towards D(x) = 0
    with torch.no_grad():
        assert op.loss(x, y).item() == pytest.approx(data)                 # reports see the data term alone
    for _ in range(5):
        op.loss(x, y)
    assert len(calls) == 2                                                 # refreshed at steps 0 and 3
    with pytest.raises(ValueError, match="non-negative"):
        red.WithDenoiser(base, denoiser, weight=-1)


def test_red_with_dncnn_holds_the_psnr_after_the_peak():
    clean = images.load("coffee", size=64)
    base = operators.Denoising(25)
    y = base.corrupt(clean, seed=0)
    cfg = dict(iterations=250, seed=0, ema=0, net="tiny", reg_noise_std=0.0, lr=0.02)
    plain = np.asarray(Fit(base, y, clean, FitConfig(**cfg)).run().history["psnr_clean"])
    pulled = np.asarray(Fit(red.WithDenoiser(base, red.dncnn(), 1.0, 5), y, clean,
                            FitConfig(**cfg)).run().history["psnr_clean"])
    assert pulled[-1] > plain[-1] + 0.5, (pulled[-1], plain[-1])


def test_reptile_gives_a_head_start():
    size = 64
    state = pretrain.reptile(["rocket", "brick", "coins"], size=size, outer_steps=12, inner_steps=10,
                             net="tiny", seed=0)
    x = images.load("coffee", size=size)
    op = operators.Denoising(25)
    y = op.corrupt(x, seed=1)
    cfg = FitConfig(iterations=8, seed=0, net="tiny")
    cold = Fit(op, y, x, cfg).run().history["psnr_clean_avg"]
    warm_fit = pretrain.warm_start(Fit(op, y, x, cfg), state)
    warm = warm_fit.run().history["psnr_clean_avg"]
    assert warm[4] > cold[4] + 0.5, (warm[4], cold[4])
    with pytest.raises(RuntimeError, match="before the fit"):
        pretrain.warm_start(warm_fit, state)
    with pytest.raises(ValueError, match="at least one"):
        pretrain.reptile([], size=size)
