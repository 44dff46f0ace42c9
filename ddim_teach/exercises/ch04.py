"""Chapter 4 exercises: the DDIM step, the leading and trailing timestep lists, the ᾱ_prev of every step, and the
whole DDIM sampler loop.

``alpha_bar`` is DDPM's ᾱ (the DDIM paper's α). Scalars are 0-dim float64 tensors, as ``samplers.sample`` passes
them. The DDIM step's wrong answers are the broken updates of :mod:`ddim_teach.pitfalls` (the pitfalls clinic uses
the same functions); the timestep and ᾱ_prev mistakes are written here. The references are
:func:`ddim_teach.samplers.ddim_step`, :func:`ddim_teach.schedules.timesteps` and
:func:`ddim_teach.formulas.alpha_bar_prevs`; the loop's is :func:`ddim_teach.samplers.sample_ddim`, run on the exact
Gaussian oracle, so that a wrong loop shows as a wrong number and not as a worse picture.
"""
from __future__ import annotations

import numpy as np
import torch

from .. import formulas, oracles, samplers, schedules
from ..denoiser import Denoiser
from ..mistakes import get as named, register as mistake
from . import Case, Exercise, register
from ._cases import F64 as _F64, ONE as _ONE, SCHEDULE as _S, ddim_step_case


# ------------------------------------------------------------------------------------------ 4.1 ddim_step

def _step_cases():
    g = torch.Generator().manual_seed(41)

    def case(label, label_zh, t, t_prev, eta, dtype=_F64):
        x, eps, z = (torch.randn(3, 1, 4, 4, generator=g, dtype=_F64) for _ in range(3))   # fresh for each case
        return ddim_step_case(label, label_zh, x, eps, t, t_prev, eta, z, dtype)

    return [case("η = 0 at t = 500 → 480", "η = 0，t = 500 → 480", 500, 480, 0.0),
            case("η = 1 at t = 500 → 480", "η = 1，t = 500 → 480", 500, 480, 1.0),
            case("η = 0.5 over a skip of 500 (999 → 499)", "η = 0.5，跨 500 步（999 → 499）", 999, 499, 0.5),
            case("η = 1 over a skip of 200 (999 → 799)", "η = 1，跨 200 步（999 → 799）", 999, 799, 1.0),
            case("η = 1 for one step (10 → 9)", "η = 1，只走一步（10 → 9）", 10, 9, 1.0),
            case("last step (99 → ᾱ_prev = 1) at η = 1", "最后一步（99 → ᾱ_prev = 1），η = 1", 99, None, 1.0),
            case("float32 batch at η = 1 (300 → 200)", "float32 批次，η = 1（300 → 200）", 300, 200, 1.0, torch.float32),
            case("float32 batch at η = 0 (999 → 899)", "float32 批次，η = 0（999 → 899）", 999, 899, 0.0, torch.float32)]


def _step_direction_alpha_bar_t(x_t, eps_hat, ab, abp, eta=0.0, noise=None):
    x0_hat = formulas.predict_x0(x_t, eps_hat, ab)
    sigma = formulas.ddim_sigma(ab, abp, eta)
    x_prev = abp.sqrt() * x0_hat + (1 - ab - sigma ** 2).clamp(min=0).sqrt() * eps_hat
    return (x_prev + sigma * noise if noise is not None else x_prev), x0_hat


def _step_noise_term_missing(x_t, eps_hat, ab, abp, eta=0.0, noise=None):
    x0_hat = formulas.predict_x0(x_t, eps_hat, ab)
    sigma = formulas.ddim_sigma(ab, abp, eta)
    return abp.sqrt() * x0_hat + (1 - abp - sigma ** 2).clamp(min=0).sqrt() * eps_hat, x0_hat   # no + σ z


