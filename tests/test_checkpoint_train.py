import os
import subprocess
import sys

import pytest
import torch

from ddim_teach import pretrained
from ddim_teach._infra import atomic, checkpoint
from ddim_teach import train as train_mod
from ddim_teach._infra.checkpoint import CheckpointError
from ddim_teach.train import train
from ddim_teach.unet import UNetConfig

TINY = UNetConfig(base_channels=8, ch_mult=(1, 2), attn_resolutions=(14,), groups=4)


@pytest.fixture(scope="module", autouse=True)
def _one_thread():
    """Tiny models run fastest on one thread (and far faster on a busy machine); restored afterwards."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def images():
    from ddim_teach.data import load_mnist
    return load_mnist("test", source="bundled")[0][:64]


def _tensors(obj, prefix=""):
    """Flatten a nested checkpoint entry to {path: tensor-or-value}."""
    if isinstance(obj, dict):
        out = {}
        for k, v in obj.items():
            out.update(_tensors(v, f"{prefix}{k}."))
        return out
    if isinstance(obj, (list, tuple)):
        out = {}
        for i, v in enumerate(obj):
            out.update(_tensors(v, f"{prefix}{i}."))
        return out
    return {prefix: obj}


def _assert_same(a, b, what):
    fa, fb = _tensors(a), _tensors(b)
    assert fa.keys() == fb.keys(), what
    for k in fa:
        if isinstance(fa[k], torch.Tensor):
            assert torch.equal(fa[k], fb[k]), f"{what}: {k}"
        else:
            assert fa[k] == fb[k], f"{what}: {k}"


@pytest.mark.slow  # 200 training steps
def test_resume_is_seamless(tmp_path, images):
    """Killed at step 70 (a save every 35), resumed to 100: the same run, bit for bit.

    100 steps give two loss-history entries (one every 50 steps); the second averages steps 51-100,
    which straddle the resume, so it matches only if the running-loss window survives the resume.
    """
    kw = dict(batch_size=4, ckpt_every=35, config=TINY, images=images, warmup=2, progress=False)
    straight = train(steps=100, out=tmp_path / "a.pt", **kw)
    train(steps=70, out=tmp_path / "b.pt", **kw)            # "killed" after the save at step 70
    assert len(checkpoint.load(tmp_path / "b.pt")["loss_history"]) == 1
    resumed = train(steps=100, out=tmp_path / "b.pt", resume=True, **kw)
    assert resumed["step"] == 100
    assert [s for s, _ in straight["loss_history"]] == [50, 100]
    assert straight["loss_history"] == resumed["loss_history"]
    _assert_same(straight["model"], resumed["model"], "model")
    _assert_same(straight["ema"], resumed["ema"], "EMA weights")
    _assert_same(straight["optimizer"], resumed["optimizer"], "optimizer state")
    _assert_same(straight["lr_scheduler"], resumed["lr_scheduler"], "lr scheduler")
    assert torch.equal(straight["rng"], resumed["rng"])
    # the EMA really differs from the model (else comparing it proves nothing)
    assert any(not torch.equal(straight["ema"][k], straight["model"][k]) for k in straight["model"])
    # and the file on disk holds what train() returned
    _assert_same(checkpoint.load(tmp_path / "b.pt")["ema"], resumed["ema"], "EMA on disk")


def test_ema_update_uses_public_lerp(monkeypatch):
    """ema <- decay * ema + (1 - decay) * model, without torch's private _foreach_lerp_."""
    def private(*a, **k):
        raise AssertionError("torch._foreach_lerp_ is private API")
    monkeypatch.setattr(torch, "_foreach_lerp_", private, raising=False)
    a, b = torch.nn.Linear(3, 2), torch.nn.Linear(3, 2)
    expect = [0.9 * p.detach().clone() + 0.1 * q.detach() for p, q in zip(a.parameters(), b.parameters())]
    train_mod.ema_update(a, b, 0.9)
    for p, e in zip(a.parameters(), expect):
        assert torch.allclose(p, e, atol=1e-6)


@pytest.mark.slow  # a subprocess that imports torch
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
         images=load_mnist("test", source="bundled")[0][:64], out={str(out)!r}, warmup=2, progress=False)
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


# ---- nothing the user made is lost -------------------------------------------------------------------------

