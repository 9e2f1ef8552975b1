"""Feature inversion and activation maximisation, with three ways to write the image.

Both questions ask a trained classifier ``phi`` (:mod:`dip_teach.classifier`) for an
image, by gradient descent on the image itself:

**feature inversion** (Mahendran & Vedaldi, 2015)
    which image has the features ``phi_l(x0)`` of a given image at layer ``l``?
    ``min_x || phi_l(x) - phi_l(x0) ||^2 / || phi_l(x0) ||^2``
**activation maximisation** (Simonyan et al., 2014)
    which image does the net find most like class ``c``?  ``max_x  phi(x)_c``, or, as the
    paper's official ``activation_maximization.ipynb`` does, drive the class score to a
    fixed level: ``min_x |T - phi(x)_c|`` with ``T = 300`` (:func:`class_match`)

Many images answer either question equally well; what we get depends on how the
image is *parametrised* and what prior is added (the paper's section 4.3):

``"pixels"``  the pixels themselves, kept in ``[0, 1]``: no prior at all;
``"tv"``      the pixels plus ``tv_weight * TV(x)``: the handcrafted prior of the papers above;
``"dip"``     ``x = f_theta(z)``, the Deep Image Prior: optimise a generator's weights, no prior term.

:func:`optimise` is the one loop; :func:`invert` and :func:`maximise` only supply the
objective. :func:`dip_teach.evaluate.roughness` measures the results (total variation and the share of
energy in the upper half of the spectrum), so the comparison is not only by eye; :func:`tradeoff`
puts the objective reached beside the roughness, over a sweep of TV weights and over the
iterations of one DIP run (its snapshots).

Example
-------
>>> from dip_teach import classifier, images, inversion
>>> clf = classifier.load_offline()
>>> x0 = images.to_tensor(images.load("coffee", size=64))
>>> r = inversion.invert(clf, x0, "conv2", "pixels", iterations=20)
>>> r.image.shape
(64, 64, 3)
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Callable, Iterable

import matplotlib.pyplot as plt
import numpy as np
import torch

from . import evaluate, nets, priors
from .images import to_array, to_tensor

METHODS = ("pixels", "tv", "dip")
#: Adam learning rates: pixels move in intensity units, DIP in weight units (the paper's 0.01).
LR = {"pixels": 0.02, "tv": 0.02, "dip": 0.01}
#: The class objective of the official ``activation_maximization.ipynb`` (its Matcher's ``'match'``
#: mode at ``fc8``): the pre-softmax score of the class driven to this level, ``|300 - score|``.
PAPER_CLASS_TARGET = 300.0
#: Noise added to the generator's input ``z`` at every step in that notebook (``reg_noise_std``).
PAPER_REG_NOISE = 0.03


@dataclass
class Result:
    """One optimised image and how it got there.

    Attributes
    ----------
    image : array ``(H, W, 3)``
        The result, in ``[0, 1]``.
    method : str
        ``"pixels"``, ``"tv"`` or ``"dip"``.
    objective : list of float
        The objective (without the TV term) at every iteration: the feature loss for an
        inversion, minus the class score for a maximisation.
    seconds : float
        Wall time.
    snapshots : dict
        Iteration -> image ``(H, W, 3)`` after that many steps, for the iterations asked
        for (the generator's output without input noise).
    """

    image: np.ndarray
    method: str
    objective: list[float] = field(default_factory=list)
    seconds: float = 0.0
    snapshots: dict = field(default_factory=dict)

    @property
    def final(self) -> float:
        """Objective at the last iteration."""
        return self.objective[-1]


class Parametrisation:
    """An image written as pixels or as a generator's output (see the module docstring).

    Parameters
    ----------
    method : str
        One of :data:`METHODS`.
    size : int
        Side of the square image.
    seed : int
        Seeds the starting pixels or the network's weights and input.
    net : str or NetConfig, optional
        Generator preset for ``"dip"``; default: the run mode's.
    """

    def __init__(self, method: str, size: int, seed: int = 0, net=None, reg_noise_std: float = 0.0):
        if method not in METHODS:
            raise ValueError(f"method must be one of {', '.join(METHODS)}, got {method!r}")
        self.method = method
        self.reg_noise_std = float(reg_noise_std)
        g = torch.Generator().manual_seed(seed)
        self._noise = torch.Generator().manual_seed(seed + 1)
        if method == "dip":
            with torch.random.fork_rng(devices=[]):
                torch.manual_seed(seed)
                self.net = nets.build(net, in_channels=32, out_channels=3)
            self.z = nets.make_input("noise", 32, size, size, seed=seed)
            self.params = list(self.net.parameters())
        else:
            # mid-grey plus a whisper of noise: a start with no structure of its own
            self.x = (0.5 + 0.02 * torch.randn((1, 3, size, size), generator=g)).requires_grad_(True)
            self.params = [self.x]

    def image(self, perturb: bool = False) -> torch.Tensor:
        """The current image ``(1, 3, H, W)`` in ``[0, 1]`` (differentiable).

        ``perturb`` adds the paper's input noise to ``z`` (``reg_noise_std``) for a training step.
        """
        if self.method != "dip":
            return self.x
        z = self.z
        if perturb and self.reg_noise_std > 0:
            z = z + self.reg_noise_std * torch.randn(z.shape, generator=self._noise)
        return self.net(z)

    def after_step(self) -> None:
        """Keep pixels in ``[0, 1]`` (a generator's sigmoid does that by itself)."""
        if self.method != "dip":
            with torch.no_grad():
                self.x.clamp_(0, 1)


def optimise(objective: Callable[[torch.Tensor], torch.Tensor], size: int, method: str,
             iterations: int = 300, tv_weight: float = 0.0, lr: float | None = None, seed: int = 0,
             net=None, reg_noise_std: float = 0.0, snapshots: Iterable[int] = ()) -> Result:
    """Minimise ``objective(image) + tv_weight * TV(image)`` over the chosen parametrisation.

    ``tv_weight`` is used only by ``method="tv"``, ``reg_noise_std`` (noise added to the
    generator's input at every step: 1/30 in the paper's denoising, 0.03 in its activation
    maximisation) only by ``"dip"``. Returns the image of the last iteration (the objective
    keeps falling; there is no clean image to pick a best by), and in ``snapshots`` the
    image after each of the iterations listed in ``snapshots``.
    """
    p = Parametrisation(method, size, seed=seed, net=net, reg_noise_std=reg_noise_std)
    opt = torch.optim.Adam(p.params, lr=LR[method] if lr is None else lr)
    out = Result(image=np.zeros((size, size, 3), np.float32), method=method)
    keep = {int(k) for k in snapshots}
    t0 = time.perf_counter()
    for step in range(int(iterations)):
        if step in keep:
            with torch.no_grad():
                out.snapshots[step] = to_array(p.image())
        img = p.image(perturb=True)
        value = objective(img)
        loss = value + tv_weight * priors.total_variation(img) if method == "tv" else value
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        p.after_step()
        out.objective.append(value.item())
    with torch.no_grad():
        out.image = to_array(p.image())
    if int(iterations) in keep:
        out.snapshots[int(iterations)] = out.image
    out.seconds = time.perf_counter() - t0
    return out


def feature_loss(clf, layer: str, target: torch.Tensor) -> Callable[[torch.Tensor], torch.Tensor]:
    """The inversion objective ``||phi_l(x) - phi_l(x0)||^2 / ||phi_l(x0)||^2`` for image ``target``.

    Normalised by the target's energy, so 1.0 means "as far as a black image" at every layer.
    """
    with torch.no_grad():
        ref = clf.features(target, layer)
    scale = ref.pow(2).sum().clamp_min(1e-12)
    return lambda x: (clf.features(x, layer) - ref).pow(2).sum() / scale


def class_score(clf, index: int) -> Callable[[torch.Tensor], torch.Tensor]:
    """The unbounded maximisation objective: minus the (pre-softmax) score of class ``index``."""
    return lambda x: -clf.logits(x)[0, index]


def class_match(clf, index: int, target: float = PAPER_CLASS_TARGET) -> Callable[[torch.Tensor], torch.Tensor]:
    """The official code's objective: ``|target - score|`` for the pre-softmax score of class ``index``.

    Unlike :func:`class_score` it stops rewarding a higher score once the score reaches
    ``target``: past that point a step that sharpens detail to raise the score is undone.
    """
    return lambda x: (float(target) - clf.logits(x)[0, index]).abs()


def invert(clf, target: torch.Tensor, layer: str, method: str, iterations: int = 300,
           tv_weight: float = 1.0, seed: int = 0, net=None, snapshots: Iterable[int] = ()) -> Result:
    """Feature inversion: an image whose features at ``layer`` match those of ``target``."""
    size = target.shape[-1]
    return optimise(feature_loss(clf, layer, target), size, method, iterations, tv_weight, seed=seed, net=net,
                    snapshots=snapshots)


def maximise(clf, index: int, size: int, method: str, iterations: int = 300, tv_weight: float = 1.0,
             seed: int = 0, net=None, target: float | None = PAPER_CLASS_TARGET,
             reg_noise_std: float = PAPER_REG_NOISE, snapshots: Iterable[int] = ()) -> Result:
    """Activation maximisation: an image that the classifier scores high for class ``index``.

    By default as in the official ``activation_maximization.ipynb``: the score is driven to
    ``target`` (:func:`class_match`) and the DIP's input gets noise of ``reg_noise_std`` at
    every step. ``target=None`` maximises the score without bound (:func:`class_score`).
    The official notebook also sets ``param_noise = True``, but its line
    ``n = n + noise`` only rebinds a loop variable, so its weights are never perturbed; we
    add no parameter noise either.
    """
    objective = class_score(clf, index) if target is None else class_match(clf, index, target)
    return optimise(objective, size, method, iterations, tv_weight, seed=seed, net=net,
                    reg_noise_std=reg_noise_std if method == "dip" else 0.0, snapshots=snapshots)


def score(clf, index: int, image) -> float:
    """The pre-softmax score of class ``index`` for an image (array ``(H, W, 3)`` or tensor)."""
    x = image if isinstance(image, torch.Tensor) else to_tensor(image)
    with torch.no_grad():
        return float(clf.logits(x)[0, index])


@dataclass
class Point:
    """One result on the objective-roughness plane (see :func:`tradeoff`)."""

    label: str
    method: str
    objective: float
    tv: float
    high_freq: float
    image: np.ndarray


def tradeoff(objective: Callable[[torch.Tensor], torch.Tensor], size: int, tv_weights: Iterable[float],
             iterations: int, checkpoints: Iterable[int], seed: int = 0, net=None,
             reg_noise_std: float = 0.0, dip: Result | None = None,
             measure: Callable[[np.ndarray], float] | None = None) -> list[Point]:
    """The objective reached against the roughness of the result, for TV and for the DIP.

    One TV run per weight in ``tv_weights`` (weight 0 is raw pixels), and one DIP run
    read at each of ``checkpoints`` (iterations; pass ``dip``, a :func:`optimise` result with
    those snapshots, to reuse a run). Each point's objective is measured on the image
    itself (no input noise), or by ``measure(image)`` when given (e.g. the class score), its
    roughness by :func:`dip_teach.evaluate.roughness`.
    """
    def point(label, method, image):
        if measure is not None:
            value = float(measure(image))
        else:
            with torch.no_grad():
                value = float(objective(to_tensor(image)))
        r = evaluate.roughness(image)
        return Point(label, method, value, r["tv"], r["high_freq"], image)

    points = []
    for w in tv_weights:
        r = optimise(objective, size, "tv" if w > 0 else "pixels", iterations, float(w), seed=seed)
        points.append(point(f"TV {w:g}" if w > 0 else "pixels", "tv" if w > 0 else "pixels", r.image))
    checkpoints = sorted(int(c) for c in checkpoints)
    if dip is None:
        dip = optimise(objective, size, "dip", max(checkpoints), seed=seed, net=net,
                       reg_noise_std=reg_noise_std, snapshots=checkpoints)
    points += [point(f"DIP {c}", "dip", dip.snapshots[c]) for c in checkpoints]
    return points


#: Kept here for the notebooks that measure inversions; defined with the other scores.
roughness = evaluate.roughness


def plot_tradeoff(points: list[Point], reference: float | None = None, reference_label: str = "photo",
                  ylabel: str = "objective", ax=None, log: bool = True):
    """Draw :func:`tradeoff`'s points: roughness (TV) across, objective up; TV and DIP as two lines.

    ``reference`` draws a vertical line at a photo's own roughness. Returns the axes.
    """
    ax = plt.subplots(figsize=(6.5, 4))[1] if ax is None else ax
    styles = {"pixels": dict(marker="s", color="C3", ls=""), "tv": dict(marker="o", color="C1"),
              "dip": dict(marker="^", color="C0")}
    names = {"pixels": "raw pixels", "tv": "TV prior, weight sweep", "dip": "DIP, read at increasing iterations"}
    for method, style in styles.items():
        pts = [p for p in points if p.method == method]
        if pts:
            ax.plot([p.tv for p in pts], [p.objective for p in pts], label=names[method], **style)
            for p in pts:
                ax.annotate(p.label.split(" ", 1)[-1], (p.tv, p.objective), fontsize=7, xytext=(3, 3),
                            textcoords="offset points", color=style["color"])
    if reference is not None:
        ax.axvline(reference, color="grey", ls="--", label=f"the {reference_label}'s own TV")
    ax.set(xlabel="roughness of the result (mean total variation)", ylabel=ylabel, xscale="log",
           yscale="log" if log else "linear")
    ax.legend(fontsize=8)
    return ax
