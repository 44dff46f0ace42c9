"""Chapter 4 exercises: the DDIM step, the leading and trailing timestep lists, and the ᾱ_prev of every step.

``alpha_bar`` is DDPM's ᾱ (the DDIM paper's α). Scalars are 0-dim float64 tensors, as ``samplers.sample`` passes
them. The DDIM step's wrong answers are the broken updates of :mod:`ddim_teach.pitfalls` (the pitfalls clinic uses
the same functions); the timestep and ᾱ_prev mistakes are written here.
"""
from __future__ import annotations

import numpy as np
import torch

from .. import pitfalls, samplers, schedules
from . import Case, Exercise, Mistake, register

_F64 = torch.float64
_S = schedules.make_schedule("linear", 1000)
_ONE = torch.tensor(1.0, dtype=_F64)


def _ab(t: int) -> torch.Tensor:
    return _S.alpha_bar(t)


# ------------------------------------------------------------------------------------------ 4.1 ddim_step

def _step_cases():
    g = torch.Generator().manual_seed(41)

    def xs(dtype=_F64, shape=(3, 1, 4, 4)):
        return tuple(torch.randn(shape, generator=g, dtype=_F64).to(dtype) for _ in range(3))   # x_t, eps_hat, z

    def case(label, t, t_prev, eta, dtype=_F64):
        x, eps, z = xs(dtype)
        abp = _ONE if t_prev is None else _ab(t_prev)
        return Case((x, eps, _ab(t), abp, eta, z), label)

    return [case("η = 0 at t = 500 → 480", 500, 480, 0.0),
            case("η = 1 at t = 500 → 480", 500, 480, 1.0),
            case("η = 0.5 over a skip of 500 (999 → 499)", 999, 499, 0.5),
            case("η = 1 over a skip of 200 (999 → 799)", 999, 799, 1.0),
            case("η = 1 for one step (10 → 9)", 10, 9, 1.0),
            case("last step (99 → ᾱ_prev = 1) at η = 1", 99, None, 1.0),
            case("float32 batch at η = 1 (300 → 200)", 300, 200, 1.0, torch.float32),
            case("float32 batch at η = 0 (999 → 899)", 999, 899, 0.0, torch.float32)]


def _step_reference(x_t, eps_hat, alpha_bar_t, alpha_bar_prev, eta, noise):
    return samplers.ddim_step(x_t, eps_hat, alpha_bar_t, alpha_bar_prev, eta, noise)


register(Exercise(
    name="ddim_step", chapter=4,
    signature="ddim_step(x_t, eps_hat, alpha_bar_t, alpha_bar_prev, eta, noise) -> x_prev or (x_prev, x0_hat)",
    reference=_step_reference, cases=_step_cases, output="first",
    doc="one DDIM step, eq. 12 with σ_t(η) of eq. 16",
    mistakes=(
        Mistake("sigma_squared", "σ² used where σ is meant (the noise is σ_t² z)",
                "σ_t from eq. 16 is a standard deviation: the noise is multiplied by it, not by its square.",
                pitfalls.variance_for_std),
        Mistake("alpha_for_alpha_bar", "DDPM's one-step α_t = ᾱ_t/ᾱ_prev used where ᾱ_t is meant",
                "x̂₀ comes from x_t = √ᾱ_t x₀ + √(1 − ᾱ_t) ε with the cumulative ᾱ_t (the DDIM paper's α_t), "
                "not the one-step ratio.", pitfalls.alpha_for_alpha_bar),
        Mistake("returns_x0_hat", "x̂₀ returned as the next x",
                "x̂₀ is the prediction of the clean image; the step must return x at the next, smaller noise level, "
                "which mixes x̂₀ with a direction and noise.", pitfalls.returns_x0_hat),
        Mistake("noise_scale_tutorial", "the noise added at the wrong scale, η·√(1 − ᾱ_prev)·z (as a widely copied "
                "tutorial writes it)",
                "the fresh noise is σ_t z, with σ_t from eq. 16; √(1 − ᾱ_prev) is the whole noise level of x_prev, "
                "not the part the step adds.", pitfalls.noise_scale_tutorial),
        Mistake("direction_without_sigma", "the direction term without −σ²: √(1 − ᾱ_prev)·ε̂",
                "the noise σ_t z takes part of x_prev's noise variance 1 − ᾱ_prev; the direction term gets only "
                "what is left.", pitfalls.direction_without_sigma),
        Mistake("direction_without_sqrt", "a missing square root: the direction coefficient is (1 − ᾱ_prev − σ²)",
                "1 − ᾱ_prev − σ_t² is a variance; ε̂ is multiplied by a standard deviation.",
                pitfalls.direction_without_sqrt),
        Mistake("signal_without_sqrt", "a missing square root: x̂₀ scaled by ᾱ_prev instead of √ᾱ_prev",
                "the forward process scales x₀ by √ᾱ, not by ᾱ.", pitfalls.signal_without_sqrt),
    )))


