"""Chapter 4 exercises: students' correct answers pass, odd answers get one line, every known mistake is named.

The wrong answers below are written here, as a student would write them, independently of the mistakes registered in
ddim_teach/exercises/ch04.py and ddim_teach/pitfalls.py.
"""
import numpy as np
import pytest
import torch

from ddim_teach.exercises import EXERCISES, check

from _exercise_helpers import named


# --- 4.1: the DDIM step ----------------------------------------------------------------------------------------------

def student_step(x_t, eps_hat, ab, abp, eta, noise, *, sigma_power=1, alpha=None, tutorial_sigma=False,
                 minus_sigma2=True, sqrt_dir=True, sqrt_signal=True, return_x0=False, as_tuple=False):
    """A student's DDIM step written from eq. 12 and 16, with switches that make one mistake each."""
    a = ab if alpha is None else alpha(ab, abp)
    x0_hat = (x_t - (1 - a) ** 0.5 * eps_hat) / a ** 0.5
    if return_x0:
        return x0_hat
    sigma = eta * ((1 - abp) / (1 - ab)) ** 0.5 * (1 - ab / abp) ** 0.5
    if tutorial_sigma:                      # the tutorial's noise scale, in the direction term and the noise alike
        sigma = eta * (1 - abp) ** 0.5
    var_dir = 1 - abp - (sigma ** 2 if minus_sigma2 else 0)
    x_prev = (abp ** 0.5 if sqrt_signal else abp) * x0_hat + (var_dir ** 0.5 if sqrt_dir else var_dir) * eps_hat
    x_prev = x_prev + sigma ** sigma_power * noise
    return (x_prev, x0_hat) if as_tuple else x_prev


def test_a_correct_step_passes_as_x_prev_or_as_a_tuple():
    assert check("ddim_step", student_step).ok
    assert check("ddim_step", lambda *a: student_step(*a, as_tuple=True)).ok


@pytest.mark.parametrize("kw, key", [
    ({"sigma_power": 2}, "variance_for_std"),
    ({"alpha": lambda ab, abp: ab / abp}, "alpha_for_alpha_bar"),
    ({"return_x0": True}, "returns_x0_hat"),
    ({"tutorial_sigma": True}, "noise_scale_tutorial"),
    ({"minus_sigma2": False}, "direction_without_sigma"),
    ({"sqrt_dir": False}, "direction_without_sqrt"),
    ({"sqrt_signal": False}, "signal_without_sqrt"),
])
def test_step_mistakes_are_named(kw, key):
    v = check("ddim_step", lambda *a: student_step(*a, **kw))
    assert not v.ok and v.mistake == key, v.message
    assert "Hint:" in v.message and "\n" not in v.message


def test_step_that_changes_dtype_or_returns_none_gets_one_line():
    v = check("ddim_step", lambda *a: student_step(*a).double())
    assert not v.ok and "dtype" in v.message and "float32" in v.message
    v = check("ddim_step", lambda *a: None)
    assert not v.ok and "returned None" in v.message


def test_an_unknown_step_error_is_reported_without_a_name():
    v = check("ddim_step", lambda *a: 1.01 * student_step(*a))
    assert not v.ok and v.mistake is None and "differs from the reference" in v.message


# --- 4.2: the timestep lists ----------------------------------------------------------------------------------------

