"""Bad input to the three command lines (and the classifier's), tried as a hostile but fair user would.

Each case must end in argparse's style: exit status 2, no traceback, and one ``PROG: error: ...`` line
that says what was wrong and what is allowed. ``BAD_TRAIN`` etc. are the cases; the docstring of
``test_count`` gives how many there are. Every case is rejected before any training or sampling.
"""
import shutil
import subprocess
import sys

import pytest
import torch

from ddim_teach import bench, classifier, pretrained, train
from ddim_teach.train import train as train_fn


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """A real training checkpoint (default architecture, 1 step), a classifier file, garbage, a folder."""
    d = tmp_path_factory.mktemp("cli")
    from ddim_teach.data import load_mnist
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        train_fn(steps=1, batch_size=2, ckpt_every=1, images=load_mnist("train", source="bundled")[0],
                 warmup=1, out=d / "ck.pt", progress=False)
    finally:
        torch.set_num_threads(before)
    shutil.copy(pretrained.weights_path(pretrained.CLASSIFIER_FILE), d / "clf.pt")
    (d / "garbage.pt").write_bytes(b"\x00 not a checkpoint")
    (d / "existing.pt").write_bytes(b"the user's own file")
    (d / "folder").mkdir()
    (d / "afile").write_text("x")
    return d


def _expand(args, d):
    return [a.replace("{d}", str(d)).replace("{pkg}", str(pretrained.weights_path("x").parent)) for a in args]


BAD_TRAIN = [
    (["--ema-decay", "-1"], "--ema-decay must be in [0, 1)"),
    (["--ema-decay", "1"], "--ema-decay must be in [0, 1)"),
    (["--ema-decay", "nan"], "--ema-decay must be in [0, 1)"),
    (["--lr", "0"], "--lr must be a positive finite number"),
    (["--lr=-1e-3"], "--lr must be a positive finite number"),
    (["--lr", "inf"], "--lr must be a positive finite number"),
    (["--lr", "5"], "--lr must be at most 1"),
    (["--steps", "0"], "--steps must be an integer of at least 1"),
    (["--steps", "-5"], "--steps must be an integer of at least 1"),
    (["--steps", "abc"], "argument --steps: invalid int value"),
    (["--batch-size", "0"], "--batch-size must be an integer of at least 1"),
    (["--ckpt-every", "0"], "--ckpt-every must be an integer of at least 1"),
    (["--warmup", "0"], "--warmup must be an integer of at least 1"),
    (["--T", "1"], "--T must be an integer of at least 2"),
    (["--seed", "-1"], "--seed must be an integer of at least 0"),
    (["--threads", "0"], "--threads must be at least 1"),
    (["--device", "gpu"], "device must be 'cpu', 'cuda'"),
    (["--schedule", "foo"], "argument --schedule: invalid choice"),
    (["--data", "mine"], "argument --data: invalid choice"),
    (["--out", "{d}/existing.pt"], "already exists; pass --resume to continue it or --force"),
    (["--out", "{d}/none.pt", "--resume"], "no checkpoint at"),
    (["--out", "{d}/folder"], "is a folder; give a file name"),
    (["--out", "{d}/afile/unet.pt"], "cannot create its folder"),
    (["--out", "{pkg}/unet_mnist.pt", "--force"], "is inside the installed ddim_teach package"),
    (["--out", "{d}/ck.pt", "--resume", "--force"], "not allowed with argument"),
    (["--out", "{d}/ck.pt", "--resume", "--steps", "5", "--batch-size", "4"], "batch-size: checkpoint has 2, now 4"),
    (["--out", "{d}/ck.pt", "--resume", "--steps", "5", "--batch-size", "2", "--warmup", "1", "--ema-decay", "0.5"],
     "ema-decay: checkpoint has 0.999, now 0.5"),
    (["--out", "{d}/ck.pt", "--resume", "--steps", "5", "--batch-size", "2", "--warmup", "1", "--seed", "3"],
     "seed: checkpoint has 0, now 3"),
    (["--out", "{d}/ck.pt", "--resume", "--steps", "5", "--batch-size", "2", "--warmup", "1", "--T", "500"],
     "schedule.T: checkpoint has 1000, this model has 500"),
    (["--out", "{d}/ck.pt", "--resume", "--steps", "5", "--schedule", "cosine"], "schedule.name: checkpoint has"),
    (["--out", "{d}/ck.pt", "--resume", "--steps", "1"], "already at step 1, so give more than 1"),
    (["--out", "{d}/clf.pt", "--resume"], "holds a 'classifier' checkpoint, expected 'unet'"),
    (["--out", "{d}/garbage.pt", "--resume"], "not a readable checkpoint"),
    (["--out", "{d}/new.pt", "--data", "idx"], "no MNIST IDX files"),
]
if not torch.cuda.is_available():
    BAD_TRAIN.append((["--device", "cuda"], "sees no CUDA GPU"))

