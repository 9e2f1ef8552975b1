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


def test_red_pull_is_a_prior_term_refreshed_every_few_steps():
    calls = []

    def denoiser(x):
        calls.append(1)
        return torch.zeros_like(x)

    pull = red.Pull(denoiser, weight=2.0, every=3)
    x = torch.full((1, 3, 8, 8), 0.5, requires_grad=True)
    term = pull(x)
    assert term.item() == pytest.approx(2.0 * 0.25)                        # pulled towards D(x) = 0
    (grad,) = torch.autograd.grad(term, x)
    assert torch.allclose(grad, torch.full_like(x, 2 * 2.0 * 0.5 / x.numel()))   # 2 w (x - t) / n
    for _ in range(5):
        pull(x)
    assert len(calls) == 2                                                 # refreshed at calls 0 and 3
    assert red.Pull(denoiser, weight=0)(x).item() == 0
    with pytest.raises(ValueError, match="non-negative"):
        red.Pull(denoiser, weight=-1)


def test_fit_adds_the_prior_to_the_data_term_only():
    clean = images.load("coffee", size=64)
    base = operators.Denoising(25)
    y = base.corrupt(clean, seed=0)
    cfg = FitConfig(iterations=3, seed=0, ema=0, net="tiny", reg_noise_std=0.0)
    plain = Fit(base, y, clean, cfg).run().history
    zero = Fit(base, y, clean, cfg, prior=lambda x: x.sum() * 0).run().history
    assert zero["loss"] == plain["loss"]                                   # a zero prior changes nothing
    pulled = Fit(base, y, clean, cfg, prior=lambda x: x.new_tensor(1.0)).run().history
    assert pulled["loss"][0] == pytest.approx(plain["loss"][0] + 1.0)     # the loss holds the prior term


def test_red_with_dncnn_holds_the_psnr_after_the_peak():
    clean = images.load("coffee", size=64)
    base = operators.Denoising(25)
    y = base.corrupt(clean, seed=0)
    cfg = dict(iterations=250, seed=0, ema=0, net="tiny", reg_noise_std=0.0, lr=0.02)
    plain = np.asarray(Fit(base, y, clean, FitConfig(**cfg)).run().history["psnr_clean"])
    pulled = np.asarray(Fit(base, y, clean, FitConfig(**cfg),
                            prior=red.Pull(red.dncnn(), 1.0, 5)).run().history["psnr_clean"])
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
