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


# --- more broken steps, named by the ddim_step exercise (notebook 4, ddim_teach.exercises.ch04) ----------------
def _f64(a) -> torch.Tensor:
    return torch.as_tensor(a, dtype=torch.float64)


def noise_scale_tutorial(x_t, eps_hat, alpha_bar_t, alpha_bar_prev, eta=0.0, noise=None, **kw):
    """Bug: the fresh noise is added as ``eta * sqrt(1 - alpha_bar_prev) * z``, as a widely copied tutorial
    writes it, where eq. 12 adds σ_t z with σ_t from eq. 16. The direction term keeps the right σ_t. The same
    as the correct step at η = 0 and at the last step (ᾱ_prev = 1); otherwise far too much noise
    (at η = 1, √(1 − ᾱ_prev) against σ_t = √β̃)."""
    x_prev, x0_hat = ddim_step(x_t, eps_hat, alpha_bar_t, alpha_bar_prev, eta, None, **kw)
    if noise is not None and eta > 0:
        x_prev = x_prev + eta * (1 - _f64(alpha_bar_prev)).sqrt() * noise
    return x_prev, x0_hat


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


# --- which bug is it? (notebook 8, exercise 8.3) -------------------------------------------------------
def identify_step(step_fn, alpha_bar_last=None) -> str:
    """Name the bug in a step function with :func:`ddim_step`'s signature, by probing it.

    Returns ``"correct"`` when ``step_fn`` agrees with :func:`ddim_step` on every probe, the name of the
    function in this module whose outputs it reproduces on every probe (``"alpha_for_alpha_bar"``,
    ``"variance_for_std"``, ``"returns_x0_hat"``, ``"wrapped_final_alpha_bar"``), else ``"unknown"``.
    The probes are a middle step at eta = 0 and at eta = 1 and the last step (alpha_bar_prev = 1): each
    bug shows on at least one of them, and none shows on all (at eta = 0 the sigma bug is invisible; at
    the last step the alpha and sigma bugs are). ``alpha_bar_last`` is what the wrapped index returns
    (default: alpha_bar_999 of the linear schedule, 4.04e-5).
    """
    from .schedules import make_schedule
    ab = make_schedule("linear", 1000).alpha_bars
    last = ab[-1] if alpha_bar_last is None else torch.as_tensor(alpha_bar_last, dtype=torch.float64)
    g = torch.Generator().manual_seed(0)
    x, eps, z = (torch.randn(2, 1, 4, 4, generator=g, dtype=torch.float64) for _ in range(3))
    one = torch.tensor(1.0, dtype=torch.float64)
    probes = [(ab[500], ab[400], 0.0), (ab[500], ab[400], 1.0), (ab[49], one, 0.0)]
    candidates = {"correct": ddim_step, "alpha_for_alpha_bar": alpha_for_alpha_bar,
                  "variance_for_std": variance_for_std, "returns_x0_hat": returns_x0_hat,
                  "wrapped_final_alpha_bar": wrapped_final_alpha_bar(last)}

    def outputs(fn):
        res = []
        for a, b, eta in probes:
            out = fn(x.clone(), eps.clone(), a, b, eta, z.clone() if eta > 0 else None)
            res.append(out[0] if isinstance(out, tuple) else out)
        return res

    got = outputs(step_fn)
    for key, fn in candidates.items():
        if all(torch.allclose(g_, w_, rtol=1e-6, atol=1e-8) for g_, w_ in zip(got, outputs(fn))):
            return key
    return "unknown"
