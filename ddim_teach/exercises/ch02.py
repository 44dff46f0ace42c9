"""Chapter 2 exercises: DDPM's posterior q(x_{t-1} | x_t, x_0), one ancestral step, and L_simple.

Every step is written for any pair t -> t_prev of the timestep list, as :mod:`ddim_teach.samplers` does: the step's own
β = 1 − ᾱ_t/ᾱ_prev and α = ᾱ_t/ᾱ_prev (DDPM's one-step β_t and α_t when t_prev = t − 1). ``alpha_bar`` is DDPM's ᾱ
(the DDIM paper's α). Scalars are 0-dim float64 tensors, as ``samplers.sample`` passes them. The references are
:func:`ddim_teach.formulas.posterior_mean` and :func:`~ddim_teach.formulas.posterior_variance`,
:func:`ddim_teach.samplers.ddpm_step` and :func:`ddim_teach.elbo.l_simple`.
"""
from __future__ import annotations

import torch

from .. import elbo, formulas, samplers
from ..mistakes import get as named, register as mistake
from ..oracles import GaussianOracle
from . import Case, Exercise, register
from ._cases import F64 as _F64, ONE as _ONE, SCHEDULE as _S, alpha_bar as _ab


def _pairs():
    """(label, label_zh, ᾱ_t, ᾱ_prev): one step, the noisiest step, long skips, the last step (ᾱ_prev = 1)."""
    return [("t = 400 → 399", "t = 400 → 399", _ab(400), _ab(399)),
            ("t = 10 → 9", "t = 10 → 9", _ab(10), _ab(9)),
            ("t = 999 → 998", "t = 999 → 998", _ab(999), _ab(998)),
            ("a skip of 100: t = 999 → 899", "跳过 100 步：t = 999 → 899", _ab(999), _ab(899)),
            ("a skip of 200: t = 250 → 50", "跳过 200 步：t = 250 → 50", _ab(250), _ab(50)),
            ("last step: t = 0 → ᾱ_prev = 1", "最后一步：t = 0 → ᾱ_prev = 1", _ab(0), _ONE)]


# ------------------------------------------------------------------------------------------ 2.1 posterior_mean

def _mean_cases():
    g = torch.Generator().manual_seed(21)
    x0 = torch.rand(3, 1, 4, 4, generator=g, dtype=_F64) * 2 - 1
    x_t = torch.randn(3, 1, 4, 4, generator=g, dtype=_F64)
    cases = [Case((x0, x_t, ab, abp), label, label_zh=label_zh) for label, label_zh, ab, abp in _pairs()]
    cases.append(Case((x0.float(), x_t.float(), _ab(600), _ab(550)), "float32 batch, t = 600 → 550",
                      label_zh="float32 批次，t = 600 → 550"))
    return cases


def _mean_reference(x0, x_t, alpha_bar_t, alpha_bar_prev):
    return formulas.posterior_mean(x_t, x0, alpha_bar_t, alpha_bar_prev)     # the exercise takes x0 first


def _mu(x0, x_t, c0, ct):
    return c0 * x0 + ct * x_t


def _mean_alpha_bar_for_alpha(x0, x_t, ab, abp):
    beta = 1 - ab / abp
    return _mu(x0, x_t, abp.sqrt() * beta / (1 - ab), ab.sqrt() * (1 - abp) / (1 - ab))


def _mean_alpha_for_alpha_bar(x0, x_t, ab, abp):
    alpha = ab / abp
    beta = 1 - alpha
    return _mu(x0, x_t, abp.sqrt() * beta / (1 - alpha), alpha.sqrt() * (1 - abp) / (1 - alpha))


def _mean_no_sqrt_alpha(x0, x_t, ab, abp):
    beta = 1 - ab / abp
    return _mu(x0, x_t, abp.sqrt() * beta / (1 - ab), (1 - beta) * (1 - abp) / (1 - ab))


def _mean_no_sqrt_alpha_bar_prev(x0, x_t, ab, abp):
    beta = 1 - ab / abp
    return _mu(x0, x_t, abp * beta / (1 - ab), (1 - beta).sqrt() * (1 - abp) / (1 - ab))


def _mean_cumulative_beta(x0, x_t, ab, abp):
    alpha = ab / abp
    return _mu(x0, x_t, abp.sqrt() * (1 - ab) / (1 - ab), alpha.sqrt() * (1 - abp) / (1 - ab))


def _mean_swapped(x0, x_t, ab, abp):
    beta = 1 - ab / abp
    return _mu(x_t, x0, abp.sqrt() * beta / (1 - ab), (1 - beta).sqrt() * (1 - abp) / (1 - ab))


