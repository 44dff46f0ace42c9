"""Chapter 3 exercises: the DDIM derivation (undetermined coefficients in SymPy, σ(η), the family's kernel).

``alpha_bar`` is DDPM's ᾱ (the DDIM paper's α). Scalars are 0-dim float64 tensors, as ``samplers.sample`` passes them.
"""
from __future__ import annotations

from typing import Optional

import sympy as sp
import torch

from .. import ddim_derivation, family, samplers
from . import Case, Exercise, Mistake, register
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
        return f"returned {type(got).__name__}, expected a tuple (k, m) of two SymPy expressions"
    allowed = {s.name for w in want for s in sp.sympify(w).free_symbols}
    for name, g, w in zip(("k", "m"), got, want):
        if isinstance(g, sp.core.relational.Relational) or not isinstance(g, (sp.Basic, int, float)):
            return f"{name} is a {type(g).__name__}, expected an expression (solve for k and m, then return the solutions)"
        g = sp.sympify(g)
        extra = sorted(s.name for s in g.free_symbols if s.name not in allowed)
        if extra:
            return f"{name} still contains {', '.join(extra)}: return the solved coefficients, in the inputs only"
        for p in _POINTS:
            a, b = _as_number(g, p), _as_number(sp.sympify(w), p)
            if abs(a - b) > 1e-12 * (1 + abs(b)):
                at = ", ".join(f"{k} = {v}" for k, v in p.items() if k in allowed) or "these inputs"
                return f"{name} = {a.real:.6g} at {at}, expected {b.real:.6g}"
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


def _swapped(ab_t, ab_prev, sigma):
    k, m = ddim_derivation.ddim_coefficients(ab_t, ab_prev, sigma)
    return m, k


