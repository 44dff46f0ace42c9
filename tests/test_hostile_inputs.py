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


# --- data, checkpoints and weights -------------------------------------------------------------------------------
def _idx_folder(tmp_path, split="train", images_dtype="uint8", labels=None):
    import numpy as np

    from ddim_teach import data
    prefix = {"train": "train", "test": "t10k"}[split]
    imgs = np.zeros((3, 28, 28), dtype=images_dtype)
    data.write_idx(tmp_path / f"{prefix}-images-idx3-ubyte", imgs)
    data.write_idx(tmp_path / f"{prefix}-labels-idx1-ubyte",
                   np.array([1, 2, 3] if labels is None else labels, dtype="uint8" if labels is None else labels.dtype))
    return tmp_path


def test_a_data_folder_with_only_train_files_does_not_fall_back_for_test(tmp_path):
    from ddim_teach import data
    folder = _idx_folder(tmp_path, "train")
    assert data.load_mnist("train", folder=folder)[0].shape == (3, 28, 28)
    with pytest.raises(data.DataError, match=r"holds train-images-idx3-ubyte but not the 'test' split's two IDX files"):
        data.load_mnist("test", folder=folder)
    assert len(data.load_mnist("test", source="bundled")[0]) == 999  # asked for by name, the bundled set is fine


def test_a_data_folder_that_is_a_file_is_refused(tmp_path):
    from ddim_teach import data
    (tmp_path / "f").write_text("x")
    with pytest.raises(data.DataError, match="is a file, not a folder"):
        data.load_mnist("train", folder=tmp_path / "f")


@pytest.mark.parametrize("dtype", ["float32", "int16"])
def test_idx_images_that_are_not_uint8_are_refused(tmp_path, dtype):
    from ddim_teach import data
    with pytest.raises(data.DataError, match=f"holds {dtype} values; MNIST IDX files hold uint8"):
        data.load_mnist("train", folder=_idx_folder(tmp_path, images_dtype=dtype))


def test_idx_labels_that_are_not_digits_are_refused(tmp_path):
    import numpy as np

    from ddim_teach import data
    with pytest.raises(data.DataError, match="labels must be digits 0..9, found 253"):
        data.load_mnist("train", folder=_idx_folder(tmp_path, labels=np.array([1, 253, 3], dtype="uint8")))


def test_idx_dimensions_whose_product_overflows_are_a_clear_error(tmp_path):
    import struct

    from ddim_teach import data
    p = tmp_path / "huge-idx3-ubyte"
    p.write_bytes(bytes([0, 0, 0x08, 3]) + struct.pack(">3I", 2 ** 31, 2 ** 31, 2 ** 31) + b"\0" * 16)
    with pytest.raises(data.DataError, match="truncated or padded"):
        data.read_idx(p)


def test_a_checkpoint_without_its_schedule_is_a_clear_error(tmp_path):
    from ddim_teach import pretrained
    from ddim_teach._infra import checkpoint
    ck = checkpoint.load(pretrained.weights_path(pretrained.UNET_FILE))
    ck.pop("schedule")
    checkpoint.save(ck, tmp_path / "no_schedule.pt")
    with pytest.raises(checkpoint.CheckpointError, match="needs its schedule"):
        pretrained.load_pretrained(tmp_path / "no_schedule.pt")


def test_a_damaged_copy_of_the_shipped_weights_is_refused_wherever_it_lives(tmp_path):
    """The shipped files carry their content hash inside, so a copy outside the package is checked too."""
    import shutil

    from ddim_teach import pretrained
    from ddim_teach._infra import checkpoint
    copy = tmp_path / "unet.pt"
    shutil.copy(pretrained.weights_path(pretrained.UNET_FILE), copy)
    pretrained.load_pretrained(copy)  # the intact copy loads
    raw = bytearray(copy.read_bytes())
    weights = [t.numpy().tobytes() for t in checkpoint.load(copy)["ema"].values() if t.numel() >= 1024]
    w = next(w for w in weights if raw.find(w) > 0)      # a weight stored as one run of bytes
    raw[raw.find(w) + len(w) // 2] ^= 0x40
    copy.write_bytes(bytes(raw))
    with pytest.raises(checkpoint.CheckpointError, match="corrupt: its contents do not match the SHA-256"):
        pretrained.load_pretrained(copy)
