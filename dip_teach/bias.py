"""How strongly a generator prefers natural images: the race's targets and its controls over seeds.

The paper's Figure 2 (notebook 05) fits one network to a natural image, the image plus
noise, the image with its pixels shuffled, and white noise, and compares how fast the
loss falls. The fair pair is the natural image and its shuffled pixels: the same values
(the same histogram, the same variance), only their arrangement differs. White noise
``U(0, 1)`` has a larger variance than a photo, so with one absolute loss threshold it
starts further away.

:func:`race_speeds` runs that fair pair for several networks and seeds, headless, and
reports the iterations each needs to reach a loss level and how much higher the shuffled
pixels' loss stays over the run: the
controls of notebook 05 (bilinear vs nearest upsampling, convolutions without any
down- or upsampling, a per-pixel MLP).

Example
-------
>>> from dip_teach import bias
>>> speeds = bias.race_speeds({"tiny": "tiny"}, "chelsea", seeds=[0], size=64, iterations=20)
>>> speeds.loss_ratio("tiny").shape          # one seed: one ratio (about 1.7 here)
(1,)
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from . import images, settings
from .fit import Fit, FitConfig
from .operators import Operator
from .tables import markdown_table

#: The two targets of the fair comparison (same pixel values, different arrangement).
FAIR_PAIR = ("natural image", "shuffled pixels")
MIN_RACE_SIDE = 64    # below this the coarsest scale of a 5-scale net is 1 pixel (batch norm fails)


def race_targets(image: str = "astronaut", size: int | None = None, sigma: float = 25.0,
                 seed: int = 0) -> dict[str, np.ndarray]:
    """The four targets of the race, ``(H, W, C)`` arrays in ``[0, 1]``.

    Parameters
    ----------
    image : str or array
        Catalogue name, path or array of the natural image.
    size : int, optional
        Side of the square crop; default ``settings.image_size(128)`` but at least 64
        (small: four fits share the CPU).
    sigma : float
        Standard deviation of the added Gaussian noise, on the 0-255 scale.
    seed : int
        Seeds the noise, the shuffle and the white noise.
    """
    size = max(MIN_RACE_SIDE, settings.image_size(128)) if size is None else int(size)
    natural = images.load(image, size=size) if isinstance(image, str) else images.prepare(image, size=size)
    rng = np.random.default_rng(seed)
    noisy = np.clip(natural + rng.normal(0.0, sigma / 255.0, natural.shape), 0, 1).astype(np.float32)
    h, w, c = natural.shape
    # shuffle pixel positions (each pixel keeps its colour): same histogram, no structure
    shuffled = natural.reshape(h * w, c)[rng.permutation(h * w)].reshape(h, w, c)
    noise = rng.random(natural.shape).astype(np.float32)
    return {"natural image": natural, "image + noise": noisy, "shuffled pixels": shuffled, "white noise": noise}


@dataclass
class RaceSpeeds:
    """Per network and seed: iterations to ``level`` and the loss curve, for each target.

    ``steps[net][target]`` and ``losses[net][target]`` are lists over ``seeds``; a step
    count is ``None`` when the level was not reached within ``iterations``.
    """

    seeds: list[int]
    level: float
    iterations: int
    steps: dict[str, dict[str, list[int | None]]] = field(default_factory=dict)
    losses: dict[str, dict[str, list[np.ndarray]]] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)

    def loss_ratio(self, net: str) -> np.ndarray:
        """How many times higher the shuffled pixels' loss is than the natural image's, per seed.

        The geometric mean over the iterations of the ratio of the two loss curves: 1 means no
        preference, 4 means that at a typical iteration of the run the shuffled pixels were four
        times further from their target. Defined even when both fits reach tiny losses, where the
        ratio of final losses alone is noisy.
        """
        return np.array([float(np.exp(np.mean(np.log(s) - np.log(n))))
                         for n, s in zip(*(self.losses[net][t] for t in FAIR_PAIR))])

    def table(self) -> str:
        """Markdown table: iterations to the level and the loss ratio, mean and spread over the seeds."""
        n = len(self.seeds)
        header = ["network", f"iterations to loss < {self.level:g}: natural image", "... shuffled pixels",
                  f"loss, shuffled / natural (geometric mean over the run; mean ± std over {n} seeds)", "seconds"]
        rows = []
        for net in self.steps:
            cells = []
            for target in FAIR_PAIR:
                hits = self.steps[net][target]
                reached = [h for h in hits if h is not None]
                text = f"{np.mean(reached):.0f}" if reached else f"> {self.iterations}"
                if len(reached) < len(hits) and reached:
                    text += f" ({len(reached)} of {n} seeds)"
                cells.append(text)
            r = self.loss_ratio(net)
            rows.append([net, cells[0], cells[1], f"{r.mean():.1f} ± {r.std():.1f}", f"{self.seconds[net]:.0f}"])
        return markdown_table(header, rows, align="lrrrr")

    def _repr_markdown_(self) -> str:
        return self.table()


def race_speeds(networks: dict, image: str = "chelsea", seeds=(0, 1, 2), size: int | None = None,
                iterations: int | None = None, level: float = 0.01, lr: float | None = None) -> RaceSpeeds:
    """Fit each network to the natural image and to its shuffled pixels, once per seed (headless).

    Parameters
    ----------
    networks : dict
        Label -> preset name or :class:`~dip_teach.nets.NetConfig`.
    image : str
        The natural image.
    seeds : sequence of int
        One fit per seed and target; the seed also draws the shuffle.
    size : int, optional
        Crop side; default the race's (``settings.image_size(128)``, at least 64).
    iterations : int, optional
        Budget per fit; default ``settings.iterations(500)``.
    level : float
        Loss (MSE) whose first crossing is counted.
    lr : float, optional
        Adam's learning rate; default each network's own.

    Returns
    -------
    RaceSpeeds
    """
    iterations = settings.iterations(500) if iterations is None else int(iterations)
    out = RaceSpeeds(seeds=list(seeds), level=level, iterations=iterations)
    for label, net in networks.items():
        t0 = time.perf_counter()
        out.steps[label] = {t: [] for t in FAIR_PAIR}
        out.losses[label] = {t: [] for t in FAIR_PAIR}
        for seed in seeds:
            targets = race_targets(image, size=size, seed=seed)
            for target in FAIR_PAIR:
                config = FitConfig(net=net, iterations=iterations, lr=lr, seed=seed, ema=0.0, stopping=None,
                                   snapshots=1)
                fit = Fit(Operator(), targets[target], config=config)
                fit.run()
                losses = np.asarray(fit.history["loss"])
                hit = np.nonzero(losses < level)[0]
                out.steps[label][target].append(int(fit.history["iteration"][hit[0]]) if len(hit) else None)
                out.losses[label][target].append(losses)
        out.seconds[label] = time.perf_counter() - t0
    return out
