import pickle
import subprocess
import sys

import pytest
import torch

from ddim_teach import checkpoint, pretrained
from ddim_teach.checkpoint import CheckpointError
from ddim_teach.train import train
from ddim_teach.unet import UNetConfig

TINY = UNetConfig(base_channels=8, ch_mult=(1, 2), attn_resolutions=(14,), groups=4)


@pytest.fixture(scope="module")
def images():
    from ddim_teach.data import load_mnist
    return load_mnist("test")[0][:64]


def test_resume_is_seamless(tmp_path, images):
    kw = dict(batch_size=8, ckpt_every=3, config=TINY, images=images, warmup=2, progress=False)
    straight = train(steps=6, out=tmp_path / "a.pt", **kw)
    train(steps=3, out=tmp_path / "b.pt", **kw)           # "killed" after step 3
    resumed = train(steps=6, out=tmp_path / "b.pt", resume=True, **kw)
    assert resumed["step"] == 6
    for k in straight["model"]:
        assert torch.equal(straight["model"][k], resumed["model"][k]), k
    assert straight["loss_history"] == resumed["loss_history"]


def test_kill_loses_only_steps_since_checkpoint(tmp_path, images):
    """A real SIGKILL in the middle of training: the checkpoint on disk is whole and resumable."""
    out = tmp_path / "k.pt"
    code = f"""
import os, signal, torch
from ddim_teach import train as tr
from ddim_teach.unet import UNetConfig
from ddim_teach.data import load_mnist
orig = tr.checkpoint.save
def save_then_die(obj, path):
    orig(obj, path)
    if obj["step"] == 4:
        os.kill(os.getpid(), signal.SIGKILL)
tr.checkpoint.save = save_then_die
tr.train(steps=100, batch_size=8, ckpt_every=2, config=UNetConfig(**{TINY.to_dict()!r}),
         images=load_mnist("test")[0][:64], out={str(out)!r}, warmup=2, progress=False)
"""
    p = subprocess.run([sys.executable, "-c", code], capture_output=True)
    assert p.returncode == -9
    assert not list(tmp_path.glob("*.part"))
    assert checkpoint.load(out, kind="unet")["step"] == 4
    res = train(steps=6, batch_size=8, ckpt_every=2, config=TINY, images=images, out=out,
                resume=True, warmup=2, progress=False)
    assert res["step"] == 6


def test_architecture_mismatch_says_what_differs(tmp_path, images):
    train(steps=1, batch_size=4, ckpt_every=1, config=TINY, images=images, out=tmp_path / "c.pt", progress=False)
    with pytest.raises(CheckpointError, match="config.base_channels: checkpoint has 8, this model has 16"):
        train(steps=2, batch_size=4, config=UNetConfig(base_channels=16, ch_mult=(1, 2), attn_resolutions=(14,),
                                                       groups=4),
              images=images, out=tmp_path / "c.pt", resume=True, progress=False)
    with pytest.raises(CheckpointError, match="schedule.name: checkpoint has 'linear', this model has 'cosine'"):
        train(steps=2, batch_size=4, config=TINY, images=images, out=tmp_path / "c.pt", resume=True,
              schedule_name="cosine", progress=False)
    from ddim_teach.unet import UNet
    ck = checkpoint.load(tmp_path / "c.pt")
    with pytest.raises(CheckpointError, match="does not fit this architecture"):
        checkpoint.load_state(UNet(), ck["ema"])
    from ddim_teach import schedules
    with pytest.raises(CheckpointError, match="schedule.T: checkpoint has 1000, this model has 500"):
        pretrained.load_unet(tmp_path / "c.pt", schedule=schedules.make_schedule("linear", 500))


class Evil:
    def __reduce__(self):
        return (print, ("pickled code ran",))


def test_loading_never_runs_pickled_code(tmp_path, capfd):
    path = tmp_path / "evil.pt"
    torch.save({"format_version": 1, "kind": "unet", "payload": Evil()}, path)
    with pytest.raises(CheckpointError, match="refused to load"):
        checkpoint.load(path)
    assert "pickled code ran" not in capfd.readouterr().out
    (tmp_path / "junk.pt").write_bytes(b"\x00garbage")
    with pytest.raises(CheckpointError, match="not a readable checkpoint"):
        checkpoint.load(tmp_path / "junk.pt")
    torch.save({"weights": torch.zeros(2)}, tmp_path / "foreign.pt")
    with pytest.raises(CheckpointError, match="not a ddim_teach checkpoint"):
        checkpoint.load(tmp_path / "foreign.pt")
    with pytest.raises(CheckpointError, match="holds a 'classifier' checkpoint, expected 'unet'"):
        pretrained.load_unet(pretrained.weights_path(pretrained.CLASSIFIER_FILE))


def test_resume_with_new_lr_starts_a_phase(tmp_path, images):
    kw = dict(batch_size=4, ckpt_every=2, config=TINY, images=images, warmup=1, progress=False)
    first = train(steps=2, out=tmp_path / "p.pt", lr=1e-3, **kw)
    assert first["train"]["phases"] == [[0, 1e-3]]
    second = train(steps=4, out=tmp_path / "p.pt", lr=1e-4, resume=True, **kw)
    assert second["train"]["phases"] == [[0, 1e-3], [2, 1e-4]]
    assert second["optimizer"]["param_groups"][0]["lr"] == pytest.approx(1e-4)
    assert second["lr_scheduler"]["base_lrs"] == [pytest.approx(1e-4)]
    same = train(steps=6, out=tmp_path / "p.pt", lr=1e-4, resume=True, **kw)
    assert same["train"]["phases"] == [[0, 1e-3], [2, 1e-4]]


@pytest.mark.parametrize("device, message", [("gpu", "device must be 'cpu', 'cuda'"),
                                             ("cuda", "sees no CUDA GPU")])
def test_bad_device_is_a_clear_error_before_any_work(tmp_path, images, device, message):
    import torch
    if device == "cuda" and torch.cuda.is_available():
        pytest.skip("this machine has a CUDA GPU, so 'cuda' is valid here")
    with pytest.raises(ValueError, match=message):
        train(steps=2, batch_size=4, config=TINY, images=images, out=tmp_path / "d.pt", progress=False, device=device)
    assert not (tmp_path / "d.pt").exists()
