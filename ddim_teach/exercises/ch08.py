"""Chapter 8 exercises: find the bug in two mystery step functions, and write a bug detector.

The two mystery steps are broken steps of the clinic, :func:`ddim_teach.pitfalls.mystery_step` and
:func:`~ddim_teach.pitfalls.mystery_step_2`, importable from here (the notebook prints their source and runs them
in the sampler); each has :func:`ddim_teach.samplers.ddim_step`'s signature. ``alpha_bar`` is DDPM's ᾱ. The fixes
are checked against ``ddim_step``, and their wrong answers are the clinic's broken steps; the detector is checked
against :func:`identify_step` (below: kept here, not in :mod:`ddim_teach.pitfalls`, which the task sends the student to).
"""
from __future__ import annotations

import torch

from .. import formulas, mistakes, pitfalls, samplers
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

def _sigma_step_beta(x_t, eps_hat, ab, abp, eta=0.0, noise=None):
    x0_hat = (x_t - (1 - ab).sqrt() * eps_hat) / ab.sqrt()
    sigma = eta * (1 - ab / abp).sqrt()                  # the step's own √β, without eq. 16's first factor
    x_prev = abp.sqrt() * x0_hat + (1 - abp - sigma ** 2).clamp(min=0).sqrt() * eps_hat
    return (x_prev + sigma * noise if noise is not None else x_prev), x0_hat





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
        mistake("sigma_step_beta", _sigma_step_beta),
        named("noise_term_missing"),
    ),
    output="first",
    doc="Correct the mystery step: the DDIM step of eq. 12 with σ from eq. 16.",
))


# ------------------------------------------------------------------------------------------ 8.2 fix_mystery_step_2

def _x0_precedence(x_t, eps_hat, ab, abp, eta=0.0, noise=None):
    sigma = formulas.ddim_sigma(ab, abp, eta)
    x0_hat = x_t - (1 - ab).sqrt() * eps_hat / ab.sqrt()    # the parentheses dropped: only ε̂'s term is divided
    x_prev = abp.sqrt() * x0_hat + (1 - abp - sigma ** 2).clamp(min=0).sqrt() * eps_hat
    return (x_prev + sigma * noise if noise is not None else x_prev), x0_hat


def _x0_over_sqrt_prev(x_t, eps_hat, ab, abp, eta=0.0, noise=None):
    sigma = formulas.ddim_sigma(ab, abp, eta)
    x0_hat = (x_t - (1 - ab).sqrt() * eps_hat) / abp.sqrt()
    x_prev = abp.sqrt() * x0_hat + (1 - abp - sigma ** 2).clamp(min=0).sqrt() * eps_hat
    return (x_prev + sigma * noise if noise is not None else x_prev), x0_hat


def _x0_precedence_x_only(x_t, eps_hat, ab, abp, eta=0.0, noise=None):
    sigma = formulas.ddim_sigma(ab, abp, eta)
    x0_hat = x_t / ab.sqrt() - (1 - ab).sqrt() * eps_hat     # the parentheses dropped: only x_t divided
    x_prev = abp.sqrt() * x0_hat + (1 - abp - sigma ** 2).clamp(min=0).sqrt() * eps_hat
    return (x_prev + sigma * noise if noise is not None else x_prev), x0_hat


def _split_sqrt(x_t, eps_hat, ab, abp, eta=0.0, noise=None):
    sigma = formulas.ddim_sigma(ab, abp, eta)
    x0_hat = (x_t - (1 - ab).sqrt() * eps_hat) / ab.sqrt()
    x_prev = abp.sqrt() * x0_hat + ((1 - abp).sqrt() - sigma) * eps_hat    # √(a − σ²) split as √a − σ
    return (x_prev + sigma * noise if noise is not None else x_prev), x0_hat


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
        mistake("x0_precedence", _x0_precedence),
        mistake("x0_over_sqrt_alpha_bar_prev", _x0_over_sqrt_prev),
        mistake("x0_precedence_x_only", _x0_precedence_x_only),
        mistake("split_sqrt", _split_sqrt),
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
            Case((_unknown_bug,), "a bug not in the list", label_zh="不在列表中的 bug"),
            Case((_x_prev_only,), "the correct step, returning x_prev alone", label_zh="正确的一步，只返回 x_prev")]


def _x_prev_only(x_t, eps_hat, alpha_bar_t, alpha_bar_prev, eta=0.0, noise=None):
    return samplers.ddim_step(x_t, eps_hat, alpha_bar_t, alpha_bar_prev, eta, noise)[0]   # a bare tensor, no tuple


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


