"""Chapter 7 exercises: students' correct answers pass, odd answers get one line, every known mistake is named.

The wrong answers are written here from scratch, the way a student would write them, not taken from the checker.
"""
import math

import pytest
import torch

from ddim_teach.exercises import check


# ------------------------------------------------------------------------------------------ invert_step

def _x0(x, eps, ab):
    return (x - (1 - ab).sqrt() * eps) / ab.sqrt()


def step_sampler_direction(x, eps, ab_cur, ab_next):
    return ab_cur.sqrt() * _x0(x, eps, ab_next) + (1 - ab_cur).sqrt() * eps


def step_no_sqrt(x, eps, ab_cur, ab_next):
    return ab_next * _x0(x, eps, ab_cur) + (1 - ab_next) * eps


def step_returns_x0(x, eps, ab_cur, ab_next):
    return _x0(x, eps, ab_cur)


def step_no_direction(x, eps, ab_cur, ab_next):
    return ab_next.sqrt() * _x0(x, eps, ab_cur)


def step_right(x, eps, ab_cur, ab_next):
    return ab_next.sqrt() * _x0(x, eps, ab_cur) + (1 - ab_next).sqrt() * eps


@pytest.mark.parametrize("fn, key", [(step_sampler_direction, "sampler_direction"),
                                     (step_no_sqrt, "invert_step_missing_sqrt"),
                                     (step_returns_x0, "returns_x0_hat"), (step_no_direction, "no_direction")])
def test_invert_step_mistakes_are_named(fn, key):
    v = check("invert_step", fn)
    assert not v.ok and v.mistake == key, v.message
    assert "Hint:" in v.message


def test_invert_step_written_by_hand_passes_and_may_return_a_tuple():
    assert check("invert_step", step_right).ok
    assert check("invert_step", lambda *a: (step_right(*a), None)).ok


def test_invert_step_unknown_mistake_is_reported_with_the_difference():
    v = check("invert_step", lambda x, e, a, b: step_right(x, e, a, b) * 1.01)
    assert not v.ok and v.mistake is None and "differs from the reference" in v.message


# ------------------------------------------------------------------------------------------ slerp

def slerp_right(z0, z1, a):
    f0, f1 = z0.flatten(1).double(), z1.flatten(1).double()
    th = torch.arccos((f0 * f1).sum(1) / (f0.norm(dim=1) * f1.norm(dim=1))).clamp(min=1e-12)[:, None]
    out = (torch.sin((1 - a) * th) * f0 + torch.sin(a * th) * f1) / torch.sin(th)
    return out.reshape(z0.shape).to(z0.dtype)


def slerp_linear(z0, z1, a):
    return z0 + a * (z1 - z0)


def slerp_nlerp(z0, z1, a):
    lin = (1 - a) * z0 + a * z1
    scale = (1 - a) * z0.flatten(1).norm(dim=1) + a * z1.flatten(1).norm(dim=1)
    return lin * (scale / lin.flatten(1).norm(dim=1)).reshape(-1, *[1] * (z0.dim() - 1))


def slerp_batch_angle(z0, z1, a):
    cos = (z0 * z1).sum() / (z0.norm() * z1.norm())
    th = math.acos(float(cos.clamp(-1, 1)))
    return (math.sin((1 - a) * th) * z0 + math.sin(a * th) * z1) / math.sin(th)


def slerp_backwards(z0, z1, a):
    return slerp_right(z0, z1, 1 - a)


@pytest.mark.parametrize("fn, key", [(slerp_linear, "lerp"), (slerp_nlerp, "nlerp"),
                                     (slerp_batch_angle, "one_angle"), (slerp_backwards, "slerp_ends_swapped")])
def test_slerp_mistakes_are_named(fn, key):
    v = check("slerp", fn)
    assert not v.ok and v.mistake == key, v.message


def test_slerp_written_by_hand_passes():
    assert check("slerp", slerp_right).ok, check("slerp", slerp_right).message


def test_slerp_wrong_dtype_gets_one_line():
    v = check("slerp", lambda z0, z1, a: slerp_right(z0, z1, a).double())
    assert not v.ok and "dtype" in v.message and "\n" not in v.message, v.message


# ------------------------------------------------------------------------------------------ ddim_invert

def _eps(model, x, t):
    return model(x, torch.full((x.shape[0],), int(t), dtype=torch.long))


def _up(x, eps, ab_cur, ab_next):
    return step_right(x, eps, ab_cur, ab_next)


def invert_right(model, schedule, x0, timesteps):
    x, ab = x0, torch.tensor(1.0, dtype=torch.float64)
    for t in sorted(timesteps):
        x, ab = _up(x, _eps(model, x, t), ab, schedule.alpha_bars[t]), schedule.alpha_bars[t]
    return x


def invert_descending(model, schedule, x0, timesteps):
    x, ab = x0, torch.tensor(1.0, dtype=torch.float64)
    for t in timesteps:
        x, ab = _up(x, _eps(model, x, t), ab, schedule.alpha_bars[t]), schedule.alpha_bars[t]
    return x


def invert_lagged_eps(model, schedule, x0, timesteps):
    ts = sorted(timesteps)
    x, ab = x0, torch.tensor(1.0, dtype=torch.float64)
    for i, t in enumerate(ts):
        x, ab = _up(x, _eps(model, x, ts[max(i - 1, 0)]), ab, schedule.alpha_bars[t]), schedule.alpha_bars[t]
    return x


def invert_always_from_clean(model, schedule, x0, timesteps):
    x = x0
    for t in sorted(timesteps):
        x = _up(x, _eps(model, x, t), torch.tensor(1.0, dtype=torch.float64), schedule.alpha_bars[t])
    return x


@pytest.mark.parametrize("fn, key", [(invert_descending, "descending"), (invert_lagged_eps, "eps_at_current_level"),
                                     (invert_always_from_clean, "level_not_carried")])
def test_invert_loop_mistakes_are_named(fn, key):
    v = check("ddim_invert", fn)
    assert not v.ok and v.mistake == key, v.message


def test_invert_loop_written_by_hand_passes():
    v = check("ddim_invert", invert_right)
    assert v.ok, v.message
