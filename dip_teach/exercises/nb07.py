"""Exercises of notebook 07, inpainting: the masked data term, reading the scores, the meshgrid input,
large holes, and the two closing predictions."""
from __future__ import annotations

import torch

from . import Choice, Incorrect, Question, example, function_slip, mistake, require_function
from ..nets import make_input
from ..operators import Inpainting


# --------------------------------------------------------------------- 1. the masked data term
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
            raise Incorrect("that is the mean over *all* values, the convention of the paper's code "
                            "(mse(out * mask, img * mask)): the same loss times the share of known pixels, a "
                            "constant that Adam hardly notices. The question asks for the mean over the known "
                            "values, the number that reads as the error of what was measured: divide by how "
                            "many values the mask keeps")
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
    wrong=[mistake(example(lambda: _all_pixels), says="paper's code"),
           mistake(example(lambda: lambda x, y, m: ((x - y) ** 2).mean()), says="counts the missing pixels"),
           mistake(example(lambda: lambda x, y, m: ((x - y) ** 2 * m).sum() / m.sum()), says="mask (1 channel)"),
           mistake(example(lambda: lambda x, y, m: ((x - y) ** 2 * m).sum()), says="without dividing")],
)


# --------------------------------------------------------------------- 2. reading the scores
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
    explanation="The known pixels are (almost) free: 'all pixels' mixes them in and flatters every method "
                "(by the margin the table shows). Score the holes to compare methods.",
)


# --------------------------------------------------------------------- 3. the meshgrid input
def _reference_meshgrid(height: int, width: int) -> torch.Tensor:
    return make_input("meshgrid", 2, height, width)


def _grid(height: int, width: int, swap: bool = False, start: float = 0.0) -> torch.Tensor:
    """A coordinate grid with a typical slip: x and y swapped, or coordinates from ``start`` instead of 0."""
    ys, xs = torch.linspace(start, 1, height), torch.linspace(start, 1, width)
    gy, gx = torch.meshgrid(ys, xs, indexing="ij")
    return torch.stack([gy, gx] if swap else [gx, gy])[None]


def _arange_grid(height: int, width: int) -> torch.Tensor:
    gy, gx = torch.meshgrid(torch.arange(height) / height, torch.arange(width) / width, indexing="ij")
    return torch.stack([gx, gy])[None]


def _pixel_grid(height: int, width: int) -> torch.Tensor:
    gy, gx = torch.meshgrid(torch.arange(height, dtype=torch.float32), torch.arange(width, dtype=torch.float32),
                            indexing="ij")
    return torch.stack([gx, gy])[None]


_GRID_SLIPS = [
    (lambda h, w: _grid(h, w, swap=True), "the two channels are swapped: channel 0 holds x, the column "
                                         "coordinate, which grows from left to right along each row"),
    (_pixel_grid, "your coordinates are in pixels (0 to W - 1); divide by (W - 1) and (H - 1) so both "
                  "run from 0 to 1, whatever the image size"),
    (_arange_grid, "your last pixel sits at (W - 1) / W, not at 1: arange(W) / W stops one step short; use "
                   "torch.linspace(0, 1, W)"),
    (lambda h, w: _grid(h, w, start=-1.0), "your coordinates run from -1 to 1; the kit (like the paper's "
                                           "code) puts them in [0, 1]"),
]


def _check_meshgrid(answer) -> None:
    require_function(answer, "meshgrid")
    for h, w in [(8, 8), (6, 10), (16, 4)]:
        got = answer(h, w)
        if not isinstance(got, torch.Tensor):
            raise Incorrect(f"return a torch tensor, got {type(got).__name__}")
        want = _reference_meshgrid(h, w)
        if got.dim() == 3 and tuple(got.shape) == (2, h, w):
            raise Incorrect(f"add the batch dimension: the network takes (1, 2, H, W), you return {tuple(got.shape)} "
                            "(z[None] or .unsqueeze(0))")
        if got.dim() == 4 and tuple(got.shape) == (1, h, w, 2):
            raise Incorrect("channels go second in torch: (1, 2, H, W), not (1, H, W, 2); stack along dim 0 "
                            "(then add the batch dimension) or permute")
        if tuple(got.shape) != tuple(want.shape):
            raise Incorrect(f"for a {h}x{w} image return shape {tuple(want.shape)}, got {tuple(got.shape)}")
        got = got.detach().float()
        if torch.allclose(got, want, atol=1e-6):
            continue
        function_slip(got, (h, w), _GRID_SLIPS, rtol=1e-5)
        raise Incorrect(f"on a {h}x{w} image your grid differs from x and y coordinates in [0, 1] by up to "
                        f"{(got - want).abs().max().item():.3g}")


