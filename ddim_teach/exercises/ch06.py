"""Chapter 6 exercises: the probability-flow ODE in (x̄, σ) coordinates, its Euler step (= DDIM, η = 0) and Heun's step.

σ here is the ODE's time variable σ = √(1 − ᾱ)/√ᾱ (``formulas.ode_sigma``; DDIM eq. 14, Karras et al.'s σ), not DDIM's
noise std σ_t of eq. 12. ``alpha_bar`` is DDPM's ᾱ. Scalars are 0-dim float64 tensors. The references call
:mod:`ddim_teach.formulas` for the coordinates and :mod:`ddim_teach.ode`'s steps, which work in x; here we go to x̄
and back with ᾱ = 1/(1 + σ²).
"""
from __future__ import annotations

import torch

from .. import formulas, ode
from ..mistakes import register as mistake
from . import Case, Exercise, register
from ._cases import SCHEDULE as _SCHEDULE, randn as _randn

_MU, _S = 2.0, 0.5          # Gaussian data N(μ, s²): the exact ε̂ is known in closed form


def _sig(t: int) -> torch.Tensor:
    return formulas.ode_sigma(_SCHEDULE.alpha_bar(t))


def _ab_of(sigma) -> torch.Tensor:
    """ᾱ = 1/(1 + σ²), the inverse of formulas.ode_sigma."""
    return 1 / (1 + torch.as_tensor(sigma, dtype=torch.float64) ** 2)


# ------------------------------------------------------------------------------------------ 6.1 ode_coordinates

def _coordinate_reference(x_t, alpha_bar_t):
    return formulas.to_ode(x_t, alpha_bar_t), formulas.ode_sigma(alpha_bar_t)


def _coordinate_cases():
    x = _randn((4, 1, 3, 3), 0)
    return [Case((x, _SCHEDULE.alpha_bar(999)), "t = 999 (σ ≈ 157)", label_zh="t = 999（σ ≈ 157）"),
            Case((x, _SCHEDULE.alpha_bar(500)), "t = 500", label_zh="t = 500"),
            Case((x, _SCHEDULE.alpha_bar(0)), "t = 0 (σ ≈ 0.01)", label_zh="t = 0（σ ≈ 0.01）"),
            Case((x.float(), _SCHEDULE.alpha_bar(250)), "float32 batch, t = 250", label_zh="float32 批次（t = 250）"),
            Case((x, torch.tensor(1.0, dtype=torch.float64)), "ᾱ = 1 (clean: σ = 0)",
                 label_zh="ᾱ = 1（干净数据：σ = 0）")]


def _coord_sigma_squared(x_t, ab):
    return x_t / ab.sqrt(), (1 - ab) / ab


def _coord_ddpm_std(x_t, ab):
    return x_t / ab.sqrt(), (1 - ab).sqrt()


def _coord_times(x_t, ab):
    return x_t * ab.sqrt(), ((1 - ab) / ab).sqrt()


register(Exercise(
    name="ode_coordinates", chapter=6,
    signature="ode_coordinates(x_t, alpha_bar_t) -> (x_bar, sigma)",
    reference=_coordinate_reference,
    cases=_coordinate_cases,
    mistakes=(
        mistake("ode_coordinates_sigma_squared", _coord_sigma_squared),
        mistake("ddpm_noise_std", _coord_ddpm_std),
        mistake("multiplied", _coord_times),
    ),
    doc="x̄ = x_t/√ᾱ_t and σ = √(1 − ᾱ_t)/√ᾱ_t (DDIM Sec. 4.3).",
))


# ------------------------------------------------------------------------------------------ 6.2 euler_step_ode

def _euler_reference(x_bar, sigma, sigma_next, eps_hat):
    ab, abn = _ab_of(sigma), _ab_of(sigma_next)
    return formulas.to_ode(ode.euler_step(formulas.from_ode(x_bar, ab), eps_hat, ab, abn), abn)


def _euler_cases():
    zero = torch.zeros((), dtype=torch.float64)
    xb, e = _randn((3, 1, 4, 4), 1, scale=20.0), _randn((3, 1, 4, 4), 2)
    return [Case((xb, _sig(999), _sig(979), e), "t = 999 → 979", label_zh="t = 999 → 979"),
            Case((xb, _sig(500), _sig(480), e), "t = 500 → 480", label_zh="t = 500 → 480"),
            Case((xb, _sig(999), _sig(0), e), "a skip of 999 steps", label_zh="跳过 999 步"),
            Case((xb, _sig(20), zero, e), "last step (σ_next = 0)", label_zh="最后一步（σ_next = 0）"),
            Case((xb.float(), _sig(300), _sig(200), e.float()), "float32 batch, t = 300 → 200",
                 label_zh="float32 批次（t = 300 → 200）")]


def _euler_wrong_direction(x_bar, sigma, sigma_next, eps_hat):
    return x_bar + (sigma - sigma_next) * eps_hat


def _euler_variance_time(x_bar, sigma, sigma_next, eps_hat):
    return x_bar + (sigma_next ** 2 - sigma ** 2) * eps_hat


def _euler_returns_x(x_bar, sigma, sigma_next, eps_hat):
    return (x_bar + (sigma_next - sigma) * eps_hat) / (1 + sigma_next ** 2).sqrt()


