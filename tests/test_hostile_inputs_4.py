"""The unclear inputs left by the third probe: each once escaped as a torch, numpy or attribute error (or was refused
with a message that contradicted itself); now accepted where it means what it says, or refused in one line."""
import sys

import matplotlib
import numpy as np
import pytest
import torch

from ddim_teach import exercises, i18n, samplers, schedules, viz
from ddim_teach.explorer import Explorer, draw_explorer

matplotlib.use("Agg")


# --- numpy integers are integers ---------------------------------------------------------------------------
def test_make_schedule_takes_a_numpy_integer_T():
    # was: "T must be a positive integer, got np.int64(50)"
    assert torch.equal(schedules.make_schedule("linear", np.int64(50)).betas, schedules.make_schedule("linear", 50).betas)


def test_timesteps_take_numpy_integers():
    want = schedules.timesteps(1000, 50)
    assert torch.equal(schedules.timesteps(np.int64(1000), np.int32(50)), want)
    assert torch.equal(schedules.timesteps(1000, 10, "leading", steps_offset=np.int64(1)),
                       schedules.timesteps(1000, 10, "leading", steps_offset=1))


@pytest.mark.parametrize("T", [0, -3, 2.0, "1000", True])
def test_a_T_that_is_no_positive_integer_is_still_refused(T):
    with pytest.raises(ValueError, match=r"T must be an integer >= 1, got"):
        schedules.make_schedule("linear", T)


# --- the explorer's eta from a float32 slider ---------------------------------------------------------------
class _Zero(torch.nn.Module):
    sample_shape = (1, 4, 4)

    def forward(self, x, t):
        return torch.zeros_like(x)


def test_explorer_key_takes_a_float32_eta():
    ex = Explorer(_Zero(), schedules.make_schedule("linear", 100), n=1)
    # float32 0.35 is 0.3499999940...: it was refused as "more than 4 decimals" with "round it (e.g. 0.35)"
    assert ex.key(np.float32(0.35), 10, 0)[0] == 0.35
    with pytest.raises(ValueError, match="eta is kept to 4 decimals"):
        ex.key(0.35001, 10, 0)


# --- slerp's weight -------------------------------------------------------------------------------------------
@pytest.mark.parametrize("alpha", ["half", None, [0.1, "a"], True])
def test_slerp_weight_that_is_no_number(alpha):
    z0, z1 = torch.randn(2, 3, generator=torch.Generator().manual_seed(0)), torch.randn(2, 3)
    with pytest.raises(ValueError, match=r"alpha must be a number \(0 gives z0, 1 gives z1\)"):
        samplers.slerp(z0, z1, alpha)


def test_slerp_still_takes_numbers_and_weight_lists():
    g = torch.Generator().manual_seed(0)
    z0, z1 = torch.randn(2, 3, generator=g), torch.randn(2, 3, generator=g)
    assert torch.allclose(samplers.slerp(z0, z1, 0.0), z0.double().to(z0.dtype), atol=1e-6)
    assert samplers.slerp(z0, z1, [0.0, 0.5, 1.0]).shape == (3, 2, 3)
    assert torch.allclose(samplers.slerp(z0, z1, np.float64(0.5)), samplers.slerp(z0, z1, 0.5))


# --- the figures ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("result", [None, {}, {"final": torch.zeros(1, 1, 4, 4)}, "result"])
def test_draw_explorer_needs_a_result(result):
    with pytest.raises(TypeError, match=r"draw_explorer needs one result of the explorer's cache"):
        draw_explorer(result)


def test_show_images_takes_a_numpy_array():
    import matplotlib.pyplot as plt
    a = np.linspace(-1, 1, 2 * 16, dtype=np.float32).reshape(2, 1, 4, 4)
    ax = viz.show_images(a)
    shown = ax.images[0].get_array()
    assert shown.shape == (4 + 4, 2 * (4 + 2) + 2) and float(shown[2, 2]) == -1.0
    plt.close("all")


@pytest.mark.parametrize("images, what", [(torch.zeros(1, 28, 28), r"shape \(1, 28, 28\)"),
                                          (torch.zeros(0, 1, 28, 28), r"shape \(0, 1, 28, 28\)"),
                                          ([1, 2], "list")])
def test_show_images_refuses_what_is_no_batch(images, what):
    with pytest.raises(ValueError, match=r"needs a batch of images of shape \(N, C, H, W\).*got " + what):
        viz.show_images(images)


# --- the checker: an output it cannot compare, an answer that ends the program --------------------------------
def _ddim_meta(x_t, eps_hat, alpha_bar_t, alpha_bar_prev, eta=0.0, noise=None):
    return torch.empty(x_t.shape, dtype=x_t.dtype, device="meta")


def _ddim_sparse(x_t, eps_hat, alpha_bar_t, alpha_bar_prev, eta=0.0, noise=None):
    return torch.zeros_like(x_t).to_sparse()


@pytest.mark.parametrize("answer, kind", [(_ddim_meta, "a meta tensor"), (_ddim_sparse, "a sparse_coo tensor")])
def test_checker_names_a_meta_or_sparse_output(answer, kind):
    v = exercises.check("ddim_step", answer)   # was: a NotImplementedError from torch's dispatcher
    assert not v.ok and f"returned {kind}" in v.message and "dense CPU tensor" in v.message


def test_sys_exit_has_its_own_verdict_in_both_languages():
    def q_exit(x0, alpha_bar_t, noise):
        sys.exit(2)

    v = exercises.check("q_sample", q_exit)
    assert "called sys.exit(2)" in v.message and "return the result" in v.message and "raised" not in v.message
    with i18n.using("zh"):
        v = exercises.check("q_sample", q_exit)
    assert "调用了 sys.exit(2)" in v.message and "请返回结果" in v.message


# --- the U-Net's timesteps, the explorer's schedule --------------------------------------------------------------
def test_the_shipped_unet_refuses_timesteps_outside_its_schedule():
    from ddim_teach.pretrained import load_pretrained
    model, s = load_pretrained()
    x = torch.zeros(2, 1, 28, 28)
    with pytest.raises(ValueError, match=r"t must hold timesteps in 0\.\.999 \(this model was trained with T = 1000\), "
                                         r"got \[-7, 5000\]"):
        model(x, torch.tensor([5000, -7]))
    with torch.no_grad():
        assert model(x, torch.tensor([0, 999])).shape == x.shape


def test_a_bare_unet_refuses_negative_timesteps_only():
    from ddim_teach.unet import UNet, UNetConfig
    tiny = UNet(UNetConfig(base_channels=8, ch_mult=(1, 2), attn_resolutions=(14,), groups=4)).eval()
    x = torch.zeros(1, 1, 28, 28)
    with pytest.raises(ValueError, match=r"t must hold timesteps >= 0, got \[-1\]"):
        tiny(x, torch.tensor([-1]))
    with torch.no_grad():
        tiny(x, torch.tensor([5000]))       # it does not know its T: the Denoiser and the samplers check t


def test_explorer_names_a_schedule_that_is_no_schedule():
    with pytest.raises(TypeError, match="schedule must be a ddim_teach Schedule"):
        Explorer(_Zero(), "linear")


def test_a_ui_string_without_its_fields_names_them():
    with pytest.raises(KeyError, match=r"UI string 'check.ok' needs the fields labels, n, name; 'n' is missing"):
        i18n.tr("check.ok", name="x")
