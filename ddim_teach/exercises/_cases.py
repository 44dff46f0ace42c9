"""What the chapters' case builders share: the linear T = 1000 schedule, its ᾱ by timestep (with the last step's
ᾱ_prev = 1), seeded random batches, and a case for a step with :func:`ddim_teach.samplers.ddim_step`'s signature.

``alpha_bar`` is DDPM's ᾱ (the DDIM paper's α). Scalars are 0-dim float64 tensors, as ``samplers.sample`` passes them.
"""
from __future__ import annotations

from typing import Optional

import torch

from .. import schedules
from . import Case

F64 = torch.float64
SCHEDULE = schedules.make_schedule("linear", 1000)
ONE = torch.tensor(1.0, dtype=F64)      # ᾱ_prev of the last step: the clean image


def alpha_bar(t: Optional[int]) -> torch.Tensor:
    """ᾱ_t of :data:`SCHEDULE`; ``None``: 1, the ᾱ_prev that the last step moves to."""
    return ONE if t is None else SCHEDULE.alpha_bars[t]


def randn(shape, seed: int, dtype=F64, scale: float = 1.0) -> torch.Tensor:
    """A standard normal batch drawn in float64 from its own seed, then cast (a float32 case holds the same numbers)."""
    return scale * torch.randn(shape, generator=torch.Generator().manual_seed(seed), dtype=F64).to(dtype)


def ddim_step_case(label: str, label_zh: str, x_t, eps_hat, t: int, t_prev: Optional[int], eta: float, noise,
                   dtype=F64) -> Case:
    """The inputs (x_t, eps_hat, ᾱ_t, ᾱ_prev, η, noise) of a step t → t_prev (``None``: the last step, ᾱ_prev = 1);
    the tensors cast to ``dtype``, the ᾱ's left in float64."""
    x_t, eps_hat, noise = (None if v is None else v.to(dtype) for v in (x_t, eps_hat, noise))
    return Case((x_t, eps_hat, alpha_bar(t), alpha_bar(t_prev), eta, noise), label, label_zh=label_zh)
