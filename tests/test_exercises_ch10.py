"""Chapter 10 exercises: students' correct answers pass, every known mistake is named.

The wrong answers below are written here, as a student would write them, independently of the mistakes registered in
ddim_teach/exercises/ch10.py.
"""
import pytest
import torch

from ddim_teach.exercises import check

from _exercise_helpers import named


# --- 10.1 cfg_eps --------------------------------------------------------------------------------------------------

def test_correct_cfg_passes_in_three_forms():
    assert check("cfg_eps", lambda c, u, w: (1 + w) * c - w * u).ok
    assert check("cfg_eps", lambda c, u, w: c + w * (c - u)).ok
    assert check("cfg_eps", lambda c, u, w: u + (1 + w) * (c - u)).ok


@pytest.mark.parametrize("fn, key", [
    (lambda c, u, w: u + w * (c - u), "cfg_w_for_one_plus_w"),        # diffusers' line with the paper's w
    (lambda c, u, w: w * c - (w - 1) * u, "cfg_w_for_one_plus_w"),
    (lambda c, u, w: (1 + w) * u - w * c, "cfg_swapped"),
    (lambda c, u, w: (2 + w) * c - w * u, None),                       # wrong, but no known mistake
    (lambda c, u, w: (1 + w) * c + w * u, "cfg_sign"),
    (lambda c, u, w: w * (c - u), "cfg_difference_only"),
])
def test_cfg_mistakes_are_named(fn, key):
    assert named("cfg_eps", fn) == key


# --- 10.2 classifier_guided_eps -----------------------------------------------------------------------------------

def grad_log(log_p_y, x_t, of=lambda v: v):
    x = x_t.clone().requires_grad_()
    of(log_p_y(x)).sum().backward()
    return x.grad


def guided(eps, x, ab, log_p_y, s, factor=lambda ab: (1 - ab).sqrt(), sign=-1, of=lambda v: v, reduce="sum"):
    g = grad_log(log_p_y, x, of)
    if reduce == "mean":                               # backward() of the batch mean
        xx = x.clone().requires_grad_()
        log_p_y(xx).mean().backward()
        g = xx.grad
    return eps + sign * s * factor(ab).to(eps.dtype) * g


def test_correct_classifier_guidance_passes():
    assert check("classifier_guided_eps", guided).ok

    def with_autograd_grad(eps_hat, x_t, alpha_bar_t, log_p_y, s):
        x = x_t.detach().requires_grad_(True)
        g = torch.autograd.grad(log_p_y(x), x, grad_outputs=torch.ones(len(x), dtype=x.dtype))[0]
        return eps_hat - s * torch.sqrt(1 - alpha_bar_t).to(x.dtype) * g
    assert check("classifier_guided_eps", with_autograd_grad).ok


@pytest.mark.parametrize("fn, key", [
    (lambda e, x, ab, f, s: guided(e, x, ab, f, s, sign=+1), "cg_sign"),
    (lambda e, x, ab, f, s: guided(e, x, ab, f, s, factor=lambda ab: torch.ones_like(ab)), "cg_no_sqrt_one_minus_ab"),
    (lambda e, x, ab, f, s: guided(e, x, ab, f, s, factor=lambda ab: 1 - ab), "cg_one_minus_ab_no_sqrt"),
    (lambda e, x, ab, f, s: guided(e, x, ab, f, s, factor=lambda ab: ab.sqrt()), "cg_sqrt_ab"),
    (lambda e, x, ab, f, s: guided(e, x, ab, f, s, of=torch.exp), "cg_grad_of_p"),
    (lambda e, x, ab, f, s: guided(e, x, ab, f, 1.0), "cg_scale_missing"),
    (lambda e, x, ab, f, s: guided(e, x, ab, f, s, reduce="mean"), "cg_grad_of_mean"),
])
def test_classifier_guidance_mistakes_are_named(fn, key):
    assert named("classifier_guided_eps", fn) == key


def test_classifier_guidance_changing_eps_hat_in_place_is_caught():
    def in_place(eps_hat, x_t, alpha_bar_t, log_p_y, s):
        g = grad_log(log_p_y, x_t)
        eps_hat -= s * (1 - alpha_bar_t).sqrt().to(eps_hat.dtype) * g
        return eps_hat
    v = check("classifier_guided_eps", in_place)
    assert not v.ok and "eps_hat" in v.message


# --- 10.3 guided_ddim_step ----------------------------------------------------------------------------------------

def step(x, c, u, w, ab, abp, eps_x0=None, eps_dir=None, dir_scale=lambda abp: (1 - abp).sqrt()):
    e = (1 + w) * c - w * u
    e0 = e if eps_x0 is None else eps_x0
    ed = e if eps_dir is None else eps_dir
    x0 = (x - (1 - ab).sqrt().to(x.dtype) * e0) / ab.sqrt().to(x.dtype)
    return abp.sqrt().to(x.dtype) * x0 + dir_scale(abp).to(x.dtype) * ed


def test_correct_guided_step_passes_and_guiding_the_two_steps_is_the_same():
    assert check("guided_ddim_step", step).ok
    # eta = 0 is affine in eps: guiding x_prev of the two predictions equals the step with the guided eps
    assert check("guided_ddim_step", lambda x, c, u, w, ab, abp:
                 (1 + w) * step(x, c, c, 0.0, ab, abp) - w * step(x, u, u, 0.0, ab, abp)).ok


@pytest.mark.parametrize("fn, key", [
    (lambda x, c, u, w, ab, abp: step(x, c, u, w, ab, abp, eps_x0=c), "guided_x0_unguided"),
    (lambda x, c, u, w, ab, abp: step(x, c, u, w, ab, abp, eps_dir=c), "guided_direction_unguided"),
    (lambda x, c, u, w, ab, abp: step(x, c, u, w, ab, abp, dir_scale=lambda abp: 1 - abp), "guided_direction_no_sqrt"),
    (lambda x, c, u, w, ab, abp: step(x, c, u, w - 1, ab, abp), "step_w_for_one_plus_w"),
    (lambda x, c, u, w, ab, abp: step(x, u, c, w, ab, abp), "step_cfg_swapped"),
    (lambda x, c, u, w, ab, abp: step(x, c, c, w, ab, abp), "step_unguided"),
])
def test_guided_step_mistakes_are_named(fn, key):
    assert named("guided_ddim_step", fn) == key