def student_timesteps(T, steps, spacing, *, base=0, ascending=False, int_stride=False, swap=False, linspace=False):
    if swap:
        spacing = {"leading": "trailing", "trailing": "leading"}[spacing]
    if spacing == "leading":
        ts = [i * (T // steps) + base for i in range(steps)][::-1]
    elif int_stride:
        ts = [T - 1 + base - i * (T // steps) for i in range(steps)]
    elif linspace:
        ts = [round(x) for x in np.linspace(T - 1, 0, steps)]
    else:
        ts = [round(T - i * T / steps) - 1 + base for i in range(steps)]
    return torch.tensor(ts[::-1] if ascending else ts, dtype=torch.long)


def test_correct_timesteps_pass():
    assert check("timesteps", student_timesteps).ok


@pytest.mark.parametrize("kw, key", [
    ({"base": 1}, "timesteps_one_based"),
    ({"ascending": True}, "ascending"),
    ({"int_stride": True}, "integer_stride"),
    ({"swap": True}, "leading_trailing_swapped"),
    ({"linspace": True}, "linspace_for_trailing"),
])
def test_timestep_mistakes_are_named(kw, key):
    v = check("timesteps", lambda T, S, sp: student_timesteps(T, S, sp, **kw))
    assert not v.ok and v.mistake == key, v.message


def test_timesteps_as_a_list_or_int32_get_one_line():
    v = check("timesteps", lambda *a: student_timesteps(*a).tolist())
    assert not v.ok and "expected a torch.Tensor" in v.message
    v = check("timesteps", lambda *a: student_timesteps(*a).int())
    assert not v.ok and "dtype torch.int32" in v.message


# --- 4.3: the alpha_bar_prev of every step ----------------------------------------------------------------------------

def student_prevs(alpha_bars, timesteps, *, final=None, stride=False, one_back=False, wrap=False, own=False):
    ts = [int(t) for t in timesteps]
    T, S = len(alpha_bars), len(ts)
    out = []
    for i, t in enumerate(ts):
        if own:
            out.append(float(alpha_bars[t]))
        elif one_back:
            out.append(float(alpha_bars[t - 1]) if t >= 1 else 1.0)
        elif wrap:
            out.append(float(alpha_bars[t - 1]))          # at t = 0 Python's index -1: alpha_bars[T - 1]
        elif stride:
            out.append(float(alpha_bars[t - T // S]) if t - T // S >= 0 else 1.0)
        elif i + 1 < S:
            out.append(float(alpha_bars[ts[i + 1]]))
        else:
            out.append(1.0 if final is None else float(alpha_bars[final]))
    return torch.tensor(out, dtype=torch.float64)


def test_correct_prevs_pass():
    assert check("alpha_bar_prevs", student_prevs).ok


@pytest.mark.parametrize("kw, key", [
    ({"final": -1}, "final_alpha_bar_T"),
    ({"final": 0}, "final_alpha_bar_0"),
    ({"stride": True}, "fixed_stride"),
    ({"one_back": True}, "one_step_back"),
    ({"wrap": True}, "one_step_back_wrapped"),
    ({"own": True}, "own_alpha_bar"),
])
def test_prev_mistakes_are_named(kw, key):
    v = check("alpha_bar_prevs", lambda ab, ts: student_prevs(ab, ts, **kw))
    assert not v.ok and v.mistake == key, v.message


def test_the_reference_is_what_the_sampler_uses():
    """The reference gives the ᾱ_prev of every step samplers.sample takes: the next entry, then 1 after the last."""
    from ddim_teach import samplers, schedules
    s = schedules.make_schedule("linear", 1000)
    for ts in (schedules.timesteps(1000, 5, "trailing"), torch.tensor([999, 500, 100, 5])):
        got = EXERCISES["alpha_bar_prevs"].reference(s.alpha_bars, ts)
        run = samplers.sample(lambda x, t: torch.zeros_like(x), s, torch.zeros(1, 1, 2, 2), steps=ts.tolist(),
                              record_every=None, progress=False)
        assert got.dtype == torch.float64 and float(got[-1]) == 1.0
        torch.testing.assert_close(got, run.alpha_bar_prevs, rtol=0, atol=0)
        torch.testing.assert_close(got[:-1], s.alpha_bars[ts[1:]], rtol=0, atol=0)


# --- 4.4 ddim_sample_loop: whole loops written as students write them ------------------------------------------------

def student_loop(model, schedule, x_T, timesteps, eta=0.0, noises=None, *, reverse=False, prev_rule="list",
                 feed_index=False, stop_early=False, use_package_step=False):
    """A student's DDIM loop, with optional slips."""
    ts = [int(t) for t in timesteps]
    if reverse:
        ts = ts[::-1]
    ab = schedule.alpha_bars
    x = x_T
    n = len(ts) - 1 if stop_early else len(ts)
    for i in range(n):
        t = ts[i]
        if prev_rule == "list":
            ab_prev = ab[ts[i + 1]] if i + 1 < len(ts) else torch.tensor(1.0, dtype=torch.float64)
        elif prev_rule == "t-1":
            ab_prev = ab[t - 1] if t > 0 else torch.tensor(1.0, dtype=torch.float64)
        elif prev_rule == "last=ab0":
            ab_prev = ab[ts[i + 1]] if i + 1 < len(ts) else ab[0]
        elif prev_rule == "previous entry":
            ab_prev = ab[ts[i - 1]]                      # the entry before: at i = 0 that is ts[-1]
        elif prev_rule == "last=ab[-1]":
            ab_prev = ab[(ts + [-1])[i + 1]]            # the list padded with -1: "the step after the last"
        else:  # "stride": t - stride, wrapping at the end
            ab_prev = ab[ts[i + 1]] if i + 1 < len(ts) else ab[t - (ts[0] - ts[1])]
        eps = model(x, torch.full((x.shape[0],), i if feed_index else t))
        if use_package_step:
            from ddim_teach import samplers
            x = samplers.ddim_step(x, eps, ab[t], ab_prev, eta, noises[i] if eta > 0 else None)[0]
            continue
        x0 = (x - torch.sqrt(1 - ab[t]) * eps) / torch.sqrt(ab[t])
        if eta > 0:
            sigma = eta * torch.sqrt((1 - ab_prev) / (1 - ab[t])) * torch.sqrt(1 - ab[t] / ab_prev)
            x = torch.sqrt(ab_prev) * x0 + torch.sqrt(1 - ab_prev - sigma ** 2) * eps + sigma * noises[i]
        else:
            x = torch.sqrt(ab_prev) * x0 + torch.sqrt(1 - ab_prev) * eps
    return x


def test_correct_loops_pass():
    assert check("ddim_sample_loop", student_loop).ok
    assert check("ddim_sample_loop", lambda *a, **k: student_loop(*a, **k, use_package_step=True)).ok


@pytest.mark.parametrize("slip, key", [
    (dict(reverse=True), "loop_ascending"),
    (dict(prev_rule="t-1"), "loop_prev_t_minus_1"),
    (dict(prev_rule="last=ab0"), "loop_last_alpha_bar_0"),
    (dict(prev_rule="last=ab[-1]"), "loop_last_wrapped"),
    (dict(prev_rule="stride"), "loop_last_wrapped"),          # wraps only on trailing lists: a partial match
    (dict(prev_rule="previous entry"), "loop_prev_previous_entry"),
    (dict(stop_early=True), "loop_skips_last_step"),
    (dict(feed_index=True), "loop_model_gets_index"),
])
def test_loop_mistakes_are_named(slip, key):
    assert named("ddim_sample_loop", lambda *a, **k: student_loop(*a, **k, **slip)) == key


def test_the_wrapped_last_step_is_a_full_match():
    v = check("ddim_sample_loop", lambda *a, **k: student_loop(*a, **k, prev_rule="last=ab[-1]"))
    assert v.mistake == "loop_last_wrapped" and "looks like" in v.message


def test_a_loop_that_climbs_with_the_package_step_is_stopped_by_the_package_with_a_reason():
    v = check("ddim_sample_loop", lambda *a, **k: student_loop(*a, **k, reverse=True, use_package_step=True))
    assert not v.ok and "less noise" in v.message
