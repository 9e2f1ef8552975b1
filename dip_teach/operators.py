"""Forward models: how a clean image ``x`` becomes the observation ``y = A(x) + n``.

Each operator is a :class:`torch.nn.Module` (deepinv's "physics"): what it holds (a
mask, a filter kernel) is a buffer, so ``op.to(device)`` moves it once, and ``op(x)``
applies ``A``. It does three jobs:

``corrupt(x)``
    make an observation from a clean image, for experiments where we know ``x``;
``forward(x)``
    apply ``A`` to a candidate image inside a loss, differentiably, so that a
    fit can minimise ``|| A(f(z)) - y ||^2``;
``loss(x, y)``
    that data term, with the right normalisation (e.g. only over known pixels).

All operators take and return tensors of shape ``(1, C, H, W)`` in ``[0, 1]``
(arrays of shape ``(H, W, C)`` are accepted by ``corrupt`` and converted).

Noise levels follow the literature: ``sigma`` is on the 0-255 scale, so
``sigma=25`` means a standard deviation of 25/255 on images in ``[0, 1]``.
"""
from __future__ import annotations

import io
import math

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from PIL import Image, ImageDraw, ImageFont

from . import settings
from .images import ImageError, as_tensor, to_array, to_uint8


def _generator(seed: int | torch.Generator | None) -> torch.Generator | None:
    if seed is None or isinstance(seed, torch.Generator):
        return seed
    return torch.Generator().manual_seed(int(seed))


def check_sigma(sigma: float) -> float:
    """Validate a noise level given on the 0-255 scale and return it as a fraction of 1.

    Raises
    ------
    ValueError
        For negative values, values above 255, and values in ``(0, 1]``, which are
        almost always a sigma already divided by 255 (pass ``sigma * 255`` instead).
    """
    sigma = float(sigma)
    if not math.isfinite(sigma) or sigma < 0:
        raise ValueError(f"sigma must be a non-negative number on the 0-255 scale, got {sigma}")
    if 0 < sigma <= 1:
        raise ValueError(
            f"sigma={sigma} looks like it is on the [0, 1] scale. dip_teach takes sigma on the "
            f"0-255 scale, like the papers: use sigma={sigma * 255:g} for a standard deviation "
            f"of {sigma} on images in [0, 1]"
        )
    if sigma > 255:
        raise ValueError(f"sigma={sigma} is larger than the whole 0-255 range; typical values are 5 to 75")
    return sigma / 255.0


