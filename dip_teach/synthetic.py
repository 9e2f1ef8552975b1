"""Images the kit makes itself: a cartoon that total variation loves, a texture it destroys.

Both are deterministic functions of their size and seed, so the copies in ``data/``
can be regenerated exactly (``python scripts/make_data.py``).
"""
from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw


def cartoon(size: int = 256, seed: int = 0) -> np.ndarray:
    """A piecewise-constant colour image: flat regions with sharp edges.

    Total variation is the perfect prior for it: its gradient is zero except on a
    few edges, exactly what an L1 penalty on gradients favours.
    """
    rng = np.random.default_rng(seed)
    im = Image.new("RGB", (size, size), (225, 215, 190))
    draw = ImageDraw.Draw(im)
    colours = [(200, 60, 50), (40, 90, 170), (240, 190, 40), (60, 140, 80), (90, 50, 120), (250, 250, 245)]
    s = size / 256
    draw.rectangle([0, int(170 * s), size, size], fill=(110, 160, 90))          # ground
    draw.ellipse([int(180 * s), int(20 * s), int(235 * s), int(75 * s)], fill=colours[2])  # sun
    draw.polygon([(int(40 * s), int(170 * s)), (int(100 * s), int(80 * s)), (int(160 * s), int(170 * s))],
                 fill=colours[4])                                                   # mountain
    draw.rectangle([int(120 * s), int(120 * s), int(200 * s), int(200 * s)], fill=colours[0])  # house
    draw.polygon([(int(110 * s), int(122 * s)), (int(160 * s), int(85 * s)), (int(210 * s), int(122 * s))],
                 fill=colours[1])                                                   # roof
    draw.rectangle([int(148 * s), int(155 * s), int(172 * s), int(200 * s)], fill=colours[5])  # door
    for _ in range(6):  # a few random flat blobs for variety
        cx, cy = rng.uniform(0, size, 2)
        r = rng.uniform(6, 16) * s
        draw.ellipse([cx - r, cy - r, cx + r, cy + r], fill=colours[int(rng.integers(len(colours)))])
    return np.asarray(im).astype(np.float32) / 255.0


def texture(size: int = 256, seed: int = 0) -> np.ndarray:
    """A fine, oscillating texture: sums of gratings at several orientations and frequencies.

    Its gradients are large everywhere, so total variation treats the texture as
    noise and flattens it; a good prior must keep it.
    """
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float64) / size
    out = np.zeros((size, size, 3))
    for c in range(3):
        acc = np.zeros((size, size))
        for _ in range(4):
            theta = rng.uniform(0, np.pi)
            freq = rng.uniform(12, 40)  # cycles per image: fine detail
            phase = rng.uniform(0, 2 * np.pi)
            acc += np.sin(2 * np.pi * freq * (np.cos(theta) * xx + np.sin(theta) * yy) + phase)
        out[..., c] = acc
    out = (out - out.min()) / (out.max() - out.min())
    return (0.15 + 0.7 * out).astype(np.float32)
