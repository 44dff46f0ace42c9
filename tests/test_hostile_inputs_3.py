"""A third round of hostile inputs, each once silently accepted (or a hang, or a traceback from deep inside): now a
short error that names the argument, says what was given and what is allowed, raised before any work is lost."""
import sys
import time

import numpy as np
import pytest
import torch

from ddim_teach import exercises, formulas, schedules

S = schedules.make_schedule("linear", 1000)


# --- the exercise checker -------------------------------------------------------------------------------------
def _q_ok(x0, alpha_bar_t, noise):
    return alpha_bar_t.sqrt() * x0 + (1 - alpha_bar_t).sqrt() * noise


def test_the_time_limit_is_not_swallowed_by_except_exception(monkeypatch):
    monkeypatch.setattr(exercises, "TIME_LIMIT_S", 0.3)

    def q_swallow(x0, alpha_bar_t, noise):
        t0 = time.perf_counter()
        while time.perf_counter() - t0 < 3:
            try:
                time.sleep(0.05)
            except Exception:
                pass
        return _q_ok(x0, alpha_bar_t, noise)

    t0 = time.perf_counter()
    v = exercises.check("q_sample", q_swallow)
    assert time.perf_counter() - t0 < 2.5
    assert not v.ok and "was stopped" in v.message


def test_sys_exit_inside_an_answer_is_a_verdict():
    def q_exit(x0, alpha_bar_t, noise):
        sys.exit(1)

    v = exercises.check("q_sample", q_exit)
    assert not v.ok and "sys.exit" in v.message and "q_exit" in v.message


def test_keyboard_interrupt_still_propagates():
    def q_kbd(x0, alpha_bar_t, noise):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        exercises.check("q_sample", q_kbd)


def test_an_exercise_name_that_is_not_a_string_is_a_type_error():
    with pytest.raises(TypeError, match=r"name must be an exercise's name \(a string\), got list"):
        exercises.check(["q_sample"], _q_ok)


def test_an_exception_whose_str_fails_is_still_a_verdict():
    class Weird(Exception):
        def __str__(self):
            raise RuntimeError("no str")

    def q_weird(x0, alpha_bar_t, noise):
        raise Weird()

    v = exercises.check("q_sample", q_weird)
    assert not v.ok and "Weird" in v.message


# --- formulas: one alpha_bar per sample, and one dtype --------------------------------------------------------
def test_a_batch_of_alpha_bars_applies_per_sample_not_per_feature():
    got = formulas.predict_x0(torch.ones(2, 2), torch.zeros(2, 2), torch.tensor([0.25, 1.0]))
    assert torch.equal(got, torch.tensor([[2.0, 2.0], [1.0, 1.0]]))
    x, e = torch.randn(2, 1, 4, 4), torch.randn(2, 1, 4, 4)
    ab = torch.tensor([0.3, 0.6])
    assert torch.allclose(formulas.predict_x0(x, e, ab), formulas.predict_x0(x, e, ab.reshape(2, 1, 1, 1)))
    assert torch.allclose(formulas.q_sample(x, e, ab)[1], formulas.q_sample(x[1:], e[1:], 0.6)[0])


@pytest.mark.parametrize("x_shape, ab_shape", [((4, 2), (2,)), ((2, 1, 4, 4), (4,)), ((2, 1, 4, 4), (2, 1)),
                                               ((1, 4), (3, 1)), ((2, 4), (2, 4, 1))])
def test_an_alpha_bar_that_does_not_fit_the_batch_is_refused(x_shape, ab_shape):
    x = torch.randn(x_shape)
    with pytest.raises(ValueError, match=r"alpha_bar_t must be one number, one per sample .* got shape"):
        formulas.predict_x0(x, torch.randn(x_shape), torch.full(ab_shape, 0.5))


