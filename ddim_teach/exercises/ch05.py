"""Chapter 5 exercises: x̂₀ from ε̂ (DDIM eq. 9), ε̂ from x̂₀, and x̂₀ from a v-prediction.

``alpha_bar`` is DDPM's ᾱ (the DDIM paper's α), passed as a 0-dim float64 tensor, as ``samplers.sample`` passes it.
The references are the package's: :func:`ddim_teach.samplers.predict_x0`, :func:`ddim_teach.samplers.eps_from_x0`
and :meth:`ddim_teach.schedules.Schedule.x0_from_v` (on a one-step schedule whose ᾱ is the given one).
"""
from __future__ import annotations

import torch

from .. import samplers, schedules
from . import Case, Exercise, Mistake, register
from ._cases import F64 as _F64, SCHEDULE as _S


def _cases(seed: int, ts=(500, 999, 0, 100)):
    """Two tensors shaped like a batch of images, at several noise levels; the last case in float32."""
    g = torch.Generator().manual_seed(seed)
    out = []
    for t in ts:
        a, b = (torch.randn(3, 1, 4, 4, generator=g, dtype=_F64) for _ in range(2))
        ab = _S.alpha_bar(t)
        out.append(Case((a, b, ab), f"t = {t} (ᾱ = {float(ab):.4g})", label_zh=f"t = {t}（ᾱ = {float(ab):.4g}）"))
    a, b = (torch.randn(2, 1, 28, 28, generator=g, dtype=_F64).float() for _ in range(2))
    out.append(Case((a, b, _S.alpha_bar(300)), "float32 images at t = 300", label_zh="float32 图像，t = 300"))
    return out


# ------------------------------------------------------------------------------------------ 5.1 predict_x0

def _x0_reference(x_t, eps_hat, alpha_bar_t):
    return samplers.predict_x0(x_t, eps_hat, alpha_bar_t)


def _x0_no_sqrt(x_t, eps_hat, ab):
    return (x_t - (1 - ab) * eps_hat) / ab


def _x0_no_division(x_t, eps_hat, ab):
    return x_t - (1 - ab).sqrt() * eps_hat


def _x0_sign(x_t, eps_hat, ab):
    return (x_t + (1 - ab).sqrt() * eps_hat) / ab.sqrt()


def _x0_swapped(x_t, eps_hat, ab):
    return (x_t - ab.sqrt() * eps_hat) / (1 - ab).sqrt()


register(Exercise(
    name="predict_x0", chapter=5,
    signature="predict_x0(x_t, eps_hat, alpha_bar_t) -> x0_hat",
    reference=_x0_reference, cases=lambda: _cases(51),
    doc="x̂₀ = (x_t − √(1 − ᾱ_t) ε̂) / √ᾱ_t, DDIM eq. 9",
    mistakes=(
        Mistake("no_sqrt", "square roots missing: (x_t − (1 − ᾱ) ε̂) / ᾱ",
                "x_t = √ᾱ x₀ + √(1 − ᾱ) ε: ᾱ and 1 − ᾱ are variances, the coefficients are their square roots.",
                _x0_no_sqrt,
                label_zh="缺少平方根：(x_t − (1 − ᾱ) ε̂) / ᾱ",
                hint_zh="x_t = √ᾱ x₀ + √(1 − ᾱ) ε：ᾱ 和 1 − ᾱ 是方差，系数是它们的平方根。"),
        Mistake("no_division", "not divided by √ᾱ: x_t − √(1 − ᾱ) ε̂ is √ᾱ x̂₀, not x̂₀",
                "removing the noise leaves the signal at its scale √ᾱ; undo that scale too.", _x0_no_division,
                label_zh="没有除以 √ᾱ：x_t − √(1 − ᾱ) ε̂ 是 √ᾱ x̂₀，而不是 x̂₀",
                hint_zh="去掉噪声后剩下的信号仍带着尺度 √ᾱ；把这个尺度也除掉。"),
        Mistake("sign", "the noise added instead of removed", "x_t contains + √(1 − ᾱ) ε; take it away.", _x0_sign,
                label_zh="噪声被加上了，而不是去掉", hint_zh="x_t 中含有 + √(1 − ᾱ) ε；要把它减掉。"),
        Mistake("swapped", "√ᾱ and √(1 − ᾱ) swapped",
                "which coefficient belongs to the signal x₀ and which to the noise ε in x_t?", _x0_swapped,
                label_zh="√ᾱ 与 √(1 − ᾱ) 弄反了",
                hint_zh="在 x_t 中，哪个系数属于信号 x₀，哪个属于噪声 ε？"),
    )))


# ------------------------------------------------------------------------------------------ 5.2 eps_from_x0

def _eps_reference(x_t, x0_hat, alpha_bar_t):
    return samplers.eps_from_x0(x_t, x0_hat, alpha_bar_t)


def _eps_sign(x_t, x0_hat, ab):
    return (x_t + ab.sqrt() * x0_hat) / (1 - ab).sqrt()


