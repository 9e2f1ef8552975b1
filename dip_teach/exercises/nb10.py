"""Exercises of notebook 10, beyond: the Reptile update, and reading a JPEG fit's curves."""
from __future__ import annotations

import torch

from . import Choice, Incorrect, Question, example, mistake, require_function
from ..pretrain import reptile_update as _reference     # the kit's own update, the one pretrain.reptile uses


def _check_reptile(answer) -> None:
    require_function(answer, "reptile_update")
    g = torch.Generator().manual_seed(0)
    theta = {"w": torch.randn(3, 4, generator=g), "b": torch.randn(4, generator=g)}
    phi = {k: v + torch.randn(v.shape, generator=g) for k, v in theta.items()}
    keep = {k: v.clone() for k, v in theta.items()}
    got = answer(theta, phi, 0.25)
    if not isinstance(got, dict) or set(got) != set(theta):
        raise Incorrect("return a new dict with the same keys as theta (one tensor per weight)")
    if any(not torch.equal(theta[k], keep[k]) for k in theta):
        raise Incorrect("your function changed theta in place; build new tensors (theta[k] + ...) instead")
    want = _reference(keep, phi, 0.25)
    # where did the answer move, as a fraction of the way from theta to phi?
    step = sum(float(((got[k] - keep[k]) * (phi[k] - keep[k])).sum()) for k in keep)
    span = sum(float(((phi[k] - keep[k]) ** 2).sum()) for k in keep)
    frac = step / span
    if all(torch.allclose(got[k], want[k], atol=1e-6) for k in keep):
        return
    if abs(frac - 1) < 1e-3:
        raise Incorrect("your update jumps all the way to phi (the end of the short fit); Reptile moves only a "
                        "fraction eps of the way, so the start averages over many images")
    if frac < 0:
        raise Incorrect("your update moves away from phi; the step is eps * (phi - theta), towards the short fit's end")
    if all(torch.allclose(got[k], keep[k] + 0.25 * phi[k], atol=1e-6) for k in keep):
        raise Incorrect("you added eps * phi; the step is eps times the *difference* phi - theta")
    raise Incorrect(f"your update moves {frac:.2f} of the way from theta towards phi; with eps = 0.25 it should "
                    f"move exactly eps of the way")


reptile_update = Question(
    "reptile_update",
    "Write `reptile_update(theta, phi, eps)`: theta and phi are dicts name -> tensor (the starting weights, "
    "and the weights after a short fit from them); return a new dict moved the fraction eps from theta "
    "towards phi.",
    checker=_check_reptile,
    hint=["Move each weight a fraction eps of the way from where it was (theta) to where the short fit went (phi).",
          "One line per weight: theta[k] + eps * (phi[k] - theta[k]); a dict comprehension does them all."],
    solution="""
    def reptile_update(theta, phi, eps):
        return {k: theta[k] + eps * (phi[k] - theta[k]) for k in theta}
    """,
    right=example(lambda: _reference),
    wrong=[mistake(example(lambda: lambda theta, phi, eps: {k: phi[k].clone() for k in phi}), says="all the way"),
           mistake(example(lambda: lambda t, p, e: {k: t[k] - e * (p[k] - t[k]) for k in t}), says="away from phi"),
           mistake(example(lambda: lambda t, p, e: {k: t[k] + e * p[k] for k in t}), says="difference")],
)


jpeg_curve = Choice(
    "jpeg_curve",
    "Predict, then run: a DIP fit to a JPEG-compressed image (A = identity). Over a long fit, its PSNR to the "
    "clean image ...",
    options={"a": "rises, peaks above the JPEG's own PSNR, then falls back towards it",
             "b": "rises until it levels off at its best",
             "c": "never gets above the JPEG's PSNR"},
    correct="a",
    why={"b": "the data term is the JPEG itself: given time, the network reproduces it, blocks and all",
         "c": "the blocks are high-frequency, structured 'noise': the network builds the smooth image underneath first"},
    hint=["The target of the fit is the compressed image. What does a network fitted long enough reproduce?",
          "Blocks are sharp 8x8 edges: fine detail, which the network fits late, after the smooth image."],
    explanation="Blocking and ringing are fitted late, like noise: the same early-stopping story as denoising, "
                "with an artefact instead of Gaussian noise.",
)
