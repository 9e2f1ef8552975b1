"""Error per radial frequency band (dip_teach.spectral)."""
from __future__ import annotations

import numpy as np
import pytest
from scipy.ndimage import gaussian_filter

from dip_teach import images, spectral


def test_band_index_covers_every_coefficient_low_to_high():
    idx = spectral.band_index(32, 48, bands=6)
    assert idx.shape == (32, 48)
    assert idx[0, 0] == 0                          # the mean colour is the lowest band
    assert set(np.unique(idx)) == set(range(6))
    assert idx[16, 24] == 5                        # the corner (Nyquist in both axes) is the highest


def test_perfect_and_zero_estimates():
    x = images.load("coffee", size=64)
    assert np.allclose(spectral.band_errors(x, x), 0)
    assert np.allclose(spectral.band_errors(np.zeros_like(x), x), 1)


def test_accepts_tensors_and_arrays_alike():
    x = images.load("coffee", size=64)
    y = np.clip(x + 0.05, 0, 1)
    a = spectral.band_errors(y, x, bands=5)
    b = spectral.band_errors(images.to_tensor(y), images.to_tensor(x), bands=5)
    assert np.allclose(a, b)


def test_blur_loses_high_frequencies_and_noise_hits_them_hardest():
    x = images.load("camera", size=128)
    blurred = np.stack([gaussian_filter(x[..., c], 2.0) for c in range(x.shape[2])], axis=2)
    e = spectral.band_errors(blurred, x, bands=8)
    assert e[0] < 0.01 and e[-1] > 0.8             # the coarse shape survives, fine detail is gone
    assert np.all(np.diff(e) > -1e-6)              # error grows with frequency
    noisy = x + np.random.default_rng(0).normal(0, 0.1, x.shape)
    e = spectral.band_errors(noisy, x, bands=8)
    assert e[-1] > 10 * e[0]                       # white noise is small next to the image's low frequencies


def test_shape_mismatch_is_a_clear_error():
    with pytest.raises(ValueError, match="same shape"):
        spectral.band_errors(np.zeros((32, 32, 3)), np.zeros((64, 64, 3)))
    with pytest.raises(ValueError, match="at least 1"):
        spectral.band_edges(0)


def test_band_energy_sums_to_parseval():
    x = np.random.default_rng(1).random((32, 32, 3))
    energy = spectral.band_energy(x, bands=7).sum()
    assert energy == pytest.approx(32 * 32 * np.sum(x**2))     # Parseval for the unnormalised FFT


class _FitLike:
    """Just what BandErrorTrack needs: iteration, latest(), config, callbacks."""

    def __init__(self, target, iterations=20):
        self.target = target
        self.observation = images.to_tensor(target)
        self.clean = None
        self.output_size = target.shape[:2]
        self.config = type("C", (), {"iterations": iterations})()
        self.iteration = 0
        self.callbacks = []

    def add_callback(self, fn):
        self.callbacks.append(fn)

    def latest(self):
        # a "fit" that gets the coarse scales first: less and less blur
        sigma = 8.0 / self.iteration
        return np.stack([gaussian_filter(self.target[..., c], sigma) for c in range(3)], axis=2)

    def run(self):
        for _ in range(self.config.iterations):
            self.iteration += 1
            for fn in self.callbacks:
                fn(self)


def test_track_records_low_frequencies_first():
    x = images.load("coffee", size=64)
    fit = _FitLike(x, iterations=40)
    track = spectral.track(fit, reference="observation", bands=6, points=20)
    fit.run()
    assert track.errors.shape == (len(track.iterations), 6) and len(track.iterations) >= 20
    first = track.first_below(0.3)
    assert np.isfinite(first[0]) and first[0] == track.iterations[0]
    reached = first[np.isfinite(first)]
    assert len(reached) >= 3 and np.all(np.diff(reached) >= 0)   # higher bands later


def test_track_refuses_a_missing_clean_image():
    fit = _FitLike(np.zeros((32, 32, 3), np.float32))
    with pytest.raises(ValueError, match="no clean image"):
        spectral.track(fit, reference="clean")


def test_heat_map_draws():
    x = images.load("coffee", size=64)
    fit = _FitLike(x, iterations=10)
    track = spectral.track(fit, points=10)
    heat = spectral.plot(track)                    # before any data: no error
    fit.run()
    heat.update()
    data = heat.image.get_array()
    assert data.shape == (8, len(track.iterations))
    assert data[0, -1] < data[-1, -1]              # low band fitted better than the high band


def test_with_the_real_fit():
    from dip_teach import operators
    from dip_teach.fit import Fit, FitConfig

    x = images.load("coffee", size=64)
    fit = Fit(operators.Operator(), x, config=FitConfig(iterations=8, net="tiny", stopping=None))
    track = spectral.track(fit, points=8)
    fit.run()
    errs = track.errors
    assert errs.shape == (8, 8)
    assert errs[-1, 0] < errs[0, 0]                # the lowest band improves within a few steps
    assert errs[-1, 0] < errs[-1, -1]              # and is ahead of the highest
