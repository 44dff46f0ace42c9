"""MNIST, offline first.

``load_mnist(split)`` returns ``(images, labels)``: uint8 arrays of shape
(N, 28, 28) and (N,). Sources, in order:

1. the original IDX files (``*-ubyte`` or ``*-ubyte.gz``) in the data folder:
   ``$DDIM_TEACH_DATA``, default ``~/.cache/ddim_teach/mnist``;
2. with ``download=True`` only: the original IDX files from public mirrors,
   checked against their SHA-256 sums and written atomically into that folder;
3. the bundled subset: 10,000 real MNIST training digits (9,001 train,
   999 held out) shipped in the package; always works, offline. See
   ``ddim_teach/assets/README.md`` for its origin and licence.

``source="bundled"`` forces 3; ``source="idx"`` requires 1 or 2. Anything whose result must not
depend on what a user keeps in the data folder (the notebooks, the shipped-model checks, the
classifier and the benchmark) asks for ``source="bundled"``.
"""
from __future__ import annotations

import gzip
import math
import os
import struct
import urllib.request
from importlib import resources
from pathlib import Path

import numpy as np
import torch

from . import checks
from ._infra.atomic import atomic_write
from ._infra.download import fetch_verified
from ._infra.hashing import bytes_sha256

SPLITS = ("train", "test")
MIRRORS = (
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
)
IDX_FILES = {  # name -> SHA-256 of the .gz as published
    "train-images-idx3-ubyte": "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
    "train-labels-idx1-ubyte": "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
    "t10k-images-idx3-ubyte": "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
    "t10k-labels-idx1-ubyte": "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
}
_PREFIX = {"train": "train", "test": "t10k"}
_DTYPES = {0x08: np.uint8, 0x09: np.int8, 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


class DataError(ValueError):
    """A data file is missing, corrupt or not what it claims to be."""


def data_dir() -> Path:
    return Path(os.environ.get("DDIM_TEACH_DATA", Path.home() / ".cache" / "ddim_teach" / "mnist"))


def read_idx(path: str | os.PathLike) -> np.ndarray:
    """Read an IDX file (plain or gzip), checking the magic number and the size it declares."""
    path = Path(path)
    try:
        raw = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
    except (OSError, EOFError, gzip.BadGzipFile) as e:
        raise DataError(f"{path}: cannot read ({e})") from None
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] not in _DTYPES:
        raise DataError(f"{path}: not an IDX file (bad magic number {raw[:4].hex() or 'empty'}; "
                        "expected 0000 then a type code 08/09/0b/0c/0d/0e and the rank)")
    ndim = raw[3]
    if len(raw) < 4 + 4 * ndim:
        raise DataError(f"{path}: truncated header")
    shape = struct.unpack(f">{ndim}I", raw[4:4 + 4 * ndim])
    dtype = np.dtype(_DTYPES[raw[2]])
    expected = math.prod(shape) * dtype.itemsize  # Python integers: dimensions whose product overflows int64 are caught
    body = raw[4 + 4 * ndim:]
    if len(body) != expected:
        raise DataError(f"{path}: truncated or padded: header declares shape {shape} "
                        f"({expected} bytes of data) but the file holds {len(body)}")
    return np.frombuffer(body, dtype=dtype).reshape(shape).astype(dtype.newbyteorder("="))


