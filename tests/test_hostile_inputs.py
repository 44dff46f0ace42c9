"""Inputs a hostile (or hurried) user tried, each once silently accepted: now each is a clear error that says what
was wrong and what is allowed, or, where the input is legitimate, a right answer."""
import time

import pytest
import torch

from ddim_teach import oracles, samplers, schedules
from ddim_teach.denoiser import Denoiser
from ddim_teach.explorer import Explorer

S = schedules.make_schedule("linear", 1000)


@pytest.fixture(scope="module")
def shipped():
    from ddim_teach.pretrained import load_pretrained
    return load_pretrained()


def test_a_loaded_model_refuses_another_schedule_and_prediction_type(shipped):
    model, s = shipped
    x = torch.randn(1, 1, 28, 28)
    with pytest.raises(ValueError, match=r"trained with the 'linear' schedule, T = 1000; the schedule given is "
                                         r"'linear', T = 50"):
        samplers.sample(model, schedules.make_schedule("linear", 50), x, steps=5)
    with pytest.raises(ValueError, match=r"trained with the 'linear' schedule.*'cosine', T = 1000"):
        samplers.sample(model, schedules.make_schedule("cosine", 1000), x, steps=5)
    with pytest.raises(ValueError, match="prediction_type='v_prediction', but the model says it predicts 'epsilon'"):
        Denoiser(model, s, prediction_type="v_prediction")
    # the same betas built by hand are the same schedule
    assert samplers.sample(model, schedules.Schedule(s.betas.clone()), x, steps=2, record_every=None).final.shape == x.shape


@pytest.mark.parametrize("dtype", [torch.float64, torch.int64])
def test_a_model_returning_another_dtype_is_refused(dtype):
    def model(x, t):
        return torch.zeros(x.shape, dtype=dtype)
    with pytest.raises(TypeError, match=f"model output is {dtype}, x is torch.float32"):
        samplers.sample(model, S, torch.randn(2, 3), steps=3)


def test_slerp_of_opposite_codes_is_refused():
    z = torch.randn(2, 8)
    with pytest.raises(ValueError, match="opposite vectors"):
        samplers.slerp(z, -2 * z, 0.5)


def test_quad_refuses_a_huge_request_quickly():
    t0 = time.perf_counter()
    with pytest.raises(ValueError, match=r"use steps <= 283"):
        schedules.timesteps(100000, 50000, "quad")
    assert time.perf_counter() - t0 < 5  # bisection, not a scan over every smaller S (over 20 s)


class TestExplorer:
    orc = oracles.GaussianOracle(S, sample_shape=(1, 4, 4))

    def test_five_decimal_eta_is_refused_not_shown_as_its_neighbour(self):
        ex = Explorer(self.orc, S, n=2)
        assert ex.key(0.30000000000000004, 5)[0] == 0.3   # a slider's float noise is the same setting
        with pytest.raises(ValueError, match=r"eta is kept to 4 decimals in the explorer, got 0.12345"):
            ex.key(0.12345, 5)

    @pytest.mark.parametrize("steps", [2.7, 2.0, "3", True])
    def test_steps_must_be_an_integer(self, steps):
        with pytest.raises(ValueError, match=r"steps must be an integer in 1..1000"):
            Explorer(self.orc, S, n=2).key(0.0, steps)

    @pytest.mark.parametrize("kw,match", [(dict(n=-1), r"n \(samples shown\) must be an integer in 1..64"),
                                          (dict(n=2.5), r"n \(samples shown\) must be an integer"),
                                          (dict(cache_size=-1), r"cache_size must be an integer in 1..100000"),
                                          (dict(spacing=None), r"spacing must be one of")])
    def test_constructor_arguments(self, kw, match):
        with pytest.raises(ValueError, match=match):
            Explorer(self.orc, S, **{"n": 2, **kw})

    def test_seed_out_of_range(self):
        with pytest.raises(ValueError, match=r"seed must be an integer in 0..4611686018427387904, got 18446744073709551616"):
            Explorer(self.orc, S, n=2).key(0.0, 5, 2 ** 64)

    @pytest.mark.parametrize("kw,match", [(dict(max_steps=1001), r"max_steps must be an integer in 2..1000"),
                                          (dict(max_steps=1), r"max_steps must be an integer in 2..1000"),
                                          (dict(fontsize=-3), r"fontsize must be a number in \(0.0, 72.0\]"),
                                          (dict(spacing=None), r"spacing must be one of")])
    def test_widget_arguments(self, kw, match):
        pytest.importorskip("ipywidgets")
        from ddim_teach.explorer import explorer
        with pytest.raises(ValueError, match=match):
            explorer(self.orc, S, n=2, prefetch=False, **kw)
