"""Noise schedules and the forward process q(x_t | x_0).

Notation. We index timesteps 0-based, ``t = 0 .. T-1``; ``t = T-1`` is the
noisiest step. DDPM (Ho et al. 2020) writes ``alpha_t = 1 - beta_t`` and
``alpha_bar_t = prod_{s<=t} alpha_s``. The DDIM paper (Song et al. 2021) writes
``alpha_t`` for what DDPM calls ``alpha_bar_t``. In this package ``alphas`` is
always DDPM's alpha_t and ``alpha_bars`` is DDPM's alpha_bar_t (= DDIM's alpha_t).

Forward process (DDPM eq. 4):  q(x_t | x_0) = N(sqrt(alpha_bar_t) x_0, (1 - alpha_bar_t) I).
"""
from __future__ import annotations

import math
import numbers
from dataclasses import dataclass
from typing import Sequence

import torch

from . import checks, formulas

SCHEDULES = ("linear", "scaled_linear", "cosine", "sigmoid")
SPACINGS = ("leading", "trailing", "linspace", "quad")
SIGMA_SPACINGS = ("logsnr", "karras")  # placed by the schedule's noise level, not by t: sigma_timesteps
PREDICTION_TYPES = ("epsilon", "sample", "v_prediction")


_DEFAULT_RANGE = {"linear": (1e-4, 0.02), "scaled_linear": (0.00085, 0.012), "sigmoid": (1e-4, 0.02)}


def make_betas(name: str, T: int = 1000, beta_start: float | None = None, beta_end: float | None = None,
               cosine_s: float | None = None, max_beta: float | None = None) -> torch.Tensor:
    """beta_1..beta_T as a float64 tensor of length T.

    * ``linear``: DDPM (Ho et al. 2020, Sec. 4): beta from 1e-4 to 0.02, evenly spaced.
    * ``scaled_linear``: Stable Diffusion / LDM: sqrt(beta) evenly spaced from
      sqrt(0.00085) to sqrt(0.012), then squared.
    * ``cosine``: Nichol & Dhariwal 2021, eq. 17: alpha_bar(t) = cos^2(((t/T + s)/(1 + s)) pi/2),
      beta_t = min(1 - alpha_bar(t+1)/alpha_bar(t), 0.999)  (diffusers: ``squaredcos_cap_v2``).
    * ``sigmoid``: the GeoDiff variant (Xu et al. 2022), as in diffusers: beta =
      sigmoid(linspace(-6, 6, T)) * (beta_end - beta_start) + beta_start, default 1e-4 .. 0.02.

    ``beta_start`` / ``beta_end`` (defaults above) must satisfy 0 < beta_start < beta_end <= 1; they
    belong to the linear-type schedules, ``cosine_s`` (default 0.008) and ``max_beta`` (default 0.999)
    to ``cosine``. A parameter the chosen schedule does not use is an error, not ignored.
    """
    T = checks.positive_int(T, "T")
    if not isinstance(name, str) or name not in SCHEDULES:
        raise ValueError(f"unknown schedule {name!r}; choose one of {', '.join(SCHEDULES)}")
    if name == "cosine":
        given = [k for k, v in (("beta_start", beta_start), ("beta_end", beta_end)) if v is not None]
        if given:
            raise ValueError(f"the cosine schedule takes no {' or '.join(given)} (its betas come from "
                             "cos^2, Nichol & Dhariwal eq. 17); use cosine_s or max_beta, or another schedule")
        s = 0.008 if cosine_s is None else checks.real(cosine_s, "cosine_s", 0.0, 1.0, lo_open=False)
        cap = 0.999 if max_beta is None else checks.real(max_beta, "max_beta", 0.0, 1.0)

        def f(t):
            return math.cos((t / T + s) / (1 + s) * math.pi / 2) ** 2
        return torch.tensor([min(1 - f(i + 1) / f(i), cap) for i in range(T)], dtype=torch.float64)
    given = [k for k, v in (("cosine_s", cosine_s), ("max_beta", max_beta)) if v is not None]
    if given:
        raise ValueError(f"{' and '.join(given)} belong(s) to the cosine schedule, not {name!r}")
    d0, d1 = _DEFAULT_RANGE[name]
    b0 = d0 if beta_start is None else checks.real(beta_start, "beta_start", 0.0, 1.0)
    b1 = d1 if beta_end is None else checks.real(beta_end, "beta_end", 0.0, 1.0)
    if not b0 < b1:
        raise ValueError(f"beta_start ({b0}) must be smaller than beta_end ({b1}): betas grow with t "
                         "(the arguments may be swapped)")
    if name == "linear":
        return torch.linspace(b0, b1, T, dtype=torch.float64)
    if name == "scaled_linear":
        return torch.linspace(b0 ** 0.5, b1 ** 0.5, T, dtype=torch.float64) ** 2
    return torch.sigmoid(torch.linspace(-6, 6, T, dtype=torch.float64)) * (b1 - b0) + b0


