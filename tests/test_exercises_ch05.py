"""Chapter 5 exercises: students' correct answers pass, odd answers get one line, every known mistake is named.

The wrong answers below are written here, as a student would write them, independently of the mistakes registered in
ddim_teach/exercises/ch05.py.
"""
import pytest
import torch

from ddim_teach import schedules
from ddim_teach.exercises import EXERCISES, check


def _r(a):
    return a ** 0.5


# --- 5.1: x0_hat from eps_hat -----------------------------------------------------------------------------------------

def student_x0(x_t, eps, ab, *, root=_r, sign=-1, divide=True, swap=False):
    signal, noise = (1 - ab, ab) if swap else (ab, 1 - ab)
    out = x_t + sign * root(noise) * eps
    return out / root(signal) if divide else out


def test_correct_x0_passes():
    assert check("predict_x0", student_x0).ok


@pytest.mark.parametrize("kw, key", [
    ({"root": lambda a: a}, "predict_x0_no_sqrt"),
    ({"divide": False}, "no_division"),
    ({"sign": +1}, "predict_x0_sign"),
    ({"swap": True}, "predict_x0_roots_swapped"),
])
def test_x0_mistakes_are_named(kw, key):
    v = check("predict_x0", lambda *a: student_x0(*a, **kw))
    assert not v.ok and v.mistake == key, v.message
    assert "Hint:" in v.message and "\n" not in v.message


def test_x0_in_float64_for_float32_input_gets_one_line():
    v = check("predict_x0", lambda x, e, ab: student_x0(x.double(), e.double(), ab))
    assert not v.ok and "dtype" in v.message


# --- 5.2: eps_hat from x0_hat ----------------------------------------------------------------------------------------

def student_eps(x_t, x0, ab, *, root=_r, sign=-1, swap=False):
    signal, noise = (1 - ab, ab) if swap else (ab, 1 - ab)
    return (x_t + sign * root(signal) * x0) / root(noise)


def test_correct_eps_passes_and_inverts_x0():
    assert check("eps_from_x0", student_eps).ok
    s = schedules.make_schedule("linear", 1000)
    x, e = torch.randn(2, 5, dtype=torch.float64), torch.randn(2, 5, dtype=torch.float64)
    ab = s.alpha_bar(400)
    ref_x0, ref_eps = EXERCISES["predict_x0"].reference, EXERCISES["eps_from_x0"].reference
    torch.testing.assert_close(ref_eps(x, ref_x0(x, e, ab), ab), e)


@pytest.mark.parametrize("kw, key", [
    ({"sign": +1}, "eps_from_x0_sign"),
    ({"swap": True}, "eps_from_x0_roots_swapped"),
    ({"root": lambda a: a}, "eps_from_x0_no_sqrt"),
])
def test_eps_mistakes_are_named(kw, key):
    v = check("eps_from_x0", lambda *a: student_eps(*a, **kw))
    assert not v.ok and v.mistake == key, v.message


# --- 5.3: x0_hat from a v-prediction ---------------------------------------------------------------------------------

def student_x0_from_v(x_t, v, ab, *, sign=-1, swap=False):
    a, b = (_r(1 - ab), _r(ab)) if swap else (_r(ab), _r(1 - ab))
    return a * x_t + sign * b * v


def test_correct_x0_from_v_passes_and_recovers_x0():
    assert check("x0_from_v", student_x0_from_v).ok
    # v = √ᾱ ε − √(1 − ᾱ) x₀ and x_t = √ᾱ x₀ + √(1 − ᾱ) ε give x₀ back exactly
    ab = torch.tensor(0.3, dtype=torch.float64)
    x0, eps = torch.randn(3, 4, dtype=torch.float64), torch.randn(3, 4, dtype=torch.float64)
    x_t, v = _r(ab) * x0 + _r(1 - ab) * eps, _r(ab) * eps - _r(1 - ab) * x0
    torch.testing.assert_close(EXERCISES["x0_from_v"].reference(x_t, v, ab), x0)


@pytest.mark.parametrize("fn, key", [
    (lambda x, v, ab: student_x0_from_v(x, v, ab, sign=+1), "x0_from_v_sign"),
    (lambda x, v, ab: student_x0_from_v(x, v, ab, swap=True), "x0_from_v_roots_swapped"),
    (lambda x, v, ab: _r(1 - ab) * x + _r(ab) * v, "eps_from_v"),
    (lambda x, v, ab: (x - _r(1 - ab) * v) / _r(ab), "v_as_eps"),
])
def test_x0_from_v_mistakes_are_named(fn, key):
    v = check("x0_from_v", fn)
    assert not v.ok and v.mistake == key, v.message
