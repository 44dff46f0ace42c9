"""The explorer measures: the reference row (DDIM, η = 0, S = 100, the same seed and spacing), each sample's RMS
distance to it in the figure and the status line, and the timestep panel (ᾱ_t at the visited timesteps)."""
import re

import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch

from ddim_teach import oracles, samplers
from ddim_teach.explorer import (REFERENCE_STEPS, Explorer, ExplorerFigure, draw_explorer, explorer, likely_next,
                                 rms_distance, rms_text, with_references)


class TinyImageModel:
    """The exact eps for Gaussian 'images' (N(0, 0.5²) per pixel), with the U-Net's interface; counts calls."""
    sample_shape = (1, 28, 28)

    def __init__(self, schedule):
        self.o = oracles.GaussianOracle(schedule, mu=0.0, s=0.5)
        self.calls = 0

    def __call__(self, x, t):
        self.calls += 1
        return self.o(x, t)


def _status_rms(status: str) -> tuple[list[float], float]:
    """The RMS distances and their mean from the status line's second line."""
    m = re.search(r"RMS distance of each sample to its reference \(DDIM, η = 0, S = 100\): ([0-9. ]+) "
                  r"\(mean ([0-9.]+)\)", status)
    assert m, status
    return [float(v) for v in m.group(1).split()], float(m.group(2))


def test_the_reference_is_the_eta_0_S_100_run_of_the_same_seed_and_spacing(schedule):
    model = TinyImageModel(schedule)
    ex = Explorer(model, schedule, n=3)
    r = ex(eta=0.5, steps=10, seed=4, spacing="leading")
    assert r["reference_key"] == ex.reference_key(r["key"]) == (0.0, REFERENCE_STEPS, 4, "leading", "ddim")
    direct = samplers.sample(model, schedule, ex.x_T(4), steps=100, eta=0.0, spacing="leading", progress=False)
    assert torch.equal(r["reference"], direct.final)
    ref = ex(eta=0.0, steps=100, seed=4, spacing="leading")  # the reference is an ordinary cache entry
    assert torch.equal(r["reference"], ref["final"]) and ref["reference"] is ref["final"]
    # x_T depends on the seed and n alone: the setting and its reference start from the same x_T
    assert torch.equal(r["xs"][0], ex.x_T(4)[0]) and torch.equal(ref["xs"][0], ex.x_T(4)[0])
    assert torch.equal(Explorer(model, schedule, n=3).x_T(4), ex.x_T(4))
    # the solver shown does not change the reference: DDIM at eta = 0 is the yardstick of both
    dpm = ex(eta=0.0, steps=10, seed=4, spacing="leading", solver="dpm_solver_pp_2m")
    assert dpm["reference_key"] == r["reference_key"] and torch.equal(dpm["reference"], r["reference"])
    # the spacing shown does: "the same sampler, fine"
    assert ex(eta=0.5, steps=10, seed=4, spacing="trailing")["reference_key"] == (0.0, 100, 4, "trailing", "ddim")


def test_rms_distances_are_per_sample_and_zero_at_the_reference_setting(schedule):
    ex = Explorer(TinyImageModel(schedule), schedule, n=3)
    r = ex(eta=1.0, steps=5, seed=0)
    manual = ((r["final"].clamp(-1, 1) - r["reference"].clamp(-1, 1)) ** 2).mean(dim=(1, 2, 3)).sqrt()
    assert r["rms"].shape == (3,) and torch.allclose(r["rms"], manual.double())
    assert (r["rms"] > 0).all()
    assert torch.equal(ex(eta=0.0, steps=100, seed=0)["rms"], torch.zeros(3, dtype=torch.float64))
    # more steps at eta = 0 land closer to the reference (the Gaussian oracle's flow is smooth)
    assert ex(0.0, 50, 0)["rms"].mean() < ex(0.0, 5, 0)["rms"].mean()
    a = torch.zeros(2, 1, 2, 2)
    b = torch.tensor([0.5, 3.0]).view(2, 1, 1, 1).expand(2, 1, 2, 2)  # 3.0 is shown as 1.0
    assert rms_distance(a, b).tolist() == [0.5, 1.0]
    with pytest.raises(ValueError, match="two batches of images"):
        rms_distance(a, b[:1])
    assert rms_text(torch.tensor([0.0, 0.123, 0.5])) == "0.00 0.12 0.50 (mean 0.21)"
    assert rms_text([0.1, 0.3], "zh") == "0.10 0.30（平均 0.20）"


