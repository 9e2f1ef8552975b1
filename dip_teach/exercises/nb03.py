"""Exercises of notebook 03, learned priors: the residual-learning trick, and the data cost."""
from __future__ import annotations

from functools import lru_cache

import torch

from . import Choice, Incorrect, Question, check_function, close, example, mistake
from .. import denoiser


# ------------------------------------------------------------ 1. the residual-learning trick
def _random_net() -> denoiser.DnCNN:
    """A small DnCNN with random (non-zero) weights everywhere, in eval mode."""
    g = torch.Generator().manual_seed(0)
    net = denoiser.DnCNN(channels=3, width=8, depth=2)
    with torch.no_grad():
        for p in net.parameters():
            p.copy_(torch.randn(p.shape, generator=g) * 0.1)
    return net.eval()


def _reference_restore(net, y):
    return y - net(y)


def _check_residual(answer) -> None:
    net = _random_net()
    g = torch.Generator().manual_seed(1)
    inputs = [(net, torch.rand(1, 3, 12, 12, generator=g)), (net, torch.rand(1, 3, 9, 17, generator=g))]
    if callable(answer):
        y = inputs[0][1]
        with torch.no_grad():
            got = answer(net, y)
            if isinstance(got, torch.Tensor) and got.shape == y.shape:
                if torch.allclose(got, net(y)):
                    raise Incorrect("that returns the network's output, which is the predicted *noise*; "
                                    "the image is what is left when the noise is taken away")
                if torch.allclose(got, net(y) - y) or torch.allclose(got, y + net(y)):
                    raise Incorrect("a sign is flipped: the noisy image is clean + noise, so the clean "
                                    "image is the noisy one minus the noise")
    with torch.no_grad():
        check_function(answer, _reference_restore, inputs, name="your restore")


residual_trick = Question(
    "residual_trick",
    "A DnCNN's forward pass returns the predicted *noise* v of a noisy batch y. Write "
    "`restore(net, y)` that returns the denoised image.",
    checker=_check_residual,
    hint=["The observation is y = x + n, and the network estimates n.",
          "Solve y = x + n for x, with net(y) in place of n."],
    solution="""
    def restore(net, y):
        return y - net(y)      # the net predicts the noise; the image is what is left
    """,
    right=example(lambda: _reference_restore),
    wrong=[mistake(example(lambda: (lambda net, y: net(y))), says="predicted *noise*"),
           mistake(example(lambda: (lambda net, y: net(y) - y)), says="sign"),
           mistake(example(lambda: (lambda net, y: y + net(y))), says="sign")],
)


why_residual = Choice(
    "why_residual",
    "Why does DnCNN predict the noise instead of the clean image?",
    options={
        "a": "the noise is the simpler function to learn: white, zero-mean, one known level, "
             "while the identity part (copying the image through) comes for free",
        "b": "it needs fewer parameters to store an image than to store noise",
        "c": "it makes the denoiser work at any noise level",
    },
    correct="a",
    why={"b": "the network stores neither: both outputs have the same size and the same layers",
         "c": "section 5 shows the opposite: the net knows only the level it was trained on"},
    hint=["Compare the two targets: a clean natural image, or white Gaussian noise of one level.",
          "Which of the two can be described in one sentence, whatever the photo?"],
    explanation="A clean image is everything natural images can be; the noise is one simple "
                "distribution. Learning the residual also starts the net near the identity.",
)


# ------------------------------------------------------------------------ 2. the data cost
@lru_cache(maxsize=1)
def _epochs_of_shipped_net() -> float:
    h = denoiser.load_pretrained().history
    pool = denoiser.training_images()
    return h["patches_seen"] * h["patch_size"] ** 2 / sum(p.shape[-2] * p.shape[-1] for p in pool)


def _check_epochs(answer) -> None:
    target = _epochs_of_shipped_net()
    h = denoiser.load_pretrained().history
    try:
        v = float(answer)
    except (TypeError, ValueError):
        raise Incorrect(f"give a number, not {type(answer).__name__}") from None
    if abs(v - h["patches_seen"]) < 1:
        raise Incorrect("that is the number of patches; turn it into pixels, then compare with the "
                        "pixels of the training images")
    close(v, target, rtol=0.02, what="your number of passes", slips={
        "that counts the pixels of all three colour channels of the patches; count one channel": target * 3,
        "that looks upside down: pixels seen divided by pixels available": 1 / target,
        "the patch size needs squaring: a patch is patch_size x patch_size pixels":
            target / h["patch_size"]})


data_cost = Question(
    "data_cost",
    "The shipped denoiser's history (`net.history`) records `patches_seen` and `patch_size`. "
    "How many times over did training look at every pixel of the training set "
    "(the pixels of all the patches divided by the pixels of the train images, one channel)?",
    checker=_check_epochs,
    hint=["Count pixels twice: how many the training looked at (all its patches), and how many the "
          "training images hold. The answer is their ratio.",
          "Pixels seen = patches_seen * patch_size**2. Pixels available = the sum of H*W over "
          "denoiser.training_images() (tensors of shape (C, H, W))."],
    solution="""
    h = net.history
    seen = h["patches_seen"] * h["patch_size"] ** 2
    available = sum(img.shape[-2] * img.shape[-1] for img in denoiser.training_images())
    answer = seen / available
    """,
    right=example(_epochs_of_shipped_net),
    wrong=[mistake(example(lambda: float(denoiser.load_pretrained().history["patches_seen"])), says="patches"),
           mistake(example(lambda: 1 / _epochs_of_shipped_net()), says="upside down"),
           mistake(example(lambda: _epochs_of_shipped_net() / denoiser.load_pretrained().history["patch_size"]),
                   says="squaring")],
)
