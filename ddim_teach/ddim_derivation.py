"""The DDIM derivation in SymPy (Song et al. 2021, Sec. 3 and App. B), for notebook 3.

``alpha_bar`` is DDPM's ᾱ_t (the DDIM paper's α_t); "prev" is the previous entry of the sampling list.
Every function takes SymPy symbols (or numbers) for ᾱ_t, ᾱ_prev and σ_t and returns SymPy expressions:

* :func:`ddim_coefficients`: the undetermined coefficients of q_σ(x_prev | x_t, x₀) = N(k x₀ + m x_t, σ²)
  that keep DDPM's marginals q(x_t | x₀) (DDIM eq. 7);
* :func:`forward_step`: the forward step q_σ(x_t | x_prev, x₀) by Bayes' rule (DDIM eq. 8), whose mean
  depends on x₀: the family is **non-Markovian**, except at σ² = β̃ (DDPM);
* :func:`theorem1_weight`: the weight γ_t with which the σ-family's variational bound J_σ weights the
  ε-regression error (DDIM Theorem 1: J_σ = L_γ + C);
* :func:`sigma_hat_gap`: σ̂² − (1 − ᾱ_prev) for the DDIM paper's σ̂ (Table 1), positive iff ᾱ_prev² > ᾱ_t.

SymPy can only simplify square roots when it knows their arguments are positive. Positivity of a
*difference* (1 − ᾱ > 0, ᾱ_prev > ᾱ_t) cannot be declared on a symbol, so :func:`simplify_positive`
reparametrises with positive symbols q, δ: ᾱ_prev = 1/(1+q), ᾱ_t = 1/(1+q+δ).
"""
from __future__ import annotations

import functools

import sympy as sp

__all__ = ["symbols", "ddim_coefficients", "simplify_positive", "posterior_ddpm", "forward_step",
           "markov_sigma_squared", "theorem1_weight", "sigma_hat_gap"]


def symbols():
    """(ᾱ_t, ᾱ_prev, σ_t) as positive SymPy symbols, the names used throughout the course."""
    return sp.symbols("alphabar_t alphabar_prev sigma_t", positive=True)


@functools.lru_cache(maxsize=64)   # SymPy expressions are immutable; the notebook asks twice
def ddim_coefficients(alpha_bar_t, alpha_bar_prev, sigma):
    """(k, m) with q_σ(x_prev | x_t, x₀) = N(k x₀ + m x_t, σ² I) keeping q(x_prev | x₀) (DDIM eq. 7).

    If x_t ~ N(√ᾱ_t x₀, 1 − ᾱ_t), then k x₀ + m x_t + σ z ~ N(√ᾱ_prev x₀, 1 − ᾱ_prev) iff

        k + m √ᾱ_t = √ᾱ_prev          (means)
        m² (1 − ᾱ_t) + σ² = 1 − ᾱ_prev   (variances).

    Two roots, ±m; we return the one with m > 0 (x_prev moves with x_t), as DDIM does:
    m = √(1 − ᾱ_prev − σ²)/√(1 − ᾱ_t), k = √ᾱ_prev − m √ᾱ_t.
    """
    k, m = sp.symbols("k m", real=True)
    sols = sp.solve([sp.Eq(k + m * sp.sqrt(alpha_bar_t), sp.sqrt(alpha_bar_prev)),
                     sp.Eq(m ** 2 * (1 - alpha_bar_t) + sigma ** 2, 1 - alpha_bar_prev)], [k, m], dict=True)
    pos = [s for s in sols if not s[m].could_extract_minus_sign()]
    if len(pos) != 1:
        raise ValueError(f"expected one root with m > 0, got {sols}")
    return pos[0][k], pos[0][m]


def _factor_radicands(expr):
    """Factor what is under each root, so √((q+1)²(…)) can come out as (q+1)√(…)."""
    return expr.replace(lambda e: e.is_Pow and not e.exp.is_Integer, lambda e: sp.Pow(sp.factor(e.base), e.exp))


def simplify_positive(expr, alpha_bar_t, alpha_bar_prev):
    """Simplify ``expr`` knowing 0 < ᾱ_t < ᾱ_prev < 1, via ᾱ_prev = 1/(1+q), ᾱ_t = 1/(1+q+δ), q, δ > 0.

    The result is in q and δ (q = 1/SNR_prev, δ = 1/SNR_t − 1/SNR_prev); 0 means the identity holds.
    """
    q, delta = sp.symbols("q delta", positive=True)
    e = sp.simplify(expr.subs({alpha_bar_prev: 1 / (1 + q), alpha_bar_t: 1 / (1 + q + delta)}))
    return sp.simplify(_factor_radicands(sp.together(_factor_radicands(e))))


