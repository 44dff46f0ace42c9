"""The probability-flow ODE behind DDIM (DDIM paper, Sec. 4.3, eqs. 13-14).

Here ``alpha_bar`` is DDPM's ᾱ_t, which the DDIM paper calls α_t. Change variables to

    x̄ = x / sqrt(ᾱ)        and        σ = sqrt(1 - ᾱ) / sqrt(ᾱ)        (DDIM's "σ" in eq. 14)

and the deterministic DDIM sampler becomes the ODE (DDIM eq. 14, in the limit of small steps)

    dx̄ / dσ = ε(x̄ / sqrt(1 + σ²), t(σ)).

The DDIM update with η = 0 (eq. 12) is *exactly* one Euler step of this ODE from σ_t to σ_prev:

    x̄_prev = x̄_t + (σ_prev - σ_t) · ε̂(x_t, t)

(:func:`euler_step`; tests check it against :func:`ddim_teach.samplers.ddim_step` to rounding error).
The coordinates σ, x̄ are :func:`ddim_teach.formulas.ode_sigma`, :func:`~ddim_teach.formulas.to_ode` and
:func:`~ddim_teach.formulas.from_ode`, importable from here too.
:func:`euler_step_x` is the plain Euler step of the same ODE in x itself (notebook 9 compares the two).
A second model call at the Euler point gives Heun's method (:func:`heun_step`, Karras et al. 2022, Alg. 1),
second order in the step size. :func:`ddim_teach.samplers.sample_heun` is the loop.
"""
from __future__ import annotations

import torch

from . import checks
from .formulas import from_ode, ode_sigma, to_ode

__all__ = ["ode_sigma", "to_ode", "from_ode", "euler_step", "euler_step_x", "heun_step", "velocity"]


def euler_step(x_t, eps_hat, alpha_bar_t, alpha_bar_prev) -> torch.Tensor:
    """One Euler step of the ODE from σ_t to σ_prev: the same number as DDIM eq. 12 with η = 0."""
    checks.like(x_t, eps_hat=eps_hat)
    h = ode_sigma(alpha_bar_prev) - ode_sigma(alpha_bar_t)
    return from_ode(to_ode(x_t, alpha_bar_t) + h * eps_hat, alpha_bar_prev)


def euler_step_x(x_t, eps_hat, alpha_bar_t, alpha_bar_prev) -> torch.Tensor:
    """One *plain* Euler step of the same probability-flow ODE, in x rather than x̄ (for comparison with DDIM).

    The ODE of the variance-preserving SDE (Song et al. 2021b, eq. 13), dx/dt = -½ β(t) (x - ε̂/sqrt(1 - ᾱ)),
    timed by the noise clock τ = -log ᾱ (= ∫β dt, so dτ = β dt) reads dx/dτ = -½ (x - ε̂/sqrt(1 - ᾱ)). Euler from
    τ_t to τ_prev: x_prev = x_t + ½ log(ᾱ_prev/ᾱ_t) (x_t - ε̂/sqrt(1 - ᾱ_t)). It is exact where the velocity in x
    is constant (for N(0, I) data it is 0: ε̂ = sqrt(1 - ᾱ) x), while DDIM (:func:`euler_step`) is exact where
    x̂₀ is constant along the step. Another clock (t itself, λ) gives another Euler method."""
    checks.like(x_t, eps_hat=eps_hat)
    ab = checks.scalar_alpha_bar(alpha_bar_t, "alpha_bar_t", allow_zero=False, allow_one=False)
    abp = checks.scalar_alpha_bar(alpha_bar_prev, "alpha_bar_prev", allow_zero=False)
    checks.toward_less_noise(ab, abp, "in an Euler step")
    half_dtau = (0.5 * torch.log(abp / ab)).to(x_t.dtype)
    return x_t + half_dtau * (x_t - eps_hat / (1 - ab).sqrt().to(x_t.dtype))


def heun_step(x_t, eps_hat, alpha_bar_t, alpha_bar_prev, eps_hat_prev) -> torch.Tensor:
    """Heun's step: the trapezoid of ε̂ at t and ``eps_hat_prev`` = ε̂(Euler point, t_prev).

    The caller evaluates the model at ``euler_step(...)`` and t_prev. At the last step (ᾱ_prev = 1,
    no timestep to evaluate) the loop takes the Euler step instead, as Karras et al. do when σ_next = 0.
    """
    checks.like(x_t, eps_hat=eps_hat, eps_hat_prev=eps_hat_prev)
    h = ode_sigma(alpha_bar_prev) - ode_sigma(alpha_bar_t)
    return from_ode(to_ode(x_t, alpha_bar_t) + h * (eps_hat + eps_hat_prev) / 2, alpha_bar_prev)


def velocity(model, x: torch.Tensor, t: int) -> torch.Tensor:
    """dx̄/dσ at (x, t): the network's ε̂ (an ε-predicting model). With the exact ε of an oracle this is the
    true flow field. ``t`` is one integer timestep; the model gets it as a LongTensor (B,) on x's device."""
    t = checks.integer_timesteps(t, "t")
    if t.dim() != 0:
        raise ValueError(f"t must be a single integer timestep, got shape {tuple(t.shape)}")
    if t < 0:
        raise ValueError(f"t must be a timestep >= 0, got {int(t)}")
    if getattr(model, "prediction_type", "epsilon") != "epsilon":
        raise ValueError(f"velocity needs an eps-predicting model (the ODE's velocity is eps_hat); this one predicts "
                         f"{model.prediction_type!r}: wrap it in a denoiser.Denoiser and use its eps_hat")
    checks.model_input(model, x, "x")
    with torch.no_grad():
        out = model(x, torch.full((x.shape[0],), int(t), dtype=torch.long, device=x.device))
    return checks.model_output(out, x, f" at velocity (t={int(t)})")
