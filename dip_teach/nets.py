"""Generator networks for the Deep Image Prior, and their network inputs.

DIP fits the weights of a generator ``f`` so that ``f(z)``, for a fixed random
input ``z``, explains one observed image. The *architecture* is the prior: a
convolutional generator produces smooth, structured images long before it can
produce noise. Two families live here:

``skip``
    The encoder-decoder of Ulyanov et al. (2018), Fig. 21 of the supplement. Each
    scale ``i`` has three branches::

        x --> [conv 3x3 stride 2, BN, act, conv 3x3, BN, act] --> (deeper scales) --> upsample x2 --+
          \\                                                                                        concat --> BN --> conv 3x3, BN, act --> conv 1x1, BN, act
           `-> [skip: conv 1x1, BN, act] ------------------------------------------------------------+

    With ``skip=0`` at every scale the same builder gives the *hourglass*
    (no skip connections), which the paper compares against.
``deep_decoder``
    Heckel & Hand (2019): no convolutions wider than 1x1, no encoder. Each layer is
    ``upsample x2 -> conv 1x1 -> ReLU -> BatchNorm``; the input is a small random
    tensor ``2**(layers-1)`` times smaller than the image.
``flat``
    A control of notebook 05: a stack of 3x3 convolutions at full resolution
    (``conv 3x3 -> BatchNorm -> LeakyReLU`` per layer), with no down- or upsampling.
    Neighbouring pixels share weights and inputs, but nothing in it works at a
    coarser scale.
``pixel_mlp``
    A control experiment, not a restoration network: the same small MLP applied to
    every pixel's input vector on its own (``conv 1x1 -> BatchNorm -> LeakyReLU`` per
    layer, no upsampling, no neighbours). It can fit any image, but nothing in it
    links a pixel to the next one, so it has no reason to prefer natural images.

All convolutions use reflection padding; the output goes through a sigmoid so the
image lies in ``[0, 1]``.

Example
-------
>>> from dip_teach import nets
>>> net = nets.build("tiny")
>>> z = nets.make_input("noise", 32, 64, 64, seed=0)
>>> net(z).shape
torch.Size([1, 3, 64, 64])
"""
from __future__ import annotations

from dataclasses import dataclass, replace

import torch
import torch.nn as nn

from . import settings