def _nearest_detector(probes):
    """A detector that names the nearest known step, so that it never answers 'unknown'."""
    def name_the_bug(step_fn):
        got = _probe_outputs(step_fn, probes)
        cands = {"correct": samplers.ddim_step, **{n: named(n).fn for n in _EXERCISE_BUGS}}
        dist = {key: sum(float((a - b).abs().max()) for a, b in zip(got, _probe_outputs(fn, probes)))
                for key, fn in cands.items()}
        return min(dist, key=lambda k: dist[k] if dist[k] == dist[k] else float("inf"))
    return name_the_bug


def _x0_hat_detector(probes):
    """A detector that compares the second output, x̂₀, instead of x_prev."""
    def second(step_fn):
        def f(*a):
            r = step_fn(*a)
            return (r[1], r[1]) if isinstance(r, tuple) else (r, r)
        return f

    def name_the_bug(step_fn):
        got = _probe_outputs(second(step_fn), probes)
        cands = {"correct": samplers.ddim_step, **{n: named(n).fn for n in _EXERCISE_BUGS}}
        for key, fn in cands.items():
            if all(torch.allclose(a, b) for a, b in zip(got, _probe_outputs(second(fn), probes))):
                return key
        return "unknown"
    return name_the_bug


_MID = (_ab(500), _ab(400))
_LAST = (_ab(49), _ONE)

# --- the reference of 8.3: which bug is it? (here, not in pitfalls, which the task points the student to) -----
def identify_step(step_fn, alpha_bar_last=None) -> str:
    """Name the bug in a step function with :func:`ddim_step`'s signature, by probing it.

    Returns ``"correct"`` when ``step_fn`` agrees with :func:`ddim_step` on every probe, the name of the
    broken step of the catalogue (:func:`ddim_teach.mistakes.ddim_steps`, the functions of :mod:`ddim_teach.pitfalls`) whose
    outputs it reproduces on every probe, else ``"unknown"``. The probes are a middle step at eta = 0 and at
    eta = 1 and the last step (alpha_bar_prev = 1): each bug shows on at least one of them, and no two bugs
    agree on all three (a bug in the noise term shows only at eta = 1, the wrapped index only at the last
    step, the one-step alpha only at the middle step). ``alpha_bar_last`` is what the wrapped index of
    ``wrapped_final_alpha_bar`` returns (default: alpha_bar_999 of the linear schedule, 4.04e-5).
    """
    ab = pitfalls._LINEAR_ALPHA_BARS
    candidates = {"correct": samplers.ddim_step, **{m.name: m.fn for m in mistakes.ddim_steps()}}
    if alpha_bar_last is not None:
        candidates["wrapped_final_alpha_bar"] = pitfalls.wrapped_final_alpha_bar(alpha_bar_last)
    g = torch.Generator().manual_seed(0)
    x, eps, z = (torch.randn(2, 1, 4, 4, generator=g, dtype=torch.float64) for _ in range(3))
    one = torch.tensor(1.0, dtype=torch.float64)
    probes = [(ab[500], ab[400], 0.0), (ab[500], ab[400], 1.0), (ab[49], one, 0.0)]

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


def _correct_by_default(probes):
    """A detector that answers 'correct' for any step that matches none of the known bugs."""
    inner = _detector(probes)

    def name_the_bug(step_fn):
        key = inner(step_fn)
        return "correct" if key == "unknown" else key
    return name_the_bug


register(Exercise(
    name="name_the_bug", chapter=8,
    signature="name_the_bug(step_fn) -> str   ('correct', a pitfalls function's name, or 'unknown')",
    reference=identify_step,
    cases=_bug_cases,
    mistakes=(
        mistake("only_eta_0", _detector([(*_MID, 0.0), (*_LAST, 0.0)])),
        mistake("never_last_step", _detector([(*_MID, 0.0), (*_MID, 1.0)])),
        mistake("only_last_step", _detector([(*_LAST, 0.0)])),
        mistake("never_unknown", _nearest_detector([(*_MID, 0.0), (*_MID, 1.0), (*_LAST, 0.0)])),
        mistake("compares_x0_hat", _x0_hat_detector([(*_MID, 0.0), (*_MID, 1.0), (*_LAST, 0.0)])),
        mistake("unknown_as_correct", _correct_by_default([(*_MID, 0.0), (*_MID, 1.0), (*_LAST, 0.0)])),
    ),
    doc="Tell which known bug a step function has by calling it on inputs where the bugs differ.",
))
