"""Chapter 9 exercises: the half log-SNR and a step's h, the DPM-Solver++(2M) update, and Karras et al.'s σ grid.

``alpha_bar`` is DDPM's ᾱ (the DDIM paper's α). λ = log(√ᾱ / √(1 − ᾱ)) is *half* the log-SNR (DPM-Solver's λ);
σ is the ODE's σ = √(1 − ᾱ)/√ᾱ = e^(−λ) (Karras et al.'s σ), not DDIM's noise std nor DPM-Solver's σ_t = √(1 − ᾱ). Scalars are 0-dim float64 tensors.
The references call :mod:`ddim_teach.formulas` and :func:`ddim_teach.samplers.dpm_solver_pp_2m_step`.
"""
from __future__ import annotations

import torch

from .. import formulas, samplers
from ..i18n import tr
from ..mistakes import register as mistake
from . import Case, Exercise, _diff, register
from ._cases import SCHEDULE as _SCHEDULE, alpha_bar as _ab, randn as _randn

_F64 = torch.float64


# ------------------------------------------------------------------------------------------ 9.1 step_h

def _h_reference(alpha_bar_t, alpha_bar_prev):
    return formulas.half_log_snr(alpha_bar_prev) - formulas.half_log_snr(alpha_bar_t)


def _h_cases():
    return [Case((_ab(999), _ab(899)), "999 → 899 (the noisiest step)", label_zh="999 → 899（噪声最大的一步）"),
            Case((_ab(500), _ab(400)), "500 → 400", label_zh="500 → 400"),
            Case((_ab(99), _ab(0)), "99 → 0", label_zh="99 → 0"),
            Case((torch.tensor(0.5, dtype=_F64), torch.tensor(0.9, dtype=_F64)), "ᾱ 0.5 → 0.9 (λ from 0)",
                 label_zh="ᾱ 0.5 → 0.9（λ 从 0 开始）")]


def _h_full_log_snr(ab, abp):
    return torch.log(abp / (1 - abp)) - torch.log(ab / (1 - ab))


def _h_sign_flipped(ab, abp):
    return formulas.half_log_snr(ab) - formulas.half_log_snr(abp)


def _h_no_sqrt_below(ab, abp):
    return torch.log(abp.sqrt() / (1 - abp)) - torch.log(ab.sqrt() / (1 - ab))


def _h_sqrt_misplaced(ab, abp):
    def lam(a):
        return torch.log(a.sqrt() / (1 - a.sqrt()))
    return lam(abp) - lam(ab)


register(Exercise(
    name="step_h", chapter=9,
    signature="step_h(alpha_bar_t, alpha_bar_prev) -> h",
    reference=_h_reference, cases=_h_cases,
    mistakes=(mistake("h_full_log_snr", _h_full_log_snr), mistake("h_sign_flipped", _h_sign_flipped),
              mistake("lambda_no_sqrt_below", _h_no_sqrt_below), mistake("lambda_sqrt_misplaced", _h_sqrt_misplaced)),
    doc="h = λ(ᾱ_prev) − λ(ᾱ_t), λ = log(√ᾱ/√(1 − ᾱ)) (DPM-Solver's λ, half the log-SNR)",
))


# ------------------------------------------------------------------------------------------ 9.2 dpm_pp_2m_step

def _2m_reference(x_t, x0_hat, x0_hat_last, alpha_bar_last, alpha_bar_t, alpha_bar_prev):
    return samplers.dpm_solver_pp_2m_step(x_t, x0_hat, alpha_bar_t, alpha_bar_prev, x0_hat_last, alpha_bar_last)


