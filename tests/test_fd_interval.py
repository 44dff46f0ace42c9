"""Bootstrap intervals for MNIST-FD: they cover the FD a much larger draw gives, and a paired difference
excludes 0 only for a real difference."""
import pytest
import torch

from ddim_teach import metrics


def _gauss(n, d, shift, seed, scale=1.0):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(n, d, generator=g, dtype=torch.float64) * scale + shift


def test_interval_covers_the_large_sample_fd():
    """Feature sets of 512 from N(0.3, I) against a reference of 4000 from N(0, I), in 8-d: over 10 draws the 95 %
    interval covers the FD of a 20,000-point draw in at least 8 (a broken interval, e.g. one of the wrong width,
    covers far fewer)."""
    ref = _gauss(4000, 8, 0.0, 0)
    truth = metrics.frechet_distance(_gauss(20000, 8, 0.3, 1), ref)
    covered = 0
    for seed in range(2, 12):
        fd, lo, hi = metrics.fd_interval(_gauss(512, 8, 0.3, seed), ref, n_boot=100, seed=seed)
        assert lo < fd < hi
        covered += lo <= truth <= hi
    assert covered >= 8, covered


def test_paired_difference():
    ref = _gauss(2000, 6, 0.0, 0)
    base = _gauss(512, 6, 0.0, 1)
    d, lo, hi = metrics.fd_difference_interval(base, base.clone(), ref, n_boot=50)
    assert d == lo == hi == 0.0                          # the same samples: no difference, and no width
    near = base + 0.01 * _gauss(512, 6, 0.0, 2)          # a tiny perturbation of the same samples
    d, lo, hi = metrics.fd_difference_interval(near, base, ref, n_boot=100)
    assert lo < d < hi and hi - lo < 0.05
    far = base * 1.3                                      # the same noises, a real change: clearly worse
    d, lo, hi = metrics.fd_difference_interval(far, base, ref, n_boot=100)
    assert lo > 0, (d, lo, hi)


def test_deterministic_and_checked():
    ref, x = _gauss(300, 4, 0.0, 0), _gauss(200, 4, 0.2, 1)
    assert metrics.fd_interval(x, ref, n_boot=30, seed=3) == metrics.fd_interval(x, ref, n_boot=30, seed=3)
    with pytest.raises(ValueError, match="n_boot must be an integer of at least 20"):
        metrics.fd_interval(x, ref, n_boot=5)
    with pytest.raises(ValueError, match="level must be a probability"):
        metrics.fd_interval(x, ref, level=95)
    with pytest.raises(ValueError, match="paired sets must have the same shape"):
        metrics.fd_difference_interval(x, x[:100], ref)
