"""Cross-check against an independent implementation: huggingface diffusers' schedulers (installed for tests only).

Known difference, documented here and tested: diffusers' ``DDIMScheduler.step`` takes the previous
timestep as ``t - T // S`` (a stride), not the next entry of its own timestep list. That is right for
``leading`` spacing, and for ``trailing`` when S divides T, but wrong for ``linspace`` (999 -> 899
instead of 999 -> 888) and for ``trailing`` when S does not divide T. ``DDPMScheduler`` uses the next
entry, as we do. We compare DDIM only where diffusers is right, and pin the difference down below.
"""
import pytest
import torch

diffusers = pytest.importorskip("diffusers", reason="diffusers is the independent reference; pip install -e '.[dev]'")
from diffusers import DDIMScheduler, DDPMScheduler  # noqa: E402

from ddim_teach import schedules  # noqa: E402
from ddim_teach.samplers import ddim_step, ddpm_step, ddpm_variance, sample  # noqa: E402

NAMES = {"linear": "linear", "scaled_linear": "scaled_linear", "cosine": "squaredcos_cap_v2", "sigmoid": "sigmoid"}


def _kw(name):
    return dict(beta_start=0.00085, beta_end=0.012) if name == "scaled_linear" else {}


@pytest.mark.parametrize("name", NAMES)
def test_betas_and_alpha_bars(name):
    ours = schedules.make_schedule(name, 1000)
    ref = DDPMScheduler(num_train_timesteps=1000, beta_schedule=NAMES[name], **_kw(name))
    # diffusers works in float32; agreement to float32 precision
    assert torch.allclose(ours.betas.float(), ref.betas, rtol=1e-5, atol=1e-7)
    assert torch.allclose(ours.alpha_bars.float(), ref.alphas_cumprod, rtol=1e-4, atol=1e-7)


def test_zero_terminal_snr_matches():
    ours = schedules.make_schedule("linear", 1000, rescale_to_zero_snr=True)
    ref = DDPMScheduler(num_train_timesteps=1000, rescale_betas_zero_snr=True)
    assert torch.allclose(ours.alpha_bars.float(), ref.alphas_cumprod, atol=1e-6)


@pytest.mark.parametrize("spacing", ["leading", "trailing", "linspace"])
@pytest.mark.parametrize("S", [1, 7, 10, 20, 50, 100, 333, 1000])
def test_timesteps(spacing, S):
    ref = DDIMScheduler(num_train_timesteps=1000, timestep_spacing=spacing)
    ref.set_timesteps(S)
    assert schedules.timesteps(1000, S, spacing).tolist() == ref.timesteps.tolist()


def test_steps_offset():
    ref = DDIMScheduler(num_train_timesteps=1000, steps_offset=1)
    ref.set_timesteps(50)
    assert schedules.timesteps(1000, 50, "leading", steps_offset=1).tolist() == ref.timesteps.tolist()


@pytest.mark.parametrize("variance", ["fixed_small", "fixed_large"])
def test_posterior_variances(variance):
    ref = DDPMScheduler(num_train_timesteps=1000, variance_type=variance)
    ref.set_timesteps(1000)
    ab = ref.alphas_cumprod.double()
    for t in (1, 2, 10, 500, 999):
        mine = ddpm_variance(ab[t], ab[t - 1], variance).item()
        # diffusers forms 1 - ab_t/ab_prev in float32: ~6e-8 / beta relative cancellation error
        assert mine == pytest.approx(ref._get_variance(t).item(), rel=2e-3)


