"""The explorer as the lecture uses it, without a browser: slider values in, pictures' data out; and viz's
plain plots."""
import io
import threading
import time
import warnings

import matplotlib
import matplotlib.pyplot as plt
import matplotlib.text
import pytest
import torch

from ddim_teach import oracles, samplers, viz
from ddim_teach.explorer import (SOLVERS, SPACINGS, Explorer, ExplorerFigure, Prefetcher, draw_explorer,
                                 explorer, likely_next, setting_text)


class TinyImageModel:
    """A cheap stand-in with the U-Net's interface: the exact eps for Gaussian 'images'.

    ``delay`` seconds per call make a run slow enough to catch the background worker in the middle of it."""
    sample_shape = (1, 28, 28)

    def __init__(self, schedule, delay: float = 0.0):
        self.o = oracles.GaussianOracle(schedule, mu=0.0, s=0.5)
        self.calls = 0
        self.threads = set()
        self.delay = delay

    def __call__(self, x, t):
        self.calls += 1
        self.threads.add(threading.get_ident())
        if self.delay:
            time.sleep(self.delay)
        return self.o(x, t)


@pytest.fixture
def setup(schedule):
    return TinyImageModel(schedule), schedule


def _png_setting(png: bytes) -> str:
    from PIL import Image
    return Image.open(io.BytesIO(png)).text["ddim-teach-setting"]


def test_explorer_results_are_the_samplers(setup):
    """The strips hold x_t and x0_hat of sample 0 at every step, exactly as samplers.sample records them."""
    model, s = setup
    ex = Explorer(model, s, n=3)
    r = ex(eta=0.5, steps=10, seed=4, spacing="leading")
    ref = samplers.sample(model, s, ex.x_T(4), steps=10, eta=0.5, spacing="leading",
                          generator=torch.Generator().manual_seed(4 + 10_000), record_every=1, progress=False)
    assert r["key"] == (0.5, 10, 4, "leading", "ddim")
    assert torch.equal(r["final"], ref.final)
    assert torch.equal(r["xs"], ref.xs[:, 0]) and torch.equal(r["x0_hats"], ref.x0_hats[:, 0])
    assert r["timesteps"].tolist() == ref.timesteps.tolist() and torch.equal(r["sigmas"], ref.sigmas)


def test_explorer_cache_and_seeds(setup):
    model, s = setup
    ex = Explorer(model, s, n=3)
    r = ex(eta=0.0, steps=10, seed=0)
    assert r["final"].shape == (3, 1, 28, 28) and r["x0_hats"].shape == (10, 1, 28, 28)
    assert r["timesteps"].tolist()[0] == 999  # trailing (the default) starts at the noisiest step
    calls = model.calls
    again = ex(eta=0.0, steps=10, seed=0)
    assert again is r and model.calls == calls  # cached: no model evaluations
    assert ex(eta=0.30000000000000004, steps=10, seed=0) is ex(eta=0.3, steps=10, seed=0)  # a slider's float noise
    other = ex(eta=0.0, steps=10, seed=1)
    assert not torch.equal(other["final"], r["final"])
    noisy = ex(eta=1.0, steps=10, seed=0)
    assert (noisy["sigmas"][:-1] > 0).all() and (r["sigmas"] == 0).all()


def test_spacing_changes_the_timesteps_not_the_start_noise(setup):
    model, s = setup
    ex = Explorer(model, s, n=2)
    runs = {sp: ex(eta=0.0, steps=5, seed=0, spacing=sp) for sp in SPACINGS}
    assert runs["leading"]["timesteps"].tolist() == [800, 600, 400, 200, 0]  # the pitfall: x_800 called pure noise
    assert runs["trailing"]["timesteps"].tolist()[0] == 999 and runs["linspace"]["timesteps"].tolist()[0] == 999
    for r in runs.values():  # same x_T, so what differs is the timestep list alone
        assert torch.equal(r["xs"][0], ex.x_T(0)[0])
    assert not torch.equal(runs["leading"]["final"], runs["trailing"]["final"])
    assert not torch.equal(runs["linspace"]["final"], runs["trailing"]["final"])
    with pytest.raises(ValueError, match="spacing must be one of 'leading', 'trailing', 'linspace'"):
        ex(eta=0.0, steps=5, seed=0, spacing="quad")
    with pytest.raises(ValueError, match=r"eta must be a number in \[0, 1\]"):
        ex(eta=1.5, steps=5, seed=0)
    with pytest.raises(ValueError, match="spacing must be one of"):
        Explorer(model, s, spacing="uniform")