def _2m_cases():
    x, d, d_last = _randn((3, 1, 4, 4), 0), _randn((3, 1, 4, 4), 1, scale=0.5), _randn((3, 1, 4, 4), 2, scale=0.5)
    return [Case((x, d, d_last, _ab(999), _ab(899), _ab(799)), "steps 999 → 899 → 799",
                 label_zh="步 999 → 899 → 799"),
            Case((x, d, d_last, _ab(600), _ab(500), _ab(300)), "unequal steps 600 → 500 → 300 (r ≠ 1)",
                 label_zh="不等长的步 600 → 500 → 300（r ≠ 1）"),
            Case((x, d, d_last, _ab(120), _ab(60), _ab(20)), "near the data 120 → 60 → 20",
                 label_zh="接近数据 120 → 60 → 20"),
            Case((x.float(), d.float(), d_last.float(), _ab(300), _ab(200), _ab(100)), "float32 batch, 300 → 200 → 100",
                 label_zh="float32 批次，300 → 200 → 100")]


def _2m_parts(ab_last, ab, abp):
    lam = formulas.half_log_snr
    h, h_last = lam(abp) - lam(ab), lam(ab) - lam(ab_last)
    return h, h_last, ((1 - abp) / (1 - ab)).sqrt(), abp.sqrt()


def _2m_r_inverted(x_t, x0_hat, x0_hat_last, ab_last, ab, abp):
    h, h_last, ratio, a = _2m_parts(ab_last, ab, abp)
    r = h / h_last
    return ratio * x_t + a * (1 - torch.exp(-h)) * ((1 + 1 / (2 * r)) * x0_hat - 1 / (2 * r) * x0_hat_last)


def _2m_swapped(x_t, x0_hat, x0_hat_last, ab_last, ab, abp):
    return _2m_reference(x_t, x0_hat_last, x0_hat, ab_last, ab, abp)


def _2m_exp_plus_h(x_t, x0_hat, x0_hat_last, ab_last, ab, abp):
    h, h_last, ratio, a = _2m_parts(ab_last, ab, abp)
    r = h_last / h
    return ratio * x_t + a * (1 - torch.exp(h)) * ((1 + 1 / (2 * r)) * x0_hat - 1 / (2 * r) * x0_hat_last)


def _2m_first_order(x_t, x0_hat, x0_hat_last, ab_last, ab, abp):
    return samplers.dpm_solver_pp_2m_step(x_t, x0_hat, ab, abp)


def _2m_extrapolation_sign(x_t, x0_hat, x0_hat_last, ab_last, ab, abp):
    h, h_last, ratio, a = _2m_parts(ab_last, ab, abp)
    r = h_last / h
    return ratio * x_t + a * (1 - torch.exp(-h)) * ((1 - 1 / (2 * r)) * x0_hat + 1 / (2 * r) * x0_hat_last)


def _2m_signal_ratio(x_t, x0_hat, x0_hat_last, ab_last, ab, abp):
    h, h_last, _, a = _2m_parts(ab_last, ab, abp)
    r = h_last / h
    return (abp / ab).sqrt() * x_t + a * (1 - torch.exp(-h)) * ((1 + 1 / (2 * r)) * x0_hat - 1 / (2 * r) * x0_hat_last)


register(Exercise(
    name="dpm_pp_2m_step", chapter=9,
    signature="dpm_pp_2m_step(x_t, x0_hat, x0_hat_last, alpha_bar_last, alpha_bar_t, alpha_bar_prev) -> x_prev",
    reference=_2m_reference, cases=_2m_cases,
    mistakes=(mistake("r_inverted", _2m_r_inverted), mistake("x0_hats_swapped", _2m_swapped),
              mistake("exp_plus_h", _2m_exp_plus_h), mistake("first_order_only", _2m_first_order),
              mistake("extrapolation_sign", _2m_extrapolation_sign), mistake("signal_ratio_on_x", _2m_signal_ratio)),
    doc="DPM-Solver++(2M): x_prev = √((1 − ᾱ_prev)/(1 − ᾱ_t)) x_t + √ᾱ_prev (1 − e^(−h)) D, "
        "D = (1 + 1/(2r)) x̂₀ − x̂₀_last/(2r)",
))


# ------------------------------------------------------------------------------------------ 9.3 karras_sigmas

