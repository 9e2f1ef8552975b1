"""Exercises of notebook 08, super-resolution: what the data term cannot see, the forward operator
written by hand, and what an inverse crime hides."""
from __future__ import annotations

import torch
import torch.nn.functional as F

from . import Choice, Incorrect, Question, example, mistake, require_function
from ..operators import Downsampling, lanczos_kernel


# --------------------------------------------------------------------- 1. the null space
null_space = Choice(
    "null_space",
    "Predict, then run: two fits of the data term alone, by plain gradient descent, of the same low-resolution "
    "image, one started from the bicubic upsampling and one from random noise; both reach (almost) zero data "
    "loss. Their PSNRs to the clean image are ...",
    options={"a": "equal: both explain the observation perfectly",
             "b": "very different: the noise start keeps its noise",
             "c": "both below bicubic by the same amount"},
    correct="b",
    why={"a": "explaining y says nothing about the detail the downsampler removes; whatever the start put "
              "there stays",
         "c": "the two fits keep different things in the part of the image A cannot see"},
    hint=["The gradient of 0.5 ||A x - y||^2 is A^T (A x - y): which parts of x can it ever change?",
          "Anything A maps to zero (detail finer than the low-resolution grid) gets no gradient at all."],
    explanation="Downsampling has a huge null space (15 of every 16 numbers at 4x): gradient descent on the data "
                "term cannot move x along it, so the start decides it. That is the gap a prior has to fill.",
)


# --------------------------------------------------------------------- 2. the forward operator
def _reference(x: torch.Tensor, kernel: torch.Tensor, factor: int) -> torch.Tensor:
    op = Downsampling(factor)
    op.kernel = kernel
    return op.forward(x)


def _blur(x, kernel, factor, stride=True, pad_mode="reflect", axes=("w", "h")):
    """The reference with a typical slip: zero padding, one axis only, or no subsampling."""
    c = x.shape[1]
    pad = (len(kernel) - factor) // 2
    x = F.pad(x, (pad, pad, pad, pad), mode=pad_mode)
    s = factor if stride else 1
    kx = kernel.to(x.dtype).view(1, 1, 1, -1).repeat(c, 1, 1, 1)
    if "w" in axes:
        x = F.conv2d(x, kx, stride=(1, s), groups=c)
    else:
        x = x[..., pad:x.shape[-1] - pad:s]
    if "h" in axes:
        x = F.conv2d(x, kx.transpose(2, 3), stride=(s, 1), groups=c)
    else:
        x = x[..., pad:x.shape[-2] - pad:s, :]
    return x


def _subsample(x, kernel, factor):
    return x[..., ::factor, ::factor]


_SLIPS = [
    (_subsample, "you keep every factor-th pixel without blurring first: fine detail folds into false coarse "
                 "patterns (aliasing). Convolve with the kernel, then subsample"),
    (lambda x, k, f: _blur(x, k, f, pad_mode="constant"),
     "the inside is right but the borders are not: you padded with zeros, which pulls the border towards black; "
     "pad by reflection (F.pad(..., mode='reflect'))"),
    (lambda x, k, f: _blur(x, k, f, axes=("w",)), "only the rows are blurred: apply the kernel along the columns too "
                                                  "(the same 1-D kernel, transposed)"),
    (lambda x, k, f: _blur(x, k, f, axes=("h",)), "only the columns are blurred: apply the kernel along the rows too"),
]


def _problems():
    g = torch.Generator().manual_seed(0)
    return [(torch.rand(1, 3, 16, 16, generator=g), lanczos_kernel(2), 2),
            (torch.rand(1, 1, 24, 16, generator=g), lanczos_kernel(4), 4),
            (torch.rand(1, 2, 32, 32, generator=g), lanczos_kernel(4, a=2), 4)]