def test_changing_eta_S_or_the_solver_does_not_recompute_the_reference(schedule):
    model = TinyImageModel(schedule)
    ex = Explorer(model, schedule, n=2)
    ex(eta=0.0, steps=20, seed=0)
    assert ex.calls == 2 and model.calls == 20 + 100  # the setting and, once, its reference
    for eta, steps, solver in ((0.5, 20, "ddim"), (0.5, 30, "ddim"), (1.0, 7, "ddim"), (0.0, 10, "dpm_solver_pp_2m")):
        before = model.calls
        ex(eta=eta, steps=steps, seed=0, solver=solver)
        assert model.calls == before + steps  # this setting's run alone
    assert ex.calls == 6
    ex(eta=0.5, steps=20, seed=1)  # a new seed: its reference once
    assert ex.calls == 8
    ex(eta=0.5, steps=20, seed=1, spacing="linspace")  # a new spacing: its reference once
    assert ex.calls == 10
    ex(eta=0.0, steps=100, seed=1, spacing="linspace")  # the reference itself: cached
    assert ex.calls == 10


def test_the_timestep_panel_shows_alpha_bar_at_the_visited_timesteps(schedule):
    ex = Explorer(TinyImageModel(schedule), schedule, n=2)
    fig = ExplorerFigure(n=2)
    limits = None
    for eta, steps, spacing in ((0.0, 5, "leading"), (1.0, 5, "leading"), (0.5, 20, "trailing"), (0.0, 3, "linspace")):
        r = ex(eta=eta, steps=steps, seed=0, spacing=spacing)
        fig.update(r)
        ts = r["timesteps"]
        assert fig.visited_line.get_xdata().tolist() == ts.tolist()
        assert np.array_equal(fig.visited_line.get_ydata(), schedule.alpha_bars[ts].float().numpy())
        assert torch.equal(r["alpha_bars"], schedule.alpha_bar(ts))
        assert np.array_equal(fig.curve_line.get_ydata(), schedule.alpha_bars.float().numpy())  # the whole curve
        if eta == 0:  # sigma_t = 0: not drawn
            assert len(fig.sigma_line.get_xdata()) == 0
        else:
            assert np.array_equal(fig.sigma_line.get_ydata(), r["sigmas"].float().numpy())
        ax = fig.axes["sigma"]
        assert fig.fig.axes[3] is ax and fig.fig.axes[4] is fig.axes["reference"]
        assert ax.get_title() == f"timesteps visited ({spacing})"
        assert limits in (None, (ax.get_xlim(), ax.get_ylim()))  # one scale for every setting
        limits = ax.get_xlim(), ax.get_ylim()
    assert [t.get_text() for t in fig.axes["sigma"].get_legend().get_texts()] == [
        "ᾱ_t, every t", "ᾱ_t at the visited t", "σ_t per step (drawn where η > 0)"]


def test_the_figure_shows_the_reference_row_and_the_distances(schedule):
    ex = Explorer(TinyImageModel(schedule), schedule, n=3)
    r = ex(eta=1.0, steps=5, seed=2)
    fig = draw_explorer(r)
    ref_ax = fig.axes[4]
    shown = ref_ax.images[0].get_array()
    assert shown.shape == (32, 3 * 30 + 2)
    assert np.allclose(shown[2:30, 2:30], r["reference"][0, 0].clamp(-1, 1).numpy())
    texts = [t.get_text() for t in ref_ax.texts]
    assert "reference: DDIM, η = 0, S = 100, trailing, the same x_T (RMS to it above)" in texts
    assert texts[1:] == [f"{float(v):.2f}" for v in r["rms"]] + ["RMS"]  # one above each reference, then the label
    plt.close(fig)
    bare = ex.compute(ex.key(0.0, 5, 2))  # a run without its reference: the row stays blank
    fig = draw_explorer(bare)
    assert (fig.axes[4].images[0].get_array() == 1).all() and "(no reference row)" in [t.get_text()
                                                                                      for t in fig.axes[4].texts]
    plt.close(fig)


