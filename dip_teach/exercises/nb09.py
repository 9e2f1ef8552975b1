"""Exercises of notebook 09, feature inversion and activation maximisation."""
from __future__ import annotations

import torch

from . import Choice, Incorrect, Question, example, mistake, require_function


def _reference(f: torch.Tensor, f0: torch.Tensor) -> torch.Tensor:
    return (f - f0).pow(2).sum() / f0.pow(2).sum()


def _check_feature_loss(answer) -> None:
    require_function(answer, "feature_loss")
    g = torch.Generator().manual_seed(0)
    for i, shape in enumerate([(1, 8, 5, 5), (1, 16, 3, 7)]):
        f0 = torch.relu(torch.randn(shape, generator=g, dtype=torch.float64)) * 3
        f = f0 + 0.5 * torch.randn(shape, generator=g, dtype=torch.float64)
        got = answer(f, f0)
        if not isinstance(got, torch.Tensor) or got.numel() != 1:
            raise Incorrect("return one number as a tensor (a scalar), so the optimiser can differentiate it")
        want = float(_reference(f, f0))
        ratio = float(got) / want
        if abs(ratio - 1) < 1e-6:
            continue
        if abs(float(got) - float((f - f0).pow(2).sum())) < 1e-6 * float((f - f0).pow(2).sum()):
            raise Incorrect("your loss is not normalised: divide by the target's energy ||f0||^2, so a loss of 1 "
                            "means 'as far as a blank image' at every layer, deep or shallow")
        if abs(float(got) - want ** 0.5) < 1e-6:
            raise Incorrect("you took the ratio of the norms, not of the squared norms (your value is the "
                            "square root of the intended one)")
        if abs(float(got) - float((f - f0).pow(2).sum() / f0.abs().sum())) < 1e-6:
            raise Incorrect("you divided by ||f0||_1 (a sum of absolute values); divide by the squared norm")
        way = "too large" if ratio > 1 else "too small"
        raise Incorrect(f"on test {i + 1} your loss is {way} by a factor {max(ratio, 1 / ratio):.3g}")


feature_loss = Question(
    "feature_loss",
    "Write `feature_loss(f, f0)`: the squared distance between two feature tensors, divided by the squared "
    "norm of the target features f0 (so 1.0 means 'as far as an all-zero feature map'). Return a scalar tensor.",
    checker=_check_feature_loss,
    hint=["A squared distance, divided by a squared norm: both are sums of squares.",
          "(f - f0).pow(2).sum() is the squared distance; the normaliser is the same expression for f0 alone."],
    solution="""
    def feature_loss(f, f0):
        return (f - f0).pow(2).sum() / f0.pow(2).sum()
    """,
    right=example(lambda: _reference),
    wrong=[mistake(example(lambda: lambda f, f0: (f - f0).pow(2).sum()), says="not normalised"),
           mistake(example(lambda: lambda f, f0: (f - f0).norm() / f0.norm()), says="square root"),
           mistake(example(lambda: lambda f, f0: (f - f0).pow(2).sum() / f0.abs().sum()), says="||f0||_1")],
)


roughest = Choice(
    "roughest",
    "Predict, then run: maximising a class score with the three parametrisations, which result is the "
    "roughest (the highest total variation, averaged over three seeds)?",
    options={"a": "raw pixels", "b": "pixels with a TV prior", "c": "the DIP generator"},
    correct="a",
    why={"b": "TV charges every jump between neighbours: it is the one prior that removes fine-scale variation "
              "by design",
         "c": "the generator builds low frequencies first; fine patterns come late, though they do come "
              "(section 4 reads the DIP at increasing iterations)"},
    hint=["Which of the three has nothing at all that makes neighbouring pixels agree?",
          "The gradient of a class score with respect to the pixels is itself a fine-grained, noisy pattern."],
    explanation="Raw pixels take the gradient's own pattern: high-frequency, adversarial-looking noise that "
                "the classifier loves and people do not recognise. Any prior tames it; the DIP without an "
                "explicit penalty, for as long as it is stopped early enough.",
)


longer = Choice(
    "longer",
    "Predict, then run: the DIP's activation maximisation, read after more and more steps. The roughness "
    "(total variation) of its image ...",
    options={"a": "falls: the generator keeps smoothing its output",
             "b": "settles where the first hundred steps put it",
             "c": "grows: the score keeps rewarding fine detail, and the generator adds it late"},
    correct="c",
    why={"a": "nothing in the objective asks for smoothness; the generator is smooth only while it has not yet "
              "built fine detail",
         "b": "the class score is still rising at the end, and the generator keeps changing the image to raise it"},
    hint=["In notebook 04, what did a DIP fit to a noisy photo do after its peak?",
          "The generator builds coarse structure first and fine detail later; does the class score ever stop "
          "rewarding detail here?"],
    explanation="The DIP's prior is a matter of time: read early, the image is smooth and scores lower; read "
                "late, it scores higher and drifts towards the raw pixels' speckle. Stopping early is its "
                "regularisation weight.",
)
