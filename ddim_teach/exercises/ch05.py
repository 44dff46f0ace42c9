"""Chapter 5 exercises: x̂₀ from ε̂ (DDIM eq. 9), ε̂ from x̂₀, and x̂₀ from a v-prediction.

``alpha_bar`` is DDPM's ᾱ (the DDIM paper's α), passed as a 0-dim float64 tensor, as ``samplers.sample`` passes it.
The references are the package's formulas: :func:`ddim_teach.formulas.predict_x0`,
:func:`~ddim_teach.formulas.eps_from_x0` and :func:`~ddim_teach.formulas.x0_from_v`.
"""
from __future__ import annotations

import torch

from .. import formulas
from ..mistakes import register as mistake
from . import Case, Exercise, register
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

def _x0_no_sqrt(x_t, eps_hat, ab):
    return (x_t - (1 - ab) * eps_hat) / ab


def _x0_no_division(x_t, eps_hat, ab):
    return x_t - (1 - ab).sqrt() * eps_hat


def _x0_sign(x_t, eps_hat, ab):
    return (x_t + (1 - ab).sqrt() * eps_hat) / ab.sqrt()


def _x0_swapped(x_t, eps_hat, ab):
    return (x_t - ab.sqrt() * eps_hat) / (1 - ab).sqrt()


def _x0_over_alpha_bar(x_t, eps_hat, ab):
    return (x_t - (1 - ab).sqrt() * eps_hat) / ab


def _x0_noise_no_sqrt(x_t, eps_hat, ab):
    return (x_t - (1 - ab) * eps_hat) / ab.sqrt()


register(Exercise(
    name="predict_x0", chapter=5,
    signature="predict_x0(x_t, eps_hat, alpha_bar_t) -> x0_hat",
    reference=formulas.predict_x0, cases=lambda: _cases(51),
    doc="x̂₀ = (x_t − √(1 − ᾱ_t) ε̂) / √ᾱ_t, DDIM eq. 9",
    mistakes=(
        mistake("predict_x0_no_sqrt", _x0_no_sqrt),
        mistake("no_division", _x0_no_division),
        mistake("predict_x0_sign", _x0_sign),
        mistake("predict_x0_roots_swapped", _x0_swapped),
        mistake("predict_x0_over_alpha_bar", _x0_over_alpha_bar),
        mistake("predict_x0_noise_no_sqrt", _x0_noise_no_sqrt),
    )))


# ------------------------------------------------------------------------------------------ 5.2 eps_from_x0

def _eps_sign(x_t, x0_hat, ab):
    return (x_t + ab.sqrt() * x0_hat) / (1 - ab).sqrt()


def _eps_swapped(x_t, x0_hat, ab):
    return (x_t - (1 - ab).sqrt() * x0_hat) / ab.sqrt()


def _eps_no_sqrt(x_t, x0_hat, ab):
    return (x_t - ab * x0_hat) / (1 - ab)


def _eps_negated(x_t, x0_hat, ab):
    return (ab.sqrt() * x0_hat - x_t) / (1 - ab).sqrt()


def _eps_over_one_minus_alpha_bar(x_t, x0_hat, ab):
    return (x_t - ab.sqrt() * x0_hat) / (1 - ab)


def _eps_signal_no_sqrt(x_t, x0_hat, ab):
    return (x_t - ab * x0_hat) / (1 - ab).sqrt()


register(Exercise(
    name="eps_from_x0", chapter=5,
    signature="eps_from_x0(x_t, x0_hat, alpha_bar_t) -> eps_hat",
    reference=formulas.eps_from_x0, cases=lambda: _cases(52, ts=(500, 999, 1, 100)),
    doc="ε̂ = (x_t − √ᾱ_t x̂₀) / √(1 − ᾱ_t), eq. 9 solved for ε",
    mistakes=(
        mistake("eps_from_x0_sign", _eps_sign),
        mistake("eps_from_x0_roots_swapped", _eps_swapped),
        mistake("eps_from_x0_no_sqrt", _eps_no_sqrt),
        mistake("eps_from_x0_negated", _eps_negated),
        mistake("eps_from_x0_denominator_no_sqrt", _eps_over_one_minus_alpha_bar),
        mistake("eps_from_x0_signal_no_sqrt", _eps_signal_no_sqrt),
    )))


# ------------------------------------------------------------------------------------------ 5.3 x0_from_v

def _x0v_sign(x_t, v, ab):
    return ab.sqrt() * x_t + (1 - ab).sqrt() * v


def _x0v_swapped(x_t, v, ab):
    return (1 - ab).sqrt() * x_t - ab.sqrt() * v


def _x0v_eps(x_t, v, ab):
    return (1 - ab).sqrt() * x_t + ab.sqrt() * v


def _x0v_as_eps(x_t, v, ab):
    return (x_t - (1 - ab).sqrt() * v) / ab.sqrt()


def _x0v_signal_no_sqrt(x_t, v, ab):
    return ab * x_t - (1 - ab).sqrt() * v


register(Exercise(
    name="x0_from_v", chapter=5,
    signature="x0_from_v(x_t, v_hat, alpha_bar_t) -> x0_hat",
    reference=formulas.x0_from_v, cases=lambda: _cases(53),
    doc="x̂₀ = √ᾱ_t x_t − √(1 − ᾱ_t) v̂ (v = √ᾱ ε − √(1 − ᾱ) x₀, Salimans & Ho 2022)",
    mistakes=(
        mistake("x0_from_v_sign", _x0v_sign),
        mistake("x0_from_v_roots_swapped", _x0v_swapped),
        mistake("eps_from_v", _x0v_eps),
        mistake("v_as_eps", _x0v_as_eps),
        mistake("x0_from_v_signal_no_sqrt", _x0v_signal_no_sqrt),
    )))
