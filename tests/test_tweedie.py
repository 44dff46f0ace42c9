"""Score and Tweedie on the exact Gaussian oracle: autograd of the closed-form log p_t gives the oracle's eps,
and the oracle's x0_hat is the Bayes posterior mean."""
import pytest
import torch

from ddim_teach import samplers, schedules, tweedie
from ddim_teach.oracles import GaussianOracle

S = schedules.make_schedule("linear", 1000)


@pytest.mark.parametrize("t", [0, 250, 700, 999])
def test_score_of_closed_form_log_p_t_is_oracle_eps(t):
    mu, std = 0.3, 0.6
    oracle = GaussianOracle(S, mu=mu, s=std)
    ab = S.alpha_bars[t]
    x_t = torch.randn(5, 1, 3, 3, generator=torch.Generator().manual_seed(t), dtype=torch.float64).requires_grad_()
    score, = torch.autograd.grad(tweedie.gaussian_log_p_t(x_t, ab, mu, std).sum(), x_t)
    eps = oracle(x_t.detach(), torch.full((5,), t))
    assert torch.allclose(tweedie.eps_from_score(score, ab), eps, rtol=1e-10, atol=1e-12)
    assert torch.allclose(tweedie.score_from_eps(eps, ab), score, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("t", [0, 250, 700, 999])
def test_oracle_x0_hat_is_posterior_mean_and_tweedie(t):
    mu, std = -0.2, 0.4
    oracle = GaussianOracle(S, mu=mu, s=std)
    ab = S.alpha_bars[t]
    x_t = torch.randn(4, 6, generator=torch.Generator().manual_seed(t), dtype=torch.float64)
    eps = oracle(x_t, torch.full((4,), t))
    x0_hat = samplers.predict_x0(x_t, eps, ab)
    bayes = tweedie.gaussian_posterior_mean_x0(x_t, ab, mu, std)
    assert torch.allclose(x0_hat, bayes, rtol=1e-8, atol=1e-9)
    assert torch.allclose(tweedie.tweedie_x0(x_t, tweedie.score_from_eps(eps, ab), ab), bayes, rtol=1e-8, atol=1e-9)


def test_posterior_mean_by_monte_carlo():
    """Independent check of the closed form: average x0 over samples whose x_t falls in a narrow bin."""
    mu, std, t = 0.5, 0.3, 600
    ab = S.alpha_bars[t]
    g = torch.Generator().manual_seed(0)
    x0 = mu + std * torch.randn(2_000_000, generator=g, dtype=torch.float64)
    x_t = ab.sqrt() * x0 + (1 - ab).sqrt() * torch.randn(x0.shape, generator=g, dtype=torch.float64)
    sel = (x_t - 0.5).abs() < 0.01
    want = tweedie.gaussian_posterior_mean_x0(torch.tensor(0.5, dtype=torch.float64), ab, mu, std)
    assert abs(x0[sel].mean() - want) < 0.01


def test_x0_error_gain_matches_the_conversions():
    t = 999
    ab = S.alpha_bars[t]
    g = torch.Generator().manual_seed(0)
    x_t = torch.randn(2, 1, 4, 4, generator=g, dtype=torch.float64)
    out = torch.randn(x_t.shape, generator=g, dtype=torch.float64)
    err = 1e-3 * torch.randn(x_t.shape, generator=g, dtype=torch.float64)
    d_eps = S.x0_from_eps(x_t, t, out + err) - S.x0_from_eps(x_t, t, out)
    d_v = S.x0_from_v(x_t, t, out + err) - S.x0_from_v(x_t, t, out)
    assert torch.allclose(d_eps.abs(), tweedie.x0_error_gain(ab, "epsilon") * err.abs(), rtol=1e-6)
    assert torch.allclose(d_v.abs(), tweedie.x0_error_gain(ab, "v_prediction") * err.abs(), rtol=1e-6)
    assert 150 < tweedie.x0_error_gain(ab, "epsilon") < 160
    assert tweedie.x0_error_gain(ab, "sample") == 1
    with pytest.raises(ValueError, match="prediction_type must be one of"):
        tweedie.x0_error_gain(ab, "score")
    with pytest.raises(ValueError, match="alpha_bar_t must"):
        tweedie.x0_error_gain(torch.tensor(1.0))