@dataclass(frozen=True)
class NetConfig:
    """Everything that defines a generator (and its default learning rate).

    Attributes
    ----------
    kind : str
        ``"skip"`` (encoder-decoder, hourglass when every skip width is 0),
        ``"deep_decoder"``, ``"flat"`` or ``"pixel_mlp"``.
    down : tuple of int
        Encoder channels per scale (``skip`` only); its length is the number of scales.
    up : tuple of int
        Decoder channels per scale; for ``deep_decoder``, ``flat`` and ``pixel_mlp`` the width of each layer.
    skip : tuple of int
        Channels of the 1x1 skip branch per scale (0 = no skip at that scale).
    upsample : str
        ``"bilinear"`` (the paper's denoising setting) or ``"nearest"`` (cheaper).
    kernel : int
        Size of the encoder/decoder convolutions (3 in the paper).
    lr : float
        Adam learning rate the fit uses unless told otherwise (0.01 in the paper).
    reg_noise_std : float
        Input-noise regularisation the fit uses unless told otherwise (1/30 in the
        paper; small nets on small images fit faster with less).
    denoise_reg_noise_std : float or None
        The input noise of denoising fits, where it differs from ``reg_noise_std``
        (``None``: the same). The paper's code, too, sets it per experiment (1/30 for
        denoising; 0.03 or 0 for its inpainting runs). See :meth:`input_noise`.
    large_denoise_ema_span : int or None
        How many iterations the average of the outputs spans (at full scale) in denoising
        fits of images at least :data:`LARGE_SIDE` px on their shorter side, where it differs
        from the paper's 100 (an averaging weight of 0.99; ``None``: the same). See :meth:`ema_span`.
    """

    kind: str = "skip"
    down: tuple[int, ...] = (128, 128, 128, 128, 128)
    up: tuple[int, ...] = (128, 128, 128, 128, 128)
    skip: tuple[int, ...] = (4, 4, 4, 4, 4)
    upsample: str = "bilinear"
    kernel: int = 3
    lr: float = 0.01
    reg_noise_std: float = 1 / 30
    denoise_reg_noise_std: float | None = None
    large_denoise_ema_span: int | None = None

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"kind must be one of {', '.join(map(repr, KINDS))}, got {self.kind!r}")
        if self.upsample not in ("bilinear", "nearest", "bicubic"):
            raise ValueError(f"upsample must be 'bilinear', 'nearest' or 'bicubic', got {self.upsample!r}")
        if self.kind == "skip" and not (len(self.down) == len(self.up) == len(self.skip) >= 1):
            raise ValueError(f"down, up and skip need one entry per scale, got {len(self.down)}, "
                             f"{len(self.up)} and {len(self.skip)}")

    def input_noise(self, task: str | None = None) -> float:
        """The input noise (``reg_noise_std``) a fit of ``task`` uses unless told otherwise.

        ``task`` is an operator's ``name`` (``"denoise"``, ``"inpaint"``, ...).

        Examples
        --------
        >>> lab = PRESETS["lab"]
        >>> lab.input_noise("denoise") > lab.input_noise("inpaint") == lab.reg_noise_std
        True
        """
        if task == "denoise" and self.denoise_reg_noise_std is not None:
            return self.denoise_reg_noise_std
        return self.reg_noise_std

    def ema_span(self, task: str | None = None, side: int | None = None) -> int:
        """Iterations the fit's average of its outputs spans at full scale, for ``task`` on an
        image whose shorter side is ``side`` px; the averaging weight is ``1 - 1 / span``.

        The paper averages with weight 0.99 (a span of 100). A longer average smooths more
        of the noise the outputs carry near the peak, but it also keeps more of the poor early
        outputs, which fade only as ``weight ** iterations``: in the README's screen it paid in
        ``lab``'s 256-px fits and cost in its shorter 128-px ones.

        Examples
        --------
        >>> lab = PRESETS["lab"]
        >>> lab.ema_span("denoise", 128), lab.ema_span("denoise", 256), lab.ema_span("inpaint", 256)
        (100, 200, 100)
        """
        large = side is not None and side >= LARGE_SIDE
        if task == "denoise" and large and self.large_denoise_ema_span is not None:
            return self.large_denoise_ema_span
        return PAPER_EMA_SPAN

    @property
    def scales(self) -> int:
        """Number of scales (skip nets) or layers (deep decoder)."""
        return len(self.up)

    @property
    def input_factor(self) -> int:
        """How many times smaller than the image the network input is (1 for skip nets)."""
        return 2 ** (len(self.up) - 1) if self.kind == "deep_decoder" else 1

    @property
    def size_multiple(self) -> int:
        """Image sides must divide by this (each scale halves the image)."""
        return 2 ** len(self.up) if self.kind == "skip" else self.input_factor

    @property
    def min_side(self) -> int:
        """Smallest image side the network trains at: a skip net's coarsest scale must hold 2x2
        pixels (BatchNorm needs more than one value per channel), so 64 px for 5 scales."""
        return 2 * self.size_multiple if self.kind == "skip" else self.size_multiple


#: The paper's output averaging: weight 0.99, so each output counts for about 100 iterations.
PAPER_EMA_SPAN = 100
#: Shorter side (px) from which an image counts as large for :meth:`NetConfig.ema_span`.
LARGE_SIDE = 256

#: The generator families :func:`build` knows.
KINDS = ("skip", "deep_decoder", "flat", "pixel_mlp")


def _widths(n: int, scales: int = 5) -> tuple[int, ...]:
    return (n,) * scales