def _karras_reference(sigma_min, sigma_max, n, rho=7.0):
    i = torch.linspace(0, 1, n, dtype=_F64)
    grid = (sigma_max ** (1 / rho) + i * (sigma_min ** (1 / rho) - sigma_max ** (1 / rho))) ** rho
    return torch.cat([grid, torch.zeros(1, dtype=_F64)])


def _karras_cases():
    sig = formulas.ode_sigma(_SCHEDULE.alpha_bars)
    smin, smax = float(sig[0]), float(sig[-1])
    return [Case((smin, smax, 10), "the course's schedule, 10 levels", label_zh="本课程的噪声调度，10 个噪声水平"),
            Case((0.002, 80.0, 18), "Karras et al.'s range 0.002 … 80, 18 levels",
                 label_zh="Karras 等人的范围 0.002 … 80，18 个噪声水平"),
            Case((smin, smax, 5, 3.0), "ρ = 3, 5 levels", label_zh="ρ = 3，5 个噪声水平")]


def _karras_linear(sigma_min, sigma_max, n, rho=7.0):
    return torch.cat([torch.linspace(sigma_max, sigma_min, n, dtype=_F64), torch.zeros(1, dtype=_F64)])


def _karras_rho_inverted(sigma_min, sigma_max, n, rho=7.0):
    return _karras_reference(sigma_min, sigma_max, n, 1 / rho)


def _karras_ascending(sigma_min, sigma_max, n, rho=7.0):
    return torch.cat([_karras_reference(sigma_min, sigma_max, n, rho)[:-1].flip(0), torch.zeros(1, dtype=_F64)])


def _karras_no_zero(sigma_min, sigma_max, n, rho=7.0):
    return _karras_reference(sigma_min, sigma_max, n, rho)[:-1]


def _karras_compare(got, want):
    """As the checker's own comparison, except that a grid one value short is a wrong answer (so that the mistake
    of leaving out the final 0 can be named), not a wrong shape."""
    if isinstance(got, torch.Tensor) and isinstance(want, torch.Tensor) and got.dim() == want.dim() == 1 \
            and len(got) == len(want) - 1:
        return tr("reason.values", n=len(got), m=len(want))
    d = _diff(got, want)
    return None if d is None else d[0]


def _karras_i_over_n(sigma_min, sigma_max, n, rho=7.0):
    i = torch.arange(n, dtype=_F64) / n
    grid = (sigma_max ** (1 / rho) + i * (sigma_min ** (1 / rho) - sigma_max ** (1 / rho))) ** rho
    return torch.cat([grid, torch.zeros(1, dtype=_F64)])


def _karras_rho_ignored(sigma_min, sigma_max, n, rho=7.0):
    return _karras_reference(sigma_min, sigma_max, n, 7.0)


def _karras_parenthesis(sigma_min, sigma_max, n, rho=7.0):
    i = torch.linspace(0, 1, n, dtype=_F64)
    grid = sigma_max ** (1 / rho) + (i * (sigma_min ** (1 / rho) - sigma_max ** (1 / rho))) ** rho
    return torch.cat([grid, torch.zeros(1, dtype=_F64)])


register(Exercise(
    name="karras_sigmas", chapter=9,
    signature="karras_sigmas(sigma_min, sigma_max, n, rho=7.0) -> tensor of n + 1 sigmas, the last 0",
    reference=_karras_reference, cases=_karras_cases, compare=_karras_compare,
    mistakes=(mistake("sigma_spaced_linearly", _karras_linear), mistake("rho_inverted", _karras_rho_inverted),
              mistake("grid_ascending", _karras_ascending), mistake("grid_without_final_zero", _karras_no_zero),
              mistake("karras_i_over_n", _karras_i_over_n), mistake("rho_ignored", _karras_rho_ignored),
              mistake("karras_power_misplaced", _karras_parenthesis)),
    doc="σ_i = (σ_max^(1/ρ) + i/(n−1) (σ_min^(1/ρ) − σ_max^(1/ρ)))^ρ, then 0 (Karras et al. 2022, eq. 5)",
))
