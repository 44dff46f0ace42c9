"""The non-Markovian family q_σ of DDIM (Song et al. 2021, Sec. 3.1, eqs. 6-8), sampled in numbers.

``alpha_bar`` is DDPM's ᾱ_t (the DDIM paper's α_t). For one data point x₀ the family is

    q_σ(x_T | x₀)               = N(√ᾱ_T x₀, (1 − ᾱ_T) I)
    q_σ(x_prev | x_t, x₀)       = N(√ᾱ_prev x₀ + √(1 − ᾱ_prev − σ_t²) · (x_t − √ᾱ_t x₀)/√(1 − ᾱ_t), σ_t² I)   (eq. 7)

with σ_t = σ_t(η) of eq. 16 (:func:`ddim_teach.formulas.ddim_sigma`). Every member has the same marginals
q(x_t | x₀) = N(√ᾱ_t x₀, (1 − ᾱ_t) I) as DDPM, for every η, but different joints. At η = 1 the kernel is DDPM's
posterior (the process is then the Markov chain of DDPM); otherwise the forward step q_σ(x_t | x_prev, x₀)
depends on x₀ (:func:`forward_step`, derived symbolically in :mod:`ddim_teach.ddim_derivation`).

:func:`sample_paths` draws whole paths x_T → … → x₀ from q_σ(x_{1:T} | x₀) (sample x_T, then step down through
eq. 7), for the pictures of notebook 3; :func:`family_figure` and :func:`family_widget` draw them.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Optional, Sequence

import torch

from . import formulas
from .formulas import ddim_sigma
from .i18n import tr
from .schedules import Schedule, timesteps as make_timesteps

__all__ = ["posterior_mean", "forward_step", "FamilyPaths", "sample_paths", "standardised",
           "sigma_hat_breaks", "marginal_density", "family_figure", "family_widget"]


def _ab(a) -> torch.Tensor:
    return torch.as_tensor(a, dtype=torch.float64)


def _check_sigma(abp: torch.Tensor, sg: torch.Tensor) -> None:
    if bool((sg ** 2 > 1 - abp + 1e-12).any()):
        raise ValueError(f"sigma^2 = {float((sg ** 2).max()):.4g} exceeds 1 - alpha_bar_prev = {float((1 - abp).min()):.4g}: "
                         "no member of the family has that noise (eq. 7 needs sigma^2 <= 1 - alpha_bar_prev)")


def posterior_mean(x0, x_t, alpha_bar_t, alpha_bar_prev, sigma) -> torch.Tensor:
    """Mean of q_σ(x_prev | x_t, x₀) (DDIM eq. 7); its std is ``sigma`` (the std, not the variance).

    = √ᾱ_prev x₀ + √(1 − ᾱ_prev − σ²) (x_t − √ᾱ_t x₀)/√(1 − ᾱ_t) = k x₀ + m x_t
    (:func:`ddim_teach.ddim_derivation.ddim_coefficients` solves for k and m). It is DDIM's update, eq. 12
    without its noise (:func:`ddim_teach.formulas.ddim_mean`), with the true x₀ and the ε that x₀ implies."""
    ab, abp, sg = _ab(alpha_bar_t), _ab(alpha_bar_prev), _ab(sigma)
    _check_sigma(abp, sg)
    return formulas.ddim_mean(x0, formulas.eps_from_x0(x_t, x0, ab), abp, sg)


def forward_step(x0, x_prev, alpha_bar_t, alpha_bar_prev, sigma):
    """q_σ(x_t | x_prev, x₀) = N(c₀ x₀ + c_prev x_prev, v) by Bayes' rule (DDIM eq. 8); returns (mean, std).

    c_prev = m (1 − ᾱ_t)/(1 − ᾱ_prev) with m = √(1 − ᾱ_prev − σ²)/√(1 − ᾱ_t), c₀ = √ᾱ_t − c_prev √ᾱ_prev,
    v = σ² (1 − ᾱ_t)/(1 − ᾱ_prev) (:func:`ddim_teach.ddim_derivation.forward_step` derives these). c₀ = 0, i.e. the
    step forgets x₀, only at σ² = β̃ (η = 1, DDPM); there the step is N(√α x_prev, β) with α = ᾱ_t/ᾱ_prev.
    """
    ab, abp, sg = _ab(alpha_bar_t), _ab(alpha_bar_prev), _ab(sigma)
    if not float(ab) < float(abp) < 1.0:
        raise ValueError("forward_step needs 0 < alpha_bar_t < alpha_bar_prev < 1, got "
                         f"alpha_bar_t = {float(ab)}, alpha_bar_prev = {float(abp)}")
    m = (1 - abp - sg ** 2).clamp(min=0).sqrt() / (1 - ab).sqrt()
    c_prev = m * (1 - ab) / (1 - abp)
    c0 = ab.sqrt() - c_prev * abp.sqrt()
    return c0 * x0 + c_prev * x_prev, (sg ** 2 * (1 - ab) / (1 - abp)).sqrt()


def sigma_hat_breaks(alpha_bar_t, alpha_bar_prev) -> torch.Tensor:
    """True where the DDIM paper's σ̂² = 1 − ᾱ_t/ᾱ_prev exceeds 1 − ᾱ_prev, i.e. where ᾱ_prev² > ᾱ_t
    (:func:`ddim_teach.ddim_derivation.sigma_hat_gap`): there √(1 − ᾱ_prev − σ̂²) in eq. 12 would be imaginary."""
    return _ab(alpha_bar_prev) ** 2 > _ab(alpha_bar_t)


@dataclass
class FamilyPaths:
    """Paths from q_σ(x_{1:T} | x₀), noisiest first.

    ``xs[i]`` is the state at ``alpha_bars[i]``: ``xs[0]`` = x_T, …, ``xs[-1]`` = the end at ᾱ = 1, which
    is x₀ itself for every η (σ = 0 there). ``timesteps`` has one entry fewer than ``xs`` (the end has none).
    """
    x0: torch.Tensor
    eta: float
    timesteps: torch.Tensor
    alpha_bars: torch.Tensor
    sigmas: torch.Tensor
    xs: torch.Tensor


def sample_paths(x0: torch.Tensor, schedule: Schedule, eta: float = 0.0, *, steps: Optional[int] = None,
                 spacing: str = "trailing", x_T: Optional[torch.Tensor] = None,
                 generator: Optional[torch.Generator] = None) -> FamilyPaths:
    """Sample x_T ~ q(x_T | x₀), then x_prev ~ q_σ(x_prev | x_t, x₀) (eq. 7) down to ᾱ = 1, with σ = σ(η) (eq. 16).

    ``steps=None`` walks every timestep T-1, …, 0 (the family on the full chain); an integer uses the
    sub-sequence ``schedules.timesteps(T, steps, spacing)`` (DDIM Sec. 4.2: the same construction on τ).
    ``x_T`` fixes the start (shape of ``x0``); otherwise it is drawn from ``generator`` first. Float64.
    """
    x0 = torch.as_tensor(x0, dtype=torch.float64)
    ts = (torch.arange(schedule.T - 1, -1, -1) if steps is None
          else make_timesteps(schedule.T, steps, spacing))
    abs_ = torch.cat([schedule.alpha_bar(ts), formulas.alpha_bar_prevs(schedule.alpha_bars, ts)[-1:]])  # ..., 1
    sigmas = torch.stack([ddim_sigma(abs_[i], abs_[i + 1], eta) for i in range(len(ts))])
    if x_T is None:
        x = formulas.q_sample(x0, torch.randn(x0.shape, generator=generator, dtype=torch.float64), abs_[0])
    else:
        x = torch.as_tensor(x_T, dtype=torch.float64)
        if x.shape != x0.shape:
            raise ValueError(f"x_T has shape {tuple(x.shape)}; it must match x0's {tuple(x0.shape)}")
    xs = [x]
    for ab, abp, sg in zip(abs_[:-1], abs_[1:], sigmas):
        x = posterior_mean(x0, x, ab, abp, sg)                      # eq. 7's mean
        if sg > 0:
            x = x + sg * torch.randn(x0.shape, generator=generator, dtype=torch.float64)
        xs.append(x)
    return FamilyPaths(x0, float(eta), ts, abs_, sigmas, torch.stack(xs))


def standardised(paths: FamilyPaths) -> torch.Tensor:
    """z = (x_t − √ᾱ_t x₀)/√(1 − ᾱ_t) at every state but the end: N(0, 1) under q(x_t | x₀), for every η."""
    ab = paths.alpha_bars[:-1].reshape(-1, *([1] * paths.x0.dim()))
    return (paths.xs[:-1] - ab.sqrt() * paths.x0) / (1 - ab).sqrt()


def marginal_density(x: torch.Tensor, support: Sequence[float], weights: Sequence[float], alpha_bar) -> torch.Tensor:
    """Density of q(x_t) = Σ_j w_j N(√ᾱ_t x_j, 1 − ᾱ_t) for 1-D data on the points ``support``."""
    ab = _ab(alpha_bar)
    mu = ab.sqrt() * torch.as_tensor(support, dtype=torch.float64)
    w = torch.as_tensor(weights, dtype=torch.float64)
    var = 1 - ab
    dens = torch.exp(-(x[..., None].double() - mu) ** 2 / (2 * var)) / torch.sqrt(2 * math.pi * var)
    return (dens * w / w.sum()).sum(-1)


def family_figure(paths, support, weights, hist_t: Sequence[int] = (999, 500, 200, 20),
                  n_show: int = 24, bins: int = 40, fontsize: int = 11):
    """One row per :class:`FamilyPaths` (one η): ``n_show`` paths against t (left), and histograms of x_t at
    ``hist_t`` over all paths with the exact marginal q(x_t) = Σ_j w_j N(√ᾱ_t x_j, 1 − ᾱ_t) as a black line."""
    import matplotlib.pyplot as plt

    rows = [paths] if isinstance(paths, FamilyPaths) else list(paths)
    fig = plt.figure(figsize=(13, 3.1 * len(rows)))
    gs = fig.add_gridspec(len(rows), 1 + len(hist_t), width_ratios=[3.2] + [1] * len(hist_t))
    grid = torch.linspace(-3.2, 3.2, 200, dtype=torch.float64)
    colors = {float(v): c for v, c in zip(support, ("tab:blue", "tab:orange", "tab:green", "tab:red"))}
    for r, p in enumerate(rows):
        ax = fig.add_subplot(gs[r, 0])
        tt = torch.cat([p.timesteps.double(), torch.tensor([-1.0])])
        for j in range(min(n_show, p.xs.shape[1])):
            ax.plot(tt, p.xs[:, j], lw=0.7, alpha=0.8, color=colors.get(float(p.x0[j]), "gray"))
        for t in hist_t:
            ax.axvline(t, color="k", lw=0.6, ls=":")
        ax.set_xlim(float(tt[0]) + 10, -10), ax.set_ylim(-3.2, 3.2)
        ax.set_ylabel("x_t", fontsize=fontsize)
        ax.set_title(tr("family.title", eta=p.eta, n=n_show), fontsize=fontsize)
        if r == len(rows) - 1:
            ax.set_xlabel(tr("family.xlabel"), fontsize=fontsize)
        index = {int(t): i for i, t in enumerate(p.timesteps)}
        for k, t in enumerate(hist_t):
            a = fig.add_subplot(gs[r, 1 + k])
            i = index[int(t)]
            a.hist(p.xs[i].numpy(), bins=bins, range=(-3.2, 3.2), density=True, orientation="horizontal",
                   color="0.7")
            a.plot(marginal_density(grid, support, weights, p.alpha_bars[i]).numpy(), grid.numpy(), "k", lw=1)
            a.set_ylim(-3.2, 3.2), a.set_yticks([]), a.set_xticks([])
            a.set_title(f"x_{int(t)}, η = {p.eta:g}", fontsize=fontsize - 1)
    fig.tight_layout()
    return fig


def family_widget(x0: torch.Tensor, schedule: Schedule, support, weights, seed: int = 0, dpi: int = 72,
                  steps: Optional[int] = None, **kw):
    """An η slider over :func:`family_figure` (an ``Image`` widget, no ``Output`` widget).

    The same x_T and the same noise stream are used for every η; ``steps`` as in :func:`sample_paths`
    (trailing spacing). The box keeps the last paths in ``.result``.
    """
    import io

    import ipywidgets as W
    import matplotlib.pyplot as plt

    x_T = None
    eta = W.FloatSlider(value=0.0, min=0.0, max=1.0, step=0.1, description="η", continuous_update=False)
    image = W.Image(format="png")
    box = W.VBox([eta, image])

    def compute(value):
        nonlocal x_T
        g = torch.Generator().manual_seed(seed)
        if x_T is None:
            ab = schedule.alpha_bars[-1]
            x_T = ab.sqrt() * x0 + (1 - ab).sqrt() * torch.randn(x0.shape, generator=g, dtype=torch.float64)
        return sample_paths(x0, schedule, float(value), steps=steps, x_T=x_T, generator=g)

    def update(change=None):
        box.result = compute(eta.value)
        fig = family_figure(box.result, support, weights, **kw)
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=dpi)
        plt.close(fig)
        image.value = buf.getvalue()

    eta.observe(update, names="value")
    update()
    return box
