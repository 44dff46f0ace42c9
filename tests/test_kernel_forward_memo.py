"""The notebook kernels' memo of U-Net forward passes (tests/kernel_forward_memo.py, installed by tests/conftest.py)
returns the very tensor the same call computed before, and computes whatever it cannot vouch for."""
import importlib.util
from pathlib import Path

import pytest
import torch

from ddim_teach import unet
from ddim_teach.unet import UNet, UNetConfig

TINY = UNetConfig(base_channels=8, ch_mult=(1, 2), attn_resolutions=(14,), groups=4)


@pytest.fixture
def memo(tmp_path, monkeypatch):
    monkeypatch.setattr(unet.UNet, "forward", unet.UNet.forward)   # restored after the test
    monkeypatch.delenv("DDIM_TEACH_FORWARD_MEMO", raising=False)
    spec = importlib.util.spec_from_file_location("kernel_forward_memo", Path(__file__).with_name("kernel_forward_memo.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.install(str(tmp_path))
    return tmp_path


def _frozen(seed=0):
    torch.manual_seed(seed)
    return UNet(TINY).eval().requires_grad_(False)


def test_a_repeated_call_reads_the_same_tensor(memo):
    model = _frozen()
    x, t = torch.randn(3, 1, 28, 28), torch.tensor([5, 500, 999])
    with torch.no_grad():
        first = model(x, t)
    assert len(list(memo.iterdir())) == 1
    calls = []
    model.conv_in.register_forward_hook(lambda *a: calls.append(1))
    with torch.no_grad():
        again = model(x.clone(), t.clone())
    assert calls == [] and torch.equal(again, first) and again.stride() == first.stride()


def test_other_inputs_or_changed_weights_are_computed(memo):
    model = _frozen()
    x = torch.randn(2, 1, 28, 28)
    with torch.no_grad():
        a = model(x, torch.tensor([5, 5]))
        b = model(x, torch.tensor([6, 6]))
        model.conv_out.bias.add_(1.0)                # in place: the weights' version counters move
        c = model(x, torch.tensor([5, 5]))
    assert len(list(memo.iterdir())) == 3 and not torch.equal(a, b) and torch.allclose(c, a + 1.0, atol=1e-5)


def test_a_model_in_training_or_a_grad_input_is_never_remembered(memo):
    model = UNet(TINY)                                 # parameters require grad
    x = torch.randn(2, 1, 28, 28)
    model(x, torch.tensor([1, 2])).sum().backward()
    frozen = _frozen()
    x.requires_grad_(True)
    out = frozen(x, torch.tensor([1, 2]))
    assert out.requires_grad and not list(memo.iterdir())