def test_alpha_bar_never_changes_the_output_dtype():
    x = torch.randn(2, 3)
    assert formulas.predict_x0(x, x, 0.5).dtype == torch.float32
    assert formulas.predict_x0(x, x, torch.tensor([0.3, 0.6], dtype=torch.float64)).dtype == torch.float32
    assert formulas.q_sample(x, x, torch.full((2, 1), 0.5, dtype=torch.float64)).dtype == torch.float32


@pytest.mark.parametrize("call", [
    lambda a, b: formulas.predict_x0(a, b, 0.5),
    lambda a, b: formulas.q_sample(a, b, 0.5),
    lambda a, b: formulas.eps_from_v(a, b, 0.5),
    lambda a, b: formulas.ddim_mean(a, b, 0.5, 0.1),
    lambda a, b: __import__("ddim_teach.guidance").guidance.cfg_eps(a, b, 1.0),
    lambda a, b: __import__("ddim_teach.guidance").guidance.classifier_guided_eps(a, b, 0.5, 1.0),
])
def test_tensors_of_two_float_dtypes_are_refused(call):
    a = torch.randn(3, 4)
    with pytest.raises(TypeError, match=r"is torch.float64, .* is torch.float32; .*same dtype"):
        call(a, a.double())


# --- flags must be real booleans: 'no' is truthy --------------------------------------------------------------
def _orc():
    from ddim_teach import oracles
    return oracles.GaussianOracle(S, sample_shape=(4,))


def _mix():
    from ddim_teach import oracles
    return oracles.GaussianMixtureOracle.default(S)


@pytest.mark.parametrize("name, call", [
    ("clip_sample", lambda v: __import__("ddim_teach.denoiser").denoiser.Denoiser(_orc(), S, clip_sample=v)),
    ("use_clipped_model_output", lambda v: __import__("ddim_teach.denoiser").denoiser.Denoiser(
        _orc(), S, clip_sample=True, use_clipped_model_output=v)),
    ("batched", lambda v: __import__("ddim_teach.guidance").guidance.ClassifierFreeGuided(_mix(), 1, 1.0, batched=v)),
    ("conditional", lambda v: __import__("ddim_teach.pretrained").pretrained.load_pretrained(conditional=v)),
    ("conditional", lambda v: __import__("ddim_teach.pretrained").pretrained.training_history(conditional=v)),
    ("download", lambda v: __import__("ddim_teach.data").data.load_mnist("test", source="bundled", download=v)),
    ("force", lambda v: __import__("ddim_teach.pretrained").pretrained.export_pretrained("nofile.pt", "out.pt",
                                                                                           force=v)),
])
@pytest.mark.parametrize("bad", ["no", "yes", 1, None, 0.0])
def test_a_flag_must_be_a_bool(name, call, bad):
    with pytest.raises(TypeError, match=rf"{name} must be True or False, got {bad!r}"):
        call(bad)


@pytest.mark.parametrize("kw", ["resume", "force", "progress"])
def test_train_flags_must_be_bools(kw, tmp_path):
    from ddim_teach import train as T
    with pytest.raises(TypeError, match=rf"{kw} must be True or False, got 'no'"):
        T.train(steps=1, out=tmp_path / "x.pt", **{kw: "no"})


def test_numpy_bools_are_bools():
    from ddim_teach.denoiser import Denoiser
    assert Denoiser(_orc(), S, clip_sample=np.bool_(True)).clip_sample is True


# --- classifier guidance: one log-probability per image, and the sampler's schedule ----------------------------
def _guided(log_p_y=None, schedule=S):
    from ddim_teach.guidance import ClassifierGuided
    mix = _mix()
    return ClassifierGuided(mix, log_p_y or mix.log_p_y, 1, 1.0, schedule)


