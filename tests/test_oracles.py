"""The oracles' eps_hat is ground truth for the sampler tests and notebook 6; check it independently.

Tweedie: E[eps | x_t] = -sqrt(1 - ab) grad_x log p_t(x_t). Here p_t is built with torch.distributions (not the
oracle's own log_p_t) and differentiated with autograd."""
import math

import pytest
import torch
from torch.distributions import Categorical, Independent, MixtureSameFamily, Normal

from ddim_teach import oracles


def _p_t(orc, ab):
    """p_t = sum_k w_k N(sqrt(ab) mu_k, (ab s_k^2 + 1 - ab) I), from the oracle's parameters only."""
    scale = (ab * orc.stds ** 2 + 1 - ab).sqrt()[:, None].expand_as(orc.means)
    comp = Independent(Normal(ab.sqrt() * orc.means, scale), 1)
    return MixtureSameFamily(Categorical(probs=orc.weights), comp)


@pytest.mark.parametrize("t", [0, 50, 300, 600, 999])
def test_mixture_eps_is_the_scaled_score(schedule, t):
    orc = oracles.GaussianMixtureOracle.default(schedule)
    x = (2.5 * torch.randn(64, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(t))).requires_grad_()
    ab = schedule.alpha_bar(t)
    (score,) = torch.autograd.grad(_p_t(orc, ab).log_prob(x).sum(), x)
    expect = -(1 - ab).sqrt() * score
    got = orc(x.detach(), torch.full((64,), t))
    torch.testing.assert_close(got, expect, rtol=1e-9, atol=1e-12)


def test_mixture_with_unequal_stds_in_3d(schedule):
    orc = oracles.GaussianMixtureOracle(schedule, [[0.0, 1.0, -1.0], [2.0, 0.0, 0.5]], [0.2, 0.7], [1.0, 3.0])
    x = torch.randn(32, 3, dtype=torch.float64, generator=torch.Generator().manual_seed(1)).requires_grad_()
    ab = schedule.alpha_bar(200)
    (score,) = torch.autograd.grad(_p_t(orc, ab).log_prob(x).sum(), x)
    torch.testing.assert_close(orc(x.detach(), torch.full((32,), 200)), -(1 - ab).sqrt() * score, rtol=1e-9, atol=1e-12)


def test_gaussian_eps_is_the_scaled_score(schedule):
    orc = oracles.GaussianOracle(schedule, mu=0.7, s=0.4)
    x = torch.randn(16, 5, dtype=torch.float64, generator=torch.Generator().manual_seed(2)).requires_grad_()
    ab = schedule.alpha_bar(450)
    p = Normal(ab.sqrt() * 0.7, (ab * 0.16 + 1 - ab).sqrt())
    (score,) = torch.autograd.grad(p.log_prob(x).sum(), x)
    expect = -(1 - ab).sqrt() * score
    torch.testing.assert_close(orc(x.detach(), torch.full((16,), 450)), expect, rtol=1e-10, atol=1e-12)


def test_mixture_eps_is_the_posterior_mean_of_the_noise(schedule):
    """Monte Carlo, no formula shared with the oracle: bin x_t near a point and average the eps that made it."""
    orc = oracles.GaussianMixtureOracle.default(schedule)
    g = torch.Generator().manual_seed(4)
    n, t = 400_000, 400
    ab = schedule.alpha_bar(t)
    x0 = orc.sample_data(n, generator=g)
    eps = torch.randn(n, 2, dtype=torch.float64, generator=g)
    x_t = ab.sqrt() * x0 + (1 - ab).sqrt() * eps
    for point in ([0.0, 0.0], [0.5, 0.6], [-0.6, -0.2]):
        p = torch.tensor(point, dtype=torch.float64)
        near = (x_t - p).norm(dim=1) < 0.05
        mc = eps[near].mean(0)
        se = eps[near].std(0) / math.sqrt(int(near.sum()))
        exact = orc(p[None], torch.tensor([t]))[0]
        assert ((mc - exact).abs() < 4 * se + 0.01).all(), (point, mc, exact, int(near.sum()))