register(Exercise(
    name="ddim_step", chapter=4,
    signature="ddim_step(x_t, eps_hat, alpha_bar_t, alpha_bar_prev, eta, noise) -> x_prev or (x_prev, x0_hat)",
    reference=samplers.ddim_step, cases=_step_cases, output="first",
    doc="one DDIM step, eq. 12 with σ_t(η) of eq. 16",
    mistakes=(
        named("variance_for_std"),
        named("alpha_for_alpha_bar"),
        named("returns_x0_hat"),
        named("noise_scale_tutorial"),
        named("noise_at_full_level"),
        named("direction_without_sigma"),
        named("direction_without_sqrt"),
        named("signal_without_sqrt"),
        mistake("direction_alpha_bar_t", _step_direction_alpha_bar_t),
        mistake("noise_term_missing", _step_noise_term_missing),
    )))


# ------------------------------------------------------------------------------------------ 4.2 timesteps

def _ts_cases():
    return [Case((1000, 10, "leading"), "leading with S = 10", label_zh="leading，S = 10"),
            Case((1000, 10, "trailing"), "trailing with S = 10", label_zh="trailing，S = 10"),
            Case((1000, 3, "leading"), "leading with S = 3", label_zh="leading，S = 3"),
            Case((1000, 3, "trailing"), "trailing with S = 3 (T/S not an integer)", label_zh="trailing，S = 3（T/S 不是整数）"),
            Case((1000, 7, "trailing"), "trailing with S = 7", label_zh="trailing，S = 7"),
            Case((1000, 30, "leading"), "leading with S = 30", label_zh="leading，S = 30"),
            Case((50, 4, "trailing"), "trailing with T = 50 and S = 4", label_zh="trailing，T = 50，S = 4"),
            Case((1000, 1000, "trailing"), "trailing with S = T = 1000", label_zh="trailing，S = T = 1000")]


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


def _ts_round_half_up(T, steps, spacing):
    if spacing == "leading":
        return schedules.timesteps(T, steps, spacing)
    return torch.tensor([int(np.floor(T - i * T / steps + 0.5)) - 1 for i in range(steps)], dtype=torch.long)


def _ts_truncated(T, steps, spacing):
    if spacing == "leading":
        return schedules.timesteps(T, steps, spacing)
    return torch.from_numpy(np.floor(np.arange(T, 0, -T / steps)).astype(np.int64) - 1)


register(Exercise(
    name="timesteps", chapter=4,
    signature="timesteps(T, steps, spacing) -> LongTensor of `steps` timesteps, descending (spacing 'leading' or 'trailing')",
    reference=schedules.timesteps, cases=_ts_cases,
    doc="the leading and trailing timestep lists (0-based, noisiest first)",
    mistakes=(
        mistake("timesteps_one_based", _ts_one_based),
        mistake("ascending", _ts_ascending),
        mistake("integer_stride", _ts_integer_stride),
        mistake("leading_trailing_swapped", _ts_swapped),
        mistake("linspace_for_trailing", _ts_linspace),
        mistake("round_half_up", _ts_round_half_up),
        mistake("trailing_truncated", _ts_truncated),
    )))


# ------------------------------------------------------------------------------------------ 4.3 alpha_bar_prevs

def _abp_reference(alpha_bars, timesteps):
    """The ᾱ_prev of every step, as the samplers compute them."""
    return formulas.alpha_bar_prevs(alpha_bars, torch.as_tensor(timesteps).long())


def _abp_cases():
    ab = _S.alpha_bars
    cos = schedules.make_schedule("cosine", 1000).alpha_bars
    lin50 = schedules.make_schedule("linear", 50).alpha_bars
    return [Case((ab, schedules.timesteps(1000, 10, "leading")), "leading with S = 10 [900 … 0]", label_zh="leading，S = 10 [900 … 0]"),
            Case((ab, schedules.timesteps(1000, 10, "trailing")), "trailing with S = 10 [999 … 99]", label_zh="trailing，S = 10 [999 … 99]"),
            Case((ab, schedules.timesteps(1000, 7, "linspace")), "linspace with S = 7 [999 … 0]", label_zh="linspace，S = 7 [999 … 0]"),
            Case((ab, torch.tensor([999, 500, 100, 5])), "a list of your own [999 500 100 5]", label_zh="自定义序列 [999 500 100 5]"),
            Case((ab, torch.tensor([999])), "one step [999]", label_zh="只有一步 [999]"),
            Case((cos, schedules.timesteps(1000, 20, "trailing")), "cosine schedule (trailing with S = 20)", label_zh="cosine 噪声调度（trailing，S = 20）"),
            Case((lin50, schedules.timesteps(50, 4, "trailing")), "T = 50 (trailing with S = 4)", label_zh="T = 50（trailing，S = 4）")]


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


