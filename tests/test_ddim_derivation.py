"""The SymPy derivation of DDIM (ddim_teach.ddim_derivation) (notebook 3) against DDPM's closed forms and against numbers from the samplers."""
import pytest
import sympy as sp
import torch

from ddim_teach import ddim_derivation as D
from ddim_teach import samplers

AB, ABP, SG = D.symbols()


@pytest.fixture(scope="module")
def coeffs():
    return D.ddim_coefficients(AB, ABP, SG)


def test_coefficients_keep_the_marginals(coeffs):
    k, m = coeffs
    assert sp.simplify(k + m * sp.sqrt(AB) - sp.sqrt(ABP)) == 0
    assert sp.simplify(m ** 2 * (1 - AB) + SG ** 2 - (1 - ABP)) == 0


def test_beta_tilde_gives_ddpm_posterior_exactly(coeffs):
    k, m = coeffs
    k_ddpm, m_ddpm, beta_tilde = D.posterior_ddpm(AB, ABP)
    assert D.simplify_positive(k.subs(SG, sp.sqrt(beta_tilde)) - k_ddpm, AB, ABP) == 0
    assert D.simplify_positive(m.subs(SG, sp.sqrt(beta_tilde)) - m_ddpm, AB, ABP) == 0
    # a wrong variance (fixed_large's beta) does not
    beta = 1 - AB / ABP
    assert D.simplify_positive(m.subs(SG, sp.sqrt(beta)) - m_ddpm, AB, ABP) != 0


def test_coefficients_agree_with_ddim_step_numerically(schedule, coeffs):
    k, m = coeffs
    f = sp.lambdify((AB, ABP, SG), (k, m))
    x0, x_t = 0.7, -0.4
    for t, t_prev, eta in [(700, 650, 0.0), (700, 650, 1.0), (50, -1, 0.0), (999, 0, 0.3)]:
        ab, abp = schedule.alpha_bar(t), schedule.alpha_bar(t_prev)
        sg = samplers.ddim_sigma(ab, abp, eta)
        kk, mm = f(float(ab), float(abp), float(sg))
        eps = (x_t - ab.sqrt() * x0) / (1 - ab).sqrt()
        want, _ = samplers.ddim_step(torch.tensor([x_t], dtype=torch.float64), eps.reshape(1), ab, abp, eta=eta)
        assert kk * x0 + mm * x_t == pytest.approx(want.item(), abs=1e-10)


def test_coefficients_with_numbers_and_rejects_nonsense():
    k, m = D.ddim_coefficients(sp.Rational(1, 4), sp.Rational(1, 2), sp.Rational(1, 3))
    assert m.is_positive and sp.simplify(k + m / 2 - 1 / sp.sqrt(2)) == 0
    with pytest.raises(ValueError, match="one root with m > 0"):
        D.ddim_coefficients(sp.Rational(1, 4), sp.Rational(1, 2), sp.Integer(2))   # sigma^2 > 1 - ab_prev: no real root


def test_forward_step_is_markov_only_at_beta_tilde():
    c0, c_prev, v = D.forward_step(AB, ABP, SG)
    _, _, beta_tilde = D.posterior_ddpm(AB, ABP)
    assert D.simplify_positive(D.markov_sigma_squared(AB, ABP) - beta_tilde, AB, ABP) == 0
    at_ddpm = [D.simplify_positive(e.subs(SG, sp.sqrt(beta_tilde)), AB, ABP) for e in (c0, c_prev, v)]
    assert at_ddpm[0] == 0                                                     # forgets x0
    assert D.simplify_positive((c_prev ** 2 - AB / ABP).subs(SG, sp.sqrt(beta_tilde)), AB, ABP) == 0   # sqrt(alpha)
    assert D.simplify_positive(v.subs(SG, sp.sqrt(beta_tilde)) - (1 - AB / ABP), AB, ABP) == 0          # beta
    # the mean's x0 coefficient is what makes E[x_t | x0] right: c0 = sqrt(ab_t) - c_prev sqrt(ab_prev)
    assert sp.simplify(c0 - (sp.sqrt(AB) - c_prev * sp.sqrt(ABP))) == 0
    assert sp.simplify(v - SG ** 2 * (1 - AB) / (1 - ABP)) == 0
    # and at another sigma it does depend on x0
    num = c0.subs({AB: sp.Rational(1, 5), ABP: sp.Rational(1, 2), SG: sp.Rational(1, 10)})
    assert abs(float(num)) > 0.01


def test_theorem1_weight_is_ddpm_eq12_at_beta_tilde():
    gamma = D.theorem1_weight(AB, ABP, SG)
    _, _, beta_tilde = D.posterior_ddpm(AB, ABP)
    beta, alpha = 1 - AB / ABP, AB / ABP
    ddpm_weight = beta ** 2 / (2 * beta_tilde * alpha * (1 - AB))               # DDPM eq. 12, sigma_t^2 = beta_tilde
    assert D.simplify_positive(gamma.subs(SG, sp.sqrt(beta_tilde)) - ddpm_weight, AB, ABP) == 0
    k, _ = D.ddim_coefficients(AB, ABP, SG)
    assert sp.simplify(gamma - k ** 2 * (1 - AB) / (2 * SG ** 2 * AB)) == 0


def test_sigma_hat_gap():
    assert sp.simplify(D.sigma_hat_gap(AB, ABP) - (ABP ** 2 - AB) / ABP) == 0
    assert D.sigma_hat_gap(sp.Rational(1, 2), 1) > 0 and D.sigma_hat_gap(sp.Rational(1, 2), sp.Rational(3, 5)) < 0