meshgrid = Question(
    "meshgrid",
    "Write `meshgrid(height, width)`: the network input of the paper's large-hole experiment, a tensor "
    "(1, 2, height, width) whose channel 0 holds each pixel's x coordinate (column) and channel 1 its y "
    "coordinate (row), both running from 0 at the first pixel to 1 at the last.",
    checker=_check_meshgrid,
    hint=["torch.linspace(0, 1, n) gives n evenly spaced values from 0 to 1; torch.meshgrid turns a row "
          "of xs and a column of ys into two (H, W) arrays.",
          "ys, xs = torch.meshgrid(torch.linspace(0, 1, height), torch.linspace(0, 1, width), indexing='ij'); "
          "return torch.stack([xs, ys])[None]."],
    solution="""
    def meshgrid(height, width):
        ys, xs = torch.meshgrid(torch.linspace(0, 1, height), torch.linspace(0, 1, width), indexing="ij")
        return torch.stack([xs, ys])[None]     # (1, 2, H, W): x first, as the paper's code does
    """,
    right=example(lambda: _reference_meshgrid),
    wrong=[mistake(example(lambda: lambda h, w: _grid(h, w, swap=True)), says="swapped"),
           mistake(example(lambda: _pixel_grid), says="in pixels"),
           mistake(example(lambda: _arange_grid), says="linspace"),
           mistake(example(lambda: lambda h, w: _reference_meshgrid(h, w)[0]), says="batch dimension")],
    explanation="This is the input `FitConfig(input='meshgrid')` gives the network: two smooth ramps, no "
                "texture of their own. Everything the output holds beyond a ramp, the network must build.",
)


# --------------------------------------------------------------------- 4. large holes
hole = Choice(
    "hole",
    "Predict, then run: on a large hole, how does DIP do compared with its result on 50% random pixels?",
    options={"a": "just as well: the network sees the whole image",
             "b": "much worse: far from any known pixel, the architecture alone must invent the content",
             "c": "better: one big hole is simpler than many small ones"},
    correct="b",
    why={"a": "the network does see the whole image (five halvings: its coarsest scale spans it), but in the "
              "middle of the hole nothing was measured: what appears there is whatever the architecture builds "
              "most easily from the surroundings, not a measurement",
         "c": "many small holes each sit next to known pixels; a big one has a middle far from all of them"},
    hint=["How far is the centre of the hole from the nearest known pixel, compared with a random mask?",
          "The data term says nothing inside the hole: the fill is the prior's guess, and a guess far from any "
          "known pixel is a poor one."],
    explanation="The fill of a large hole is the architecture's guess. Which architecture guesses best is "
                "the paper's lesson of its Fig. 8, tested below.",
)


# --------------------------------------------------------------------- exercises at the end
small_holes = Choice(
    "small_holes",
    "Predict: the same missing area split into six small holes instead of one large one. The DIP's PSNR "
    "in the holes ...",
    options={"a": "moves towards the random-mask result: every hole's middle is close to known pixels",
             "b": "stays near the large-hole result: the same share of the image is missing",
             "c": "falls below the large-hole result: more holes, more edges to get wrong"},
    correct="a",
    why={"b": "what matters is how far a missing pixel is from a known one, not how many are missing: six small "
              "discs have no far-away middle",
         "c": "edges next to known pixels are the easy part: the data term pins their neighbours"},
    hint=["Measure the distance from each missing pixel to the nearest known one, for both masks.",
          "A small hole is filled from its rim; a large hole's middle has no rim nearby."],
    explanation="The fill gets worse with the distance to the nearest known pixel, not with the missing share.",
)


more_missing = Choice(
    "more_missing",
    "Predict: with 80% of the pixels missing instead of 50%, how do TV (at its oracle weight) and the DIP "
    "(last averaged output) compare in the holes?",
    options={"a": "both lose several dB, TV more: the DIP's lead grows",
             "b": "TV collapses to the prior-free level while the DIP keeps its 50% result",
             "c": "both keep their 50% result: a random mask leaves a known pixel near every hole"},
    correct="a",
    why={"b": "TV still diffuses the known values into the holes; it loses detail, not everything, and the "
              "DIP loses too",
         "c": "at 80% the nearest known pixel is further away and fewer neighbours constrain each hole"},
    hint=["Each missing pixel now has fewer known neighbours: what does that do to every method?",
          "TV can only diffuse what is nearby; the network can repeat structure it found elsewhere in the image."],
    explanation="Both lose; at lab scale TV loses about a dB more, and the DIP is ahead on every seed where at "
                "50% the gap was within the seeds' spread (the teaching guide lists the measured numbers). The "
                "network's prior reuses structure from the whole image; TV only smooths locally.",
)
