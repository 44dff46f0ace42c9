"""The exact step of the probability-flow ODE in SymPy (Lu et al. 2022a, "DPM-Solver", Sec. 3.1; 2022b,
"DPM-Solver++", Sec. 4), for notebook 9.

``alpha_bar`` is DDPM's ᾱ (the DDIM paper's α). Time is λ = log(√ᾱ/√(1 − ᾱ)), half the log-SNR
(:func:`ddim_teach.formulas.half_log_snr`), and σ = e^(−λ) = √(1 − ᾱ)/√ᾱ is the ODE's σ of notebook 6
(:func:`ddim_teach.formulas.ode_sigma`, Karras et al.'s σ; not DDIM's noise std). With x̄ = x/√ᾱ,
x̄ = x̂₀ + σ ε̂, so the ODE dx̄/dσ = ε̂ (DDIM eq. 14) reads dx̄/dσ = (x̄ − x̂₀)/σ: **linear in x̄**. Multiply by
the integrating factor 1/σ and integrate from λ_t to λ_prev = λ_t + h (variation of constants):

    x̄_prev = e^(−h) x̄_t + e^(−λ_prev) ∫_{λ_t}^{λ_prev} e^λ x̂₀(λ) dλ            (DPM-Solver++, eq. 9, in x̄)

Exact: only x̂₀ along the step is unknown, and each solver is a guess of it.

* :func:`exact_step`: that solution for a given x̂₀(λ);
* :func:`ddim_step_xbar`: DDIM's η = 0 step (eq. 12) in the same variables; :func:`constant_x0_gap` is the
  exact step with x̂₀ held constant minus DDIM: 0, so DDIM is that step (a first-order exponential integrator);
* :func:`linear_x0_coefficients`: with x̂₀ linear in λ, slope D₁, the exact coefficient of D₁ and the one
  DPM-Solver++(2M) uses; :func:`coefficient_gap_series` is their difference as a series in h (O(h³)).
"""
from __future__ import annotations

import sympy as sp

__all__ = ["symbols", "exact_step", "ddim_step_xbar", "constant_x0_gap", "linear_x0_coefficients",
           "coefficient_gap_series"]


def symbols():
    """(λ, λ_t, h, x̄_t, X₀, D₁): the integration variable, the step's start, its length (h > 0), the start
    point, a constant x̂₀ and a slope of x̂₀ in λ. One coordinate of x̄ stands for all (the step is elementwise)."""
    lam, lam_t = sp.symbols("lambda lambda_t", real=True)
    h = sp.symbols("h", positive=True)
    xbar_t, X0, D1 = sp.symbols("xbar_t X_0 D_1", real=True)
    return lam, lam_t, h, xbar_t, X0, D1


def exact_step(x0_of_lambda) -> sp.Expr:
    """x̄_prev = e^(−h) x̄_t + e^(−λ_prev) ∫_{λ_t}^{λ_prev} e^λ x̂₀(λ) dλ, λ_prev = λ_t + h, for x̂₀ given as a
    SymPy expression in λ (``symbols()[0]``)."""
    lam, lam_t, h, xbar_t, _, _ = symbols()
    integral = sp.integrate(sp.exp(lam) * x0_of_lambda, (lam, lam_t, lam_t + h))
    return sp.exp(-h) * xbar_t + sp.exp(-(lam_t + h)) * integral


def ddim_step_xbar(x0_hat) -> sp.Expr:
    """DDIM's η = 0 step (eq. 12) divided by √ᾱ_prev: x̄_prev = x̂₀ + σ_prev ε̂ with ε̂ = (x̄_t − x̂₀)/σ_t and
    σ = e^(−λ)."""
    _, lam_t, h, xbar_t, _, _ = symbols()
    sigma_t, sigma_prev = sp.exp(-lam_t), sp.exp(-(lam_t + h))
    eps_hat = (xbar_t - x0_hat) / sigma_t
    return x0_hat + sigma_prev * eps_hat


def constant_x0_gap() -> sp.Expr:
    """The exact step with x̂₀ held at X₀ over the step, minus DDIM's step with x̂₀ = X₀, simplified: 0."""
    _, _, _, _, X0, _ = symbols()
    return sp.simplify(exact_step(X0) - ddim_step_xbar(X0))


def linear_x0_coefficients() -> tuple[sp.Expr, sp.Expr]:
    """With x̂₀(λ) = X₀ + (λ − λ_t) D₁, the coefficient of D₁ in the exact step, h − 1 + e^(−h) (= h φ₂(h) in
    DPM-Solver's notation), and the one DPM-Solver++(2M) uses, h (1 − e^(−h))/2: its correction
    (1 − e^(−h)) (x̂₀ − x̂₀_last)/(2r) with r = h_last/h and D₁ = (x̂₀ − x̂₀_last)/h_last."""
    lam, lam_t, h, _, X0, D1 = symbols()
    exact = sp.simplify(sp.expand(exact_step(X0 + (lam - lam_t) * D1)).coeff(D1))
    return exact, h * (1 - sp.exp(-h)) / 2


def coefficient_gap_series(order: int = 5) -> sp.Expr:
    """(exact − DPM-Solver++(2M)'s coefficient of D₁) as a series in h up to h^(order − 1): it starts at h³/12, so the
    2M step's local error is O(h³) and the method second order."""
    exact, used = linear_x0_coefficients()
    h = symbols()[2]
    return sp.series(exact - used, h, 0, order).removeO()