@pytest.mark.parametrize("bad, shape", [
    (lambda x, t, y: _mix().log_p_t(x, S.alpha_bar(t)), r"\(3, 3\)"),   # (B, K): every class, not class y
    (lambda x, t, y: _mix().log_p_y(x, t, y).sum(), r"\(\)"),            # one number for the batch
    (lambda x, t, y: _mix().log_p_y(x, t, y)[:, None], r"\(3, 1\)"),
])
def test_log_p_y_must_give_one_number_per_image(bad, shape):
    from ddim_teach import samplers
    with pytest.raises(ValueError, match=rf"log_p_y\(x_t, t, y\) must return one log-probability per image, "
                                         rf"shape \(3,\), got {shape}"):
        samplers.sample(_guided(bad), S, torch.randn(3, 2), steps=3, progress=False)


def test_log_p_y_must_be_differentiable():
    from ddim_teach import samplers
    with pytest.raises(ValueError, match=r"log_p_y\(x_t, t, y\) must be differentiable in x_t"):
        samplers.sample(_guided(lambda x, t, y: _mix().log_p_y(x.detach(), t, y)), S, torch.randn(3, 2), steps=3,
                        progress=False)


@pytest.mark.parametrize("other", [schedules.make_schedule("cosine", 1000), schedules.make_schedule("linear", 100)])
def test_classifier_guidance_refuses_a_sampler_of_another_schedule(other):
    from ddim_teach import samplers
    with pytest.raises(ValueError, match=rf"trained with the '{other.name}' schedule, T = {other.T}; the schedule "
                                         r"given is 'linear', T = 1000"):
        samplers.sample(_guided(schedule=other), S, torch.randn(3, 2), steps=3, progress=False)
    assert samplers.sample(_guided(schedule=other), other, torch.randn(3, 2), steps=3, progress=False,
                           record_every=None).final.isfinite().all()


def test_classifier_guidance_refuses_a_schedule_other_than_the_models():
    from ddim_teach.guidance import ClassifierGuided
    mix = _mix()
    mix.trained_schedule = S
    with pytest.raises(ValueError, match=r"schedule: the model was trained with 'linear', T = 1000, the schedule "
                                         r"given is 'cosine', T = 1000"):
        ClassifierGuided(mix, mix.log_p_y, 1, 1.0, schedules.make_schedule("cosine", 1000))


# --- the U-Net's configuration --------------------------------------------------------------------------------
@pytest.mark.parametrize("kw, match", [
    (dict(base_channels=0), r"base_channels must be an integer >= 1, got 0"),
    (dict(base_channels=-8), r"base_channels must be an integer >= 1, got -8"),
    (dict(in_channels=0), r"in_channels must be an integer >= 1, got 0"),
    (dict(image_size=0), r"image_size must be an integer >= 1, got 0"),
    (dict(num_res_blocks=0), r"num_res_blocks must be an integer >= 1, got 0"),
    (dict(base_channels=8.0), r"base_channels must be an integer >= 1, got 8.0"),
    (dict(ch_mult=()), r"ch_mult must be a non-empty list of integers >= 1 \(one per level\), got \(\)"),
    (dict(ch_mult=(1, 0)), r"ch_mult must be a non-empty list of integers >= 1 \(one per level\), got \(1, 0\)"),
    (dict(groups=0), r"groups must be an integer >= 1, got 0"),
    (dict(groups=5), r"groups \(5\) must divide the channel count of every level, base_channels × ch_mult = "
                     r"\[24, 48, 96\]; allowed: 1, 2, 3, 4, 6, 8, 12, 24"),
    (dict(dropout=1.0), r"dropout must be a number in \[0, 1\), got 1.0"),
    (dict(image_size=30), r"image_size 30 cannot go down 2 levels and back up \(30 -> 15 -> 8 -> 16\): it must be a "
                          r"multiple of 4 = 2\^\(len\(ch_mult\) - 1\)"),
    (dict(attn_resolutions=(8,)), r"attn_resolutions must be resolutions the U-Net visits, \[28, 14, 7\], got \(8,\)"),
    (dict(num_classes=-1), r"num_classes must be a whole number >= 0"),
])
def test_a_unet_config_that_cannot_build_a_working_unet_is_refused(kw, match):
    from ddim_teach.unet import UNetConfig
    with pytest.raises(ValueError, match=match):
        UNetConfig(**kw)


