"""Broken DDIM updates, for the pitfalls clinic (notebook 8). Each is a mistake seen in circulating code.

Every function has :func:`ddim_teach.samplers.ddim_step`'s signature and plugs into
``samplers.sample(..., step_fn=...)``, so the clinic can show each bug's effect on real samples next to
the correct update. ``alpha_bar`` is DDPM's ᾱ (the DDIM paper's α). Do not use these for anything else.
"""
from __future__ import annotations

import torch

from .samplers import ddim_sigma, ddim_step, predict_x0


def alpha_for_alpha_bar(x_t, eps_hat, alpha_bar_t, alpha_bar_prev, eta=0.0, noise=None, **kw):
    """Bug: x̂₀ computed with the one-step α_t = ᾱ_t / ᾱ_prev where the cumulative ᾱ_t belongs
    (DDIM writes α for DDPM's ᾱ, and the two get swapped when porting code between the papers)."""
    alpha_one_step = alpha_bar_t / alpha_bar_prev
    x0_hat = (x_t - (1 - alpha_one_step).sqrt() * eps_hat) / alpha_one_step.sqrt()
    sigma = ddim_sigma(alpha_bar_t, alpha_bar_prev, eta)
    x_prev = alpha_bar_prev.sqrt() * x0_hat + (1 - alpha_bar_prev - sigma ** 2).clamp(min=0).sqrt() * eps_hat
    if noise is not None and sigma > 0:
        x_prev = x_prev + sigma * noise
    return x_prev, x0_hat


def variance_for_std(x_t, eps_hat, alpha_bar_t, alpha_bar_prev, eta=0.0, noise=None, **kw):
    """Bug: σ_t² multiplies the noise where σ_t belongs (a variance used as a standard deviation).
    σ < 1, so σ² is smaller still: too little fresh noise is added at every step."""
    sigma = ddim_sigma(alpha_bar_t, alpha_bar_prev, eta)
    return ddim_step(x_t, eps_hat, alpha_bar_t, alpha_bar_prev, eta, None if noise is None else sigma * noise, **kw)


def returns_x0_hat(x_t, eps_hat, alpha_bar_t, alpha_bar_prev, eta=0.0, noise=None, **kw):
    """Bug: the "update" returns x̂₀ itself, so the next step feeds a clean-looking image to a
    network told it is at a high noise level."""
    x0_hat = predict_x0(x_t, eps_hat, alpha_bar_t)
    return x0_hat, x0_hat


def wrapped_final_alpha_bar(alpha_bar_last: float):
    """Bug factory: at the final step ᾱ_prev is read as ``alpha_bars[t - stride]`` with t - stride < 0,
    and Python's negative index returns ᾱ at t = T-1 (≈ 0) instead of 1. Pass ``schedule.alpha_bars[-1]``."""
    wrapped = torch.as_tensor(alpha_bar_last, dtype=torch.float64)

    def step(x_t, eps_hat, alpha_bar_t, alpha_bar_prev, eta=0.0, noise=None, **kw):
        if float(alpha_bar_prev) == 1.0:
            alpha_bar_prev = wrapped
        return ddim_step(x_t, eps_hat, alpha_bar_t, alpha_bar_prev, eta, noise, **kw)
    return step


def ignores_time(model, t_fixed: int = 500):
    """Bug: a network whose time embedding is never used: every call sees the same t."""
    def wrapped(x, t):
        return model(x, torch.full_like(t, t_fixed))
    return wrapped
