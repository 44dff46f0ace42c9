import math

import pytest
import torch

from ddim_teach import oracles, samplers
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
    tr0 = sample(o, schedule, x, steps=10, final_alpha_bar="alpha_bar_0")
    assert tr0.alpha_bar_prevs[-1].item() == schedule.alpha_bars[0].item()


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
    a = sample(o, schedule, x_T, steps=50, eta=0.5, noises=noise)
    assert torch.equal(a.noises[:-1], noise[:-1])  # the last step has sigma = 0 and takes none


def test_sigma_hat_is_ddpm_fixed_large(schedule):
    o = oracles.GaussianOracle(schedule, mu=1.0, s=0.5)
    x_T = torch.randn(10, 2, dtype=torch.float64)
    a = sample(o, schedule, x_T, steps=20, eta="sigma_hat", generator=torch.Generator().manual_seed(1))
    b = sample(o, schedule, x_T, steps=20, method="ddpm", variance="fixed_large",
               generator=torch.Generator().manual_seed(1))
    assert torch.equal(a.final, b.final)
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
        rec = sample(o, schedule, inv.final, steps=S, spacing="trailing", record_every=None, progress=False)
        mse[S] = ((rec.final - x0) ** 2).mean().item()
    assert mse[25] > mse[50] > mse[100] > mse[200]
    slope = math.log(mse[200] / mse[50]) / math.log(200 / 50)
    assert -2.5 < slope < -1.5, (mse, slope)
    assert mse[200] < 1e-3


def test_inversion_is_exact_for_one_step_from_clean(schedule):
    """The first inversion step from x0 (alpha_bar = 1) is exact: x_t = sqrt(ab) x0 + sqrt(1-ab) eps."""
    o = oracles.GaussianOracle(schedule)
    x0 = torch.randn(5, 2, dtype=torch.float64)
    inv = samplers.ddim_invert(o, schedule, x0, timesteps=[300], record_every=1)
    eps = o(x0, torch.full((5,), 300))
    ab = schedule.alpha_bars[300]
    assert torch.allclose(inv.final, ab.sqrt() * x0 + (1 - ab).sqrt() * eps)


def test_record_every_and_callback(schedule):
    o = oracles.GaussianOracle(schedule)
    seen = []
    tr = sample(o, schedule, torch.randn(3, 2), steps=20, record_every=5, callback=lambda st: seen.append(st.t))
    assert tr.recorded.tolist() == [0, 5, 10, 15, 19]
    assert tr.xs.shape == (5, 3, 2) and tr.x0_hats.shape == (5, 3, 2) and tr.eps_hats.shape == (5, 3, 2)
    assert seen == tr.timesteps.tolist()
    none = sample(o, schedule, torch.randn(3, 2), steps=20, record_every=None)
    assert none.xs is None and none.final.shape == (3, 2)


def test_clipping_and_rederived_eps():
    x = torch.tensor([[3.0]], dtype=torch.float64)
    e = torch.tensor([[0.0]], dtype=torch.float64)
    ab, abp = 0.5, 0.9
    _, x0 = ddim_step(x, e, ab, abp)
    assert x0.item() > 1
    xp, x0c = ddim_step(x, e, ab, abp, clip_sample=True)
    assert x0c.item() == 1.0
    xp2, _ = ddim_step(x, e, ab, abp, clip_sample=True, use_clipped_model_output=True)
    eps_new = (3.0 - math.sqrt(ab) * 1.0) / math.sqrt(1 - ab)
    assert xp2.item() == pytest.approx(math.sqrt(abp) + math.sqrt(1 - abp) * eps_new, rel=1e-12)
    assert xp.item() == pytest.approx(math.sqrt(abp), rel=1e-12)


def test_slerp():
    g = torch.Generator().manual_seed(0)
    z0, z1 = torch.randn(4, 784, generator=g), torch.randn(4, 784, generator=g)
    assert torch.allclose(samplers.slerp(z0, z1, 0.0), z0, atol=1e-5)
    assert torch.allclose(samplers.slerp(z0, z1, 1.0), z1, atol=1e-5)
    mid = samplers.slerp(z0, z1, 0.5)
    # norms stay near sqrt(784) = 28; the linear midpoint shrinks to ~28/sqrt(2)
    assert (mid.norm(dim=1) - 28).abs().max() < 2.0
    assert ((0.5 * (z0 + z1)).norm(dim=1) - 28 / math.sqrt(2)).abs().max() < 2.0
    assert samplers.slerp(z0, z1, torch.linspace(0, 1, 5)).shape == (5, 4, 784)


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
    (dict(timesteps=[10, 500]), "strictly descending"),
    (dict(timesteps=[1200, 5]), r"\[0, 1000\)"),
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
    with pytest.raises(ValueError, match="floating-point"):
        sample(o, schedule, torch.zeros(4, 2, dtype=torch.long), steps=5)
    with pytest.raises(ValueError, match="batch dimension"):
        sample(o, schedule, torch.randn(2), steps=5)


def test_nan_reports_the_step(schedule):
    ts = [999, 800, 600, 400]
    with pytest.raises(ValueError, match=r"NaN or inf at step 2 of 4 \(t=600\)"):
        sample(_NaNAt(600), schedule, torch.randn(3, 2), timesteps=ts)