def test_a_valid_unusual_unet_config_builds_and_runs():
    from ddim_teach.unet import UNet, UNetConfig
    net = UNet(UNetConfig(image_size=32, base_channels=8, ch_mult=[1, 2, 2, 4], attn_resolutions=[4], groups=4))
    assert net(torch.randn(1, 1, 32, 32), 5).shape == (1, 1, 32, 32)


# --- data -----------------------------------------------------------------------------------------------------
def test_an_idx_split_with_no_images_is_refused(tmp_path):
    from ddim_teach import data
    data.write_idx(tmp_path / "train-images-idx3-ubyte", np.zeros((0, 28, 28), np.uint8))
    data.write_idx(tmp_path / "train-labels-idx1-ubyte", np.zeros((0,), np.uint8))
    with pytest.raises(data.DataError, match=r"train-images-idx3-ubyte holds 0 images; an MNIST split needs at least "
                                             r"one \(the full train split has 60,000\)"):
        data.load_mnist("train", source="idx", folder=tmp_path)


@pytest.mark.parametrize("v", [float("nan"), float("inf")])
def test_to_uint8_refuses_nan_and_inf(v):
    from ddim_teach import data
    x = torch.zeros(1, 1, 28, 28)
    x[0, 0, 3, 4] = v
    with pytest.raises(ValueError, match=r"x contains NaN or inf \(1 of 784 values\); to_uint8 would show them as "
                                         r"black or white pixels"):
        data.to_uint8(x)


# --- the exact oracles' parameters ----------------------------------------------------------------------------
NAN, INF = float("nan"), float("inf")


@pytest.mark.parametrize("kw, exc, match", [
    (dict(mu=NAN), ValueError, r"mu must be finite numbers \(the data's mean\), got nan"),
    (dict(mu=[0.0, INF]), ValueError, r"mu must be finite numbers \(the data's mean\), got \[0.0, inf\]"),
    (dict(mu="zero"), TypeError, r"mu must be a number or a tensor of numbers \(the data's mean\), got str"),
    (dict(s=INF), ValueError, r"s must be a positive finite number \(the data's standard deviation\), got inf"),
    (dict(s=NAN), ValueError, r"s must be a positive finite number"),
    (dict(s=0.0), ValueError, r"s must be a positive finite number"),
    (dict(sample_shape=4), TypeError, r"sample_shape must be a tuple of sizes, e.g. \(4,\) or \(1, 28, 28\), got 4"),
    (dict(sample_shape=(0, 2)), ValueError, r"sample_shape must hold positive sizes, got \(0, 2\)"),
])
def test_gaussian_oracle_parameters(kw, exc, match):
    from ddim_teach import oracles
    with pytest.raises(exc, match=match):
        oracles.GaussianOracle(S, **kw)


def test_gaussian_oracle_accepts_numpy_numbers():
    from ddim_teach import oracles
    o = oracles.GaussianOracle(S, mu=np.float32(0.5), s=np.float32(0.5), sample_shape=(np.int64(2),))
    assert o.s == 0.5 and o.sample_shape == (2,)


@pytest.mark.parametrize("args, exc, match", [
    (([[NAN, 0.0]], [1.0]), ValueError, r"means must be finite, got a NaN or inf in row 0"),
    (([[0.0, 0.0]], [INF]), ValueError, r"stds must be positive and finite, got \[inf\]"),
    (([[0.0, 0.0]], [0.0]), ValueError, r"stds must be positive and finite, got \[0.0\]"),
    (([[0.0, 0.0]], [NAN]), ValueError, r"stds must be positive and finite, got \[nan\]"),
    (([[0.0, 0.0], [1.0, 1.0]], [1.0], [INF, 1.0]), ValueError, r"weights must be positive and finite, got \[inf, 1.0\]"),
    (([[0.0, 0.0], [1.0, 1.0]], [1.0], [-1.0, 2.0]), ValueError, r"weights must be positive and finite, got \[-1.0, 2.0\]"),
    (([[0.0, 0.0], [1.0, 1.0]], [1.0], [NAN, 1.0]), ValueError, r"weights must be positive and finite, got \[nan, 1.0\]"),
    ((["ab"], [1.0]), TypeError, r"means must be a number or a tensor of numbers, shape \(K, d\).*got list"),
])
def test_mixture_oracle_parameters(args, exc, match):
    from ddim_teach import oracles
    with pytest.raises(exc, match=match):
        oracles.GaussianMixtureOracle(S, *args)