#: Named generators. ``paper`` is the denoising network of the paper (2.2 M
#: parameters); ``lab`` is the CPU default: narrow full-resolution scales (16, 32, then 64
#: channels) and nearest upsampling. Its shape was first chosen on 128-px crops of test
#: images (coffee, astronaut, chelsea). Its denoising input noise, 1/15 (twice the paper's
#: 1/30), was chosen on training images only (benchmarks/fit_table.py's CANDIDATES): on ihc,
#: retina, rocket and coins it raised lab's best averaged PSNR in all 16 fits against lab's
#: fit of the same seed, by +0.3 to +1.4 dB at 256 px and +0.1 to +2.2 dB at 128 px, and
#: its best raw output too: this narrow net needs more of that regulariser than the paper's.
#: In inpainting and super-resolution it did not pay (benchmarks/input_noise_tasks.py), so
#: there ``lab`` keeps 1/30. On images of 256 px and more it also denoises with a longer
#: average of its outputs (a span of 200 iterations, weight 0.995, against the paper's 0.99),
#: again chosen on training images only (``fit_table.py --emas``): at 256 px it raised the
#: best averaged PSNR on 7 of 8 training images (brick lost); at 128 px, where fits are half
#: as long and the average still holds more of the poor early outputs, it lost, so 128 px
#: keeps 0.99. Against the paper network's stored reference on the test split, see the
#: README ("The lab network against the paper's").
PRESETS: dict[str, NetConfig] = {
    "tiny": NetConfig(down=_widths(16), up=_widths(16), skip=_widths(4), upsample="nearest",
                      lr=0.01, reg_noise_std=0.01),
    "lab": NetConfig(down=(16, 32, 64, 64, 64), up=(16, 32, 64, 64, 64), skip=_widths(4),
                     upsample="nearest", lr=0.01, denoise_reg_noise_std=1 / 15, large_denoise_ema_span=200),
    "paper": NetConfig(),
    # the no-skip net of the official inpainting code's large-hole run (the vase: num_channels_skip=[0]*5,
    # upsample_mode='nearest'); hourglass() gives the same at the width of any preset
    "hourglass": NetConfig(skip=_widths(0), upsample="nearest"),
    "deep_decoder": NetConfig(kind="deep_decoder", down=(), skip=(), up=_widths(64, 6),
                              upsample="bilinear", kernel=1, lr=0.01),
    # a control of notebook 05: convolutions at full resolution only (no down- or upsampling)
    "flat": NetConfig(kind="flat", down=(), skip=(), up=_widths(32, 5), kernel=3, lr=0.01),
    # the control of notebook 05: as many layers as the tiny net has convolutions per scale, no space
    "pixel_mlp": NetConfig(kind="pixel_mlp", down=(), skip=(), up=_widths(64, 3), kernel=1, lr=0.01,
                           reg_noise_std=0.0),
}


def hourglass(preset: str | NetConfig | None = None) -> NetConfig:
    """The hourglass of the paper's large-hole inpainting: ``preset`` without skip connections.

    Every skip width becomes 0 and the upsampling nearest-neighbour, as in the official
    ``inpainting.ipynb`` for the vase (``num_channels_skip=[0]*5``, ``upsample_mode='nearest'``).
    ``hourglass("paper")`` is the ``hourglass`` preset; ``hourglass()`` takes the run mode's
    network, so a laptop gets the same idea at its own width.

    Examples
    --------
    >>> hourglass("paper") == PRESETS["hourglass"]
    True
    >>> hourglass("lab").skip
    (0, 0, 0, 0, 0)
    """
    config = get_config(preset)
    if config.kind != "skip":
        raise ValueError(f"only skip networks have skip connections to remove, got kind {config.kind!r}")
    return replace(config, skip=(0,) * config.scales, upsample="nearest")


def get_config(preset: str | NetConfig | None = None) -> NetConfig:
    """Resolve a preset name (or ``None``: the run mode's default) to a :class:`NetConfig`."""
    if isinstance(preset, NetConfig):
        return preset
    if preset is None:
        preset = settings.get_mode().net
    if preset not in PRESETS:
        raise ValueError(f"unknown network preset {preset!r}; choose one of {', '.join(PRESETS)} "
                         f"or pass a NetConfig")
    return PRESETS[preset]


# ---------------------------------------------------------------------- layers
def conv(cin: int, cout: int, kernel: int, stride: int = 1) -> nn.Sequential:
    """Convolution with reflection padding, so borders are not pulled towards zero."""
    pad = (kernel - 1) // 2
    layers = [nn.ReflectionPad2d(pad)] if pad > 0 else []
    return nn.Sequential(*layers, nn.Conv2d(cin, cout, kernel, stride=stride))


def conv_bn_act(cin: int, cout: int, kernel: int, stride: int = 1) -> nn.Sequential:
    """conv -> BatchNorm -> LeakyReLU(0.2): the building block of the skip network."""
    return nn.Sequential(conv(cin, cout, kernel, stride), nn.BatchNorm2d(cout), nn.LeakyReLU(0.2, inplace=True))


