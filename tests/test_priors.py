"""Handcrafted priors: the energies, the loop, the weight search, scikit-image agreement, errors."""
import math

import numpy as np
import pytest
import pywt
import torch

from dip_teach import images, metrics, operators as ops, priors
from dip_teach.images import ImageError

# Agreement with scikit-image: at each solver's own best weight (searched on a grid with
# ratio sqrt(2)), our PSNR on the same noisy image is within this many dB of theirs.
TOLERANCE_DB = 0.5


@pytest.fixture(scope="module")
def noisy_cases():
    """(name, clean, noisy) at 64x64, sigma 25, fixed seed: a cartoon and a natural image."""
    out = []
    for name in ("cartoon", "astronaut"):
        clean = images.to_tensor(images.load(name, size=64))
        out.append((name, clean, ops.Denoising(25).corrupt(clean, seed=0)))
    return out


# ------------------------------------------------------------------------ energies
def test_tv_matches_a_numpy_formula():
    x = torch.rand(1, 3, 16, 20, dtype=torch.float64)
    a = x[0].numpy()
    dx = np.zeros_like(a); dx[:, :, :-1] = np.diff(a, axis=2)
    dy = np.zeros_like(a); dy[:, :-1, :] = np.diff(a, axis=1)
    eps = 1e-3
    expected = (np.sqrt(dx ** 2 + dy ** 2 + eps ** 2) - eps).mean()
    assert priors.total_variation(x, eps=eps).item() == pytest.approx(expected, rel=1e-10)
    assert priors.tikhonov(x).item() == pytest.approx((dx ** 2 + dy ** 2).mean(), rel=1e-10)


def test_flat_images_cost_nothing_and_noise_costs_more_than_edges():
    flat = torch.full((1, 1, 32, 32), 0.4)
    for prior in ("tikhonov", "tv", "wavelet"):
        assert priors.get_prior(prior)(flat).item() == pytest.approx(0, abs=1e-7)
    edge = torch.zeros(1, 1, 32, 32); edge[..., 16:] = 1
    noise = torch.rand(1, 1, 32, 32, generator=torch.Generator().manual_seed(0))
    assert priors.total_variation(noise) > priors.total_variation(edge)