register(Exercise(
    name="euler_step_ode", chapter=6,
    signature="euler_step_ode(x_bar, sigma, sigma_next, eps_hat) -> x_bar_next",
    reference=_euler_reference,
    cases=_euler_cases,
    mistakes=(
        mistake("wrong_direction", _euler_wrong_direction),
        mistake("variance_time", _euler_variance_time),
        mistake("returns_x", _euler_returns_x),
    ),
    doc="x̄_next = x̄ + (σ_next − σ) ε̂ (DDIM eq. 14 discretised; the same number as eq. 12 at η = 0).",
))


# ------------------------------------------------------------------------------------------ 6.3 heun_step

def gaussian_eps(x_bar, sigma, mu: float = _MU, s: float = _S):
    """The exact ε̂ for data N(μ, s²) in ODE coordinates: x̄ = x₀ + σ ε ~ N(μ, s² + σ²), E[ε | x̄] = σ (x̄ − μ)/(s² + σ²).

    The same number as ``oracles.GaussianOracle`` at x = √ᾱ x̄ (divide its numerator and denominator by ᾱ)."""
    return sigma * (x_bar - mu) / (s ** 2 + sigma ** 2)


def _heun_reference(eps_fn, x_bar, sigma, sigma_next):
    ab, abn = _ab_of(sigma), _ab_of(sigma_next)
    x = formulas.from_ode(x_bar, ab)
    e1 = eps_fn(x_bar, sigma)
    x_euler = ode.euler_step(x, e1, ab, abn)
    if float(sigma_next) == 0.0:            # no timestep at σ = 0: the last step is Euler's (Karras et al., Alg. 1)
        return formulas.to_ode(x_euler, abn)
    e2 = eps_fn(formulas.to_ode(x_euler, abn), sigma_next)
    return formulas.to_ode(ode.heun_step(x, e1, ab, abn, e2), abn)


def _heun_cases():
    zero = torch.zeros((), dtype=torch.float64)
    xb = _MU + _randn((5, 2), 3, scale=3.0)
    return [Case((gaussian_eps, xb, _sig(600), _sig(500)), "t = 600 → 500", label_zh="t = 600 → 500"),
            Case((gaussian_eps, xb, _sig(200), _sig(100)), "t = 200 → 100", label_zh="t = 200 → 100"),
            Case((gaussian_eps, xb, _sig(999), _sig(300)), "a skip of 700 steps", label_zh="跳过 700 步"),
            Case((gaussian_eps, xb, _sig(60), zero), "last step (σ_next = 0)",
                 label_zh="最后一步（σ_next = 0）"),
            Case((gaussian_eps, xb.float(), _sig(150), _sig(100)), "float32 batch, t = 150 → 100",
                 label_zh="float32 批次（t = 150 → 100）")]


def _heun_no_predictor(eps_fn, x_bar, sigma, sigma_next):
    h = sigma_next - sigma
    if float(sigma_next) == 0.0:
        return x_bar + h * eps_fn(x_bar, sigma)
    return x_bar + h * (eps_fn(x_bar, sigma) + eps_fn(x_bar, sigma_next)) / 2


def _heun_second_slope_only(eps_fn, x_bar, sigma, sigma_next):
    h = sigma_next - sigma
    x_euler = x_bar + h * eps_fn(x_bar, sigma)
    if float(sigma_next) == 0.0:
        return x_euler
    return x_bar + h * eps_fn(x_euler, sigma_next)


def _heun_slope_at_sigma(eps_fn, x_bar, sigma, sigma_next):
    h = sigma_next - sigma
    e1 = eps_fn(x_bar, sigma)
    x_euler = x_bar + h * e1
    if float(sigma_next) == 0.0:
        return x_euler
    return x_bar + h * (e1 + eps_fn(x_euler, sigma)) / 2


def _heun_trapezoid_at_zero(eps_fn, x_bar, sigma, sigma_next):
    h = sigma_next - sigma
    e1 = eps_fn(x_bar, sigma)
    return x_bar + h * (e1 + eps_fn(x_bar + h * e1, sigma_next)) / 2


def _heun_from_euler_point(eps_fn, x_bar, sigma, sigma_next):
    h = sigma_next - sigma
    d1 = eps_fn(x_bar, sigma)
    x_euler = x_bar + h * d1
    if float(sigma_next) == 0.0:
        return x_euler
    return x_euler + h * (d1 + eps_fn(x_euler, sigma_next)) / 2


register(Exercise(
    name="heun_step", chapter=6,
    signature="heun_step(eps_fn, x_bar, sigma, sigma_next) -> x_bar_next;  eps_fn(x_bar, sigma) -> eps_hat",
    reference=_heun_reference,
    cases=_heun_cases,
    mistakes=(
        mistake("no_predictor", _heun_no_predictor),
        mistake("second_slope_only", _heun_second_slope_only),
        mistake("slope_at_sigma", _heun_slope_at_sigma),
        mistake("trapezoid_at_zero", _heun_trapezoid_at_zero),
        mistake("heun_from_euler_point", _heun_from_euler_point),
    ),
    doc="Euler predictor x̄_E = x̄ + h ε̂(x̄, σ), then x̄ + h (ε̂(x̄, σ) + ε̂(x̄_E, σ_next))/2; Euler alone when σ_next = 0.",
))
