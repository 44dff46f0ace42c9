"""Chapter 3 exercises, each a derivation whose result the checker verifies: DDIM's coefficients k and m by hand
(compared as SymPy expressions), σ(η) written with ᾱ only, and the family's kernel as signal plus rescaled noise.

``alpha_bar`` is DDPM's ᾱ (the DDIM paper's α). Scalars are 0-dim float64 tensors, as ``samplers.sample`` passes them.
"""
from __future__ import annotations

from typing import Optional

import sympy as sp
import torch

from .. import ddim_derivation, family, formulas
from ..i18n import tr
from ..mistakes import register as mistake
from . import Case, Exercise, register
from ._cases import F64 as _F64, ONE as _ONE, alpha_bar as _ab


# ------------------------------------------------------------------------------------------ 3.1 ddim_coefficients

def _coefficient_cases():
    ab_t, ab_prev, sigma = ddim_derivation.symbols()
    _, _, beta_tilde = ddim_derivation.posterior_ddpm(ab_t, ab_prev)
    return [Case((ab_t, ab_prev, sigma), "symbols ᾱ_t, ᾱ_prev, σ_t", label_zh="符号 ᾱ_t、ᾱ_prev、σ_t"),
            Case((ab_t, ab_prev, sp.Integer(0)), "σ = 0 (deterministic DDIM)", label_zh="σ = 0（确定性 DDIM）"),
            Case((ab_t, ab_prev, sp.sqrt(beta_tilde)), "σ² = β̃ (DDPM)", label_zh="σ² = β̃（DDPM）"),
            Case((sp.Rational(1, 5), sp.Rational(1, 2), sp.Rational(1, 3)), "numbers ᾱ_t = 1/5, ᾱ_prev = 1/2, σ = 1/3",
                 label_zh="数值 ᾱ_t = 1/5、ᾱ_prev = 1/2、σ = 1/3")]


# points with 0 < ᾱ_t < ᾱ_prev < 1 and σ² < 1 − ᾱ_prev, where two expressions are compared as numbers
_POINTS = [{"alphabar_t": 0.2, "alphabar_prev": 0.5, "sigma_t": 0.3},
           {"alphabar_t": 0.01, "alphabar_prev": 0.9, "sigma_t": 0.05},
           {"alphabar_t": 0.6, "alphabar_prev": 0.7, "sigma_t": 0.5}]


def _as_number(expr, point):
    subs = {s: sp.Float(point[s.name], 30) for s in expr.free_symbols if s.name in point}
    return complex(sp.N(expr.subs(subs), 30))


def _compare_coefficients(got, want) -> Optional[str]:
    """(k, m) as SymPy expressions: same symbols, and equal as numbers at three points of the valid range."""
    if not isinstance(got, (tuple, list)) or len(got) != 2:
        return tr("reason.coeff_tuple", got=type(got).__name__)
    allowed = {s.name for w in want for s in sp.sympify(w).free_symbols}
    for name, g, w in zip(("k", "m"), got, want):
        if isinstance(g, sp.core.relational.Relational) or not isinstance(g, (sp.Basic, int, float)):
            return tr("reason.coeff_expr", name=name, got=type(g).__name__)
        g = sp.sympify(g)
        extra = sorted(s.name for s in g.free_symbols if s.name not in allowed)
        if extra:
            return tr("reason.coeff_symbols", name=name, extra=", ".join(extra))
        for p in _POINTS:
            a, b = _as_number(g, p), _as_number(sp.sympify(w), p)
            if abs(a - b) > 1e-12 * (1 + abs(b)):
                at = ", ".join(f"{k} = {v}" for k, v in p.items() if k in allowed) or tr("reason.these_inputs")
                return tr("reason.coeff_value", name=name, got=f"{a.real:.6g}", at=at, expected=f"{b.real:.6g}")
    return None


def _m_pos(ab_t, ab_prev, sigma):
    return sp.sqrt(1 - ab_prev - sigma ** 2) / sp.sqrt(1 - ab_t)


def _negative_root(ab_t, ab_prev, sigma):
    m = -_m_pos(ab_t, ab_prev, sigma)
    return sp.sqrt(ab_prev) - m * sp.sqrt(ab_t), m


