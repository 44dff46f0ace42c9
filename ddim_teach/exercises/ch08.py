"""Chapter 8 exercises: find the bug in two mystery step functions, and write a bug detector.

The two mystery steps are broken steps of the clinic, :func:`ddim_teach.pitfalls.mystery_step` and
:func:`~ddim_teach.pitfalls.mystery_step_2`, importable from here (the notebook prints their source and runs them
in the sampler); each has :func:`ddim_teach.samplers.ddim_step`'s signature. ``alpha_bar`` is DDPM's ᾱ. The fixes
are checked against ``ddim_step``, and their wrong answers are the clinic's broken steps; the detector is checked
against :func:`ddim_teach.pitfalls.identify_step`.
"""
from __future__ import annotations

import torch

from .. import pitfalls, samplers
from ..mistakes import get as named, register as mistake
from ..pitfalls import mystery_step, mystery_step_2
from . import Case, Exercise, register
from ._cases import ONE as _ONE, SCHEDULE as _SCHEDULE, alpha_bar as _ab, ddim_step_case, randn as _randn

__all__ = ["mystery_step", "mystery_step_2"]


def _step_cases():
    x, e, z = _randn((4, 1, 5, 5), 0), _randn((4, 1, 5, 5), 1), _randn((4, 1, 5, 5), 2)
    return [ddim_step_case("η = 0, t = 500 → 450", "η = 0，t = 500 → 450", x, e, 500, 450, 0.0, None),
            ddim_step_case("η = 1, t = 500 → 450", "η = 1，t = 500 → 450", x, e, 500, 450, 1.0, z),
            ddim_step_case("η = 0.5, first step t = 999 → 899", "η = 0.5，第一步 t = 999 → 899", x, e, 999, 899, 0.5, z),
            ddim_step_case("η = 1, a skip of 900 timesteps", "η = 1，跳过 900 个时间步", x, e, 999, 99, 1.0, z),
            ddim_step_case("last step (ᾱ_prev = 1), η = 1", "最后一步（ᾱ_prev = 1），η = 1", x, e, 49, None, 1.0, z),
            ddim_step_case("float32 batch, η = 1", "float32 批次，η = 1", x, e, 300, 200, 1.0, z, torch.float32)]


# ------------------------------------------------------------------------------------------ 8.1 fix_mystery_step

register(Exercise(
    name="fix_mystery_step", chapter=8,
    signature="fix_mystery_step(x_t, eps_hat, alpha_bar_t, alpha_bar_prev, eta=0.0, noise=None) -> (x_prev, x0_hat) or x_prev",
    reference=samplers.ddim_step,
    cases=_step_cases,
    mistakes=(
        named("noise_scale_tutorial"),
        named("variance_for_std"),
        named("direction_without_sigma"),
        named("noise_dropped"),
    ),
    output="first",
    doc="Correct the mystery step: the DDIM step of eq. 12 with σ from eq. 16.",
))


# ------------------------------------------------------------------------------------------ 8.2 fix_mystery_step_2

register(Exercise(
    name="fix_mystery_step_2", chapter=8,
    signature="fix_mystery_step_2(x_t, eps_hat, alpha_bar_t, alpha_bar_prev, eta=0.0, noise=None) -> (x_prev, x0_hat) or x_prev",
    reference=samplers.ddim_step,
    cases=_step_cases,
    mistakes=(
        named("x0_over_alpha_bar"),
        named("missing_sqrt_noise"),
        named("alpha_for_alpha_bar"),
        named("returns_x0_hat"),
    ),
    output="first",
    doc="Correct the second mystery step: x̂₀ = (x_t − √(1 − ᾱ_t) ε̂)/√ᾱ_t (DDIM eq. 9).",
))


# ------------------------------------------------------------------------------------------ 8.3 name_the_bug

def _unknown_bug(x_t, eps_hat, alpha_bar_t, alpha_bar_prev, eta=0.0, noise=None):
    x_prev, x0_hat = samplers.ddim_step(x_t, eps_hat, alpha_bar_t, alpha_bar_prev, eta, noise)
    return x_prev.clamp(-1, 1), x0_hat          # a bug that is not in the clinic's list


def _bug_cases():
    return [Case((samplers.ddim_step,), "the correct ddim_step", label_zh="正确的 ddim_step"),
            Case((pitfalls.alpha_for_alpha_bar,), "bug 1 (α for ᾱ)", label_zh="bug 1（该用 ᾱ 处用了 α）"),
            Case((pitfalls.variance_for_std,), "bug 2 (σ² for σ)", label_zh="bug 2（该用 σ 处用了 σ²）"),
            Case((pitfalls.returns_x0_hat,), "bug 3 (returns x̂₀)", label_zh="bug 3（返回 x̂₀）"),
            Case((pitfalls.wrapped_final_alpha_bar(_SCHEDULE.alpha_bars[-1]),), "bug 5 (wrapped final ᾱ_prev)", label_zh="bug 5（最后一步的 ᾱ_prev 下标回绕）"),
            Case((_unknown_bug,), "a bug not in the list", label_zh="不在列表中的 bug")]


def _probe_outputs(step_fn, probes):
    g = torch.Generator().manual_seed(1)
    x, eps, z = (torch.randn(2, 1, 3, 3, generator=g, dtype=torch.float64) for _ in range(3))
    out = []
    for a, b, eta in probes:
        r = step_fn(x.clone(), eps.clone(), a, b, eta, z.clone() if eta > 0 else None)
        out.append(r[0] if isinstance(r, tuple) else r)
    return out


_EXERCISE_BUGS = ("alpha_for_alpha_bar", "variance_for_std", "returns_x0_hat", "wrapped_final_alpha_bar")   # 8.3's


def _detector(probes):
    """A detector as a student writes it, knowing the bugs that exercise 8.3 names, with the given probes."""
    def name_the_bug(step_fn):
        got = _probe_outputs(step_fn, probes)
        cands = {"correct": samplers.ddim_step, **{n: named(n).fn for n in _EXERCISE_BUGS}}
        for key, fn in cands.items():
            if all(torch.allclose(a, b) for a, b in zip(got, _probe_outputs(fn, probes))):
                return key
        return "unknown"
    return name_the_bug


_MID = (_ab(500), _ab(400))
_LAST = (_ab(49), _ONE)

register(Exercise(
    name="name_the_bug", chapter=8,
    signature="name_the_bug(step_fn) -> str   ('correct', a pitfalls function's name, or 'unknown')",
    reference=pitfalls.identify_step,
    cases=_bug_cases,
    mistakes=(
        mistake("only_eta_0", _detector([(*_MID, 0.0), (*_LAST, 0.0)])),
        mistake("never_last_step", _detector([(*_MID, 0.0), (*_MID, 1.0)])),
        mistake("only_last_step", _detector([(*_LAST, 0.0)])),
    ),
    doc="Tell which known bug a step function has by calling it on inputs where the bugs differ.",
))
