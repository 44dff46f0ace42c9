import math

import pytest
import torch

from ddim_teach import formulas, ode, oracles, samplers
from ddim_teach.denoiser import Denoiser
from ddim_teach.samplers import ddim_sigma, ddim_step, ddpm_step, ddpm_variance, sample


def test_ddim_step_formula_by_hand():
    ab, abp, eta = 0.3, 0.6, 0.5
    x, e, z = torch.tensor([[1.0]], dtype=torch.float64), torch.tensor([[0.2]], dtype=torch.float64), \
        torch.tensor([[-0.7]], dtype=torch.float64)
    x0 = (1.0 - math.sqrt(1 - ab) * 0.2) / math.sqrt(ab)
    sig = eta * math.sqrt((1 - abp) / (1 - ab)) * math.sqrt(1 - ab / abp)
    expect = math.sqrt(abp) * x0 + math.sqrt(1 - abp - sig ** 2) * 0.2 + sig * -0.7
    x_prev, x0_hat = ddim_step(x, e, ab, abp, eta=eta, noise=z)
    assert x0_hat.item() == pytest.approx(x0, rel=1e-14)
    assert x_prev.item() == pytest.approx(expect, rel=1e-14)
    assert ddim_sigma(ab, abp, eta).item() == pytest.approx(sig, rel=1e-14)


def test_ddpm_step_formula_by_hand():
    ab, abp = 0.3, 0.6
    beta = 1 - ab / abp
    x, e, z = (torch.tensor([[v]], dtype=torch.float64) for v in (1.0, 0.2, -0.7))
    x0 = (1.0 - math.sqrt(1 - ab) * 0.2) / math.sqrt(ab)
    mean = math.sqrt(abp) * beta / (1 - ab) * x0 + math.sqrt(1 - beta) * (1 - abp) / (1 - ab) * 1.0
    small = (1 - abp) / (1 - ab) * beta
    out, _ = ddpm_step(x, e, ab, abp, "fixed_small", z)
    assert out.item() == pytest.approx(mean + math.sqrt(small) * -0.7, rel=1e-14)
    out, _ = ddpm_step(x, e, ab, abp, "fixed_large", z)
    assert out.item() == pytest.approx(mean + math.sqrt(beta) * -0.7, rel=1e-14)
    assert ddpm_variance(ab, abp, "fixed_small").item() == pytest.approx(small, rel=1e-14)


def test_sigma_not_sigma_squared():
    """eta = 1 gives sigma^2 = beta_tilde (a variance), not sigma = beta_tilde."""
    ab, abp = 0.5, 0.52
    s = ddim_sigma(ab, abp, 1.0).item()
    assert s ** 2 == pytest.approx(ddpm_variance(ab, abp, "fixed_small").item(), rel=1e-12)
    assert s != pytest.approx(ddpm_variance(ab, abp, "fixed_small").item(), rel=1e-3)


def test_last_step_goes_to_alpha_bar_one(schedule):
    o = oracles.GaussianOracle(schedule, mu=0.5, s=0.3)
    x = torch.randn(8, 3, dtype=torch.float64)
    tr = sample(o, schedule, x, steps=10, spacing="leading", record_every=1)
    assert tr.alpha_bar_prevs[-1].item() == 1.0
    # the previous timestep is the next list entry, never a stride
    assert torch.equal(tr.alpha_bar_prevs[:-1], schedule.alpha_bars[tr.timesteps[1:]])
    # with alpha_bar_prev = 1 the last DDIM step returns x0_hat exactly
    assert torch.equal(tr.final, tr.x0_hats[-1])
    # the formula the loops use, by hand: the next entry's alpha_bar, and 1 (not alpha_bars[-1]) after the last
    ab = schedule.alpha_bars
    got = formulas.alpha_bar_prevs(ab, torch.tensor([999, 500, 0]))
    assert got.tolist() == [ab[500].item(), ab[0].item(), 1.0]