def _no_sqrt_in_mean(ab_t, ab_prev, sigma):
    m = _m_pos(ab_t, ab_prev, sigma)
    return ab_prev - m * ab_t, m


def _sigma_not_squared(ab_t, ab_prev, sigma):
    m = sp.sqrt(1 - ab_prev - sigma) / sp.sqrt(1 - ab_t)
    return sp.sqrt(ab_prev) - m * sp.sqrt(ab_t), m


def _m_not_squared(ab_t, ab_prev, sigma):
    m = (1 - ab_prev - sigma ** 2) / (1 - ab_t)              # m (1 − ᾱ_t) where m² (1 − ᾱ_t) belongs
    return sp.sqrt(ab_prev) - m * sp.sqrt(ab_t), m


def _swapped(ab_t, ab_prev, sigma):
    k, m = ddim_derivation.ddim_coefficients(ab_t, ab_prev, sigma)
    return m, k


def _sigma_dropped(ab_t, ab_prev, sigma):
    m = sp.sqrt(1 - ab_prev) / sp.sqrt(1 - ab_t)            # σ² left out of the variance constraint
    return sp.sqrt(ab_prev) - m * sp.sqrt(ab_t), m


def _k_sign(ab_t, ab_prev, sigma):
    m = _m_pos(ab_t, ab_prev, sigma)
    return sp.sqrt(ab_prev) + m * sp.sqrt(ab_t), m


register(Exercise(
    name="ddim_coefficients", chapter=3,
    signature="ddim_coefficients(alpha_bar_t, alpha_bar_prev, sigma) -> (k, m), SymPy expressions",
    reference=ddim_derivation.ddim_coefficients,
    cases=_coefficient_cases,
    mistakes=(
        mistake("negative_root", _negative_root),
        mistake("no_sqrt_in_mean", _no_sqrt_in_mean),
        mistake("sigma_not_squared", _sigma_not_squared),
        mistake("k_m_swapped", _swapped),
        mistake("m_not_squared", _m_not_squared),
        mistake("sigma_dropped", _sigma_dropped),
        mistake("k_sign", _k_sign),
    ),
    compare=_compare_coefficients,
    doc="Solve the two marginal constraints for the coefficients k (of x₀) and m (of x_t) by hand (DDIM eq. 7).",
))


# ------------------------------------------------------------------------------------------ 3.2 ddim_sigma

def _sigma_cases():
    return [Case((_ab(700), _ab(650), 0.0), "η = 0", label_zh="η = 0"),
            Case((_ab(700), _ab(650), 1.0), "η = 1", label_zh="η = 1"),
            Case((_ab(500), _ab(499), 0.5), "η = 0.5, one step", label_zh="η = 0.5（单步）"),
            Case((_ab(999), _ab(99), 0.5), "η = 0.5, a skip of 900 steps", label_zh="η = 0.5（跳过 900 步）"),
            Case((_ab(300), _ab(100), 0.3), "η = 0.3, a skip of 200 steps", label_zh="η = 0.3（跳过 200 步）"),
            Case((_ab(50), _ONE, 1.0), "last step (ᾱ_prev = 1), η = 1",
                 label_zh="η = 1 的最后一步（ᾱ_prev = 1）")]


def _sigma_squared(ab, abp, eta):
    return eta ** 2 * formulas.posterior_variance(ab, abp)


def _missing_sqrt(ab, abp, eta):
    return eta * ((1 - abp) / (1 - ab)).sqrt() * (1 - ab / abp)


def _missing_sqrt_ratio(ab, abp, eta):
    return eta * (1 - abp) / (1 - ab) * (1 - ab / abp).sqrt()


def _eta_times_variance(ab, abp, eta):
    return eta * formulas.posterior_variance(ab, abp)


def _alpha_for_alpha_bar(ab, abp, eta):
    alpha = ab / abp                       # DDPM's one-step alpha_t where the cumulative alpha_bar_t is meant
    return eta * ((1 - abp) / (1 - alpha)).sqrt() * (1 - ab / abp).sqrt()


def _eta_inside_sqrt(ab, abp, eta):
    return (eta * formulas.posterior_variance(ab, abp)).sqrt()