# --- the guidance explorer ------------------------------------------------------------------------------------
class _FakeCond:
    num_classes = 10
    sample_shape = (1, 28, 28)

    def __call__(self, x, t, y):
        return torch.zeros_like(x)


def test_guidance_explorer_refuses_w_with_more_than_two_decimals():
    from ddim_teach.explorer.guided import GuidanceExplorer
    gx = GuidanceExplorer(_FakeCond(), S, n=1, steps=2)
    with pytest.raises(ValueError, match=r"w is kept to 2 decimals in the explorer, got 1.234; round it \(e.g. 1.23\)"):
        gx(3, 1.234, 0)
    assert gx.key(3, 1.5000000001, 0)[1] == 1.5          # a slider's rounding noise is one setting
    assert gx.key(3, np.float32(0.35), 0)[1] == 0.35     # a float32 slider value too


@pytest.mark.parametrize("kw, exc, match", [
    (dict(cache_size="x"), ValueError, r"cache_size must be an integer in 1..100000, got 'x'"),
    (dict(cache_size=0), ValueError, r"cache_size must be an integer in 1..100000, got 0"),
    (dict(schedule="linear"), TypeError, r"schedule must be a ddim_teach Schedule .*got str"),
])
def test_guidance_explorer_constructor_arguments(kw, exc, match):
    from ddim_teach.explorer.guided import GuidanceExplorer
    args = dict(model=_FakeCond(), schedule=S, n=1, steps=2)
    args.update(kw)
    with pytest.raises(exc, match=match):
        GuidanceExplorer(**args)


# --- train() --------------------------------------------------------------------------------------------------
def test_train_refuses_labels_for_an_unconditional_model(tmp_path):
    from ddim_teach import train as T
    imgs = np.zeros((10, 28, 28), np.uint8)
    t0 = time.perf_counter()
    with pytest.raises(ValueError, match=r"labels are for a conditional model.*num_classes = 0.*--conditional"):
        T.train(steps=1, batch_size=4, out=tmp_path / "u.pt", images=imgs, labels=np.arange(10), progress=False)
    assert time.perf_counter() - t0 < 5 and not (tmp_path / "u.pt").exists()


# --- the bench's command line: a flag the mode does not use, and bad values, refused before any model loads ----
@pytest.fixture
def no_bench_work(monkeypatch):
    from ddim_teach import bench, bench_explorer, bench_guidance

    def no_work(*a, **k):
        raise AssertionError("work started on bad input")
    for name in ("load_classifier", "fd_table", "quality", "sampler_variants", "solver_table", "overhead"):
        monkeypatch.setattr(bench, name, no_work)
    monkeypatch.setattr(bench_guidance, "guidance_table", no_work)
    monkeypatch.setattr(bench_explorer, "main", no_work)
    return bench


