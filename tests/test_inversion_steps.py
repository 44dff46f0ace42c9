"""samplers.inversion_shortfall: why DDIM inversion gives short codes for data N(0, s² I), checked against the exact
Gaussian flow (GaussianOracle.ode_solution) and against ddim_invert run with the exact eps_hat."""
import pytest
import torch

from ddim_teach import oracles, samplers

ONE = torch.tensor(1.0, dtype=torch.float64)


def _measured(schedule, sd, steps, spacing):
    """|x_T| of ddim_invert with the exact eps_hat, over the exact flow's |x_T|, for 8 samples of N(0, sd² I)."""
    orc = oracles.GaussianOracle(schedule, mu=0.0, s=sd)
    x0 = orc.sample_data(8, (784,), generator=torch.Generator().manual_seed(0))
    inv = samplers.ddim_invert(orc, schedule, x0, steps=steps, spacing=spacing, progress=False)
    exact = orc.ode_solution(x0, ONE, schedule.alpha_bars[inv.timesteps[-1]])
    return (inv.x_T.norm(dim=1) / exact.norm(dim=1)).mean().item()


def test_fields_by_hand(schedule):
    out = samplers.inversion_shortfall(schedule, 0.05, steps=10, spacing="leading")
    assert out.timesteps.tolist() == list(range(0, 1000, 100))                 # ascending, the order visited
    ab = schedule.alpha_bars[out.timesteps].double()
    torch.testing.assert_close(out.spread, (ab * 0.05 ** 2 + 1 - ab).sqrt())
    assert out.rho[0].item() == pytest.approx(0.05 / out.spread[0].item())       # first step: from the clean image
    torch.testing.assert_close(out.rho[1:], out.spread[:-1] / out.spread[1:])
    assert out.norm_ratio == pytest.approx(float((out.rho * (2 - out.rho)).prod()))
    assert bool((out.rho > 0).all() and (out.rho < 1).all())


@pytest.mark.parametrize("sd", [0.5, 0.05, 0.01])
def test_rho_is_how_short_the_inversion_eps_is(schedule, sd):
    """Fed the exact flow's point of level a at timestep b, the exact eps_hat is rho times the exact flow's eps_hat
    at level b: the statement the estimate rests on."""
    orc = oracles.GaussianOracle(schedule, mu=0.0, s=sd)
    x0 = orc.sample_data(4, (16,), generator=torch.Generator().manual_seed(1))
    out = samplers.inversion_shortfall(schedule, sd, steps=10, spacing="leading")
    flow = lambda t: orc.ode_solution(x0, ONE, schedule.alpha_bars[t])
    starts = [x0] + [flow(t) for t in out.timesteps[:-1].tolist()]
    for i, t in enumerate(out.timesteps.tolist()):
        tt = torch.full((4,), t)
        torch.testing.assert_close(orc(starts[i], tt), out.rho[i] * orc(flow(t), tt), rtol=1e-9, atol=1e-12)


def test_estimate_is_close_to_exact_where_noise_dominates(schedule):
    """s << σ << 1 at every level visited: each step ends at rho (2 - rho) of the exact point, to a few per cent."""
    out = samplers.inversion_shortfall(schedule, 1e-3, steps=[50, 40, 30, 20, 10])
    assert out.norm_ratio == pytest.approx(_measured(schedule, 1e-3, [50, 40, 30, 20, 10], None), rel=0.05)


@pytest.mark.parametrize("sd", [0.5, 0.1, 0.05, 0.01])
@pytest.mark.parametrize("spacing", ["leading", "trailing", "karras", "logsnr"])
@pytest.mark.parametrize("S", [10, 20, 30])
def test_estimate_tracks_ddim_invert(schedule, sd, spacing, S):
    measured = _measured(schedule, sd, S, spacing)
    assert abs(samplers.inversion_shortfall(schedule, sd, steps=S, spacing=spacing).norm_ratio - measured) < 0.08


def test_the_placement_changes_the_norm(schedule):
    """At the same S, log-uniform placement (fine in σ at small t) gives longer codes than leading for small s."""
    for sd in (0.05, 0.01):
        assert _measured(schedule, sd, 20, "logsnr") > _measured(schedule, sd, 20, "leading") + 0.1


@pytest.mark.parametrize("bad", [0.0, -0.1, float("nan"), True, "0.1"])
def test_bad_data_std(schedule, bad):
    with pytest.raises(ValueError, match="data_std"):
        samplers.inversion_shortfall(schedule, bad, steps=10, spacing="leading")


def test_first_step_can_overshoot(schedule):
    """The docstring's caveat: near σ ≈ s the estimate is not a step's factor. Clean image to t = 0 with s = 0.01
    (σ there is 0.01 too): the estimate says a loss, the step overshoots the exact flow."""
    assert samplers.inversion_shortfall(schedule, 0.01, steps=[0]).norm_ratio < 0.95
    assert _measured(schedule, 0.01, [0], None) > 1.02