BAD_BENCH = [
    (["--n", "0"], "argument --n: must be an integer of at least 2"),
    (["--n", "1"], "argument --n: must be an integer of at least 2"),
    (["--n", "-3"], "argument --n: must be an integer of at least 2"),
    (["--n", "many"], "argument --n: must be an integer of at least 2"),
    (["--n", "5000"], "--n must be at most 999"),
    (["--steps", "0"], "argument --steps: each must be an integer of at least 1"),
    (["--steps", "10", "2000"], "each of --steps must be at most T = 1000"),
    (["--etas", "2"], "each eta must be a number in [0, 1] or 'sigma_hat'"),
    (["--etas", "-0.1"], "each eta must be a number in [0, 1] or 'sigma_hat'"),
    (["--etas", "sigma"], "each eta must be a number in [0, 1] or 'sigma_hat'"),
    (["--etas", "nan"], "each eta must be a number in [0, 1] or 'sigma_hat'"),
    (["--spacing", "even"], "argument --spacing: invalid choice"),
    (["--weights", "{d}/none.pt"], "no such file"),
    (["--weights", "{d}/garbage.pt"], "not a readable checkpoint"),
    (["--weights", "{d}/clf.pt"], "holds a 'classifier' checkpoint, expected 'unet'"),
    (["--weights", "{d}/folder"], "no such file"),
    (["--quick", "--quality"], "not allowed with argument"),
]

BAD_PRETRAINED = [
    ([], "the following arguments are required: checkpoint, out"),
    (["{d}/ck.pt"], "the following arguments are required: out"),
    (["{d}/none.pt", "{d}/out.pt"], "no such checkpoint"),
    (["{d}/ck.pt", "{d}/existing.pt"], "already exists; pass --force"),
    (["{d}/ck.pt", "{pkg}/unet_mnist.pt", "--force"], "is inside the installed ddim_teach package"),
    (["{d}/ck.pt", "{pkg}/new.pt"], "is inside the installed ddim_teach package"),
    (["{d}/ck.pt", "{d}/ck.pt", "--force"], "is the training checkpoint itself"),
    (["{d}/clf.pt", "{d}/out.pt"], "holds a 'classifier' checkpoint, expected 'unet'"),
    (["{d}/garbage.pt", "{d}/out.pt"], "not a readable checkpoint"),
    (["{d}/ck.pt", "{d}/folder"], "is a folder; give a file name"),
    (["{d}/ck.pt", "{d}/afile/x.pt"], "cannot create its folder"),
]

BAD_CLASSIFIER = [
    ([], "the following arguments are required: --out"),
    (["--out", "{d}/c.pt", "--epochs", "0"], "epochs must be a positive integer"),
    (["--out", "{pkg}/classifier.pt", "--force"], "is inside the installed ddim_teach package"),
    (["--out", "{d}/existing.pt"], "already exists; pass --force"),
    (["--out", "{d}/folder"], "is a folder; give a file name"),
]

CLIS = {"train": (train.main, BAD_TRAIN), "bench": (bench.main, BAD_BENCH),
        "pretrained": (pretrained.main, BAD_PRETRAINED), "classifier": (classifier.main, BAD_CLASSIFIER)}
CASES = [(name, args, msg) for name, (_, table) in CLIS.items() for args, msg in table]


@pytest.mark.parametrize("name, args, message", CASES, ids=[f"{n}:{' '.join(a)}" for n, a, _ in CASES])
def test_bad_cli_input_is_one_clear_line(name, args, message, files, capsys, monkeypatch):
    def no_work(*a, **k):
        raise AssertionError("work started on bad input")
    monkeypatch.setattr(train, "diffusion_loss", no_work)
    monkeypatch.setattr(bench, "fd_table", no_work)
    monkeypatch.setattr(classifier, "train_classifier", no_work)
    before = {p.name: p.read_bytes() for p in files.iterdir() if p.is_file()}
    with pytest.raises(SystemExit) as e:
        CLIS[name][0](_expand(args, files))
    err = capsys.readouterr().err
    assert e.value.code == 2, err
    last = err.strip().splitlines()[-1]
    assert last.startswith(f"python -m ddim_teach.{name}: error: "), err
    assert message in last, err
    assert "Traceback" not in err
    assert {p.name: p.read_bytes() for p in files.iterdir() if p.is_file()} == before  # nothing overwritten


def test_help_works_and_is_not_a_path(capsys):
    for name, (main, _) in CLIS.items():
        with pytest.raises(SystemExit) as e:
            main(["--help"])
        assert e.value.code == 0
        assert capsys.readouterr().out.startswith(f"usage: python -m ddim_teach.{name}")


@pytest.mark.slow  # a subprocess that imports torch
def test_real_process_prints_no_traceback(tmp_path):
    """The same through a real interpreter: the exit status and the one line a user sees."""
    p = subprocess.run([sys.executable, "-m", "ddim_teach.train", "--ema-decay", "-1", "--out", str(tmp_path / "x.pt")],
                       capture_output=True, text=True, timeout=300)
    assert p.returncode == 2 and "Traceback" not in p.stderr
    assert p.stderr.strip().splitlines()[-1] == ("python -m ddim_teach.train: error: --ema-decay must be in [0, 1) "
                                                 "(0.999 is the default; 0 copies the model), got -1.0")
    assert not (tmp_path / "x.pt").exists()