def _mean_alpha_t_as_alpha_bar(x0, x_t, ab, abp):
    alpha = ab                                   # the formula's one-step α read as ᾱ_t, so β = 1 − ᾱ_t
    return (abp.sqrt() * (1 - alpha) / (1 - ab)) * x0 + (alpha.sqrt() * (1 - abp) / (1 - ab)) * x_t


register(Exercise(
    name="posterior_mean", chapter=2,
    signature="posterior_mean(x0, x_t, alpha_bar_t, alpha_bar_prev) -> mu_tilde (shape and dtype of x0)",
    reference=_mean_reference,
    cases=_mean_cases,
    mistakes=(
        mistake("alpha_bar_for_alpha", _mean_alpha_bar_for_alpha),
        mistake("posterior_mean_alpha_for_alpha_bar", _mean_alpha_for_alpha_bar),
        mistake("no_sqrt_alpha", _mean_no_sqrt_alpha),
        mistake("no_sqrt_alpha_bar_prev", _mean_no_sqrt_alpha_bar_prev),
        mistake("posterior_mean_cumulative_beta", _mean_cumulative_beta),
        mistake("posterior_mean_x0_x_t_swapped", _mean_swapped),
        mistake("posterior_mean_alpha_is_alpha_bar", _mean_alpha_t_as_alpha_bar),
    ),
    doc="μ̃ = √ᾱ_prev β/(1 − ᾱ_t) x₀ + √α (1 − ᾱ_prev)/(1 − ᾱ_t) x_t, α = ᾱ_t/ᾱ_prev, β = 1 − α (DDPM eq. 7).",
))


# ------------------------------------------------------------------------------------------ 2.2 posterior_variance

def _var_cases():
    return [Case((ab, abp), label, label_zh=label_zh) for label, label_zh, ab, abp in _pairs()]


def _var_fixed_large(ab, abp):
    return 1 - ab / abp


def _var_std(ab, abp):
    return ((1 - abp) / (1 - ab) * (1 - ab / abp)).sqrt()


def _var_inverted(ab, abp):
    return (1 - ab) / (1 - abp) * (1 - ab / abp)


def _var_cumulative_beta(ab, abp):
    return (1 - abp) / (1 - ab) * (1 - ab)


register(Exercise(
    name="posterior_variance", chapter=2,
    signature="posterior_variance(alpha_bar_t, alpha_bar_prev) -> beta_tilde (0-dim float64 tensor)",
    reference=formulas.posterior_variance,
    cases=_var_cases,
    mistakes=(
        mistake("posterior_variance_fixed_large", _var_fixed_large),
        mistake("std_for_variance", _var_std),
        mistake("inverted_ratio", _var_inverted),
        mistake("posterior_variance_cumulative_beta", _var_cumulative_beta),
    ),
    doc="β̃ = (1 − ᾱ_prev)/(1 − ᾱ_t) · β, β = 1 − ᾱ_t/ᾱ_prev (DDPM eq. 7); 0 at the last step.",
))


# ------------------------------------------------------------------------------------------ 2.3 ddpm_step

def _step_cases():
    g = torch.Generator().manual_seed(23)
    x_t = torch.randn(3, 1, 4, 4, generator=g, dtype=_F64)
    eps = torch.randn(3, 1, 4, 4, generator=g, dtype=_F64)
    z = torch.randn(3, 1, 4, 4, generator=g, dtype=_F64)
    cases = [Case((x_t, eps, ab, abp, z), label, label_zh=label_zh) for label, label_zh, ab, abp in _pairs()]
    cases.append(Case((x_t.float(), eps.float(), _ab(600), _ab(550), z.float()), "float32 batch, t = 600 → 550",
                      label_zh="float32 批次，t = 600 → 550"))
    return cases


def _step_reference(x_t, eps_hat, alpha_bar_t, alpha_bar_prev, noise):
    return samplers.ddpm_step(x_t, eps_hat, alpha_bar_t, alpha_bar_prev, "fixed_small", noise)


def _ddpm(x_t, eps_hat, ab, abp, noise, *, x0_ab=None, var=None, scale=None, add_noise=True):
    """The DDPM step with one part swapped for a wrong one (for the mistakes below)."""
    beta = 1 - ab / abp
    a = ab if x0_ab is None else x0_ab
    x0_hat = (x_t - (1 - a).sqrt() * eps_hat) / a.sqrt()
    mean = abp.sqrt() * beta / (1 - ab) * x0_hat + (1 - beta).sqrt() * (1 - abp) / (1 - ab) * x_t
    v = (1 - abp) / (1 - ab) * beta if var is None else var
    s = v.sqrt() if scale is None else scale
    return mean + s * noise if add_noise else mean


def _step_alpha_for_alpha_bar(x_t, eps_hat, ab, abp, noise):
    return _ddpm(x_t, eps_hat, ab, abp, noise, x0_ab=ab / abp)


