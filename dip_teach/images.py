"""Load, save, crop and convert images; the catalogue of the images in ``data/``.

One convention everywhere in the kit:

* **arrays** are numpy ``float32`` of shape ``(H, W, C)`` with values in ``[0, 1]``
  (``C`` is 3 for colour, 1 for grey);
* **tensors** are torch ``float32`` of shape ``(1, C, H, W)`` with values in ``[0, 1]``:
  channels first, with the batch dimension of one that networks expect.

:func:`to_tensor` and :func:`to_array` convert between the two. Every loader returns
an array in this convention whatever the file held (8- or 16-bit, grey, RGBA, palette):
see :func:`load_image` for the automatic fixes.

Example
-------
>>> from dip_teach import images
>>> x = images.load("coffee", size=64)     # a catalogue name or a path
>>> x.shape, x.dtype
((64, 64, 3), dtype('float32'))
"""
from __future__ import annotations

import json
import math
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from PIL import Image, UnidentifiedImageError

from . import settings
from .files import refuse_existing, write_atomically

DATA_DIR = Path(__file__).resolve().parent.parent / "data"
CATALOG_FILE = DATA_DIR / "catalog.json"

#: Smallest side the loaders accept. The 5-scale generator networks need twice that
#: (64 px: their coarsest scale must hold 2x2 pixels); :class:`dip_teach.fit.Fit` says so.
MIN_SIDE = 32
#: Largest image a file may decode to (after the reduction while decoding); a bigger
#: file, such as a "decompression bomb" (a few KB that claim gigapixels), is refused.
MAX_PIXELS = 64_000_000
#: Files above this many pixels are reduced while decoding (Pillow's ``draft`` for JPEG,
#: ``reduce`` otherwise) to what the requested size needs; smaller files load whole.
REDUCE_ABOVE = 4_000_000
#: Image sides are cropped to a multiple of this so every scale of a 5-level
#: encoder-decoder divides evenly (see :func:`crop_to_multiple`).
SIZE_MULTIPLE = 32


class ImageError(ValueError):
    """An image that the kit cannot use as it is; the message says what to do."""


