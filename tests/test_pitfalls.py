"""Each clinic bug is a real, visible bug: it differs from the correct update in the way its name says; every broken
step of the catalogue runs in the sampler, and identify_step (exercise 8.3's reference) names each of them."""
import pytest
import torch

from ddim_teach import mistakes, oracles, pitfalls, samplers, schedules
from ddim_teach.exercises.ch08 import identify_step


@pytest.fixture
def step_args(schedule):
    g = torch.Generator().manual_seed(0)
    x, eps, z = (torch.randn(4, 6, generator=g, dtype=torch.float64) for _ in range(3))
    return x, eps, z, schedule.alpha_bar(500), schedule.alpha_bar(450)


def test_alpha_for_alpha_bar_uses_the_one_step_alpha(step_args):
    x, eps, _, ab, abp = step_args
    _, x0_bug = pitfalls.alpha_for_alpha_bar(x, eps, ab, abp)
    torch.testing.assert_close(x0_bug, samplers.predict_x0(x, eps, ab / abp))
    assert (x0_bug - samplers.predict_x0(x, eps, ab)).abs().max() > 0.5


def test_variance_for_std_adds_sigma_squared(step_args):
    x, eps, z, ab, abp = step_args
    right, _ = samplers.ddim_step(x, eps, ab, abp, 1.0, z)
    wrong, _ = pitfalls.variance_for_std(x, eps, ab, abp, 1.0, z)
    sigma = samplers.ddim_sigma(ab, abp, 1.0)
    torch.testing.assert_close(right - wrong, (sigma - sigma ** 2) * z)


def test_wrapped_final_alpha_bar_and_returns_x0(schedule):
    orc = oracles.GaussianOracle(schedule, mu=1.0, s=0.5, sample_shape=(1,))
    x_T = torch.randn(2000, 1, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    good = samplers.sample(orc, schedule, x_T, steps=50, spacing="trailing", record_every=None).final
    bug = samplers.sample(orc, schedule, x_T, steps=50, spacing="trailing", record_every=None,
                          step_fn=pitfalls.wrapped_final_alpha_bar(schedule.alpha_bars[-1])).final
    assert abs(good.std().item() - 0.5) < 0.1            # the right answer, N(1, 0.25), up to Euler error
    assert abs(good.mean().item() - 1) < 0.05
    assert abs(bug.mean().item()) < 0.05    # x_prev = sqrt(~0) x0_hat + sqrt(~1) eps_hat: only the noise estimate is left
    x0_only = samplers.sample(orc, schedule, x_T, steps=20, spacing="trailing", record_every=None,
                              step_fn=pitfalls.returns_x0_hat).final
    assert x0_only.std().item() < 0.25                   # collapses towards the mean: no diversity


def test_step_fn_needs_ddim(schedule):
    orc = oracles.GaussianOracle(schedule, mu=1.0, s=0.5, sample_shape=(1,))
    with pytest.raises(ValueError, match="step_fn replaces ddim_step"):
        samplers.sample(orc, schedule, torch.randn(2, 1), steps=5, method="ddpm", step_fn=pitfalls.returns_x0_hat)


def test_identify_step_names_every_broken_step_of_the_catalogue():
    catalogue = mistakes.ddim_steps()
    for m in catalogue:
        assert identify_step(m.fn) == m.name
        assert hasattr(pitfalls, m.name)          # name_the_bug promises "a pitfalls function's name"
    assert identify_step(samplers.ddim_step) == "correct"

    def clipped(*a, **k):                         # a bug that is not in the catalogue
        x_prev, x0_hat = samplers.ddim_step(*a, **k)
        return x_prev.clamp(-1, 1), x0_hat
    assert identify_step(clipped) == "unknown"
    last = schedules.make_schedule("cosine", 1000).alpha_bars[-1]
    assert identify_step(pitfalls.wrapped_final_alpha_bar(last), alpha_bar_last=last) == \
        "wrapped_final_alpha_bar"


def test_every_broken_step_of_the_catalogue_runs_in_the_sampler(schedule):
    """The sampler passes x0_hat= to its step: every broken step takes it, and changes the samples at η = 0 or, for
    a bug in the noise term, at η = 1."""
    orc = oracles.GaussianOracle(schedule, mu=1.0, s=0.5, sample_shape=(1,))
    x_T = torch.randn(64, 1, generator=torch.Generator().manual_seed(2), dtype=torch.float64)

    def run(eta, **kw):
        return samplers.sample(orc, schedule, x_T, steps=10, eta=eta, record_every=None, progress=False,
                               generator=torch.Generator().manual_seed(3), **kw).final
    right = {0.0: run(0.0), 1.0: run(1.0)}
    for m in mistakes.ddim_steps():
        assert not torch.allclose(run(0.0, step_fn=m.fn), right[0.0]) or \
            not torch.allclose(run(1.0, step_fn=m.fn), right[1.0]), m.name
