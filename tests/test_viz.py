"""The explorer as the lecture uses it, without a browser: slider values in, pictures' data out."""
import matplotlib.pyplot as plt
import pytest
import torch

from ddim_teach import oracles, schedules, viz


class TinyImageModel:
    """A cheap stand-in with the U-Net's interface: the exact eps for Gaussian 'images'."""
    sample_shape = (1, 28, 28)

    def __init__(self, schedule):
        self.o = oracles.GaussianOracle(schedule, mu=0.0, s=0.5)
        self.calls = 0

    def __call__(self, x, t):
        self.calls += 1
        return self.o(x, t)


@pytest.fixture
def setup(schedule):
    return TinyImageModel(schedule), schedule


def test_explorer_results_and_cache(setup):
    model, s = setup
    ex = viz.Explorer(model, s, n=3)
    r = ex(eta=0.0, steps=10, seed=0)
    assert r["final"].shape == (3, 1, 28, 28) and r["x0_hats"].shape == (10, 1, 28, 28)
    assert r["timesteps"].tolist()[0] == 999  # trailing spacing starts at the noisiest step
    calls = model.calls
    again = ex(eta=0.0, steps=10, seed=0)
    assert again is r and model.calls == calls  # cached: no model evaluations
    other = ex(eta=0.0, steps=10, seed=1)
    assert not torch.equal(other["final"], r["final"])
    noisy = ex(eta=1.0, steps=10, seed=0)
    assert (noisy["sigmas"][:-1] > 0).all() and (r["sigmas"] == 0).all()


def test_draw_explorer_makes_a_figure(setup):
    model, s = setup
    fig = viz.draw_explorer(viz.Explorer(model, s, n=4)(eta=0.5, steps=12, seed=2))
    assert len(fig.axes) == 4
    plt.close(fig)


def test_widget_sliders_drive_the_explorer(setup):
    model, s = setup
    w = viz.explorer(model, s, n=2, max_steps=30)
    eta, steps, seed, image, status = w.children
    assert w.result["key"] == (0.0, 20, 0)  # computed once when built
    assert image.value[:8] == b"\x89PNG\r\n\x1a\n" and "η = 0, S = 20, seed = 0: computed in" in status.value
    first = image.value
    eta.value = 0.7                           # moving a slider recomputes, as in the browser
    assert w.result["key"] == (0.7, 20, 0) and image.value != first
    steps.value = 5
    seed.value = 3
    assert w.result["key"] == (0.7, 5, 3) and len(w.result["timesteps"]) == 5
    assert "η = 0.7, S = 5, seed = 3: computed in" in status.value  # the browser test waits for this line
    assert steps.max == 30 and "widget-interact" in w._dom_classes
    assert not plt.get_fignums()  # every drawn figure was closed


def test_explorer_has_no_output_widget(setup):
    """An Output widget makes Voilà hang now and then (see viz.explorer); the lecture app must not use one."""
    import ipywidgets as W
    model, s = setup
    w = viz.explorer(model, s, n=2, max_steps=10)

    def walk(widget):
        yield widget
        for child in getattr(widget, "children", ()):
            yield from walk(child)
    assert not [x for x in walk(w) if isinstance(x, W.Output)]


def test_show_images_grid():
    ax = viz.show_images(torch.zeros(5, 1, 28, 28), nrow=3)
    assert ax.images[0].get_array().shape == (2 * 30 + 2, 3 * 30 + 2)
    plt.close("all")
