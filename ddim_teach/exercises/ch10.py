"""Chapter 10 exercises: the classifier-free guidance combination, the classifier-guidance correction, and a
guided DDIM step.

``alpha_bar`` is DDPM's ᾱ (the DDIM paper's α). w is Ho & Salimans' guidance weight (w = 0: no guidance);
s is Dhariwal & Nichol's scale (s = 1: the conditional eps). Scalars are 0-dim float64 tensors.
The references call :mod:`ddim_teach.guidance` and :func:`ddim_teach.samplers.ddim_step`.
"""
from __future__ import annotations

import torch

from .. import formulas, guidance, oracles, samplers
from ..mistakes import register as mistake
from . import Case, Exercise, register
from ._cases import SCHEDULE as _SCHEDULE, alpha_bar as _ab, randn as _randn

_F64 = torch.float64


# ------------------------------------------------------------------------------------------ 10.1 cfg_eps

def _cfg_reference(eps_cond, eps_uncond, w):
    return guidance.cfg_eps(eps_cond, eps_uncond, w)


def _cfg_cases():
    c, u = _randn((3, 1, 4, 4), 10), _randn((3, 1, 4, 4), 11)
    return [Case((c, u, 0.0), "w = 0 (no guidance: the conditional eps)", label_zh="w = 0（不引导：条件 eps）"),
            Case((c, u, 1.0), "w = 1", label_zh="w = 1"),
            Case((c, u, 3.0), "w = 3", label_zh="w = 3"),
            Case((c.float(), u.float(), 7.5), "w = 7.5, float32", label_zh="w = 7.5，float32")]


def _cfg_w_for_one_plus_w(eps_cond, eps_uncond, w):
    return eps_uncond + w * (eps_cond - eps_uncond)


def _cfg_swapped(eps_cond, eps_uncond, w):
    return (1 + w) * eps_uncond - w * eps_cond


def _cfg_sign(eps_cond, eps_uncond, w):
    return (1 + w) * eps_cond + w * eps_uncond


def _cfg_difference_only(eps_cond, eps_uncond, w):
    return w * (eps_cond - eps_uncond)


register(Exercise(
    name="cfg_eps", chapter=10,
    signature="cfg_eps(eps_cond, eps_uncond, w) -> eps_tilde",
    reference=_cfg_reference, cases=_cfg_cases,
    mistakes=(mistake("cfg_w_for_one_plus_w", _cfg_w_for_one_plus_w), mistake("cfg_swapped", _cfg_swapped),
              mistake("cfg_sign", _cfg_sign), mistake("cfg_difference_only", _cfg_difference_only)),
    doc="ε̃ = (1 + w) ε̂(x_t, y) − w ε̂(x_t, ∅)  (Ho & Salimans 2022, eq. 6)",
))


# ------------------------------------------------------------------------------------------ 10.2 classifier_guided_eps

_MIXTURE = oracles.GaussianMixtureOracle.default(_SCHEDULE)


def _log_p_y(t: int, y: int):
    """log p_t(y | x) of the 2-D mixture's components as a function of x alone (the exact noise-aware classifier)."""
    tt = torch.tensor(t)

    def log_p_y(x):
        return _MIXTURE.log_p_y(x, tt, torch.tensor(y))
    log_p_y.__name__ = log_p_y.__qualname__ = f"log_p_y_t{t}_class{y}"
    return log_p_y


def _grad(log_p_y, x_t, of=lambda v: v):
    x = x_t.detach().requires_grad_(True)
    g, = torch.autograd.grad(of(log_p_y(x)).sum(), x)
    return g


def _cg_reference(eps_hat, x_t, alpha_bar_t, log_p_y, s):
    return guidance.classifier_guided_eps(eps_hat, _grad(log_p_y, x_t), alpha_bar_t, s)


def _cg_cases():
    x = _randn((6, 2), 20, scale=1.2)
    e = _randn((6, 2), 21)
    return [Case((e, x, _ab(500), _log_p_y(500, 0), 1.0), "t = 500, class 0, s = 1 (the conditional eps)",
                 label_zh="t = 500，类别 0，s = 1（条件 eps）"),
            Case((e, x, _ab(250), _log_p_y(250, 2), 3.0), "t = 250, class 2, s = 3", label_zh="t = 250，类别 2，s = 3"),
            Case((e, x, _ab(50), _log_p_y(50, 1), 2.0), "t = 50 (near the data), class 1, s = 2",
                 label_zh="t = 50（接近数据），类别 1，s = 2"),
            Case((e.float(), x.float(), _ab(800), _log_p_y(800, 1), 5.0), "t = 800, class 1, s = 5, float32",
                 label_zh="t = 800，类别 1，s = 5，float32")]


def _cg_sign(eps_hat, x_t, ab, log_p_y, s):
    return eps_hat + (s * (1 - ab).sqrt()).to(eps_hat.dtype) * _grad(log_p_y, x_t)


def _cg_no_sqrt_one_minus_ab(eps_hat, x_t, ab, log_p_y, s):
    return eps_hat - s * _grad(log_p_y, x_t)


def _cg_one_minus_ab_no_sqrt(eps_hat, x_t, ab, log_p_y, s):
    return eps_hat - (s * (1 - ab)).to(eps_hat.dtype) * _grad(log_p_y, x_t)


def _cg_sqrt_ab(eps_hat, x_t, ab, log_p_y, s):
    return eps_hat - (s * ab.sqrt()).to(eps_hat.dtype) * _grad(log_p_y, x_t)


