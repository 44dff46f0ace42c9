import copy

import pytest
import torch

from ddim_teach.unet import UNet, UNetConfig, count_parameters


@pytest.fixture(scope="module")
def net():
    torch.manual_seed(0)
    return UNet().eval()


def test_shapes_and_size(net):
    x = torch.randn(3, 1, 28, 28)
    with torch.no_grad():
        out = net(x, torch.tensor([0, 500, 999]))
    assert out.shape == x.shape and out.dtype == torch.float32 and out.is_contiguous()
    assert 1_000_000 <= count_parameters(net) <= 3_000_000


def test_output_depends_on_t(net):
    """A network that ignores t is a common silent bug; this one must not."""
    torch.manual_seed(1)
    net = copy.deepcopy(net)   # the weights are perturbed below: never the shared module-scoped fixture
    # freshly initialised conv outputs are near zero; perturb the weights so differences are visible
    with torch.no_grad():
        for p in net.parameters():
            p.add_(0.02 * torch.randn_like(p))
        x = torch.randn(1, 1, 28, 28).expand(2, -1, -1, -1)
        out = net(x, torch.tensor([10, 900]))
    assert (out[0] - out[1]).abs().max() > 1e-3
    # and the same t gives the same output
    with torch.no_grad():
        same = net(x, torch.tensor([10, 10]))
    assert torch.allclose(same[0], same[1], atol=1e-6)


def test_bad_input(net):
    with pytest.raises(ValueError, match=r"x must have shape \(B, 1, 28, 28\)"):
        net(torch.randn(2, 3, 28, 28), torch.tensor([1, 2]))
    with pytest.raises(ValueError, match=r"t must have shape \(2,\)"):
        net(torch.randn(2, 1, 28, 28), torch.tensor([1, 2, 3]))


def test_dtype_device_and_timestep_errors(net):
    with pytest.raises(ValueError, match=r"x is torch.float64 on cpu, but the U-Net's weights are torch.float32"):
        net(torch.randn(2, 1, 28, 28, dtype=torch.float64), torch.tensor([1, 2]))
    with pytest.raises(ValueError, match="t must hold integer timesteps"):
        net(torch.randn(2, 1, 28, 28), torch.tensor([1.5, 2.0]))
    with torch.no_grad():   # whole-number float timesteps are the same timesteps
        x = torch.randn(2, 1, 28, 28)
        assert torch.equal(net(x, torch.tensor([3.0, 7.0])), net(x, torch.tensor([3, 7])))


def test_fixture_weights_are_untouched(net):
    """test_output_depends_on_t perturbs a copy; the module-scoped fixture keeps its seeded initial weights."""
    torch.manual_seed(0)
    fresh = UNet().eval()
    assert all(torch.equal(a, b) for a, b in zip(net.state_dict().values(), fresh.state_dict().values()))


def test_config_round_trip():
    cfg = UNetConfig(base_channels=16)
    assert UNetConfig.from_dict(cfg.to_dict()) == cfg
    with pytest.raises(ValueError, match="unknown U-Net config keys"):
        UNetConfig.from_dict({"width": 3})