def test_existing_checkpoint_is_never_overwritten_silently(tmp_path, images):
    kw = dict(batch_size=4, ckpt_every=1, config=TINY, images=images, warmup=1, progress=False)
    out = tmp_path / "hours.pt"
    train(steps=2, out=out, **kw)
    before = out.read_bytes()
    with pytest.raises(ValueError, match="already exists; pass --resume to continue it or --force to overwrite"):
        train(steps=2, out=out, **kw)
    assert out.read_bytes() == before
    with pytest.raises(ValueError, match="resume and force exclude each other"):
        train(steps=3, out=out, resume=True, force=True, **kw)
    assert train(steps=1, out=out, force=True, **kw)["step"] == 1   # asked for: replaced
    assert checkpoint.load(out)["step"] == 1


def test_resume_without_a_checkpoint_is_refused(tmp_path, images):
    with pytest.raises(ValueError, match="there is no checkpoint at .* to continue"):
        train(steps=2, batch_size=4, config=TINY, images=images, out=tmp_path / "none.pt", resume=True,
              progress=False)
    assert not (tmp_path / "none.pt").exists()


def test_resume_to_a_step_already_reached_is_refused(tmp_path, images):
    kw = dict(batch_size=4, ckpt_every=1, config=TINY, images=images, warmup=1, progress=False)
    train(steps=3, out=tmp_path / "s.pt", **kw)
    with pytest.raises(ValueError, match="already at step 3, so give more than 3"):
        train(steps=2, out=tmp_path / "s.pt", resume=True, **kw)


@pytest.mark.parametrize("setting, value, flag", [
    ("batch_size", 8, "batch-size: checkpoint has 4, now 8"),
    ("ema_decay", 0.99, "ema-decay: checkpoint has 0.999, now 0.99"),
    ("seed", 1, "seed: checkpoint has 0, now 1"),
    ("warmup", 5, "warmup: checkpoint has 1, now 5"),
    ("images", 32, "n-images: checkpoint has 64, now 32"),
])
def test_resume_checks_every_run_setting(tmp_path, images, setting, value, flag):
    kw = dict(batch_size=4, ckpt_every=1, config=TINY, images=images, warmup=1, progress=False)
    out = tmp_path / "r.pt"
    train(steps=1, out=out, **kw)
    kw[setting] = images[:value] if setting == "images" else value
    with pytest.raises(CheckpointError, match=f"cannot resume .*{flag}.*only --lr may change"):
        train(steps=2, out=out, resume=True, **kw)
    assert checkpoint.load(out)["step"] == 1


def test_out_is_checked_before_any_training(tmp_path, images, monkeypatch):
    def no_training(*a, **k):
        raise AssertionError("training started before --out was checked")
    monkeypatch.setattr(train_mod, "diffusion_loss", no_training)
    kw = dict(steps=2, batch_size=4, config=TINY, images=images, progress=False)
    (tmp_path / "adir").mkdir()
    with pytest.raises(ValueError, match="is a folder; give a file name"):
        train(out=tmp_path / "adir", **kw)
    (tmp_path / "afile").write_text("x")
    with pytest.raises(ValueError, match="cannot create its folder"):
        train(out=tmp_path / "afile" / "unet.pt", **kw)
    assert not list(tmp_path.glob("**/*.part"))


def test_orphan_part_files_are_cleaned(tmp_path, images, capsys):
    out = tmp_path / "o.pt"
    orphan = tmp_path / ".o.pt.8f3k2q.part"  # what a save killed half-way leaves behind
    orphan.write_bytes(b"half a checkpoint")
    other = tmp_path / ".other.pt1234.part"  # another file's: left alone
    other.write_bytes(b"x")
    sibling = tmp_path / ".o.pt2.k9x2.part"   # o.pt2's, whose name begins with o.pt: left alone too
    sibling.write_bytes(b"x")
    train(steps=1, batch_size=4, ckpt_every=1, config=TINY, images=images, out=out, warmup=1, progress=False)
    assert not orphan.exists() and other.exists() and sibling.exists()
    assert "removed 1 partial file(s)" in capsys.readouterr().out


