"""Broken DDIM steps, for the pitfalls clinic (notebook 8).

Each broken step is a mistake seen in circulating code, or a slip of the same kind. All have
:func:`ddim_teach.samplers.ddim_step`'s signature and take the keyword ``x0_hat`` that the sampler passes
(through ``**kw``), so they plug into ``samplers.sample(..., step_fn=...)`` and the clinic can show each bug's
effect on real samples next to the correct update. Together they are the catalogue of broken DDIM steps of
:mod:`ddim_teach.mistakes` (registered at the bottom of this module): the exercise checker names a wrong step
after them. (The detector that tells them apart by probing, exercise 8.3's answer, lives with the checker, out of
the student's way: ``ddim_teach.exercises.ch08``.) ``alpha_bar`` is DDPM's ᾱ (the DDIM
paper's α). Do not use these for anything else.
"""
from __future__ import annotations

import torch

from . import formulas, mistakes
from .formulas import ddim_sigma, predict_x0
from .samplers import ddim_step
from .schedules import make_schedule


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


# --- more broken steps, named by the DDIM step exercises (notebook 4 and exercises 8.1, 8.2) ---------------------
def _f64(a) -> torch.Tensor:
    return torch.as_tensor(a, dtype=torch.float64)


def direction_without_sigma(x_t, eps_hat, alpha_bar_t, alpha_bar_prev, eta=0.0, noise=None, **kw):
    """Bug: the direction pointing to x_t is √(1 − ᾱ_prev) ε̂, without the −σ_t² of eq. 12's
    √(1 − ᾱ_prev − σ_t²) ε̂; the noise σ_t z then comes on top, and x_prev has too much variance.
    The same as the correct step wherever σ_t = 0 (η = 0, the last step)."""
    ab, abp = _f64(alpha_bar_t), _f64(alpha_bar_prev)
    sigma = ddim_sigma(ab, abp, eta)
    x0_hat = predict_x0(x_t, eps_hat, ab)
    x_prev = abp.sqrt() * x0_hat + (1 - abp).sqrt() * eps_hat
    if noise is not None and sigma > 0:
        x_prev = x_prev + sigma * noise
    return x_prev, x0_hat


def direction_without_sqrt(x_t, eps_hat, alpha_bar_t, alpha_bar_prev, eta=0.0, noise=None, **kw):
    """Bug: the direction coefficient is (1 − ᾱ_prev − σ_t²), its square root forgotten: a variance used as
    a standard deviation, so the direction term is too small. The same as the correct step only at the
    last step (ᾱ_prev = 1, where the coefficient is 0 either way)."""
    ab, abp = _f64(alpha_bar_t), _f64(alpha_bar_prev)
    sigma = ddim_sigma(ab, abp, eta)
    x0_hat = predict_x0(x_t, eps_hat, ab)
    x_prev = abp.sqrt() * x0_hat + (1 - abp - sigma ** 2).clamp(min=0) * eps_hat
    if noise is not None and sigma > 0:
        x_prev = x_prev + sigma * noise
    return x_prev, x0_hat


def signal_without_sqrt(x_t, eps_hat, alpha_bar_t, alpha_bar_prev, eta=0.0, noise=None, **kw):
    """Bug: x̂₀ is scaled by ᾱ_prev where √ᾱ_prev belongs (the forward process scales x₀ by √ᾱ). The same
    as the correct step only at the last step (ᾱ_prev = 1)."""
    ab, abp = _f64(alpha_bar_t), _f64(alpha_bar_prev)
    sigma = ddim_sigma(ab, abp, eta)
    x0_hat = predict_x0(x_t, eps_hat, ab)
    x_prev = abp * x0_hat + (1 - abp - sigma ** 2).clamp(min=0).sqrt() * eps_hat
    if noise is not None and sigma > 0:
        x_prev = x_prev + sigma * noise
    return x_prev, x0_hat


def noise_dropped(x_t, eps_hat, alpha_bar_t, alpha_bar_prev, eta=0.0, noise=None, **kw):
    """Bug: the noise term removed, η ignored: the deterministic step (η = 0) whatever η is asked for.
    The same as the correct step at η = 0 and at the last step (σ_t = 0 there)."""
    return ddim_step(x_t, eps_hat, alpha_bar_t, alpha_bar_prev, 0.0, None, **kw)


