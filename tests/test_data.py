import gzip
import hashlib
from pathlib import Path

import numpy as np
import pytest

from conftest import require_or_skip
from ddim_teach import data
from ddim_teach.data import DataError, load_mnist, read_idx, write_idx

FASHION = Path("/usr/share/datasets/fashion-mnist")


def test_bundled_subset():
    xtr, ytr = load_mnist("train", source="bundled")
    xte, yte = load_mnist("test", source="bundled")
    assert xtr.shape == (9001, 28, 28) and xte.shape == (999, 28, 28) and xtr.dtype == np.uint8
    assert sorted(np.unique(ytr).tolist()) == list(range(10))
    # train and held-out are disjoint, byte for byte
    assert not ({a.tobytes() for a in xtr} & {b.tobytes() for b in xte})
    # real MNIST statistics: mean intensity ~33/255, ~19 % of pixels non-zero
    assert 30 < xtr.mean() < 36 and 0.17 < (xtr > 0).mean() < 0.21


def test_idx_round_trip(tmp_path):
    a = np.random.default_rng(0).integers(0, 256, (5, 28, 28), dtype=np.uint8)
    for name in ("x-idx3-ubyte", "x-idx3-ubyte.gz"):
        write_idx(tmp_path / name, a)
        assert np.array_equal(read_idx(tmp_path / name), a)
    lab = np.arange(5, dtype=np.uint8)
    write_idx(tmp_path / "l-idx1-ubyte", lab)
    assert np.array_equal(read_idx(tmp_path / "l-idx1-ubyte"), lab)


def test_idx_corruption(tmp_path):
    a = np.zeros((3, 28, 28), dtype=np.uint8)
    write_idx(tmp_path / "ok", a)
    raw = (tmp_path / "ok").read_bytes()
    (tmp_path / "trunc").write_bytes(raw[:-10])
    with pytest.raises(DataError, match="truncated or padded"):
        read_idx(tmp_path / "trunc")
    (tmp_path / "magic").write_bytes(b"\x08\x03" + raw[2:])
    with pytest.raises(DataError, match="bad magic number"):
        read_idx(tmp_path / "magic")
    (tmp_path / "bad.gz").write_bytes(b"not gzip at all")
    with pytest.raises(DataError, match="cannot read"):
        read_idx(tmp_path / "bad.gz")
    (tmp_path / "short.gz").write_bytes(gzip.compress(raw)[:-20])
    with pytest.raises(DataError, match="cannot read"):
        read_idx(tmp_path / "short.gz")


def test_idx_folder_is_preferred_and_checksummed(tmp_path):
    imgs = np.random.default_rng(1).integers(0, 256, (4, 28, 28), dtype=np.uint8)
    write_idx(tmp_path / "train-images-idx3-ubyte", imgs)
    write_idx(tmp_path / "train-labels-idx1-ubyte", np.arange(4, dtype=np.uint8))
    x, y = load_mnist("train", folder=tmp_path)
    assert np.array_equal(x, imgs) and y.tolist() == [0, 1, 2, 3]
    # a .gz that is not the published file fails its checksum
    (tmp_path / "train-images-idx3-ubyte").unlink()
    write_idx(tmp_path / "train-images-idx3-ubyte.gz", imgs)
    with pytest.raises(DataError, match="checksum mismatch"):
        load_mnist("train", folder=tmp_path)
    with pytest.raises(DataError, match="but not the .test. split.s two IDX files"):
        load_mnist("test", source="idx", folder=tmp_path)
    # without IDX files, auto falls back to the bundled subset
    assert load_mnist("test", folder=tmp_path / "empty")[0].shape == (999, 28, 28)


def test_download_verifies_and_leaves_nothing_behind(tmp_path):
    class FakeResponse:
        def __init__(self, data):
            self.data = data

        def __enter__(self):
            return self

        def __exit__(self, *a):
            return False

        def read(self):
            return self.data

    def opener(url, timeout):
        return FakeResponse(b"corrupted payload")

    with pytest.raises(DataError, match="checksum mismatch"):
        data.download_mnist(tmp_path, mirrors=("https://mirror.invalid/",), opener=opener)
    assert list(tmp_path.iterdir()) == []  # no half-written or wrong file

    payload = {}
    for name in data.IDX_FILES:
        payload[name] = gzip.compress(name.encode())

    def good_opener(url, timeout):
        name = url.rsplit("/", 1)[1][:-3]
        return FakeResponse(payload[name])

    fake_sums = {n: hashlib.sha256(p).hexdigest() for n, p in payload.items()}
    orig = dict(data.IDX_FILES)
    data.IDX_FILES.update(fake_sums)
    try:
        data.download_mnist(tmp_path, mirrors=("https://mirror.invalid/",), opener=good_opener)
    finally:
        data.IDX_FILES.clear()
        data.IDX_FILES.update(orig)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(n + ".gz" for n in payload)


