"""Sampling on an accelerator: t is built on x's device and noise is drawn on the CPU (the generator's device)
and moved there. CI has no GPU, so a model on the ``meta`` device stands in: any CPU tensor that meets a meta
tensor in an op raises, and the model below checks the device of everything it is given."""
import pytest
import torch

from ddim_teach import diagnose, ode, samplers
from ddim_teach.denoiser import Denoiser

META = torch.device("meta")


class DeviceChecking:
    """A stand-in eps-model: asserts that x and t arrive on the same device, returns a constant."""
    sample_shape = (3,)

    def __init__(self):
        self.calls = 0

    def __call__(self, x, t):
        assert t.device == x.device, f"t on {t.device}, x on {x.device}"
        assert t.dtype == torch.long and t.shape == (x.shape[0],)
        self.calls += 1
        return torch.full_like(x, 0.1)


@pytest.fixture
def x_meta():
    return torch.empty(4, 3, device=META)


@pytest.mark.parametrize("kw", [dict(eta=1.0), dict(eta=0.3, clip_sample=True), dict(method="ddpm"),
                                dict(eta="sigma_hat"), dict(method="heun"), dict(eta=0.0)],
                         ids=["ddim-eta1", "ddim-clip", "ddpm", "sigma_hat", "heun", "ddim-eta0"])
def test_sample_runs_on_the_model_device(schedule, x_meta, kw):
    model = DeviceChecking()
    net = Denoiser(model, schedule, clip_sample=True) if kw.pop("clip_sample", False) else model
    tr = samplers.sample(net, schedule, x_meta, steps=5, generator=torch.Generator().manual_seed(0), **kw)
    assert tr.final.device == META and tr.xs.device == META
    assert model.calls == tr.nfe > 0
    if tr.noises is not None:
        assert tr.noises.device == META


def test_given_noises_are_moved_to_the_model_device(schedule, x_meta):
    final = samplers.sample_ddim(Denoiser(DeviceChecking(), schedule), x_meta, samplers.resolve_timesteps(schedule, 5),
                                 1.0, noises=torch.randn(5, 4, 3))
    assert final.device == META


def test_inversion_velocity_and_diagnose_calls_on_the_model_device(schedule, x_meta):
    assert samplers.ddim_invert(DeviceChecking(), schedule, x_meta, steps=5, record=True).x_T.device == META
    assert ode.velocity(DeviceChecking(), x_meta, 400).device == META
    assert diagnose._eps(DeviceChecking(), x_meta, 400).device == META
    assert samplers.draw_noise(x_meta, torch.Generator().manual_seed(0)).device == META


def test_noise_is_drawn_on_the_cpu_so_a_seed_means_the_same_z_everywhere():
    x = torch.empty(4, 3)
    z = samplers.draw_noise(x, torch.Generator().manual_seed(5))
    assert torch.equal(z, torch.randn(4, 3, generator=torch.Generator().manual_seed(5)))
    x64 = torch.empty(2, 3, dtype=torch.float64)
    assert samplers.draw_noise(x64, torch.Generator().manual_seed(1)).dtype == torch.float64


def test_a_model_on_another_device_than_x_T_is_a_clear_error(schedule):
    net = torch.nn.Linear(3, 3).to(META)
    net.sample_shape = (3,)
    with pytest.raises(ValueError, match=r"x_T is on cpu but the model is on meta; pass x_T.to\('meta'\)"):
        samplers.sample(net, schedule, torch.randn(2, 3), steps=3)
