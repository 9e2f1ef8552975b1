"""Exercise of notebook 00: how the course's exercises work, on the noise-level convention."""
from __future__ import annotations

from . import Question, close, mistake


def _check_sigma(answer) -> None:
    close(answer, 0.04 * 255, rtol=0.01, what="sigma",
          slips={"0.04 is the standard deviation on the [0, 1] scale; dip_teach wants the 0-255 scale": 0.04,
                 "off by a factor 255 twice: that divides by 255; going to the 0-255 scale multiplies": 0.04 / 255})


sigma_scale = Question(
    "sigma_scale",
    "A camera's noise has a standard deviation of 0.04 on images with values in [0, 1]. "
    "Which `sigma` do you pass to `operators.Denoising(sigma)`?",
    checker=_check_sigma,
    hint=["The kit, like the papers, measures sigma on the 0-255 scale of 8-bit images.",
          "Going from [0, 1] to 0-255 multiplies every value, the noise's spread included, by 255."],
    solution="sigma = 0.04 * 255   # = 10.2",
    right=10.2,
    wrong=[mistake(0.04, says="0-255 scale"), mistake(0.04 / 255, says="factor 255"),
           mistake(25, says="too large")],
    explanation="sigma = 25 in the papers means 25/255, about 0.1 on [0, 1].",
)
