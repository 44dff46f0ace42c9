"""The loss module: ELBO weights (closed form), L_simple (against train.diffusion_loss) and the per-t eps error
(against the exact Gaussian oracle, where the best achievable error is known)."""
import pytest
import torch

from ddim_teach import elbo, schedules, train
from ddim_teach.oracles import GaussianOracle
from ddim_teach.unet import UNet, UNetConfig


def test_elbo_weights_closed_form():
    s = schedules.make_schedule("linear", 1000)
    w = elbo.elbo_weights(s, "fixed_large")
    t = 500
    b, a, ab = s.betas[t], s.alphas[t], s.alpha_bars[t]
    assert torch.isclose(w[t], b / (2 * a * (1 - ab)), rtol=1e-12)
    # DDPM's t = 1 (our 0): beta_1 = 1 - alpha_bar_1, so lambda = 1 / (2 alpha_1)
    assert torch.isclose(w[0], 1 / (2 * s.alphas[0]), rtol=1e-12)
    ws = elbo.elbo_weights(s, "fixed_small")
    assert torch.isinf(ws[0]) and torch.isfinite(ws[1:]).all()
    assert torch.isclose(ws[t], b ** 2 / (2 * s.posterior_variance[t] * a * (1 - ab)), rtol=1e-12)
    with pytest.raises(ValueError, match="variance must be one of"):
        elbo.elbo_weights(s, "learned")


def test_l_simple_is_diffusion_loss_with_the_same_draws():
    torch.manual_seed(0)
    s = schedules.make_schedule("linear", 1000)
    model = UNet(UNetConfig(base_channels=8, ch_mult=(1, 2), attn_resolutions=(), groups=4)).eval()
    x0 = torch.rand(4, 1, 28, 28) * 2 - 1
    g = torch.Generator().manual_seed(3)
    with torch.no_grad():
        want = train.diffusion_loss(model, s, x0, generator=g)
    g = torch.Generator().manual_seed(3)                 # replay the draws: t first, then eps
    t = torch.randint(0, s.T, (4,), generator=g)
    eps = torch.randn(x0.shape, generator=g)
    with torch.no_grad():
        got = elbo.l_simple(model, x0, t, eps, s.alpha_bars)
    assert torch.allclose(got, want, rtol=1e-6, atol=0)
    assert got.dim() == 0 and got.dtype == torch.float32


def test_l_simple_bad_input():
    s = schedules.make_schedule("linear", 10)
    o = GaussianOracle(s)
    x0 = torch.zeros(3, 2, dtype=torch.float64)
    with pytest.raises(ValueError, match="one timestep per image"):
        elbo.l_simple(o, x0, torch.tensor(1), torch.zeros_like(x0), s.alpha_bars)
    with pytest.raises(ValueError, match="noise has shape"):
        elbo.l_simple(o, x0, torch.tensor([1, 2, 3]), torch.zeros(3, 3), s.alpha_bars)


def test_eps_mse_per_t_on_the_oracle_is_the_posterior_variance_of_eps():
    """For data N(0, s^2), E[(eps - E[eps|x_t])^2] = ab s^2 / (ab s^2 + 1 - ab), exactly."""
    s = schedules.make_schedule("linear", 1000)
    std = 0.5
    oracle = GaussianOracle(s, mu=0.0, s=std)
    x0 = oracle.sample_data(40_000, (1,), generator=torch.Generator().manual_seed(0))
    ts = [0, 100, 300, 600, 999]
    got = elbo.eps_mse_per_t(oracle, s, x0, ts, generator=torch.Generator().manual_seed(1), batch_size=7_000)
    ab = s.alpha_bars[ts]
    want = ab * std ** 2 / (ab * std ** 2 + 1 - ab)
    assert got.dtype == torch.float64 and got.shape == (5,)
    assert torch.allclose(got, want, rtol=0.03, atol=1e-6), (got, want)
    # the error lives at small t: it falls with t
    assert (got[1:] < got[:-1]).all()


def test_eps_mse_per_t_bad_input():
    s = schedules.make_schedule("linear", 10)
    o = GaussianOracle(s)
    x0 = torch.zeros(3, 2, dtype=torch.float64)
    with pytest.raises(ValueError, match="ts must be"):
        elbo.eps_mse_per_t(o, s, x0, [10])
    with pytest.raises(ValueError, match="batch_size"):
        elbo.eps_mse_per_t(o, s, x0, [1], batch_size=0)
