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
from dataclasses import dataclass
from typing import Sequence

import torch

SCHEDULES = ("linear", "scaled_linear", "cosine", "sigmoid")
SPACINGS = ("leading", "trailing", "linspace", "quad")
PREDICTION_TYPES = ("epsilon", "sample", "v_prediction")


def make_betas(name: str, T: int = 1000, beta_start: float | None = None, beta_end: float | None = None,
               cosine_s: float = 0.008, max_beta: float = 0.999) -> torch.Tensor:
    """beta_1..beta_T as a float64 tensor of length T.

    * ``linear``: DDPM (Ho et al. 2020, Sec. 4): beta from 1e-4 to 0.02, evenly spaced.
    * ``scaled_linear``: Stable Diffusion / LDM: sqrt(beta) evenly spaced from
      sqrt(0.00085) to sqrt(0.012), then squared.
    * ``cosine``: Nichol & Dhariwal 2021, eq. 17: alpha_bar(t) = cos^2(((t/T + s)/(1 + s)) pi/2),
      beta_t = min(1 - alpha_bar(t+1)/alpha_bar(t), 0.999)  (diffusers: ``squaredcos_cap_v2``).
    * ``sigmoid``: the GeoDiff variant (Xu et al. 2022), as in diffusers: beta =
      sigmoid(linspace(-6, 6, T)) * (beta_end - beta_start) + beta_start, default 1e-4 .. 0.02.
    """
    if not isinstance(T, int) or isinstance(T, bool) or T < 1:
        raise ValueError(f"T must be a positive integer, got {T!r}")
    if name == "linear":
        b0, b1 = beta_start or 1e-4, beta_end or 0.02
        betas = torch.linspace(b0, b1, T, dtype=torch.float64)
    elif name == "scaled_linear":
        b0, b1 = beta_start or 0.00085, beta_end or 0.012
        betas = torch.linspace(b0 ** 0.5, b1 ** 0.5, T, dtype=torch.float64) ** 2
    elif name == "cosine":
        def f(t):
            return math.cos((t / T + cosine_s) / (1 + cosine_s) * math.pi / 2) ** 2
        betas = torch.tensor([min(1 - f(i + 1) / f(i), max_beta) for i in range(T)], dtype=torch.float64)
    elif name == "sigmoid":
        b0, b1 = beta_start or 1e-4, beta_end or 0.02
        betas = torch.sigmoid(torch.linspace(-6, 6, T, dtype=torch.float64)) * (b1 - b0) + b0
    else:
        raise ValueError(f"unknown schedule {name!r}; choose one of {', '.join(SCHEDULES)}")
    return betas


def rescale_zero_terminal_snr(betas: torch.Tensor) -> torch.Tensor:
    """Lin et al. 2023 ("Common Diffusion Noise Schedules and Sample Steps are Flawed"), Algorithm 1.

    Shifts and scales sqrt(alpha_bar) so that sqrt(alpha_bar_0) is unchanged and
    sqrt(alpha_bar_{T-1}) = 0: the last step is pure noise (SNR 0). Such a schedule
    needs a v- or x0-predicting model: eps -> x0 is undefined where alpha_bar = 0.
    """
    sqrt_ab = torch.cumprod(1 - betas.double(), 0).sqrt()
    s0, sT = sqrt_ab[0].clone(), sqrt_ab[-1].clone()
    sqrt_ab = (sqrt_ab - sT) * s0 / (s0 - sT)
    ab = sqrt_ab ** 2
    alphas = torch.cat([ab[:1], ab[1:] / ab[:-1]])
    return 1 - alphas