class Operator(nn.Module):
    """Base class: identity forward model, mean squared error data term.

    Subclasses keep their tensors as buffers (``self.register_buffer``) and call
    ``super().__init__()`` first.
    """

    name = "identity"

    def _follow(self, x: torch.Tensor) -> None:
        """Move the buffers to ``x``'s device if they are elsewhere: once, like ``op.to(device)``."""
        buffer = next(self.buffers(), None)
        if buffer is not None and buffer.device != x.device:
            self.to(x.device)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Apply ``A`` to a candidate image (differentiable)."""
        return x

    def corrupt(self, clean, seed: int | torch.Generator | None = None) -> torch.Tensor:
        """Make an observation ``y = A(clean) + n`` (no noise in the base class)."""
        return self.forward(as_tensor(clean)).detach()

    def loss(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """Data term ``mean((A(x) - y)^2)``."""
        return F.mse_loss(self.forward(x), y)

    def check(self, y: torch.Tensor) -> None:
        """Raise a clear error if the observation ``y`` does not fit this operator."""

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class Denoising(Operator):
    """Additive white Gaussian noise: ``A = I``, ``y = x + n``, ``n ~ N(0, (sigma/255)^2)``.

    Parameters
    ----------
    sigma : float
        Noise standard deviation on the 0-255 scale (25 in the paper's experiments).
    clip : bool
        Clip the noisy image to ``[0, 1]``, as a saved 8-bit image would be (and as
        the paper's code does). Default True.
    """

    name = "denoise"
    #: The paper's iteration budget for this task at full scale (``settings.iterations`` scales it).
    paper_iterations = 3000

    def __init__(self, sigma: float = 25.0, clip: bool = True):
        super().__init__()
        self.sigma = float(sigma)
        self.std = check_sigma(sigma)
        self.clip = clip

    def corrupt(self, clean, seed=None) -> torch.Tensor:
        x = as_tensor(clean)
        noise = torch.randn(x.shape, generator=_generator(seed)).to(x.device) * self.std
        y = x + noise
        return y.clamp(0, 1) if self.clip else y

    def __repr__(self) -> str:
        return f"Denoising(sigma={self.sigma:g})"


class Inpainting(Operator):
    """Missing pixels: ``A(x) = m * x`` with a binary mask ``m`` (1 = known, 0 = missing).

    The mask is a buffer: ``op.to(device)`` moves it once (and an operator first used on
    another device moves it there itself, once), never on every call.

    The loss is the mean squared error over the known values: a number that reads as
    the error of what was measured, whatever the share of holes. The paper's code divides
    the same sum by all values (``mse(out * mask, img * mask)``); the two differ by a
    constant factor, which Adam, dividing each gradient by its running size, hardly notices.

    Parameters
    ----------
    mask : array or tensor
        ``(H, W)``, ``(H, W, 1)``, ``(1, 1, H, W)`` or per-channel; values 0/1
        (booleans welcome). Build one with :func:`pixel_mask`, :func:`text_mask`
        or :func:`hole_mask`.
    """

    name = "inpaint"
    paper_iterations = 5000

    def __init__(self, mask):
        super().__init__()
        m = torch.as_tensor(np.asarray(mask) if not isinstance(mask, torch.Tensor) else mask).float()
        if m.dim() == 2:
            m = m[None, None]
        elif m.dim() == 3:  # (H, W, C) array
            m = m.permute(2, 0, 1)[None]
        if m.dim() != 4 or m.shape[0] != 1:
            raise ImageError(f"mask must be (H, W), (H, W, C) or (1, C, H, W), got {tuple(m.shape)}")
        if not torch.all((m == 0) | (m == 1)):
            raise ImageError("mask must hold only 0 (missing) and 1 (known); threshold it first, e.g. mask > 0.5")
        if m.sum() == 0:
            raise ImageError("mask marks every pixel as missing: nothing is left to fit")
        self.register_buffer("mask", m)

    def _mask_for(self, x: torch.Tensor) -> torch.Tensor:
        if x.shape[-2:] != self.mask.shape[-2:]:
            raise ImageError(
                f"mask is {tuple(self.mask.shape[-2:])} but the image is {tuple(x.shape[-2:])}; "
                f"make the mask from the image, e.g. pixel_mask(image.shape[:2]) for an (H, W, C) array"
            )
        if self.mask.shape[1] not in (1, x.shape[1]):
            raise ImageError(f"mask has {self.mask.shape[1]} channels, the image {x.shape[1]}; use a 1-channel mask")
        self._follow(x)
        return self.mask

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self._mask_for(x)

    def loss(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        m = self._mask_for(x).expand_as(x)
        return ((x - y) ** 2 * m).sum() / m.sum()

    def check(self, y: torch.Tensor) -> None:
        self._mask_for(y)

    @property
    def missing_fraction(self) -> float:
        return float(1 - self.mask.mean())

    def __repr__(self) -> str:
        return f"Inpainting(missing={self.missing_fraction:.0%})"


def lanczos_kernel(factor: int, a: int = 3) -> torch.Tensor:
    """1-D Lanczos-``a`` antialiasing kernel for downsampling by ``factor``.

    The kernel is ``sinc(t) sinc(t / a)`` stretched by ``factor`` (so it cuts the
    frequencies the coarser grid cannot hold) and normalised to sum to 1.
    Its length is even (``2 * a * factor``), so it is centred between pixels the
    same way Pillow's downsampling is.
    """
    if factor < 1:
        raise ValueError(f"factor must be a positive integer, got {factor}")
    n = 2 * a * factor
    t = (torch.arange(n, dtype=torch.float64) - (n - 1) / 2) / factor
    k = torch.sinc(t) * torch.sinc(t / a)
    return (k / k.sum()).float()


class Downsampling(Operator):
    """Super-resolution: ``A`` = antialiased (Lanczos-3) downsampling by ``factor``.

    Implemented as a separable strided convolution with reflection padding, so it is
    differentiable and cheap inside a loss. ``corrupt`` of an ``(H, W)`` image gives an
    ``(H/factor, W/factor)`` low-resolution observation, for odd factors too (their
    padding is one pixel larger after the image than before it).

    The high-resolution side a fit makes is capped by the run mode's ``max_image_size``
    (:meth:`check` says what to do), and the low-resolution side must be at least 8 pixels.

    Parameters
    ----------
    factor : int
        Scale factor (4 in the paper's experiments). Image sides must divide by it.
    """

    name = "superres"
    paper_iterations = 2000

    def __init__(self, factor: int = 4):
        if int(factor) != factor or factor < 2:
            raise ValueError(f"factor must be an integer >= 2, got {factor}")
        super().__init__()
        self.factor = int(factor)
        self.register_buffer("kernel", lanczos_kernel(self.factor))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self._follow(x)
        f, k = self.factor, self.kernel.to(x.dtype)
        h, w = x.shape[-2:]
        if h % f or w % f:
            raise ImageError(f"image sides {h}x{w} must divide by the factor {f}; crop with dip_teach.images.prepare")
        c = x.shape[1]
        before = (len(k) - f) // 2            # odd factors: one more pixel of padding after
        after = len(k) - f - before
        if min(h, w) <= after:
            raise ImageError(f"image sides {h}x{w} are too small for factor {f}; "
                             f"the low-resolution image must be at least 8 pixels a side")
        x = F.pad(x, (before, after, before, after), mode="reflect")
        kx = k.view(1, 1, 1, -1).repeat(c, 1, 1, 1)
        ky = k.view(1, 1, -1, 1).repeat(c, 1, 1, 1)
        x = F.conv2d(x, kx, stride=(1, f), groups=c)
        return F.conv2d(x, ky, stride=(f, 1), groups=c)

    def check(self, y: torch.Tensor) -> None:
        if y.shape[-1] < 8 or y.shape[-2] < 8:
            raise ImageError(f"the low-resolution image is only {tuple(y.shape[-2:])}; need at least 8x8")
        check_output_size(self.output_size(tuple(y.shape[-2:])), f"{self.factor}x super-resolution")

    def output_size(self, lr_shape: tuple[int, int]) -> tuple[int, int]:
        """High-resolution size that a low-resolution ``(h, w)`` observation comes from."""
        return lr_shape[0] * self.factor, lr_shape[1] * self.factor

    def __repr__(self) -> str:
        return f"Downsampling(factor={self.factor})"


def cubic_kernel(factor: int, a: float = -0.5) -> torch.Tensor:
    """1-D antialiasing *bicubic* kernel for downsampling by ``factor`` (Keys' cubic, ``a = -0.5``).

    The kernel of MATLAB's ``imresize(x, 1/factor, 'bicubic')`` and Pillow's ``BICUBIC``
    resize, which make the low-resolution images of the standard super-resolution
    benchmarks: the cubic stretched by ``factor``, normalised to sum to 1, of even length
    ``4 * factor`` (centred between pixels like :func:`lanczos_kernel`).
    """
    if factor < 1:
        raise ValueError(f"factor must be a positive integer, got {factor}")
    n = 4 * factor
    t = ((torch.arange(n, dtype=torch.float64) - (n - 1) / 2) / factor).abs()
    k = torch.where(t <= 1, (a + 2) * t ** 3 - (a + 3) * t ** 2 + 1,
                    torch.where(t < 2, a * t ** 3 - 5 * a * t ** 2 + 8 * a * t - 4 * a, torch.zeros_like(t)))
    return (k / k.sum()).float()


class BicubicDownsampling(Downsampling):
    """Super-resolution with the benchmarks' forward model: antialiased *bicubic* downsampling.

    The same strided convolution as :class:`Downsampling`, with :func:`cubic_kernel`
    instead of Lanczos-3. Use it to make an observation the way the benchmark sets do and
    restore it with :class:`Downsampling` (a model mismatch), or with itself (an inverse
    crime with the benchmarks' kernel).
    """

    name = "superres-bicubic"

    def __init__(self, factor: int = 4):
        super().__init__(factor)
        self.kernel = cubic_kernel(self.factor)

    def __repr__(self) -> str:
        return f"BicubicDownsampling(factor={self.factor})"


class JPEG(Operator):
    """JPEG compression artefacts: ``y`` = the image saved at a low JPEG ``quality``.

    The artefacts (8x8 blocks, ringing near edges, lost colour detail) are not an
    operator one can differentiate, so, as in the paper's JPEG experiment, ``A`` is the
    identity and the data term the plain squared error: the fit reproduces the JPEG
    itself if it runs long enough, and the prior has to act before that.

    Parameters
    ----------
    quality : int
        Pillow's JPEG quality, 1-95 (10 is heavily blocky; the paper's example is about that).
    """

    name = "jpeg"

    def __init__(self, quality: int = 10):
        if int(quality) != quality or not 1 <= quality <= 95:
            raise ValueError(f"quality must be an integer from 1 to 95, got {quality}")
        super().__init__()
        self.quality = int(quality)

    def corrupt(self, clean, seed=None) -> torch.Tensor:
        """Save ``clean`` as an 8-bit JPEG in memory and read it back (no resizing, ever:
        resizing after compression would smear the 8x8 blocks the prior must remove)."""
        x = as_tensor(clean)
        img = Image.fromarray(to_uint8(to_array(x)))
        buf = io.BytesIO()
        img.save(buf, format="JPEG", quality=self.quality)
        self.bytes = buf.tell()
        back = np.asarray(Image.open(io.BytesIO(buf.getvalue())), dtype=np.float32) / 255
        back = back[..., None] if back.ndim == 2 else back
        return torch.from_numpy(back).permute(2, 0, 1)[None].to(x.device)

    def __repr__(self) -> str:
        return f"JPEG(quality={self.quality})"


#: The paper's three restoration tasks by name, as the command line and the workshop app offer them;
#: each class's ``paper_iterations`` is the task's budget at full scale.
TASKS: dict[str, type[Operator]] = {op.name: op for op in (Denoising, Inpainting, Downsampling)}


def check_output_size(hw: tuple[int, int], what: str,
                      fix: str = "use a smaller factor or a smaller crop of the input") -> None:
    """Refuse an output larger than the run mode's ``max_image_size`` (memory grows with its area).

    Raises
    ------
    ImageError
        Saying how large the output would be and what to do (``fix``).
    """
    mode = settings.get_mode()
    if max(hw) > mode.max_image_size:
        raise ImageError(f"{what} would make a {hw[0]}x{hw[1]} image, larger than the {mode.max_image_size} px "
                         f"allowed in {mode.name!r} mode; {fix}, or choose a mode that allows more "
                         f"(DIP_TEACH_MODE=full, meant for a GPU)")


def upsample_bicubic(y: torch.Tensor, factor: int) -> torch.Tensor:
    """The classic baseline for super-resolution: bicubic interpolation, clipped to [0, 1]."""
    y = as_tensor(y)
    return F.interpolate(y, scale_factor=factor, mode="bicubic", align_corners=False).clamp(0, 1)


# ------------------------------------------------------------------------- masks
def _shape2(shape) -> tuple[int, int]:
    shape = tuple(int(s) for s in shape)
    if len(shape) == 3:  # accept an (H, W, C) shape
        shape = shape[:2]
    if len(shape) != 2 or min(shape) < 1:
        raise ValueError(f"mask shape must be (H, W), got {shape}")
    return shape  # type: ignore[return-value]


def pixel_mask(shape, missing: float = 0.5, seed: int = 0) -> np.ndarray:
    """Random pixel mask: each pixel missing with probability ``missing`` (1 = known)."""
    if not 0 <= missing < 1:
        raise ValueError(f"missing is a fraction in [0, 1), got {missing}")
    h, w = _shape2(shape)
    rng = np.random.default_rng(seed)
    return (rng.random((h, w)) >= missing).astype(np.float32)


def text_mask(shape, text: str = "Deep Image Prior", size: int | None = None, seed: int = 0) -> np.ndarray:
    """Mask with text written over the image (text pixels missing), as in the paper's Fig. 7.

    Lines of ``text`` are repeated down the image with a small random offset per line.
    """
    h, w = _shape2(shape)
    size = size or max(8, h // 10)
    font = ImageFont.load_default(size=size)
    canvas = Image.new("L", (w, h), 255)
    draw = ImageDraw.Draw(canvas)
    rng = np.random.default_rng(seed)
    y = int(rng.integers(0, size // 2 + 1))
    while y < h:
        x = int(rng.integers(-size, size // 2 + 1))
        while x < w:
            draw.text((x, y), text + "  ", fill=0, font=font)
            x += int(draw.textlength(text + "  ", font=font))
        y += int(size * 1.6)
    return (np.asarray(canvas) > 127).astype(np.float32)


def hole_mask(shape, holes: int = 3, radius: float = 0.12, seed: int = 0) -> np.ndarray:
    """Large holes: ``holes`` random discs of radius ``radius`` (fraction of the short side) missing."""
    h, w = _shape2(shape)
    rng = np.random.default_rng(seed)
    r = radius * min(h, w)
    yy, xx = np.mgrid[0:h, 0:w]
    mask = np.ones((h, w), dtype=np.float32)
    for _ in range(holes):
        cy, cx = rng.uniform(r, h - r), rng.uniform(r, w - r)
        mask[(yy - cy) ** 2 + (xx - cx) ** 2 <= r * r] = 0
    return mask