def _cg_grad_of_p(eps_hat, x_t, ab, log_p_y, s):
    return eps_hat - (s * (1 - ab).sqrt()).to(eps_hat.dtype) * _grad(log_p_y, x_t, of=torch.exp)


def _cg_grad_of_mean(eps_hat, x_t, ab, log_p_y, s):
    x = x_t.detach().requires_grad_(True)
    g, = torch.autograd.grad(log_p_y(x).mean(), x)          # the batch mean: every row's gradient divided by B
    return eps_hat - (s * (1 - ab).sqrt()).to(eps_hat.dtype) * g


def _cg_scale_missing(eps_hat, x_t, ab, log_p_y, s):
    return _cg_reference(eps_hat, x_t, ab, log_p_y, 1.0)


register(Exercise(
    name="classifier_guided_eps", chapter=10,
    signature="classifier_guided_eps(eps_hat, x_t, alpha_bar_t, log_p_y, s) -> eps_tilde",
    reference=_cg_reference, cases=_cg_cases,
    mistakes=(mistake("cg_sign", _cg_sign), mistake("cg_no_sqrt_one_minus_ab", _cg_no_sqrt_one_minus_ab),
              mistake("cg_one_minus_ab_no_sqrt", _cg_one_minus_ab_no_sqrt), mistake("cg_sqrt_ab", _cg_sqrt_ab),
              mistake("cg_grad_of_p", _cg_grad_of_p), mistake("cg_grad_of_mean", _cg_grad_of_mean),
              mistake("cg_scale_missing", _cg_scale_missing)),
    doc="ε̃ = ε̂ − s √(1 − ᾱ_t) ∇_x log p(y | x_t)  (Dhariwal & Nichol 2021, §4.2, scale s of §4.3)",
))


# ------------------------------------------------------------------------------------------ 10.3 guided_ddim_step

def _gs_reference(x_t, eps_cond, eps_uncond, w, alpha_bar_t, alpha_bar_prev):
    eps_tilde = guidance.cfg_eps(eps_cond, eps_uncond, w)
    return samplers.ddim_step(x_t, eps_tilde, alpha_bar_t, alpha_bar_prev)[0]


def _gs_cases():
    x, c, u = _randn((3, 1, 4, 4), 30), _randn((3, 1, 4, 4), 31), _randn((3, 1, 4, 4), 32)
    return [Case((x, c, u, 3.0, _ab(999), _ab(979)), "999 → 979, w = 3", label_zh="999 → 979，w = 3"),
            Case((x, c, u, 1.0, _ab(500), _ab(450)), "500 → 450, w = 1", label_zh="500 → 450，w = 1"),
            Case((x, c, u, 0.0, _ab(200), _ab(100)), "200 → 100, w = 0 (no guidance)",
                 label_zh="200 → 100，w = 0（不引导）"),
            Case((x.float(), c.float(), u.float(), 7.0, _ab(49), _ab(None)), "the last step 49 → clean, w = 7, float32",
                 label_zh="最后一步 49 → 干净图像，w = 7，float32")]


def _gs_x0_unguided(x_t, eps_cond, eps_uncond, w, ab, abp):
    eps_tilde = guidance.cfg_eps(eps_cond, eps_uncond, w)
    return formulas.ddim_mean(formulas.predict_x0(x_t, eps_cond, ab), eps_tilde, abp, 0.0)


def _gs_direction_unguided(x_t, eps_cond, eps_uncond, w, ab, abp):
    eps_tilde = guidance.cfg_eps(eps_cond, eps_uncond, w)
    return formulas.ddim_mean(formulas.predict_x0(x_t, eps_tilde, ab), eps_cond, abp, 0.0)


def _gs_direction_no_sqrt(x_t, eps_cond, eps_uncond, w, ab, abp):
    eps_tilde = guidance.cfg_eps(eps_cond, eps_uncond, w)
    x0_hat = formulas.predict_x0(x_t, eps_tilde, ab)
    return abp.sqrt().to(x_t.dtype) * x0_hat + (1 - abp).to(x_t.dtype) * eps_tilde


def _gs_w_for_one_plus_w(x_t, eps_cond, eps_uncond, w, ab, abp):
    return samplers.ddim_step(x_t, _cfg_w_for_one_plus_w(eps_cond, eps_uncond, w), ab, abp)[0]


def _gs_swapped(x_t, eps_cond, eps_uncond, w, ab, abp):
    return samplers.ddim_step(x_t, _cfg_swapped(eps_cond, eps_uncond, w), ab, abp)[0]


def _gs_unguided(x_t, eps_cond, eps_uncond, w, ab, abp):
    return samplers.ddim_step(x_t, eps_cond, ab, abp)[0]


register(Exercise(
    name="guided_ddim_step", chapter=10,
    signature="guided_ddim_step(x_t, eps_cond, eps_uncond, w, alpha_bar_t, alpha_bar_prev) -> x_prev",
    reference=_gs_reference, cases=_gs_cases,
    mistakes=(mistake("guided_x0_unguided", _gs_x0_unguided),
              mistake("guided_direction_unguided", _gs_direction_unguided),
              mistake("guided_direction_no_sqrt", _gs_direction_no_sqrt),
              mistake("step_w_for_one_plus_w", _gs_w_for_one_plus_w), mistake("step_cfg_swapped", _gs_swapped),
              mistake("step_unguided", _gs_unguided)),
    doc="DDIM's η = 0 step (eq. 12) with ε̃ = (1 + w) ε̂(x_t, y) − w ε̂(x_t, ∅) in both places: in x̂₀ and in "
        "the direction term",
))
