"""Exercise of notebook 00: how the course's exercises work, on the noise-level convention."""
from __future__ import annotations

from . import Incorrect, Question, close


def _check_sigma(answer) -> None:
    if isinstance(answer, bool):
        raise Incorrect("give a number, not True/False")
    try:
        value = float(answer)
    except (TypeError, ValueError):
        raise Incorrect(f"give a number, not {type(answer).__name__}") from None
    if abs(value - 0.04) < 1e-9:
        raise Incorrect("0.04 is the standard deviation on the [0, 1] scale; dip_teach wants the 0-255 scale")
    close(value, 0.04 * 255, rtol=0.01, what="sigma")


sigma_scale = Question(
    "sigma_scale",
    "A camera's noise has a standard deviation of 0.04 on images with values in [0, 1]. "
    "Which `sigma` do you pass to `operators.Denoising(sigma)`?",
    checker=_check_sigma,
    hint="The kit, like the papers, measures sigma on the 0-255 scale of 8-bit images.",
    solution="sigma = 0.04 * 255   # = 10.2",
    right=10.2, wrong=0.04,
    explanation="sigma = 25 in the papers means 25/255, about 0.1 on [0, 1].",
)