def test_draw_explorer_marks_where_the_list_starts(setup):
    model, s = setup
    ex = Explorer(model, s, n=4)
    fig = draw_explorer(ex(eta=0.5, steps=5, seed=2, spacing="leading"))
    assert len(fig.axes) == 5  # final, x_t, x0_hat, the timestep panel, the reference row
    sigma_ax = fig.axes[3]
    assert list(sigma_ax.lines[0].get_xdata()) == [800, 600, 400, 200, 0]  # the visited timesteps
    assert list(sigma_ax.lines[1].get_xdata()) == [800, 800]                 # the start marker
    assert any(t.get_text().strip() == "starts at t = 800" for t in sigma_ax.texts)
    assert "S = 5, leading, seed = 2" in fig.axes[0].get_title()
    plt.close(fig)


def test_figure_is_built_once_and_shows_only_the_given_result(setup):
    """The widget's figure is reused (set_data), so one setting's picture must not keep anything of another's."""
    model, s = setup
    ex = Explorer(model, s, n=2)
    a, b = ex(eta=0.0, steps=20, seed=0), ex(eta=1.0, steps=3, seed=5, spacing="linspace")
    fresh = ExplorerFigure(n=2).png(b)
    reused = ExplorerFigure(n=2)
    reused.png(a)
    assert reused.png(b) == fresh
    assert ExplorerFigure(n=2, blit=False).png(b) == fresh  # blitting gives a full draw's pixels
    assert _png_setting(fresh) == "DDIM, η = 1, S = 3, linspace, seed = 5"
    strip = reused.ims["xs"].get_array()
    assert (strip[:, 3 * 30:] == 1).all()  # S = 3: three images in the strip, the other slots blank
    assert not plt.get_fignums()  # a bare Agg figure: pyplot never sees it


def test_widget_controls_drive_the_explorer(setup, widgets):
    model, s = setup
    w = explorer(model, s, n=2, max_steps=30, prefetch=False)
    widgets.append(w)
    eta, steps, selectors, seed, image, status = w.children
    spacing, solver = selectors.children      # the solver selector beside the spacing selector
    assert w.controls == {"eta": eta, "steps": steps, "spacing": spacing, "solver": solver, "seed": seed}
    assert w.image is image and w.status is status
    assert w.result["key"] == (0.0, 20, 0, "trailing", "ddim")  # computed once when built
    assert image.value[:8] == b"\x89PNG\r\n\x1a\n"
    assert "DDIM, η = 0, S = 20, trailing, seed = 0: computed in" in status.value
    first = image.value
    eta.value = 0.7                           # moving a slider recomputes, as in the browser
    assert w.result["key"] == (0.7, 20, 0, "trailing", "ddim") and image.value != first
    steps.value = 5
    seed.value = 3
    spacing.value = "leading"
    assert w.result["key"] == (0.7, 5, 3, "leading", "ddim")
    assert w.result["timesteps"].tolist() == [800, 600, 400, 200, 0]
    assert "DDIM, η = 0.7, S = 5, leading, seed = 3: computed in" in status.value  # the browser test waits for it
    assert _png_setting(image.value) == "DDIM, η = 0.7, S = 5, leading, seed = 3"
    assert image.value == ExplorerFigure(n=2).png(w.explorer(0.7, 5, 3, "leading"))
    assert list(spacing.options) == ["leading", "trailing", "linspace"]
    assert steps.max == 30 and "widget-interact" in w._dom_classes
    calls = model.calls
    spacing.value = "trailing"                # a setting already shown: no model call
    assert model.calls == calls and w.result["key"] == (0.7, 5, 3, "trailing", "ddim")


