"""Chapter 7 exercises: one DDIM inversion step, slerp, and the whole inversion loop.

``alpha_bar`` is DDPM's ᾱ (the DDIM paper's α). Scalars are 0-dim float64 tensors. The references call
:func:`ddim_teach.samplers.ddim_step` (η = 0, the two ᾱ's swapped), :func:`ddim_teach.samplers.slerp` and
:func:`ddim_teach.samplers.ddim_invert`; the mistakes are written out here, but for the clinic's ``returns_x0_hat``.
"""
from __future__ import annotations

import torch

from .. import oracles, samplers, schedules
from ..mistakes import get as named, register as mistake
from . import Case, Exercise, register
from ._cases import ONE as _ONE, SCHEDULE as _SCHEDULE, alpha_bar as _ab, randn as _randn


# ------------------------------------------------------------------------------------------ 7.1 invert_step

def _invert_step_reference(x, eps_hat, alpha_bar_cur, alpha_bar_next):
    return samplers.ddim_step(x, eps_hat, alpha_bar_cur, alpha_bar_next, eta=0.0)[0]


def _invert_step_cases():
    x, e = _randn((4, 1, 5, 5), 0).clamp(-1, 1), _randn((4, 1, 5, 5), 1)
    return [Case((x, e, _ONE, _ab(0)), "first step: clean image (ᾱ = 1) to t = 0", label_zh="第一步：干净图像（ᾱ = 1）到 t = 0"),
            Case((x, e, _ONE, _ab(99)), "a long first jump: clean image to t = 99", label_zh="大跨度的第一步：干净图像到 t = 99"),
            Case((_randn((4, 1, 5, 5), 2), e, _ab(499), _ab(599)), "t = 499 to t = 599", label_zh="t = 499 到 t = 599"),
            Case((_randn((4, 1, 5, 5), 3), e, _ab(899), _ab(999)), "last step: t = 899 to t = 999", label_zh="最后一步：t = 899 到 t = 999"),
            Case((x.float(), e.float(), _ab(199), _ab(399)), "float32 batch, t = 199 to t = 399", label_zh="float32 批次，t = 199 到 t = 399")]


def _invert_sampler_direction(x, eps_hat, ab_cur, ab_next):
    # the sampling step as written (x0_hat from the *next* level), so the two alpha_bars are not swapped
    x0_hat = (x - (1 - ab_next).sqrt() * eps_hat) / ab_next.sqrt()
    return ab_cur.sqrt() * x0_hat + (1 - ab_cur).sqrt() * eps_hat


def _invert_no_sqrt(x, eps_hat, ab_cur, ab_next):
    x0_hat = (x - (1 - ab_cur).sqrt() * eps_hat) / ab_cur.sqrt()
    return ab_next * x0_hat + (1 - ab_next) * eps_hat


def _invert_no_direction(x, eps_hat, ab_cur, ab_next):
    x0_hat = (x - (1 - ab_cur).sqrt() * eps_hat) / ab_cur.sqrt()
    return ab_next.sqrt() * x0_hat


def _invert_noise_at_current(x, eps_hat, ab_cur, ab_next):
    x0_hat = (x - (1 - ab_cur).sqrt() * eps_hat) / ab_cur.sqrt()
    return ab_next.sqrt() * x0_hat + (1 - ab_cur).sqrt() * eps_hat


def _invert_noise_negated(x, eps_hat, ab_cur, ab_next):
    x0_hat = (x - (1 - ab_cur).sqrt() * eps_hat) / ab_cur.sqrt()
    return ab_next.sqrt() * x0_hat - (1 - ab_next).sqrt() * eps_hat


def _invert_x0_sign(x, eps_hat, ab_cur, ab_next):
    x0_hat = (x + (1 - ab_cur).sqrt() * eps_hat) / ab_cur.sqrt()
    return ab_next.sqrt() * x0_hat + (1 - ab_next).sqrt() * eps_hat


def _invert_noise_no_sqrt(x, eps_hat, ab_cur, ab_next):
    x0_hat = (x - (1 - ab_cur).sqrt() * eps_hat) / ab_cur.sqrt()
    return ab_next.sqrt() * x0_hat + (1 - ab_next) * eps_hat


