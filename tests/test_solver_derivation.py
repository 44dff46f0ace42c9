"""The exact step in SymPy (ddim_teach.solver_derivation, notebook 9) and the plain Euler step in x (ode.euler_step_x),
against the samplers' numbers and the exact Gaussian flow."""
import math

import pytest
import sympy as sp
import torch

from ddim_teach import formulas, ode, oracles, samplers
from ddim_teach import solver_derivation as D

LAM, LAM_T, H, XBAR, X0, D1 = D.symbols()


def test_exact_step_with_constant_x0_is_ddim():
    assert D.constant_x0_gap() == 0
    # and a wrong guess of the integral (no integrating factor: x̄_t + h X₀) is not
    assert sp.simplify(XBAR + H * X0 - D.ddim_step_xbar(X0)) != 0


def test_exact_step_solves_the_ode():
    # d x̄/dλ along the exact solution, from dx̄/dσ = (x̄ - x̂₀)/σ and σ = e^(-λ): dx̄/dλ = x̂₀ - x̄
    x0 = sp.sin(LAM) + 2      # any x̂₀(λ)
    xbar = D.exact_step(x0).subs(H, LAM - LAM_T)
    assert sp.simplify(sp.diff(xbar, LAM) - (x0 - xbar)) == 0
    assert sp.simplify(xbar.subs(LAM, LAM_T) - XBAR) == 0


def test_linear_coefficients_and_their_gap():
    exact, used = D.linear_x0_coefficients()
    assert sp.simplify(exact - (H - 1 + sp.exp(-H))) == 0
    assert sp.simplify(used - H * (1 - sp.exp(-H)) / 2) == 0
    assert sp.simplify(D.coefficient_gap_series() - (H ** 3 / 12 - H ** 4 / 24)) == 0


def test_2m_step_is_the_exact_step_with_the_2m_coefficient(schedule):
    # numbers: the package's 2M step in x equals the symbolic step (x̂₀ linear in λ, 2M's coefficient), times sqrt(ᾱ_prev)
    g = torch.Generator().manual_seed(0)
    x, d, d_last = (torch.randn(5, generator=g, dtype=torch.float64) for _ in range(3))
    ab_last, ab, abp = schedule.alpha_bar(600), schedule.alpha_bar(500), schedule.alpha_bar(300)
    lam = formulas.half_log_snr
    h, h_last = float(lam(abp) - lam(ab)), float(lam(ab) - lam(ab_last))
    _, used = D.linear_x0_coefficients()
    xbar_prev = (D.exact_step(X0).subs({H: h, LAM_T: float(lam(ab))}) + used.subs(H, h) * D1)
    f = sp.lambdify((XBAR, X0, D1), xbar_prev)
    want = abp.sqrt() * f(x / ab.sqrt(), d, (d - d_last) / h_last)
    got = samplers.dpm_solver_pp_2m_step(x, d, ab, abp, d_last, ab_last)
    assert torch.allclose(got, want, atol=1e-12)


def test_euler_step_x_is_exact_for_standard_normal_data(schedule):
    gauss = oracles.GaussianOracle(schedule, mu=0.0, s=1.0, sample_shape=(1,))
    x = torch.randn(64, 1, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    for t, t_prev in [(999, 799), (400, 0), (50, -1)]:
        eps = gauss(x, torch.full((64,), t))
        assert torch.allclose(ode.euler_step_x(x, eps, schedule.alpha_bar(t), schedule.alpha_bar(t_prev)), x, atol=1e-12)
        assert not torch.allclose(ode.euler_step(x, eps, schedule.alpha_bar(t), schedule.alpha_bar(t_prev)), x, atol=1e-3)


def test_euler_step_x_has_the_exact_flows_slope(schedule):
    # the exact Gaussian flow in x (GaussianOracle.ode_solution, itself tested against the ODE in test_ode.py): the
    # Euler step in τ = -log ᾱ must follow it to O(Δτ²) locally
    gauss = oracles.GaussianOracle(schedule, mu=2.0, s=0.5, sample_shape=(1,))
    x_T = torch.tensor([[-0.3], [0.02], [0.6]], dtype=torch.float64)
    abT = schedule.alpha_bars[999]
    t = int((schedule.alpha_bars - 0.3).abs().argmin())
    ab = schedule.alpha_bars[t]
    x = gauss.ode_solution(x_T, abT, ab)
    eps = gauss(x, torch.full((3,), t))
    errs = []
    for k in (1e-2, 5e-3):
        abp = ab * math.exp(k)                          # Δτ = -k
        errs.append((ode.euler_step_x(x, eps, ab, abp) - gauss.ode_solution(x_T, abT, abp)).abs().max().item())
    assert errs[0] < 1e-3 and 3.5 < errs[0] / errs[1] < 4.5      # local error O(Δτ²): halving Δτ quarters it


def test_euler_step_x_refuses_a_step_towards_more_noise(schedule):
    x = torch.zeros(2, 3, dtype=torch.float64)
    with pytest.raises(ValueError, match="less noise"):
        ode.euler_step_x(x, x, schedule.alpha_bar(10), schedule.alpha_bar(20))
