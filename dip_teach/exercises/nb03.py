"""Exercises of notebook 03, learned priors: the residual-learning trick, and the data cost."""
from __future__ import annotations

from functools import lru_cache

import torch

from . import Choice, Incorrect, Question, check_function, close, example, flat_weights, mistake, require_function
from .. import denoiser, images


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
    pool = images.training_images()
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
          "images.training_images() (tensors of shape (C, H, W))."],
    solution="""
    h = net.history
    seen = h["patches_seen"] * h["patch_size"] ** 2
    available = sum(img.shape[-2] * img.shape[-1] for img in images.training_images())
    answer = seen / available
    """,
    right=example(_epochs_of_shipped_net),
    wrong=[mistake(example(lambda: float(denoiser.load_pretrained().history["patches_seen"])), says="patches"),
           mistake(example(lambda: 1 / _epochs_of_shipped_net()), says="upside down"),
           mistake(example(lambda: _epochs_of_shipped_net() / denoiser.load_pretrained().history["patch_size"]),
                   says="squaring")],
)


# ------------------------------------------------------- predictions inside the sections
worst_image = Choice(
    "worst_image",
    "Predict: on which test image will the learned denoiser do worst compared with TV?",
    options={"a": "the astronaut (a portrait)", "b": "the cartoon (flat colours, sharp edges)",
             "c": "the coffee cup (a photo)"},
    correct="b",
    why={"a": "a photo is what the training images are: rockets, tissue, a retina, coins, textures",
         "c": "a photo is what the training images are: the net is at home there"},
    hint="Which test image looks least like the eight training images?",
    explanation="Nothing in the training set looks like a drawn cartoon, and it is TV's ideal image.",
)

higher_noise = Choice(
    "higher_noise",
    "Predict: the net trained at sigma 25 gets an image with sigma 50. What does its output look like?",
    options={"a": "as clean as at sigma 25: a denoiser removes noise, whatever its level",
             "b": "grainy: it removes about as much noise as it learned to expect, and leaves the rest",
             "c": "black: the net breaks down outside its training range"},
    correct="b",
    why={"a": "it never saw noise that strong: it learned one noise distribution, sigma 25",
         "c": "nothing breaks; a ReLU network continues smoothly, it just predicts the noise it knows"},
    hint="The net learned to predict noise of one size. What does it predict when the noise is twice as big?",
    explanation="A learned prior knows the noise of its training set as much as its images.",
)


# ------------------------------------------------------- one training step, in code
def _step_net() -> denoiser.DnCNN:
    torch.manual_seed(0)
    net = denoiser.DnCNN(channels=3, width=8, depth=2)
    with torch.no_grad():
        net.body[-1].weight.normal_(0, 0.05)   # the last layer starts at zero; give it something to learn
    return net


def _training_step(target: str = "noise", zero_grad: bool = True, step: bool = True):
    """One step of residual learning (the reference), or a typical slip of it: the clean image
    as the target, no ``opt.zero_grad()``, no ``opt.step()``."""
    def run(net, opt, clean, noise):
        loss = torch.nn.functional.mse_loss(net(clean + noise), noise if target == "noise" else clean)
        if zero_grad:
            opt.zero_grad()
        loss.backward()
        if step:
            opt.step()
        return loss.item()
    return run


_reference_step = _training_step()


def _batches(n: int = 2):
    """The fixed batches of clean patches and noise the checker trains on."""
    g = torch.Generator().manual_seed(3)
    return [(torch.rand(4, 3, 16, 16, generator=g), torch.randn(4, 3, 16, 16, generator=g) * (25 / 255))
            for _ in range(n)]


def _run_steps(step_fn):
    net = _step_net()
    opt = torch.optim.SGD(net.parameters(), lr=0.1)
    return net, [step_fn(net, opt, clean, noise) for clean, noise in _batches()]


def _check_train_step(answer) -> None:
    require_function(answer, "train_step")
    ref_net, ref_losses = _run_steps(_reference_step)
    net, losses = _run_steps(answer)
    if any(loss is None for loss in losses):
        raise Incorrect("train_step returned None: return loss.item()")
    if isinstance(losses[0], torch.Tensor):
        losses = [float(loss) for loss in losses]
    before = _step_net()
    if torch.allclose(flat_weights(net), flat_weights(before)):
        raise Incorrect("the weights never changed: call opt.step() after loss.backward()")
    if abs(losses[0] - ref_losses[0]) > 1e-5 * max(1.0, abs(ref_losses[0])):
        clean, noise = _batches(1)[0]
        with torch.no_grad():
            to_clean = torch.nn.functional.mse_loss(_step_net()(clean + noise), clean).item()
        if abs(losses[0] - to_clean) < 1e-5 * max(1.0, to_clean):
            raise Incorrect("your loss compares the output with the clean image; with residual learning the "
                            "net predicts the noise, so the target is the noise")
        raise Incorrect("the first step's loss differs from mse_loss(net(clean + noise), noise): check the input "
                        "(clean + noise) and the target (noise)")
    if not torch.allclose(flat_weights(net), flat_weights(ref_net), rtol=1e-4, atol=1e-6):
        raise Incorrect("the first loss is right but the weights after two steps are not: zero the gradients "
                        "(opt.zero_grad()) before each backward, or they add up from step to step")


train_step = Question(
    "train_step",
    "Write `train_step(net, opt, clean, noise)`: one step of residual learning on a batch. Make the noisy "
    "batch, compute the mean squared error between the net's output and the noise, take an optimiser step, "
    "and return the loss as a float.",
    checker=_check_train_step,
    hint=["Four lines: the noisy input, the loss against the right target, the gradients, the update "
          "(do not forget to clear the old gradients).",
          "noisy = clean + noise; loss = torch.nn.functional.mse_loss(net(noisy), noise); opt.zero_grad(); "
          "loss.backward(); opt.step(); return loss.item()."],
    solution="""
    def train_step(net, opt, clean, noise):
        noisy = clean + noise
        loss = torch.nn.functional.mse_loss(net(noisy), noise)   # the target is the noise
        opt.zero_grad()
        loss.backward()
        opt.step()
        return loss.item()
    """,
    right=example(lambda: _reference_step),
    wrong=[mistake(example(lambda: _training_step(zero_grad=False)), says="zero the gradients"),
           mistake(example(lambda: _training_step(target="clean")), says="target is the noise"),
           mistake(example(lambda: _training_step(step=False)), says="opt.step()")],
    explanation="That is all of denoiser.train, minus the patch sampling and the learning-rate schedule.",
)