def _check_downsample(answer) -> None:
    require_function(answer, "downsample")
    for i, (x, kernel, f) in enumerate(_problems()):
        start = x.clone()
        got = answer(x, kernel, f)
        if not torch.equal(x, start):
            raise Incorrect("your function changed x in place: work on a padded copy")
        if not isinstance(got, torch.Tensor):
            raise Incorrect(f"return a torch tensor, got {type(got).__name__}")
        want = _reference(x, kernel, f)
        if got.shape != want.shape:
            if got.dim() == 4 and got.shape[-1] > want.shape[-1] + 1:
                raise Incorrect("your output is about as large as the input: after blurring keep every factor-th "
                                "pixel (stride=factor in the convolution)")
            raise Incorrect(f"on test {i + 1} an input of shape {tuple(x.shape)} should give {tuple(want.shape)}, "
                            f"got {tuple(got.shape)}")
        got = got.detach().to(want.dtype)
        if torch.allclose(got, want, atol=1e-5):
            continue
        for slip, message in _SLIPS:
            if torch.allclose(got, slip(x, kernel, f), atol=1e-5):
                raise Incorrect(message)
        inner = (slice(None), slice(None), slice(2, -2), slice(2, -2))
        if torch.allclose(got[inner], want[inner], atol=1e-5):
            raise Incorrect("the inside is right but the borders are not: pad with (len(kernel) - factor) // 2 "
                            "pixels by reflection on every side")
        raise Incorrect(f"on test {i + 1} your output differs from the reference by up to "
                        f"{(got - want).abs().max().item():.3g}: is the kernel centred "
                        "(pad (len(kernel) - factor) // 2 on each side, then a stride of factor)?")


downsample = Question(
    "downsample",
    "Write `downsample(x, kernel, factor)`: the forward operator A of super-resolution for a (1, C, H, W) "
    "tensor x. Blur every channel with the 1-D `kernel` along the rows and along the columns (it is separable), "
    "after padding (len(kernel) - factor) // 2 pixels by reflection on every side, and keep every factor-th "
    "pixel. Return a (1, C, H / factor, W / factor) tensor.",
    checker=_check_downsample,
    hint=["A strided convolution does the blur and the subsampling in one go: F.conv2d(..., stride=...). "
          "groups=C applies the same kernel to each channel on its own.",
          "pad = (len(kernel) - factor) // 2; x = F.pad(x, (pad,) * 4, mode='reflect'); "
          "kx = kernel.view(1, 1, 1, -1).repeat(C, 1, 1, 1); x = F.conv2d(x, kx, stride=(1, factor), groups=C); "
          "then the same with kx.transpose(2, 3) and stride=(factor, 1)."],
    solution="""
    def downsample(x, kernel, factor):
        c = x.shape[1]
        pad = (len(kernel) - factor) // 2
        x = F.pad(x, (pad, pad, pad, pad), mode="reflect")        # reflect: no dark border
        kx = kernel.view(1, 1, 1, -1).repeat(c, 1, 1, 1)          # one 1-D kernel per channel
        x = F.conv2d(x, kx, stride=(1, factor), groups=c)         # blur the rows, keep every factor-th column
        return F.conv2d(x, kx.transpose(2, 3), stride=(factor, 1), groups=c)   # the same down the columns
    """,
    right=example(lambda: _reference),
    wrong=[mistake(example(lambda: _subsample), says="aliasing"),
           mistake(example(lambda: lambda x, k, f: _blur(x, k, f, pad_mode="constant")), says="zeros"),
           mistake(example(lambda: lambda x, k, f: _blur(x, k, f, axes=("w",))), says="only the rows"),
           mistake(example(lambda: lambda x, k, f: _blur(x, k, f, stride=False)), says="factor-th pixel")],
    explanation="This is `operators.Downsampling.forward`: the A that makes y here and the A every fit of this "
                "notebook inverts. Using the same A for both is convenient, and it is the inverse crime of the "
                "next section.",
)


# --------------------------------------------------------------------- 3. model mismatch
mismatch = Choice(
    "mismatch",
    "Predict, then run: the same clean image is downscaled with the benchmarks' bicubic kernel instead of "
    "Lanczos-3, and restored with the Lanczos-3 model (a model mismatch). Compared with restoring that same "
    "bicubic-made y with the matching bicubic model, the model-based restorations (back-projection, TV) ...",
    options={"a": "lose some PSNR: they invert a blur that did not happen",
             "b": "are exactly as good: both kernels are antialiasing filters",
             "c": "gain: the Lanczos model is sharper, so it adds detail"},
    correct="a",
    why={"b": "the fits make A(x) match y exactly; with the wrong A, an x that matches has the wrong fine detail",
         "c": "a sharper model explains y with a blurrier x, not a sharper one: the detail it adds is wrong"},
    hint=["Back-projection makes A(x) equal to y. If A is not the operator that made y, what does the x that "
          "satisfies it look like?",
          "With the wrong kernel the data term is exactly satisfied by the wrong image."],
    explanation="The wrong model costs PSNR, by the amount the table shows. Testing with y made by the very "
                "operator one inverts (the inverse crime) never shows that cost: it reports the best case.",
)
