"""Sample-quality metrics for MNIST, in the evaluation classifier's feature space.

* ``frechet_distance``: ||mu_a - mu_b||^2 + Tr(S_a + S_b - 2 (S_a^1/2 S_b S_a^1/2)^1/2)
  (Heusel et al. 2017), computed with symmetric eigendecompositions in float64.
* ``mnist_fd``: that distance between the classifier's 128-d features of two image sets
  ("MNIST-FD"); an FID analogue. It depends on the sample size, so always compare it with
  the *floor*: the distance between two disjoint sets of real digits of the same size.
* ``fd_interval`` and ``fd_difference_interval``: bootstrap intervals for an FD and for the difference of two
  FDs measured on the same starting noise (resample the samples, keep the reference). A comparison states
  only an ordering whose interval excludes 0.
* ``confidence`` and ``class_histogram``: how sure the classifier is and which digits appear.
  A small CNN is often "confident" on pure noise, so confidence alone proves nothing.
* ``nearest_train_distance``: for memorisation checks, each sample's RMS pixel distance to
  its nearest training digit.
"""
from __future__ import annotations

import numbers

import torch

from . import checks


def _check_images(images, name: str = "images") -> None:
    if not isinstance(images, torch.Tensor) or images.dim() != 4 or tuple(images.shape[1:]) != (1, 28, 28) \
            or not images.is_floating_point() or len(images) == 0:
        got = f"{tuple(images.shape)} {images.dtype}" if isinstance(images, torch.Tensor) else type(images).__name__
        raise ValueError(f"{name} must be a float tensor of MNIST images, shape (N, 1, 28, 28) in [-1, 1], got {got}")
    if not bool(torch.isfinite(images).all()):
        raise ValueError(f"{name} contain NaN or inf")


def _check_probs(probs) -> None:
    if not isinstance(probs, torch.Tensor) or probs.dim() != 2 or probs.shape[1] != 10 or len(probs) == 0:
        got = tuple(probs.shape) if isinstance(probs, torch.Tensor) else type(probs).__name__
        raise ValueError(f"probs must be class probabilities of shape (N, 10) (metrics.probabilities), got {got}")


def _sqrtm_psd(a: torch.Tensor) -> torch.Tensor:
    w, v = torch.linalg.eigh(a)
    return (v * w.clamp(min=0).sqrt()) @ v.T


def frechet_distance(feats_a: torch.Tensor, feats_b: torch.Tensor) -> float:
    """Fréchet distance between Gaussians fitted to two feature sets of shape (N, d)."""
    if not isinstance(feats_a, torch.Tensor) or not isinstance(feats_b, torch.Tensor):
        bad = feats_a if not isinstance(feats_a, torch.Tensor) else feats_b
        raise TypeError(f"features must be tensors (N, d), got {type(bad).__name__} (metrics.features gives them; "
                        "torch.from_numpy converts an array)")
    if feats_a.dim() != 2 or feats_b.dim() != 2 or feats_a.shape[1] != feats_b.shape[1]:
        raise ValueError(f"features must be (N, d) with the same d, got {tuple(feats_a.shape)} and {tuple(feats_b.shape)}")
    if min(len(feats_a), len(feats_b)) < 2:
        raise ValueError("need at least 2 samples in each set")
    if not (bool(torch.isfinite(feats_a).all()) and bool(torch.isfinite(feats_b).all())):
        raise ValueError("features contain NaN or inf")
    a, b = feats_a.double(), feats_b.double()
    mu_a, mu_b = a.mean(0), b.mean(0)
    ca, cb = torch.cov(a.T), torch.cov(b.T)
    sa = _sqrtm_psd(ca)
    cross = torch.linalg.eigvalsh(sa @ cb @ sa).clamp(min=0).sqrt().sum()
    return float(((mu_a - mu_b) ** 2).sum() + ca.trace() + cb.trace() - 2 * cross)


@torch.no_grad()
def features(classifier, images: torch.Tensor, batch_size: int = 512) -> torch.Tensor:
    """Classifier features of images in [-1, 1], shape (N, 1, 28, 28); values outside are clipped."""
    _check_images(images)
    _check_classifier(classifier, "features")
    return torch.cat([classifier.features(images[i:i + batch_size].float().clamp(-1, 1))
                      for i in range(0, len(images), batch_size)])


@torch.no_grad()
def probabilities(classifier, images: torch.Tensor, batch_size: int = 512) -> torch.Tensor:
    """Class probabilities (N, 10) of images (N, 1, 28, 28) in [-1, 1]; values outside are clipped."""
    _check_images(images)
    _check_classifier(classifier, "__call__")
    return torch.cat([classifier(images[i:i + batch_size].float().clamp(-1, 1)).softmax(1)
                      for i in range(0, len(images), batch_size)])


def mnist_fd(classifier, images_a: torch.Tensor, images_b: torch.Tensor) -> float:
    """MNIST-FD between two image sets (N, 1, 28, 28) in [-1, 1]."""
    return frechet_distance(features(classifier, images_a), features(classifier, images_b))


def _check_classifier(classifier, method: str) -> None:
    if classifier is None or not callable(getattr(classifier, method, None)):
        raise TypeError(f"classifier must be the evaluation classifier (load_classifier()), got "
                        f"{type(classifier).__name__}")