def test_solver_selector_flips_between_ddim_and_dpm_solver(setup, widgets):
    """The solver selector beside the spacing selector: flipping it recomputes with the other sampler (the
    same x_T), the picture changes, the η slider is disabled under DPM-Solver++(2M) (which has no η) and the
    setting says so; flipping back shows DDIM at the η slider's value again, from the cache."""
    model, s = setup
    w = explorer(model, s, n=2, max_steps=30, prefetch=False)
    widgets.append(w)
    eta, steps, solver, image, status = (w.controls["eta"], w.controls["steps"], w.controls["solver"], w.image,
                                         w.status)
    assert w.children[2].children == (w.controls["spacing"], solver)  # beside the spacing selector
    assert list(solver.options) == [("DDIM", "ddim"), ("DPM-Solver++(2M)", "dpm_solver_pp_2m")]
    assert [v for _, v in solver.options] == list(SOLVERS) and solver.value == "ddim" and not eta.disabled
    assert solver.description == "solver" and "deterministic, no η" in solver.tooltips[1]
    steps.value, eta.value = 10, 0.5
    ddim_png, ddim = image.value, w.result
    calls = model.calls
    solver.value = "dpm_solver_pp_2m"
    dpm = w.result
    assert model.calls == calls + 10  # one model call per step, like DDIM
    assert dpm["key"] == (0.0, 10, 0, "trailing", "dpm_solver_pp_2m")  # eta 0: the solver has none
    assert eta.disabled and eta.value == 0.5 and eta.tooltip == "DPM-Solver++(2M) has no η: it adds no noise"
    assert "DPM-Solver++(2M), no η, S = 10, trailing, seed = 0: computed in" in status.value
    assert _png_setting(image.value) == "DPM-Solver++(2M), no η, S = 10, trailing, seed = 0"
    assert w.figure.fig.axes[0].get_title() == "final samples   DPM-Solver++(2M), no η, S = 10, trailing, seed = 0"
    ref = samplers.sample(model, s, w.explorer.x_T(0), steps=10, spacing="trailing", method="dpm_solver_pp_2m",
                          record_every=1, progress=False)
    assert torch.equal(dpm["final"], ref.final) and torch.equal(dpm["x0_hats"], ref.x0_hats[:, 0])
    assert (dpm["sigmas"] == 0).all() and dpm["timesteps"].tolist() == ddim["timesteps"].tolist()
    assert image.value != ddim_png and not torch.equal(dpm["final"], ddim["final"])
    assert not torch.equal(dpm["final"], w.explorer(0.0, 10, 0)["final"])  # not DDIM at eta 0 either
    eta.value = 0.8  # the disabled slider moved anyway (a cell may set it): still the same setting
    assert w.result is dpm
    calls = model.calls
    solver.value = "ddim"
    assert not eta.disabled and eta.tooltip is None
    assert w.result["key"] == (0.8, 10, 0, "trailing", "ddim") and model.calls == calls + 10
    eta.value = 0.5
    assert w.result is ddim and image.value == ddim_png  # shown before: from the cache
    start = explorer(model, s, n=2, max_steps=30, prefetch=False, solver="dpm_solver_pp_2m")
    widgets.append(start)
    assert start.controls["eta"].disabled and start.result["key"][4] == "dpm_solver_pp_2m"
    with pytest.raises(ValueError, match="solver must be one of 'ddim', 'dpm_solver_pp_2m'"):
        explorer(model, s, n=2, prefetch=False, solver="heun")


def test_explorer_key_with_the_solver(setup):
    """The key is (eta, steps, seed, spacing, solver), checked as before; solver defaults to DDIM, so callers
    that name four arguments get what they got; under DPM-Solver++(2M) eta is checked, then kept as 0."""
    model, s = setup
    ex = Explorer(model, s, n=1)
    assert ex.key(0.5, 10, 3, "leading") == (0.5, 10, 3, "leading", "ddim") == ex.key(0.5, 10, 3, "leading", "ddim")
    assert ex.key(0.30000000000000004, 10, 0) == (0.3, 10, 0, "trailing", "ddim")
    assert ex.key(0.7, 10, 0, solver="dpm_solver_pp_2m") == (0.0, 10, 0, "trailing", "dpm_solver_pp_2m")
    assert ex(0.7, 10, 0, solver="dpm_solver_pp_2m") is ex(0.0, 10, 0, solver="dpm_solver_pp_2m")
    with pytest.raises(ValueError, match="solver must be one of 'ddim', 'dpm_solver_pp_2m'"):
        ex.key(0.0, 10, 0, solver="heun")
    for bad in (1.5, 0.123456):  # the eta checks hold under either solver
        for solver in SOLVERS:
            with pytest.raises(ValueError, match="eta"):
                ex.key(bad, 10, 0, solver=solver)
    with pytest.raises(ValueError, match="steps"):
        ex.key(0.0, 2.5, 0, solver="dpm_solver_pp_2m")
    assert setting_text((0.5, 10, 3, "leading", "ddim")) == "DDIM, η = 0.5, S = 10, leading, seed = 3"
    assert setting_text((0.0, 10, 3, "leading", "dpm_solver_pp_2m"), "zh") == \
        "DPM-Solver++(2M)，无 η，S = 10，leading，种子 = 3"


