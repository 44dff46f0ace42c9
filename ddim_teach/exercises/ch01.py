"""Chapter 1 exercises: the forward process (ᾱ from the β's, q_sample, the SNR).

Notation as in the package: ``alphas`` is DDPM's one-step α_t = 1 − β_t, ``alpha_bars`` DDPM's cumulative ᾱ_t (the DDIM
paper's α_t). Scalars are 0-dim float64 tensors, as ``samplers.sample`` passes them.
"""
from __future__ import annotations

import torch

from .. import schedules
from . import Case, Exercise, Mistake, register

_F64 = torch.float64


# ------------------------------------------------------------------------------------------ 1.1 alpha_bar_from_betas

def _betas_cases():
    return [Case((schedules.make_betas("linear", 1000),), "linear T = 1000", label_zh="linear，T = 1000"),
            Case((schedules.make_betas("cosine", 1000),), "cosine T = 1000", label_zh="cosine，T = 1000"),
            Case((schedules.make_betas("scaled_linear", 50),), "scaled_linear T = 50", label_zh="scaled_linear，T = 50"),
            Case((torch.tensor([0.1, 0.2, 0.3, 0.4, 0.5], dtype=_F64),), "five large betas", label_zh="五个较大的 β")]


def _ab_reference(betas):
    return schedules.Schedule(betas).alpha_bars


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
    reference=_ab_reference,
    cases=_betas_cases,
    mistakes=(
        Mistake("cumprod_betas", "the product of the β's (not of the α's)",
                "each step keeps a fraction α_s = 1 − β_s of the signal variance; ᾱ_t multiplies those fractions",
                _ab_cumprod_betas,
                label_zh="β 的连乘（而不是 α 的连乘）",
                hint_zh="每一步保留信号方差的比例 α_s = 1 − β_s；ᾱ_t 是这些比例的乘积"),
        Mistake("alpha_for_alpha_bar", "DDPM's one-step α_t = 1 − β_t returned where the cumulative ᾱ_t is meant",
                "ᾱ_t is the signal variance left after all steps s ≤ t, not after step t alone", _ab_one_step,
                label_zh="返回了 DDPM 的单步 α_t = 1 − β_t，而要求的是累积的 ᾱ_t",
                hint_zh="ᾱ_t 是经过所有 s ≤ t 的步之后剩下的信号方差，而不只是第 t 步之后的"),
        Mistake("shifted", "off by one: ᾱ_{t−1} (starting at 1) instead of ᾱ_t",
                "the product runs over s ≤ t, so it includes step t itself; alpha_bars[0] = 1 − β_0", _ab_shifted,
                label_zh="差一位：ᾱ_{t−1}（从 1 开始）而不是 ᾱ_t",
                hint_zh="乘积取遍 s ≤ t，包括第 t 步本身；alpha_bars[0] = 1 − β_0"),
        Mistake("one_minus_cumsum", "1 − Σβ (the first-order approximation)",
                "the fractions multiply; 1 − Σβ is only their first-order approximation and turns negative",
                _ab_one_minus_cumsum,
                label_zh="1 − Σβ（一阶近似）",
                hint_zh="各比例是相乘的；1 − Σβ 只是它的一阶近似，而且会变成负数"),
        Mistake("sqrt", "an extra square root: √ᾱ_t (the signal's amplitude) instead of ᾱ_t (its variance)",
                "ᾱ_t is the product of the α_s themselves, without a square root", _ab_sqrt,
                label_zh="多了一个平方根：√ᾱ_t（信号的幅度）而不是 ᾱ_t（信号的方差）",
                hint_zh="ᾱ_t 是各 α_s 本身的乘积，不开平方"),
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
    # a one-step schedule whose alpha_bars[0] is alpha_bar_t, so that Schedule.q_sample (DDPM eq. 4) does the work
    return schedules.Schedule((1 - alpha_bar_t).reshape(1)).q_sample(x0, 0, noise)


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


register(Exercise(
    name="q_sample", chapter=1,
    signature="q_sample(x0, alpha_bar_t, noise) -> x_t (same shape and dtype as x0)",
    reference=_q_reference,
    cases=_q_cases,
    mistakes=(
        Mistake("no_sqrt", "missing square roots: ᾱ_t x₀ + (1 − ᾱ_t) ε",
                "ᾱ_t and 1 − ᾱ_t are variances; a Gaussian is scaled by its standard deviation", _q_no_sqrt,
                label_zh="缺少平方根：ᾱ_t x₀ + (1 − ᾱ_t) ε",
                hint_zh="ᾱ_t 和 1 − ᾱ_t 是方差；缩放高斯变量用的是它的标准差"),
        Mistake("swapped", "the two coefficients swapped", "at t = 0 (ᾱ ≈ 1), x_t must be ≈ x₀", _q_swapped,
                label_zh="两个系数互换了", hint_zh="在 t = 0（ᾱ ≈ 1）时，x_t 必须 ≈ x₀"),
        Mistake("amplitude_complement", "1 − √ᾱ_t as the noise's coefficient",
                "the variances add up to 1, not the amplitudes: (√ᾱ_t)² + (noise coefficient)² = 1",
                _q_amplitude_complement,
                label_zh="用 1 − √ᾱ_t 作为噪声的系数",
                hint_zh="加起来等于 1 的是方差而不是幅度：(√ᾱ_t)² + (噪声系数)² = 1"),
        Mistake("unscaled_noise", "the noise added at full scale (√ᾱ_t x₀ + ε)",
                "the noise's variance is 1 − ᾱ_t, so that x_t keeps unit variance", _q_unscaled_noise,
                label_zh="噪声没有缩放就加上了（√ᾱ_t x₀ + ε）",
                hint_zh="噪声的方差是 1 − ᾱ_t，这样 x_t 的方差保持为 1"),
        Mistake("unscaled_signal", "the signal not shrunk (x₀ + √(1 − ᾱ_t) ε)",
                "DDPM's forward process shrinks the signal by √ᾱ_t as it adds noise (variance preserving)",
                _q_unscaled_signal,
                label_zh="信号没有缩小（x₀ + √(1 − ᾱ_t) ε）",
                hint_zh="DDPM 的前向过程在加噪的同时把信号缩小 √ᾱ_t 倍（保持方差）"),
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


register(Exercise(
    name="snr", chapter=1,
    signature="snr(betas) -> SNR(t) for every t (float64 tensor, same length)",
    reference=_snr_reference,
    cases=_betas_cases,
    mistakes=(
        Mistake("alpha_bar_only", "ᾱ_t alone (the signal variance, not the ratio)",
                "SNR divides the signal variance by the noise variance", _snr_alpha_bar_only,
                label_zh="只有 ᾱ_t（信号方差，而不是比值）",
                hint_zh="SNR 是信号方差除以噪声方差"),
        Mistake("inverted", "noise over signal (1/SNR)", "the signal's variance goes on top", _snr_inverted,
                label_zh="噪声比信号（1/SNR）", hint_zh="信号的方差在分子上"),
        Mistake("amplitude", "the ratio of amplitudes √ᾱ_t/√(1 − ᾱ_t)",
                "SNR is a ratio of variances, not of standard deviations", _snr_amplitude,
                label_zh="幅度之比 √ᾱ_t/√(1 − ᾱ_t)",
                hint_zh="SNR 是方差之比，而不是标准差之比"),
        Mistake("alpha_for_alpha_bar", "DDPM's one-step α_t/β_t where the cumulative ᾱ_t is meant",
                "x_t's signal variance is ᾱ_t = ∏_{s≤t} α_s, and its noise variance 1 − ᾱ_t", _snr_one_step,
                label_zh="用了 DDPM 的单步 α_t/β_t，而要求的是累积的 ᾱ_t",
                hint_zh="x_t 的信号方差是 ᾱ_t = ∏_{s≤t} α_s，噪声方差是 1 − ᾱ_t"),
    ),
    doc="SNR(t) = ᾱ_t / (1 − ᾱ_t), with ᾱ_t = ∏_{s≤t} (1 − β_s) (Kingma et al. 2021).",
))
