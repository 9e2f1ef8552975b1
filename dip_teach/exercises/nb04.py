"""Exercises of notebook 04, the Deep Image Prior: predict the curve, one DIP step, the net's size."""
from __future__ import annotations

import copy

import torch

from . import Choice, Incorrect, Question, close, example, flat_weights, mistake, require_function
from .. import nets
from ..fit import dip_loop
from ..operators import Operator

# ------------------------------------------------------------ 1. predict, then run
predict_curve = Choice(
    "predict_curve",
    "A DIP fit minimises only the loss to the *noisy* image, and we let it run long. "
    "What does the PSNR of its output to the *clean* image do meanwhile?",
    options={
        "a": "it rises as long as the loss falls: a better fit is a better image",
        "b": "it rises to a peak, then falls while the loss keeps falling",
        "c": "it stays near the noisy image's PSNR: the loss never sees the clean image",
    },
    correct="b",
    why={"a": "the loss is measured against the noisy image; a perfect fit reproduces the noise too",
         "c": "the noisy image is mostly the clean one: fitting its structure moves the output towards the "
              "clean image long before the noise is fitted"},
    hint="What would the output be if the loss reached zero?",
    explanation="The network reproduces the structure of the image first and its noise late; the PSNR to "
                "the clean image peaks in between. That is why DIP needs early stopping.",
)


# ------------------------------------------------------------ 2. one DIP step from its parts
def _problem(seed: int = 0):
    """A tiny skip net, its Adam optimiser, a fixed input z and a target y (all seeded)."""
    config = nets.NetConfig(down=(4, 4), up=(4, 4), skip=(2, 2), upsample="nearest")
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        net = nets.build(config, in_channels=8, out_channels=3)
        g = torch.Generator().manual_seed(seed + 1)
        z = torch.rand(1, 8, 16, 16, generator=g) * 0.1
        y = torch.rand(1, 3, 16, 16, generator=g)
    return net, torch.optim.Adam(net.parameters(), lr=0.01), z, y


def _dip_step(perturb: str = "copy", reduce: str = "mean", zero_grad: bool = True):
    """One DIP step (the reference), or a typical slip of it: ``perturb="none"`` runs the net on z
    itself, ``perturb="in_place"`` adds the noise to z (changing it), ``reduce="sum"`` sums the
    squared errors, ``zero_grad=False`` lets the gradients add up from step to step."""
    def run(net, optimizer, z, y, noise_std):
        if perturb == "in_place":
            z += noise_std * torch.randn_like(z)
        z_in = z + noise_std * torch.randn_like(z) if perturb == "copy" else z  # 1. perturb a copy of z
        out = net(z_in)                                 # 2. the generator's image
        squared = (out - y) ** 2                        # 3. the data term (denoising: A is the identity)
        loss = squared.mean() if reduce == "mean" else squared.sum()
        if zero_grad:
            optimizer.zero_grad()                       # 4. forget the last step's gradients,
        loss.backward()                                 #    compute this step's,
        optimizer.step()                                #    and move the weights
        return loss.item()
    return run


def _reference_step(net, optimizer, z, y, noise_std) -> float:
    """One step of the kit's own loop (:func:`dip_teach.fit.dip_loop`, denoising: A is the identity),
    so the checker can never drift from the algorithm the notebook prints."""
    return next(dip_loop(net, z, Operator(), y, optimizer, reg_noise_std=noise_std, ema=0)).loss


#: The kit's DIP step, for a notebook to fall back on while the student's ``dip_step`` is unanswered.
reference_step = _reference_step


def _as_float(value, what: str) -> float:
    if value is None:
        raise Incorrect(f"{what} returned None: return the loss as a number (loss.item())")
    if isinstance(value, torch.Tensor):
        if value.numel() != 1:
            raise Incorrect(f"{what} returned a tensor of shape {tuple(value.shape)}; return the loss, one number")
        value = value.item()
    try:
        return float(value)
    except (TypeError, ValueError):
        raise Incorrect(f"{what} returned a {type(value).__name__}; return the loss as a number") from None