def test_second_order_buys_accuracy_at_ten_steps(schedule):
    """What the room should see at S = 10: on the Gaussian oracle, whose flow is known exactly (x_0 = x_T
    scaled by s / std of x_T), DPM-Solver++(2M) lands closer to it than DDIM with the same 10 model calls."""
    ex = Explorer(TinyImageModel(schedule), schedule, n=2)  # the exact eps of N(0, 0.5²) "images"
    ab_T = float(schedule.alpha_bars[-1])
    exact = ex.x_T(0) * 0.5 / (0.25 * ab_T + 1 - ab_T) ** 0.5
    err = {solver: (ex(0.0, 10, 0, "trailing", solver)["final"] - exact).abs().max().item() for solver in SOLVERS}
    assert err["dpm_solver_pp_2m"] < 0.8 * err["ddim"], err
    err = {solver: (ex(0.0, 100, 0, "trailing", solver)["final"] - exact).abs().max().item() for solver in SOLVERS}
    assert err["dpm_solver_pp_2m"] < err["ddim"] / 10, err  # and far more with more steps


def test_prefetched_pictures_are_exactly_the_current_settings(schedule, widgets):
    """With prefetching on, every move shows the picture of exactly its setting, bit for bit the one a
    foreground-only explorer shows, whether the setting was computed ahead, waited for or computed now."""
    model = TinyImageModel(schedule)
    w = explorer(model, schedule, n=2, max_steps=30)
    plain = explorer(TinyImageModel(schedule), schedule, n=2, max_steps=30, prefetch=False)
    widgets += [w, plain]
    assert w.prefetcher.idle(60)
    assert (0.0, 21, 0, "trailing", "ddim") in w.prefetcher.computed  # S + 1 was computed ahead
    main = threading.get_ident()
    assert len(model.threads - {main}) == 1  # ... in the worker thread
    moves = [("steps", 21), ("steps", 22), ("steps", 23), ("eta", 0.1), ("eta", 1.0), ("seed", 1), ("seed", 2),
             ("spacing", "leading"), ("steps", 5), ("seed", 0), ("solver", "dpm_solver_pp_2m"), ("steps", 10),
             ("solver", "ddim"), ("solver", "dpm_solver_pp_2m"), ("eta", 0.5), ("solver", "ddim")]
    kinds = []
    for i, (role, value) in enumerate(moves):
        w.controls[role].value = value
        plain.controls[role].value = value
        assert w.result["key"] == plain.result["key"]
        assert w.image.value == plain.image.value, f"picture differs after move {i}"
        assert torch.equal(w.result["final"], plain.result["final"])
        kinds.append(w.result["ahead"])
        if i % 2:  # every other move right away: the worker may be mid-run (waited for, or paused and dropped)
            assert w.prefetcher.idle(60)
    assert any(kinds) and w.prefetcher.errors == []


def test_a_move_outranks_the_background_work(schedule, widgets):
    model = TinyImageModel(schedule, delay=0.01)
    ex = Explorer(model, schedule, n=1)
    pre = Prefetcher(ex, paused=True)
    widgets.append(type("W", (), {"stop": pre.stop})())
    pre.schedule([(0.0, 50, 0, "trailing", "ddim")])
    time.sleep(0.2)
    assert model.calls == 0  # held: nothing runs
    pre.release()
    while model.calls == 0:
        time.sleep(0.005)
    with pre.foreground():  # a move is answered: the worker stops at its next step and waits
        time.sleep(0.05)
        c = model.calls
        time.sleep(0.2)
        assert model.calls == c
    pre.schedule([(0.0, 10, 1, "trailing", "ddim")])  # the setting in progress is no longer likely: dropped
    assert pre.idle(60)
    assert ex.cached((0.0, 50, 0, "trailing", "ddim")) is None and ex.cached((0.0, 10, 1, "trailing", "ddim"))["ahead"]


