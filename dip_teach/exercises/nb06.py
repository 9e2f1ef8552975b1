"""Exercises of notebook 06, early stopping: why the variance dips, the moving variance, patience."""
from __future__ import annotations

import numpy as np
import torch

from . import Choice, Incorrect, Question, check_function, example, function_slip, mistake, require_function
from ..stopping import ESWMV

# ------------------------------------------------------------ 1. predict: why a variance?
predict_variance = Choice(
    "predict_variance",
    "ES-WMV watches the variance of the last W outputs of a fit, and stops near its minimum. Why should "
    "that minimum sit near the PSNR peak, which it cannot see?",
    options={
        "a": "near the peak the output has settled on the image's structure and has not yet started to copy "
             "the noise, so successive outputs differ little",
        "b": "the loss is lowest there, and a low loss means small changes",
        "c": "the variance of an output measures its noise, and the output is least noisy at the peak",
    },
    correct="a",
    why={"b": "the loss keeps falling long after the peak: it is lowest at the end",
         "c": "it is the variance over *iterations* at each pixel, not the spread of pixel values in one "
              "image: it measures how fast the output changes"},
    hint="Which changes from one iteration to the next: building structure, fitting noise, or neither?",
    explanation="Before the peak the network is still building the image (outputs change); after it, it "
                "chases the noise, a new pattern at every pixel (outputs change again). In between, "
                "the output is steady.",
)


# ------------------------------------------------------------ 2. the windowed moving variance
def _reference(frames, window):
    """VAR_t for every full window, fed frame by frame through the kit's ES-WMV."""
    crit = ESWMV(window=window, patience=10**9)
    for i, frame in enumerate(frames, start=1):
        crit.update(i, torch.as_tensor(np.asarray(frame, dtype=np.float64)))
    return np.array([v for _, v in crit.variances])


def _inputs():
    rng = np.random.default_rng(0)
    out = []
    for t, shape, window in ((12, (6, 5, 3), 4), (9, (4, 4, 1), 3), (15, (3, 7, 3), 5)):
        drift = np.linspace(0, 1, t)[:, None, None, None] * rng.random(shape)
        frames = [f for f in drift + 0.1 * rng.random((t, *shape))]
        out.append((frames, window))
    return out


def _unbiased(frames, window):
    a = np.stack(frames)
    return np.array([a[k:k + window].var(axis=0, ddof=1).mean() for k in range(len(a) - window + 1)])


def _pixel_spread(frames, window):
    a = np.stack(frames)
    return np.array([np.mean([f.var() for f in a[k:k + window]]) for k in range(len(a) - window + 1)])


def _cumulative(frames, window):
    a = np.stack(frames)
    return np.array([a[:k + window].var(axis=0).mean() for k in range(len(a) - window + 1)])


def _check_moving_variance(answer) -> None:
    require_function(answer)
    frames, window = _inputs()[0]
    got = answer(frames, window)
    n = len(frames) - window + 1
    if got is not None and np.shape(got) != (n,) and np.ndim(got) == 1:
        if np.shape(got)[0] == len(frames):
            raise Incorrect("return one value per *full* window: the first comes once `window` frames are in, "
                            "so len(frames) - window + 1 values, not one per frame")
        raise Incorrect(f"expected one value per full window (len(frames) - window + 1 of them), got "
                        f"{np.shape(got)[0]} values")
    if got is not None and np.shape(got) == (n,):
        function_slip(got, (frames, window), (
            (_unbiased, "divide by W, not W - 1: ES-WMV uses the plain (population) "
                        "variance of the window, np.var's default ddof=0"),
            (_pixel_spread, "that is the spread of pixel values inside each frame; take the "
                            "variance over the W frames at each pixel, then the mean over pixels"),
            (_cumulative, "only the last W frames count: the window slides, it does not grow "
                          "from the first frame")))
    check_function(answer, _reference, _inputs(), rtol=1e-6, atol=1e-12, name="your moving_variance")


moving_variance = Question(
    "moving_variance",
    "Write `moving_variance(frames, window)`: `frames` is a list of T output images (arrays of the same "
    "shape, in iteration order). For each full window of the last `window` frames, return the variance over "
    "those frames at each pixel, averaged over all pixels and channels: an array of T - window + 1 values.",
    checker=_check_moving_variance,
    hint=["np.stack(frames) gives a (T, H, W, C) array; a window is a slice a[k:k + window] along the first axis.",
          "a = np.stack(frames); return np.array([a[k:k + window].var(axis=0).mean() for k in "
          "range(len(a) - window + 1)])"],
    solution="""
    def moving_variance(frames, window):
        a = np.stack(frames)                       # (T, H, W, C)
        return np.array([a[k:k + window].var(axis=0).mean()       # over the window's frames, per pixel,
                         for k in range(len(a) - window + 1)])      # then the mean over pixels
    """,
    right=example(lambda: _reference),
    wrong=[mistake(example(lambda: _unbiased), says="W - 1"),
           mistake(example(lambda: _pixel_spread), says="inside each frame"),
           mistake(example(lambda: _cumulative), says="slides")],
)


# ------------------------------------------------------------ 3. predict: more patience
predict_patience = Choice(
    "predict_patience",
    "ES-WMV fires once `patience` iterations pass without a new minimum of the variance, and returns the "
    "output at the minimum. What happens when you double the patience?",
    options={
        "a": "it stops later, and picks the same iteration or a later one with a lower variance",
        "b": "it stops earlier, since it has more patience to spend",
        "c": "nothing changes: the minimum of the variance does not depend on the patience",
    },
    correct="a",
    why={"b": "patience is how long it waits for a better minimum: more of it means waiting longer",
         "c": "the minimum it returns is the minimum *so far*; waiting longer can find a lower one later"},
    hint="The criterion keeps the lowest variance seen so far. What can a longer wait reveal?",
    explanation="More patience costs iterations and can only move the pick to a lower variance; whether that "
                "is closer to the PSNR peak depends on the image (the sweep in section 3 shows it).",
)