def _check_boot(n_boot, level, seed=0) -> tuple[int, float, int]:
    if isinstance(n_boot, bool) or not isinstance(n_boot, numbers.Integral) or n_boot < 20:
        raise ValueError(f"n_boot must be an integer of at least 20 (resamples), got {n_boot!r}")
    if isinstance(level, bool) or not isinstance(level, numbers.Real) or not 0.5 <= level < 1:
        raise ValueError(f"level must be a probability in [0.5, 1), e.g. 0.95, got {level!r}")
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or not 0 <= seed < 2 ** 63:
        raise ValueError(f"seed must be an integer in 0..2**63-1, got {seed!r}")
    return int(n_boot), float(level), int(seed)


def _interval(estimate: float, boots: torch.Tensor, level: float) -> tuple[float, float, float]:
    # estimate +- z * (the bootstrap standard error). Not the resamples' quantiles: resampling with replacement
    # repeats rows, which inflates every resampled FD by a bias as large as the spread at n = 512 in 128-d features,
    # so their quantiles sit above the estimate. Their spread is what measures how much the FD would move.
    z = float(torch.distributions.Normal(0.0, 1.0).icdf(torch.tensor((1 + level) / 2)))
    half = z * float(boots.std())
    return estimate, estimate - half, estimate + half


def fd_interval(feats: torch.Tensor, ref_feats: torch.Tensor, n_boot: int = 200, level: float = 0.95,
                seed: int = 0) -> tuple[float, float, float]:
    """(FD, low, high): the Fréchet distance of ``feats`` to ``ref_feats`` and a bootstrap interval for it.

    The samples (rows of ``feats``) are resampled with replacement ``n_boot`` times, the reference kept: the
    interval, FD +- z · (the resamples' standard deviation) at ``level``, says how much the FD of *these samples*
    would move with another draw of the same size. (It is about the variability at this n, not about the bias
    every finite-sample FD has; compare FDs only at the same n and reference.)"""
    n_boot, level, seed = _check_boot(n_boot, level, seed)
    est = frechet_distance(feats, ref_feats)
    g = torch.Generator().manual_seed(seed)
    boots = torch.tensor([frechet_distance(feats[torch.randint(len(feats), (len(feats),), generator=g)], ref_feats)
                          for _ in range(n_boot)], dtype=torch.float64)
    return _interval(est, boots, level)


def fd_difference_interval(feats_a: torch.Tensor, feats_b: torch.Tensor, ref_feats: torch.Tensor,
                           n_boot: int = 200, level: float = 0.95, seed: int = 0) -> tuple[float, float, float]:
    """(FD_a - FD_b, low, high) for two sample sets made from the *same* starting noises, row i of each from the
    same x_T: both are resampled with the same indices (a paired bootstrap), so the noise they share cancels.
    An ordering is supported only when the interval excludes 0."""
    n_boot, level, seed = _check_boot(n_boot, level, seed)
    if feats_a.shape != feats_b.shape:
        raise ValueError(f"paired sets must have the same shape (row i of each from the same x_T), got "
                         f"{tuple(feats_a.shape)} and {tuple(feats_b.shape)}")
    est = frechet_distance(feats_a, ref_feats) - frechet_distance(feats_b, ref_feats)
    g = torch.Generator().manual_seed(seed)
    boots = []
    for _ in range(n_boot):
        i = torch.randint(len(feats_a), (len(feats_a),), generator=g)
        boots.append(frechet_distance(feats_a[i], ref_feats) - frechet_distance(feats_b[i], ref_feats))
    return _interval(est, torch.tensor(boots, dtype=torch.float64), level)


def confidence(probs: torch.Tensor, threshold: float = 0.9) -> float:
    """Share of samples whose top class probability exceeds ``threshold`` (in [0, 1))."""
    _check_probs(probs)
    if isinstance(threshold, bool) or not isinstance(threshold, (int, float)) or not 0 <= threshold < 1:
        raise ValueError(f"threshold must be a probability in [0, 1), got {threshold!r}")
    return float((probs.max(1).values > threshold).float().mean())


def class_histogram(probs: torch.Tensor) -> torch.Tensor:
    """Counts of the predicted class, a LongTensor of length 10."""
    _check_probs(probs)
    return torch.bincount(probs.argmax(1), minlength=10)


def nearest_train_distance(samples: torch.Tensor, train: torch.Tensor, batch_size: int = 256) -> torch.Tensor:
    """RMS pixel distance (on the [0, 1] scale) from each sample to its nearest training image."""
    for name, v in (("samples", samples), ("train", train)):
        if not isinstance(v, torch.Tensor) or v.dim() < 2 or len(v) == 0:
            raise ValueError(f"{name} must be a non-empty batch of images (N, ...), got "
                             f"{tuple(v.shape) if isinstance(v, torch.Tensor) else type(v).__name__}")
        if not v.is_floating_point():
            raise TypeError(f"{name} must be a floating-point tensor of images in [-1, 1], got {v.dtype}")
        if not checks.is_finite(v):   # cheap beside the distances to every training image
            raise ValueError(f"{name} contain NaN or inf")
    if samples[0].numel() != train[0].numel():
        raise ValueError(f"samples {tuple(samples.shape[1:])} and train {tuple(train.shape[1:])} images differ in size")
    s = (samples.flatten(1).double().clamp(-1, 1) + 1) / 2
    tr = (train.flatten(1).double() + 1) / 2
    out = []
    for i in range(0, len(s), batch_size):
        out.append(torch.cdist(s[i:i + batch_size], tr).min(1).values / s.shape[1] ** 0.5)
    return torch.cat(out)
