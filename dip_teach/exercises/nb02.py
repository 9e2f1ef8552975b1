"""Exercises of notebook 02, handcrafted priors: the TV energy, and choosing the weight."""
from __future__ import annotations

from functools import lru_cache

import numpy as np
import torch

from . import Choice, Incorrect, Question, check_function, example, mistake, require_function
from .. import images, operators, priors


# ------------------------------------------------------------------- 1. the TV energy
def _anisotropic_tv(x: torch.Tensor, eps: float = 1e-3) -> torch.Tensor:
    dx, dy = priors.image_gradient(x)
    return (dx.abs() + dy.abs()).mean()


def _check_tv_energy(answer) -> None:
    g = torch.Generator().manual_seed(0)
    shapes = [(1, 1, 8, 8), (1, 3, 16, 12), (1, 3, 9, 31)]
    inputs = [(torch.rand(s, generator=g, dtype=torch.float64), 1e-3) for s in shapes]
    if callable(answer):
        x = inputs[1][0]
        got = answer(x, 1e-3)
        if isinstance(got, torch.Tensor) and got.numel() == 1 and torch.allclose(
                got.double(), _anisotropic_tv(x).double(), rtol=1e-3):
            raise Incorrect("that is the anisotropic TV, |dx| + |dy|; the isotropic TV takes the length "
                            "of the gradient vector, sqrt(dx^2 + dy^2 + eps^2) - eps")
        if isinstance(got, torch.Tensor) and got.numel() > 1:
            raise Incorrect(f"return one number (a scalar tensor), not shape {tuple(got.shape)}: take the mean")
        flat = torch.full((1, 1, 8, 8), 0.5, dtype=torch.float64)
        v = answer(flat, 1e-3)
        if isinstance(v, torch.Tensor) and v.numel() == 1 and abs(float(v)) > 1e-9:
            why = ": subtract eps after the square root" if abs(float(v) - 1e-3) < 1e-6 else ""
            raise Incorrect(f"a flat image has no edges and should cost 0, yours costs {float(v):.3g}{why}")
    check_function(answer, priors.total_variation, inputs, rtol=1e-6, atol=1e-9, name="your TV")


tv_energy = Question(
    "tv_energy",
    "Write `tv(x, eps)`: the isotropic total variation mean(sqrt(dx^2 + dy^2 + eps^2) - eps), with "
    "forward differences dx[..., j] = x[..., j+1] - x[..., j] and a zero difference in the last "
    "column (dy likewise with rows). x is (1, C, H, W); return a scalar tensor.",
    checker=_check_tv_energy,
    hint=["Compute the two difference images dx and dy with the shape of x (the last column of dx and the "
          "last row of dy stay 0), then combine them pixel by pixel and take the mean.",
          "Make dx = torch.zeros_like(x), then fill dx[..., :, :-1] = x[..., :, 1:] - x[..., :, :-1] "
          "(dy likewise on rows); return (torch.sqrt(dx**2 + dy**2 + eps**2) - eps).mean()."],
    solution="""
    def tv(x, eps=1e-3):
        dx = torch.zeros_like(x)
        dy = torch.zeros_like(x)
        dx[..., :, :-1] = x[..., :, 1:] - x[..., :, :-1]
        dy[..., :-1, :] = x[..., 1:, :] - x[..., :-1, :]
        return (torch.sqrt(dx ** 2 + dy ** 2 + eps ** 2) - eps).mean()
    """,
    right=example(lambda: priors.total_variation),
    wrong=[mistake(example(lambda: _anisotropic_tv), says="anisotropic"),
           mistake(example(lambda: (lambda x, eps=1e-3: torch.sqrt(torch.stack(priors.image_gradient(x)).pow(2)
                                                                  .sum(0) + eps ** 2).mean())),
                   says="subtract eps"),
           mistake(example(lambda: (lambda x, eps=1e-3: torch.sqrt(torch.stack(priors.image_gradient(x)).pow(2)
                                                                  .sum(0) + eps ** 2) - eps)),
                   says="one number")],
)


# --------------------------------------------------------------- 2. choosing the weight
def weight_problem():
    """The fixed problem of the ``choose_weight`` exercise: ``(noisy, clean, operator)``.

    The astronaut at 64x64 with noise of sigma 25 (seed 0): small, so each try takes
    a fraction of a second.
    """
    clean = images.to_tensor(images.load("astronaut", size=64))
    op = operators.Denoising(25)
    return op.corrupt(clean, seed=0), clean, op


