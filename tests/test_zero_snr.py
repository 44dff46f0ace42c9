"""Zero terminal SNR (Lin et al. 2023): alpha_bar = 0 at t = T - 1. A v- or x0-predicting model samples from there;
the Gaussian oracle predicts all three exactly, so the answer is known."""
import math

import pytest
import torch

from ddim_teach import oracles, samplers, schedules

MU, SD = 2.0, 0.5


@pytest.fixture(scope="module")
def zsnr():
    s = schedules.make_schedule("linear", 1000, rescale_to_zero_snr=True)
    assert s.alpha_bars[-1].item() == 0.0
    return s


def _x_T(n=2000):
    return torch.randn(n, 1, dtype=torch.float64, generator=torch.Generator().manual_seed(0))


@pytest.mark.parametrize("prediction_type", ["v_prediction", "sample"])
@pytest.mark.parametrize("spacing", ["trailing", "linspace"])
def test_sampling_from_pure_noise_follows_the_exact_flow(zsnr, prediction_type, spacing):
    """x_T ~ N(0, 1) at alpha_bar = 0; the probability-flow map to N(MU, SD^2) is x0 = MU + SD x_T.
    DDIM (eta = 0) is Euler on that ODE: the error is first order in 1/S."""
    orc = oracles.GaussianOracle(zsnr, MU, SD, (1,), prediction_type=prediction_type)
    x_T = _x_T()
    exact = MU + SD * x_T
    err = {}
    for S in (50, 200):
        tr = samplers.sample(orc, zsnr, x_T, steps=S, spacing=spacing,
                             record_every=1, progress=False)
        assert tr.timesteps[0].item() == 999 and tr.alpha_bars[0].item() == 0.0
        # the first step's x0_hat is E[x0 | pure noise] = MU, and its eps_hat is x_T itself
        torch.testing.assert_close(tr.x0_hats[0], torch.full_like(x_T, MU), rtol=0, atol=1e-12)
        torch.testing.assert_close(tr.eps_hats[0], x_T, rtol=0, atol=1e-12)
        err[S] = (tr.final - exact).abs().mean().item()
    assert err[200] < 0.01, err
    assert 2.5 < err[50] / err[200] < 5.5, err   # first order: 4x fewer steps, ~4x the error


def test_stochastic_samplers_reach_the_data_mean(zsnr):
    orc = oracles.GaussianOracle(zsnr, MU, SD, (1,), prediction_type="v_prediction")
    x_T = _x_T(4000)
    for kw in (dict(eta=1.0), dict(method="ddpm"), dict(method="ddpm", variance="fixed_large")):
        fin = samplers.sample(orc, zsnr, x_T, steps=50, record_every=None,
                              generator=torch.Generator().manual_seed(1), progress=False, **kw).final
        assert torch.isfinite(fin).all()
        assert fin.mean().item() == pytest.approx(MU, abs=4 * SD / math.sqrt(4000) + 0.02), kw


def test_v_and_x0_models_match_the_eps_model_on_an_ordinary_schedule(schedule):
    """Away from alpha_bar = 0 the three parameterisations of the same oracle give the same samples."""
    x_T = _x_T(500)
    runs = {pt: samplers.sample(oracles.GaussianOracle(schedule, MU, SD, (1,), prediction_type=pt), schedule, x_T,
                                steps=20, eta=0.5, record_every=None, progress=False,
                                generator=torch.Generator().manual_seed(2)).final
            for pt in ("epsilon", "v_prediction", "sample")}
    torch.testing.assert_close(runs["v_prediction"], runs["epsilon"], rtol=0, atol=1e-10)
    torch.testing.assert_close(runs["sample"], runs["epsilon"], rtol=0, atol=1e-10)


def test_epsilon_and_heun_are_refused_at_zero_snr_with_the_reason(zsnr):
    x_T = _x_T(4)
    with pytest.raises(ValueError, match=r"alpha_bar is 0 at t=999.*prediction_type='v_prediction' or 'sample'"):
        samplers.sample(oracles.GaussianOracle(zsnr, MU, SD, (1,)), zsnr, x_T, steps=10)
    v = oracles.GaussianOracle(zsnr, MU, SD, (1,), prediction_type="v_prediction")
    with pytest.raises(ValueError, match=r"sigma is infinite; use method='ddim' or 'ddpm'"):
        samplers.sample(v, zsnr, x_T, steps=10, method="heun")
    # leading spacing never visits t = 999, so an eps-model runs there
    fin = samplers.sample(oracles.GaussianOracle(zsnr, MU, SD, (1,)), zsnr, x_T, steps=10, spacing="leading").final
    assert torch.isfinite(fin).all()


def test_oracle_predictions_are_consistent(zsnr):
    """x_t = sqrt(ab) x0_hat + sqrt(1 - ab) eps_hat holds for the oracle's E[x0|x_t], E[eps|x_t] (linearity)."""
    x = torch.randn(6, 3, dtype=torch.float64)
    for t in (0, 500, 999):
        tt = torch.full((6,), t)
        o = oracles.GaussianOracle(zsnr, MU, SD)
        ab = zsnr.alpha_bar(t)
        torch.testing.assert_close(ab.sqrt() * o.x0_hat(x, tt) + (1 - ab).sqrt() * o.eps_hat(x, tt), x)
        v = oracles.GaussianOracle(zsnr, MU, SD, prediction_type="v_prediction")(x, tt)
        # not v's definition again: the other identity it implies, x0 = sqrt(ab) x_t - sqrt(1 - ab) v
        torch.testing.assert_close(ab.sqrt() * x - (1 - ab).sqrt() * v, o.x0_hat(x, tt))
