import math

import pytest
import torch

from ddim_teach import schedules
from ddim_teach.schedules import make_schedule, timesteps


def test_linear_is_ddpm():
    s = make_schedule("linear", 1000)
    assert s.betas.dtype == torch.float64 and len(s.betas) == 1000
    assert s.betas[0].item() == pytest.approx(1e-4) and s.betas[-1].item() == pytest.approx(0.02)
    assert torch.allclose(s.alphas, 1 - s.betas)
    # alpha_bar is the running product, computed independently here
    prod, ab = 1.0, []
    for b in s.betas.tolist():
        prod *= 1 - b
        ab.append(prod)
    assert torch.allclose(s.alpha_bars, torch.tensor(ab, dtype=torch.float64), rtol=1e-12)
    # the DDPM linear schedule ends with alpha_bar_T ~ 4.0e-5 (a well-known figure)
    assert s.alpha_bars[-1].item() == pytest.approx(4.036e-5, rel=1e-3)


def test_cosine_follows_nichol_dhariwal():
    s = make_schedule("cosine", 1000)
    f = lambda t: math.cos((t / 1000 + 0.008) / 1.008 * math.pi / 2) ** 2
    # alpha_bar_t = f(t+1)/f(0) wherever beta was not capped
    for t in (0, 10, 500, 900):
        assert s.alpha_bars[t].item() == pytest.approx(f(t + 1) / f(0), rel=1e-9)
    assert s.betas.max().item() == pytest.approx(0.999)


def test_zero_terminal_snr():
    s = make_schedule("linear", 1000, rescale_to_zero_snr=True)
    base = make_schedule("linear", 1000)
    assert s.alpha_bars[-1].item() == pytest.approx(0.0, abs=1e-12)
    assert s.alpha_bars[0].item() == pytest.approx(base.alpha_bars[0].item(), rel=1e-9)
    assert s.snr[-1].item() == pytest.approx(0.0, abs=1e-12)


def test_snr_by_hand_and_from_the_forward_process(schedule):
    s = schedule
    # by hand: alpha_bar_0 = 1 - 1e-4, so SNR_0 = (1 - 1e-4) / 1e-4 = 9999
    assert s.snr[0].item() == pytest.approx(9999.0, rel=1e-9)
    assert (s.snr[1:] < s.snr[:-1]).all()  # noise only grows
    # empirically: for x0 ~ N(0, 1), x_t = q_sample(x0): corr(x0, x_t)^2 = SNR / (1 + SNR)
    g = torch.Generator().manual_seed(0)
    n = 200_000
    x0 = torch.randn(n, dtype=torch.float64, generator=g)
    for t in (100, 400, 700):
        x_t = s.q_sample(x0, t, torch.randn(n, dtype=torch.float64, generator=g))
        r2 = torch.corrcoef(torch.stack([x0, x_t]))[0, 1].item() ** 2
        assert r2 / (1 - r2) == pytest.approx(s.snr[t].item(), rel=0.05, abs=2e-3), t


def test_posterior_variance(schedule):
    s = schedule
    pv = s.posterior_variance
    assert pv[0].item() == 0.0  # beta_tilde_1 = 0: alpha_bar_prev = 1 at the first step
    t = 500
    expect = (1 - s.alpha_bars[t - 1]) / (1 - s.alpha_bars[t]) * s.betas[t]
    assert pv[t].item() == pytest.approx(expect.item(), rel=1e-12)


def test_q_sample_and_conversions(schedule):
    s = schedule
    x0, eps = torch.randn(4, 1, 5, 5, dtype=torch.float64), torch.randn(4, 1, 5, 5, dtype=torch.float64)
    t = torch.tensor([0, 10, 500, 999])
    x_t = s.q_sample(x0, t, eps)
    assert torch.allclose(s.x0_from_eps(x_t, t, eps), x0)
    assert torch.allclose(s.eps_from_x0(x_t, t, x0), eps)
    v = s.v_from(x0, t, eps)
    assert torch.allclose(s.eps_from_v(x_t, t, v), eps)
    assert torch.allclose(s.x0_from_v(x_t, t, v), x0)
    # an x0-predicting and a v-predicting model give the same eps_hat and x0_hat through the denoiser
    from ddim_teach.denoiser import Denoiser
    x_t = s.q_sample(x0, 500, eps)
    v = s.v_from(x0, 500, eps)
    for kind, out in (("sample", x0), ("v_prediction", v), ("epsilon", eps)):
        pred = Denoiser(lambda x, t, out=out: out, s, kind)(x_t, 500)
        torch.testing.assert_close(pred.eps_hat, eps) and torch.testing.assert_close(pred.x0_hat, x0)
    with pytest.raises(ValueError, match="prediction_type"):
        Denoiser(lambda x, t: x, s, "score")


