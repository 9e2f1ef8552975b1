"""Exercises of notebook 01, inverse problems: a forward operator, and why a prior is needed."""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from . import Choice, Incorrect, Question, check_function, close, example, mistake


# ----------------------------------------------------------------- 1. a forward operator
def _box_downsample(x: torch.Tensor) -> torch.Tensor:
    return F.avg_pool2d(x, 2)


def _check_forward_operator(answer) -> None:
    g = torch.Generator().manual_seed(0)
    inputs = [(torch.rand(1, 3, 8, 8, generator=g),), (torch.rand(1, 1, 16, 12, generator=g),)]
    if callable(answer):
        got = answer(inputs[0][0])
        if isinstance(got, torch.Tensor) and got.shape == (1, 3, 8, 8):
            raise Incorrect("the output has the input's size: A must make a 2x smaller image")
        sub = inputs[0][0][..., ::2, ::2]
        if isinstance(got, torch.Tensor) and got.shape == sub.shape and torch.allclose(got, sub):
            raise Incorrect("that keeps one pixel in four (subsampling); a camera pixel averages the "
                            "light over its whole 2x2 area")
    check_function(answer, _box_downsample, inputs, name="your A")


forward_operator = Question(
    "forward_operator",
    "Write `A(x)`: a camera with pixels twice as large, i.e. every output pixel is the mean of "
    "a 2x2 block of the input. Input (1, C, H, W), output (1, C, H/2, W/2).",
    checker=_check_forward_operator,
    hint=["Each output pixel (i, j) is the mean of the input pixels (2i, 2j), (2i, 2j+1), (2i+1, 2j) "
          "and (2i+1, 2j+1).",
          "Split the image into its four interleaved sub-grids, x[..., 0::2, 0::2], x[..., 0::2, 1::2], ... "
          "and average them; or look up torch.nn.functional.avg_pool2d."],
    solution="""
    def A(x):
        return torch.nn.functional.avg_pool2d(x, 2)
        # or: (x[..., 0::2, 0::2] + x[..., 0::2, 1::2] + x[..., 1::2, 0::2] + x[..., 1::2, 1::2]) / 4
    """,
    right=example(lambda: _box_downsample),
    wrong=[mistake(example(lambda: (lambda x: x[..., ::2, ::2])), says="subsampling"),
           mistake(example(lambda: (lambda x: x)), says="2x smaller"),
           mistake(example(lambda: (lambda x: F.avg_pool2d(x, 2) * 4)), says="differs")],
)


# ------------------------------------------------------------------ 2. why ill-posed
ill_posed = Choice(
    "ill_posed",
    "The prior-free fit left the holes of the inpainting problem exactly as they started. Why?",
    options={
        "a": "Adam's learning rate is too small to reach the missing pixels in 200 steps.",
        "b": "The data term does not depend on the missing pixels: its gradient there is zero, so every "
             "value in a hole fits the observation equally well.",
        "c": "The noise in the observation hides the missing pixels.",
        "d": "The mask is random, so the optimiser cannot tell where the holes are.",
    },
    correct="b",
    why={
        "a": "run it 100 times longer and nothing changes: the gradient in a hole is exactly 0",
        "c": "there is no noise in this observation, and the holes still stay empty",
        "d": "the mask is known exactly; it is part of A",
    },
    hint=["Write the data term ||m * x - y||^2 and differentiate it with respect to a pixel where m = 0.",
          "m = 0 there, so that pixel does not appear in the data term at all. What is its gradient?"],
    explanation="Infinitely many images explain the data; only a prior can choose between them.",
)


# ------------------------------------------------------------------ 3. counting unknowns
def _check_known_fraction(answer) -> None:
    close(answer, 1 / 16, rtol=0.01, what="your fraction",
          slips={"that counts one side only: the image shrinks 4x in height *and* in width": 1 / 4,
                 "that is the fraction the prior must supply; the question asks what is measured": 15 / 16,
                 "upside down: numbers in the observation divided by numbers in the image": 16})


known_fraction = Question(
    "known_fraction",
    "In 4x super-resolution, the observation holds how many numbers per number of the image we "
    "want (a fraction)? The rest must come from the prior.",
    checker=_check_known_fraction,
    hint=["A 256x256 image becomes a 64x64 observation. Count the numbers in both.",
          "Both counts are side x side (the channels cancel): divide the observation's by the image's."],
    solution="answer = (64 * 64) / (256 * 256)   # = 1/16: 15 of every 16 numbers are not measured",
    right=1 / 16,
    wrong=[mistake(1 / 4, says="one side"), mistake(15 / 16, says="prior"), mistake(16, says="upside down")],
    explanation="15 of every 16 numbers are not measured at all.",
)


# ------------------------------------------------------------------ 4. the noise's PSNR
def _check_noise_psnr(answer) -> None:
    target = 10 * math.log10(1 / (25 / 255) ** 2)
    close(answer, target, atol=0.05, rtol=0, what="your PSNR", unit="dB", slips={
        "sigma went in on the 0-255 scale; PSNR here is for images in [0, 1], so use 25/255":
            10 * math.log10(1 / 25 ** 2),
        "the MSE is the noise's variance sigma^2, not sigma (a square went missing)":
            10 * math.log10(1 / (25 / 255)),
        "that is 10 log10(MSE); PSNR is 10 log10(1 / MSE)": -target,
    })


noise_psnr = Question(
    "noise_psnr",
    "Predict the PSNR (dB) of y = x + n against x for Gaussian noise of sigma = 25 (0-255 scale), "
    "ignoring clipping. PSNR = 10 log10(1 / MSE) for images in [0, 1].",
    checker=_check_noise_psnr,
    hint=["For y = x + n, the mean squared error of y against x is the mean of n^2.",
          "The mean of n^2 for Gaussian noise is its variance: (25/255)^2 on the [0, 1] scale. "
          "Put it in 10 log10(1 / MSE)."],
    solution="answer = 10 * math.log10(1 / (25 / 255) ** 2)   # 20.17 dB",
    right=20.17,
    wrong=[mistake(10 * math.log10(1 / 25 ** 2), says="25/255"),
           mistake(10 * math.log10(1 / (25 / 255)), says="square"),
           mistake(28.0, says="too large")],
    explanation="Every sigma-25 experiment starts from about 20.2 dB; clipping to [0, 1] raises it slightly.",
)