@pytest.mark.parametrize("eta", [0.0, 0.3, 1.0])
@pytest.mark.parametrize("spacing,S", [("leading", 50), ("leading", 1000), ("trailing", 50), ("trailing", 10)])
def test_one_ddim_step(eta, spacing, S):
    ref = DDIMScheduler(num_train_timesteps=1000, timestep_spacing=spacing, clip_sample=False)
    ref.set_timesteps(S)
    ts = ref.timesteps
    g = torch.Generator().manual_seed(0)
    x, eps, z = (torch.randn(2, 1, 4, 4, generator=g) for _ in range(3))
    ab = ref.alphas_cumprod
    for i in (0, len(ts) // 2, len(ts) - 1):  # first, middle and the last step (to alpha_bar = 1)
        t = int(ts[i])
        out = ref.step(eps, t, x, eta=eta, variance_noise=z)
        t_prev = int(ts[i + 1]) if i + 1 < len(ts) else -1
        ab_prev = ab[t_prev] if t_prev >= 0 else torch.tensor(1.0)
        mine, x0 = ddim_step(x, eps, ab[t].double(), ab_prev.double(), eta=eta, noise=z)
        assert torch.allclose(x0, out.pred_original_sample, atol=1e-5)
        assert torch.allclose(mine, out.prev_sample, atol=1e-5)


def test_ddim_linspace_prev_timestep_differs():
    """diffusers' DDIM steps 999 -> 899 with linspace spacing; the list says 888. We follow the list."""
    ref = DDIMScheduler(num_train_timesteps=1000, timestep_spacing="linspace", clip_sample=False)
    ref.set_timesteps(10)
    assert ref.timesteps[:2].tolist() == [999, 888]
    x, eps = torch.randn(1, 1, 4, 4), torch.randn(1, 1, 4, 4)
    out = ref.step(eps, 999, x, eta=0.0).prev_sample
    ab = ref.alphas_cumprod.double()
    to_899, _ = ddim_step(x, eps, ab[999], ab[899])
    to_888, _ = ddim_step(x, eps, ab[999], ab[888])
    assert torch.allclose(out, to_899.float(), atol=1e-5)        # diffusers: stride
    assert not torch.allclose(out, to_888.float(), atol=1e-3)    # the list's next entry: ours


@pytest.mark.parametrize("variance", ["fixed_small", "fixed_large"])
@pytest.mark.parametrize("spacing", ["leading", "linspace"])
def test_ddpm_steps(variance, spacing):
    """A whole DDPM run, strided or not, agrees with DDPMScheduler fed the same noise."""
    schedule = schedules.make_schedule("linear", 1000)
    ref = DDPMScheduler(num_train_timesteps=1000, variance_type=variance, clip_sample=False,
                        timestep_spacing=spacing)
    ts = schedules.timesteps(1000, 20, spacing)
    ref.set_timesteps(timesteps=ts.tolist()) if spacing == "linspace" else ref.set_timesteps(20)
    assert ref.timesteps.tolist() == ts.tolist()

    def model(x, t):  # any smooth eps-predictor will do
        return 0.3 * torch.tanh(x) + 1e-3 * t.float().reshape(-1, 1, 1, 1)
    model.sample_shape = (1, 4, 4)
    x_T = torch.randn(2, 1, 4, 4, generator=torch.Generator().manual_seed(1))
    g = torch.Generator().manual_seed(7)
    x = x_T.clone()
    for t in ref.timesteps:
        x = ref.step(model(x, t.expand(2)), t, x, generator=g).prev_sample
    ours = sample(model, schedule, x_T, steps=ts, method="ddpm", variance=variance,
                  generator=torch.Generator().manual_seed(7))
    # diffusers draws noise for every step but the last; so do we (sigma > 0 there)
    assert torch.allclose(ours.final, x, atol=1e-4), (ours.final - x).abs().max()


def test_one_ddpm_step_mean():
    ref = DDPMScheduler(num_train_timesteps=1000, clip_sample=False)
    ref.set_timesteps(1000)
    ab = ref.alphas_cumprod.double()
    x, eps = torch.randn(1, 1, 4, 4, dtype=torch.float64), torch.randn(1, 1, 4, 4, dtype=torch.float64)
    out = ref.step(eps.float(), 0, x.float()).prev_sample  # t = 0: no noise, alpha_bar_prev = 1
    mine, _ = ddpm_step(x, eps, ab[0], 1.0)
    assert torch.allclose(mine.float(), out, atol=1e-5)