@pytest.mark.parametrize("argv, message", [
    (["--guidance", "--n", "20", "--steps", "5", "--etas", "0.5", "--spacing", "trailing"],
     "--guidance does not use --spacing, --steps, --etas; it takes --n, --weights"),
    (["--quality", "--n", "8", "--steps", "10", "--etas", "0.5"], "--quality does not use --steps, --etas; it takes --n, --weights"),
    (["--solvers", "--n", "8", "--etas", "0.5", "--steps", "3"], "--solvers does not use --steps, --etas; it takes --n, --weights"),
    (["--samplers", "--spacing", "trailing"], "--samplers does not use --spacing; it takes --n, --weights"),
    (["--overhead", "--n", "5", "--steps", "3"], "--overhead does not use --n, --steps; it takes --weights"),
    (["--explorer", "--n", "5", "--steps", "3", "--etas", "1"],
     "--explorer does not use --n, --steps, --etas; it takes --think, --app, --no-prefetch, --verbose"),
    (["--quick", "--think", "0"], "the FD table (no mode, or --quick) does not use --think; it takes --n, --spacing, "
                                  "--steps, --etas, --intervals, --skip-1000, --weights"),
    (["--guidance", "--n", "5"], "--n must be at least 20 for --guidance (two samples of every digit, for a spread), got 5"),
    (["--guidance", "--n", "5000"], "--n must be at most 865 for --guidance"),
    (["--n", "5000"], "--n must be at most 999 (the held-out digits the table compares against), got 5000"),
    (["--solvers", "--n", "5000"], "--n must be at most 999 (the held-out digits the table compares against), got 5000"),
])
def test_bench_refuses_before_any_model_loads(argv, message, no_bench_work, monkeypatch, capsys):
    def no_load(*a, **k):
        raise AssertionError("a model was loaded on bad input")
    monkeypatch.setattr(no_bench_work, "load_pretrained", no_load)
    with pytest.raises(SystemExit) as e:
        no_bench_work.main(argv)
    err = capsys.readouterr().err
    assert e.value.code == 2 and message in err and "Traceback" not in err, err


@pytest.mark.parametrize("argv, message", [
    (["--quick", "--n", "8", "--steps", "1", "--etas", "0"], "--steps=1 with 'leading' spacing runs only t=0"),
    (["--n", "4", "--steps", "1000", "--etas", "0", "--spacing", "quad"],
     "--steps: quad spacing gives duplicate timesteps for steps=1000"),
])
def test_bench_checks_steps_against_the_spacing_before_any_work(argv, message, no_bench_work, capsys):
    with pytest.raises(SystemExit) as e:
        no_bench_work.main(argv)
    err = capsys.readouterr().err
    assert e.value.code == 2 and message in err and "Traceback" not in err, err


@pytest.mark.parametrize("n", [20, 40, 60])
def test_guidance_spread_interval_is_finite_for_small_n(n):
    from ddim_teach import bench_guidance
    labels = bench_guidance.requested_labels(n)
    x = torch.randn(n, 1, 4, 4, generator=torch.Generator().manual_seed(0)).clamp(-1, 1)
    est, lo, hi = bench_guidance.spread_interval(x, labels)
    assert all(np.isfinite([est, lo, hi])) and lo <= est <= hi


def test_guidance_spread_interval_is_unchanged_where_every_class_has_two_samples():
    from ddim_teach import bench_guidance, metrics
    n = 512
    labels = bench_guidance.requested_labels(n)
    x = torch.randn(n, 1, 4, 4, generator=torch.Generator().manual_seed(0)).clamp(-1, 1)
    g = torch.Generator().manual_seed(0)
    boots = []
    for _ in range(200):    # the plain bootstrap over images, as before
        i = torch.randint(n, (n,), generator=g)
        boots.append(bench_guidance.spread(x[i], labels[i]))
    want = metrics._interval(bench_guidance.spread(x, labels), torch.tensor(boots, dtype=torch.float64), 0.95)
    assert bench_guidance.spread_interval(x, labels) == want


def test_spread_needs_two_images_of_each_digit():
    from ddim_teach import bench_guidance
    with pytest.raises(ValueError, match=r"spread needs at least 2 images of each digit; digit 1 has 1"):
        bench_guidance.spread(torch.zeros(3, 1, 28, 28), torch.tensor([0, 0, 1]))


