"""Guidance (ddim_teach.guidance), the conditional U-Net and conditional training.

Pinned by identities and exact answers: on the 2-D mixture the components are the classes, so the conditional
and unconditional eps are exact; classifier-free guidance at w equals classifier guidance at s = 1 + w with the
exact classifier; at w = 0 guided DDIM lands where the exact probability-flow ODE of the class's Gaussian goes;
diffusers' guidance_scale form gives the same eps.
"""
import pytest
import torch

from ddim_teach import guidance, oracles, pretrained, samplers, schedules, train
from ddim_teach._infra import checkpoint
from ddim_teach.unet import UNet, UNetConfig

SCHED = schedules.make_schedule("linear", 1000)
MIX = oracles.GaussianMixtureOracle.default(SCHED)
TINY = UNetConfig(base_channels=8, ch_mult=(1, 2), attn_resolutions=(14,), groups=4)


def _x(n=64, seed=0):
    return torch.randn(n, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(seed))


def test_cfg_eps_is_ho_and_salimans_eq_6_and_diffusers_form():
    c, u = torch.randn(5, 3), torch.randn(5, 3)
    for w in (0.0, 1.0, 3.0, 7.5):
        got = guidance.cfg_eps(c, u, w)
        assert torch.allclose(got, (1 + w) * c - w * u)
        gs = guidance.guidance_scale(w)  # diffusers: noise_pred_uncond + guidance_scale * (cond - uncond)
        assert torch.allclose(got, u + gs * (c - u), atol=1e-6)
        assert guidance.w_from_guidance_scale(gs) == w
    assert torch.equal(guidance.cfg_eps(c, u, 0.0), c)


def test_mixture_oracle_conditional_eps_is_the_components_exact_eps():
    x, t = _x(), torch.full((64,), 400)
    for k in range(3):
        comp = oracles.GaussianOracle(SCHED, mu=MIX.means[k], s=float(MIX.stds[k]))
        assert torch.allclose(MIX(x, t, torch.tensor(k)), comp(x, t), atol=1e-12)
    assert torch.equal(MIX(x, t, torch.tensor(3)), MIX(x, t))  # K means no label: the whole mixture


def test_log_p_y_is_the_posterior_of_the_components_and_bayes_rule_holds_for_scores():
    x, t = _x().requires_grad_(True), torch.full((64,), 300)
    probs = torch.stack([MIX.log_p_y(x, t, torch.tensor(k)).exp() for k in range(3)], 1)
    assert torch.allclose(probs.sum(1), torch.ones(64, dtype=torch.float64))
    # eps(x | y) = eps(x) - sqrt(1 - ab) grad log p(y | x): the s = 1 classifier guidance is the conditional eps
    for k in range(2):
        g = guidance.ClassifierGuided(MIX, MIX.log_p_y, k, 1.0, SCHED)
        assert torch.allclose(g(x.detach(), t), MIX(x.detach(), t, torch.tensor(k)), atol=1e-10)


@pytest.mark.parametrize("w", [0.0, 1.0, 3.0, 7.0])
def test_classifier_free_guidance_at_w_is_classifier_guidance_at_1_plus_w(w):
    x_T = _x(256, 1)
    a = samplers.sample(guidance.ClassifierFreeGuided(MIX, 2, w), SCHED, x_T, steps=20, record_every=None,
                        progress=False).final
    b = samplers.sample(guidance.ClassifierGuided(MIX, MIX.log_p_y, 2, 1 + w, SCHED), SCHED, x_T, steps=20,
                        record_every=None, progress=False).final
    assert torch.allclose(a, b, atol=1e-10)


def test_unguided_conditional_ddim_follows_the_exact_flow_of_the_class():
    x_T = _x(512, 2)
    y = 1
    comp = oracles.GaussianOracle(SCHED, mu=MIX.means[y], s=float(MIX.stds[y]))
    exact = comp.ode_solution(x_T, SCHED.alpha_bars[-1], torch.tensor(1.0, dtype=torch.float64))
    errs = []
    for S in (25, 50, 100):
        x = samplers.sample(guidance.ClassifierFreeGuided(MIX, y, 0.0), SCHED, x_T, steps=S, record_every=None,
                            progress=False).final
        errs.append(float((x - exact).abs().max()))
    assert errs[0] > errs[1] > errs[2] and errs[2] < 0.05, errs  # converges to the class's exact ODE solution


