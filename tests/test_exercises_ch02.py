"""Chapter 2 exercises: answers written as a student would write them pass, and each known mistake, written here as
a student would write it, is caught and named."""
import torch

from ddim_teach.exercises import check

from _exercise_helpers import named


# ---- posterior_mean: mu = c0 x0 + ct x_t
def _mean(x0, x_t, ab, abp, *, a_xt=None, sqrt_a=True, sqrt_abp=True, beta=None, denom=None):
    alpha = ab / abp
    b = 1 - alpha if beta is None else beta
    d = 1 - ab if denom is None else denom
    a = alpha if a_xt is None else a_xt
    c0 = (abp.sqrt() if sqrt_abp else abp) * b / d
    ct = (a.sqrt() if sqrt_a else a) * (1 - abp) / d
    return c0 * x0 + ct * x_t


def test_posterior_mean_solution_and_mistakes():
    assert check("posterior_mean", lambda x0, x_t, ab, abp: _mean(x0, x_t, ab, abp)).ok
    assert named("posterior_mean", lambda x0, x_t, ab, abp: _mean(x0, x_t, ab, abp, a_xt=ab)) == "alpha_bar_for_alpha"
    assert named("posterior_mean", lambda x0, x_t, ab, abp: _mean(x0, x_t, ab, abp, denom=ab / abp)) is None
    assert named("posterior_mean",
                  lambda x0, x_t, ab, abp: _mean(x0, x_t, ab, abp, denom=1 - ab / abp)) \
        == "posterior_mean_alpha_for_alpha_bar"
    assert named("posterior_mean", lambda x0, x_t, ab, abp: _mean(x0, x_t, ab, abp, sqrt_a=False)) == "no_sqrt_alpha"
    assert named("posterior_mean",
                  lambda x0, x_t, ab, abp: _mean(x0, x_t, ab, abp, sqrt_abp=False)) == "no_sqrt_alpha_bar_prev"
    assert named("posterior_mean", lambda x0, x_t, ab, abp: _mean(x0, x_t, ab, abp, beta=1 - ab)) \
        == "posterior_mean_cumulative_beta"
    assert named("posterior_mean", lambda x0, x_t, ab, abp: _mean(x_t, x0, ab, abp)) == "posterior_mean_x0_x_t_swapped"


# ---- posterior_variance
def test_posterior_variance_solution_and_mistakes():
    def beta(ab, abp):
        return 1 - ab / abp

    assert check("posterior_variance", lambda ab, abp: (1 - abp) / (1 - ab) * beta(ab, abp)).ok
    assert named("posterior_variance", lambda ab, abp: beta(ab, abp)) == "posterior_variance_fixed_large"
    assert named("posterior_variance", lambda ab, abp: torch.sqrt((1 - abp) / (1 - ab) * beta(ab, abp))) \
        == "std_for_variance"
    assert named("posterior_variance", lambda ab, abp: (1 - ab) / (1 - abp) * beta(ab, abp)) == "inverted_ratio"
    assert named("posterior_variance", lambda ab, abp: (1 - abp) / (1 - ab) * (1 - ab)) \
        == "posterior_variance_cumulative_beta"


# ---- ddpm_step
def _step(x_t, eps, ab, abp, z, *, x0_ab=None, noise_scale="std", ret="x_prev"):
    alpha = ab / abp
    beta = 1 - alpha
    a = ab if x0_ab is None else x0_ab
    x0_hat = (x_t - torch.sqrt(1 - a) * eps) / torch.sqrt(a)
    mean = torch.sqrt(abp) * beta / (1 - ab) * x0_hat + torch.sqrt(alpha) * (1 - abp) / (1 - ab) * x_t
    var = (1 - abp) / (1 - ab) * beta
    scale = {"std": var.sqrt(), "var": var, "large": beta.sqrt(), "none": 0.0}[noise_scale]
    x_prev = mean + scale * z
    return {"x_prev": x_prev, "tuple": (x_prev, x0_hat), "x0_hat": x0_hat}[ret]


def test_ddpm_step_solution_and_mistakes():
    assert check("ddpm_step", lambda *a: _step(*a)).ok
    assert check("ddpm_step", lambda *a: _step(*a, ret="tuple")).ok           # (x_prev, x0_hat) is fine too
    assert named("ddpm_step", lambda x_t, e, ab, abp, z: _step(x_t, e, ab, abp, z, x0_ab=ab / abp)) \
        == "ddpm_step_alpha_for_alpha_bar"
    assert named("ddpm_step", lambda *a: _step(*a, noise_scale="large")) == "ddpm_step_fixed_large"
    assert named("ddpm_step", lambda *a: _step(*a, noise_scale="var")) == "ddpm_step_variance_for_std"
    assert named("ddpm_step", lambda *a: _step(*a, ret="x0_hat")) == "returns_x0_hat"
    assert named("ddpm_step", lambda *a: _step(*a, noise_scale="none")) == "no_noise"


# ---- l_simple
def _loss(model, x0, t, noise, alpha_bars, *, target="eps", sqrt=True, shift=0, reduce="mean", model_input="x_t"):
    ab = alpha_bars[t - shift].to(x0.dtype).view(-1, *[1] * (x0.dim() - 1))
    x_t = (ab.sqrt() * x0 + (1 - ab).sqrt() * noise) if sqrt else (ab * x0 + (1 - ab) * noise)
    pred = model(x_t if model_input == "x_t" else x0, t)
    err = (pred - (noise if target == "eps" else x0)) ** 2
    return err.mean() if reduce == "mean" else err.flatten(1).sum(1).mean()


def test_l_simple_solution_and_mistakes():
    assert check("l_simple", lambda *a: _loss(*a)).ok
    assert check("l_simple", lambda m, x0, t, e, ab: torch.nn.functional.mse_loss(
        m(ab[t].sqrt().view(-1, 1, 1, 1).to(x0.dtype) * x0 + (1 - ab[t]).sqrt().view(-1, 1, 1, 1).to(x0.dtype) * e, t),
        e)).ok
    assert named("l_simple", lambda *a: _loss(*a, target="x0")) == "x0_target"
    assert named("l_simple", lambda *a: _loss(*a, sqrt=False)) == "l_simple_no_sqrt"
    assert named("l_simple", lambda *a: _loss(*a, shift=1)) == "l_simple_one_based"
    assert named("l_simple", lambda *a: _loss(*a, reduce="sum")) == "sum_not_mean"
    assert named("l_simple", lambda *a: _loss(*a, model_input="x0")) == "model_on_x0"
