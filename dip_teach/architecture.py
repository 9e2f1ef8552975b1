"""The skip encoder-decoder, scale by scale: shapes, parameters and cost.

Notebook 04 shows the paper's generator as a table rather than a diagram: for each
scale, the resolution it works at, the channels of its three branches (down, skip,
up), how many weights it holds and how many multiply-accumulates (MACs) one forward
pass spends there. Two facts jump out of such a table: with the same channels at
every scale the parameters are spread evenly over the scales, while the cost sits in
the finest ones (the same kernels applied to 4x, 16x, 64x more pixels).

Example
-------
>>> from dip_teach import architecture
>>> table = architecture.summary("paper", size=256)
>>> round(table.total_parameters / 1e6, 1), round(table.total_gmac, 1)
(2.2, 19.4)
>>> print(table)                  # doctest: +SKIP
| scale | resolution | down | skip | up | parameters | MMAC |
...
"""
from __future__ import annotations

import torch
import torch.nn as nn

from . import nets
from .tables import markdown_table


class SummaryTable(list):
    """Rows (dicts) of :func:`summary`; prints as Markdown and renders in Jupyter."""

    columns = ("scale", "resolution", "down", "skip", "up", "parameters", "MMAC")

    @property
    def total_parameters(self) -> int:
        return sum(r["parameters"] for r in self)

    @property
    def total_gmac(self) -> float:
        return sum(r["MMAC"] for r in self) / 1000

    def __str__(self) -> str:
        rows = [[f"{r[c]:,}" if c == "parameters" else f"{r[c]:,.1f}" if c == "MMAC" else r[c] for c in self.columns]
                for r in self]
        rows.append(["**total**", "", "", "", "", f"**{self.total_parameters:,}**", f"**{1000 * self.total_gmac:,.1f}**"])
        return markdown_table(self.columns, rows, align="r" * len(self.columns))

    def _repr_markdown_(self) -> str:
        return str(self)


def _own_parameters(module: nn.Module, exclude: nn.Module | None) -> int:
    skip = {id(p) for p in exclude.parameters()} if exclude is not None else set()
    return sum(p.numel() for p in module.parameters() if id(p) not in skip)


def summary(preset: str | nets.NetConfig | None = None, size: int = 256, in_channels: int = 32,
            out_channels: int = 3) -> SummaryTable:
    """Per-scale table of a skip network: resolution, channels, parameters, GMAC per forward pass.

    Parameters
    ----------
    preset : str or NetConfig, optional
        A skip-network preset (``"paper"``, ``"lab"``, ``"tiny"``, ``"hourglass"``); default the mode's.
    size : int
        Side of the square image (divisible by ``2 ** scales``).
    in_channels, out_channels : int
        Channels of the input ``z`` and of the image.

    Returns
    -------
    SummaryTable
        One row per scale (scale 1 is the finest) plus a ``head`` row (the last 1x1
        convolution and sigmoid). ``resolution`` is the side of the scale's input;
        its down branch works at half of it. ``MMAC``: millions of multiply-accumulates
        per forward pass.

    Raises
    ------
    ValueError
        For a network that is not a skip network, or a size it cannot take.
    """
    config = nets.get_config(preset)
    if config.kind != "skip":
        raise ValueError(f"summary() describes skip networks scale by scale; {config.kind!r} has no scales "
                         "(use nets.count_parameters and nets.count_macs for a total)")
    if size % config.size_multiple:
        raise ValueError(f"size {size} must divide by {config.size_multiple} for {config.scales} scales")
    net = nets.build(config, in_channels, out_channels)

    # walk the nested scales: scale i is the .inner of scale i-1
    scales, module = [], net.body
    while module is not None:
        scales.append(module)
        module = module.inner
    owner = {}
    for i, scale in enumerate(scales):             # outer to inner: a conv ends up owned by the innermost
        for m in scale.modules():                  # scale that contains it
            if isinstance(m, nn.Conv2d):
                owner[id(m)] = i
    macs = [0] * (len(scales) + 1)                 # last slot: the head
    for conv, n in nets.conv_macs(net, torch.zeros(1, in_channels, size, size)).items():
        macs[owner.get(id(conv), len(scales))] += n

    table = SummaryTable()
    for i, scale in enumerate(scales):
        side = size // 2 ** i
        table.append({"scale": i + 1, "resolution": f"{side}x{side}", "down": config.down[i],
                      "skip": config.skip[i], "up": config.up[i],
                      "parameters": _own_parameters(scale, scale.inner), "MMAC": macs[i] / 1e6})
    table.append({"scale": "head", "resolution": f"{size}x{size}", "down": "-", "skip": "-", "up": out_channels,
                  "parameters": _own_parameters(net.head, None), "MMAC": macs[-1] / 1e6})
    return table