# --- scripts/make_student.py ----------------------------------------------------------------------------------
def _fake_course(tmp_path):
    """A copy of the script beside a two-notebook course, so that a failing run cannot touch the real one."""
    import json
    import shutil
    from pathlib import Path
    root = tmp_path / "repo"
    (root / "scripts").mkdir(parents=True)
    shutil.copy(Path(__file__).resolve().parents[1] / "scripts" / "make_student.py", root / "scripts")
    nb = {"cells": [{"cell_type": "markdown", "id": "a", "metadata": {}, "source": "hello"},
                    {"cell_type": "code", "id": "b", "metadata": {"nbgrader": {"solution": True}}, "source": "x = 1",
                     "outputs": [], "execution_count": None}],
          "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    for d in ("notebooks", "notebooks/zh"):
        (root / d / "figures").mkdir(parents=True)
        (root / d / "00_index.ipynb").write_text(json.dumps(nb))
        (root / d / "figures" / "f.png").write_bytes(b"png")
    (root / "docs").mkdir()
    (root / "docs" / "RESULTS.md").write_text("results")
    return root


def _make_student(root, out):
    import subprocess
    return subprocess.run([sys.executable, str(root / "scripts" / "make_student.py"), "--out", str(out)],
                          capture_output=True, text=True, timeout=60)


def test_make_student_never_deletes_a_file_it_did_not_write(tmp_path):
    root, out = _fake_course(tmp_path), tmp_path / "release"
    assert _make_student(root, out).returncode == 0
    (out / "grades.csv").write_text("alice,10")
    (out / "notebooks" / "my_answers.ipynb").write_text("{}")
    (out / "marked").mkdir()
    r = _make_student(root, out)
    assert r.returncode != 0 and "grades.csv" in r.stderr and "notebooks/my_answers.ipynb" in r.stderr, r.stderr
    assert "marked/" in r.stderr
    (out / "marked").rmdir()
    assert (out / "grades.csv").read_text() == "alice,10" and (out / "notebooks" / "my_answers.ipynb").exists()
    (out / "grades.csv").unlink()
    (out / "notebooks" / "my_answers.ipynb").unlink()
    assert _make_student(root, out).returncode == 0            # only its own files: replaced


@pytest.mark.parametrize("inside", ["notebooks/figures/rel", "notebooks/zh/rel", "docs/rel", "."])
def test_make_student_refuses_an_out_inside_its_sources(tmp_path, inside):
    root = _fake_course(tmp_path)
    before = sorted(p.relative_to(root) for p in root.rglob("*"))
    r = _make_student(root, root / inside)
    assert r.returncode != 0 and "inside the course's sources" in r.stderr and "Traceback" not in r.stderr, r.stderr
    assert sorted(p.relative_to(root) for p in root.rglob("*")) == before


def test_make_student_names_a_corrupt_notebook_and_leaves_no_half_release(tmp_path):
    root, out = _fake_course(tmp_path), tmp_path / "release"
    (root / "notebooks" / "05_bad.ipynb").write_text("{'cells': ")
    r = _make_student(root, out)
    assert r.returncode != 0 and "Traceback" not in r.stderr, r.stderr
    assert len(r.stderr.strip().splitlines()) == 1 and "05_bad.ipynb: not a readable notebook" in r.stderr
    assert not out.exists() and [p.name for p in tmp_path.iterdir()] == ["repo"]
    (root / "notebooks" / "05_bad.ipynb").unlink()
    assert _make_student(root, out).returncode == 0


# --- metrics --------------------------------------------------------------------------------------------------
FEATS = torch.randn(40, 8, generator=torch.Generator().manual_seed(0))


@pytest.mark.parametrize("call, exc, match", [
    (lambda m: m.nearest_train_distance(torch.full((2, 1, 28, 28), float("nan")), torch.zeros(3, 1, 28, 28)),
     ValueError, r"samples contain NaN or inf"),
    (lambda m: m.nearest_train_distance(torch.zeros(2, 1, 28, 28), torch.full((3, 1, 28, 28), float("inf"))),
     ValueError, r"train contain NaN or inf"),
    (lambda m: m.fd_interval(FEATS.numpy(), FEATS), TypeError, r"features must be tensors \(N, d\), got ndarray"),
    (lambda m: m.fd_interval(FEATS, FEATS, seed=1.5), ValueError, r"seed must be an integer in 0..2\*\*63-1, got 1.5"),
    (lambda m: m.features(None, torch.zeros(2, 1, 28, 28)), TypeError,
     r"classifier must be the evaluation classifier \(load_classifier\(\)\), got NoneType"),
])
def test_metrics_bad_input(call, exc, match):
    from ddim_teach import metrics
    with pytest.raises(exc, match=match):
        call(metrics)


def test_metrics_accept_numpy_numbers():
    from ddim_teach import metrics
    assert metrics.fd_interval(FEATS, FEATS, level=np.float32(0.95), n_boot=np.int64(20), seed=np.int64(1))[0] < 1e-6


# --- strings where labels or paths belong; numpy numbers where Python numbers do --------------------------------
@pytest.mark.parametrize("call", [
    lambda: __import__("ddim_teach.guidance").guidance.ClassifierFreeGuided(_mix(), "3", 1.0),
    lambda: _mix()(torch.randn(3, 2), torch.tensor([5, 5, 5]), y="a"),
    lambda: _mix().log_p_y(torch.randn(3, 2), torch.tensor([5, 5, 5]), ["a", "b", "c"]),
])
def test_a_string_label_is_a_type_error(call):
    with pytest.raises(TypeError, match=r"y must be integer class labels .*got (list of )?str"):
        call()


@pytest.mark.parametrize("path", [123, 1.5, ["a.pt"]])
def test_load_pretrained_path_must_be_a_path(path):
    from ddim_teach.pretrained import load_pretrained
    with pytest.raises(TypeError, match=rf"path must be the file of an exported U-Net \(a str or Path\), got "
                                        rf"{type(path).__name__}"):
        load_pretrained(path)


def test_train_accepts_numpy_numbers(tmp_path):
    from ddim_teach import train as T
    from ddim_teach.unet import UNetConfig
    ck = T.train(steps=np.int64(1), batch_size=np.int64(4), lr=np.float32(1e-3), ema_decay=np.float64(0.9),
                 T=np.int64(100), seed=np.int64(0), out=tmp_path / "n.pt", progress=False, warmup=np.int64(1),
                 images=np.zeros((8, 28, 28), np.uint8),
                 config=UNetConfig(base_channels=8, ch_mult=(1, 2), attn_resolutions=(), groups=4))
    assert ck["step"] == 1 and ck["schedule"]["T"] == 100


def test_mixture_refuses_points_of_another_dimension():
    with pytest.raises(ValueError, match=r"x_t must be points of shape \(B, 2\) for this 2-D mixture, got \(3, 3\)"):
        _mix()(torch.randn(3, 3), torch.tensor([5, 5, 5]))
    with pytest.raises(ValueError, match=r"x_t must be points of shape \(B, 2\)"):
        _mix().log_p_y(torch.randn(3, 3), torch.tensor([5, 5, 5]), 0)


def test_bench_finds_the_flags_given_whatever_their_action():
    import argparse

    from ddim_teach import bench
    ap = argparse.ArgumentParser()
    ap.add_argument("--a", action="append")
    ap.add_argument("--b", action="count")
    ap.add_argument("--c", default=3, type=int)
    assert bench._given(ap, ["--a", "x", "--b"]) == {"a", "b"}
    assert bench._given(ap, ["--c", "3"]) == {"c"} and bench._given(ap, []) == set()


def test_a_fractional_number_of_steps_is_refused_as_steps():
    from ddim_teach import samplers, schedules
    s = schedules.make_schedule("linear", 1000)
    for bad in (2.5, 2.0):
        with pytest.raises(ValueError, match="steps must be a whole number of steps"):
            samplers.resolve_timesteps(s, bad, "trailing")
