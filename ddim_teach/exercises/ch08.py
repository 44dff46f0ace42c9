"""Chapter 8 exercises: find the bug in two mystery step functions, and write a bug detector.

The two mystery steps are defined here (the notebook prints their source and runs them in the sampler);
each has :func:`ddim_teach.samplers.ddim_step`'s signature. ``alpha_bar`` is DDPM's ᾱ. The fixes are checked
against ``ddim_step``; the detector against :func:`ddim_teach.pitfalls.identify_step`.
"""
from __future__ import annotations

import torch

from .. import pitfalls, samplers
from . import Case, Exercise, Mistake, register
from ._cases import ONE as _ONE, SCHEDULE as _SCHEDULE, alpha_bar as _ab, ddim_step_case, randn as _randn


def mystery_step(x_t, eps_hat, alpha_bar_t, alpha_bar_prev, eta=0.0, noise=None):
    """A DDIM step as a widely copied tutorial writes it. Returns (x_prev, x0_hat). One line is wrong."""
    x0_hat = (x_t - (1 - alpha_bar_t).sqrt() * eps_hat) / alpha_bar_t.sqrt()
    sigma = eta * (1 - alpha_bar_prev).sqrt()
    x_prev = alpha_bar_prev.sqrt() * x0_hat + (1 - alpha_bar_prev - sigma ** 2).clamp(min=0).sqrt() * eps_hat
    if noise is not None:
        x_prev = x_prev + sigma * noise
    return x_prev, x0_hat


def mystery_step_2(x_t, eps_hat, alpha_bar_t, alpha_bar_prev, eta=0.0, noise=None):
    """Another DDIM step, with a slip in one line. Returns (x_prev, x0_hat)."""
    sigma = eta * ((1 - alpha_bar_prev) / (1 - alpha_bar_t) * (1 - alpha_bar_t / alpha_bar_prev)).sqrt()
    x0_hat = (x_t - (1 - alpha_bar_t).sqrt() * eps_hat) / alpha_bar_t
    x_prev = alpha_bar_prev.sqrt() * x0_hat + (1 - alpha_bar_prev - sigma ** 2).sqrt() * eps_hat
    if noise is not None:
        x_prev = x_prev + sigma * noise
    return x_prev, x0_hat


def _step_cases():
    x, e, z = _randn((4, 1, 5, 5), 0), _randn((4, 1, 5, 5), 1), _randn((4, 1, 5, 5), 2)
    return [ddim_step_case("η = 0, t = 500 → 450", "η = 0，t = 500 → 450", x, e, 500, 450, 0.0, None),
            ddim_step_case("η = 1, t = 500 → 450", "η = 1，t = 500 → 450", x, e, 500, 450, 1.0, z),
            ddim_step_case("η = 0.5, first step t = 999 → 899", "η = 0.5，第一步 t = 999 → 899", x, e, 999, 899, 0.5, z),
            ddim_step_case("η = 1, a skip of 900 timesteps", "η = 1，跳过 900 个时间步", x, e, 999, 99, 1.0, z),
            ddim_step_case("last step (ᾱ_prev = 1), η = 1", "最后一步（ᾱ_prev = 1），η = 1", x, e, 49, None, 1.0, z),
            ddim_step_case("float32 batch, η = 1", "float32 批次，η = 1", x, e, 300, 200, 1.0, z, torch.float32)]


# ------------------------------------------------------------------------------------------ 8.1 fix_mystery_step

def _sigma(ab, abp, eta):
    return eta * ((1 - abp) / (1 - ab) * (1 - ab / abp)).sqrt()


def _x0(x_t, eps_hat, ab):
    return (x_t - (1 - ab).sqrt() * eps_hat) / ab.sqrt()


def _fix_no_sigma_in_direction(x_t, eps_hat, ab, abp, eta=0.0, noise=None):
    sigma = _sigma(ab, abp, eta)
    x_prev = abp.sqrt() * _x0(x_t, eps_hat, ab) + (1 - abp).sqrt() * eps_hat
    return (x_prev + sigma * noise if noise is not None else x_prev), None


def _fix_noise_dropped(x_t, eps_hat, ab, abp, eta=0.0, noise=None):
    return samplers.ddim_step(x_t, eps_hat, ab, abp, 0.0, None)


register(Exercise(
    name="fix_mystery_step", chapter=8,
    signature="fix_mystery_step(x_t, eps_hat, alpha_bar_t, alpha_bar_prev, eta=0.0, noise=None) -> (x_prev, x0_hat) or x_prev",
    reference=samplers.ddim_step,
    cases=_step_cases,
    mistakes=(
        Mistake("unchanged", "the mystery's bug is still there: σ = η √(1 − ᾱ_prev)",
                "the noise std is DDIM's eq. 16, which depends on ᾱ_t as well as ᾱ_prev", mystery_step,
                label_zh="谜题中的 bug 还在：σ = η √(1 − ᾱ_prev)",
                hint_zh="噪声标准差是 DDIM 的式 16，它既依赖 ᾱ_prev，也依赖 ᾱ_t"),
        Mistake("sigma_squared", "σ² used where σ is meant (the noise term)",
                "σ from eq. 16 is a standard deviation: multiply z by σ, not σ²", pitfalls.variance_for_std,
                label_zh="该用 σ 的地方（噪声项）用了 σ²",
                hint_zh="式 16 的 σ 是标准差：z 要乘以 σ，而不是 σ²"),
        Mistake("direction_without_sigma", "the direction term without −σ²: √(1 − ᾱ_prev) ε̂",
                "with fresh noise of variance σ², the direction keeps only the rest: √(1 − ᾱ_prev − σ²)",
                _fix_no_sigma_in_direction,
                label_zh="方向项没有减去 σ²：√(1 − ᾱ_prev) ε̂",
                hint_zh="加入方差为 σ² 的新噪声后，方向项只保留其余部分：√(1 − ᾱ_prev − σ²)"),
        Mistake("noise_dropped", "the noise term removed: η ignored", "η > 0 must add σ z; the fix is to the size of σ, "
                "not to drop it", _fix_noise_dropped,
                label_zh="去掉了噪声项：忽略了 η",
                hint_zh="η > 0 时必须加上 σ z；要改的是 σ 的大小，而不是把它去掉"),
    ),
    output="first",
    doc="Correct the mystery step: the DDIM step of eq. 12 with σ from eq. 16.",
))