register(Exercise(
    name="invert_step", chapter=7,
    signature="invert_step(x, eps_hat, alpha_bar_cur, alpha_bar_next) -> x_next",
    reference=_invert_step_reference,
    cases=_invert_step_cases,
    mistakes=(
        mistake("sampler_direction", _invert_sampler_direction),
        mistake("invert_step_missing_sqrt", _invert_no_sqrt),
        named("returns_x0_hat"),
        mistake("no_direction", _invert_no_direction),
        mistake("invert_noise_negated", _invert_noise_negated),
        mistake("invert_noise_at_current_level", _invert_noise_at_current),
        mistake("invert_x0_sign", _invert_x0_sign),
        mistake("invert_noise_no_sqrt", _invert_noise_no_sqrt),
    ),
    output="first",
    doc="x̂₀ from the current level, re-noised to the next: DDIM eq. 12 with η = 0 and the ᾱ's swapped.",
))


# ------------------------------------------------------------------------------------------ 7.2 slerp

def _slerp_cases():
    a, b = _randn((3, 1, 4, 4), 10), _randn((3, 1, 4, 4), 11)
    near = a + 1e-3 * _randn((3, 1, 4, 4), 12)
    return [Case((a, b, 0.5), "midpoint, a batch of 3", label_zh="中点，批次大小为 3"),
            Case((a, b, 0.25), "alpha = 0.25", label_zh="alpha = 0.25"),
            Case((a, b, 0.0), "alpha = 0 (returns z0)", label_zh="alpha = 0（返回 z0）"),
            Case((a, 2 * b, 0.7), "ends of different norms, alpha = 0.7", label_zh="两端范数不同，alpha = 0.7"),
            Case((a.float(), b.float(), 0.3), "float32 batch, alpha = 0.3", label_zh="float32 批次，alpha = 0.3"),
            Case((a, near, 0.5), "nearly parallel ends (angle ≈ 0.001 rad)", label_zh="两端几乎平行（夹角 ≈ 0.001 rad）"),
            Case((a, a, 0.4), "z0 = z1 (angle 0)", label_zh="z0 = z1（夹角为 0）"),
            Case((a.float(), (a + 1e-5 * _randn((3, 1, 4, 4), 13)).float(), 0.6),
                 "float32, nearly parallel (angle ≈ 1e-5 rad)", label_zh="float32，几乎平行（夹角 ≈ 1e-5 rad）")]


def _lerp(z0, z1, a):
    return (1 - a) * z0 + a * z1


def _nlerp(z0, z1, a):
    f0, f1 = z0.flatten(1), z1.flatten(1)
    lin = (1 - a) * f0 + a * f1
    n = (1 - a) * f0.norm(dim=1, keepdim=True) + a * f1.norm(dim=1, keepdim=True)
    return (lin / lin.norm(dim=1, keepdim=True) * n).reshape(z0.shape)


def _slerp_one_angle(z0, z1, a):
    f0, f1 = z0.double().flatten(), z1.double().flatten()
    theta = torch.arccos((f0 @ f1 / (f0.norm() * f1.norm())).clamp(-1, 1))
    out = (torch.sin((1 - a) * theta) * z0.double() + torch.sin(a * theta) * z1.double()) / torch.sin(theta)
    return out.to(z0.dtype)


def _slerp_swapped(z0, z1, a):
    return samplers.slerp(z1, z0, a)


def _slerp_no_fallback(z0, z1, a):
    f0, f1 = z0.flatten(1), z1.flatten(1)
    theta = torch.arccos((f0 * f1).sum(1) / (f0.norm(dim=1) * f1.norm(dim=1)))
    s = torch.sin(theta)
    return ((torch.sin((1 - a) * theta) / s)[:, None] * f0 + (torch.sin(a * theta) / s)[:, None] * f1).reshape(z0.shape)