def test_q_sample_statistics(schedule):
    """Empirical check of q(x_t|x0) = N(sqrt(ab) x0, (1-ab) I) from the one-step chain."""
    s = schedule
    x = torch.full((200_000,), 0.7, dtype=torch.float64)
    g = torch.Generator().manual_seed(1)
    for t in range(300):  # run the Markov chain x_t = sqrt(1-beta_t) x_{t-1} + sqrt(beta_t) z
        x = (1 - s.betas[t]).sqrt() * x + s.betas[t].sqrt() * torch.randn(x.shape, generator=g, dtype=torch.float64)
    ab = s.alpha_bars[299]
    assert x.mean().item() == pytest.approx(0.7 * ab.sqrt().item(), abs=5e-3)
    assert x.var().item() == pytest.approx(1 - ab.item(), abs=5e-3)


@pytest.mark.parametrize("spacing,expect", [
    ("leading", [900, 800, 700, 600, 500, 400, 300, 200, 100, 0]),
    ("trailing", [999, 899, 799, 699, 599, 499, 399, 299, 199, 99]),
    ("linspace", [999, 888, 777, 666, 555, 444, 333, 222, 111, 0]),
])
def test_timesteps_by_hand(spacing, expect):
    assert timesteps(1000, 10, spacing).tolist() == expect


def test_timesteps_properties():
    for spacing in ("leading", "trailing", "linspace"):
        for S in (1, 7, 10, 50, 333, 1000):
            ts = timesteps(1000, S, spacing)
            assert ts.dtype == torch.long and len(ts) == S
            assert (ts[:-1] > ts[1:]).all() and ts.min() >= 0 and ts.max() <= 999
    assert timesteps(1000, 1000, "leading").tolist() == list(range(999, -1, -1))
    assert timesteps(1000, 10, "leading", steps_offset=1).tolist()[0] == 901
    q = timesteps(1000, 10, "quad")
    assert q.tolist()[0] == 800 and q.tolist()[-1] == 0  # int(linspace(0, sqrt(800), S)^2), as the DDIM code
    assert timesteps(1000, spacing=[999, 500, 3]).tolist() == [999, 500, 3]


@pytest.mark.parametrize("kwargs,match", [
    (dict(steps=0), "steps must be an integer in 1..1000"),
    (dict(steps=1001), "steps must be an integer"),
    (dict(steps=2.5), "steps must be an integer"),
    (dict(spacing=[10, 20]), "strictly descending"),
    (dict(spacing=[20, 20, 10]), "duplicates"),
    (dict(spacing=[1000, 10]), r"\[0, 1000\)"),
    (dict(spacing=[5, -1]), r"\[0, 1000\)"),
    (dict(steps=50, spacing="quad"), "quad spacing gives duplicate timesteps"),
    (dict(steps=10, spacing="fancy"), "unknown spacing"),
])
def test_timesteps_bad_input(kwargs, match):
    kwargs.setdefault("steps", None)
    with pytest.raises(ValueError, match=match):
        timesteps(1000, **kwargs)


def test_bad_schedule_name():
    with pytest.raises(ValueError, match="unknown schedule 'quadratic'; choose one of linear"):
        make_schedule("quadratic")
    with pytest.raises(ValueError, match="betas must lie in"):
        schedules.Schedule(torch.tensor([0.1, 1.5]))


@pytest.mark.parametrize("T", [50, 1000])
@pytest.mark.parametrize("spacing", ["leading", "trailing", "linspace"])
def test_every_step_count_gives_exactly_S_distinct_descending_timesteps(T, spacing):
    """Trailing spacing once returned S + 1 entries ending in -1 for 62 values of S at T = 1000 (S = 61 among them):
    numpy's float arange(T, 0, -T/S) can overshoot its own length."""
    for S in range(1, T + 1):
        ts = schedules.timesteps(T, S, spacing)
        assert len(ts) == S, (S, len(ts))
        assert int(ts.max()) <= T - 1 and int(ts.min()) >= 0, (S, ts)
        assert bool((ts[:-1] > ts[1:]).all()), S


def test_trailing_at_S_61_ends_at_timestep_15():
    ts = schedules.timesteps(1000, 61, "trailing")
    assert (len(ts), int(ts[0]), int(ts[-1])) == (61, 999, 15)