register(Exercise(
    name="ddim_sigma", chapter=3,
    signature="ddim_sigma(alpha_bar_t, alpha_bar_prev, eta) -> sigma_t (0-dim float64 tensor)",
    reference=formulas.ddim_sigma,
    cases=_sigma_cases,
    mistakes=(
        mistake("ddim_sigma_squared", _sigma_squared),
        mistake("ddim_sigma_missing_sqrt", _missing_sqrt),
        mistake("missing_sqrt_ratio", _missing_sqrt_ratio),
        mistake("ddim_sigma_alpha_for_alpha_bar", _alpha_for_alpha_bar),
        mistake("eta_times_variance", _eta_times_variance),
        mistake("eta_inside_sqrt", _eta_inside_sqrt),
    ),
    doc="σ_t(η) = η √((1 − ᾱ_prev)/(1 − ᾱ_t)) √(1 − ᾱ_t/ᾱ_prev) (DDIM eq. 16).",
))


# ------------------------------------------------------------------------------------------ 3.3 family_posterior_mean

def _mean_cases():
    g = torch.Generator().manual_seed(3)
    x0, x_t = torch.randn(5, 3, generator=g, dtype=_F64), torch.randn(5, 3, generator=g, dtype=_F64)
    zero = torch.zeros((), dtype=_F64)
    return [Case((x0, x_t, _ab(700), _ab(650), zero), "σ = 0 (η = 0)", label_zh="σ = 0（η = 0）"),
            Case((x0, x_t, _ab(700), _ab(650), formulas.ddim_sigma(_ab(700), _ab(650), 1.0)), "σ² = β̃ (η = 1)", label_zh="σ² = β̃（η = 1）"),
            Case((x0, x_t, _ab(900), _ab(300), formulas.ddim_sigma(_ab(900), _ab(300), 0.5)),
                 "η = 0.5, a skip of 600 steps", label_zh="η = 0.5（跳过 600 步）"),
            Case((x0, x_t, _ab(40), _ONE, zero), "last step (ᾱ_prev = 1)", label_zh="最后一步（ᾱ_prev = 1）"),
            Case((x0.float(), x_t.float(), _ab(500), _ab(480), formulas.ddim_sigma(_ab(500), _ab(480), 0.7)),
                 "float32 batch, η = 0.7", label_zh="float32 批次（η = 0.7）")]


def _mean_no_sqrt(x0, x_t, ab, abp, sigma):
    eps = (x_t - ab.sqrt() * x0) / (1 - ab).sqrt()
    return abp.sqrt() * x0 + (1 - abp - sigma ** 2) * eps


def _mean_sigma_for_variance(x0, x_t, ab, abp, sigma):
    eps = (x_t - ab.sqrt() * x0) / (1 - ab).sqrt()
    return abp.sqrt() * x0 + (1 - abp - sigma).sqrt() * eps


def _mean_eps_unscaled(x0, x_t, ab, abp, sigma):
    return abp.sqrt() * x0 + (1 - abp - sigma ** 2).sqrt() * (x_t - ab.sqrt() * x0)


def _mean_eps_signal_no_sqrt(x0, x_t, ab, abp, sigma):
    eps = (x_t - ab * x0) / (1 - ab).sqrt()
    return abp.sqrt() * x0 + (1 - abp - sigma ** 2).sqrt() * eps


register(Exercise(
    name="family_posterior_mean", chapter=3,
    signature="family_posterior_mean(x0, x_t, alpha_bar_t, alpha_bar_prev, sigma) -> mean of q_σ(x_prev | x_t, x0)",
    reference=family.posterior_mean,
    cases=_mean_cases,
    mistakes=(
        mistake("family_posterior_mean_no_sqrt", _mean_no_sqrt),
        mistake("sigma_for_variance", _mean_sigma_for_variance),
        mistake("eps_unscaled", _mean_eps_unscaled),
        mistake("family_eps_signal_no_sqrt", _mean_eps_signal_no_sqrt),
    ),
    doc="√ᾱ_prev x₀ + √(1 − ᾱ_prev − σ²) (x_t − √ᾱ_t x₀)/√(1 − ᾱ_t) (DDIM eq. 7).",
))