def _step_fixed_large(x_t, eps_hat, ab, abp, noise):
    return _ddpm(x_t, eps_hat, ab, abp, noise, var=1 - ab / abp)


def _step_variance_for_std(x_t, eps_hat, ab, abp, noise):
    return _ddpm(x_t, eps_hat, ab, abp, noise, scale=(1 - abp) / (1 - ab) * (1 - ab / abp))


def _step_no_noise(x_t, eps_hat, ab, abp, noise):
    return _ddpm(x_t, eps_hat, ab, abp, noise, add_noise=False)


def _step_eq11_no_sqrt(x_t, eps_hat, ab, abp, noise):
    alpha = ab / abp
    mean = (x_t - (1 - alpha) / (1 - ab) * eps_hat) / alpha.sqrt()
    return mean + formulas.posterior_variance(ab, abp).sqrt() * noise


register(Exercise(
    name="ddpm_step", chapter=2,
    signature="ddpm_step(x_t, eps_hat, alpha_bar_t, alpha_bar_prev, noise) -> x_prev or (x_prev, x0_hat)",
    reference=_step_reference,
    cases=_step_cases,
    mistakes=(
        mistake("ddpm_step_alpha_for_alpha_bar", _step_alpha_for_alpha_bar),
        mistake("ddpm_step_fixed_large", _step_fixed_large),
        mistake("ddpm_step_variance_for_std", _step_variance_for_std),
        named("returns_x0_hat"),
        mistake("no_noise", _step_no_noise),
        mistake("eq11_no_sqrt", _step_eq11_no_sqrt),
    ),
    output="first",
    doc="x̂₀ = (x_t − √(1 − ᾱ_t) ε̂)/√ᾱ_t, then x_prev = μ̃(x̂₀, x_t) + √β̃ z (DDPM eqs. 6–7, 15; fixed_small).",
))


# ------------------------------------------------------------------------------------------ 2.4 l_simple

def _loss_cases():
    oracle = GaussianOracle(_S, mu=0.0, s=0.5)
    g = torch.Generator().manual_seed(24)
    x0 = 0.5 * torch.randn(6, 1, 4, 4, generator=g, dtype=_F64)
    eps = torch.randn(6, 1, 4, 4, generator=g, dtype=_F64)
    t = torch.tensor([0, 10, 200, 500, 800, 999])
    return [Case((oracle, x0, t, eps, _S.alpha_bars), "exact Gaussian ε-model, t = 0 … 999", label_zh="精确的高斯 ε 模型，t = 0 … 999"),
            Case((oracle, x0[:2], torch.tensor([300, 300]), eps[:2], _S.alpha_bars), "two images at t = 300", label_zh="两张图像，t = 300"),
            Case((oracle, x0.float(), t.flip(0), eps.float(), _S.alpha_bars), "float32 batch", label_zh="float32 批次")]


def _loss_x0_target(model, x0, t, noise, alpha_bars):
    ab = alpha_bars[t].to(x0.dtype).reshape(-1, *([1] * (x0.dim() - 1)))
    x_t = ab.sqrt() * x0 + (1 - ab).sqrt() * noise
    return ((model(x_t, t) - x0) ** 2).mean()


def _loss_no_sqrt(model, x0, t, noise, alpha_bars):
    ab = alpha_bars[t].to(x0.dtype).reshape(-1, *([1] * (x0.dim() - 1)))
    x_t = ab * x0 + (1 - ab) * noise
    return ((model(x_t, t) - noise) ** 2).mean()


def _loss_one_based(model, x0, t, noise, alpha_bars):
    return elbo.l_simple(model, x0, t, noise, alpha_bars[torch.arange(len(alpha_bars)) - 1])


def _loss_sum(model, x0, t, noise, alpha_bars):
    return elbo.l_simple(model, x0, t, noise, alpha_bars) * x0[0].numel()


def _loss_model_on_x0(model, x0, t, noise, alpha_bars):
    return ((model(x0, t) - noise) ** 2).mean()


register(Exercise(
    name="l_simple", chapter=2,
    signature="l_simple(model, x0, t, noise, alpha_bars) -> 0-dim tensor (mean over all elements)",
    reference=elbo.l_simple,
    cases=_loss_cases,
    mistakes=(
        mistake("x0_target", _loss_x0_target),
        mistake("l_simple_no_sqrt", _loss_no_sqrt),
        mistake("l_simple_one_based", _loss_one_based),
        mistake("sum_not_mean", _loss_sum),
        mistake("model_on_x0", _loss_model_on_x0),
    ),
    doc="x_t = √ᾱ_t x₀ + √(1 − ᾱ_t) ε per image, then the mean of (ε − ε_θ(x_t, t))² (DDPM eq. 14).",
))
