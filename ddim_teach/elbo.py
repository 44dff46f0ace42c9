"""The DDPM training loss, term by term: the ELBO's per-timestep weights, L_simple, and the loss at each t.

DDPM (Ho et al. 2020) writes the variational bound as a sum of KL terms L_{t-1} (eq. 5). With the model's mean in
the eps form (eq. 11) and a fixed variance sigma_t^2, each term is (eq. 12)

    L_{t-1} = E[ lambda_t || eps - eps_theta(x_t, t) ||^2 ] + C,   lambda_t = beta_t^2 / (2 sigma_t^2 alpha_t (1 - alpha_bar_t)),

(per pixel; :mod:`ddim_teach.derivations` derives it in SymPy). L_simple (eq. 14) drops lambda_t, i.e. it weights
every t equally. Indices are 0-based as everywhere in the package: DDPM's t = 1 is our t = 0.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence

import torch

from . import checks, formulas
from .formulas import VARIANCES  # the decoder's sigma_t^2: beta_tilde_t or beta_t (DDPM Sec. 3.2)
from .schedules import Schedule


def elbo_weights(schedule: Schedule, variance: str = "fixed_large") -> torch.Tensor:
    """lambda_t of DDPM eq. 12 for t = 0 .. T-1, float64.

    ``variance`` is the decoder's sigma_t^2: ``fixed_large`` (beta_t) or ``fixed_small`` (beta_tilde_t). With
    ``fixed_small`` the first entry is inf, since beta_tilde_0 = 0: DDPM treats that term (L_0) as a separate decoder.
    """
    checks.one_of(variance, "variance", VARIANCES)
    sigma2 = schedule.betas if variance == "fixed_large" else schedule.posterior_variance
    num = schedule.betas ** 2
    den = 2 * sigma2 * schedule.alphas * (1 - schedule.alpha_bars)
    return torch.where(den > 0, num / den.clamp(min=torch.finfo(torch.float64).tiny), torch.inf)


def l_simple(model: Callable, x0: torch.Tensor, t: torch.Tensor, noise: torch.Tensor,
             alpha_bars: torch.Tensor) -> torch.Tensor:
    """L_simple on one batch with given draws (DDPM eq. 14): mean over all elements of (eps - eps_theta(x_t, t))^2.

    ``t`` is a LongTensor (B,) of 0-based timesteps, one per image; ``noise`` is eps, shaped like ``x0``;
    ``alpha_bars`` is the schedule's table. x_t = sqrt(alpha_bar_t) x0 + sqrt(1 - alpha_bar_t) eps (eq. 4).
    Returns a 0-dim tensor in x0's dtype. :func:`ddim_teach.train.diffusion_loss` is this with random t and eps.
    (The loss is the mean of squares, not ``F.mse_loss``: the same number, one definition.)
    """
    t = torch.as_tensor(t, dtype=torch.long)
    if t.dim() != 1 or len(t) != x0.shape[0]:
        raise ValueError(f"t must be a 1-D LongTensor with one timestep per image ({x0.shape[0]}), "
                         f"got shape {tuple(t.shape)}")
    x_t = formulas.q_sample(x0, noise, formulas.per_sample(alpha_bars[t], x0))
    return ((model(x_t, t.to(x0.device)) - noise) ** 2).mean()


def eps_mse_per_t(model: Callable, schedule: Schedule, x0: torch.Tensor, ts: Sequence[int],
                  generator: torch.Generator | None = None, batch_size: int = 256) -> torch.Tensor:
    """The eps-prediction error E||eps - eps_theta(x_t, t)||^2 / d at each timestep in ``ts`` (float64, one per t).

    Every image of ``x0`` is noised once per t with fresh eps from ``generator``; the model runs under no_grad in
    chunks of ``batch_size``. Averaging this over t uniform in 0 .. T-1 is the expected L_simple.
    """
    ts = [int(t) for t in ts]
    if not ts or min(ts) < 0 or max(ts) >= schedule.T:
        raise ValueError(f"ts must be non-empty timesteps in [0, {schedule.T}), got {ts}")
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
    out = []
    with torch.no_grad():
        for t in ts:
            total = 0.0
            for chunk in x0.split(batch_size):
                eps = torch.randn(chunk.shape, generator=generator, dtype=chunk.dtype)
                tt = torch.full((chunk.shape[0],), t, dtype=torch.long)
                total += float(l_simple(model, chunk, tt, eps, schedule.alpha_bars)) * chunk.shape[0]
            out.append(total / x0.shape[0])
    return torch.tensor(out, dtype=torch.float64)