def test_ddim_eta1_all_steps_is_ddpm(schedule):
    """DDIM with eta = 1 on every step is DDPM with fixed_small, step by step, in float64."""
    o = oracles.GaussianMixtureOracle.default(schedule)
    x_T = torch.randn(16, 2, dtype=torch.float64)
    a = sample(o, schedule, x_T, steps=1000, eta=1.0, generator=torch.Generator().manual_seed(3), progress=False)
    b = sample(o, schedule, x_T, steps=1000, method="ddpm", variance="fixed_small",
               generator=torch.Generator().manual_seed(3), progress=False)
    assert a.noises is not None and torch.equal(a.noises, b.noises)  # the same noise stream
    assert torch.allclose(a.sigmas, b.sigmas, rtol=0, atol=1e-12)
    assert (a.xs - b.xs).abs().max().item() <= 1e-10
    assert (a.final - b.final).abs().max().item() <= 1e-10
    # and both differ from deterministic DDIM, so the test can fail
    c = sample(o, schedule, x_T, steps=1000, eta=0.0, progress=False)
    assert (c.final - a.final).abs().max().item() > 1e-2


def test_eta_zero_draws_no_random_numbers(schedule):
    o = oracles.GaussianOracle(schedule)
    g = torch.Generator().manual_seed(5)
    before = g.get_state().clone()
    tr = sample(o, schedule, torch.randn(4, 2), steps=20, eta=0.0, generator=g)
    assert torch.equal(g.get_state(), before)
    assert tr.noises is None and (tr.sigmas == 0).all()


def test_same_seed_same_samples_and_shared_noise(schedule):
    o = oracles.GaussianMixtureOracle.default(schedule)
    x_T = torch.randn(32, 2)
    runs = [sample(o, schedule, x_T, steps=50, eta=0.5, generator=torch.Generator().manual_seed(9)) for _ in range(2)]
    assert torch.equal(runs[0].final, runs[1].final)
    noise = torch.randn(50, 32, 2)
    rec = samplers.Recorder()
    samplers.sample_ddim(Denoiser(o, schedule), x_T, runs[0].timesteps, 0.5, noises=noise, callback=rec)
    a = rec.trajectory(torch.zeros(1))
    assert torch.equal(a.noises[:-1], noise[:-1])  # the last step has sigma = 0 and takes none
    assert (a.noises[-1] == 0).all()


def test_sigma_hat_is_ddpm_fixed_large(schedule):
    o = oracles.GaussianOracle(schedule, mu=1.0, s=0.5)
    x_T = torch.randn(10, 2, dtype=torch.float64)
    a = sample(o, schedule, x_T, steps=20, eta="sigma_hat", generator=torch.Generator().manual_seed(1))
    b = sample(o, schedule, x_T, steps=20, method="ddpm", variance="fixed_large",
               generator=torch.Generator().manual_seed(1))
    assert torch.equal(a.final, b.final)
    # the alias is recorded, not hidden: the run says what it was
    assert a.info == {**b.info, "alias": "sigma_hat"} and b.info["method"] == "ddpm" and b.info["eta"] is None
    # and the alias cannot be combined with a method or variance it would override
    for kw in (dict(method="ddim"), dict(method="heun"), dict(variance="fixed_small")):
        with pytest.raises(ValueError, match="eta='sigma_hat' means method='ddpm', variance='fixed_large'"):
            sample(o, schedule, x_T, steps=20, eta="sigma_hat", **kw)
    ab, abp = a.alpha_bars[3], a.alpha_bar_prevs[3]
    assert a.sigmas[3].item() == pytest.approx(math.sqrt(1 - ab / abp), rel=1e-12)
    assert a.sigmas[-1].item() == 0.0  # no noise at the last step


