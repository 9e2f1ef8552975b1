"""Exercises of notebook 07, inpainting: the masked data term, and reading the scores."""
from __future__ import annotations

import torch

from . import Choice, Incorrect, Question, example, mistake, require_function
from ..operators import Inpainting


def _reference(x: torch.Tensor, y: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    return Inpainting(mask).loss(x, y)


def _test_problem(seed: int, channels: int = 3, size: int = 12, missing: float = 0.7):
    g = torch.Generator().manual_seed(seed)
    mask = (torch.rand((1, 1, size, size), generator=g) >= missing).float()
    mask[..., 0, 0] = 1                              # at least one known pixel
    clean = torch.rand((1, channels, size, size), generator=g, dtype=torch.float64)
    x = torch.rand((1, channels, size, size), generator=g, dtype=torch.float64)
    return x, clean * mask, mask


def _check_masked_loss(answer) -> None:
    require_function(answer, "masked_loss")
    for i, (seed, ch) in enumerate([(0, 3), (1, 1), (2, 3)]):
        x, y, mask = _test_problem(seed, ch)
        got = answer(x, y, mask)
        if not isinstance(got, torch.Tensor):
            raise Incorrect(f"return a torch tensor (so the fit can call .backward() on it), got {type(got).__name__}")
        if got.numel() != 1:
            raise Incorrect(f"return one number (a scalar tensor), not shape {tuple(got.shape)}: reduce with .sum() / ...")
        want = float(_reference(x, y, mask))
        ratio = float(got) / want
        if abs(ratio - 1) < 1e-5:
            continue
        known = float(mask.mean())
        full = float(((x - y) ** 2).mean()) / want
        if abs(ratio - known) < 1e-3:
            raise Incorrect(f"your loss is too small, by about the share of known pixels ({known:.0%} here): you "
                            "divide by every pixel, so a mask with many holes shrinks the gradient; divide by the "
                            "number of known values")
        if abs(ratio - full) < 1e-3:
            raise Incorrect("your loss also counts the missing pixels (it is too large): the holes of y are 0, "
                            "not data; multiply the squared error by the mask before adding it up")
        if ch > 1 and abs(ratio - ch) < 1e-3:
            raise Incorrect(f"your loss is {ch}x too large on a {ch}-channel image: the squared error is summed over "
                            "the channels but the mask (1 channel) counted once; expand the mask to x's shape "
                            "before counting")
        if ratio > 20:
            raise Incorrect("your loss is far too large: did you sum the squared errors without dividing?")
        way = "too large" if ratio > 1 else "too small"
        raise Incorrect(f"on test image {i + 1} your loss is {way} (off by a factor {ratio:.2f}); "
                        "compare with mean over known values of (x - y)^2")


def _all_pixels(x, y, mask):
    return ((x - y) ** 2 * mask).mean()


masked_loss = Question(
    "masked_loss",
    "Write `masked_loss(x, y, mask)`: the mean of (x - y)^2 over the *known* values only. x and y are "
    "(1, C, H, W), mask is (1, 1, H, W) with 1 = known, 0 = missing. Return a scalar tensor.",
    checker=_check_masked_loss,
    hint=["Multiply the squared error by the mask (so missing pixels add nothing), then divide by how many "
          "values were kept.",
          "m = mask.expand_as(x) has one entry per value of x: ((x - y) ** 2 * m).sum() divided by m.sum()."],
    solution="""
    def masked_loss(x, y, mask):
        m = mask.expand_as(x)                  # one entry per value: C channels per pixel
        return ((x - y) ** 2 * m).sum() / m.sum()
    """,
    right=example(lambda: _reference),
    wrong=[mistake(example(lambda: _all_pixels), says="divide by every pixel"),
           mistake(example(lambda: lambda x, y, m: ((x - y) ** 2).mean()), says="counts the missing pixels"),
           mistake(example(lambda: lambda x, y, m: ((x - y) ** 2 * m).sum() / m.sum()), says="mask (1 channel)"),
           mistake(example(lambda: lambda x, y, m: ((x - y) ** 2 * m).sum()), says="without dividing")],
)


scores = Choice(
    "scores",
    "Predict, then run: a method fills 50% random holes. Compared with its PSNR on the missing pixels, "
    "its PSNR on all pixels is ...",
    options={"a": "higher", "b": "lower", "c": "the same"},
    correct="a",
    why={"b": "half of all pixels are the known ones, which the fit reproduces almost exactly: they can only "
              "lower the average error",
         "c": "the known pixels are scored too, and their error is far smaller than in the holes"},
    hint=["Split the error into known and missing pixels: which half does a fit of the data term get right?",
          "'All pixels' averages the holes' error with the known pixels' (nearly zero) error."],
    explanation="The known pixels are (almost) free: 'all pixels' mixes them in, so it flatters every method "
                "by about 3 dB when half are known. Score the holes to compare methods.",
)


hole = Choice(
    "hole",
    "Predict, then run: on a large hole, how does DIP do compared with its result on 50% random pixels?",
    options={"a": "just as well: the network sees the whole image",
             "b": "much worse: far from any known pixel, the architecture alone must invent the content",
             "c": "better: one big hole is simpler than many small ones"},
    correct="b",
    why={"a": "the convolutions only ever see a neighbourhood; in the middle of a hole there is no known pixel "
              "nearby, and the output there is whatever the net makes of smooth extrapolation",
         "c": "many small holes each sit next to known pixels; a big one has a middle far from all of them"},
    hint=["How far is the centre of the hole from the nearest known pixel, compared with a random mask?",
          "A convolution only combines nearby pixels; in the middle of a big hole, nothing nearby is known."],
    explanation="The paper says so too (its Fig. 8): large holes are where the DIP is weakest; it fills them "
                "with smooth continuations of the surroundings, not with plausible new objects.",
)
