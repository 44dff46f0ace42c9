"""SymPy derivations of notebook 2: each result against the paper's printed formula and against the package's numbers."""
import sympy as sp
import torch

from ddim_teach import derivations as d
from ddim_teach import samplers, schedules


def test_kl_of_equal_variance_gaussians_is_squared_mean_distance():
    kl = d.gaussian_kl_same_variance()
    assert sp.simplify(kl - (d.m1 - d.m2) ** 2 / (2 * d.s ** 2)) == 0
    # and numerically against torch's KL, which knows nothing of this module
    p, q = torch.distributions.Normal(0.3, 0.7), torch.distributions.Normal(-0.4, 0.7)
    val = float(kl.subs({d.m1: 0.3, d.m2: -0.4, d.s: 0.7}))
    assert abs(val - torch.distributions.kl_divergence(p, q).item()) < 1e-6


def test_gaussian_expectation_rejects_cubic():
    import pytest
    with pytest.raises(ValueError, match="at most quadratic"):
        d.gaussian_expectation(d.x ** 3, d.x, 0, 1)


def test_posterior_by_bayes_is_ddpm_eq7_and_matches_ddpm_step():
    r = d.posterior_by_bayes()
    assert sp.simplify(r["beta_tilde"] - r["beta_tilde_ddpm"]) == 0
    assert sp.simplify(r["mu_tilde"] - r["mu_tilde_ddpm"]) == 0
    # numbers: the derived mean and variance against samplers.ddpm_step / ddpm_variance at t = 400
    s = schedules.make_schedule("linear", 1000)
    t = 400
    vals = {d.alpha_t: float(s.alphas[t]), d.alphabar_prev: float(s.alpha_bars[t - 1]), d.x0: 0.3, d.x_t: -0.8}
    ab_t, ab_prev = s.alpha_bars[t], s.alpha_bars[t - 1]
    x0 = torch.tensor([[0.3]], dtype=torch.float64)
    x_t = torch.tensor([[-0.8]], dtype=torch.float64)
    eps = (x_t - ab_t.sqrt() * x0) / (1 - ab_t).sqrt()       # the eps that makes x0_hat = x0
    mean, _ = samplers.ddpm_step(x_t, eps, ab_t, ab_prev)
    assert abs(float(r["mu_tilde"].subs(vals)) - mean.item()) < 1e-12
    assert abs(float(r["beta_tilde"].subs(vals)) - samplers.ddpm_variance(ab_t, ab_prev).item()) < 1e-15


def test_posterior_completes_the_square():
    """The derived Gaussian reproduces the x_{t-1}-dependence of log q(x_t|x_{t-1}) + log q(x_{t-1}|x_0)."""
    r = d.posterior_by_bayes()
    vals = {d.alpha_t: 0.97, d.alphabar_prev: 0.4, d.x0: 0.5, d.x_t: 0.1}
    f = sp.lambdify(d.x_prev, r["log_joint"].subs(vals))
    g = sp.lambdify(d.x_prev, (-(d.x_prev - r["mu_tilde"]) ** 2 / (2 * r["beta_tilde"])).subs(vals))
    diffs = [f(v) - g(v) for v in (-2.0, -0.3, 0.0, 0.7, 3.0)]
    assert max(diffs) - min(diffs) < 1e-9          # they differ by a constant only


def test_algorithm2_equals_posterior_mean_form():
    assert d.algorithm2_minus_posterior_mean() == 0
    # a wrong Algorithm 2 (alpha_bar_t where sqrt(alpha_t) belongs) must not simplify to 0
    wrong = (d.x_t - d.beta_t / sp.sqrt(1 - d.alphabar_t) * d.eps) / sp.sqrt(d.alphabar_t)
    mu = d.posterior_by_bayes()["mu_tilde_ddpm"].subs(d.x0, d.x0_from_eps_expr())
    assert sp.simplify(wrong - mu) != 0


def test_elbo_weight_is_ddpm_eq12():
    w = d.elbo_weight()
    assert sp.simplify(w["weight"] - w["weight_ddpm"]) == 0
    assert sp.simplify(w["kl"] - w["weight"] * (d.eps - d.eps_theta) ** 2) == 0