def test_the_status_line_carries_n_distances(schedule, widgets):
    model = TinyImageModel(schedule)
    w = explorer(model, schedule, n=3, max_steps=100, prefetch=False)
    widgets.append(w)
    values, mean = _status_rms(w.status.value)
    assert values == [round(float(v), 2) for v in w.result["rms"]] and len(values) == 3
    assert mean == round(float(w.result["rms"].mean()), 2)
    assert "DDIM, η = 0, S = 20, trailing, seed = 0: computed in" in w.status.value  # the browser test waits for it
    assert "the reference row of this seed and spacing took" in w.status.value  # the first picture paid for it
    calls = model.calls
    w.controls["eta"].value = 0.5
    assert model.calls == calls + 20 and "took" not in w.status.value  # the reference was cached
    w.controls["eta"].value = 0.0
    w.controls["steps"].value = 100  # the setting *is* the reference: every distance is 0
    assert _status_rms(w.status.value) == ([0.0, 0.0, 0.0], 0.0)
    assert [t.get_text() for t in w.figure.rms_texts] == ["0.00"] * 3
    w.controls["seed"].value = 1
    assert "the reference row of this seed and spacing took" not in w.status.value  # it is the setting itself
    w.controls["steps"].value = 10
    assert _status_rms(w.status.value)[0] == [round(float(v), 2) for v in w.result["rms"]]
    zh = explorer(model, schedule, n=2, max_steps=30, prefetch=False, lang="zh")
    widgets.append(zh)
    assert "各样本到参考行（DDIM，η = 0，S = 100）的 RMS 距离：" in zh.status.value
    assert "（平均 " in zh.status.value


def test_the_worker_computes_the_next_seeds_reference_before_its_setting(schedule, widgets):
    key = (0.5, 20, 0, "trailing", "ddim")
    ex = Explorer(TinyImageModel(schedule), schedule, n=1)
    queue = with_references(key, likely_next(key, ("seed", 1), repeats=2), ex.reference_key)
    assert queue[0] == (0.0, 100, 0, "trailing", "ddim")  # the reference of the seed shown comes first
    assert queue[1:5] == [(0.0, 100, 1, "trailing", "ddim"), (0.5, 20, 1, "trailing", "ddim"),
                          (0.0, 100, 2, "trailing", "ddim"), (0.5, 20, 2, "trailing", "ddim")]
    assert len(queue) == len(set(queue)) and key not in queue
    # eta, S and solver guesses share the shown seed's reference: no other reference comes before them
    s_run = with_references(key, likely_next(key, ("steps", 1), repeats=2), ex.reference_key)
    assert s_run[1:4] == [(0.5, 21, 0, "trailing", "ddim"), (0.5, 22, 0, "trailing", "ddim"),
                          (0.5, 23, 0, "trailing", "ddim")]
    # the widget: after the first picture the worker computes seed 1 and its reference; stepping the seed then
    # costs the foreground no model call
    model = TinyImageModel(schedule)
    w = explorer(model, schedule, n=1, max_steps=30)
    widgets.append(w)
    assert w.prefetcher.idle(60)
    computed = w.prefetcher.computed
    assert computed.index((0.0, 100, 1, "trailing", "ddim")) < computed.index((0.0, 20, 1, "trailing", "ddim"))
    w.prefetcher.hold()  # nothing more in the background: every model call from here is the foreground's
    try:
        calls = model.calls
        w.controls["seed"].value = 1
        assert model.calls == calls and w.result["ahead"] and w.result["reference_key"][2] == 1
    finally:
        w.prefetcher.release()


def test_a_reference_further_down_the_queue_does_not_hold_up_the_likelier_settings(schedule):
    """The job in progress goes on only while it is the likeliest setting not yet computed: another seed's
    S = 100 reference, started in idle time, is dropped when a move puts the S run ahead of it."""
    from test_prefetch import GatedModel, _until
    from ddim_teach.explorer import JobState, Prefetcher
    model = GatedModel(schedule)
    ex = Explorer(model, schedule, n=1)
    pre = ex.prefetcher = Prefetcher(ex)
    try:
        ref1, s21 = (0.0, 100, 1, "trailing", "ddim"), (0.0, 21, 0, "trailing", "ddim")
        (job,) = pre.schedule([ref1])
        assert model.entered.wait(30) and pre.job is job
        kept = pre.schedule([ref1, s21])  # still the first not yet computed: it goes on
        assert job.state is JobState.RUNNING and not job.cancelled.is_set() and [j.key for j in kept] == [s21]
        pre.schedule([s21, ref1])  # the S run first: the reference is dropped, to be started again later
        assert job.cancelled.is_set()
        model.gate.set()
        assert _until(lambda: job.state is JobState.CANCELLED) and pre.idle(60)
        assert ex.cached(s21) is not None and ex.cached(ref1) is not None and pre.computed == [s21, ref1]
    finally:
        model.gate.set()
        pre.stop()