def _bcast(a: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """Gather-free broadcast: a of shape (B,) -> (B, 1, 1, ...) in x's dtype, on x's device."""
    return a.to(x.dtype).reshape(-1, *([1] * (x.dim() - 1))).to(x.device)


@dataclass
class Schedule:
    """A discrete noise schedule. All arrays are float64 tensors of length T.

    ``betas[t]``, ``alphas[t] = 1 - betas[t]`` and ``alpha_bars[t] = prod_{s<=t} alphas[s]``
    (DDPM notation; DDIM's alpha_t is ``alpha_bars[t]``).
    """
    betas: torch.Tensor
    name: str = "custom"

    def __post_init__(self):
        b = torch.as_tensor(self.betas, dtype=torch.float64)
        if b.dim() != 1 or len(b) < 1:
            raise ValueError(f"betas must be a 1-D tensor, got shape {tuple(b.shape)}")
        if not ((b > 0) & (b <= 1)).all():
            raise ValueError("betas must lie in (0, 1]")
        self.betas = b
        self.alphas = 1 - b
        self.alpha_bars = torch.cumprod(self.alphas, 0)

    @property
    def T(self) -> int:
        return len(self.betas)

    @property
    def snr(self) -> torch.Tensor:
        """Signal-to-noise ratio alpha_bar_t / (1 - alpha_bar_t)."""
        return self.alpha_bars / (1 - self.alpha_bars)

    @property
    def posterior_variance(self) -> torch.Tensor:
        """beta_tilde_t = (1 - alpha_bar_{t-1}) / (1 - alpha_bar_t) * beta_t (DDPM eq. 7), alpha_bar_{-1} = 1."""
        ab_prev = torch.cat([torch.ones(1, dtype=torch.float64), self.alpha_bars[:-1]])
        return (1 - ab_prev) / (1 - self.alpha_bars) * self.betas

    def alpha_bar(self, t) -> torch.Tensor:
        """alpha_bar at integer timestep(s) t; t = -1 means "before the first step", alpha_bar = 1."""
        t = torch.as_tensor(t, dtype=torch.long)
        if ((t < -1) | (t >= self.T)).any():
            raise ValueError(f"timestep out of range: allowed -1 (clean) .. {self.T - 1}, got {t.tolist()}")
        ab = torch.cat([torch.ones(1, dtype=torch.float64), self.alpha_bars])
        return ab[t + 1]

    def _t(self, t, x: torch.Tensor) -> torch.Tensor:
        t = torch.as_tensor(t, dtype=torch.long).cpu()  # the table lives on the CPU
        if t.dim() == 0:
            t = t.expand(x.shape[0])
        return _bcast(self.alpha_bar(t), x)

    # --- forward process -------------------------------------------------
    def q_sample(self, x0: torch.Tensor, t, noise: torch.Tensor) -> torch.Tensor:
        """x_t = sqrt(alpha_bar_t) x_0 + sqrt(1 - alpha_bar_t) eps (DDPM eq. 4), t per batch element."""
        if noise.shape != x0.shape:
            raise ValueError(f"noise shape {tuple(noise.shape)} differs from x0 shape {tuple(x0.shape)}")
        ab = self._t(t, x0)
        return ab.sqrt() * x0 + (1 - ab).sqrt() * noise

    # --- conversions between parameterisations --------------------------
    def x0_from_eps(self, x_t, t, eps):
        """x0 = (x_t - sqrt(1 - alpha_bar_t) eps) / sqrt(alpha_bar_t)  (DDIM eq. 9)."""
        ab = self._t(t, x_t)
        return (x_t - (1 - ab).sqrt() * eps) / ab.sqrt()

    def eps_from_x0(self, x_t, t, x0):
        """eps = (x_t - sqrt(alpha_bar_t) x0) / sqrt(1 - alpha_bar_t)."""
        ab = self._t(t, x_t)
        return (x_t - ab.sqrt() * x0) / (1 - ab).sqrt()

    def v_from(self, x0, t, eps):
        """v = sqrt(alpha_bar_t) eps - sqrt(1 - alpha_bar_t) x0  (Salimans & Ho 2022)."""
        ab = self._t(t, x0)
        return ab.sqrt() * eps - (1 - ab).sqrt() * x0

    def eps_from_v(self, x_t, t, v):
        """eps = sqrt(1 - alpha_bar_t) x_t + sqrt(alpha_bar_t) v."""
        ab = self._t(t, x_t)
        return (1 - ab).sqrt() * x_t + ab.sqrt() * v

    def x0_from_v(self, x_t, t, v):
        """x0 = sqrt(alpha_bar_t) x_t - sqrt(1 - alpha_bar_t) v."""
        ab = self._t(t, x_t)
        return ab.sqrt() * x_t - (1 - ab).sqrt() * v

    def to_eps(self, model_output, x_t, t, prediction_type: str = "epsilon"):
        """Convert a model's output of the given ``prediction_type`` (diffusers' word) to eps_hat."""
        if prediction_type == "epsilon":
            return model_output
        if prediction_type == "sample":
            return self.eps_from_x0(x_t, t, model_output)
        if prediction_type == "v_prediction":
            return self.eps_from_v(x_t, t, model_output)
        raise ValueError(f"unknown prediction_type {prediction_type!r}; choose one of {', '.join(PREDICTION_TYPES)}")

    def to_dict(self) -> dict:
        return {"name": self.name, "T": self.T}


def make_schedule(name: str = "linear", T: int = 1000, *, rescale_to_zero_snr: bool = False, **kwargs) -> Schedule:
    """A :class:`Schedule` by name (see :func:`make_betas`), optionally rescaled to zero terminal SNR."""
    betas = make_betas(name, T, **kwargs)
    label = name
    if rescale_to_zero_snr:
        betas = rescale_zero_terminal_snr(betas)
        label += "+zero_snr"
    return Schedule(betas, name=label)


def _check_timesteps(ts: torch.Tensor, T: int) -> torch.Tensor:
    if ts.dim() != 1 or len(ts) == 0:
        raise ValueError("timesteps must be a non-empty 1-D list")
    if ((ts < 0) | (ts >= T)).any():
        raise ValueError(f"timesteps must lie in [0, {T}) (0-based; {T - 1} is the noisiest), got {ts.tolist()}")
    if len(ts) > 1 and not (ts[:-1] > ts[1:]).all():
        dup = len(torch.unique(ts)) < len(ts)
        what = "contain duplicates" if dup else "are not strictly descending"
        raise ValueError(f"timesteps {what}: {ts.tolist()[:12]}{'...' if len(ts) > 12 else ''}; "
                         "give them strictly descending, noisiest first")
    return ts


def timesteps(T: int, steps: int | None = None, spacing: str | Sequence[int] = "leading",
              steps_offset: int = 0) -> torch.Tensor:
    """Descending sampling timesteps (0-based, LongTensor), noisiest first.

    Spacings, following diffusers' ``timestep_spacing`` (Lin et al. 2023, Table 2):

    * ``leading``:  (arange(S) * (T // S))[::-1] + steps_offset -- DDIM's "uniform"
      (paper App. D.2, ``range(0, T, T // S)``). For T=1000, S=10: 900, 800, ..., 0. Never visits T-1.
    * ``trailing``: round(arange(T, 0, -T/S)) - 1. For S=10: 999, 899, ..., 99. Starts at the noisiest step.
    * ``linspace``: round(linspace(0, T-1, S))[::-1]. For S=10: 999, 888, ..., 0.
    * ``quad``:     int(linspace(0, sqrt(0.8 T), S)^2)[::-1], DDIM paper App. D.2. Gives duplicates
      for large S; those are rejected.
    * a list of ints: used as given, after validation.
    """
    if not isinstance(T, int) or T < 1:
        raise ValueError(f"T must be a positive integer, got {T!r}")
    if not isinstance(spacing, str):
        return _check_timesteps(torch.as_tensor(list(spacing), dtype=torch.long), T)
    if isinstance(steps, bool) or not isinstance(steps, int) or not 1 <= steps <= T:
        raise ValueError(f"steps must be an integer in 1..{T} (T={T}), got {steps!r}")
    S = steps
    if spacing == "leading":
        ts = torch.arange(S, dtype=torch.long) * (T // S) + steps_offset
        ts = ts.flip(0)
    elif spacing == "trailing":
        import numpy as np
        ts = torch.from_numpy(np.round(np.arange(T, 0, -T / S)).astype(np.int64) - 1)
    elif spacing == "linspace":
        ts = torch.linspace(0, T - 1, S, dtype=torch.float64).round().long().flip(0)
    elif spacing == "quad":
        ts = (torch.linspace(0, math.sqrt(T * 0.8), S, dtype=torch.float64) ** 2).long().flip(0)
        if len(torch.unique(ts)) < S:
            ok = max(s for s in range(1, S) if len(torch.unique(
                (torch.linspace(0, math.sqrt(T * 0.8), s, dtype=torch.float64) ** 2).long())) == s)
            raise ValueError(f"quad spacing gives duplicate timesteps for steps={S}, T={T}; "
                             f"use steps <= {ok} or another spacing")
    else:
        raise ValueError(f"unknown spacing {spacing!r}; choose one of {', '.join(SPACINGS)} or pass a list")
    if steps_offset and spacing != "leading":
        raise ValueError("steps_offset applies only to 'leading' spacing")
    return _check_timesteps(ts, T)