@lru_cache(maxsize=1)
def _search_on_the_problem() -> priors.WeightSearch:
    noisy, clean, op = weight_problem()
    return priors.best_weight(noisy, op, "tv", clean, weights=np.geomspace(0.025, 0.4, 9), iterations=100)


def _best_psnr_on_the_problem() -> float:
    return _search_on_the_problem().best_psnr


def _best_weight_on_the_problem() -> float:
    return _search_on_the_problem().best_weight


def _check_choose_weight(answer) -> None:
    try:
        w = float(answer)
    except (TypeError, ValueError):
        raise Incorrect(f"give the weight as a number, not {type(answer).__name__}") from None
    if w < 0:
        raise Incorrect("weights are non-negative")
    noisy, clean, op = weight_problem()
    got = priors.restore(noisy, op, "tv", w, iterations=100, clean=clean).psnr
    best = _best_psnr_on_the_problem()
    if got < best - 0.2:
        best_w = _best_weight_on_the_problem()
        if w == 0:
            raise Incorrect("weight 0 is the prior-free fit of notebook 01: it keeps all the noise")
        direction = "smaller" if w > best_w else "larger"
        how = "a few times" if max(w, best_w) / min(w, best_w) < 5 else "many times"
        raise Incorrect(f"weight {w:g} gives {got:.2f} dB, more than 0.2 dB below the best: try a weight "
                        f"{how} {direction} (or sweep with priors.best_weight)")


choose_weight = Question(
    "choose_weight",
    "With `noisy, clean, op = nb02.weight_problem()`, find a TV weight whose restoration "
    "(priors.restore(noisy, op, 'tv', weight, iterations=100)) is within 0.2 dB of the best.",
    checker=_check_choose_weight,
    hint=["Try weights a factor 2 apart (0.025, 0.05, 0.1, ...) and keep the one with the best PSNR.",
          "priors.best_weight(noisy, op, 'tv', clean, iterations=100) sweeps a grid for you; its "
          ".best_weight is your answer."],
    solution="""
    noisy, clean, op = nb02.weight_problem()
    search = priors.best_weight(noisy, op, "tv", clean, iterations=100)
    answer = search.best_weight        # about 0.1 for sigma 25
    """,
    right=example(_best_weight_on_the_problem),
    wrong=[mistake(1.0, says="smaller"), mistake(0.005, says="larger"), mistake(0, says="prior-free")],
)


noise_doubles = Choice(
    "noise_doubles",
    "The noise level doubles (sigma 25 -> 50). What happens to the best TV weight?",
    options={"a": "it goes up", "b": "it goes down", "c": "it stays the same"},
    correct="a",
    why={"b": "with more noise the data deserve less trust, so the prior should count more",
         "c": "the data term grows with the noise's variance; the balance has to move"},
    hint=["The weight balances trust in the data against trust in the prior. Which deserves less trust now?",
          "With more noise the data term of the true image grows (it is about sigma^2 per pixel)."],
    explanation="Noisier data deserve less trust: the prior's weight grows, roughly with sigma.",
)


# ------------------------------------------------------- predictions inside the sections
big_weight = Choice(
    "big_weight",
    "Predict: TV with a weight more than 10 times the best one. What does the astronaut look like?",
    options={
        "a": "still noisy: the weight only decides how fast the loop converges",
        "b": "flat patches with sharp edges: the noise is gone, and so are texture and soft shading",
        "c": "blurred everywhere, like a Gaussian blur",
    },
    correct="b",
    why={"a": "the weight changes the minimiser itself, not only the path to it",
         "c": "that is what a large Tikhonov weight does; TV charges an edge only for its height, so it keeps "
              "sharp edges and flattens the rest"},
    hint="Which images have the smallest total variation?",
    explanation="Trusting the prior too much erases everything the prior does not believe in.",
)

cartoon_or_texture = Choice(
    "cartoon_or_texture",
    "Predict: each prior at its best weight, same noise. On which image does TV gain the most dB over the "
    "noisy input?",
    options={"a": "the cartoon", "b": "the texture", "c": "about the same on both"},
    correct="a",
    why={"b": "TV believes in flat patches; a fine grating is the opposite, and TV cannot tell it from noise",
         "c": "a prior helps exactly where its belief about images is true"},
    hint="Which of the two images is made of flat patches and sharp edges?",
    explanation="The cartoon is exactly what TV believes in; the texture is what it flattens.",
)


