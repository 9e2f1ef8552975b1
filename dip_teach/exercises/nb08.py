"""Exercises of notebook 08, super-resolution: the papers' PSNR, and what the data term cannot see."""
from __future__ import annotations

import math

import numpy as np

from . import Choice, Incorrect, Question, example, mistake, require_function
from .. import evaluate, metrics


def _pairs():
    rng = np.random.default_rng(0)
    out = []
    for h, w, border in [(24, 24, 4), (32, 20, 2), (16, 16, 0)]:
        ref = rng.random((h, w, 3)).astype(np.float32)
        # an estimate whose errors are larger near the border (as SR methods' are)
        err = 0.03 * rng.standard_normal((h, w, 3))
        err[:3] *= 4
        err[:, -3:] *= 4
        out.append((np.clip(ref + err, 0, 1).astype(np.float32), ref, border))
    return out


def _check_psnr_y(answer) -> None:
    require_function(answer, "psnr_y")
    for i, (x, ref, border) in enumerate(_pairs()):
        got = answer(x, ref, border)
        try:
            got = float(got)
        except (TypeError, ValueError):
            raise Incorrect(f"return the PSNR as one number, got {type(got).__name__}") from None
        want = evaluate.psnr_luminance(x, ref, border)
        if abs(got - want) < 0.01:
            continue
        if border and abs(got - evaluate.psnr_luminance(x, ref, 0)) < 0.01:
            raise Incorrect(f"on test {i + 1} your PSNR is too low: you scored the border too; crop {border} "
                            "pixels from every side of both images first")
        mean_rgb = _psnr_of(x.mean(-1), ref.mean(-1), border)
        if abs(got - mean_rgb) < 0.01:
            raise Incorrect("you averaged R, G and B with equal weights; luminance weighs green most "
                            "(Y = 16/255 + (65.481 R + 128.553 G + 24.966 B) / 255)")
        if abs(got - _psnr_of(x, ref, border)) < 0.01 or abs(got - metrics.psnr(x, ref)) < 0.01:
            raise Incorrect("that is the PSNR over the three colour channels; convert both images to luminance Y first")
        way = "too high" if got > want else "too low"
        far = abs(got - want)
        size = "far off (tens of dB): check the 255 scaling of the weights" if far > 20 else f"off by {far:.1f} dB"
        raise Incorrect(f"on test {i + 1} your PSNR is {way}, {size}")


def _psnr_of(a, b, border):
    if border:
        a, b = a[border:-border, border:-border], b[border:-border, border:-border]
    mse = float(((np.asarray(a, np.float64) - b) ** 2).mean())
    return 10 * math.log10(1 / mse)


def _no_crop(x, ref, border):
    return evaluate.psnr_luminance(x, ref, 0)


psnr_y = Question(
    "psnr_y",
    "Write `psnr_y(x, ref, border)`: PSNR (peak 1) between the luminance channels of two (H, W, 3) arrays in "
    "[0, 1], after cropping `border` pixels from every side. Luminance: Y = 16/255 + (65.481 R + 128.553 G "
    "+ 24.966 B) / 255.",
    checker=_check_psnr_y,
    hint=["Three steps: convert both images to Y, crop the border from both, then the usual PSNR with peak 1.",
          "Y = 16 / 255 + img @ np.array([65.481, 128.553, 24.966]) / 255 is (H, W); crop with [b:-b, b:-b] "
          "(b = 0 needs no crop); then 10 * log10(1 / mean squared difference)."],
    solution="""
    def psnr_y(x, ref, border):
        w = np.array([65.481, 128.553, 24.966]) / 255
        y, r = 16 / 255 + x @ w, 16 / 255 + ref @ w
        if border:
            y, r = y[border:-border, border:-border], r[border:-border, border:-border]
        return 10 * np.log10(1 / np.mean((y - r) ** 2))
    """,
    right=example(lambda: evaluate.psnr_luminance),
    wrong=[mistake(example(lambda: _no_crop), says="scored the border"),
           mistake(example(lambda: lambda x, r, b: _psnr_of(x.mean(-1), r.mean(-1), b)), says="equal weights"),
           mistake(example(lambda: lambda x, r, b: _psnr_of(x, r, b)), says="colour channels"),
           mistake(example(lambda: lambda x, r, b: _psnr_of(x @ np.array([65.481, 128.553, 24.966]),
                                                            r @ np.array([65.481, 128.553, 24.966]), b)),
                   says="255 scaling")],
)


null_space = Choice(
    "null_space",
    "Predict, then run: two prior-free fits of the same low-resolution image, one started from the bicubic "
    "upsampling and one from random noise, both reach (almost) zero data loss. Their PSNRs to the clean image are ...",
    options={"a": "equal: both explain the observation perfectly",
             "b": "very different: the noise start keeps its noise",
             "c": "both below bicubic by the same amount"},
    correct="b",
    why={"a": "explaining y says nothing about the detail the downsampler removes; whatever the start put "
              "there stays",
         "c": "the two fits keep different things in the part of the image A cannot see"},
    hint=["The gradient of ||A x - y||^2 is A^T (A x - y): which parts of x can it ever change?",
          "Anything A maps to zero (detail finer than the low-resolution grid) gets no gradient at all."],
    explanation="Downsampling has a huge null space (15 of every 16 numbers at 4x): the data term cannot move "
                "x along it, so the start decides it. That is the gap a prior has to fill.",
)
