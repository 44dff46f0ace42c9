"""A small CNN digit classifier, trained on real digits only, used to *evaluate* samples.

Its 128-d penultimate layer is the feature space of MNIST-FD (see :mod:`ddim_teach.metrics`).

    python -m ddim_teach.classifier --out ddim_teach/weights/classifier.pt
"""
from __future__ import annotations

import argparse

import torch
import torch.nn.functional as F
from torch import nn

from . import checkpoint, data


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


def train_classifier(epochs: int = 6, batch_size: int = 128, lr: float = 2e-3, seed: int = 0):
    """Train on the train split; return (model, held-out accuracy)."""
    torch.manual_seed(seed)
    g = torch.Generator().manual_seed(seed)
    xtr, ytr = data.load_mnist("train")
    xte, yte = data.load_mnist("test")
    x, y = data.to_tensor(xtr), torch.from_numpy(ytr).long()
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
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--out", default="ddim_teach/weights/classifier.pt")
    ap.add_argument("--epochs", type=int, default=6)
    a = ap.parse_args(argv)
    model, acc = train_classifier(a.epochs)
    checkpoint.save({"kind": "classifier", "config": {"arch": "Classifier", "feature_dim": Classifier.feature_dim},
                     "state_dict": model.state_dict(), "heldout_accuracy": acc}, a.out)
    print(f"held-out accuracy {acc:.4f} on 999 real digits; saved {a.out}")


if __name__ == "__main__":
    main()