def rescale_zero_terminal_snr(betas: torch.Tensor) -> torch.Tensor:
    """Lin et al. 2023 ("Common Diffusion Noise Schedules and Sample Steps are Flawed"), Algorithm 1.

    Shifts and scales sqrt(alpha_bar) so that sqrt(alpha_bar_0) is unchanged and
    sqrt(alpha_bar_{T-1}) = 0: the last step is pure noise (SNR 0). Such a schedule
    needs a v- or x0-predicting model: eps -> x0 is undefined where alpha_bar = 0.
    """
    betas = Schedule(betas).betas  # validated
    if len(betas) < 2:
        raise ValueError("rescaling to zero terminal SNR needs at least 2 timesteps")
    sqrt_ab = torch.cumprod(1 - betas, 0).sqrt()
    s0, sT = sqrt_ab[0].clone(), sqrt_ab[-1].clone()
    sqrt_ab = (sqrt_ab - sT) * s0 / (s0 - sT)
    ab = sqrt_ab ** 2
    alphas = torch.cat([ab[:1], ab[1:] / ab[:-1]])
    return 1 - alphas


@dataclass(eq=False)
class Schedule:
    """A discrete noise schedule. All arrays are float64 tensors of length T.

    ``betas[t]``, ``alphas[t] = 1 - betas[t]`` and ``alpha_bars[t] = prod_{s<=t} alphas[s]``
    (DDPM notation; DDIM's alpha_t is ``alpha_bars[t]``). Betas must lie in (0, 1] and must not
    decrease with t. (``==`` compares identity; compare ``betas`` with ``torch.equal``.)
    """
    betas: torch.Tensor
    name: str = "custom"

    def __post_init__(self):
        try:
            b = torch.as_tensor(self.betas, dtype=torch.float64)
        except (TypeError, ValueError, RuntimeError) as e:
            raise ValueError(f"betas must be a 1-D sequence of numbers, got {type(self.betas).__name__}") from e
        if b.dim() != 1 or len(b) < 1:
            raise ValueError(f"betas must be a 1-D tensor, got shape {tuple(b.shape)}")
        if not ((b > 0) & (b <= 1)).all():
            bad = b[~((b > 0) & (b <= 1))][:4].tolist()
            raise ValueError(f"betas must lie in (0, 1], got {bad} (beta = 0 would make a step add no noise, "
                             "and x0 <-> eps conversions divide by zero there)")
        if len(b) > 1 and bool((b[1:] < b[:-1]).any()):
            i = int((b[1:] < b[:-1]).nonzero()[0])
            raise ValueError(f"betas must not decrease with t: beta[{i}] = {float(b[i]):.3g} > beta[{i + 1}] = "
                             f"{float(b[i + 1]):.3g} (reversed order?)")
        self.betas = b
        self.alphas = 1 - b
        self.alpha_bars = formulas.alpha_bar_from_betas(b)

    @property
    def T(self) -> int:
        return len(self.betas)

    @property
    def snr(self) -> torch.Tensor:
        """Signal-to-noise ratio alpha_bar_t / (1 - alpha_bar_t)."""
        return self.alpha_bars / (1 - self.alpha_bars)

    @property
    def posterior_variance(self) -> torch.Tensor:
        """beta_tilde_t = (1 - alpha_bar_{t-1}) / (1 - alpha_bar_t) * beta_t (DDPM eq. 7), alpha_bar_{-1} = 1
        (:func:`ddim_teach.formulas.posterior_variance` for every t)."""
        ab_prev = formulas.alpha_bar_at(self.alpha_bars, torch.arange(self.T) - 1)
        return formulas.posterior_variance(self.alpha_bars, ab_prev)

    def alpha_bar(self, t) -> torch.Tensor:
        """alpha_bar at integer timestep(s) t; t = -1 means "before the first step", alpha_bar = 1."""
        t = checks.integer_timesteps(t)
        if ((t < -1) | (t >= self.T)).any():
            raise ValueError(f"timestep out of range: allowed -1 (clean) .. {self.T - 1}, got {t.tolist()}")
        return formulas.alpha_bar_at(self.alpha_bars, t)

    def _t(self, t, x: torch.Tensor) -> torch.Tensor:
        if not isinstance(x, torch.Tensor) or not x.is_floating_point() or x.dim() < 1:
            got = x.dtype if isinstance(x, torch.Tensor) else type(x).__name__
            raise ValueError(f"x must be a floating-point tensor with a batch dimension, got {got}")
        t = checks.integer_timesteps(t)  # the table lives on the CPU
        if t.dim() == 0:
            t = t.expand(x.shape[0])
        if t.shape != (x.shape[0],):
            raise ValueError(f"t must be one integer or one per batch element, shape ({x.shape[0]},); "
                             f"got shape {tuple(t.shape)}")
        return formulas.per_sample(self.alpha_bar(t), x)

    # --- the formulas of ddim_teach.formulas, at integer timesteps (one ᾱ per batch element, in x's dtype) ---
    def q_sample(self, x0: torch.Tensor, t, noise: torch.Tensor) -> torch.Tensor:
        """x_t = sqrt(alpha_bar_t) x_0 + sqrt(1 - alpha_bar_t) eps (DDPM eq. 4), t per batch element."""
        if not isinstance(noise, torch.Tensor):
            raise TypeError(f"noise must be a tensor shaped like x0, got {type(noise).__name__}")
        return formulas.q_sample(x0, noise, self._t(t, x0))

    def x0_from_eps(self, x_t, t, eps):
        """x0 = (x_t - sqrt(1 - alpha_bar_t) eps) / sqrt(alpha_bar_t)  (DDIM eq. 9)."""
        return formulas.predict_x0(x_t, eps, self._t(t, x_t))

    def eps_from_x0(self, x_t, t, x0):
        """eps = (x_t - sqrt(alpha_bar_t) x0) / sqrt(1 - alpha_bar_t)."""
        return formulas.eps_from_x0(x_t, x0, self._t(t, x_t))

    def v_from(self, x0, t, eps):
        """v = sqrt(alpha_bar_t) eps - sqrt(1 - alpha_bar_t) x0  (Salimans & Ho 2022)."""
        return formulas.v_from(x0, eps, self._t(t, x0))

    def eps_from_v(self, x_t, t, v):
        """eps = sqrt(1 - alpha_bar_t) x_t + sqrt(alpha_bar_t) v."""
        return formulas.eps_from_v(x_t, v, self._t(t, x_t))

    def x0_from_v(self, x_t, t, v):
        """x0 = sqrt(alpha_bar_t) x_t - sqrt(1 - alpha_bar_t) v."""
        return formulas.x0_from_v(x_t, v, self._t(t, x_t))

    def to_dict(self) -> dict:
        return {"name": self.name, "T": self.T}