def test_pretrained_export_writes_only_where_asked(files, tmp_path, capsys):
    shipped = pretrained.weights_path(pretrained.UNET_FILE)
    before = shipped.read_bytes()
    pretrained.main([str(files / "ck.pt"), str(tmp_path / "ema.pt")])
    assert "sha256" in capsys.readouterr().out
    assert shipped.read_bytes() == before
    model, schedule = pretrained.load_pretrained(tmp_path / "ema.pt")
    assert model.trained_steps == 1 and schedule.T == 1000
    ck = torch.load(tmp_path / "ema.pt", weights_only=True)
    assert "ema" in ck and "model" not in ck and "optimizer" not in ck


# ---- the same kinds of bad input through the public functions ----------------------------------------------

def _api_cases(d):
    from ddim_teach import data
    from ddim_teach._infra import checkpoint
    from ddim_teach.unet import UNetConfig
    im = data.load_mnist("test", source="bundled")[0][:8]
    tiny = UNetConfig(base_channels=8, ch_mult=(1, 2), attn_resolutions=(14,), groups=4)
    kw = dict(steps=2, batch_size=2, config=tiny, images=im, out=d / "api.pt", progress=False)
    return [
        (lambda: train_fn(**{**kw, "ema_decay": -1}), "ema_decay must be in \\[0, 1\\)"),
        (lambda: train_fn(**{**kw, "lr": 0}), "lr must be a positive finite number"),
        (lambda: train_fn(**{**kw, "steps": 0}), "steps must be an integer of at least 1"),
        (lambda: train_fn(**{**kw, "steps": 2.5}), "steps must be an integer of at least 1"),
        (lambda: train_fn(**{**kw, "batch_size": True}), "batch_size must be an integer"),
        (lambda: train_fn(**{**kw, "warmup": 0}), "warmup must be an integer of at least 1"),
        (lambda: train_fn(**{**kw, "T": 1}), "T must be an integer of at least 2"),
        (lambda: train_fn(**{**kw, "config": {"base_channels": 8}}), "config must be a UNetConfig"),
        (lambda: train_fn(**{**kw, "images": im.astype("float32")}), "images must be a non-empty uint8 array"),
        (lambda: train_fn(**{**kw, "images": im[:, :14]}), "images must be a non-empty uint8 array"),
        (lambda: train_fn(**{**kw, "images": im[:0]}), "images must be a non-empty uint8 array"),
        (lambda: train_fn(**{**kw, "device": "tpu"}), "device must be 'cpu', 'cuda'"),
        (lambda: bench.real_sets(0), "n must be an integer of at least 2"),
        (lambda: bench.real_sets(5000), "n must be at most 999"),
        (lambda: bench.real_sets(1.5), "n must be an integer of at least 2"),
        (lambda: classifier.train_classifier(epochs=0), "epochs must be a positive integer"),
        (lambda: classifier.train_classifier(lr=0), "lr must be a positive finite number"),
        (lambda: classifier.train_classifier(batch_size=10 ** 6), "batch_size must be at most 9001"),
        (lambda: pretrained.export_pretrained(d / "ck.pt", None), "out must name the file to write"),
        (lambda: pretrained.load_pretrained(d / "none.pt"), "no such checkpoint"),
        (lambda: pretrained.load_unet(d / "clf.pt"), "holds a 'classifier' checkpoint"),
        (lambda: pretrained.load_classifier(d / "ck.pt"), "holds a 'unet' checkpoint"),
        (lambda: checkpoint.load(d / "garbage.pt"), "not a readable checkpoint"),
        (lambda: checkpoint.load(d / "folder"), "not a readable checkpoint|no such checkpoint"),
    ]


N_API = 24


@pytest.mark.parametrize("i", range(N_API))
def test_bad_api_input_is_a_clear_error(i, files):
    call, message = _api_cases(files)[i]
    with pytest.raises(ValueError, match=message):
        call()
    assert not (files / "api.pt").exists()


def test_bench_quick_names_ddpm_50_and_skips_the_overhead(monkeypatch, capsys):
    """--quick's largest S is 50: its eta=1 row is DDPM-50, and nothing may call it DDPM-1000."""
    calls = []

    def fake_table(model, schedule, clf, n, steps, etas, spacing, keep_features=None):
        calls.append((n, tuple(steps), tuple(etas)))
        return {(S, e): (1000.0 / S + 40 * e, 0.9, 0.01 * S) for S in steps for e in etas}, 5.0

    def no_overhead(*a, **k):
        raise AssertionError("--quick must not time the overhead (it takes longer than the table)")
    monkeypatch.setattr(bench, "fd_table", fake_table)
    monkeypatch.setattr(bench, "overhead", no_overhead)
    bench.main(["--quick"])
    out = capsys.readouterr().out
    assert calls == [(64, (10, 20, 50), (0.0, 1.0))]
    assert "DDPM-50 (η=1, S=50 of T=1000): FD 60.00" in out
    assert "reaches DDPM-50's FD: 20" in out
    assert "DDPM-1000" not in out
    assert bench._ddpm_label(1000, 1000) == "DDPM-1000 (η=1, every step)"