def posterior_ddpm(alpha_bar_t, alpha_bar_prev):
    """DDPM's posterior q(x_prev | x_t, x₀) = N(k x₀ + m x_t, β̃) for any pair of timesteps (DDPM eqs. 6-7),
    with the step's own β = 1 − ᾱ_t/ᾱ_prev: returns (k, m, β̃)."""
    beta = 1 - alpha_bar_t / alpha_bar_prev
    k = sp.sqrt(alpha_bar_prev) * beta / (1 - alpha_bar_t)
    m = sp.sqrt(1 - beta) * (1 - alpha_bar_prev) / (1 - alpha_bar_t)
    return k, m, (1 - alpha_bar_prev) / (1 - alpha_bar_t) * beta


@functools.lru_cache(maxsize=64)   # SymPy expressions are immutable; the notebook asks twice
def forward_step(alpha_bar_t, alpha_bar_prev, sigma):
    """q_σ(x_t | x_prev, x₀) by Bayes' rule (DDIM eq. 8): returns (c₀, c_prev, v) with
    q_σ(x_t | x_prev, x₀) = N(c₀ x₀ + c_prev x_prev, v).

    q_σ(x_t | x_prev, x₀) ∝ q_σ(x_prev | x_t, x₀) · q(x_t | x₀) as a function of x_t (the denominator
    q(x_prev | x₀) does not involve x_t). The log of the product is quadratic in x_t; completing the square
    gives the variance v = −1/(2·[x_t²]) and the mean v·[x_t]. For σ > 0 only (at σ = 0 both kernels are
    point masses; the formulas have the limit v → 0).
    """
    x0, xp, xt = sp.symbols("x_0 x_prev x_t", real=True)
    k, m = ddim_coefficients(alpha_bar_t, alpha_bar_prev, sigma)
    log_joint = (-(xp - k * x0 - m * xt) ** 2 / (2 * sigma ** 2)
                 - (xt - sp.sqrt(alpha_bar_t) * x0) ** 2 / (2 * (1 - alpha_bar_t)))
    poly = sp.Poly(sp.expand(log_joint), xt)
    a2, a1 = poly.coeff_monomial(xt ** 2), poly.coeff_monomial(xt)
    v = sp.simplify(-1 / (2 * a2))
    mean = sp.expand(a1 * v)
    return sp.simplify(mean.coeff(x0)), sp.simplify(mean.coeff(xp)), v


def markov_sigma_squared(alpha_bar_t, alpha_bar_prev):
    """The σ² for which the forward step's mean does not depend on x₀ (solve c₀ = 0 for σ²): β̃, DDPM's."""
    s2 = sp.symbols("s2", positive=True)
    sigma = sp.Symbol("sigma_t", positive=True)
    c0, _, _ = forward_step(alpha_bar_t, alpha_bar_prev, sigma)
    sols = sp.solve(sp.Eq(c0.subs(sigma, sp.sqrt(s2)), 0), s2)
    if len(sols) != 1:
        raise ValueError(f"expected one solution, got {sols}")
    return sols[0]


@functools.lru_cache(maxsize=64)   # SymPy expressions are immutable; the notebook asks twice
def theorem1_weight(alpha_bar_t, alpha_bar_prev, sigma):
    """γ_t in DDIM Theorem 1's J_σ = L_γ + C: the KL term of step t, for a model that plugs x̂₀ into
    q_σ(x_prev | x_t, ·), equals γ_t ‖ε − ε̂‖² (per dimension).

    Both Gaussians have variance σ², so KL = (μ − μ̂)²/(2σ²); μ − μ̂ = k (x₀ − x̂₀) and
    x₀ − x̂₀ = √(1 − ᾱ_t)/√ᾱ_t (ε̂ − ε). Hence γ_t = k² (1 − ᾱ_t) / (2 σ² ᾱ_t): it depends on σ,
    but it only *weights* the same regression, whose per-t minimiser does not change.
    """
    x0, eps, eps_hat = sp.symbols("x_0 epsilon epsilonhat", real=True)
    k, m = ddim_coefficients(alpha_bar_t, alpha_bar_prev, sigma)
    x_t = sp.sqrt(alpha_bar_t) * x0 + sp.sqrt(1 - alpha_bar_t) * eps
    x0_hat = (x_t - sp.sqrt(1 - alpha_bar_t) * eps_hat) / sp.sqrt(alpha_bar_t)
    kl = ((k * x0 + m * x_t) - (k * x0_hat + m * x_t)) ** 2 / (2 * sigma ** 2)
    return sp.simplify(sp.factor(kl) / (eps - eps_hat) ** 2)


def sigma_hat_gap(alpha_bar_t, alpha_bar_prev):
    """σ̂² − (1 − ᾱ_prev) with σ̂² = 1 − ᾱ_t/ᾱ_prev (DDIM Table 1): = (ᾱ_prev² − ᾱ_t)/ᾱ_prev.

    Positive (so √(1 − ᾱ_prev − σ̂²) in eq. 12 is imaginary) iff ᾱ_prev² > ᾱ_t."""
    return sp.factor(sp.together((1 - alpha_bar_t / alpha_bar_prev) - (1 - alpha_bar_prev)))