# ------------------------------------------------------------------------------------------ 4.2 timesteps

def _ts_cases():
    return [Case((1000, 10, "leading"), "leading with S = 10"),
            Case((1000, 10, "trailing"), "trailing with S = 10"),
            Case((1000, 3, "leading"), "leading with S = 3"),
            Case((1000, 3, "trailing"), "trailing with S = 3 (T/S not an integer)"),
            Case((1000, 7, "trailing"), "trailing with S = 7"),
            Case((1000, 30, "leading"), "leading with S = 30"),
            Case((50, 4, "trailing"), "trailing with T = 50 and S = 4"),
            Case((1000, 1000, "trailing"), "trailing with S = T = 1000")]


def _ts_reference(T, steps, spacing):
    return schedules.timesteps(T, steps, spacing)


def _ts_one_based(T, steps, spacing):
    if spacing == "leading":
        return (torch.arange(steps) * (T // steps) + 1).flip(0)
    return torch.from_numpy(np.round(np.arange(T, 0, -T / steps)).astype(np.int64))


def _ts_ascending(T, steps, spacing):
    return schedules.timesteps(T, steps, spacing).flip(0)


def _ts_integer_stride(T, steps, spacing):
    if spacing == "leading":
        return schedules.timesteps(T, steps, spacing)
    return T - 1 - torch.arange(steps) * (T // steps)


def _ts_swapped(T, steps, spacing):
    return schedules.timesteps(T, steps, "trailing" if spacing == "leading" else "leading")


def _ts_linspace(T, steps, spacing):
    if spacing == "leading":
        return schedules.timesteps(T, steps, spacing)
    return schedules.timesteps(T, steps, "linspace")


register(Exercise(
    name="timesteps", chapter=4,
    signature="timesteps(T, steps, spacing) -> LongTensor of `steps` timesteps, descending (spacing 'leading' or 'trailing')",
    reference=_ts_reference, cases=_ts_cases,
    doc="the leading and trailing timestep lists (0-based, noisiest first)",
    mistakes=(
        Mistake("one_based", "1-based timesteps (t = 1 … T)",
                "the package's timesteps are 0-based: t runs from 0 to T − 1, and T − 1 is the noisiest.", _ts_one_based),
        Mistake("ascending", "the list in ascending order",
                "sampling goes from noise to data: the list starts at the noisiest timestep.", _ts_ascending),
        Mistake("integer_stride", "trailing with an integer stride T // S",
                "for trailing, the positions T, T − T/S, T − 2T/S, … are fractions in general: round them, "
                "then shift to 0-based.", _ts_integer_stride),
        Mistake("swapped", "leading and trailing swapped",
                "leading counts up from 0 (so it never reaches T − 1); trailing counts down from T.", _ts_swapped),
        Mistake("linspace_for_trailing", "linspace spacing given for trailing",
                "linspace includes both t = T − 1 and t = 0; trailing starts at T − 1 and stops one stride above 0.",
                _ts_linspace),
    )))


# ------------------------------------------------------------------------------------------ 4.3 alpha_bar_prevs

def _probe_model(x, t):
    return torch.zeros_like(x)


def _abp_reference(alpha_bars, timesteps):
    """The ᾱ_prev of every step, as ``samplers.sample`` computes them (read from its Trajectory; the probe
    model returns zeros, so only the schedule lookup matters)."""
    sch = schedules.Schedule(torch.full((len(alpha_bars),), 0.01, dtype=_F64))
    sch.alpha_bars = alpha_bars            # the given ᾱ's, exactly
    x = torch.zeros(1, 1, dtype=_F64)
    ts = [int(t) for t in timesteps]
    return samplers.sample(_probe_model, sch, x, timesteps=ts, record_every=None, progress=False).alpha_bar_prevs


def _abp_cases():
    ab = _S.alpha_bars
    cos = schedules.make_schedule("cosine", 1000).alpha_bars
    lin50 = schedules.make_schedule("linear", 50).alpha_bars
    return [Case((ab, schedules.timesteps(1000, 10, "leading")), "leading with S = 10 [900 … 0]"),
            Case((ab, schedules.timesteps(1000, 10, "trailing")), "trailing with S = 10 [999 … 99]"),
            Case((ab, schedules.timesteps(1000, 7, "linspace")), "linspace with S = 7 [999 … 0]"),
            Case((ab, torch.tensor([999, 500, 100, 5])), "a list of your own [999 500 100 5]"),
            Case((ab, torch.tensor([999])), "one step [999]"),
            Case((cos, schedules.timesteps(1000, 20, "trailing")), "cosine schedule (trailing with S = 20)"),
            Case((lin50, schedules.timesteps(50, 4, "trailing")), "T = 50 (trailing with S = 4)")]


def _abp_with_final(alpha_bars, timesteps, final):
    ts = torch.as_tensor(timesteps).long()
    return torch.cat([alpha_bars[ts[1:]], final.reshape(1)])


def _abp_final_T(alpha_bars, timesteps):
    return _abp_with_final(alpha_bars, timesteps, alpha_bars[-1])


def _abp_final_0(alpha_bars, timesteps):
    return _abp_with_final(alpha_bars, timesteps, alpha_bars[0])


def _abp_fixed_stride(alpha_bars, timesteps):
    ts = torch.as_tensor(timesteps).long()
    stride = len(alpha_bars) // len(ts)
    return torch.stack([alpha_bars[t - stride] if t - stride >= 0 else _ONE for t in ts.tolist()])


def _abp_one_step(alpha_bars, timesteps):
    ts = torch.as_tensor(timesteps).long()
    return torch.stack([alpha_bars[t - 1] if t >= 1 else _ONE for t in ts.tolist()])


def _abp_own(alpha_bars, timesteps):
    return alpha_bars[torch.as_tensor(timesteps).long()]


register(Exercise(
    name="alpha_bar_prevs", chapter=4,
    signature="alpha_bar_prevs(alpha_bars, timesteps) -> float64 tensor: the ᾱ_prev that each step of the list moves to",
    reference=_abp_reference, cases=_abp_cases,
    doc="the ᾱ_prev of every step: the next entry of the list, and 1 after the last",
    mistakes=(
        Mistake("final_alpha_bar_T", "ᾱ_T (alpha_bars[-1], a wrapped index) as the final ᾱ_prev instead of 1",
                "after the last entry the step goes to the clean image; a negative index wraps around to the noisiest "
                "ᾱ (the pitfalls clinic's wrapped_final_alpha_bar).", _abp_final_T),
        Mistake("final_alpha_bar_0", "ᾱ_0 as the final ᾱ_prev instead of 1",
                "after the last entry the step goes to the clean image, where ᾱ = 1 (diffusers' set_alpha_to_one=True); "
                "ᾱ_0 is a level of noise still.", _abp_final_0),
        Mistake("fixed_stride", "a fixed stride t − T//S instead of the next entry of the list",
                "the step goes to the next timestep of the list; for trailing, linspace or a list of your own that "
                "is not t − T//S.", _abp_fixed_stride),
        Mistake("one_step_back", "ᾱ at t − 1 (one DDPM step) instead of the next entry of the list",
                "with S < T steps, the step from t skips to the next entry of the list, not to t − 1.", _abp_one_step),
        Mistake("own_alpha_bar", "each step's own ᾱ_t instead of the next one",
                "ᾱ_prev belongs to the timestep the step moves to: the next entry of the list.", _abp_own),
    )))
