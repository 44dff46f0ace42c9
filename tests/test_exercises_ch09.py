"""Chapter 9 exercises: students' correct answers pass, every known mistake is named.

The wrong answers below are written here, as a student would write them, independently of the mistakes registered in
ddim_teach/exercises/ch09.py.
"""
import pytest
import torch

from ddim_teach.exercises import check

from _exercise_helpers import named


# --- 9.1 step_h ----------------------------------------------------------------------------------------------------

def lam(ab):
    return 0.5 * torch.log(ab / (1 - ab))


def test_correct_h_passes():
    assert check("step_h", lambda ab, abp: lam(abp) - lam(ab)).ok
    assert check("step_h", lambda ab, abp: torch.log(abp.sqrt() / (1 - abp).sqrt() * (1 - ab).sqrt() / ab.sqrt())).ok


@pytest.mark.parametrize("fn, key", [
    (lambda ab, abp: torch.log(abp / (1 - abp)) - torch.log(ab / (1 - ab)), "h_full_log_snr"),
    (lambda ab, abp: lam(ab) - lam(abp), "h_sign_flipped"),
    (lambda ab, abp: torch.log(abp.sqrt() / (1 - abp)) - torch.log(ab.sqrt() / (1 - ab)), "lambda_no_sqrt_below"),
])
def test_h_mistakes_are_named(fn, key):
    assert named("step_h", fn) == key


# --- 9.2 dpm_pp_2m_step --------------------------------------------------------------------------------------------

def step_2m(x, d, d_last, ab_last, ab, abp, r_of=lambda h_last, h: h_last / h, exp=lambda h: torch.exp(-h)):
    h, h_last = lam(abp) - lam(ab), lam(ab) - lam(ab_last)
    r = r_of(h_last, h)
    D = (1 + 1 / (2 * r)) * d - d_last / (2 * r)
    return ((1 - abp) / (1 - ab)).sqrt() * x + abp.sqrt() * (1 - exp(h)) * D


def test_correct_2m_passes():
    assert check("dpm_pp_2m_step", step_2m).ok


@pytest.mark.parametrize("fn, key", [
    (lambda x, d, dl, al, a, ap: step_2m(x, d, dl, al, a, ap, r_of=lambda hl, h: h / hl), "r_inverted"),
    (lambda x, d, dl, al, a, ap: step_2m(x, dl, d, al, a, ap), "x0_hats_swapped"),
    (lambda x, d, dl, al, a, ap: step_2m(x, d, dl, al, a, ap, exp=lambda h: torch.exp(h)), "exp_plus_h"),
    (lambda x, d, dl, al, a, ap: step_2m(x, d, d, al, a, ap), "first_order_only"),
])
def test_2m_mistakes_are_named(fn, key):
    assert named("dpm_pp_2m_step", fn) == key


def test_2m_answer_in_float64_for_a_float32_batch_is_refused():
    v = check("dpm_pp_2m_step", lambda x, d, dl, al, a, ap: step_2m(x.double(), d.double(), dl.double(), al, a, ap))
    assert not v.ok and "dtype" in v.message


# --- 9.3 karras_sigmas ---------------------------------------------------------------------------------------------

def karras(sigma_min, sigma_max, n, rho=7.0):
    out = [(sigma_max ** (1 / rho) + i / (n - 1) * (sigma_min ** (1 / rho) - sigma_max ** (1 / rho))) ** rho
           for i in range(n)]
    return torch.tensor(out + [0.0], dtype=torch.float64)


def test_correct_karras_passes():
    assert check("karras_sigmas", karras).ok


@pytest.mark.parametrize("fn, key", [
    (lambda lo, hi, n, rho=7.0: torch.tensor([hi + i / (n - 1) * (lo - hi) for i in range(n)] + [0.0],
                                             dtype=torch.float64), "sigma_spaced_linearly"),
    (lambda lo, hi, n, rho=7.0: karras(lo, hi, n, 1 / rho), "rho_inverted"),
    (lambda lo, hi, n, rho=7.0: torch.cat([karras(lo, hi, n, rho)[:-1].flip(0), torch.zeros(1, dtype=torch.float64)]),
     "grid_ascending"),
])
def test_karras_mistakes_are_named(fn, key):
    assert named("karras_sigmas", fn) == key


def test_karras_without_its_final_zero_is_named():
    assert named("karras_sigmas", lambda lo, hi, n, rho=7.0: karras(lo, hi, n, rho)[:-1]) == "grid_without_final_zero"


def test_karras_of_another_wrong_length_gets_the_shape_verdict():
    v = check("karras_sigmas", lambda lo, hi, n, rho=7.0: torch.cat([karras(lo, hi, n, rho), torch.zeros(1, dtype=torch.float64)]))
    assert not v.ok and v.mistake is None and "(12,)" in v.message