# ------------------------------------------------------- the discrepancy principle
#: The weights the discrepancy exercise chooses from (increasing).
DISCREPANCY_WEIGHTS = [0.0125, 0.025, 0.05, 0.1, 0.2, 0.4, 0.8]


def _reference_discrepancy(noisy, op, weights, sigma):
    chosen = weights[0]
    for w in weights:
        x = priors.restore(noisy, op, "tv", w, iterations=100).x
        if ((x - noisy) ** 2).mean().item() <= (sigma / 255) ** 2:
            chosen = w
    return chosen


@lru_cache(maxsize=None)
def _residuals(sigma: float) -> tuple[float, ...]:
    noisy, _, op = weight_problem()
    return tuple(((priors.restore(noisy, op, "tv", w, iterations=100).x - noisy) ** 2).mean().item()
                 for w in DISCREPANCY_WEIGHTS)


def _rule(limit: float) -> float:
    """The largest weight whose residual is at most ``limit`` (the smallest weight if none)."""
    ok = [w for w, r in zip(DISCREPANCY_WEIGHTS, _residuals(25)) if r <= limit]
    return ok[-1] if ok else DISCREPANCY_WEIGHTS[0]


def _check_discrepancy(answer) -> None:
    require_function(answer, "discrepancy_weight")
    noisy, _, op = weight_problem()
    got = answer(noisy, op, list(DISCREPANCY_WEIGHTS), 25)
    try:
        got = float(got)
    except (TypeError, ValueError):
        raise Incorrect(f"return one weight (a number) from the list, not a {type(got).__name__}") from None
    if got not in DISCREPANCY_WEIGHTS:
        raise Incorrect("return one of the weights you were given, not a value of your own")
    right = _rule((25 / 255) ** 2)
    if got == right:
        return
    if got == _rule(25 ** 2) or got == _rule(25 / 255):
        raise Incorrect("you chose too large a weight: compare the mean squared residual with sigma^2 on the "
                        "[0, 1] scale, (sigma / 255) ** 2 (a 0-255 sigma, or a missing square, lets every weight pass)")
    if got == _rule(25 ** 2 / 255):
        raise Incorrect("off by a factor 255: divide sigma by 255 before squaring")
    way = "larger" if got > right else "smaller"
    raise Incorrect(f"your weight is {way} than the rule gives: keep the *largest* weight whose mean squared "
                    "residual mean((x - y)^2) is still at most sigma^2")


discrepancy = Question(
    "discrepancy",
    "Write `discrepancy_weight(noisy, op, weights, sigma)`: restore `noisy` with TV (priors.restore(noisy, op, "
    "'tv', w, iterations=100)) for each weight in the increasing list `weights`, and return the largest weight "
    "whose residual mean((x - noisy)^2) is at most the noise variance (sigma on the 0-255 scale).",
    checker=_check_discrepancy,
    hint=["A restoration should differ from the noisy image by about the noise: no more (it would be erasing "
          "the image), no less (it would be keeping noise). Convert sigma to the [0, 1] scale first.",
          "Loop over the weights; for each, x = priors.restore(...).x and r = ((x - noisy) ** 2).mean().item(); "
          "remember w whenever r <= (sigma / 255) ** 2; return the last one remembered."],
    solution="""
    def discrepancy_weight(noisy, op, weights, sigma):
        chosen = weights[0]
        for w in weights:
            x = priors.restore(noisy, op, "tv", w, iterations=100).x
            if ((x - noisy) ** 2).mean().item() <= (sigma / 255) ** 2:
                chosen = w             # still within the noise: a larger weight is allowed
        return chosen
    """,
    right=example(lambda: _reference_discrepancy),
    wrong=[mistake(example(lambda: (lambda noisy, op, weights, sigma: weights[-1])), says="too large"),
           mistake(example(lambda: (lambda noisy, op, weights, sigma: weights[0])), says="smaller"),
           mistake(example(lambda: (lambda noisy, op, weights, sigma: 0.1234)), says="one of the weights")],
    explanation="The discrepancy principle needs only sigma, not the clean image; it tends to pick a weight "
                "somewhat larger than the oracle's.",
)