def test_prefetch_pauses_while_a_cell_runs(setup, widgets):
    from IPython.core.events import EventManager, available_events
    model, s = setup
    pre = Prefetcher(Explorer(model, s, n=1))
    widgets.append(type("W", (), {"stop": pre.stop})())
    events = EventManager(None, available_events)
    pre.follow_cells(type("IP", (), {"events": events})())
    events.trigger("pre_run_cell", None)
    pre.schedule([(0.0, 5, 0, "trailing", "ddim")])
    time.sleep(0.2)
    assert model.calls == 0
    events.trigger("post_run_cell", None)
    assert pre.idle(60) and model.calls == 5
    pre.stop()
    assert not events.callbacks["pre_run_cell"] and not events.callbacks["post_run_cell"]


def test_likely_next():
    key = (0.0, 20, 0, "trailing", "ddim")
    nxt = likely_next(key, ("steps", 1))
    assert nxt[0] == (0.0, 21, 0, "trailing", "ddim") and key not in nxt and len(nxt) == len(set(nxt))
    assert likely_next(key, ("steps", -1))[0] == (0.0, 19, 0, "trailing", "ddim")
    assert likely_next((1.0, 100, 2, "trailing", "ddim"), ("seed", 1))[0] == (1.0, 100, 3, "trailing", "ddim")
    assert likely_next((1.0, 100, 0, "trailing", "ddim"), ("eta", 1))[0] == (0.0, 100, 0, "trailing", "ddim")
    edge = likely_next((1.0, 100, 20, "leading", "ddim"), None, max_steps=100, max_seed=20)
    assert all(0 <= e <= 1 and 2 <= S <= 100 and 0 <= sd <= 20 for e, S, sd, _, _ in edge)
    assert {(1.0, 100, 20, "trailing", "ddim"), (1.0, 100, 20, "linspace", "ddim")} <= set(edge)
    # A gesture made twice in a row: the whole run ahead comes first, to the slider's end, then the neighbours.
    run = likely_next(key, ("steps", 1), max_steps=30, repeats=2)
    assert run[:10] == [(0.0, S, 0, "trailing", "ddim") for S in range(21, 31)]
    assert run[10] == (0.0, 19, 0, "trailing", "ddim")
    assert len(run) == len(set(run)) and (0.0, 20, 1, "trailing", "ddim") in run
    down = likely_next(key, ("steps", -1), repeats=3)
    assert down[:18] == [(0.0, S, 0, "trailing", "ddim") for S in range(19, 1, -1)]
    seeds = likely_next((1.0, 100, 2, "trailing", "ddim"), ("seed", 1), repeats=2)
    assert seeds[:3] == [(1.0, 100, sd, "trailing", "ddim") for sd in (3, 4, 5)]
    assert likely_next(key, ("steps", 1), repeats=1)[1] == (0.0, 19, 0, "trailing", "ddim")  # once: no run yet
    # Without a solver flip the other solver is not guessed: the neighbours stay those of the solver shown.
    assert {c[4] for c in nxt} == {"ddim"}


def test_likely_next_after_a_solver_flip():
    """After flipping the solver, flipping back (the other solver at the same S) comes first, then the
    neighbours as before. Under DPM-Solver++(2M) eta stays 0: its slider is disabled, so no eta moves."""
    dpm = (0.0, 10, 0, "trailing", "dpm_solver_pp_2m")
    nxt = likely_next(dpm, ("solver", 0), ddim_eta=0.5)
    assert nxt[0] == (0.5, 10, 0, "trailing", "ddim")  # back to DDIM at the η slider's value
    assert nxt[1:4] == [(0.0, S, sd, "trailing", "dpm_solver_pp_2m") for S, sd in ((11, 0), (9, 0), (10, 1))]
    assert all(c[0] == 0.0 for c in nxt if c[4] == "dpm_solver_pp_2m") and len(nxt) == len(set(nxt))
    assert likely_next(dpm, ("solver", 0))[0] == (0.0, 10, 0, "trailing", "ddim")  # default: the key's eta
    ddim = (0.3, 10, 0, "trailing", "ddim")
    back = likely_next(ddim, ("solver", 0))
    assert back[0] == dpm and back[1] == (0.3, 11, 0, "trailing", "ddim")
    assert [c for c in back if c[4] == "dpm_solver_pp_2m"] == [dpm]  # the flip only: the rest unchanged
    # The rest of the gestures under DPM-Solver++(2M) are those of DDIM, with eta 0.
    assert likely_next(dpm, ("steps", 1), repeats=2)[:3] == [(0.0, S, 0, "trailing", "dpm_solver_pp_2m")
                                                              for S in (11, 12, 13)]
    assert likely_next(dpm, ("eta", 1)) == likely_next(dpm, None)  # a disabled slider: nothing to guess