def _eps_swapped(x_t, x0_hat, ab):
    return (x_t - (1 - ab).sqrt() * x0_hat) / ab.sqrt()


def _eps_no_sqrt(x_t, x0_hat, ab):
    return (x_t - ab * x0_hat) / (1 - ab)


register(Exercise(
    name="eps_from_x0", chapter=5,
    signature="eps_from_x0(x_t, x0_hat, alpha_bar_t) -> eps_hat",
    reference=_eps_reference, cases=lambda: _cases(52, ts=(500, 999, 1, 100)),
    doc="ε̂ = (x_t − √ᾱ_t x̂₀) / √(1 − ᾱ_t), eq. 9 solved for ε",
    mistakes=(
        Mistake("sign", "the signal added instead of removed", "x_t contains + √ᾱ x₀; take it away.", _eps_sign,
                label_zh="信号被加上了，而不是去掉", hint_zh="x_t 中含有 + √ᾱ x₀；要把它减掉。"),
        Mistake("swapped", "√ᾱ and √(1 − ᾱ) swapped",
                "which coefficient belongs to x₀ and which to ε in x_t = √ᾱ x₀ + √(1 − ᾱ) ε?", _eps_swapped,
                label_zh="√ᾱ 与 √(1 − ᾱ) 弄反了",
                hint_zh="在 x_t = √ᾱ x₀ + √(1 − ᾱ) ε 中，哪个系数属于 x₀，哪个属于 ε？"),
        Mistake("no_sqrt", "square roots missing: (x_t − ᾱ x̂₀) / (1 − ᾱ)",
                "ᾱ and 1 − ᾱ are variances; x_t is built with their square roots.", _eps_no_sqrt,
                label_zh="缺少平方根：(x_t − ᾱ x̂₀) / (1 − ᾱ)",
                hint_zh="ᾱ 和 1 − ᾱ 是方差；x_t 是用它们的平方根构造的。"),
    )))


# ------------------------------------------------------------------------------------------ 5.3 x0_from_v

def _x0v_reference(x_t, v_hat, alpha_bar_t):
    one_step = schedules.Schedule(torch.full((1,), 0.5, dtype=_F64))
    one_step.alpha_bars = alpha_bar_t.reshape(1).to(_F64)     # a schedule whose only ᾱ is alpha_bar_t
    return one_step.x0_from_v(x_t, 0, v_hat)


def _x0v_sign(x_t, v, ab):
    return ab.sqrt() * x_t + (1 - ab).sqrt() * v


def _x0v_swapped(x_t, v, ab):
    return (1 - ab).sqrt() * x_t - ab.sqrt() * v


def _x0v_eps(x_t, v, ab):
    return (1 - ab).sqrt() * x_t + ab.sqrt() * v


def _x0v_as_eps(x_t, v, ab):
    return (x_t - (1 - ab).sqrt() * v) / ab.sqrt()


register(Exercise(
    name="x0_from_v", chapter=5,
    signature="x0_from_v(x_t, v_hat, alpha_bar_t) -> x0_hat",
    reference=_x0v_reference, cases=lambda: _cases(53),
    doc="x̂₀ = √ᾱ_t x_t − √(1 − ᾱ_t) v̂ (v = √ᾱ ε − √(1 − ᾱ) x₀, Salimans & Ho 2022)",
    mistakes=(
        Mistake("sign", "the v term added instead of subtracted",
                "v = √ᾱ ε − √(1 − ᾱ) x₀ has a minus sign; follow it through.", _x0v_sign,
                label_zh="v 项被加上了，而不是减去",
                hint_zh="v = √ᾱ ε − √(1 − ᾱ) x₀ 里有一个负号；把它一路带下去。"),
        Mistake("swapped", "√ᾱ and √(1 − ᾱ) swapped",
                "at low noise (ᾱ near 1) x̂₀ must be close to x_t itself.", _x0v_swapped,
                label_zh="√ᾱ 与 √(1 − ᾱ) 弄反了",
                hint_zh="噪声小时（ᾱ 接近 1），x̂₀ 必须接近 x_t 本身。"),
        Mistake("eps_from_v", "ε from v computed instead of x₀: √(1 − ᾱ) x_t + √ᾱ v̂",
                "that combination is the noise ε; x₀ is the other one.", _x0v_eps,
                label_zh="由 v 算出的是 ε 而不是 x₀：√(1 − ᾱ) x_t + √ᾱ v̂",
                hint_zh="这个组合是噪声 ε；x₀ 是另一个组合。"),
        Mistake("v_as_eps", "v̂ used as if it were ε̂ (eq. 9)",
                "v is not the noise: write x_t and v in terms of x₀ and ε, and eliminate ε.", _x0v_as_eps,
                label_zh="把 v̂ 当作 ε̂ 使用（式 9）",
                hint_zh="v 不是噪声：用 x₀ 和 ε 写出 x_t 和 v，再消去 ε。"),
    )))
