"""A small CNN digit classifier, trained on real digits only, used to *evaluate* samples.

Its 128-d penultimate layer is the feature space of MNIST-FD (see :mod:`ddim_teach.metrics`).

    python -m ddim_teach.classifier --out classifier.pt

It trains on the bundled digits (``load_mnist(split, source="bundled")``), never a user's cache, so the
shipped classifier can be rebuilt exactly. It never writes into the installed package: to ship a new
one, copy the file into ``ddim_teach/weights/`` of a source checkout and update ``SHA256SUMS``.
"""
from __future__ import annotations

import argparse
import math

import torch
import torch.nn.functional as F
from torch import nn

from . import data
from ._infra import checkpoint, cli


class Classifier(nn.Module):
    """conv32-pool-conv64-pool-fc128-fc10 on [-1, 1] images of shape (B, 1, 28, 28)."""

    feature_dim = 128

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 32, 3, padding=1)
        self.conv2 = nn.Conv2d(32, 64, 3, padding=1)
        self.fc1 = nn.Linear(64 * 7 * 7, self.feature_dim)
        self.fc2 = nn.Linear(self.feature_dim, 10)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() != 4 or tuple(x.shape[1:]) != (1, 28, 28):
            raise ValueError(f"classifier expects images of shape (B, 1, 28, 28) in [-1, 1], got {tuple(x.shape)}")
        h = F.max_pool2d(F.relu(self.conv1(x)), 2)
        h = F.max_pool2d(F.relu(self.conv2(h)), 2)
        return F.relu(self.fc1(h.flatten(1)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc2(self.features(x))


def _shift(x: torch.Tensor, g: torch.Generator, max_shift: int = 2) -> torch.Tensor:
    """Random translation by up to ``max_shift`` pixels (padding with background -1)."""
    B = x.shape[0]
    pad = F.pad(x, (max_shift,) * 4, value=-1.0)
    dx, dy = (torch.randint(0, 2 * max_shift + 1, (B,), generator=g) for _ in range(2))
    return torch.stack([pad[i, :, dy[i]:dy[i] + 28, dx[i]:dx[i] + 28] for i in range(B)])


def _check_args(epochs, batch_size, lr, seed):
    for name, v in (("epochs", epochs), ("batch_size", batch_size)):
        if isinstance(v, bool) or not isinstance(v, int) or v < 1:
            raise ValueError(f"{name} must be a positive integer, got {v!r}")
    if isinstance(lr, bool) or not isinstance(lr, (int, float)) or not math.isfinite(lr) or lr <= 0:
        raise ValueError(f"lr must be a positive finite number, got {lr!r}")
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")


def train_classifier(epochs: int = 6, batch_size: int = 128, lr: float = 2e-3, seed: int = 0):
    """Train on the bundled train split; return (model, accuracy on the bundled held-out split).

    The held-out size is ``len(data.load_mnist("test", source="bundled")[0])`` (999 today); read it from
    there rather than assuming it.
    """
    _check_args(epochs, batch_size, lr, seed)
    torch.manual_seed(seed)
    g = torch.Generator().manual_seed(seed)
    xtr, ytr = data.load_mnist("train", source="bundled")
    xte, yte = data.load_mnist("test", source="bundled")
    x, y = data.to_tensor(xtr), torch.from_numpy(ytr).long()
    if batch_size > len(x):
        raise ValueError(f"batch_size must be at most {len(x)} (the training digits), got {batch_size}")
    model = Classifier()
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    steps = epochs * (len(x) // batch_size)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=steps)
    model.train()
    for _ in range(steps):
        idx = torch.randint(0, len(x), (batch_size,), generator=g)
        loss = F.cross_entropy(model(_shift(x[idx], g)), y[idx])
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
    model.eval()
    return model, accuracy(model, data.to_tensor(xte), torch.from_numpy(yte).long())


@torch.no_grad()
def accuracy(model, x, y) -> float:
    return (model(x).argmax(1) == y).float().mean().item()


def main(argv=None):
    from pathlib import Path

    from ._infra.atomic import check_writable, refuse_package_path
    ap = argparse.ArgumentParser(prog=cli.prog("classifier"), description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True, help="the file to write (never inside the installed package)")
    ap.add_argument("--epochs", type=int, default=6)
    ap.add_argument("--force", action="store_true", help="replace --out if it exists")
    a = ap.parse_args(argv)
    out = Path(a.out)
    try:
        _check_args(a.epochs, 128, 2e-3, 0)
        refuse_package_path(out, "--out")
        check_writable(out, "--out")
        if out.exists() and not a.force:
            raise ValueError(f"--out {a.out!r} already exists; pass --force to replace it")
    except ValueError as e:
        ap.error(str(e))
    model, acc = train_classifier(a.epochs)
    n_test = len(data.load_mnist("test", source="bundled")[1])
    checkpoint.save({"kind": "classifier", "config": {"arch": "Classifier", "feature_dim": Classifier.feature_dim},
                     "state_dict": model.state_dict(), "heldout_accuracy": acc}, out)
    print(f"held-out accuracy {acc:.4f} on {n_test} real digits; saved {out}")


if __name__ == "__main__":
    main()