def test_real_idx_files_fashion_mnist():
    require_or_skip(FASHION.exists(), "Debian's dataset-fashion-mnist is not installed "
                    "(apt-get install dataset-fashion-mnist)", "DDIM_TEACH_REQUIRE_IDX")
    x = read_idx(FASHION / "t10k-images-idx3-ubyte.gz")
    y = read_idx(FASHION / "t10k-labels-idx1-ubyte.gz")
    assert x.shape == (10000, 28, 28) and x.dtype == np.uint8 and y.shape == (10000,)
    assert np.bincount(y).tolist() == [1000] * 10  # Fashion-MNIST's test set is balanced
    xtr = read_idx(FASHION / "train-images-idx3-ubyte.gz")
    assert xtr.shape == (60000, 28, 28)


def test_bad_split():
    with pytest.raises(ValueError, match="split must be one of"):
        load_mnist("validation")


def test_to_tensor_range():
    x, _ = load_mnist("test", source="bundled")
    t = data.to_tensor(x[:3])
    assert t.shape == (3, 1, 28, 28) and t.min() >= -1 and t.max() <= 1
    assert np.array_equal(data.to_uint8(t), x[:3])


def _plant_fake_mnist(folder, n=50, seed=7):
    """A populated user cache: IDX files for both splits, holding other digits than the bundled ones."""
    rng = np.random.default_rng(seed)
    for prefix in ("train", "t10k"):
        write_idx(folder / f"{prefix}-images-idx3-ubyte", rng.integers(0, 256, (n, 28, 28), dtype=np.uint8))
        write_idx(folder / f"{prefix}-labels-idx1-ubyte", rng.integers(0, 10, n, dtype=np.uint8))


def test_session_reads_an_empty_data_folder(empty_data_folder):
    assert data.data_dir() == empty_data_folder and not any(empty_data_folder.iterdir())
    assert not str(data.data_dir()).startswith(str(Path.home() / ".cache"))


def test_populated_cache_changes_no_checked_result(tmp_path, monkeypatch):
    """What a user keeps in their data folder changes nothing the course or the shipped-model checks compute."""
    import torch

    from ddim_teach import bench, classifier
    from ddim_teach.pretrained import load_classifier
    clf = load_classifier()

    def checked_results():
        te_x, te_y = load_mnist("test", source="bundled")
        tr_x, _ = load_mnist("train", source="bundled")
        ref, other = bench.real_sets(64)
        acc = (clf(data.to_tensor(te_x)).argmax(1) == torch.from_numpy(te_y).long()).float().mean().item()
        return te_x, te_y, tr_x, ref, other, bench.n_heldout(), acc

    before = checked_results()
    cache = tmp_path / "user_cache"
    _plant_fake_mnist(cache)
    monkeypatch.setenv("DDIM_TEACH_DATA", str(cache))
    assert load_mnist("test")[0].shape == (50, 28, 28)  # the cache is live: the default source reads it
    after = checked_results()
    for a, b in zip(before, after):
        assert (a == b).all() if hasattr(a, "shape") else a == b
    assert after[5] == 999 and after[0].shape == (999, 28, 28)

    # the classifier trains and is scored on the bundled digits too (stopped before its first step)
    seen = []
    real_load = data.load_mnist

    def spy(split, **kw):
        seen.append((split, kw.get("source")))
        return real_load(split, **kw)

    class Stop(Exception):
        pass

    def stop(*a, **k):
        raise Stop

    monkeypatch.setattr(data, "load_mnist", spy)
    monkeypatch.setattr(torch.optim, "Adam", stop)
    with pytest.raises(Stop):
        classifier.train_classifier(epochs=1)
    assert seen == [("train", "bundled"), ("test", "bundled")]


@pytest.mark.parametrize("call, message", [
    (lambda: load_mnist("train", source="cache"), "source must be 'auto', 'idx' or 'bundled'"),
    (lambda: load_mnist(0), "split must be one of"),
    (lambda: data.to_tensor(np.zeros((2, 28, 28), dtype=np.float32)), "expects a uint8 array"),
    (lambda: data.to_tensor([[0]]), "expects a uint8 array"),
])
def test_bad_arguments_are_clear_errors(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_corrupt_bundled_file_is_a_clear_error(tmp_path, monkeypatch):
    from importlib import resources
    (tmp_path / "assets").mkdir()
    (tmp_path / "assets" / "mnist_subset.npz").write_bytes(b"PK\x03\x04 not really a zip")
    monkeypatch.setattr(resources, "files", lambda pkg: tmp_path)
    with pytest.raises(DataError, match="bundled MNIST subset .* is missing or corrupt"):
        load_mnist("test", source="bundled")
