"""How much fine detail an image has, when there is no clean image to score it against.

Without a clean image (super-resolving a small photo, inverting a classifier) the
question is often "how much fine detail did the method add?": :func:`roughness` gives
the total variation and the share of spectral energy in the upper half of the frequencies.
The PSNR variants (on the missing pixels, on luminance) live in :mod:`dip_teach.metrics`.

Example
-------
>>> import numpy as np
>>> from dip_teach import evaluate
>>> ramp = np.tile(np.linspace(0, 1, 16, dtype=np.float32)[None, :, None], (16, 1, 3))
>>> stripes = ramp.copy(); stripes[:, ::2] = 0.5               # one-pixel stripes on top
>>> smooth, rough = evaluate.roughness(ramp), evaluate.roughness(stripes)
>>> smooth["tv"] < rough["tv"], smooth["high_freq"] < rough["high_freq"]
(True, True)
"""
from __future__ import annotations

import numpy as np
import torch

from . import priors, spectral
from .images import as_array


def roughness(img) -> dict[str, float]:
    """How much fine-scale variation an image has, two ways.

    Returns
    -------
    dict
        ``tv``: mean total variation (:func:`dip_teach.priors.total_variation`);
        ``high_freq``: share of the (windowed, mean-removed) spectral energy above
        a quarter cycle per pixel, the upper half of the frequencies.
    """
    a = as_array(img).astype(np.float32)
    t = torch.from_numpy(a).permute(2, 0, 1)[None]
    energy = spectral.band_energy(a - a.mean(axis=(0, 1)), bands=8, window=True)
    return {"tv": float(priors.total_variation(t)), "high_freq": float(energy[4:].sum() / energy.sum())}
