"""Exercises of notebook 01, inverse problems: a forward operator, and why a prior is needed."""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from . import Choice, Incorrect, Question, check_function, close, example, mistake, require_function


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


# ------------------------------------------------------- predictions inside the sections
truth_data_term = Choice(
    "truth_data_term",
    "Predict: for denoising (A = identity, sigma = 25), which image has the smallest data term "
    "||A(x) - y||^2 against the noisy y?",
    options={
        "a": "the clean image x: it is the truth",
        "b": "y itself: its data term is exactly 0, the truth's is about sigma^2 per pixel",
        "c": "both are 0: the truth explains the observation perfectly",
    },
    correct="b",
    why={"a": "the truth misses y by exactly the noise, so its data term is the noise's energy",
         "c": "that holds for a noise-free observation (super-resolution here), not for a noisy one"},
    hint="y - A(x) for the truth is the noise n. What is ||n||^2 per pixel?",
    explanation="The data term alone prefers y, noise and all, over the truth.",
)

grey_start = Choice(
    "grey_start",
    "Predict: the prior-free denoising fit starts from a flat grey image and minimises the data term "
    "with Adam. Where does it end?",
    options={
        "a": "at the clean image: the loop removes the noise",
        "b": "at the noisy image y: it converges to the noise, because the noise is data too",
        "c": "at a smoothed image: gradient descent averages the noise out",
        "d": "it stays grey: the gradient of the data term is zero there",
    },
    correct="b",
    why={"a": "nothing in ||x - y||^2 knows which part of y is noise",
         "c": "the only minimiser of ||x - y||^2 is x = y; nothing pulls towards smooth images",
         "d": "the gradient 2 (x - y) is zero only at x = y"},
    hint="Where is ||x - y||^2 smallest?",
    explanation="The maximum-likelihood answer is y, noise included: unique, stable, and useless.",
)


# ------------------------------------------------------- 5. write the loop yourself
def _gradient_steps(direction: float = -1.0, reduce: str = "sum"):
    """Plain gradient descent on the data term (the reference), or a typical slip of it:
    ``direction=+1`` climbs, ``reduce="mean"`` makes the gradient N times smaller."""
    def run(y: torch.Tensor, A, x0: torch.Tensor, steps: int = 100, lr: float = 1.0) -> torch.Tensor:
        x = x0.clone().requires_grad_(True)
        for _ in range(steps):
            residual = (A(x) - y) ** 2
            loss = 0.5 * residual.sum() if reduce == "sum" else residual.mean()
            (grad,) = torch.autograd.grad(loss, x)
            with torch.no_grad():
                x += direction * lr * grad
        return x.detach()
    return run


_reference_descend = _gradient_steps()


def _descend_problems():
    """Two small problems: inpainting (half the pixels missing) and 2x box downsampling."""
    g = torch.Generator().manual_seed(0)
    clean = torch.rand(1, 3, 12, 12, generator=g)
    mask = (torch.rand(1, 1, 12, 12, generator=g) > 0.5).float()
    x0 = torch.rand(1, 3, 12, 12, generator=g)
    inpaint = lambda x: mask * x  # noqa: E731
    return [("inpainting", inpaint, inpaint(clean), x0, mask), ("downsampling", _box_downsample,
                                                                _box_downsample(clean), x0, None)]


def _check_descend(answer) -> None:
    require_function(answer, "descend")
    for name, A, y, x0, mask in _descend_problems():
        start = x0.clone()
        got = answer(y, A, x0)
        if not torch.equal(x0, start):
            raise Incorrect("your loop changed x0 in place: start from a copy, x = x0.clone()")
        if not isinstance(got, torch.Tensor):
            raise Incorrect(f"return the image x (a tensor), not a {type(got).__name__}")
        if got.shape != x0.shape:
            raise Incorrect(f"return an image of x0's shape {tuple(x0.shape)}, got {tuple(got.shape)}")
        got = got.detach()
        before = 0.5 * ((A(x0) - y) ** 2).sum().item()
        after = 0.5 * ((A(got) - y) ** 2).sum().item()
        if not torch.isfinite(got).all() or after > before:
            raise Incorrect(f"on the {name} problem the data term grew: did you step uphill "
                            "(x += lr * grad instead of x -= lr * grad)?")
        if torch.allclose(got, x0):
            raise Incorrect(f"on the {name} problem x never moved from x0: compute the gradient of the "
                            "data term and update x with it, in every step")
        if after > 1e-6 * before:
            raise Incorrect(f"on the {name} problem the data term fell only {before / max(after, 1e-30):.3g}-fold "
                            "in 100 steps: with a mean instead of 0.5 * sum the gradient is N times "
                            "smaller; use the data term as written")
        if mask is not None and not torch.allclose((got - x0) * (1 - mask), torch.zeros_like(got), atol=1e-6):
            raise Incorrect("the missing pixels moved: plain gradient descent (x -= lr * grad), not Adam "
                            "or a clamp, leaves them exactly at x0, since their gradient is 0")
        if mask is None:
            change = got - x0
            blocks = F.avg_pool2d(change, 2).repeat_interleave(2, -1).repeat_interleave(2, -2)
            if not torch.allclose(change, blocks, atol=1e-5):
                raise Incorrect("on the downsampling problem x changed inside the 2x2 blocks, where A is "
                                "blind: plain gradient descent (x -= lr * grad) moves x only along what A sees")


descend = Question(
    "descend",
    "Write `descend(y, A, x0, steps=100, lr=1.0)`: plain gradient descent on the data term "
    "0.5 * sum((A(x) - y)^2), starting from a copy of x0, with torch.autograd computing the gradient. "
    "Return the final x (detached).",
    checker=_check_descend,
    hint=["Make x = x0.clone().requires_grad_(True); in each step compute the loss, its gradient "
          "with torch.autograd.grad(loss, x), and move x a little *against* the gradient.",
          "Inside the loop: (grad,) = torch.autograd.grad(0.5 * ((A(x) - y) ** 2).sum(), x), then "
          "`with torch.no_grad(): x -= lr * grad`. After the loop return x.detach()."],
    solution="""
    def descend(y, A, x0, steps=100, lr=1.0):
        x = x0.clone().requires_grad_(True)
        for _ in range(steps):
            loss = 0.5 * ((A(x) - y) ** 2).sum()
            (grad,) = torch.autograd.grad(loss, x)
            with torch.no_grad():
                x -= lr * grad          # downhill
        return x.detach()
    """,
    right=example(lambda: _reference_descend),
    wrong=[mistake(example(lambda: (lambda y, A, x0, steps=100, lr=1.0: x0)), says="never moved"),
           mistake(example(lambda: _gradient_steps(direction=+1.0)), says="uphill"),
           mistake(example(lambda: _gradient_steps(reduce="mean")), says="mean")],
    explanation="Gradient descent on the data term changes only what A sees: the holes and the "
                "details lost by downsampling keep whatever x0 had there.",
)
