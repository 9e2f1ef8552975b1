"""The Deep Image Prior against the denoisers of notebooks 02 and 03, on one image.

Each baseline takes the noisy image (an ``(H, W, C)`` array) and returns its
estimate; :func:`compare` runs them all and gives a table of PSNRs. The settings are
the fair ones of the earlier notebooks:

``TV``
    scikit-image's Chambolle TV with the *best* weight for this image (an oracle, as
    in notebook 02: it needs the clean image, which flatters TV).
``non-local means``
    scikit-image's recipe with the noise level estimated from the image (no oracle).
``DnCNN``
    notebook 03's learned denoiser, trained for sigma 25 (shipped weights).

BM3D, the classical state of the art, is left out on purpose (notebook 04 says why).

The same baselines, averaged over the test images and noise draws, are notebook 03's
yardstick for the learned denoiser: :func:`compare_denoiser` and :func:`mean_over`.

Example
-------
>>> from dip_teach import baselines, images, operators
>>> clean = images.load("chelsea", size=64)
>>> noisy = images.to_array(operators.Denoising(25).corrupt(clean, seed=0))
>>> table = baselines.compare(noisy, clean)          # doctest: +SKIP
>>> table.psnr["DnCNN"] > table.psnr["noisy"]        # doctest: +SKIP
True
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import numpy as np

from . import denoiser, images, metrics, priors
from .tables import markdown_table

#: The natural photos of the ``test`` split: what the learned prior is meant for.
PHOTOS = ("astronaut", "coffee", "chelsea", "camera")
#: The kit's drawn test images, unlike anything in the training set.
DRAWN = ("cartoon", "texture")
#: TV weights searched (scikit-image's units), the grid of notebook 02's comparison.
TV_WEIGHTS = np.geomspace(0.01, 0.64, 13)


def tv_oracle(noisy: np.ndarray, clean: np.ndarray) -> np.ndarray:
    """Chambolle TV (tightened tolerance) at the weight of :data:`TV_WEIGHTS` with the best PSNR to ``clean``.

    An oracle choice, as in notebooks 02 and 03: it needs the clean image.
    """
    return priors.sweep(lambda w: priors.skimage_tv(noisy, w), TV_WEIGHTS, clean).best


def nlm(noisy: np.ndarray, clean: np.ndarray | None = None) -> np.ndarray:
    """Non-local means, noise level estimated from the image (``clean`` is ignored)."""
    return priors.skimage_nlm(noisy)


def dncnn(noisy: np.ndarray, clean: np.ndarray | None = None) -> np.ndarray:
    """Notebook 03's DnCNN for sigma 25 (shipped weights; ``clean`` is ignored)."""
    return denoiser.denoise(_shipped_dncnn(), noisy)


_DNCNN = None


def _shipped_dncnn():
    global _DNCNN
    if _DNCNN is None:
        _DNCNN = denoiser.load_pretrained()
    return _DNCNN


def handcrafted(noisy, clean) -> dict[str, np.ndarray]:
    """The handcrafted baselines of notebook 02, each at its best: TV and non-local means.

    * ``"TV"``: scikit-image's Chambolle TV with the tightened stopping rule of
      :func:`dip_teach.priors.skimage_tv` (the default stops up to 0.9 dB short), at the
      *oracle* weight: the best of :data:`TV_WEIGHTS` by PSNR to ``clean``. A generous
      baseline: no practitioner has the clean image.
    * ``"NLM"``: :func:`dip_teach.priors.skimage_nlm`, non-local means with the noise
      level estimated from the image.

    ``noisy`` and ``clean`` are arrays ``(H, W, C)`` or tensors ``(1, C, H, W)``; the
    outputs are arrays.
    """
    y, x = images.to_array(noisy), images.to_array(clean)
    return {"TV": tv_oracle(y, x), "NLM": priors.skimage_nlm(y)}


#: The baselines :func:`compare` runs, in table order.
METHODS = {"TV (oracle weight)": tv_oracle, "non-local means": nlm, "DnCNN": dncnn}