def noise_at_full_level(x_t, eps_hat, alpha_bar_t, alpha_bar_prev, eta=0.0, noise=None, **kw):
    """Bug: the fresh noise is added as ``eta * sqrt(1 - alpha_bar_prev) * z`` while the direction term keeps σ_t
    of eq. 16 (half of :func:`mystery_step`'s slip, which uses that scale in both terms). The same
    as the correct step at η = 0 and at the last step (ᾱ_prev = 1); otherwise far too much noise."""
    x_prev, x0_hat = ddim_step(x_t, eps_hat, alpha_bar_t, alpha_bar_prev, eta, None, **kw)
    if noise is not None and eta > 0:
        x_prev = x_prev + eta * (1 - _f64(alpha_bar_prev)).sqrt() * noise
    return x_prev, x0_hat


def missing_sqrt_noise(x_t, eps_hat, alpha_bar_t, alpha_bar_prev, eta=0.0, noise=None, **kw):
    """Bug: x̂₀ computed with (1 − ᾱ_t) where √(1 − ᾱ_t) belongs: (x_t − (1 − ᾱ_t) ε̂) / √ᾱ_t. The rest of the
    step (eq. 12, σ_t from eq. 16) is right."""
    ab, abp = _f64(alpha_bar_t), _f64(alpha_bar_prev)
    sigma = ddim_sigma(ab, abp, eta)
    x0_hat = (x_t - (1 - ab) * eps_hat) / ab.sqrt()
    x_prev = formulas.ddim_mean(x0_hat, eps_hat, abp, sigma)
    if noise is not None:
        x_prev = x_prev + sigma * noise
    return x_prev, x0_hat


# --- the two mystery steps of exercises 8.1 and 8.2 ----------------------------------------------------------------
# Notebook 8 prints their source as puzzles, so their names and docstrings do not give the bug away. In the
# catalogue they are noise_scale_tutorial (the shortcut σ_t = η √(1 − ᾱ_prev), which drops eq. 16's first factor, used in
# the direction term and the noise alike) and x0_over_alpha_bar (x̂₀ divided by ᾱ_t instead of √ᾱ_t).
def mystery_step(x_t, eps_hat, alpha_bar_t, alpha_bar_prev, eta=0.0, noise=None):
    """A DDIM step, written compactly. Returns (x_prev, x0_hat). One line is wrong."""
    x0_hat = (x_t - (1 - alpha_bar_t).sqrt() * eps_hat) / alpha_bar_t.sqrt()
    sigma = eta * (1 - alpha_bar_prev).sqrt()
    x_prev = alpha_bar_prev.sqrt() * x0_hat + (1 - alpha_bar_prev - sigma ** 2).clamp(min=0).sqrt() * eps_hat
    if noise is not None:
        x_prev = x_prev + sigma * noise
    return x_prev, x0_hat


def mystery_step_2(x_t, eps_hat, alpha_bar_t, alpha_bar_prev, eta=0.0, noise=None):
    """Another DDIM step, with a slip in one line. Returns (x_prev, x0_hat)."""
    sigma = eta * ((1 - alpha_bar_prev) / (1 - alpha_bar_t) * (1 - alpha_bar_t / alpha_bar_prev)).sqrt()
    x0_hat = (x_t - (1 - alpha_bar_t).sqrt() * eps_hat) / alpha_bar_t
    x_prev = alpha_bar_prev.sqrt() * x0_hat + (1 - alpha_bar_prev - sigma ** 2).sqrt() * eps_hat
    if noise is not None:
        x_prev = x_prev + sigma * noise
    return x_prev, x0_hat


noise_scale_tutorial = mystery_step
x0_over_alpha_bar = mystery_step_2


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


# --- the catalogue of broken DDIM steps ----------------------------------------------------------------------------
_LINEAR_ALPHA_BARS = make_schedule("linear", 1000).alpha_bars   # the course's schedule

for _name, _fn in (("alpha_for_alpha_bar", alpha_for_alpha_bar), ("variance_for_std", variance_for_std),
                   ("returns_x0_hat", returns_x0_hat),
                   ("wrapped_final_alpha_bar", wrapped_final_alpha_bar(_LINEAR_ALPHA_BARS[-1])),
                   ("noise_scale_tutorial", noise_scale_tutorial), ("noise_at_full_level", noise_at_full_level),
                   ("direction_without_sigma", direction_without_sigma),
                   ("direction_without_sqrt", direction_without_sqrt), ("signal_without_sqrt", signal_without_sqrt),
                   ("x0_over_alpha_bar", x0_over_alpha_bar), ("noise_dropped", noise_dropped),
                   ("missing_sqrt_noise", missing_sqrt_noise)):
    mistakes.register(_name, _fn, ddim_step=True)
