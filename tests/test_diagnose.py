"""The "samples are only noise" checklist passes a good model and names the fault in broken ones."""
import pytest
import torch

from ddim_teach import data, diagnose, oracles, schedules
from ddim_teach.pretrained import load_pretrained


@pytest.fixture(scope="module")
def good():
    threads = torch.get_num_threads()
    torch.set_num_threads(2)   # the checks' numbers are pinned at 2 threads; restored below for the other modules
    model, s = load_pretrained()
    x0 = data.to_tensor(data.load_mnist("test", source="bundled")[0][::63][:16])
    yield model, s, x0
    torch.set_num_threads(threads)


def test_pretrained_model_passes(good):
    model, s, x0 = good
    rep = diagnose.run_checks(model, s, x0)
    assert rep.ok, str(rep)
    assert len(rep) == 7 and "PASS  uses_time" in str(rep)


def test_model_ignoring_time_fails_uses_time(good):
    model, s, x0 = good
    frozen = lambda x, t: model(x, torch.full_like(t, 500))   # a time embedding that is never used
    assert "uses_time" in diagnose.run_checks(frozen, s, x0).failed()


def test_x0_predictor_fails_eps_scale(good):
    model, s, x0 = good

    def predicts_x0(x, t):   # returns x0_hat where the sampler expects eps_hat
        ab = s.alpha_bar(t).reshape(-1, 1, 1, 1).float()
        return (x - (1 - ab).sqrt() * model(x, t)) / ab.sqrt()
    failed = diagnose.run_checks(predicts_x0, s, x0).failed()
    assert "eps_scale" in failed and "samples_like_data" in failed


def test_untrained_network_and_short_schedule_fail(good):
    _, s, x0 = good
    from ddim_teach.unet import UNet, UNetConfig
    torch.manual_seed(0)
    raw = UNet(UNetConfig(base_channels=8, ch_mult=(1, 2), attn_resolutions=(14,), groups=4)).eval()
    failed = diagnose.run_checks(raw, s, x0, steps=5).failed()
    assert {"eps_scale", "denoises"} <= set(failed)
    short = schedules.make_schedule("linear", 100)           # linear betas over T=100: alpha_bar_T is far from 0
    assert "terminal_noise" in diagnose.run_checks(oracles.GaussianOracle(short, 0.0, 1.0, (1, 28, 28)), short,
                                                   x0, steps=5).failed()


def test_leading_spacing_with_few_steps_is_flagged(good):
    model, s, x0 = good
    rep = diagnose.run_checks(model, s, x0, steps=10, spacing="leading")
    assert "timesteps" in rep.failed() and "starts at t=900" in str(rep)


def test_bad_input():
    s = schedules.make_schedule("linear", 1000)
    with pytest.raises(ValueError, match="batch of at least 2"):
        diagnose.run_checks(lambda x, t: x, s, torch.zeros(1, 1, 28, 28))