def _check_dip_step(answer) -> None:
    require_function(answer)
    noise_std = 0.05
    net_s, opt_s, z_s, y = _problem()
    net_r, opt_r, z_r, _ = _problem()
    z_before = z_s.clone()
    w0 = flat_weights(net_s)
    for step, seed in enumerate((5, 6), start=1):
        probe = copy.deepcopy(net_r)              # the reference net before this step, for diagnosis
        torch.manual_seed(seed)
        got = _as_float(answer(net_s, opt_s, z_s, y, noise_std), "your dip_step")
        torch.manual_seed(seed)
        want = _reference_step(net_r, opt_r, z_r, y, noise_std)
        if not torch.equal(z_s, z_before):
            raise Incorrect("z changed: the input is fixed. Add the noise to a copy (z + ...), not in place "
                            "(z += ... or z.add_)")
        if step == 1 and torch.equal(flat_weights(net_s), w0):
            raise Incorrect("the weights did not move: after loss.backward(), call optimizer.step()")
        if abs(got - want) > 1e-5 * abs(want) + 1e-8:
            with torch.no_grad():
                plain = ((probe(z_r) - y) ** 2).mean().item()
            if step == 1 and abs(got - plain) < 1e-5 * abs(plain):
                raise Incorrect("your loss is that of the unperturbed input: perturb z first, "
                                "z + noise_std * torch.randn_like(z), then run the network on that")
            if abs(got - want * y.numel()) < 1e-4 * abs(want * y.numel()):
                raise Incorrect("that is the sum of the squared errors; use their mean (the MSE), as the "
                                "operators' loss does")
            way = "larger" if got > want else "smaller"
            raise Incorrect(f"at step {step} your loss is {way} than a DIP step's, by about "
                            f"{abs(got - want) / abs(want):.0%}; compute the mean squared error between "
                            "net(perturbed z) and y, before the update")
        if not torch.allclose(flat_weights(net_s), flat_weights(net_r), rtol=1e-5, atol=1e-7):
            if step == 2:
                raise Incorrect("the first step was right, the second not: the gradients of step 1 were added "
                                "to those of step 2. Call optimizer.zero_grad() before loss.backward()")
            raise Incorrect("the loss is right but the weights moved differently from one Adam step on its "
                            "gradient: call loss.backward() once, then optimizer.step() once")


_no_zero_grad = _dip_step(zero_grad=False)
_no_perturbation = _dip_step(perturb="none")
_in_place = _dip_step(perturb="in_place")
_sum_loss = _dip_step(reduce="sum")


dip_step = Question(
    "dip_step",
    "Write `dip_step(net, optimizer, z, y, noise_std)`: one DIP iteration for denoising. Perturb the fixed "
    "input z with Gaussian noise of standard deviation noise_std, run the network, take the mean squared "
    "error to the observation y, and make one optimizer step on the weights. Return the loss as a number.",
    checker=_check_dip_step,
    hint=["Five lines: the perturbed input, the output, the loss, the gradient, the update. "
          "dip_loop() in dip_teach/fit.py is the same step in a loop, with output averaging.",
          "z_in = z + noise_std * torch.randn_like(z); loss = ((net(z_in) - y) ** 2).mean(); then "
          "optimizer.zero_grad(), loss.backward(), optimizer.step(), return loss.item()."],
    solution="""
    def dip_step(net, optimizer, z, y, noise_std):
        z_in = z + noise_std * torch.randn_like(z)   # perturb a copy: z itself stays fixed
        loss = ((net(z_in) - y) ** 2).mean()         # data term only: no prior
        optimizer.zero_grad()                        # gradients accumulate unless cleared
        loss.backward()
        optimizer.step()                             # moves the weights, never z
        return loss.item()
    """,
    right=example(lambda: _reference_step),
    wrong=[mistake(example(lambda: _no_zero_grad), says="zero_grad"),
           mistake(example(lambda: _no_perturbation), says="perturb z"),
           mistake(example(lambda: _in_place), says="in place"),
           mistake(example(lambda: _sum_loss), says="mean")],
)


# ------------------------------------------------------------ 3. how big is the network?
_PAPER_PARAMETERS = 2_217_831          # nets.count_parameters(nets.build("paper")), checked in the tests
_VALUES = 256 * 256 * 3


def _check_weights_per_value(answer) -> None:
    close(answer, _PAPER_PARAMETERS / _VALUES, rtol=0.02, what="your ratio",
          slips={"count the 3 colour values of every pixel, not just the pixels": _PAPER_PARAMETERS / 256 ** 2,
                 "that is values per weight; divide the other way round": _VALUES / _PAPER_PARAMETERS})


weights_per_value = Question(
    "weights_per_value",
    "The paper's network (`nets.build('paper')`) fits one 256x256 colour image. How many weights does it "
    "have per number in that image (its pixel values, 3 per pixel)?",
    checker=_check_weights_per_value,
    hint=["nets.count_parameters(net) counts the weights; the image holds height x width x colours numbers.",
          "answer = nets.count_parameters(nets.build('paper')) / (256 * 256 * 3)"],
    solution="""
    answer = nets.count_parameters(nets.build("paper")) / (256 * 256 * 3)
    """,
    right=_PAPER_PARAMETERS / _VALUES,
    wrong=[mistake(_PAPER_PARAMETERS / 256 ** 2, says="3 colour values"),
           mistake(_VALUES / _PAPER_PARAMETERS, says="divide the other way")],
    explanation="About 11 weights per number: the network could store the noisy image many times over. "
                "Its prior is not a lack of capacity but what its structure finds easy to produce.",
)
