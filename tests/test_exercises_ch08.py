"""Chapter 8 exercises: students' fixes and detectors pass, every known mistake is named.

The wrong answers are written here from scratch, as a student would write them, not taken from the checker.
"""
import pytest
import torch

from ddim_teach import pitfalls, samplers, schedules
from ddim_teach.exercises import check
from ddim_teach.exercises.ch08 import identify_step, mystery_step, mystery_step_2

AB = schedules.make_schedule("linear", 1000).alpha_bars


# ------------------------------------------------------------------------------------------ the two mysteries

def x0_of(x_t, eps, ab):
    return (x_t - (1 - ab).sqrt() * eps) / ab.sqrt()


def sigma_of(ab, abp, eta):
    return eta * ((1 - abp) / (1 - ab)).sqrt() * (1 - ab / abp).sqrt()


def step_right(x_t, eps, ab, abp, eta=0.0, noise=None):
    sigma = sigma_of(ab, abp, eta)
    x_prev = abp.sqrt() * x0_of(x_t, eps, ab) + (1 - abp - sigma ** 2).sqrt() * eps
    return x_prev + sigma * noise if noise is not None else x_prev


def test_mysteries_are_wrong_only_where_the_lesson_says():
    g = torch.Generator().manual_seed(3)
    x, e, z = (torch.randn(2, 1, 4, 4, generator=g, dtype=torch.float64) for _ in range(3))
    ab, abp = AB[600], AB[500]
    # mystery 1 (the tutorial's sigma) is right at eta = 0 and wrong at eta = 1
    assert torch.allclose(mystery_step(x, e, ab, abp, 0.0, None)[0], step_right(x, e, ab, abp))
    assert not torch.allclose(mystery_step(x, e, ab, abp, 1.0, z)[0], step_right(x, e, ab, abp, 1.0, z))
    # mystery 2 (x0_hat divided by alpha_bar) is wrong even at eta = 0
    assert not torch.allclose(mystery_step_2(x, e, ab, abp, 0.0, None)[0], step_right(x, e, ab, abp))


# ------------------------------------------------------------------------------------------ fix_mystery_step

def fix1_tutorial_sigma(x_t, eps, ab, abp, eta=0.0, noise=None):
    sigma = eta * (1 - abp).sqrt()
    x_prev = abp.sqrt() * x0_of(x_t, eps, ab) + (1 - abp - sigma ** 2).clamp(min=0).sqrt() * eps
    return x_prev + sigma * noise if noise is not None else x_prev


def fix1_sigma_squared(x_t, eps, ab, abp, eta=0.0, noise=None):
    sigma = sigma_of(ab, abp, eta)
    x_prev = abp.sqrt() * x0_of(x_t, eps, ab) + (1 - abp - sigma ** 2).sqrt() * eps
    return x_prev + sigma ** 2 * noise if noise is not None else x_prev


def fix1_direction_without_sigma(x_t, eps, ab, abp, eta=0.0, noise=None):
    sigma = sigma_of(ab, abp, eta)
    x_prev = abp.sqrt() * x0_of(x_t, eps, ab) + (1 - abp).sqrt() * eps
    return x_prev + sigma * noise if noise is not None else x_prev


def fix1_no_noise(x_t, eps, ab, abp, eta=0.0, noise=None):
    return abp.sqrt() * x0_of(x_t, eps, ab) + (1 - abp).sqrt() * eps


@pytest.mark.parametrize("fn, key", [(fix1_tutorial_sigma, "noise_scale_tutorial"), (fix1_sigma_squared, "variance_for_std"),
                                     (fix1_direction_without_sigma, "direction_without_sigma"),
                                     (fix1_no_noise, "noise_dropped")])
def test_fix_mystery_step_mistakes_are_named(fn, key):
    v = check("fix_mystery_step", fn)
    assert not v.ok and v.mistake == key, v.message


def test_fix_by_hand_passes_for_both_mysteries():
    assert check("fix_mystery_step", step_right).ok
    assert check("fix_mystery_step_2", step_right).ok


def test_returning_none_gets_one_line():
    v = check("fix_mystery_step", lambda *a, **k: None)
    assert not v.ok and "returned None" in v.message and "\n" not in v.message, v.message