def check_schedule(schedule, hint: str = "") -> "Schedule":
    """``schedule`` itself if it is a :class:`Schedule`; else a TypeError that says what was given (``hint``: where to
    get one, e.g. " (the one load_pretrained returns)"). The public entry points that take a schedule call this."""
    if not isinstance(schedule, Schedule):
        raise TypeError(f"schedule must be a ddim_teach Schedule{hint}, got {type(schedule).__name__}")
    return schedule


def make_schedule(name: str = "linear", T: int = 1000, *, rescale_to_zero_snr: bool = False, **kwargs) -> Schedule:
    """A :class:`Schedule` by name (see :func:`make_betas`), optionally rescaled to zero terminal SNR.

    A zero-terminal-SNR schedule has alpha_bar = 0 at t = T - 1; sampling from there needs a v- or
    x0-predicting model (``denoiser.Denoiser(model, schedule, prediction_type="v_prediction")``)."""
    if not isinstance(rescale_to_zero_snr, bool):
        raise ValueError(f"rescale_to_zero_snr must be True or False, got {rescale_to_zero_snr!r}")
    betas = make_betas(name, T, **kwargs)
    label = name
    if rescale_to_zero_snr:
        betas = rescale_zero_terminal_snr(betas)
        label += "+zero_snr"
    return Schedule(betas, name=label)