def test_gaussian_oracle_maps_noise_to_data(schedule):
    """Deterministic DDIM carries N(0, I) to N(mu, s^2 I)."""
    mu, s = 2.0, 0.5
    o = oracles.GaussianOracle(schedule, mu=mu, s=s)
    n = 40_000
    x_T = torch.randn(n, 1, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    x0 = sample(o, schedule, x_T, steps=500, eta=0.0, spacing="trailing", record_every=None, progress=False).final
    # exact flow of the ODE: z = (x_T - sqrt(ab_T) mu) / sqrt(v_T)  ->  x0 = mu + s z; the sampling
    # error of the mean is s / sqrt(n) = 0.0025, of the variance s^2 sqrt(2/n) = 0.0018
    assert x0.mean().item() == pytest.approx(mu, abs=4 * s / math.sqrt(n) + 0.01)
    assert x0.var().item() == pytest.approx(s ** 2, abs=4 * s ** 2 * math.sqrt(2 / n) + 0.005)
    # and, sample by sample, the exact flow map (a tighter, noise-free check)
    ab_T = schedule.alpha_bars[999]
    z = (x_T - ab_T.sqrt() * mu) / (ab_T * s ** 2 + 1 - ab_T).sqrt()
    err = (x0 - (mu + s * z)).abs()
    assert err.max().item() < 0.02 and err.mean().item() < 0.003  # Euler error, largest in the tails


def test_inversion_round_trip_error_falls_as_one_over_S_squared(schedule):
    o = oracles.GaussianOracle(schedule, mu=0.5, s=0.5)
    x0 = o.sample_data(2000, (1,), generator=torch.Generator().manual_seed(2))
    mse = {}
    for S in (25, 50, 100, 200):
        inv = samplers.ddim_invert(o, schedule, x0, steps=S, spacing="trailing", progress=False)
        rec = sample(o, schedule, inv.x_T, steps=S, spacing="trailing", record_every=None, progress=False)
        mse[S] = ((rec.final - x0) ** 2).mean().item()
    assert mse[25] > mse[50] > mse[100] > mse[200]
    slope = math.log(mse[200] / mse[50]) / math.log(200 / 50)
    assert -2.5 < slope < -1.5, (mse, slope)
    assert mse[200] < 1e-3


def test_inversion_is_exact_for_one_step_from_clean(schedule):
    """The first inversion step from x0 (alpha_bar = 1) is exact: x_t = sqrt(ab) x0 + sqrt(1-ab) eps."""
    o = oracles.GaussianOracle(schedule)
    x0 = torch.randn(5, 2, dtype=torch.float64)
    inv = samplers.ddim_invert(o, schedule, x0, steps=[300])
    eps = o(x0, torch.full((5,), 300))
    ab = schedule.alpha_bars[300]
    assert torch.allclose(inv.x_T, ab.sqrt() * x0 + (1 - ab).sqrt() * eps)


def test_default_spacing_is_trailing(schedule):
    """sample() and ddim_invert() start at the noisiest step by default (diagnose flags 'leading' at S <= 40)."""
    o = oracles.GaussianOracle(schedule)
    tr = sample(o, schedule, torch.randn(3, 2), steps=10, record_every=None)
    assert tr.timesteps.tolist() == [999, 899, 799, 699, 599, 499, 399, 299, 199, 99]
    assert tr.info["spacing"] == "trailing" and len(sample(o, schedule, torch.randn(3, 2)).timesteps) == 50
    inv = samplers.ddim_invert(o, schedule, torch.randn(3, 2), steps=10)
    assert inv.timesteps.tolist() == tr.timesteps.flip(0).tolist()


def test_heun_loop_step_by_hand(schedule):
    """Each Heun step is the trapezoid of eps at (x, t) and at the Euler point (x_euler, t_next), 2S - 1 calls."""
    o = oracles.GaussianMixtureOracle.default(schedule)
    x_T = torch.randn(16, 2, dtype=torch.float64)
    seen = []
    ref = sample(o, schedule, x_T, steps=10, method="heun", callback=seen.append)
    assert ref.nfe == 19
    st, t_next = seen[4], int(ref.timesteps[5])
    eps = o(st.x_t, torch.full((16,), st.t))
    sig, sig_next = ode.ode_sigma(st.alpha_bar_t), ode.ode_sigma(st.alpha_bar_prev)
    euler = (st.x_t / math.sqrt(st.alpha_bar_t) + (sig_next - sig) * eps) * math.sqrt(st.alpha_bar_prev)
    eps2 = o(euler, torch.full((16,), t_next))
    heun = (st.x_t / math.sqrt(st.alpha_bar_t) + (sig_next - sig) * (eps + eps2) / 2) * math.sqrt(st.alpha_bar_prev)
    torch.testing.assert_close(st.x_prev, heun, rtol=0, atol=1e-12)
    assert (st.x_prev - euler).abs().max() > 1e-6  # the second call matters, so the check can fail
    # a last step to alpha_bar = 1 is Euler, i.e. DDIM eta = 0: the final sample is x0_hat there
    torch.testing.assert_close(ref.final, ref.x0_hats[-1], rtol=0, atol=1e-12)


def test_inversion_result_and_callback(schedule):
    """ddim_invert returns an Inversion (x_T is the noise reached, xs runs clean -> noisy) and calls back per step."""
    o = oracles.GaussianOracle(schedule, mu=0.5, s=0.5)
    x0 = torch.randn(5, 2, dtype=torch.float64)
    seen = []
    inv = samplers.ddim_invert(o, schedule, x0, steps=8, record=True, callback=seen.append)
    assert inv.xs.shape == (9, 5, 2) and torch.equal(inv.xs[0], x0) and torch.equal(inv.xs[-1], inv.x_T)
    assert torch.equal(inv.x0, x0) and inv.nfe == 8
    assert [st.t for st in seen] == inv.timesteps.tolist() == sorted(inv.timesteps.tolist())
    assert seen[0].alpha_bar_t == 1.0 and torch.equal(seen[0].x_t, x0) and torch.equal(seen[-1].x_prev, inv.x_T)
    assert all(st.sigma == 0.0 and st.noise is None for st in seen)
    # each step is ddim_step (eta = 0) from the current level to the target level, with eps at the target t
    st = seen[2]
    assert st.alpha_bar_t == schedule.alpha_bars[seen[1].t].item() and st.alpha_bar_prev == schedule.alpha_bars[st.t]
    expect, _ = ddim_step(st.x_t, o(st.x_t, torch.full((5,), st.t)), st.alpha_bar_t, st.alpha_bar_prev)
    torch.testing.assert_close(st.x_prev, expect, rtol=0, atol=0)
    assert samplers.ddim_invert(o, schedule, x0, steps=8).xs is None


def test_an_ignored_argument_is_an_error(schedule):
    o = oracles.GaussianOracle(schedule)
    x = torch.randn(3, 2)
    with pytest.raises(ValueError, match="method='ddpm' takes no eta"):
        sample(o, schedule, x, steps=5, method="ddpm", eta=1.0)
    with pytest.raises(ValueError, match="applies only to method='ddpm'"):
        sample(o, schedule, x, steps=5, eta=1.0, variance="fixed_large")


def test_records_compare_by_identity():
    """Trajectory, StepState and Schedule hold tensors; == must not raise ('ambiguous truth value')."""
    from ddim_teach.schedules import make_schedule
    s = make_schedule("linear", 100)
    tr = sample(oracles.GaussianOracle(s), s, torch.randn(2, 2), steps=5, record_every=None)
    same_tr, same_s = tr, s
    assert tr == same_tr and tr != sample(oracles.GaussianOracle(s), s, torch.randn(2, 2), steps=5, record_every=None)
    assert s == same_s and s != make_schedule("linear", 100)
    st = samplers.StepState(0, 1, tr.final, tr.final, tr.final, tr.final, 0.0, None, 0.5, 0.6)
    assert st != samplers.StepState(0, 1, tr.final, tr.final, tr.final, tr.final, 0.0, None, 0.5, 0.6)


def test_record_every_and_callback(schedule):
    o = oracles.GaussianOracle(schedule)
    seen = []
    tr = sample(o, schedule, torch.randn(3, 2), steps=20, record_every=5, callback=lambda st: seen.append(st.t))
    assert tr.recorded.tolist() == [0, 5, 10, 15, 19]
    assert tr.xs.shape == (5, 3, 2) and tr.x0_hats.shape == (5, 3, 2) and tr.eps_hats.shape == (5, 3, 2)
    assert seen == tr.timesteps.tolist()
    none = sample(o, schedule, torch.randn(3, 2), steps=20, record_every=None)
    assert none.xs is None and none.final.shape == (3, 2)


def test_clipping_and_rederived_eps(schedule):
    """The denoiser clips x0_hat to [-1, 1]; with use_clipped_model_output it re-derives eps_hat from it."""
    ab = schedule.alpha_bars[500]
    x = torch.tensor([[3.0]], dtype=torch.float64)
    zero = lambda x, t: torch.zeros_like(x)  # eps_hat = 0: x0_hat = x / sqrt(ab) > 1
    plain, clipped, both = (Denoiser(zero, schedule, clip_sample=c, use_clipped_model_output=u)(x, 500)
                            for c, u in ((False, False), (True, False), (True, True)))
    assert plain.x0_hat.item() == pytest.approx(3.0 / math.sqrt(ab), rel=1e-12) and plain.x0_hat.item() > 1
    assert clipped.x0_hat.item() == 1.0 and clipped.eps_hat.item() == 0.0
    assert both.x0_hat.item() == 1.0
    assert both.eps_hat.item() == pytest.approx((3.0 - math.sqrt(ab)) / math.sqrt(1 - ab), rel=1e-12)
    abp = 0.9  # and ddim_step uses the x0_hat it is given
    xp, _ = ddim_step(x, both.eps_hat, ab, abp, x0_hat=both.x0_hat)
    assert xp.item() == pytest.approx(math.sqrt(abp) + math.sqrt(1 - abp) * both.eps_hat.item(), rel=1e-12)
    with pytest.raises(ValueError, match="needs clip_sample=True"):
        Denoiser(zero, schedule, use_clipped_model_output=True)


def test_slerp_by_hand():
    """Orthogonal unit vectors: slerp(e1, e2, a) = cos(a pi/2) e1 + sin(a pi/2) e2, a point on the unit circle."""
    e1 = torch.tensor([[1.0, 0.0, 0.0]], dtype=torch.float64)
    e2 = torch.tensor([[0.0, 1.0, 0.0]], dtype=torch.float64)
    for a in (0.0, 0.25, 0.5, 0.9, 1.0):
        expect = torch.tensor([[math.cos(a * math.pi / 2), math.sin(a * math.pi / 2), 0.0]], dtype=torch.float64)
        torch.testing.assert_close(samplers.slerp(e1, e2, a), expect, rtol=0, atol=1e-12)
    # equal vectors: the sin(theta) = 0 branch returns the vector itself
    torch.testing.assert_close(samplers.slerp(e1, e1, 0.3), e1, rtol=0, atol=1e-12)


def test_slerp_keeps_angle_and_norm_of_noise():
    g = torch.Generator().manual_seed(0)
    z0, z1 = (torch.randn(4, 784, generator=g, dtype=torch.float64) for _ in range(2))
    z1 = z1 / z1.norm(dim=1, keepdim=True) * z0.norm(dim=1, keepdim=True)   # equal norms: slerp keeps them exactly
    cos = lambda a, b: (a * b).sum(1) / (a.norm(dim=1) * b.norm(dim=1))
    theta = torch.arccos(cos(z0, z1))
    for a in (0.2, 0.5, 0.7):
        z = samplers.slerp(z0, z1, a)
        torch.testing.assert_close(z.norm(dim=1), z0.norm(dim=1), rtol=1e-12, atol=0)
        torch.testing.assert_close(torch.arccos(cos(z0, z)), a * theta, rtol=0, atol=1e-9)   # angle from z0 is a theta
    stack = samplers.slerp(z0, z1, torch.linspace(0, 1, 5))
    assert stack.shape == (5, 4, 784)
    torch.testing.assert_close(stack[0], z0, rtol=0, atol=1e-12)
    torch.testing.assert_close(stack[-1], z1, rtol=0, atol=1e-12)


class _NaNAt:
    sample_shape = (2,)

    def __init__(self, bad_t):
        self.bad_t = bad_t

    def __call__(self, x, t):
        out = torch.zeros_like(x)
        return out + float("nan") if int(t[0]) == self.bad_t else out


@pytest.mark.parametrize("kwargs,match", [
    (dict(eta=1.5), r"eta must be a number in \[0, 1\]"),
    (dict(eta=-0.1), r"eta must be a number in \[0, 1\]"),
    (dict(eta="large"), r"eta must be a number in \[0, 1\]"),
    (dict(steps=0), "steps must be an integer in 1..1000"),
    (dict(steps=1001), "steps must be an integer in 1..1000"),
    (dict(steps=[10, 500]), "strictly descending"),
    (dict(steps=[1200, 5]), r"\[0, 1000\)"),
    (dict(method="euler"), "method must be one of"),
    (dict(variance="learned", method="ddpm"), "variance must be one of"),
])
def test_bad_input(schedule, kwargs, match):
    o = oracles.GaussianOracle(schedule, sample_shape=(2,))
    with pytest.raises(ValueError, match=match):
        sample(o, schedule, torch.randn(4, 2), **kwargs)


def test_bad_x_T(schedule):
    o = oracles.GaussianOracle(schedule, sample_shape=(2,))
    with pytest.raises(ValueError, match=r"this model expects \(B, 2\)"):
        sample(o, schedule, torch.randn(4, 3), steps=5)
    with pytest.raises(TypeError, match="floating-point"):
        sample(o, schedule, torch.zeros(4, 2, dtype=torch.long), steps=5)
    with pytest.raises(ValueError, match="batch dimension"):
        sample(o, schedule, torch.randn(2), steps=5)


def test_nan_reports_the_step(schedule):
    ts = [999, 800, 600, 400]
    with pytest.raises(ValueError, match=r"NaN or inf \(t=600\)"):
        sample(_NaNAt(600), schedule, torch.randn(3, 2), steps=ts)
