"""The probability-flow ODE behind DDIM (DDIM paper, Sec. 4.3, eqs. 13-14).

Here ``alpha_bar`` is DDPM's ᾱ_t, which the DDIM paper calls α_t. Change variables to

    x̄ = x / sqrt(ᾱ)        and        σ = sqrt(1 - ᾱ) / sqrt(ᾱ)        (DDIM's "σ" in eq. 14)

and the deterministic DDIM sampler becomes the ODE (DDIM eq. 14, in the limit of small steps)

    dx̄ / dσ = ε(x̄ / sqrt(1 + σ²), t(σ)).

The DDIM update with η = 0 (eq. 12) is *exactly* one Euler step of this ODE from σ_t to σ_prev:

    x̄_prev = x̄_t + (σ_prev - σ_t) · ε̂(x_t, t)

(:func:`euler_step`; tests check it against :func:`ddim_teach.samplers.ddim_step` to rounding error).
A second model call at the Euler point gives Heun's method (:func:`heun_step`, Karras et al. 2022, Alg. 1),
second order in the step size. ``samplers.sample(..., method="heun")`` runs it in the same loop as DDIM.
"""
from __future__ import annotations

import numbers

import torch


def _ab(alpha_bar) -> torch.Tensor:
    """alpha_bar as a float64 tensor (a scalar, or a tensor that broadcasts against x), checked to lie in (0, 1]."""
    if isinstance(alpha_bar, bool) or not isinstance(alpha_bar, (numbers.Real, torch.Tensor)):
        raise TypeError(f"alpha_bar must be a number or a tensor, got {type(alpha_bar).__name__}")
    ab = torch.as_tensor(alpha_bar, dtype=torch.float64)
    if ab.device.type != "meta" and not bool(((ab > 0) & (ab <= 1)).all()):
        raise ValueError(f"alpha_bar must lie in (0, 1], got {ab.flatten()[:6].tolist()} (at alpha_bar = 0, zero "
                         "terminal SNR, the ODE's sigma is infinite)")
    return ab


def _check_like(x, eps, name):
    if not isinstance(x, torch.Tensor) or not isinstance(eps, torch.Tensor) or x.shape != eps.shape:
        def shape(v):
            return tuple(v.shape) if isinstance(v, torch.Tensor) else type(v).__name__
        raise ValueError(f"x_t and {name} must be tensors of the same shape, got {shape(x)} and {shape(eps)}")


def ode_sigma(alpha_bar) -> torch.Tensor:
    """σ = sqrt(1 - ᾱ) / sqrt(ᾱ): the ODE's time variable (0 at ᾱ = 1, the data end)."""
    ab = _ab(alpha_bar)
    return ((1 - ab) / ab).sqrt()


def to_ode(x: torch.Tensor, alpha_bar) -> torch.Tensor:
    """x̄ = x / sqrt(ᾱ)."""
    return x / _ab(alpha_bar).sqrt()


def from_ode(x_bar: torch.Tensor, alpha_bar) -> torch.Tensor:
    """x = sqrt(ᾱ) · x̄."""
    return x_bar * _ab(alpha_bar).sqrt()


def euler_step(x_t, eps_hat, alpha_bar_t, alpha_bar_prev) -> torch.Tensor:
    """One Euler step of the ODE from σ_t to σ_prev: the same number as DDIM eq. 12 with η = 0."""
    _check_like(x_t, eps_hat, "eps_hat")
    h = ode_sigma(alpha_bar_prev) - ode_sigma(alpha_bar_t)
    return from_ode(to_ode(x_t, alpha_bar_t) + h * eps_hat, alpha_bar_prev)


def heun_step(x_t, eps_hat, alpha_bar_t, alpha_bar_prev, eps_hat_prev) -> torch.Tensor:
    """Heun's step: the trapezoid of ε̂ at t and ``eps_hat_prev`` = ε̂(Euler point, t_prev).

    The caller evaluates the model at ``euler_step(...)`` and t_prev. At the last step (ᾱ_prev = 1,
    no timestep to evaluate) the loop takes the Euler step instead, as Karras et al. do when σ_next = 0.
    """
    _check_like(x_t, eps_hat, "eps_hat")
    _check_like(x_t, eps_hat_prev, "eps_hat_prev")
    h = ode_sigma(alpha_bar_prev) - ode_sigma(alpha_bar_t)
    return from_ode(to_ode(x_t, alpha_bar_t) + h * (eps_hat + eps_hat_prev) / 2, alpha_bar_prev)


def velocity(model, x: torch.Tensor, t: int) -> torch.Tensor:
    """dx̄/dσ at (x, t): the network's ε̂ (an ε-predicting model). With the exact ε of an oracle this is the
    true flow field. ``t`` is one integer timestep; the model gets it as a LongTensor (B,) on x's device."""
    from .samplers import call_model  # samplers imports this module
    from .schedules import _as_timesteps
    t = _as_timesteps(t, "t")
    if t.dim() != 0:
        raise ValueError(f"t must be a single integer timestep, got shape {tuple(t.shape)}")
    if not isinstance(x, torch.Tensor) or not x.is_floating_point() or x.dim() < 2:
        raise ValueError(f"x must be a floating-point batch of shape (B, ...), got "
                         f"{tuple(x.shape) if isinstance(x, torch.Tensor) else type(x).__name__}")
    with torch.no_grad():
        return call_model(model, x, int(t), "velocity")