register(Exercise(
    name="slerp", chapter=7,
    signature="slerp(z0, z1, alpha) -> z   (z0, z1 of shape (B, ...); alpha a float)",
    reference=samplers.slerp,
    cases=_slerp_cases,
    mistakes=(
        mistake("lerp", _lerp),
        mistake("nlerp", _nlerp),
        mistake("one_angle", _slerp_one_angle),
        mistake("slerp_ends_swapped", _slerp_swapped),
        mistake("slerp_no_fallback", _slerp_no_fallback),
    ),
    doc="slerp = sin((1 − α)θ)/sin θ · z0 + sin(αθ)/sin θ · z1, θ the angle between z0 and z1, per batch element.",
))


# ------------------------------------------------------------------------------------------ 7.3 ddim_invert

_ORACLE = oracles.GaussianOracle(_SCHEDULE, mu=0.3, s=0.5)


def _invert_loop_reference(model, schedule, x0, timesteps):
    return samplers.ddim_invert(model, schedule, x0, steps=list(timesteps), progress=False).x_T


def _invert_loop_cases():
    x0 = _ORACLE.sample_data(4, (1, 3, 3), generator=torch.Generator().manual_seed(20))
    trailing = [int(t) for t in schedules.timesteps(1000, 10, "trailing")]
    leading = [int(t) for t in schedules.timesteps(1000, 5, "leading")]
    return [Case((_ORACLE, _SCHEDULE, x0, trailing), "10 trailing timesteps [999, 899, …, 99]", label_zh="10 个 trailing 时间步 [999, 899, …, 99]"),
            Case((_ORACLE, _SCHEDULE, x0, leading), "5 leading timesteps [800, 600, …, 0]", label_zh="5 个 leading 时间步 [800, 600, …, 0]"),
            Case((_ORACLE, _SCHEDULE, x0, [999, 500, 20]), "an uneven list [999, 500, 20]", label_zh="不均匀的列表 [999, 500, 20]"),
            Case((_ORACLE, _SCHEDULE, x0.float(), [900, 600, 300]), "float32 batch, [900, 600, 300]", label_zh="float32 批次，[900, 600, 300]")]


def _eps(model, x, t):
    return model(x, torch.full((x.shape[0],), int(t), dtype=torch.long))


def _invert_descending(model, schedule, x0, timesteps):
    x, ab_cur = x0, _ONE
    for t in timesteps:                                   # not reversed: the first step jumps to the noisiest level
        ab_next = schedule.alpha_bars[int(t)]
        x = samplers.ddim_step(x, _eps(model, x, t), ab_cur, ab_next)[0]
        ab_cur = ab_next
    return x


def _invert_eps_at_current(model, schedule, x0, timesteps):
    x, ab_cur, t_cur = x0, _ONE, None
    for t in sorted(int(v) for v in timesteps):
        ab_next = schedule.alpha_bars[t]
        eps = _eps(model, x, t if t_cur is None else t_cur)   # the level x is at, not the level the step goes to
        x = samplers.ddim_step(x, eps, ab_cur, ab_next)[0]
        ab_cur, t_cur = ab_next, t
    return x


def _invert_level_not_carried(model, schedule, x0, timesteps):
    x = x0
    for t in sorted(int(v) for v in timesteps):
        x = samplers.ddim_step(x, _eps(model, x, t), _ONE, schedule.alpha_bars[t])[0]   # always "from clean"
    return x


def _invert_skips_first_climb(model, schedule, x0, timesteps):
    ts = sorted(int(v) for v in timesteps)
    x = x0                                                # x0 taken to sit at the smallest t: no climb from ᾱ = 1
    for t_cur, t in zip(ts[:-1], ts[1:]):
        x = samplers.ddim_step(x, _eps(model, x, t), schedule.alpha_bars[t_cur], schedule.alpha_bars[t])[0]
    return x


register(Exercise(
    name="ddim_invert", chapter=7,
    signature="ddim_invert(model, schedule, x0, timesteps) -> x_T   (timesteps: the sampler's descending list)",
    reference=_invert_loop_reference,
    cases=_invert_loop_cases,
    mistakes=(
        mistake("descending", _invert_descending),
        mistake("eps_at_current_level", _invert_eps_at_current),
        mistake("level_not_carried", _invert_level_not_carried),
        mistake("invert_skips_first_climb", _invert_skips_first_climb),
    ),
    doc="The inversion loop: from ᾱ = 1 up the timesteps in ascending order, one invert_step each, ε̂ at the target t.",
))
