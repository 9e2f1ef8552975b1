"""Exercises of notebook 05, structure before noise: predict the race, the band error, the control."""
from __future__ import annotations

import numpy as np

from . import Choice, Question, check_function, example, function_slip, mistake, require_function
from .. import spectral

# ------------------------------------------------------------ 1. predict the race
predict_race = Choice(
    "predict_race",
    "One network, the same random start, four targets of the same size: a natural image, the image plus "
    "noise, its pixels shuffled, white noise. Which reaches a low loss first, and which last?",
    options={
        "a": "all four together: they have the same number of pixels to fit",
        "b": "white noise first (nothing to understand, just copy), the natural image last",
        "c": "the natural image first, white noise last",
    },
    correct="c",
    why={"a": "the loss counts pixels equally, but the network does not find all pixel arrangements "
              "equally easy to produce",
         "b": "a convolutional generator produces smooth, correlated images easily; every pixel of white "
              "noise must be made independently of its neighbours"},
    hint="Think of what a stack of small convolutions and upsamplings produces from random weights.",
    explanation="Same loss, same optimiser, same number of values: what differs is how the network's "
                "structure, trained by that optimiser, meets each target. The fair pair is the natural image "
                "and its shuffled pixels (the same values); white noise also has more variance to fit.",
)


# ------------------------------------------------------------ 2. error per frequency band
def _reference(estimate, reference, bands):
    return spectral.band_errors(estimate, reference, bands, window=False)


def _inputs():
    rng = np.random.default_rng(0)
    out = []
    for shape, bands in (((16, 16, 3), 4), ((12, 20, 1), 3), ((24, 24, 3), 6)):
        ref = rng.random(shape)
        est = ref + 0.2 * rng.standard_normal(shape) * np.linspace(0, 1, shape[1])[None, :, None]
        out.append((est, ref, bands))
    return out


def _energy(a, bands, square=True):
    spec = np.abs(np.fft.fft2(a, axes=(0, 1)))
    spec = (spec ** 2 if square else spec).sum(axis=2)
    return np.bincount(spectral.band_index(a.shape[0], a.shape[1], bands).ravel(), weights=spec.ravel(),
                       minlength=bands)


def _no_square(estimate, reference, bands):
    return _energy(estimate - reference, bands, square=False) / _energy(reference, bands, square=False)


def _magnitude_difference(estimate, reference, bands):
    index = spectral.band_index(reference.shape[0], reference.shape[1], bands).ravel()
    diff = (np.abs(np.fft.fft2(estimate, axes=(0, 1))) - np.abs(np.fft.fft2(reference, axes=(0, 1)))) ** 2
    return np.bincount(index, weights=diff.sum(axis=2).ravel(), minlength=bands) / _energy(reference, bands)


def _by_estimate(estimate, reference, bands):
    return _energy(estimate - reference, bands) / _energy(estimate, bands)


def _check_band_errors(answer) -> None:
    require_function(answer)
    est, ref, bands = _inputs()[0]
    got = answer(est, ref, bands)
    if got is not None and np.shape(got) == (bands,):
        function_slip(got, (est, ref, bands), (
            (_no_square, "square the magnitudes: a band's energy is the sum of |F|^2, not |F|"),
            (_magnitude_difference, "take the FFT of the difference (estimate - reference); "
                                    "the difference of the magnitudes ignores the phases, "
                                    "where an image's edges live"),
            (_by_estimate, "divide by the reference's energy in each band, not the "
                           "estimate's: 1 must mean 'as wrong as predicting zero'")))
    check_function(answer, _reference, _inputs(), rtol=1e-6, atol=1e-9, name="your band_errors")


band_errors = Question(
    "band_errors",
    "Write `band_errors(estimate, reference, bands)` for two (H, W, C) arrays: for each radial band k, the "
    "energy of the Fourier transform of (estimate - reference) in band k divided by the energy of the "
    "reference's transform in band k (summed over colour channels, no window). "
    "`spectral.band_index(H, W, bands)` gives every FFT coefficient's band.",
    checker=_check_band_errors,
    hint=["np.fft.fft2(x, axes=(0, 1)) transforms each channel; energy is |F|^2; np.bincount with weights "
          "sums values per band.",
          "index = spectral.band_index(H, W, bands).ravel(); energy(x) = np.bincount(index, "
          "weights=(np.abs(np.fft.fft2(x, axes=(0, 1))) ** 2).sum(axis=2).ravel(), minlength=bands); "
          "return energy(estimate - reference) / energy(reference)."],
    solution="""
    def band_errors(estimate, reference, bands):
        index = spectral.band_index(reference.shape[0], reference.shape[1], bands).ravel()
        def energy(x):
            power = (np.abs(np.fft.fft2(x, axes=(0, 1))) ** 2).sum(axis=2)   # |F|^2, all channels
            return np.bincount(index, weights=power.ravel(), minlength=bands)
        return energy(estimate - reference) / energy(reference)
    """,
    right=example(lambda: _reference),
    wrong=[mistake(example(lambda: _no_square), says="square the magnitudes"),
           mistake(example(lambda: _magnitude_difference), says="difference"),
           mistake(example(lambda: _by_estimate), says="reference's energy")],
)


# ------------------------------------------------------------ 3. the control: no convolutions
predict_mlp = Choice(
    "predict_mlp",
    "Now the race runs with a per-pixel MLP: the same small network applied to each pixel's input vector "
    "on its own, with no convolutions and no upsampling. How do the natural image and its shuffled pixels "
    "compare?",
    options={
        "a": "the natural image still wins clearly: it is the same image",
        "b": "they finish together: for this network they are the same problem",
        "c": "the shuffled pixels win: without structure the MLP is not confused",
    },
    correct="b",
    why={"a": "nothing in a per-pixel MLP connects a pixel to its neighbours, so it cannot use the "
              "image's structure",
         "c": "the shuffled target holds exactly the same colours; the MLP sees both as one bag of pixels"},
    hint="Each output pixel depends only on the random input vector at that pixel. What does shuffling "
         "the target's pixels change for such a network?",
    explanation="Shuffling the target only relabels which random input vector must produce which colour; "
                "the inputs are i.i.d., so the problem is statistically the same. So the architecture is "
                "necessary for the preference; the optimiser still sets how fast each part is fitted.",
)