def _abp_one_step_wrapped(alpha_bars, timesteps):
    return alpha_bars[torch.as_tensor(timesteps).long() - 1]     # at t = 0, index -1: the noisiest ᾱ


def _abp_own(alpha_bars, timesteps):
    return alpha_bars[torch.as_tensor(timesteps).long()]


register(Exercise(
    name="alpha_bar_prevs", chapter=4,
    signature="alpha_bar_prevs(alpha_bars, timesteps) -> float64 tensor: the ᾱ_prev that each step of the list moves to",
    reference=_abp_reference, cases=_abp_cases,
    doc="the ᾱ_prev of every step: the next entry of the list, and 1 after the last",
    mistakes=(
        mistake("final_alpha_bar_T", _abp_final_T),
        mistake("final_alpha_bar_0", _abp_final_0),
        mistake("fixed_stride", _abp_fixed_stride),
        mistake("one_step_back", _abp_one_step),
        mistake("one_step_back_wrapped", _abp_one_step_wrapped),
        mistake("own_alpha_bar", _abp_own),
    )))


# ------------------------------------------------------------------------------------------ 4.4 ddim_sample_loop

_LOOP_ORACLE = oracles.GaussianOracle(_S, mu=0.3, s=0.5)


def _loop_reference(model, schedule, x_T, timesteps, eta=0.0, noises=None):
    return samplers.sample_ddim(Denoiser(model, schedule), x_T, torch.as_tensor(timesteps).long(), eta,
                                noises=noises if eta > 0 else None)


def _loop_cases():
    g = torch.Generator().manual_seed(44)
    x_T = torch.randn(4, 1, 3, 3, generator=g, dtype=_F64)
    trailing, leading = schedules.timesteps(1000, 10, "trailing"), schedules.timesteps(1000, 5, "leading")
    noises = torch.randn(10, 4, 1, 3, 3, generator=g, dtype=_F64)
    short = schedules.timesteps(1000, 4, "trailing")
    return [Case((_LOOP_ORACLE, _S, x_T, trailing), "η = 0, 10 trailing timesteps [999 … 99]",
                 label_zh="η = 0，10 个 trailing 时间步 [999 … 99]"),
            Case((_LOOP_ORACLE, _S, x_T, leading), "η = 0, 5 leading timesteps [800 … 0]",
                 label_zh="η = 0，5 个 leading 时间步 [800 … 0]"),
            Case((_LOOP_ORACLE, _S, x_T, torch.tensor([999, 500, 20])), "η = 0, an uneven list [999, 500, 20]",
                 label_zh="η = 0，不均匀的列表 [999, 500, 20]"),
            Case((_LOOP_ORACLE, _S, x_T, trailing, 0.5, noises), "η = 0.5 with the given noises, trailing S = 10",
                 label_zh="η = 0.5，使用给定的噪声，trailing S = 10"),
            Case((_LOOP_ORACLE, _S, x_T.float(), short, 1.0, noises[:4].float()),
                 "η = 1, float32, trailing S = 4", label_zh="η = 1，float32，trailing S = 4")]


