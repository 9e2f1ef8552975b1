"""Writing output files safely: never half a file, never over a student's file unasked.

Every file the kit writes (images, curves, GIFs, reports, figures) goes through
:func:`write_atomically`: the content is written to a hidden temporary file next to
the target and renamed onto it only when complete. An interruption (Ctrl-C, a full
disk, a crash) leaves either the old file or the new one, never a truncated file
that a rerun would then refuse to replace.

Example
-------
>>> from pathlib import Path
>>> from dip_teach.files import write_atomically
>>> import tempfile
>>> folder = Path(tempfile.mkdtemp())
>>> write_atomically(folder / "notes.txt", lambda tmp: tmp.write_text("hello")).read_text()
'hello'
"""
from __future__ import annotations

import hashlib
import os
import re
import secrets
from pathlib import Path
from typing import Callable

#: torchvision's naming convention for published weights: ``name-<first hex digits of the SHA-256>.ext``.
HASH_IN_NAME = re.compile(r"-([0-9a-f]{8,64})\.[A-Za-z]+$")


def exists(path: Path) -> bool:
    """True if anything is at ``path``, a dangling symbolic link included (``Path.exists`` says False there)."""
    return os.path.lexists(path)


def refuse_existing(path: Path, hint: str = "choose another name or pass overwrite=True") -> None:
    """Raise :class:`FileExistsError` if anything (a dangling link too) is at ``path``."""
    if exists(path):
        raise FileExistsError(f"{str(path)!r} already exists; {hint}")


def write_atomically(path: str | Path, write: Callable[[Path], object], overwrite: bool = False) -> Path:
    """Call ``write(tmp)`` on a temporary path next to ``path``, then rename it onto ``path``.

    The temporary name keeps ``path``'s suffix (Pillow and matplotlib pick the format from
    it). A symbolic link at ``path`` is replaced, never followed. The existence check is
    made again just before the rename, so a file that appeared during a long fit is kept.

    Parameters
    ----------
    path : str or Path
        The file to write; missing parent folders are created.
    write : callable
        Writes the whole content to the path it is given.
    overwrite : bool
        Replace an existing file (default: raise :class:`FileExistsError`).

    Returns
    -------
    Path
        ``path``.
    """
    path = Path(path).expanduser()
    if not overwrite:
        refuse_existing(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.stem}.{secrets.token_hex(4)}.part{path.suffix}")
    try:
        write(tmp)
        if not overwrite:
            refuse_existing(path)
        os.replace(tmp, path)
    finally:                                   # an error or Ctrl-C: no temporary file is left behind
        if exists(tmp):
            tmp.unlink()
    return path


def hash_in_name(name: str) -> str | None:
    """The SHA-256 prefix a file name carries by torchvision's convention (``alexnet-owt-7be5be79.pth``), or None."""
    m = HASH_IN_NAME.search(name)
    return m.group(1) if m else None


def sha256(path: str | Path) -> str:
    """The SHA-256 (hex) of a file, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def sha256_matches(path: str | Path, expected: str) -> bool:
    """True if the file's SHA-256 (hex) starts with ``expected`` (a prefix of at least 8 digits, or all 64)."""
    return sha256(path).startswith(expected.lower())
