"""Chapter 6 exercises: students' correct answers pass, every known mistake is named.

The wrong answers below are written here, independently of the mistakes registered in ddim_teach/exercises/ch06.py.
"""
import pytest
import torch

from ddim_teach import ode, oracles, schedules
from ddim_teach.exercises import check
from ddim_teach.exercises.ch06 import gaussian_eps


def test_gaussian_eps_is_the_oracle_in_ode_coordinates():
    s = schedules.make_schedule("linear", 1000)
    orc = oracles.GaussianOracle(s, mu=2.0, s=0.5)
    x = torch.randn(6, 2, dtype=torch.float64)
    for t in (999, 400, 3):
        ab = s.alpha_bar(t)
        want = orc(x, torch.full((6,), t))
        torch.testing.assert_close(gaussian_eps(ode.to_ode(x, ab), ode.ode_sigma(ab)), want, rtol=1e-10, atol=1e-12)


# --- 6.1 -----------------------------------------------------------------------------------------------------------

def _coords(x, ab, sigma_of=lambda ab: ((1 - ab) / ab).sqrt(), xbar_of=lambda x, ab: x / ab.sqrt()):
    return xbar_of(x, ab), sigma_of(ab)


def test_correct_coordinates_pass():
    assert check("ode_coordinates", _coords).ok


@pytest.mark.parametrize("fn, key", [
    (lambda x, ab: _coords(x, ab, sigma_of=lambda ab: (1 - ab) / ab), "ode_coordinates_sigma_squared"),
    (lambda x, ab: _coords(x, ab, sigma_of=lambda ab: (1 - ab).sqrt()), "ddpm_noise_std"),
    (lambda x, ab: _coords(x, ab, xbar_of=lambda x, ab: x * ab.sqrt()), "multiplied"),
])
def test_coordinate_mistakes_are_named(fn, key):
    v = check("ode_coordinates", fn)
    assert not v.ok and v.mistake == key, v.message


# --- 6.2 -----------------------------------------------------------------------------------------------------------

def test_correct_euler_passes_and_mistakes_are_named():
    assert check("euler_step_ode", lambda xb, s, sn, e: xb + (sn - s) * e).ok
    cases = [(lambda xb, s, sn, e: xb - (sn - s) * e, "wrong_direction"),
             (lambda xb, s, sn, e: xb + (sn * sn - s * s) * e, "variance_time"),
             (lambda xb, s, sn, e: (xb + (sn - s) * e) * (1 / (1 + sn ** 2)).sqrt(), "returns_x")]
    for fn, key in cases:
        v = check("euler_step_ode", fn)
        assert not v.ok and v.mistake == key, v.message


# --- 6.3 -----------------------------------------------------------------------------------------------------------

def heun_student(eps_fn, xb, s, sn, *, predictor=True, average=True, second_time="next", euler_last=True):
    h = sn - s
    d1 = eps_fn(xb, s)
    x_e = xb + h * d1
    if euler_last and float(sn) == 0:
        return x_e
    d2 = eps_fn(x_e if predictor else xb, sn if second_time == "next" else s)
    return xb + h * ((d1 + d2) / 2 if average else d2)


def test_correct_heun_passes():
    assert check("heun_step", heun_student).ok


@pytest.mark.parametrize("kw, key", [({"predictor": False}, "no_predictor"), ({"average": False}, "second_slope_only"),
                                     ({"second_time": "now"}, "slope_at_sigma"), ({"euler_last": False}, "trapezoid_at_zero")])
def test_heun_mistakes_are_named(kw, key):
    v = check("heun_step", lambda *a: heun_student(*a, **kw))
    assert not v.ok and v.mistake == key, v.message


def test_euler_passed_as_heun_is_caught():
    v = check("heun_step", lambda eps_fn, xb, s, sn: xb + (sn - s) * eps_fn(xb, s))
    assert not v.ok