@dataclass
class Comparison:
    """PSNR (dB), image and compute time of every method on one noisy image; renders as a Markdown table.

    ``seconds`` is the wall time the method took on this image (NaN when not given): for
    the TV oracle it includes the search over weights, for DnCNN only the denoising (its
    training is a one-off cost paid before), for the DIP the fit that produced the image.
    """

    psnr: dict[str, float] = field(default_factory=dict)
    image: dict[str, np.ndarray] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)

    def add(self, name: str, image, clean, seconds: float = math.nan) -> None:
        """Add a method's estimate (array or tensor), its PSNR to ``clean`` and the seconds it took."""
        arr = images.to_array(image)
        self.image[name] = arr
        self.psnr[name] = metrics.psnr(arr, clean)
        self.seconds[name] = float(seconds)

    def ranked(self) -> list[tuple[str, float]]:
        """(method, PSNR) pairs, best first."""
        return sorted(self.psnr.items(), key=lambda kv: -kv[1])

    def __str__(self) -> str:
        best = max(v for k, v in self.psnr.items() if k != "noisy")
        base = self.psnr.get("noisy", float("nan"))
        rows = []
        for name, value in self.psnr.items():
            bold = "**" if value == best else ""
            secs = self.seconds.get(name, math.nan)
            rows.append([name, f"{bold}{value:.2f}{bold}", f"{value - base:+.2f}", "-" if math.isnan(secs) else f"{secs:.1f}"])
        return markdown_table(["method", "PSNR (dB)", "gain over noisy (dB)", "seconds"], rows, align="lrrr")

    def _repr_markdown_(self) -> str:
        return str(self)


def compare(noisy, clean, methods: dict | None = None) -> Comparison:
    """Run every baseline on ``noisy`` and measure it against ``clean``.

    Parameters
    ----------
    noisy, clean : array (H, W, C) or tensor (1, C, H, W)
        The observation and the ground truth.
    methods : dict, optional
        Name -> ``fn(noisy, clean) -> image``; default :data:`METHODS`.

    Returns
    -------
    Comparison
        Starts with the noisy input itself; add the DIP's result with ``.add`` (and its
        seconds). Each baseline's seconds are timed here.
    """
    noisy_a, clean_a = images.to_array(noisy), images.to_array(clean)
    if noisy_a.shape != clean_a.shape:
        raise images.ImageError(f"noisy {noisy_a.shape} and clean {clean_a.shape} must have the same shape")
    table = Comparison()
    table.add("noisy", noisy_a, clean_a)
    for name, fn in (METHODS if methods is None else methods).items():
        t0 = time.perf_counter()
        estimate = fn(noisy_a, clean_a)
        table.add(name, estimate, clean_a, seconds=time.perf_counter() - t0)
    return table


# ------------------------------------------------------- over the test set (notebook 03)
def compare_denoiser(net: denoiser.DnCNN, sigma: float, size: int | None = None, names=PHOTOS + DRAWN, seeds=(0, 1, 2),
            label: str = "DnCNN") -> dict[str, dict[str, float]]:
    """PSNR (dB) of the noisy input, TV, NLM and ``net`` per test image, averaged over noise seeds.

    Every method sees exactly the same noisy images (:func:`dip_teach.denoiser.test_set` with each seed).
    Quality claims in the course are means over at least three noise draws, hence ``seeds``.

    Returns
    -------
    dict
        ``{image name: {"noisy": dB, "TV": dB, "NLM": dB, label: dB}}``.
    """
    rows: dict[str, dict[str, list[float]]] = {}
    for seed in seeds:
        for name, x, y in denoiser.test_set(sigma, size=size, names=list(names), seed=100 * seed):
            ya = images.to_array(y)
            out = {"noisy": ya, **handcrafted(ya, x), label: denoiser.denoise(net, ya)}
            row = rows.setdefault(name, {m: [] for m in out})
            for m, img in out.items():
                row[m].append(metrics.psnr(img, x))
    return {n: {m: float(np.mean(v)) for m, v in r.items()} for n, r in rows.items()}


def mean_over(rows: dict[str, dict[str, float]], names=PHOTOS) -> dict[str, float]:
    """Mean PSNR per method over the images ``names`` of a :func:`compare_denoiser` table."""
    picked = [rows[n] for n in names if n in rows]
    if not picked:
        raise ValueError(f"none of {list(names)} is in the table (it has {list(rows)})")
    return {m: float(np.mean([r[m] for r in picked])) for m in picked[0]}
