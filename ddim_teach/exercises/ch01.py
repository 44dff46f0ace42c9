"""Chapter 1 exercises: the forward process (ᾱ from the β's, q_sample, the SNR).

Notation as in the package: ``alphas`` is DDPM's one-step α_t = 1 − β_t, ``alpha_bars`` DDPM's cumulative ᾱ_t (the DDIM
paper's α_t). Scalars are 0-dim float64 tensors, as ``samplers.sample`` passes them. The references are
:mod:`ddim_teach.formulas` (and the SNR of a :class:`~ddim_teach.schedules.Schedule`).
"""
from __future__ import annotations

import torch

from .. import formulas, schedules
from ..mistakes import register as mistake
from . import Case, Exercise, register

_F64 = torch.float64


# ------------------------------------------------------------------------------------------ 1.1 alpha_bar_from_betas

def _betas_cases():
    return [Case((schedules.make_betas("linear", 1000),), "linear T = 1000", label_zh="linear，T = 1000"),
            Case((schedules.make_betas("cosine", 1000),), "cosine T = 1000", label_zh="cosine，T = 1000"),
            Case((schedules.make_betas("scaled_linear", 50),), "scaled_linear T = 50", label_zh="scaled_linear，T = 50"),
            Case((torch.tensor([0.1, 0.2, 0.3, 0.4, 0.5], dtype=_F64),), "five large betas", label_zh="五个较大的 β")]


def _ab_cumprod_betas(betas):
    return torch.cumprod(betas, 0)


def _ab_one_step(betas):
    return 1 - betas


def _ab_shifted(betas):
    return torch.cat([torch.ones(1, dtype=betas.dtype), torch.cumprod(1 - betas, 0)[:-1]])


def _ab_one_minus_cumsum(betas):
    return 1 - torch.cumsum(betas, 0)


def _ab_sqrt(betas):
    return torch.cumprod(1 - betas, 0).sqrt()


register(Exercise(
    name="alpha_bar_from_betas", chapter=1,
    signature="alpha_bar_from_betas(betas) -> alpha_bars (float64 tensor, same length)",
    reference=formulas.alpha_bar_from_betas,
    cases=_betas_cases,
    mistakes=(
        mistake("cumprod_betas", _ab_cumprod_betas),
        mistake("alpha_bar_from_betas_alpha_for_alpha_bar", _ab_one_step),
        mistake("shifted", _ab_shifted),
        mistake("one_minus_cumsum", _ab_one_minus_cumsum),
        mistake("alpha_bar_from_betas_sqrt", _ab_sqrt),
    ),
    doc="ᾱ_t = ∏_{s≤t} (1 − β_s) for every t (DDPM eq. 4's notation).",
))


# ------------------------------------------------------------------------------------------ 1.2 q_sample

_LINEAR = schedules.make_schedule("linear", 1000)


def _q_cases():
    g = torch.Generator().manual_seed(11)
    x0 = torch.rand(4, 1, 5, 5, generator=g, dtype=_F64) * 2 - 1
    eps = torch.randn(4, 1, 5, 5, generator=g, dtype=_F64)
    ab = _LINEAR.alpha_bars
    return [Case((x0, ab[10], eps), "t = 10 (ᾱ ≈ 0.998)", label_zh="t = 10（ᾱ ≈ 0.998）"),
            Case((x0, ab[300], eps), "t = 300 (ᾱ ≈ 0.39)", label_zh="t = 300（ᾱ ≈ 0.39）"),
            Case((x0, ab[999], eps), "t = 999 (ᾱ ≈ 4e-5)", label_zh="t = 999（ᾱ ≈ 4e-5）"),
            Case((x0.float(), ab[500], eps.float()), "float32 batch, t = 500", label_zh="float32 批次，t = 500"),
            Case((x0[:1, 0, 0], torch.tensor(0.5, dtype=_F64), eps[:1, 0, 0]), "one row, ᾱ = 0.5", label_zh="一行，ᾱ = 0.5")]


def _q_reference(x0, alpha_bar_t, noise):
    return formulas.q_sample(x0, noise, alpha_bar_t)


def _q_no_sqrt(x0, ab, noise):
    return ab * x0 + (1 - ab) * noise


def _q_swapped(x0, ab, noise):
    return (1 - ab).sqrt() * x0 + ab.sqrt() * noise


def _q_amplitude_complement(x0, ab, noise):
    return ab.sqrt() * x0 + (1 - ab.sqrt()) * noise


def _q_unscaled_noise(x0, ab, noise):
    return ab.sqrt() * x0 + noise


def _q_unscaled_signal(x0, ab, noise):
    return x0 + (1 - ab).sqrt() * noise


def _q_noise_no_sqrt(x0, ab, noise):
    return ab.sqrt() * x0 + (1 - ab) * noise


def _q_signal_no_sqrt(x0, ab, noise):
    return ab * x0 + (1 - ab).sqrt() * noise


register(Exercise(
    name="q_sample", chapter=1,
    signature="q_sample(x0, alpha_bar_t, noise) -> x_t (same shape and dtype as x0)",
    reference=_q_reference,
    cases=_q_cases,
    mistakes=(
        mistake("q_sample_no_sqrt", _q_no_sqrt),
        mistake("q_sample_coefficients_swapped", _q_swapped),
        mistake("amplitude_complement", _q_amplitude_complement),
        mistake("unscaled_noise", _q_unscaled_noise),
        mistake("unscaled_signal", _q_unscaled_signal),
        mistake("q_sample_noise_no_sqrt", _q_noise_no_sqrt),
        mistake("q_sample_signal_no_sqrt", _q_signal_no_sqrt),
    ),
    doc="x_t = √ᾱ_t x₀ + √(1 − ᾱ_t) ε (DDPM eq. 4).",
))


# ------------------------------------------------------------------------------------------ 1.3 snr

def _snr_reference(betas):
    return schedules.Schedule(betas).snr


def _snr_alpha_bar_only(betas):
    return torch.cumprod(1 - betas, 0)


def _snr_inverted(betas):
    ab = torch.cumprod(1 - betas, 0)
    return (1 - ab) / ab


def _snr_amplitude(betas):
    ab = torch.cumprod(1 - betas, 0)
    return (ab / (1 - ab)).sqrt()


def _snr_one_step(betas):
    return (1 - betas) / betas


def _snr_log(betas):
    ab = formulas.alpha_bar_from_betas(betas)
    return torch.log(ab / (1 - ab))


register(Exercise(
    name="snr", chapter=1,
    signature="snr(betas) -> SNR(t) for every t (float64 tensor, same length)",
    reference=_snr_reference,
    cases=_betas_cases,
    mistakes=(
        mistake("alpha_bar_only", _snr_alpha_bar_only),
        mistake("inverted", _snr_inverted),
        mistake("amplitude", _snr_amplitude),
        mistake("snr_alpha_for_alpha_bar", _snr_one_step),
        mistake("snr_log", _snr_log),
    ),
    doc="SNR(t) = ᾱ_t / (1 − ᾱ_t), with ᾱ_t = ∏_{s≤t} (1 − β_s) (Kingma et al. 2021).",
))