def test_explorer_has_no_output_widget(setup, widgets):
    """An Output widget makes Voilà hang now and then (see ddim_teach.explorer.explorer); the lecture app must not use one."""
    import ipywidgets as W
    model, s = setup
    w = explorer(model, s, n=2, max_steps=10)
    widgets.append(w)

    def walk(widget):
        yield widget
        for child in getattr(widget, "children", ()):
            yield from walk(child)
    assert not [x for x in walk(w) if isinstance(x, W.Output)]


def test_viz_keeps_the_names_the_notebooks_call():
    """Notebooks call viz.explorer, viz.Explorer and viz.draw_explorer: the explorer package's own objects."""
    import ddim_teach.explorer as package
    assert (viz.explorer, viz.Explorer, viz.draw_explorer) == (package.explorer, package.Explorer,
                                                               package.draw_explorer)


def test_show_images_grid():
    ax = viz.show_images(torch.zeros(5, 1, 28, 28), nrow=3)
    assert ax.images[0].get_array().shape == (2 * 30 + 2, 3 * 30 + 2)
    plt.close("all")


# ------------------------------------------------------------------------------------------------ language

def _texts(fig) -> list[str]:
    """Every text the figure draws: titles, axis labels, tick labels and free texts."""
    fig.canvas.draw()
    return [t.get_text() for t in fig.findobj(matplotlib.text.Text) if t.get_text() and t.get_visible()]


def _glyph_warnings(draw) -> list[str]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        draw()
    return [str(w.message) for w in caught if "missing from font" in str(w.message)]


@pytest.fixture
def chinese_font():
    """rcParams as before after the test (use_chinese_font changes font.family); the test's language is English."""
    from ddim_teach import i18n
    if i18n.find_chinese_font() is None:
        pytest.skip("no Chinese font (pip install noto-cjk-sans-otc)")
    with matplotlib.rc_context(), i18n.using("en"):
        yield


def test_explorer_in_chinese(setup, widgets, chinese_font):
    """lang="zh": the controls, tooltips, figure and status line are Chinese and every glyph exists;
    the PNG's setting chunk (which the browser test reads) stays English."""
    from ddim_teach import i18n
    model, s = setup
    w = explorer(model, s, n=2, max_steps=30, prefetch=False, lang="zh")
    widgets.append(w)
    eta, steps, spacing, solver, seed = (w.controls[c] for c in ("eta", "steps", "spacing", "solver", "seed"))
    image, status = w.image, w.status
    assert [c.description for c in (eta, steps, spacing, solver, seed)] == ["η", "步数", "间隔", "求解器", "种子"]
    assert spacing.tooltips[1] == "从 T-1 = 999 开始往下数" and list(spacing.options) == list(SPACINGS)
    assert list(solver.options) == [("DDIM", "ddim"), ("DPM-Solver++(2M)", "dpm_solver_pp_2m")]
    assert solver.tooltips[1] == "二阶：每步调用一次模型，并复用上一步的 x̂₀；确定性的，没有 η"
    assert "DDIM，η = 0，S = 20，trailing，种子 = 0：计算用时" in status.value
    assert _png_setting(image.value) == "DDIM, η = 0, S = 20, trailing, seed = 0"
    spacing.value, steps.value = "leading", 5
    assert "DDIM，η = 0，S = 5，leading，种子 = 0：计算用时" in status.value
    fig = w.figure.fig
    assert fig.axes[0].get_title() == "最终样本   DDIM，η = 0，S = 5，leading，种子 = 0"
    assert fig.axes[3].get_title() == "访问的时间步（leading）"
    assert w.figure.start_text.get_text() == " 从 t = 800 开始"
    texts = "".join(_texts(fig))
    assert i18n.missing_glyphs(texts) == []
    solver.value = "dpm_solver_pp_2m"
    assert "DPM-Solver++(2M)，无 η，S = 5，leading，种子 = 0：计算用时" in status.value
    assert eta.disabled and eta.tooltip == "DPM-Solver++(2M) 没有 η：它不加噪声"
    assert fig.axes[0].get_title() == "最终样本   DPM-Solver++(2M)，无 η，S = 5，leading，种子 = 0"
    assert _png_setting(image.value) == "DPM-Solver++(2M), no η, S = 5, leading, seed = 0"  # the chunk: English
    assert i18n.missing_glyphs("".join(_texts(fig)) + eta.tooltip + "".join(solver.tooltips)) == []
    assert _glyph_warnings(lambda: ExplorerFigure(n=2, lang="zh").png(w.result)) == []