# --------------------------------------------------------------------------- loading
def load_image(path: str | Path, grey: bool = False, *, size: int | None = None,
               max_size: int | None = None) -> np.ndarray:
    """Read an image file into a float array in ``[0, 1]``, shape ``(H, W, C)``.

    Automatic, documented fixes:

    * the EXIF orientation of a photo is applied (a phone picture taken upright
      loads upright);
    * 16-bit (and 32-bit integer) images are scaled by their type's maximum, so
      values still land in ``[0, 1]``;
    * palette (``P``) and other modes are converted to RGB;
    * RGBA / LA images are composited onto a white background (transparent
      pixels would otherwise hold arbitrary colours);
    * grey images are repeated into 3 channels unless ``grey=True``;
      with ``grey=True`` colour images are converted to luminance, ``C == 1``;
    * a file over :data:`REDUCE_ABOVE` pixels that will be prepared at ``size`` (or
      limited to ``max_size``, see :func:`prepare`) is reduced by a whole factor while
      decoding, keeping more than what :func:`prepare` needs, so a 48-megapixel photo
      loaded at ``size=128`` never exists in memory as floats.

    Parameters
    ----------
    path : str or Path
        File to read (PNG, JPEG, TIFF, BMP, ... anything Pillow reads).
    grey : bool
        Return one channel instead of three.
    size, max_size : int, optional
        What the image will be prepared for (:func:`load` passes them); without
        them the file is read at full resolution.

    Raises
    ------
    FileNotFoundError
        The path does not exist (the message lists the catalogue names, in case
        a name was meant).
    ImageError
        The file is not an image Pillow can read, or it would decode to more than
        :data:`MAX_PIXELS` pixels.
    """
    path = Path(path).expanduser()
    if not path.exists():
        raise FileNotFoundError(
            f"no image at {str(path)!r}. Check the path, or use one of the course images "
            f"by name with dip_teach.images.load(name): {', '.join(catalogue_names())}"
        )
    if path.is_dir():
        raise ImageError(f"{str(path)!r} is a folder, not an image file")
    try:
        with warnings.catch_warnings():      # the kit's own limit below replaces Pillow's warning
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(path) as im:
                factor = _reduction(im.size, size, max_size)
                if factor > 1 and im.format == "JPEG":     # decode at 1/2, 1/4 or 1/8 scale
                    im.draft(None, (-(-im.width // factor), -(-im.height // factor)))
                if im.width * im.height > MAX_PIXELS:
                    raise _too_large(path, im.size)
                im.load()
                turn = _EXIF_TURNS.get(im.getexif().get(ORIENTATION_TAG))
                bits16 = im.mode.startswith("I;16")
                factor = _reduction(im.size, size, max_size)
                if factor > 1:                  # modes reduce() does not take go through one it does
                    mode = {"P": "RGBA", "1": "L"}.get(im.mode, "I" if bits16 else im.mode)
                    im = (im if im.mode == mode else im.convert(mode)).reduce(factor)
                if turn is not None:
                    im = im.transpose(turn)
                return _pil_to_array(im, grey, bits16)
    except Image.DecompressionBombError:
        raise _too_large(path, None) from None
    except (UnidentifiedImageError, OSError, SyntaxError) as err:
        raise ImageError(
            f"{str(path)!r} is not an image that can be read ({err}). "
            "Give a PNG, JPEG, TIFF or BMP file."
        ) from None


def _reduction(wh: tuple[int, int], size: int | None, max_size: int | None) -> int:
    """Whole factor a decoded ``(w, h)`` image may be reduced by and still serve :func:`prepare`.

    With ``size`` the short side stays above ``2 * size`` (so :func:`prepare` still
    downscales the whole view, as it would from the full file); with ``max_size`` the
    long side stays above ``max_size``. Images up to :data:`REDUCE_ABOVE` pixels are kept whole.
    """
    w, h = wh
    if w * h <= REDUCE_ABOVE or (size is None and max_size is None):
        return 1
    if size is not None:
        return max(1, (min(w, h) - 1) // (2 * size))
    return max(1, (max(w, h) - 1) // max_size)


def _too_large(path: Path, wh: tuple[int, int] | None) -> ImageError:
    """The one-line refusal of a file that decodes to more than :data:`MAX_PIXELS` pixels."""
    what = f"{wh[0]}x{wh[1]} pixels" if wh is not None else "beyond Pillow's decompression-bomb limit"
    return ImageError(f"{str(path)!r} is too large to load ({what}; the limit is {MAX_PIXELS // 10**6} "
                      "megapixels). Downscale it first with an image editor, or save it as a JPEG, which "
                      "dip_teach.images.load(path, size=...) reads at reduced scale.")


ORIENTATION_TAG = 0x0112
#: EXIF orientation -> the transpose that makes the picture upright (as ``ImageOps.exif_transpose``).
_EXIF_TURNS = {2: Image.Transpose.FLIP_LEFT_RIGHT, 3: Image.Transpose.ROTATE_180,
               4: Image.Transpose.FLIP_TOP_BOTTOM, 5: Image.Transpose.TRANSPOSE,
               6: Image.Transpose.ROTATE_270, 7: Image.Transpose.TRANSVERSE, 8: Image.Transpose.ROTATE_90}


def _pil_to_array(im: Image.Image, grey: bool, bits16: bool = False) -> np.ndarray:
    """Convert any Pillow image to the kit's float array convention (``bits16``: the file was 16-bit)."""
    if im.mode in ("I;16", "I;16B", "I;16L", "I;16N", "I", "F"):
        arr = np.asarray(im).astype(np.float32)
        top = 65535.0 if (bits16 or im.mode.startswith("I;16") or arr.max() > 255) else 255.0
        if im.mode == "F":
            top = max(1.0, float(arr.max()))
        arr = np.clip(arr / top, 0.0, 1.0)[..., None]
    else:
        if im.mode in ("RGBA", "LA", "PA") or (im.mode == "P" and "transparency" in im.info):
            rgba = im.convert("RGBA")
            white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
            im = Image.alpha_composite(white, rgba).convert("RGB")
        elif im.mode not in ("L", "RGB"):
            im = im.convert("RGB")
        arr = np.asarray(im).astype(np.float32) / np.float32(255.0)
        if arr.ndim == 2:
            arr = arr[..., None]
    return _set_channels(arr, grey)


def _set_channels(arr: np.ndarray, grey: bool) -> np.ndarray:
    if grey and arr.shape[2] == 3:
        # ITU-R 601 luma, the same weights as Pillow's "L" conversion
        arr = (arr @ np.array([0.299, 0.587, 0.114], dtype=np.float32))[..., None]
    elif not grey and arr.shape[2] == 1:
        arr = np.repeat(arr, 3, axis=2)
    return np.ascontiguousarray(arr, dtype=np.float32)


def as_image(img: np.ndarray) -> np.ndarray:
    """Check and normalise an in-memory array to the kit's convention.

    Accepts ``(H, W)``, ``(H, W, 1)``, ``(H, W, 3)`` or ``(H, W, 4)``. Integer
    arrays are scaled: uint8 by 255, uint16 by 65535, and any other integer type
    (``img.astype(int)``, nested lists of numbers) by 255 when its values lie in
    0-255, by 65535 when they lie in 0-65535.

    Raises
    ------
    ImageError
        For other shapes, for float values far outside ``[0, 1]`` (probably 0-255
        data: divide by 255), for integers outside 0-65535, or for NaN values.
    """
    a = np.asarray(img)
    if a.ndim == 2:
        a = a[..., None]
    if a.ndim != 3 or a.shape[2] not in (1, 3, 4):
        raise ImageError(f"expected an image of shape (H, W), (H, W, 3) or (H, W, 4), got {a.shape}; "
                         "tensors go through dip_teach.images.to_array first")
    if np.issubdtype(a.dtype, np.integer):
        a = a.astype(np.float64) / _integer_scale(a)
    elif a.dtype == bool:
        a = a.astype(np.float64)
    a = a.astype(np.float32)
    if np.isnan(a).any():
        raise ImageError("the image contains NaN values")
    if a.min() < -0.05 or a.max() > 1.05:
        hint = " It looks like 0-255 data: divide by 255." if a.max() <= 255.5 and a.min() >= 0 else ""
        raise ImageError(f"float images must hold values in [0, 1], got [{a.min():.3g}, {a.max():.3g}].{hint}")
    a = np.clip(a, 0.0, 1.0)
    if a.shape[2] == 4:  # composite RGBA onto white, as load_image does
        alpha = a[..., 3:]
        a = a[..., :3] * alpha + (1.0 - alpha)
    return np.ascontiguousarray(a, dtype=np.float32)


def _integer_scale(a: np.ndarray) -> float:
    """What an integer image is divided by: 255 or 65535 (see :func:`as_image`)."""
    if a.dtype in (np.uint8, np.uint16):
        return float(np.iinfo(a.dtype).max)
    lo, hi = (int(a.min()), int(a.max())) if a.size else (0, 0)
    if lo < 0 or hi > 65535:
        raise ImageError(f"integer image values must lie in 0-255 (or 0-65535), got {lo} to {hi}")
    return 255.0 if hi <= 255 else 65535.0


def as_tensor(x: np.ndarray | torch.Tensor, what: str = "image") -> torch.Tensor:
    """An array or tensor as a ``(1, C, H, W)`` float tensor in the kit's convention.

    The one coercion every function that takes "an image, array or tensor" uses.
    Arrays go through :func:`to_tensor`. Tensors are detached and keep their device;
    ``(C, H, W)`` gains the batch dimension; integer tensors are scaled as integer arrays
    are (:func:`as_image`). Float tensors may stray a little outside ``[0, 1]`` (an
    unclipped noisy observation does) but not onto the 0-255 scale.

    Raises
    ------
    TypeError
        Neither a numpy array nor a torch tensor (a nested list: ``np.asarray`` it first).
    ImageError
        Another shape, a batch of several images, NaN values, or values beyond ``[-1, 2]``.

    Examples
    --------
    >>> import numpy as np
    >>> as_tensor(np.zeros((8, 8, 3))).shape
    torch.Size([1, 3, 8, 8])
    """
    if isinstance(x, np.ndarray):
        return to_tensor(x)
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"{what} must be a tensor (1, C, H, W) or an array (H, W, C), got {type(x).__name__}")
    t = x.detach()
    t = t[None] if t.dim() == 3 else t
    if t.dim() != 4 or t.shape[0] != 1:
        raise ImageError(f"{what} must be one image, a (1, C, H, W) tensor or an (H, W, C) array; "
                         f"got shape {tuple(x.shape)}")
    if not t.is_floating_point():
        t = t.float() / _integer_scale(t.cpu().numpy())
    t = t.float()
    lo, hi = float(t.min()), float(t.max())
    if math.isnan(lo) or math.isnan(hi):
        raise ImageError(f"the {what} contains NaN values")
    if lo < -1 or hi > 2:
        hint = " It looks like 0-255 data: divide by 255." if 0 <= lo and hi <= 255.5 else ""
        raise ImageError(f"the {what} tensor holds values in [{lo:.3g}, {hi:.3g}]; the kit works on [0, 1].{hint}")
    return t


def as_array(img: np.ndarray | torch.Tensor, *, clip: bool = False) -> np.ndarray:
    """An array or tensor as an ``(H, W, C)`` float array, for numpy and scikit-image code.

    The counterpart of :func:`as_tensor` for code that works on arrays. Only the
    layout changes: tensors ``(1, C, H, W)`` or ``(C, H, W)`` become ``float32`` arrays
    (detached, on the CPU); ``(H, W)`` arrays gain a channel axis; float arrays keep
    their dtype and other arrays become ``float32`` with their values unchanged (a 0/1
    mask stays 0/1). Values are not checked or rescaled (:func:`as_image` does that),
    and clipped to ``[0, 1]`` only with ``clip=True``.

    Raises
    ------
    ImageError
        A batch of several images, or a shape that is not an image.

    Examples
    --------
    >>> import torch
    >>> as_array(torch.zeros(1, 3, 8, 4)).shape
    (8, 4, 3)
    >>> float(as_array(torch.full((1, 1, 2, 2), 1.5), clip=True).max())
    1.0
    """
    if isinstance(img, torch.Tensor):
        t = img.detach()
        if t.dim() == 4:
            if t.shape[0] != 1:
                raise ImageError(f"expected one image, got a batch of {t.shape[0]}")
            t = t[0]
        if t.dim() != 3:
            raise ImageError(f"expected a (1, C, H, W) or (C, H, W) tensor, got shape {tuple(img.shape)}")
        a = t.float().cpu().numpy().transpose(1, 2, 0)
    else:
        a = np.asarray(img)
        if not np.issubdtype(a.dtype, np.floating):
            a = a.astype(np.float32)
        if a.ndim == 2:
            a = a[..., None]
        if a.ndim != 3:
            raise ImageError(f"expected an image of shape (H, W) or (H, W, C), got {a.shape}")
    return np.clip(a, 0.0, 1.0) if clip else a


# ---------------------------------------------------------------------- geometry
def center_crop(img: np.ndarray, height: int, width: int | None = None) -> np.ndarray:
    """Cut the central ``height x width`` window (square if ``width`` is omitted)."""
    width = height if width is None else width
    h, w = img.shape[:2]
    if height > h or width > w:
        raise ImageError(f"cannot crop {height}x{width} out of a {h}x{w} image; "
                         f"use a smaller size or dip_teach.images.resize first")
    top, left = (h - height) // 2, (w - width) // 2
    return img[top:top + height, left:left + width]


def resize(img: np.ndarray, height: int, width: int | None = None) -> np.ndarray:
    """Resize with Pillow's antialiased Lanczos filter (good for both down- and upscaling)."""
    width = height if width is None else width
    img = as_image(img)
    channels = [Image.fromarray(img[..., c], mode="F").resize((width, height), Image.Resampling.LANCZOS)
                for c in range(img.shape[2])]
    out = np.stack([np.asarray(c) for c in channels], axis=-1)
    return np.clip(out, 0.0, 1.0).astype(np.float32)


def crop_to_multiple(img: np.ndarray, multiple: int = SIZE_MULTIPLE) -> np.ndarray:
    """Centre-crop each side down to a multiple of ``multiple``.

    The encoder-decoder halves the image 5 times and concatenates skip features
    with upsampled ones, so sides must divide by 32; cropping loses at most 31
    pixels a side and never distorts the image.
    """
    h, w = img.shape[:2]
    nh, nw = (h // multiple) * multiple, (w // multiple) * multiple
    if nh < MIN_SIDE or nw < MIN_SIDE:
        raise ImageError(f"the image is {h}x{w}; the networks need at least {MIN_SIDE}x{MIN_SIDE} pixels. "
                         "Use a larger image (or dip_teach.images.resize it up first).")
    return center_crop(img, nh, nw) if (nh, nw) != (h, w) else img


def prepare(img: np.ndarray, size: int | None = None, max_size: int | None = None) -> np.ndarray:
    """Make an image ready for a network: the right size, sides divisible by 32.

    * With ``size``: a centred ``size x size`` square. If the image's short side is
      more than twice ``size`` it is first downscaled (antialiased) so the short
      side equals ``size``; a crop of a big photo would show only a tiny detail.
    * Without ``size``: an image larger than ``max_size`` (the run mode's limit by
      default) on its long side is downscaled to fit, with a warning.
    * Either way both sides are then cropped to multiples of 32
      (:func:`crop_to_multiple`); images under 32x32 raise :class:`ImageError`.
      (32 px is enough for the learned denoiser and the handcrafted priors; the 5-scale
      generator networks need 64, which :class:`dip_teach.fit.Fit` checks.)
    """
    img = as_image(img)
    h, w = img.shape[:2]
    if min(h, w) < MIN_SIDE:
        raise ImageError(f"the image is {h}x{w}; the networks need at least {MIN_SIDE}x{MIN_SIDE} pixels.")
    if size is not None:
        if size < MIN_SIDE or size % SIZE_MULTIPLE:
            raise ImageError(f"size={size} must be a multiple of {SIZE_MULTIPLE}, at least {MIN_SIDE} "
                             f"(e.g. {max(MIN_SIDE, (size // SIZE_MULTIPLE) * SIZE_MULTIPLE)})")
        short = min(h, w)
        if short > 2 * size:
            img = resize(img, round(h * size / short), round(w * size / short))
        elif short < size:
            raise ImageError(f"the image is {h}x{w}, smaller than size={size}; pick size <= "
                             f"{(short // SIZE_MULTIPLE) * SIZE_MULTIPLE}")
        img = center_crop(img, size)
    else:
        limit = settings.get_mode().max_image_size if max_size is None else max_size
        if max(h, w) > limit:
            scale = limit / max(h, w)
            warnings.warn(f"image is {h}x{w}, larger than {limit} allowed in this run mode; "
                          f"downscaling to fit (pass size=... to choose)", stacklevel=2)
            img = resize(img, max(MIN_SIDE, round(h * scale)), max(MIN_SIDE, round(w * scale)))
    return crop_to_multiple(img)


# ------------------------------------------------------------------- conversions
def to_tensor(img: np.ndarray, device: torch.device | str | None = None) -> torch.Tensor:
    """``(H, W, C)`` array in ``[0, 1]`` -> ``(1, C, H, W)`` float32 tensor."""
    arr = as_image(img)
    t = torch.from_numpy(np.ascontiguousarray(arr.transpose(2, 0, 1)))[None]
    return t.to(device) if device is not None else t


def to_array(t: torch.Tensor) -> np.ndarray:
    """``(1, C, H, W)`` or ``(C, H, W)`` tensor -> ``(H, W, C)`` float32 array, clipped to ``[0, 1]``."""
    if not isinstance(t, torch.Tensor):
        return as_image(t)
    # clipped in numpy, not torch: on a busy 2-core machine a small torch op waits for a
    # team of threads (milliseconds), and live views call this between iterations
    return np.ascontiguousarray(as_array(t, clip=True))


def to_uint8(img: np.ndarray) -> np.ndarray:
    """Float image -> uint8 array (grey images lose their channel axis), for saving/display."""
    a = np.round(as_image(img) * 255.0).astype(np.uint8)
    return a[..., 0] if a.shape[2] == 1 else a


# ------------------------------------------------------------------------ saving
def save_image(path: str | Path, img: np.ndarray | torch.Tensor, overwrite: bool = False) -> Path:
    """Save an image (array or tensor) as an 8-bit file; the format follows the suffix.

    Existing files (a dangling link too) are never replaced unless ``overwrite=True``:
    the kit must not destroy a student's work. Missing parent folders are created; the
    file is written whole or not at all (:func:`dip_teach.files.write_atomically`).

    Raises
    ------
    FileExistsError
        ``path`` exists and ``overwrite`` is False.
    """
    path = Path(path).expanduser()
    if not overwrite:
        refuse_existing(path)
    if path.suffix.lower() not in (".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp", ".gif", ".webp"):
        raise ImageError(f"cannot tell the image format from {path.name!r}; end the name with .png or .jpg")
    pil = Image.fromarray(to_uint8(to_array(img) if isinstance(img, torch.Tensor) else as_image(img)))
    return write_atomically(path, pil.save, overwrite)


# --------------------------------------------------------------------- catalogue
@dataclass(frozen=True)
class CatalogEntry:
    """One image in ``data/``: its file, split, source and licence."""

    name: str
    file: str
    split: str
    size: str
    source: str
    licence: str
    description: str

    @property
    def path(self) -> Path:
        return DATA_DIR / self.file


def catalogue(split: str | None = None) -> list[CatalogEntry]:
    """The course images listed in ``data/catalog.json`` (``split``: ``"train"`` or ``"test"``)."""
    if not CATALOG_FILE.exists():
        return []
    entries = [CatalogEntry(**e) for e in json.loads(CATALOG_FILE.read_text())["images"]]
    if split is not None:
        if split not in ("train", "test"):
            raise ValueError(f"split must be 'train' or 'test', got {split!r}")
        entries = [e for e in entries if e.split == split]
    return entries


def catalogue_names(split: str | None = None) -> list[str]:
    """Names of the course images (see :func:`catalogue`)."""
    return [e.name for e in catalogue(split)]


def load(name_or_path: str | Path, size: int | None = None, grey: bool = False) -> np.ndarray:
    """Load a course image by catalogue name, or any file by path, ready for a network.

    Parameters
    ----------
    name_or_path : str or Path
        A name from :func:`catalogue_names` (e.g. ``"coffee"``) or a file path.
    size : int, optional
        Side of the centred square crop (see :func:`prepare`); ``None`` keeps the
        image whole (cropped to multiples of 32, downscaled if huge).
    grey : bool
        One channel instead of three.
    """
    by_name = {e.name: e for e in catalogue()}
    key = str(name_or_path)
    path = by_name[key].path if key in by_name else Path(name_or_path)
    max_size = settings.get_mode().max_image_size if size is None else None
    return prepare(load_image(path, grey=grey, size=size, max_size=max_size), size=size)


def training_images(names: list[str] | None = None) -> list[torch.Tensor]:
    """The training set: images of the ``train`` split as ``(C, H, W)`` tensors, 3 channels.

    Whole images at their stored size (cropped to multiples of 32) whatever the run mode:
    the training set of the learned denoiser (notebook 03) and of the offline classifier
    (notebook 09) is fixed. ``names`` picks catalogue names or file paths instead.
    """
    names = catalogue_names("train") if names is None else names
    if not names:
        raise FileNotFoundError("no training images: data/catalog.json lists no 'train' split; "
                                "run python scripts/make_data.py")
    by_name = {e.name: e.path for e in catalogue()}
    return [to_tensor(crop_to_multiple(load_image(by_name.get(n, n))))[0] for n in names]
