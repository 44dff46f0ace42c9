"""Chapter 3 exercises: correct answers in other forms pass, odd answers get one line, every known mistake is named.

The wrong answers below are written here, independently of the mistakes registered in ddim_teach/exercises/ch03.py.
"""
import pytest
import sympy as sp

from ddim_teach.exercises import check


# --- 3.1: solving for k and m in SymPy -----------------------------------------------------------------------

def student_coefficients(ab_t, ab_prev, sigma):
    """A correct student answer, written differently from the package (no sp.solve)."""
    m = sp.sqrt(1 - ab_prev - sigma ** 2) / sp.sqrt(1 - ab_t)
    return sp.sqrt(ab_prev) - sp.sqrt(ab_t) * m, m


def test_a_correct_answer_in_another_form_passes():
    assert check("ddim_coefficients", student_coefficients).ok


def test_unsolved_or_equation_answers_are_explained():
    k, m = sp.symbols("k m")
    v = check("ddim_coefficients", lambda a, b, s: (k, m))
    assert not v.ok and "still contains k" in v.message
    v = check("ddim_coefficients", lambda a, b, s: (sp.Eq(k, 1), m))
    assert not v.ok and "expected an expression" in v.message
    v = check("ddim_coefficients", lambda a, b, s: sp.sqrt(a))
    assert not v.ok and "expected a tuple (k, m)" in v.message


def _wrong_negative_root(ab_t, ab_prev, sigma):
    k, m = student_coefficients(ab_t, ab_prev, sigma)
    return sp.sqrt(ab_prev) + sp.sqrt(ab_t) * m, -m


def _wrong_no_sqrt(ab_t, ab_prev, sigma):
    _, m = student_coefficients(ab_t, ab_prev, sigma)
    return ab_prev - ab_t * m, m


def _wrong_sigma(ab_t, ab_prev, sigma):
    m = sp.sqrt((1 - ab_prev - sigma) / (1 - ab_t))
    return sp.sqrt(ab_prev) - sp.sqrt(ab_t) * m, m


def _wrong_swapped(ab_t, ab_prev, sigma):
    return tuple(reversed(student_coefficients(ab_t, ab_prev, sigma)))


@pytest.mark.parametrize("fn, key", [(_wrong_negative_root, "negative_root"), (_wrong_no_sqrt, "no_sqrt_in_mean"),
                                     (_wrong_sigma, "sigma_not_squared"), (_wrong_swapped, "k_m_swapped")])
def test_coefficient_mistakes_are_named(fn, key):
    v = check("ddim_coefficients", fn)
    assert not v.ok and v.mistake == key, v.message
    assert "Hint:" in v.message and "\n" not in v.message


# --- 3.2: sigma(eta) --------------------------------------------------------------------------------------------

def _sig_squared(ab, abp, eta):
    return (eta * ((1 - abp) / (1 - ab)).sqrt() * (1 - ab / abp).sqrt()) ** 2


def _sig_no_root_beta(ab, abp, eta):
    return eta * torch_sqrt((1 - abp) / (1 - ab)) * (1 - ab / abp)


def _sig_no_root_ratio(ab, abp, eta):
    return eta * ((1 - abp) / (1 - ab)) * torch_sqrt(1 - ab / abp)


def _sig_alpha(ab, abp, eta):
    alpha_t = ab / abp
    return eta * torch_sqrt((1 - abp) / (1 - alpha_t)) * torch_sqrt(1 - alpha_t)


def torch_sqrt(x):
    return x.sqrt()


@pytest.mark.parametrize("fn, key", [(_sig_squared, "ddim_sigma_squared"),
                                     (_sig_no_root_beta, "ddim_sigma_missing_sqrt"),
                                     (_sig_no_root_ratio, "missing_sqrt_ratio"),
                                     (_sig_alpha, "ddim_sigma_alpha_for_alpha_bar")])
def test_sigma_mistakes_are_named(fn, key):
    v = check("ddim_sigma", fn)
    assert not v.ok and v.mistake == key, v.message


def test_sigma_as_a_python_float_gets_one_line():
    v = check("ddim_sigma", lambda ab, abp, eta: float(eta * ((1 - abp) / (1 - ab) * (1 - ab / abp)).sqrt()))
    assert not v.ok and "expected a torch.Tensor" in v.message


# --- 3.3: the family's kernel mean (eq. 7) --------------------------------------------------------------------------

def _mean(x0, x_t, ab, abp, sigma, direction_std=lambda ab, abp, s: (1 - abp - s ** 2).sqrt(), scale=True):
    eps = (x_t - ab.sqrt() * x0) / ((1 - ab).sqrt() if scale else 1)
    return abp.sqrt() * x0 + direction_std(ab, abp, sigma) * eps


def test_a_correct_mean_passes():
    assert check("family_posterior_mean", _mean).ok


@pytest.mark.parametrize("fn, key", [
    (lambda *a: _mean(*a, direction_std=lambda ab, abp, s: 1 - abp - s ** 2), "family_posterior_mean_no_sqrt"),
    (lambda *a: _mean(*a, direction_std=lambda ab, abp, s: (1 - abp - s).sqrt()), "sigma_for_variance"),
    (lambda *a: _mean(*a, scale=False), "eps_unscaled"),
])
def test_mean_mistakes_are_named(fn, key):
    v = check("family_posterior_mean", fn)
    assert not v.ok and v.mistake == key, v.message