def test_chinese_figure_without_the_font_would_show_boxes(setup, chinese_font, monkeypatch):
    """The check above can fail: with DejaVu Sans alone the same Chinese figure warns of missing glyphs."""
    from ddim_teach import i18n
    model, s = setup
    monkeypatch.setattr(i18n, "use_chinese_font", lambda warn=True: None)
    matplotlib.rcParams["font.family"] = ["DejaVu Sans"]
    result = Explorer(model, s, n=2)(eta=0.0, steps=5, seed=0, spacing="leading")
    missing = _glyph_warnings(lambda: ExplorerFigure(n=2, lang="zh", blit=False).png(result))
    assert missing and any("27493" in m for m in missing)  # 27493 = U+6B65, 步 of the timestep panel's title


def test_explorer_in_english_is_unchanged(setup, widgets, chinese_font):
    """lang="en" (and the default, English) keeps the English texts and pixels, even after a Chinese figure."""
    from ddim_teach import i18n
    model, s = setup
    w = explorer(model, s, n=2, max_steps=30, prefetch=False, lang="en")
    widgets.append(w)
    eta, steps, spacing, solver, seed = (w.controls[c] for c in ("eta", "steps", "spacing", "solver", "seed"))
    image, status = w.image, w.status
    assert [c.description for c in (eta, steps, spacing, solver, seed)] == ["η", "steps", "spacing", "solver", "seed"]
    assert [label for label, _ in solver.options] == ["DDIM", "DPM-Solver++(2M)"]
    assert list(spacing.tooltips) == ["DDIM's uniform: 0, T/S, 2T/S, ... (never visits T-1)",
                                      "counts down from T-1 = 999", "999 down to 0, evenly"]
    assert "DDIM, η = 0, S = 20, trailing, seed = 0: computed in" in status.value
    assert "(settings already shown are instant)" in status.value
    fig = w.figure.fig
    assert fig.axes[0].get_title() == "final samples   DDIM, η = 0, S = 20, trailing, seed = 0"
    assert fig.axes[3].get_title() == "timesteps visited (trailing)"
    assert w.figure.start_text.get_text() == " starts at t = 999"
    assert image.value == ExplorerFigure(n=2).png(w.result)  # default lang: the current one, English
    with i18n.using("zh"):
        assert ExplorerFigure(n=2).lang == "zh"
        assert ExplorerFigure(n=2, lang="en").png(w.result) == image.value
    with pytest.raises(ValueError, match="unknown language 'fr'"):
        ExplorerFigure(n=2, lang="fr")


def test_show_strip_labels_in_both_languages(setup, chinese_font):
    from ddim_teach import i18n
    model, s = setup
    traj = samplers.sample(model, s, torch.zeros(1, 1, 28, 28), steps=6, eta=0.0, record_every=1, progress=False)
    for lang in ("en", "zh"):
        fig = viz.show_strip(traj, k=4, rows=("xs", "x0_hats", "eps_hats"), lang=lang)
        assert [ax.get_ylabel() for ax in fig.axes] == ["x_t", "x̂₀", "ε̂"]
        plt.close(fig)
    ax = viz.show_images(torch.zeros(2, 1, 28, 28), title="最终样本", lang="zh")
    assert _glyph_warnings(ax.figure.canvas.draw) == [] and i18n.missing_glyphs("最终样本") == []
    plt.close("all")