def test_guidance_moves_samples_away_from_the_other_classes_and_shrinks_their_spread():
    x_T = _x(2000, 3)
    y, mu = 2, MIX.means[2]
    centre = MIX.means.mean(0)
    dist, spread = [], []
    for w in (0.0, 1.0, 3.0, 7.0):
        x = samplers.sample(guidance.ClassifierFreeGuided(MIX, y, w), SCHED, x_T, steps=50, record_every=None,
                            progress=False).final
        dist.append(float((x.mean(0) - centre).norm()))
        spread.append(float(x.std(0).mean()))
    assert dist == sorted(dist) and spread == sorted(spread, reverse=True), (dist, spread)
    assert float(mu.norm()) - 0.02 < dist[0] < float(mu.norm()) + 0.02


def test_batched_and_two_call_guidance_agree_and_count_calls():
    x, t = _x(8), torch.full((8,), 500)
    one = guidance.ClassifierFreeGuided(MIX, torch.arange(8) % 3, 3.0)
    two = guidance.ClassifierFreeGuided(MIX, torch.arange(8) % 3, 3.0, batched=False)
    assert torch.equal(one(x, t), two(x, t))
    assert (one.calls, two.calls) == (1, 2)


@pytest.mark.parametrize("call, message", [
    (lambda: guidance.cfg_eps(torch.zeros(2), torch.zeros(2), -1.0), "w (Ho & Salimans"),
    (lambda: guidance.cfg_eps(torch.zeros(2), torch.zeros(3), 1.0), "eps_uncond"),
    (lambda: guidance.w_from_guidance_scale(0.5), "guidance_scale"),
    (lambda: guidance.ClassifierFreeGuided(MIX, 3, 1.0), "labels 0..2"),
    (lambda: guidance.ClassifierFreeGuided(oracles.GaussianOracle(SCHED), 0, 1.0), "conditional model"),
    (lambda: guidance.ClassifierFreeGuided(MIX, 0, float("nan")), "finite"),
    (lambda: guidance.classifier_guided_eps(torch.zeros(2), torch.zeros(2), 0.5, True), "s (Dhariwal"),
])
def test_bad_guidance_input_is_a_clear_error(call, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(")):
        call()


# --- the conditional U-Net ---------------------------------------------------------------------------------------

def test_zero_initialised_class_embedding_starts_as_the_unconditional_model():
    torch.manual_seed(0)
    unc = UNet(TINY).eval()
    cond = UNet(UNetConfig(**{**TINY.to_dict(), "num_classes": 10})).eval()
    state = {**unc.state_dict(), "class_emb.weight": cond.class_emb.weight.detach().clone()}
    checkpoint.load_state(cond, state)
    x, t = torch.randn(4, 1, 28, 28), torch.tensor([0, 10, 500, 999])
    with torch.no_grad():
        for y in (None, torch.tensor([0, 3, 9, 10])):
            assert torch.equal(cond(x, t, y), unc(x, t))
        cond.class_emb.weight.normal_()              # once trained, the label changes the output; None is label 10
        a, b = cond(x, t, torch.tensor([1, 1, 1, 1])), cond(x, t, torch.tensor([2, 2, 2, 2]))
        assert not torch.allclose(a, b)
        assert torch.equal(cond(x, t, None), cond(x, t, torch.tensor([10] * 4)))


def test_unconditional_config_reads_as_before_and_labels_are_checked():
    assert "num_classes" not in UNetConfig().to_dict()
    assert UNetConfig.from_dict(UNetConfig(num_classes=10).to_dict()).num_classes == 10
    unc, cond = UNet(TINY), UNet(UNetConfig(**{**TINY.to_dict(), "num_classes": 10}))
    x, t = torch.randn(2, 1, 28, 28), torch.tensor([1, 2])
    with pytest.raises(ValueError, match="unconditional"):
        unc(x, t, torch.tensor([1, 2]))
    with pytest.raises(ValueError, match=r"0\.\.10"):
        cond(x, t, torch.tensor([1, 11]))
    with pytest.raises(ValueError, match="integer class labels"):
        cond(x, t, torch.tensor([1.0, 2.0]))
    with pytest.raises(ValueError, match="num_classes"):
        UNet(UNetConfig(num_classes=-1))


def test_conditional_training_starts_from_the_unconditional_checkpoint(tmp_path):
    torch.set_num_threads(1)
    from ddim_teach.data import load_mnist
    images, labels = load_mnist("test", source="bundled")
    src = tmp_path / "unc.pt"
    train.train(steps=2, batch_size=4, out=src, config=TINY, images=images[:32], progress=False, ckpt_every=1)
    cfg = UNetConfig(**{**TINY.to_dict(), "num_classes": 10})
    ck = train.train(steps=3, batch_size=4, out=tmp_path / "cond.pt", config=cfg, images=images[:32],
                     labels=labels[:32], init_from=src, p_uncond=0.2, progress=False, ckpt_every=1)
    assert ck["train"]["p_uncond"] == 0.2 and ck["train"]["init_from"] == str(src)
    model, _ = pretrained.load_unet(tmp_path / "cond.pt")
    assert model.num_classes == 10
    # the start is the source's EMA weights, with a zero class embedding
    start = train._init_state(src, cfg, SCHED)
    src_ema = checkpoint.load(src, kind="unet")["ema"]
    assert all(torch.equal(start[k], v) for k, v in src_ema.items()) and not start["class_emb.weight"].any()
    # resuming without repeating init_from keeps the record; claiming a start the run did not have is refused
    ck2 = train.train(steps=4, batch_size=4, out=tmp_path / "cond.pt", config=cfg, images=images[:32],
                      labels=labels[:32], p_uncond=0.2, progress=False, ckpt_every=1, resume=True)
    assert ck2["train"]["init_from"] == str(src)
    with pytest.raises(checkpoint.CheckpointError, match="init-from"):
        train.train(steps=3, batch_size=4, out=src, config=TINY, images=images[:32], progress=False,
                    resume=True, init_from=tmp_path / "cond.pt")
    with pytest.raises(ValueError, match="labels"):
        train.train(steps=1, batch_size=4, out=tmp_path / "c2.pt", config=cfg, images=images[:32], progress=False)
    with pytest.raises(ValueError, match="p_uncond"):
        train.train(steps=1, batch_size=4, out=tmp_path / "c3.pt", config=cfg, images=images[:32],
                    labels=labels[:32], p_uncond=0.0, progress=False)
    with pytest.raises(checkpoint.CheckpointError, match="another architecture"):
        train.train(steps=1, batch_size=4, out=tmp_path / "c4.pt", config=UNetConfig(num_classes=10),
                    images=images[:32], labels=labels[:32], init_from=src, progress=False)


def test_shipped_conditional_model_loads_with_its_labels():
    model, sched = pretrained.load_pretrained(conditional=True)
    assert model.num_classes == 10 and model.trained_steps > 0
    hist = pretrained.training_history(conditional=True)
    assert hist["train"]["init_from"] == "pretrained" and 0.1 <= hist["train"]["p_uncond"] <= 0.2
    with pytest.raises(ValueError, match="either path"):
        pretrained.load_pretrained("x.pt", conditional=True)


# --- the guidance benchmark and notebook 10's explorer -------------------------------------------------------------

def test_class_matched_reference_holds_a_real_digit_of_each_requested_label_in_order():
    from ddim_teach import bench_guidance, data
    labels = bench_guidance.requested_labels(95)
    ref = bench_guidance.class_matched_reference(labels, seed=0)
    images, true = data.load_mnist("test", source="bundled")
    x = data.to_tensor(images)
    idx = [int(((x - r).abs().flatten(1).sum(1) == 0).nonzero()[0, 0]) for r in ref]   # each one is a held-out digit
    assert len(set(idx)) == len(idx)
    assert torch.equal(torch.as_tensor(true[idx], dtype=torch.long), labels)           # image i is a digit labels[i]


def test_wilson_interval_matches_the_formula_at_known_points():
    from ddim_teach import bench_guidance
    lo, hi = bench_guidance.wilson(50, 100)
    assert abs(lo - 0.4038) < 1e-3 and abs(hi - 0.5962) < 1e-3     # the textbook value for 50/100
    lo, hi = bench_guidance.wilson(100, 100)
    assert abs(hi - 1.0) < 1e-12 and abs(lo - 0.9630) < 1e-3


def test_guidance_markdown_reads_back():
    from ddim_teach import bench_guidance
    table = {"n": 512, "steps": 20, "real_spread": 0.3456, "rows": {
        0.0: dict(acc=0.9, acc_low=0.87, acc_high=0.92, fd=10.5, fd_low=8.25, fd_high=12.75, diff=(0.0, 0.0, 0.0),
                  spread=(0.321, 0.31, 0.332), seconds=1.0),
        3.0: dict(acc=0.99, acc_low=0.98, acc_high=0.995, fd=14.0, fd_low=11.5, fd_high=16.5, diff=(3.5, 2.0, 5.0),
                  spread=(0.25, 0.24, 0.26), seconds=2.0)}}
    back = bench_guidance.read_guidance_markdown("intro\n\n" + bench_guidance.guidance_markdown(table) + "\n\nafter")
    assert back["n"] == 512 and back["steps"] == 20 and back["real_spread"] == 0.346
    assert set(back["rows"]) == {0.0, 3.0}
    r = back["rows"][3.0]
    assert (r["acc"], r["fd"], r["diff"], r["spread"]) == (0.99, 14.0, (3.5, 2.0, 5.0), (0.25, 0.24, 0.26))
    with pytest.raises(ValueError, match="no guidance table"):
        bench_guidance.read_guidance_markdown("nothing here")


class _TinyConditional(torch.nn.Module):
    """A conditional stand-in for the U-Net: eps = 0.1 x + 0.01 (y + 1), so labels and batches are visible."""
    num_classes, sample_shape, prediction_type = 10, (1, 28, 28), "epsilon"

    def forward(self, x, t, y):
        return 0.1 * x + 0.01 * (y.to(x.dtype) + 1)[:, None, None, None]


def test_guidance_explorer_caches_and_moves_with_its_controls():
    pytest.importorskip("ipywidgets")
    from ddim_teach.explorer.guided import GuidanceExplorer, guidance_explorer
    model = _TinyConditional()
    ex = GuidanceExplorer(model, SCHED, None, n=3, steps=4)
    a = ex(3, 1.5, 0)
    assert ex(3, 1.5000000001, 0) is a and ex.calls == 1                 # one setting, one computation
    direct = samplers.sample(guidance.ClassifierFreeGuided(model, 3, 1.5), SCHED,
                             torch.randn((3, 1, 28, 28), generator=torch.Generator().manual_seed(0)), steps=4,
                             spacing="trailing", record_every=None, progress=False).final
    assert torch.equal(a["samples"], direct)
    with pytest.raises(ValueError, match="digit"):
        ex(10, 1.0, 0)
    w = guidance_explorer(model, SCHED, None, n=3, steps=4)
    first = w.result
    w.controls["w"].value = 4.0
    assert w.result is not first and w.result["key"] == (3, 4.0, 0) and w.image.value[:4] == b"\x89PNG"
    assert "8 network evaluations" in w.status.value


def test_classifier_guided_and_the_oracle_classifier_refuse_bad_input():
    with pytest.raises(TypeError, match="Schedule"):
        guidance.ClassifierGuided(MIX, MIX.log_p_y, 0, 1.0, "linear")
    with pytest.raises(ValueError, match=r"class 0\.\.2"):
        MIX.log_p_y(_x(2), torch.tensor([5, 5]), torch.tensor(7))


def test_training_cli_refuses_conditional_settings_without_conditional(capsys):
    with pytest.raises(SystemExit):
        train.main(["--p-uncond", "0.2", "--out", "/tmp/never.pt"])
    assert "--conditional" in capsys.readouterr().err


@pytest.mark.parametrize("call, message", [
    (lambda: guidance.ClassifierFreeGuided(MIX, torch.tensor([0.5]), 1.0), "integer class label"),
    (lambda: guidance.ClassifierGuided(None, MIX.log_p_y, 0, 1.0, SCHED), "model must be callable as model"),
    (lambda: guidance.classifier_guided_eps(torch.zeros(3, 2), torch.zeros(3, 2), 1.5, 1.0), r"\[0, 1\]"),
    (lambda: guidance.classifier_guided_eps(torch.zeros(3, 2), torch.zeros(3, 2), torch.ones(2), 1.0), "one per image"),
    (lambda: MIX(_x(2), torch.tensor([5, 5]), torch.tensor(1.7)), "integer labels"),
    (lambda: MIX.log_p_y(_x(2), torch.tensor([5, 5]), torch.tensor([0, 1, 2])), "one label or one per point"),
])
def test_bad_labels_and_alpha_bars_are_refused_at_once(call, message):
    with pytest.raises((ValueError, TypeError), match=message):
        call()
