"""The probability-flow ODE view: DDIM (eta=0) is Euler's method; Heun is second order on an exact oracle."""
import math

import pytest
import torch

from ddim_teach.denoiser import Denoiser

from ddim_teach import ode, oracles, samplers

MU, SD = 2.0, 0.5


def exact_flow(schedule, x_T):
    """For N(MU, SD^2) data the probability-flow map is affine: quantile to quantile."""
    ab = schedule.alpha_bars[999]
    return MU + SD * (x_T - ab.sqrt() * MU) / (ab * SD ** 2 + 1 - ab).sqrt()


@pytest.mark.parametrize("t, t_prev", [(999, 979), (500, 480), (20, 0), (20, -1)])
def test_ddim_eta0_is_one_euler_step(schedule, t, t_prev):
    x = torch.randn(3, 5, dtype=torch.float64)
    eps = torch.randn(3, 5, dtype=torch.float64)
    ab, abp = schedule.alpha_bar(t), schedule.alpha_bar(t_prev)
    ddim, _ = samplers.ddim_step(x, eps, ab, abp, eta=0.0)
    torch.testing.assert_close(ode.euler_step(x, eps, ab, abp), ddim, rtol=0, atol=1e-12)
    # and in the ODE's own variables the step is x̄ + (σ_prev − σ_t) ε̂
    lhs = ode.to_ode(ddim, abp)
    rhs = ode.to_ode(x, ab) + (ode.ode_sigma(abp) - ode.ode_sigma(ab)) * eps
    torch.testing.assert_close(lhs, rhs, rtol=0, atol=1e-10)


def test_ode_variables_round_trip(schedule):
    x = torch.randn(4, dtype=torch.float64)
    ab = schedule.alpha_bar(300)
    torch.testing.assert_close(ode.from_ode(ode.to_ode(x, ab), ab), x)
    assert float(ode.ode_sigma(1.0)) == 0.0
    assert float(ode.ode_sigma(schedule.alpha_bar(999))) > 150  # σ_T ≫ 1: x̄_T is almost pure (scaled) noise


def _errors(schedule, method, steps):
    orc = oracles.GaussianOracle(schedule, mu=MU, s=SD, sample_shape=(1,))
    x_T = torch.randn(2048, 1, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    exact = exact_flow(schedule, x_T)
    out = []
    for S in steps:
        tr = samplers.sample(orc, schedule, x_T, steps=S, spacing="trailing", method=method, record_every=None,
                             progress=False)
        out.append(((tr.final - exact).abs().max().item(), tr.nfe))
    return out


def test_euler_is_first_order_and_heun_second(schedule):
    steps = [10, 20, 40, 80]
    euler, heun = _errors(schedule, "ddim", steps), _errors(schedule, "heun", steps)
    slope = lambda errs: (math.log(errs[-1][0]) - math.log(errs[0][0])) / (math.log(steps[-1]) - math.log(steps[0]))
    assert -1.2 < slope(euler) < -0.8, euler
    assert slope(heun) < -1.5, heun
    assert [n for _, n in heun] == [2 * S - 1 for S in steps]
    # at equal model calls (Heun S=20 ≈ 39 calls vs DDIM S=40), Heun is more accurate
    assert heun[1][0] < euler[2][0]


def test_heun_rejects_noise_and_clipping(schedule):
    orc = oracles.GaussianOracle(schedule, mu=MU, s=SD, sample_shape=(1,))
    x_T = torch.randn(4, 1)
    with pytest.raises(ValueError, match="eta must be 0"):
        samplers.sample(orc, schedule, x_T, steps=5, method="heun", eta=0.5)
    with pytest.raises(ValueError, match="clip_sample"):
        samplers.sample(Denoiser(orc, schedule, clip_sample=True), schedule, x_T, steps=5, method="heun")
    with pytest.raises(ValueError, match="method must be one of"):
        samplers.sample(orc, schedule, x_T, steps=5, method="rk4")


def test_velocity_is_the_derivative_of_the_exact_flow(schedule):
    """For N(MU, SD^2) data the flow through x̄_T is known: x̄(σ) = MU + sqrt(SD² + σ²) z with z fixed, so
    dx̄/dσ = σ / sqrt(SD² + σ²) z. Central differences of that closed form, in σ, against ode.velocity."""
    orc = oracles.GaussianOracle(schedule, mu=MU, s=SD)
    z = torch.randn(6, 1, dtype=torch.float64, generator=torch.Generator().manual_seed(3))
    def x_bar(sig):
        return MU + (SD ** 2 + sig ** 2) ** 0.5 * z
    for t in (50, 400, 900):
        ab = schedule.alpha_bar(t)
        sig = ode.ode_sigma(ab).item()
        h = 1e-4 * sig
        fd = (x_bar(sig + h) - x_bar(sig - h)) / (2 * h)
        x_t = ode.from_ode(x_bar(sig), ab)   # the point on that trajectory at level t
        torch.testing.assert_close(ode.velocity(orc, x_t, t), fd, rtol=1e-6, atol=1e-9)


def test_gaussian_ode_solution_solves_the_ode(schedule):
    """GaussianOracle.ode_solution against the ODE itself: its σ-derivative in x̄ is the oracle's ε (DDIM eq. 14),
    it starts at x_T, and at ᾱ = 1 it is the affine quantile map above."""
    g = oracles.GaussianOracle(schedule, mu=MU, s=SD, sample_shape=(1,))
    x_T = torch.randn(7, 1, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    abT = schedule.alpha_bars[999]
    torch.testing.assert_close(g.ode_solution(x_T, abT, abT), x_T)
    torch.testing.assert_close(g.ode_solution(x_T, abT, 1.0), exact_flow(schedule, x_T))
    t = 300
    ab = schedule.alpha_bars[t]
    sig = float(ode.ode_sigma(ab))
    xbar = lambda s_: ode.to_ode(g.ode_solution(x_T, abT, 1 / (1 + s_ ** 2)), 1 / (1 + s_ ** 2))
    slope = (xbar(sig + 1e-5) - xbar(sig - 1e-5)) / 2e-5
    eps = g(g.ode_solution(x_T, abT, ab), torch.full((7,), t))
    torch.testing.assert_close(slope, eps, rtol=1e-5, atol=1e-7)