def test_atomic_write_fsyncs_before_the_rename(tmp_path, monkeypatch):
    """Checkpoints and downloads share one helper: data reaches the disk before the new name appears."""
    from ddim_teach import data
    events = []
    real_fsync, real_replace = os.fsync, os.replace
    monkeypatch.setattr(os, "fsync", lambda fd: (events.append("fsync"), real_fsync(fd))[1])
    monkeypatch.setattr(os, "replace", lambda a, b: (events.append("replace"), real_replace(a, b))[1])
    checkpoint.save({"kind": "unet", "w": torch.zeros(3)}, tmp_path / "c.pt")
    assert events[:2] == ["fsync", "replace"], events
    events.clear()
    data.write_idx(tmp_path / "x-idx1-ubyte", torch.arange(3, dtype=torch.uint8).numpy())
    assert events[:2] == ["fsync", "replace"], events
    assert checkpoint.save.__module__ == "ddim_teach._infra.checkpoint" and data.atomic_write is atomic.atomic_write


def _flip_inside(path, needle: bytes):
    raw = bytearray(path.read_bytes())
    at = raw.find(needle)
    assert at > 0, "tensor bytes not found in the file"
    raw[at + len(needle) // 2] ^= 0x40
    path.write_bytes(bytes(raw))


def test_flipped_byte_in_tensor_data_is_refused(tmp_path):
    w = torch.linspace(-1, 1, 64)
    checkpoint.save({"kind": "unet", "w": w}, tmp_path / "c.pt")
    assert torch.equal(checkpoint.load(tmp_path / "c.pt")["w"], w)
    _flip_inside(tmp_path / "c.pt", w.numpy().tobytes())
    assert torch.load(tmp_path / "c.pt", weights_only=True)["w"].ne(w).sum() == 1  # torch itself notices nothing
    with pytest.raises(CheckpointError, match="corrupt: its contents do not match the SHA-256"):
        checkpoint.load(tmp_path / "c.pt")


def test_shipped_weights_are_verified_against_their_sha256(tmp_path, monkeypatch):
    from importlib import resources
    real = pretrained.weights_path(pretrained.UNET_FILE)
    assert pretrained.file_sha256(real) == pretrained.recorded_sha256(pretrained.UNET_FILE)
    fake_pkg = tmp_path / "pkg"
    (fake_pkg / "weights").mkdir(parents=True)
    for name in (pretrained.UNET_FILE, pretrained.CLASSIFIER_FILE, pretrained.SUMS_FILE):
        (fake_pkg / "weights" / name).write_bytes((real.parent / name).read_bytes())
    raw = real.read_bytes()
    weights = [t.numpy().tobytes() for t in checkpoint.load(real)["ema"].values() if t.numel() >= 1024]
    _flip_inside(fake_pkg / "weights" / pretrained.UNET_FILE, next(w for w in weights if raw.find(w) > 0))
    monkeypatch.setattr(resources, "files", lambda pkg: fake_pkg)
    with pytest.raises(CheckpointError, match="is damaged: SHA-256"):
        pretrained.load_pretrained()
    pretrained.load_classifier()  # the undamaged file still loads


def test_a_second_run_on_the_same_out_is_refused_while_the_first_writes(tmp_path, images):
    """Two trainings on one --out used to both pass the "already exists" check and race; a --resume started while
    another run wrote deleted that run's in-flight .part file. Now the first holds a lock and the second is refused
    before it touches anything; a lock left by a killed run is taken over."""
    out = tmp_path / "u.pt"
    hold = (f"from ddim_teach._infra.atomic import exclusive\nimport time\n"
            f"with exclusive({str(out)!r}):\n    print('locked', flush=True)\n    time.sleep(60)\n")
    other = subprocess.Popen([sys.executable, "-c", hold], stdout=subprocess.PIPE, text=True)   # a live other run
    try:
        assert other.stdout.readline().strip() == "locked"
        part = tmp_path / ".u.pt.inflight.part"
        part.write_bytes(b"the other run's checkpoint, half written")
        with pytest.raises(ValueError, match=rf"being written by another run \(process {other.pid}\)"):
            train(steps=2, batch_size=4, ckpt_every=1, config=TINY, images=images, out=out, progress=False)
        with pytest.raises(ValueError, match="being written by another run"):
            train(steps=2, batch_size=4, ckpt_every=1, config=TINY, images=images, out=out, resume=True,
                  progress=False)
        assert part.exists() and not out.exists()   # nothing of the other run was touched
    finally:
        other.kill()
        other.wait()
    assert (tmp_path / ".u.pt.lock").exists()
    # the other run was killed (its lock file is still there, its lock gone with it): a new run takes the lock,
    # cleans the orphan, and finishes
    train(steps=2, batch_size=4, ckpt_every=1, config=TINY, images=images, out=out, progress=False)
    assert out.exists() and not part.exists() and not (tmp_path / ".u.pt.lock").exists()
