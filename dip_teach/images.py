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
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from PIL import Image, UnidentifiedImageError

DATA_DIR = Path(__file__).resolve().parent.parent / "data"
CATALOG_FILE = DATA_DIR / "catalog.json"

#: Smallest side the generator networks accept (5 scales of stride-2 downsampling).
MIN_SIDE = 32
#: Image sides are cropped to a multiple of this so every scale of a 5-level
#: encoder-decoder divides evenly (see :func:`crop_to_multiple`).
SIZE_MULTIPLE = 32


class ImageError(ValueError):
    """An image that the kit cannot use as it is; the message says what to do."""


# --------------------------------------------------------------------------- loading
def load_image(path: str | Path, grey: bool = False) -> np.ndarray:
    """Read an image file into a float array in ``[0, 1]``, shape ``(H, W, C)``.

    Automatic, documented fixes:

    * 16-bit (and 32-bit integer) images are scaled by their type's maximum, so
      values still land in ``[0, 1]``;
    * palette (``P``) and other modes are converted to RGB;
    * RGBA / LA images are composited onto a white background (transparent
      pixels would otherwise hold arbitrary colours);
    * grey images are repeated into 3 channels unless ``grey=True``;
      with ``grey=True`` colour images are converted to luminance, ``C == 1``.

    Parameters
    ----------
    path : str or Path
        File to read (PNG, JPEG, TIFF, BMP, ... anything Pillow reads).
    grey : bool
        Return one channel instead of three.

    Raises
    ------
    FileNotFoundError
        The path does not exist (the message lists the catalogue names, in case
        a name was meant).
    ImageError
        The file is not an image Pillow can read.
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
        with Image.open(path) as im:
            im.load()
            return _pil_to_array(im, grey)
    except (UnidentifiedImageError, OSError, SyntaxError) as err:
        raise ImageError(
            f"{str(path)!r} is not an image that can be read ({err}). "
            "Give a PNG, JPEG, TIFF or BMP file."
        ) from None


def _pil_to_array(im: Image.Image, grey: bool) -> np.ndarray:
    """Convert any Pillow image to the kit's float array convention."""
    if im.mode in ("I;16", "I;16B", "I;16L", "I;16N", "I", "F"):
        arr = np.asarray(im).astype(np.float64)
        top = 65535.0 if (im.mode.startswith("I;16") or arr.max() > 255) else 255.0
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
        arr = np.asarray(im).astype(np.float64) / 255.0
        if arr.ndim == 2:
            arr = arr[..., None]
    return _set_channels(arr.astype(np.float32), grey)


def _set_channels(arr: np.ndarray, grey: bool) -> np.ndarray:
    if grey and arr.shape[2] == 3:
        # ITU-R 601 luma, the same weights as Pillow's "L" conversion
        arr = (arr @ np.array([0.299, 0.587, 0.114], dtype=np.float32))[..., None]
    elif not grey and arr.shape[2] == 1:
        arr = np.repeat(arr, 3, axis=2)
    return np.ascontiguousarray(arr, dtype=np.float32)


def as_image(img: np.ndarray) -> np.ndarray:
    """Check and normalise an in-memory array to the kit's convention.

    Accepts ``(H, W)``, ``(H, W, 1)``, ``(H, W, 3)`` or ``(H, W, 4)``; integer
    arrays are scaled by their type's maximum (uint8 by 255, uint16 by 65535).

    Raises
    ------
    ImageError
        For other shapes, for float values far outside ``[0, 1]`` (probably 0-255
        data: divide by 255), or for NaN values.
    """
    a = np.asarray(img)
    if a.ndim == 2:
        a = a[..., None]
    if a.ndim != 3 or a.shape[2] not in (1, 3, 4):
        raise ImageError(f"expected an image of shape (H, W), (H, W, 3) or (H, W, 4), got {a.shape}; "
                         "tensors go through dip_teach.images.to_array first")
    if np.issubdtype(a.dtype, np.integer):
        a = a.astype(np.float64) / float(np.iinfo(a.dtype).max)
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
    """
    from . import settings

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
    t = t.detach()
    if t.dim() == 4:
        if t.shape[0] != 1:
            raise ImageError(f"to_array takes one image, got a batch of {t.shape[0]}")
        t = t[0]
    if t.dim() != 3:
        raise ImageError(f"expected a (1, C, H, W) or (C, H, W) tensor, got shape {tuple(t.shape)}")
    # clipped in numpy, not torch: on a busy 2-core machine a small torch op waits for a
    # team of threads (milliseconds), and live views call this between iterations
    return np.ascontiguousarray(np.clip(t.float().cpu().numpy().transpose(1, 2, 0), 0.0, 1.0))


def to_uint8(img: np.ndarray) -> np.ndarray:
    """Float image -> uint8 array (grey images lose their channel axis), for saving/display."""
    a = np.round(as_image(img) * 255.0).astype(np.uint8)
    return a[..., 0] if a.shape[2] == 1 else a


# ------------------------------------------------------------------------ saving
def save_image(path: str | Path, img: np.ndarray | torch.Tensor, overwrite: bool = False) -> Path:
    """Save an image (array or tensor) as an 8-bit file; the format follows the suffix.

    Existing files are never replaced unless ``overwrite=True``: the kit must not
    destroy a student's work. Missing parent folders are created.

    Raises
    ------
    FileExistsError
        ``path`` exists and ``overwrite`` is False.
    """
    path = Path(path).expanduser()
    if path.exists() and not overwrite:
        raise FileExistsError(f"{str(path)!r} already exists; choose another name or pass overwrite=True")
    if path.suffix.lower() not in (".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp", ".gif", ".webp"):
        raise ImageError(f"cannot tell the image format from {path.name!r}; end the name with .png or .jpg")
    arr = to_array(img) if isinstance(img, torch.Tensor) else as_image(img)
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(to_uint8(arr)).save(path)
    return path


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
    return prepare(load_image(path, grey=grey), size=size)