class Scale(nn.Module):
    """One scale of the encoder-decoder; ``inner`` is the next (coarser) scale or None."""

    def __init__(self, cin: int, down: int, up: int, skip: int, inner_out: int | None,
                 inner: nn.Module | None, kernel: int, upsample: str):
        super().__init__()
        self.skip = conv_bn_act(cin, skip, 1) if skip > 0 else None
        self.down = nn.Sequential(conv_bn_act(cin, down, kernel, stride=2), conv_bn_act(down, down, kernel))
        self.inner = inner
        deeper = inner_out if inner is not None else down
        align = False if upsample in ("bilinear", "bicubic") else None
        self.upsample = nn.Upsample(scale_factor=2, mode=upsample, align_corners=align)
        self.bn = nn.BatchNorm2d(skip + deeper)
        self.up = nn.Sequential(conv_bn_act(skip + deeper, up, kernel), conv_bn_act(up, up, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.down(x)                      # half resolution
        if self.inner is not None:
            y = self.inner(y)                 # all coarser scales
        y = self.upsample(y)                  # back to this resolution
        if self.skip is not None:
            y = torch.cat([self.skip(x), y], dim=1)
        return self.up(self.bn(y))


class SkipNet(nn.Module):
    """The paper's encoder-decoder (hourglass when all skip widths are 0)."""

    def __init__(self, config: NetConfig, in_channels: int, out_channels: int):
        super().__init__()
        c = config
        # build from the coarsest scale outwards: each scale wraps the next one
        inner, inner_out = None, None
        for i in reversed(range(c.scales)):
            cin = in_channels if i == 0 else c.down[i - 1]
            inner = Scale(cin, c.down[i], c.up[i], c.skip[i], inner_out, inner, c.kernel, c.upsample)
            inner_out = c.up[i]
        self.body = inner
        self.head = nn.Sequential(conv(c.up[0], out_channels, 1), nn.Sigmoid())
        self.config = c
        self.in_channels = in_channels

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        m = self.config.size_multiple
        if z.shape[-1] % m or z.shape[-2] % m:
            raise ValueError(f"input is {tuple(z.shape[-2:])}; with {self.config.scales} scales both sides "
                             f"must divide by {m} (crop the image with dip_teach.images.prepare)")
        return self.head(self.body(z))


class DeepDecoder(nn.Module):
    """Heckel & Hand's Deep Decoder: upsample, 1x1 conv, ReLU, BatchNorm per layer."""

    def __init__(self, config: NetConfig, in_channels: int, out_channels: int):
        super().__init__()
        c = config
        layers: list[nn.Module] = []
        cin = in_channels
        for i, width in enumerate(c.up):
            if i > 0:  # the input is 2**(layers-1) times smaller: every later layer upsamples
                layers.append(nn.Upsample(scale_factor=2, mode=c.upsample,
                                          align_corners=False if c.upsample != "nearest" else None))
            layers += [nn.Conv2d(cin, width, 1), nn.ReLU(inplace=True), nn.BatchNorm2d(width)]
            cin = width
        layers += [nn.Conv2d(cin, out_channels, 1), nn.Sigmoid()]
        self.body = nn.Sequential(*layers)
        self.config = c
        self.in_channels = in_channels

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.body(z)


class FlatNet(nn.Module):
    """Convolutions at one resolution: ``conv k x k -> BatchNorm -> LeakyReLU`` per layer, then a sigmoid.

    With ``kernel=3`` (the ``flat`` preset) neighbours share weights but no layer sees a coarser
    scale; with ``kernel=1`` it is :class:`PixelMLP`.
    """

    def __init__(self, config: NetConfig, in_channels: int, out_channels: int):
        super().__init__()
        layers: list[nn.Module] = []
        cin = in_channels
        for width in config.up:
            layers.append(conv_bn_act(cin, width, config.kernel))
            cin = width
        layers += [nn.Conv2d(cin, out_channels, 1), nn.Sigmoid()]
        self.body = nn.Sequential(*layers)
        self.config = config
        self.in_channels = in_channels

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.body(z)


class PixelMLP(FlatNet):
    """The same MLP on every pixel: ``conv 1x1 -> BatchNorm -> LeakyReLU`` per layer, then a sigmoid.

    Each output pixel depends only on the input vector at that pixel, so shuffling the
    target's pixels (and the input's with them) changes nothing for this network: the
    control that shows what the convolutions of the skip network contribute.
    """

    def __init__(self, config: NetConfig, in_channels: int, out_channels: int):
        if config.kernel != 1:
            raise ValueError(f"a per-pixel MLP has 1x1 convolutions only, got kernel {config.kernel}")
        super().__init__(config, in_channels, out_channels)


def build(preset: str | NetConfig | None = None, in_channels: int = 32, out_channels: int = 3) -> nn.Module:
    """Build a generator from a preset name or a :class:`NetConfig`.

    Parameters
    ----------
    preset : str or NetConfig, optional
        One of :data:`PRESETS` (``"tiny"``, ``"lab"``, ``"paper"``, ``"hourglass"``,
        ``"deep_decoder"``, ``"flat"``, ``"pixel_mlp"``); ``None`` takes the run mode's default.
    in_channels : int
        Channels of the network input ``z`` (32 in the paper; 2 for a meshgrid).
    out_channels : int
        Channels of the image (3 for colour, 1 for grey).

    Returns
    -------
    torch.nn.Module
        The network, with its config as ``net.config``.
    """
    config = get_config(preset)
    cls = {"skip": SkipNet, "deep_decoder": DeepDecoder, "flat": FlatNet, "pixel_mlp": PixelMLP}[config.kind]
    return cls(config, in_channels, out_channels)


# ------------------------------------------------------------------ the input z
def input_shape(config: str | NetConfig | None, height: int, width: int) -> tuple[int, int]:
    """Spatial size of the network input for an image of ``height x width``."""
    f = get_config(config).input_factor
    return height // f, width // f


def make_input(kind: str, channels: int, height: int, width: int, seed: int = 0) -> torch.Tensor:
    """The fixed network input ``z``, shape ``(1, channels, height, width)``.

    Parameters
    ----------
    kind : str
        ``"noise"``: uniform noise in ``[0, 0.1]``, the paper's choice; ``"meshgrid"``:
        two channels holding the x and y coordinates in ``[0, 1]`` (``channels``
        must then be 2), a smooth input that favours smooth fills in inpainting.
    channels, height, width : int
        Shape of the input.
    seed : int
        Seed of the noise (the same seed gives the same ``z``).
    """
    if kind == "noise":
        g = torch.Generator().manual_seed(int(seed))
        return torch.rand((1, channels, height, width), generator=g) * 0.1
    if kind == "meshgrid":
        if channels != 2:
            raise ValueError(f"a meshgrid input has 2 channels (x and y), got channels={channels}")
        ys = torch.linspace(0, 1, height).view(height, 1).expand(height, width)
        xs = torch.linspace(0, 1, width).view(1, width).expand(height, width)
        return torch.stack([xs, ys])[None].contiguous()
    raise ValueError(f"input kind must be 'noise' or 'meshgrid', got {kind!r}")


# ------------------------------------------------------------------- costs
def count_parameters(net: nn.Module) -> int:
    """Number of trainable weights."""
    return sum(p.numel() for p in net.parameters() if p.requires_grad)


def conv_macs(net: nn.Module, x: torch.Tensor) -> dict[nn.Conv2d, int]:
    """Multiply-accumulates of each convolution of ``net`` in one forward pass on ``x``.

    Counted by forward hooks (output values x input channels per group x kernel area);
    the net runs once in eval mode without gradients and is left in the mode it was in.
    The one MAC counter of the kit: :func:`count_macs` sums it, and
    :func:`dip_teach.architecture.summary` splits it by scale.
    """
    macs: dict[nn.Conv2d, int] = {}

    def hook(module: nn.Conv2d, inputs, output):
        k = module.kernel_size[0] * module.kernel_size[1]
        macs[module] = macs.get(module, 0) + output.numel() * (module.in_channels // module.groups) * k

    handles = [m.register_forward_hook(hook) for m in net.modules() if isinstance(m, nn.Conv2d)]
    was_training = net.training
    try:
        net.eval()
        with torch.inference_mode():
            net(x)
    finally:
        for hd in handles:
            hd.remove()
        net.train(was_training)
    return macs


def count_macs(net: nn.Module, size: int, in_channels: int | None = None) -> int:
    """Multiply-accumulates of the convolutions in one forward pass on a ``size x size`` image.

    Convolutions dominate the cost (BatchNorm, activations and upsampling add a few
    percent), so only they are counted (:func:`conv_macs`). A training step (forward +
    backward) costs about three times this; FLOPs are twice the MACs.
    """
    config: NetConfig = net.config
    cin = in_channels or net.in_channels
    h, w = input_shape(config, size, size)
    p = next(net.parameters())
    return int(sum(conv_macs(net, torch.zeros(1, cin, h, w, device=p.device, dtype=p.dtype)).values()))


def describe(preset: str | NetConfig | None = None, size: int = 256) -> dict:
    """Parameters and GMAC per forward pass of a preset, for tables."""
    net = build(preset)
    return {"parameters": count_parameters(net), "gmac": count_macs(net, size) / 1e9}