register(Exercise(
    name="ddim_coefficients", chapter=3,
    signature="ddim_coefficients(alpha_bar_t, alpha_bar_prev, sigma) -> (k, m), SymPy expressions",
    reference=ddim_derivation.ddim_coefficients,
    cases=_coefficient_cases,
    mistakes=(
        Mistake("negative_root", "the root with m < 0", "sp.solve returns two roots (m and −m); keep the one with "
                "m > 0, so that x_prev moves with x_t", _negative_root,
                label_zh="取了 m < 0 的根",
                hint_zh="sp.solve 返回两个根（m 和 −m）；保留 m > 0 的那个，这样 x_prev 与 x_t 同向变化"),
        Mistake("no_sqrt_in_mean", "the mean constraint without square roots (k + m ᾱ_t = ᾱ_prev)",
                "q(x_t | x₀) has mean √ᾱ_t · x₀, not ᾱ_t · x₀", _no_sqrt_in_mean,
                label_zh="均值约束里漏了平方根（k + m ᾱ_t = ᾱ_prev）",
                hint_zh="q(x_t | x₀) 的均值是 √ᾱ_t · x₀，不是 ᾱ_t · x₀"),
        Mistake("sigma_not_squared", "σ where σ² belongs in the variance constraint",
                "the variances add: m²(1 − ᾱ_t) + (the kernel's variance) = 1 − ᾱ_prev", _sigma_not_squared,
                label_zh="方差约束里该用 σ² 的地方用了 σ",
                hint_zh="方差相加：m²(1 − ᾱ_t) +（转移核的方差）= 1 − ᾱ_prev"),
        Mistake("swapped", "k and m swapped", "return (k, m): k multiplies x₀, m multiplies x_t", _swapped,
                label_zh="k 与 m 对调了", hint_zh="返回 (k, m)：k 乘 x₀，m 乘 x_t"),
    ),
    compare=_compare_coefficients,
    doc="Solve the two marginal constraints for the coefficients k (of x₀) and m (of x_t) with sp.solve (DDIM eq. 7).",
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


def _beta_tilde(ab, abp):
    return (1 - abp) / (1 - ab) * (1 - ab / abp)


def _sigma_squared(ab, abp, eta):
    return eta ** 2 * _beta_tilde(ab, abp)


def _missing_sqrt(ab, abp, eta):
    return eta * ((1 - abp) / (1 - ab)).sqrt() * (1 - ab / abp)


def _missing_sqrt_ratio(ab, abp, eta):
    return eta * (1 - abp) / (1 - ab) * (1 - ab / abp).sqrt()


def _alpha_for_alpha_bar(ab, abp, eta):
    alpha = ab / abp                       # DDPM's one-step alpha_t where the cumulative alpha_bar_t is meant
    return eta * ((1 - abp) / (1 - alpha)).sqrt() * (1 - ab / abp).sqrt()


register(Exercise(
    name="ddim_sigma", chapter=3,
    signature="ddim_sigma(alpha_bar_t, alpha_bar_prev, eta) -> sigma_t (0-dim float64 tensor)",
    reference=samplers.ddim_sigma,
    cases=_sigma_cases,
    mistakes=(
        Mistake("sigma_squared", "σ² returned where σ is meant",
                "η scales the standard deviation σ_t; at η = 1, σ_t² (not σ_t) equals β̃", _sigma_squared,
                label_zh="该返回 σ 的地方返回了 σ²",
                hint_zh="η 缩放的是标准差 σ_t；η = 1 时等于 β̃ 的是 σ_t²（而不是 σ_t）"),
        Mistake("missing_sqrt", "a missing square root over 1 − ᾱ_t/ᾱ_prev",
                "eq. 16 takes the square root of both factors", _missing_sqrt,
                label_zh="1 − ᾱ_t/ᾱ_prev 上漏了平方根", hint_zh="式 16 对两个因子都开平方"),
        Mistake("missing_sqrt_ratio", "a missing square root over (1 − ᾱ_prev)/(1 − ᾱ_t)",
                "eq. 16 takes the square root of both factors", _missing_sqrt_ratio,
                label_zh="(1 − ᾱ_prev)/(1 − ᾱ_t) 上漏了平方根", hint_zh="式 16 对两个因子都开平方"),
        Mistake("alpha_for_alpha_bar", "DDPM's one-step α_t = ᾱ_t/ᾱ_prev used where ᾱ_t is meant (in 1 − ᾱ_t)",
                "the DDIM paper's α_t is DDPM's cumulative ᾱ_t; the step's own α appears only in the ratio "
                "ᾱ_t/ᾱ_prev", _alpha_for_alpha_bar,
                label_zh="该用 ᾱ_t 的地方（1 − ᾱ_t 中）用了 DDPM 的单步 α_t = ᾱ_t/ᾱ_prev",
                hint_zh="DDIM 论文的 α_t 就是 DDPM 的累积 ᾱ_t；这一步自己的 α 只出现在比值 ᾱ_t/ᾱ_prev 中"),
    ),
    doc="σ_t(η) = η √((1 − ᾱ_prev)/(1 − ᾱ_t)) √(1 − ᾱ_t/ᾱ_prev) (DDIM eq. 16).",
))


# ------------------------------------------------------------------------------------------ 3.3 family_posterior_mean

def _mean_cases():
    g = torch.Generator().manual_seed(3)
    x0, x_t = torch.randn(5, 3, generator=g, dtype=_F64), torch.randn(5, 3, generator=g, dtype=_F64)
    zero = torch.zeros((), dtype=_F64)
    return [Case((x0, x_t, _ab(700), _ab(650), zero), "σ = 0 (η = 0)", label_zh="σ = 0（η = 0）"),
            Case((x0, x_t, _ab(700), _ab(650), samplers.ddim_sigma(_ab(700), _ab(650), 1.0)), "σ² = β̃ (η = 1)", label_zh="σ² = β̃（η = 1）"),
            Case((x0, x_t, _ab(900), _ab(300), samplers.ddim_sigma(_ab(900), _ab(300), 0.5)),
                 "η = 0.5, a skip of 600 steps", label_zh="η = 0.5（跳过 600 步）"),
            Case((x0, x_t, _ab(40), _ONE, zero), "last step (ᾱ_prev = 1)", label_zh="最后一步（ᾱ_prev = 1）"),
            Case((x0.float(), x_t.float(), _ab(500), _ab(480), samplers.ddim_sigma(_ab(500), _ab(480), 0.7)),
                 "float32 batch, η = 0.7", label_zh="float32 批次（η = 0.7）")]


def _mean_no_sqrt(x0, x_t, ab, abp, sigma):
    eps = (x_t - ab.sqrt() * x0) / (1 - ab).sqrt()
    return abp.sqrt() * x0 + (1 - abp - sigma ** 2) * eps


def _mean_sigma_for_variance(x0, x_t, ab, abp, sigma):
    eps = (x_t - ab.sqrt() * x0) / (1 - ab).sqrt()
    return abp.sqrt() * x0 + (1 - abp - sigma).sqrt() * eps


def _mean_eps_unscaled(x0, x_t, ab, abp, sigma):
    return abp.sqrt() * x0 + (1 - abp - sigma ** 2).sqrt() * (x_t - ab.sqrt() * x0)


register(Exercise(
    name="family_posterior_mean", chapter=3,
    signature="family_posterior_mean(x0, x_t, alpha_bar_t, alpha_bar_prev, sigma) -> mean of q_σ(x_prev | x_t, x0)",
    reference=family.posterior_mean,
    cases=_mean_cases,
    mistakes=(
        Mistake("no_sqrt", "a missing square root over 1 − ᾱ_prev − σ²",
                "ε's coefficient is a standard deviation, and 1 − ᾱ_prev − σ² is a variance", _mean_no_sqrt,
                label_zh="1 − ᾱ_prev − σ² 上漏了平方根",
                hint_zh="ε 的系数是标准差，而 1 − ᾱ_prev − σ² 是方差"),
        Mistake("sigma_for_variance", "σ where σ² belongs", "σ_t is a standard deviation; the kernel's variance is σ_t²",
                _mean_sigma_for_variance,
                label_zh="该用 σ² 的地方用了 σ", hint_zh="σ_t 是标准差；转移核的方差是 σ_t²"),
        Mistake("eps_unscaled", "x_t − √ᾱ_t x₀ used as the noise without dividing by √(1 − ᾱ_t)",
                "the unit-variance noise in x_t is ε = (x_t − √ᾱ_t x₀)/√(1 − ᾱ_t)", _mean_eps_unscaled,
                label_zh="把 x_t − √ᾱ_t x₀ 当作噪声，没有除以 √(1 − ᾱ_t)",
                hint_zh="x_t 中单位方差的噪声是 ε = (x_t − √ᾱ_t x₀)/√(1 − ᾱ_t)"),
    ),
    doc="√ᾱ_prev x₀ + √(1 − ᾱ_prev − σ²) (x_t − √ᾱ_t x₀)/√(1 − ᾱ_t) (DDIM eq. 7).",
))