# ------------------------------------------------------------------------------------------ fix_mystery_step_2

def fix2_divides_by_alpha_bar(x_t, eps, ab, abp, eta=0.0, noise=None):
    sigma = sigma_of(ab, abp, eta)
    x0_hat = (x_t - (1 - ab).sqrt() * eps) / ab
    x_prev = abp.sqrt() * x0_hat + (1 - abp - sigma ** 2).sqrt() * eps
    return x_prev + sigma * noise if noise is not None else x_prev


def fix2_no_sqrt_on_noise(x_t, eps, ab, abp, eta=0.0, noise=None):
    sigma = sigma_of(ab, abp, eta)
    x0_hat = (x_t - (1 - ab) * eps) / ab.sqrt()
    x_prev = abp.sqrt() * x0_hat + (1 - abp - sigma ** 2).sqrt() * eps
    return x_prev + sigma * noise if noise is not None else x_prev


def fix2_one_step_alpha(x_t, eps, ab, abp, eta=0.0, noise=None):
    a = ab / abp
    sigma = sigma_of(ab, abp, eta)
    x_prev = abp.sqrt() * x0_of(x_t, eps, a) + (1 - abp - sigma ** 2).sqrt() * eps
    return x_prev + sigma * noise if noise is not None else x_prev


def fix2_returns_x0(x_t, eps, ab, abp, eta=0.0, noise=None):
    return x0_of(x_t, eps, ab)


@pytest.mark.parametrize("fn, key", [(fix2_divides_by_alpha_bar, "x0_over_alpha_bar"),
                                     (fix2_no_sqrt_on_noise, "missing_sqrt_noise"),
                                     (fix2_one_step_alpha, "alpha_for_alpha_bar"), (fix2_returns_x0, "returns_x0_hat")])
def test_fix_mystery_step_2_mistakes_are_named(fn, key):
    v = check("fix_mystery_step_2", fn)
    assert not v.ok and v.mistake == key, v.message


# ------------------------------------------------------------------------------------------ name_the_bug

def _known():
    return {"correct": samplers.ddim_step, "alpha_for_alpha_bar": pitfalls.alpha_for_alpha_bar,
            "variance_for_std": pitfalls.variance_for_std, "returns_x0_hat": pitfalls.returns_x0_hat,
            "wrapped_final_alpha_bar": pitfalls.wrapped_final_alpha_bar(AB[-1])}


def detector(probes):
    """A student's detector: run every known step on the probes and return the first that agrees."""
    def name(step_fn):
        g = torch.Generator().manual_seed(9)
        x, e, z = (torch.randn(3, 2, generator=g, dtype=torch.float64) for _ in range(3))

        def run(fn):
            outs = []
            for a, b, eta in probes:
                r = fn(x, e, a, b, eta, z if eta > 0 else None)
                outs.append(r[0] if isinstance(r, tuple) else r)
            return outs
        mine = run(step_fn)
        for key, fn in _known().items():
            if all(torch.allclose(p, q) for p, q in zip(mine, run(fn))):
                return key
        return "unknown"
    return name


ONE = torch.tensor(1.0, dtype=torch.float64)


def test_a_detector_with_other_probes_passes():
    v = check("name_the_bug", detector([(AB[800], AB[700], 1.0), (AB[20], ONE, 0.0)]))
    assert v.ok, v.message


@pytest.mark.parametrize("probes, key", [
    ([(AB[800], AB[700], 0.0), (AB[20], ONE, 0.0)], "only_eta_0"),
    ([(AB[800], AB[700], 0.0), (AB[800], AB[700], 1.0)], "never_last_step"),
    ([(AB[20], ONE, 0.0)], "only_last_step"),
])
def test_name_the_bug_mistakes_are_named(probes, key):
    v = check("name_the_bug", detector(probes))
    assert not v.ok and v.mistake == key, v.message


def test_the_mysteries_are_broken_steps_of_the_clinic():
    assert identify_step(mystery_step) == "noise_scale_tutorial"
    assert identify_step(mystery_step_2) == "x0_over_alpha_bar"