def write_idx(path: str | os.PathLike, array: np.ndarray) -> None:
    """Write an IDX file (gzip when the name ends in .gz); used by tests and tools."""
    codes = {np.dtype(v).newbyteorder("="): k for k, v in _DTYPES.items()}
    dt = array.dtype.newbyteorder("=")
    if dt not in codes:
        raise ValueError(f"IDX cannot store dtype {array.dtype}")
    header = bytes([0, 0, codes[dt], array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    data = header + array.astype(np.dtype(_DTYPES[codes[dt]])).tobytes()
    atomic_write(path, gzip.compress(data) if str(path).endswith(".gz") else data)


def _find_idx(folder: Path, name: str) -> Path | None:
    for candidate in (folder / name, folder / (name + ".gz")):
        if candidate.exists():
            return candidate
    return None


def download_mnist(folder: str | os.PathLike | None = None, mirrors=MIRRORS, opener=urllib.request.urlopen) -> Path:
    """Fetch the four original IDX .gz files, verify SHA-256, write each atomically. Returns the folder."""
    folder = Path(folder) if folder else data_dir()
    for name, sha in IDX_FILES.items():
        got = fetch_verified(name + ".gz", sha, folder / (name + ".gz"), mirrors, opener)
        if isinstance(got, list):
            raise DataError(f"could not download {name}.gz: " + "; ".join(got))
    return folder


def _load_idx_split(folder: Path, split: str):
    names = [f"{_PREFIX[split]}-images-idx3-ubyte", f"{_PREFIX[split]}-labels-idx1-ubyte"]
    paths = [_find_idx(folder, n) for n in names]
    if None in paths:
        return None
    for p, n in zip(paths, names):
        if p.suffix == ".gz":
            got = bytes_sha256(p.read_bytes())
            if got != IDX_FILES[n]:
                raise DataError(f"{p}: checksum mismatch (sha256 {got}, expected {IDX_FILES[n]}); "
                                "delete it or download again")
    images, labels = read_idx(paths[0]), read_idx(paths[1])
    if images.ndim != 3 or images.shape[1:] != (28, 28) or labels.shape != images.shape[:1]:
        raise DataError(f"{folder}: images {images.shape} and labels {labels.shape} do not form an MNIST split")
    for p, a in zip(paths, (images, labels)):  # cast silently, floats in [0, 1] would become 0/1 and -3 would be 253
        if a.dtype != np.uint8:
            raise DataError(f"{p}: holds {a.dtype} values; MNIST IDX files hold uint8 (pixels 0..255, labels 0..9). "
                            "Convert the file explicitly if that is what you mean")
    if len(images) == 0:
        raise DataError(f"{paths[0]} holds 0 images; an MNIST split needs at least one (the full {split} split has "
                        f"{60000 if split == 'train' else 10000:,}). Replace the files, or use source='bundled'")
    if labels.size and labels.max() > 9:
        raise DataError(f"{paths[1]}: labels must be digits 0..9, found {int(labels.max())}")
    return images, labels


def load_bundled(split: str = "train"):
    """The bundled subset of real MNIST (train: 9,001 digits; test: 999 held out)."""
    _check_split(split)
    ref = resources.files("ddim_teach") / "assets" / "mnist_subset.npz"
    try:
        with resources.as_file(ref) as p, np.load(p, allow_pickle=False) as z:
            images, labels = z[f"{split}_images"], z[f"{split}_labels"]
    except Exception as e:
        raise DataError(f"bundled MNIST subset {ref} is missing or corrupt ({e}); "
                        "reinstall the package or run scripts/build_mnist_subset.py") from None
    if images.dtype != np.uint8 or images.shape[1:] != (28, 28) or len(labels) != len(images):
        raise DataError(f"bundled MNIST subset {ref} has unexpected contents")
    return images, labels


def _check_split(split):
    if not isinstance(split, str) or split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS}, got {split!r}")


def load_mnist(split: str = "train", source: str = "auto", download: bool = False,
               folder: str | os.PathLike | None = None):
    """MNIST images (uint8, N x 28 x 28) and labels (uint8, N); see the module docstring for sources."""
    _check_split(split)
    if not isinstance(source, str) or source not in ("auto", "idx", "bundled"):
        raise ValueError(f"source must be 'auto', 'idx' or 'bundled', got {source!r}")
    download = checks.boolean(download, "download")
    folder = Path(folder) if folder else data_dir()
    if source != "bundled":
        if folder.exists() and not folder.is_dir():
            raise DataError(f"the MNIST data folder {folder} is a file, not a folder (DDIM_TEACH_DATA or folder=)")
        found = _load_idx_split(folder, split)
        if found is None and download:
            download_mnist(folder)
            found = _load_idx_split(folder, split)
        if found is not None:
            return found
        other = next((n for n in IDX_FILES if _find_idx(folder, n) is not None), None) if folder.is_dir() else None
        if other is not None:  # never mix sources: the bundled held-out digits are MNIST training digits
            raise DataError(f"{folder} holds {other} but not the {split!r} split's two IDX files; add them "
                            "(load_mnist(download=True)) or use source='bundled'")
        if source == "idx":
            raise DataError(f"no MNIST IDX files for split {split!r} in {folder}; "
                            "pass download=True, set DDIM_TEACH_DATA, or use source='bundled'")
    return load_bundled(split)


def to_tensor(images: np.ndarray) -> torch.Tensor:
    """uint8 (N, 28, 28) -> float32 (N, 1, 28, 28) scaled to [-1, 1], the range the models use."""
    if not isinstance(images, np.ndarray) or images.dtype != np.uint8 or images.ndim != 3:
        what = f"{images.dtype} array of shape {images.shape}" if isinstance(images, np.ndarray) else type(images).__name__
        raise ValueError(f"to_tensor expects a uint8 array of shape (N, H, W) with values 0..255 "
                         f"(as load_mnist returns), got a {what}")
    return torch.from_numpy(images).float().div(127.5).sub(1.0).unsqueeze(1)


def to_uint8(x: torch.Tensor) -> np.ndarray:
    """Inverse of :func:`to_tensor`, clipping to [-1, 1]. NaN or inf is refused (it would become a black or white
    pixel that looks like an image)."""
    if not isinstance(x, torch.Tensor) or not x.is_floating_point():
        got = x.dtype if isinstance(x, torch.Tensor) else type(x).__name__
        raise TypeError(f"x must be a floating-point tensor of images in [-1, 1], got {got}")
    if not checks.is_finite(x):
        bad = int((~torch.isfinite(x)).sum())
        raise ValueError(f"x contains NaN or inf ({bad} of {x.numel()} values); to_uint8 would show them as black or "
                         "white pixels")
    return ((x.detach().float().clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8).squeeze(1).cpu().numpy()