def test_haar_is_orthonormal_and_matches_pywavelets():
    x = torch.rand(1, 2, 32, 64, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    approx, details = priors.haar_decompose(x, 3)
    assert torch.allclose(priors.haar_reconstruct(approx, details), x, atol=1e-12)
    energy = (approx ** 2).sum() + sum((d ** 2).sum() for d in details)
    assert energy.item() == pytest.approx((x ** 2).sum().item(), rel=1e-12)   # Parseval
    for c in range(2):
        ref = pywt.wavedec2(x[0, c].numpy(), "haar", level=3)
        assert np.allclose(ref[0], approx[0, c].numpy())
        for level, d in zip(ref[1:], reversed(details)):        # pywt lists coarse first
            ours = np.sort(np.abs(d[0, c].numpy()).ravel())
            assert np.allclose(np.sort(np.abs(np.stack(level)).ravel()), ours)


def test_wavelet_l1_is_the_l1_of_the_detail_coefficients():
    x = torch.rand(1, 3, 64, 64, dtype=torch.float64)
    ref = sum(np.abs(np.stack(d)).sum() for c in range(3) for d in pywt.wavedec2(x[0, c].numpy(), "haar", level=3)[1:])
    assert priors.wavelet_l1(x, levels=3, eps=1e-9).item() == pytest.approx(ref / x.numel(), rel=1e-6)
    assert priors.default_levels(x.shape) == 3


# --------------------------------------------------------------------------- the loop
@pytest.mark.parametrize("prior", ["tikhonov", "tv", "wavelet"])
def test_every_prior_improves_on_the_noisy_input(noisy_cases, prior):
    for _, clean, y in noisy_cases:
        r = priors.restore(y, ops.Denoising(25), prior, priors.DEFAULT_WEIGHTS[prior][3], iterations=100, clean=clean)
        assert r.psnr > metrics.psnr(y, clean) + 1.0
        assert r.energies[-1] < r.energies[0]
        assert r.image.shape == (64, 64, 3) and len(r.psnrs) > 5


def test_tv_shines_on_the_cartoon(noisy_cases):
    _, clean, y = noisy_cases[0]
    r = priors.restore(y, ops.Denoising(25), "tv", 0.16, iterations=100, clean=clean)
    assert r.psnr > metrics.psnr(y, clean) + 7


def test_prior_free_fit_keeps_the_noise_and_the_holes(small_tensor):
    y = ops.Denoising(25).corrupt(small_tensor, seed=0)
    r = priors.prior_free_fit(y, ops.Denoising(25), iterations=50)
    assert torch.allclose(r.x, y, atol=1e-4)                    # the noise is fitted, not removed
    mask = ops.pixel_mask((64, 64), 0.5, seed=0)
    op = ops.Inpainting(mask)
    r = priors.prior_free_fit(op.corrupt(small_tensor), op, iterations=50)
    assert torch.all(r.x[0][:, mask == 0] == 0)                  # holes stay where they started


def test_tv_inpainting_fills_the_holes(small_tensor):
    op = ops.Inpainting(ops.pixel_mask((64, 64), 0.5, seed=0))
    y = op.corrupt(small_tensor)
    r = priors.restore(y, op, "tv", 0.005, iterations=300, clean=small_tensor)
    assert r.psnr > metrics.psnr(y, small_tensor) + 10


def test_super_resolution_runs_at_the_high_resolution(small_tensor):
    op = ops.Downsampling(4)
    y = op.corrupt(small_tensor)
    r = priors.restore(y, op, "tv", 0.002, iterations=100, clean=small_tensor)
    assert r.x.shape == small_tensor.shape
    assert r.psnr > metrics.psnr(ops.upsample_bicubic(y, 4), small_tensor)


def test_threads_are_restored(small_tensor):
    before = torch.get_num_threads()
    priors.restore(small_tensor, ops.Denoising(25), "tv", 0.1, iterations=5)
    assert torch.get_num_threads() == before


def test_weight_search_finds_an_interior_best(noisy_cases):
    _, clean, y = noisy_cases[1]
    s = priors.best_weight(y, ops.Denoising(25), "tv", clean, iterations=100)
    assert s.weights[0] < s.best_weight < s.weights[-1]
    assert s.best_psnr == max(s.psnrs) and s.best.psnr == pytest.approx(s.best_psnr)
    assert "(best)" in s.table()


# ---------------------------------------------------------------- scikit-image agreement
@pytest.mark.parametrize("case", [0, 1], ids=["cartoon", "astronaut"])
def test_tv_agrees_with_chambolle(noisy_cases, case):
    _, clean, y = noisy_cases[case]
    ours = priors.best_weight(y, ops.Denoising(25), "tv", clean, iterations=100)
    theirs = priors.sweep(lambda w: priors.skimage_tv(y, w), np.geomspace(0.01, 0.64, 13), clean)
    assert abs(ours.best_psnr - theirs.best_psnr) < TOLERANCE_DB, (ours.best_psnr, theirs.best_psnr)
    # and the weights correspond: ours = 2 x scikit-image's, up to the grid step (2^0.5)
    assert 0.45 < ours.best_weight / (2 * theirs.best_weight) < 2.2


@pytest.mark.parametrize("case", [0, 1], ids=["cartoon", "astronaut"])
def test_wavelet_agrees_with_visushrink(noisy_cases, case):
    _, clean, y = noisy_cases[case]
    ours = priors.best_weight(y, ops.Denoising(25), "wavelet", clean, iterations=100)
    theirs = priors.sweep(lambda s: priors.skimage_wavelet(y, s), np.geomspace(0.004, 0.128, 11), clean)
    assert abs(ours.best_psnr - theirs.best_psnr) < TOLERANCE_DB, (ours.best_psnr, theirs.best_psnr)


def test_reference_baselines_beat_the_noise(noisy_cases):
    _, clean, y = noisy_cases[1]
    noisy_psnr = metrics.psnr(y, clean)
    assert metrics.psnr(priors.skimage_nlm(y), clean) > noisy_psnr + 2
    assert metrics.psnr(priors.skimage_wavelet(y), clean) > noisy_psnr + 1


# ---------------------------------------------------------------------------- errors
def test_bad_inputs_are_explained(small_tensor):
    op = ops.Denoising(25)
    with pytest.raises(ValueError, match="unknown prior 'tvv'.*'tv'"):
        priors.restore(small_tensor, op, "tvv")
    with pytest.raises(ValueError, match="non-negative"):
        priors.restore(small_tensor, op, "tv", weight=-1)
    with pytest.raises(TypeError, match="weight must be a number"):
        priors.restore(small_tensor, op, "tv", weight="big")
    with pytest.raises(ValueError, match="positive integer"):
        priors.restore(small_tensor, op, "tv", iterations=0)
    with pytest.raises(TypeError, match="Operator"):
        priors.restore(small_tensor, "denoise", "tv")
    with pytest.raises(ImageError, match="clean image"):
        priors.restore(small_tensor, op, "tv", clean=torch.zeros(1, 3, 32, 32))
    with pytest.raises(ImageError, match="one image"):
        priors.restore(torch.zeros(2, 3, 8, 8), op, "tv")
    with pytest.raises(TypeError, match="tensor"):
        priors.restore([[0.5]], op, "tv")
    with pytest.raises(ValueError, match="divisible by 8"):
        priors.haar_decompose(torch.zeros(1, 1, 12, 16), 3)
    with pytest.raises(ValueError, match="eps"):
        priors.total_variation(small_tensor, eps=0)
    with pytest.raises(TypeError, match="to_tensor"):
        priors.total_variation(np.zeros((8, 8, 3)))
    with pytest.raises(ValueError, match="pass weights"):
        priors.best_weight(small_tensor, op, "none", small_tensor)
    with pytest.raises(ValueError, match="clean image"):
        priors.best_weight(small_tensor, op, "tv", None)
    with pytest.raises(ImageError, match="mask is"):
        priors.restore(small_tensor, ops.Inpainting(ops.pixel_mask((32, 32))), "tv")


def test_descend_keeps_the_null_space_exactly(small_tensor):
    # plain gradient descent: the holes (the null space of a mask) never move, the known pixels converge
    mask = torch.from_numpy(ops.pixel_mask(small_tensor.shape[-2:], missing=0.5, seed=0))
    op = ops.Inpainting(mask)
    y = op.corrupt(small_tensor)
    x0 = torch.rand_like(small_tensor)
    res = priors.descend(y, op, x0, steps=50, lr=0.5)
    holes = (mask == 0).expand_as(small_tensor[0])[None]
    assert torch.equal(res.x[holes], x0[holes])
    assert (res.x - small_tensor)[~holes].abs().max() < 1e-6
    assert not torch.equal(x0, res.x) and res.energies[-1] < 1e-6 * res.energies[0]


def test_descend_fits_a_downsampler_with_lr_factor_squared(small_tensor):
    op = ops.Downsampling(4)
    y = op.corrupt(small_tensor)
    res = priors.descend(y, op, ops.upsample_bicubic(y, 4), steps=50, lr=16, clean=small_tensor)
    assert metrics.psnr(op.forward(res.x), y) > 60 and res.psnr > 20