def _loop(model, schedule, x_T, timesteps, eta, noises, *, order=lambda ts: ts, prev=None, model_t=None,
          skip_last=False):
    """A DDIM loop with one slip: ``order`` the timesteps, ``prev(i, ts)`` the ᾱ_prev of step i, ``model_t`` what
    the model is given for t, ``skip_last`` stopping before the final step to the clean image."""
    ts = [int(t) for t in order(list(torch.as_tensor(timesteps).tolist()))]
    ab = schedule.alpha_bars
    x = x_T
    for i, t in enumerate(ts):
        if skip_last and i == len(ts) - 1:
            break
        ab_prev = prev(i, ts, ab) if prev is not None else (ab[ts[i + 1]] if i + 1 < len(ts) else _ONE)
        t_in = model_t(i, t) if model_t is not None else t
        eps = model(x, torch.full((x.shape[0],), t_in, dtype=torch.long))
        # eq. 12 and 16 written out, without the package's checks: a loop that steps the wrong way gives NaN
        # where a student's own arithmetic does (the square root of a negative number)
        a, ap = ab[t], ab_prev
        sigma = eta * ((1 - ap) / (1 - a)).sqrt() * (1 - a / ap).sqrt() if eta > 0 else 0.0
        x0_hat = (x - (1 - a).sqrt() * eps) / a.sqrt()
        x = ap.sqrt() * x0_hat + (1 - ap - sigma ** 2).sqrt() * eps + (sigma * noises[i] if eta > 0 else 0)
    return x


def _loop_ascending(model, schedule, x_T, timesteps, eta=0.0, noises=None):
    return _loop(model, schedule, x_T, timesteps, eta, noises, order=lambda ts: sorted(ts))


def _loop_prev_t_minus_1(model, schedule, x_T, timesteps, eta=0.0, noises=None):
    return _loop(model, schedule, x_T, timesteps, eta, noises, prev=lambda i, ts, ab: ab[ts[i] - 1] if ts[i] > 0 else _ONE)


def _loop_last_alpha_bar_0(model, schedule, x_T, timesteps, eta=0.0, noises=None):
    return _loop(model, schedule, x_T, timesteps, eta, noises,
                 prev=lambda i, ts, ab: ab[ts[i + 1]] if i + 1 < len(ts) else ab[0])


def _loop_last_wrapped(model, schedule, x_T, timesteps, eta=0.0, noises=None):
    return _loop(model, schedule, x_T, timesteps, eta, noises,
                 prev=lambda i, ts, ab: ab[ts[i + 1]] if i + 1 < len(ts) else ab[-1])


def _loop_prev_previous_entry(model, schedule, x_T, timesteps, eta=0.0, noises=None):
    return _loop(model, schedule, x_T, timesteps, eta, noises, prev=lambda i, ts, ab: ab[ts[i - 1]])


def _loop_skips_last(model, schedule, x_T, timesteps, eta=0.0, noises=None):
    return _loop(model, schedule, x_T, timesteps, eta, noises, skip_last=True)


def _loop_model_gets_index(model, schedule, x_T, timesteps, eta=0.0, noises=None):
    return _loop(model, schedule, x_T, timesteps, eta, noises, model_t=lambda i, t: i)


register(Exercise(
    name="ddim_sample_loop", chapter=4,
    signature="ddim_sample_loop(model, schedule, x_T, timesteps, eta=0.0, noises=None) -> x_0",
    reference=_loop_reference, cases=_loop_cases,
    doc="the whole DDIM sampler: down the descending list, ᾱ_prev the next entry's and 1 after the last, "
        "model(x, t) at each listed t, noises[i] at step i when η > 0",
    mistakes=(
        mistake("loop_ascending", _loop_ascending),
        mistake("loop_prev_t_minus_1", _loop_prev_t_minus_1),
        mistake("loop_last_alpha_bar_0", _loop_last_alpha_bar_0),
        mistake("loop_last_wrapped", _loop_last_wrapped),
        mistake("loop_prev_previous_entry", _loop_prev_previous_entry),
        mistake("loop_skips_last_step", _loop_skips_last),
        mistake("loop_model_gets_index", _loop_model_gets_index),
    )))