def timesteps(T: int, steps: int | None = None, spacing: str | Sequence[int] = "trailing",
              steps_offset: int = 0) -> torch.Tensor:
    """Descending sampling timesteps (0-based, LongTensor), noisiest first.

    Spacings, following diffusers' ``timestep_spacing`` (Lin et al. 2023, Table 2):

    * ``leading``:  (arange(S) * (T // S))[::-1] + steps_offset -- DDIM's "uniform"
      (paper App. D.2, ``range(0, T, T // S)``). For T=1000, S=10: 900, 800, ..., 0. Never visits T-1.
    * ``trailing``: round(arange(T, 0, -T/S)) - 1. For S=10: 999, 899, ..., 99. Starts at the noisiest step.
    * ``linspace``: round(linspace(0, T-1, S))[::-1]. For S=10: 999, 888, ..., 0.
    * ``quad``:     int(linspace(0, sqrt(0.8 T), S)^2)[::-1], DDIM paper App. D.2. Gives duplicates
      for large S; those are rejected.
    * a list of ints: used as given, after validation (whole floats such as 999.0 are accepted,
      999.5 is an error, never truncated); ``steps`` must then be None.

    The default is ``trailing`` (diffusers' default is ``leading``, which at small S never visits the
    noisiest steps: see ``diagnose``).
    """
    T = checks.positive_int(T, "T")
    steps_offset = checks.positive_int(steps_offset, "steps_offset", 0)
    if not isinstance(spacing, str):
        if steps is not None:
            raise ValueError("an explicit timestep list fixes the number of steps; pass steps=None with it")
        if steps_offset:
            raise ValueError("steps_offset applies only to 'leading' spacing, not to an explicit list")
        if isinstance(spacing, torch.Tensor):
            spacing = spacing.detach().cpu()
        elif not hasattr(spacing, "__iter__"):
            raise ValueError(f"spacing must be one of {', '.join(SPACINGS)} or a list of timesteps, got {spacing!r}")
        return checks.descending_timesteps(list(spacing) if not isinstance(spacing, torch.Tensor) else spacing, T)
    if isinstance(steps, bool) or not isinstance(steps, numbers.Integral) or not 1 <= steps <= T:
        raise ValueError(f"steps must be an integer in 1..{T} (T={T}), got {steps!r}")
    S = int(steps)
    if spacing == "leading":
        ts = torch.arange(S, dtype=torch.long) * (T // S) + steps_offset
        ts = ts.flip(0)
    elif spacing == "trailing":
        import numpy as np
        # T - i T/S for i < S: the same floats as diffusers' arange(T, 0, -T/S), but always exactly S of them
        # (arange's float length gives S + 1 entries, the last -1, for 62 values of S at T = 1000, e.g. S = 61)
        delta = (T - T / S) - T  # as numpy's arange fills: start + i * (second - first)
        ts = torch.from_numpy(np.round(T + np.arange(S) * delta).astype(np.int64) - 1)
    elif spacing == "linspace":
        ts = torch.linspace(0, T - 1, S, dtype=torch.float64).round().long().flip(0)
    elif spacing == "quad":
        ts = (torch.linspace(0, math.sqrt(T * 0.8), S, dtype=torch.float64) ** 2).long().flip(0)
        if len(torch.unique(ts)) < S:
            def distinct(s):
                return len(torch.unique((torch.linspace(0, math.sqrt(T * 0.8), s, dtype=torch.float64) ** 2).long())) == s
            lo, hi = 1, S  # the largest s without duplicates, by bisection (duplicates only grow with s)
            while hi - lo > 1:
                mid = (lo + hi) // 2
                lo, hi = (mid, hi) if distinct(mid) else (lo, mid)
            ok = lo
            raise ValueError(f"quad spacing gives duplicate timesteps for steps={S}, T={T}; "
                             f"use steps <= {ok} or another spacing")
    else:
        raise ValueError(f"unknown spacing {spacing!r}; choose one of {', '.join(SPACINGS)} or pass a list")
    if steps_offset and spacing != "leading":
        raise ValueError("steps_offset applies only to 'leading' spacing")
    return checks.descending_timesteps(ts, T)


def sigma_timesteps(schedule: Schedule, steps: int, spacing: str = "karras", rho: float = 7.0) -> torch.Tensor:
    """Descending timesteps placed by noise level rather than by t (LongTensor, noisiest first, T-1 down to 0).

    In the ODE's σ = sqrt(1 - ᾱ) / sqrt(ᾱ) (:func:`ddim_teach.formulas.ode_sigma`), from σ_max = σ(T-1) to
    σ_min = σ(0):

    * ``karras``: σ_i = (σ_max^(1/ρ) + i/(S-1) (σ_min^(1/ρ) - σ_max^(1/ρ)))^ρ, Karras et al. 2022, eq. 5 (ρ = 7):
      uniform in σ^(1/ρ), so the steps are short in σ near σ_min, where the last steps set the error (in log σ
      they are the longest there);
    * ``logsnr``: uniform in log σ = -λ, the half log-SNR in which DPM-Solver integrates (Lu et al. 2022).

    The network takes integer t, so each σ_i goes to the timestep whose σ is nearest in log σ (the solver then
    uses that timestep's exact ᾱ, so the network and the solver agree; the grid itself moves by up to half a
    timestep in log σ). These are the timesteps of diffusers' ``use_karras_sigmas`` / ``use_lu_lambdas``;
    diffusers' solvers then step with the unrounded σ's. Near t = 0 neighbouring timesteps are far apart in σ, so a large S can map two σ_i to one
    t: that is refused, with the largest S that works. After the last entry (t = 0) a sampler goes to σ = 0.
    """
    check_schedule(schedule)
    checks.one_of(spacing, "spacing", SIGMA_SPACINGS)
    checks.positive_int(steps, "steps", 2, schedule.T)
    rho = checks.real(rho, "rho", 0.0, 100.0)
    log_sigma = formulas.ode_sigma(schedule.alpha_bars).log()   # increasing in t

    def place(S):
        hi, lo = log_sigma[-1], log_sigma[0]
        if spacing == "logsnr":
            targets = torch.linspace(float(hi), float(lo), S, dtype=torch.float64)
        else:
            i = torch.linspace(0, 1, S, dtype=torch.float64)
            targets = rho * torch.log(hi.div(rho).exp() + i * (lo.div(rho).exp() - hi.div(rho).exp()))
        return (targets[:, None] - log_sigma[None, :]).abs().argmin(1)

    ts = place(steps)
    if len(torch.unique(ts)) < steps:
        ok = max(s for s in range(2, steps) if len(torch.unique(place(s))) == s)
        raise ValueError(f"{spacing} spacing maps two of its {steps} noise levels to one integer timestep (T={schedule.T}); "
                         f"use steps <= {ok} or a spacing in t")
    return checks.descending_timesteps(ts, schedule.T)
