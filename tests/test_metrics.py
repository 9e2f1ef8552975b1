import math

import numpy as np
import pytest
from skimage.metrics import peak_signal_noise_ratio, structural_similarity

from dip_teach import images, metrics


@pytest.fixture
def pair():
    clean = images.load("astronaut", size=64)
    noisy = np.clip(clean + np.random.default_rng(0).normal(0, 0.1, clean.shape), 0, 1).astype(np.float32)
    return clean, noisy


def test_psnr_matches_scikit_image(pair):
    clean, noisy = pair
    assert metrics.psnr(noisy, clean) == pytest.approx(peak_signal_noise_ratio(clean, noisy, data_range=1), abs=1e-4)
    assert metrics.psnr(images.to_tensor(noisy), images.to_tensor(clean)) == pytest.approx(metrics.psnr(noisy, clean))
    assert metrics.psnr(clean, clean) == math.inf


def test_ssim_matches_scikit_image(pair):
    clean, noisy = pair
    ref = structural_similarity(clean, noisy, data_range=1, channel_axis=2, gaussian_weights=True,
                                sigma=1.5, use_sample_covariance=False)
    assert metrics.ssim(noisy, clean) == pytest.approx(ref, abs=1e-4)
    assert metrics.ssim(clean, clean) == pytest.approx(1.0)


def test_shape_mismatch_is_explained(pair):
    with pytest.raises(ValueError, match="differ in shape"):
        metrics.psnr(pair[0], pair[0][:32])


def test_db_from_mse_is_the_psnr_of_an_mse(pair):
    clean, noisy = pair
    assert metrics.db_from_mse(metrics.mse(noisy, clean)) == metrics.psnr(noisy, clean)
    assert metrics.db_from_mse(0.01) == pytest.approx(20.0)
    assert metrics.db_from_mse(0.01 * 255 ** 2, peak=255) == pytest.approx(20.0)
    assert metrics.db_from_mse(0) == math.inf
    with pytest.raises(ValueError, match="negative"):
        metrics.db_from_mse(-1e-3)