# ------------------------------------------------------------------------------------------ 8.2 fix_mystery_step_2

def _fix2_sqrt_in_numerator(x_t, eps_hat, ab, abp, eta=0.0, noise=None):
    sigma = _sigma(ab, abp, eta)
    x0_hat = (x_t - (1 - ab) * eps_hat) / ab.sqrt()
    x_prev = abp.sqrt() * x0_hat + (1 - abp - sigma ** 2).sqrt() * eps_hat
    return (x_prev + sigma * noise if noise is not None else x_prev), x0_hat


register(Exercise(
    name="fix_mystery_step_2", chapter=8,
    signature="fix_mystery_step_2(x_t, eps_hat, alpha_bar_t, alpha_bar_prev, eta=0.0, noise=None) -> (x_prev, x0_hat) or x_prev",
    reference=samplers.ddim_step,
    cases=_step_cases,
    mistakes=(
        Mistake("unchanged", "the mystery's bug is still there: x̂₀ divided by ᾱ_t",
                "x_t = √ᾱ_t x₀ + √(1 − ᾱ_t) ε: solve it for x₀", mystery_step_2,
                label_zh="谜题中的 bug 还在：x̂₀ 除以的是 ᾱ_t",
                hint_zh="x_t = √ᾱ_t x₀ + √(1 − ᾱ_t) ε：从中解出 x₀"),
        Mistake("missing_sqrt_noise", "x̂₀ with (1 − ᾱ_t) where √(1 − ᾱ_t) belongs",
                "both coefficients of x_t = √ᾱ_t x₀ + √(1 − ᾱ_t) ε are square roots", _fix2_sqrt_in_numerator,
                label_zh="x̂₀ 中用了 (1 − ᾱ_t)，而应当是 √(1 − ᾱ_t)",
                hint_zh="x_t = √ᾱ_t x₀ + √(1 − ᾱ_t) ε 的两个系数都是平方根"),
        Mistake("alpha_for_alpha_bar", "x̂₀ with the one-step α_t = ᾱ_t/ᾱ_prev",
                "x̂₀ undoes all the noise since t = 0: it needs the cumulative ᾱ_t", pitfalls.alpha_for_alpha_bar,
                label_zh="x̂₀ 用了单步的 α_t = ᾱ_t/ᾱ_prev",
                hint_zh="x̂₀ 要去掉从 t = 0 起累积的全部噪声：它需要累积的 ᾱ_t"),
        Mistake("returns_x0_hat", "x̂₀ returned as the next x", "x̂₀ is an ingredient of the step; return x_prev",
                pitfalls.returns_x0_hat,
                label_zh="把 x̂₀ 当作下一个 x 返回",
                hint_zh="x̂₀ 只是这一步的中间量；应返回 x_prev"),
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


def _detector(probes):
    def name_the_bug(step_fn):
        got = _probe_outputs(step_fn, probes)
        cands = {"correct": samplers.ddim_step, "alpha_for_alpha_bar": pitfalls.alpha_for_alpha_bar,
                 "variance_for_std": pitfalls.variance_for_std, "returns_x0_hat": pitfalls.returns_x0_hat,
                 "wrapped_final_alpha_bar": pitfalls.wrapped_final_alpha_bar(_SCHEDULE.alpha_bars[-1])}
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
        Mistake("only_eta_0", "probed only at η = 0, where the σ bug is invisible",
                "a bug in the noise term shows only when a step adds noise: probe at η = 1 too",
                _detector([(*_MID, 0.0), (*_LAST, 0.0)]),
                label_zh="只在 η = 0 时探测，而那里 σ 的 bug 看不出来",
                hint_zh="噪声项里的 bug 只在这一步加噪时才显形：也要在 η = 1 时探测"),
        Mistake("never_last_step", "never probed the last step (ᾱ_prev = 1)",
                "the wrapped-index bug changes only the final step: probe a step with ᾱ_prev = 1",
                _detector([(*_MID, 0.0), (*_MID, 1.0)]),
                label_zh="从未探测最后一步（ᾱ_prev = 1）",
                hint_zh="下标回绕的 bug 只改变最后一步：探测一个 ᾱ_prev = 1 的步"),
        Mistake("only_last_step", "probed only the last step, where the α and σ bugs vanish",
                "at ᾱ_prev = 1 the one-step α equals ᾱ_t and σ is 0: probe a middle step as well",
                _detector([(*_LAST, 0.0)]),
                label_zh="只探测了最后一步，而那里 α 和 σ 的 bug 都消失了",
                hint_zh="在 ᾱ_prev = 1 时单步 α 等于 ᾱ_t，σ 为 0：还要探测一个中间步"),
    ),
    doc="Tell which known bug a step function has by calling it on inputs where the bugs differ.",
))
