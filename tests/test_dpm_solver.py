"""DPM-Solver++(2M): its first-order step is DDIM's, its order is 2 on the exact Gaussian, and the loop matches
diffusers' DPMSolverMultistepScheduler step for step."""
import math

import pytest
import torch

from ddim_teach import formulas, oracles, samplers, schedules
from ddim_teach.denoiser import Denoiser
from ddim_teach.samplers import dpm_solver_pp_2m_step

MU, S_DATA = 0.7, 0.4


def _x0_hat(x, ab):
    """E[x0 | x_t] for data N(MU, S_DATA^2) at any (continuous) level ab: the exact denoiser."""
    return MU + math.sqrt(ab) * S_DATA ** 2 * (x - math.sqrt(ab) * MU) / (ab * S_DATA ** 2 + 1 - ab)


def _flow(x, ab_from, ab_to):
    """The probability-flow ODE's exact map between two levels for that Gaussian: quantiles go to quantiles."""
    z = (x - math.sqrt(ab_from) * MU) / math.sqrt(ab_from * S_DATA ** 2 + 1 - ab_from)
    return math.sqrt(ab_to) * MU + math.sqrt(ab_to * S_DATA ** 2 + 1 - ab_to) * z


def test_first_order_step_is_ddim():
    x = torch.randn(5, 3, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    x0 = torch.randn(5, 3, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    ab, abp = 0.3, 0.55
    eps = formulas.eps_from_x0(x, x0, ab)
    ddim, _ = samplers.ddim_step(x, eps, ab, abp, eta=0.0, x0_hat=x0)
    torch.testing.assert_close(dpm_solver_pp_2m_step(x, x0, ab, abp), ddim, rtol=0, atol=1e-12)
    # and to alpha_bar = 1 it returns D itself, also at second order's inputs refused
    torch.testing.assert_close(dpm_solver_pp_2m_step(x, x0, ab, 1.0), x0, rtol=0, atol=1e-12)
    with pytest.raises(ValueError, match="first order"):
        dpm_solver_pp_2m_step(x, x0, ab, 1.0, x0, 0.1)


def _solve(n, second_order, ab_a=0.02, ab_b=0.98):
    """n steps uniform in lambda from ab_a to ab_b, the exact x0_hat at each level."""
    lam = torch.linspace(float(formulas.half_log_snr(ab_a)), float(formulas.half_log_snr(ab_b)), n + 1,
                         dtype=torch.float64)
    abs_ = torch.sigmoid(2 * lam)  # lambda = log(sqrt(ab) / sqrt(1 - ab))  <=>  ab = sigmoid(2 lambda)
    x = torch.linspace(-3, 3, 101, dtype=torch.float64)[:, None]
    x_start, last = x, ()
    for i in range(n):
        a, b = float(abs_[i]), float(abs_[i + 1])
        d = _x0_hat(x, a)
        x = dpm_solver_pp_2m_step(x, d, a, b, *(last if second_order else ()))
        last = (d, a)
    return (x - _flow(x_start, ab_a, ab_b)).abs().max().item()


def test_order_on_the_exact_gaussian():
    """Error against the exact flow at steps n and 4n: first order falls 4x, second order 16x (slopes 1 and 2)."""
    for second, want in ((False, 1.0), (True, 2.0)):
        errs = [_solve(n, second) for n in (8, 16, 32, 64)]
        slope = -math.log(errs[-1] / errs[0]) / math.log(64 / 8)
        assert abs(slope - want) < 0.25, (second, errs, slope)
    assert _solve(32, True) < _solve(32, False) / 10  # second order is far better at the same cost


def _diffusers_run(model, schedule, x_T, S):
    from diffusers import DPMSolverMultistepScheduler
    ref = DPMSolverMultistepScheduler(num_train_timesteps=schedule.T, trained_betas=schedule.betas.numpy(),
                                      algorithm_type="dpmsolver++", solver_order=2, timestep_spacing="trailing")
    ref.set_timesteps(S)
    x, states = x_T.clone(), []
    for t in ref.timesteps:
        with torch.no_grad():
            eps = model(x, torch.full((x.shape[0],), int(t)))
        x = ref.step(eps, t, x).prev_sample
        states.append(x)
    return ref.timesteps, x, states


@pytest.mark.parametrize("S", [5, 10, 20])
def test_matches_diffusers_on_the_mixture_oracle(schedule, S):
    pytest.importorskip("diffusers")
    o = oracles.GaussianMixtureOracle.default(schedule)
    x_T = torch.randn(64, 2, generator=torch.Generator().manual_seed(S))
    ts, ref, ref_states = _diffusers_run(o, schedule, x_T, S)
    ours_ts = schedules.timesteps(schedule.T, S, "trailing")
    assert ours_ts.tolist() == ts.tolist()
    states = []
    ours = samplers.sample_dpm_solver_pp_2m(Denoiser(o, schedule), x_T, ours_ts,
                                            callback=lambda st: states.append(st.x_prev))
    assert len(states) == len(ref_states) == S
    for i, (a, b) in enumerate(zip(states, ref_states)):     # step for step, not only the final sample
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-4, msg=lambda m: f"step {i}: {m}")
    torch.testing.assert_close(ours, ref, rtol=1e-4, atol=1e-4)
    # and the check can fail: DDIM with the same calls is clearly different
    ddim = samplers.sample_ddim(Denoiser(o, schedule), x_T, ours_ts)
    assert (ddim - ref).abs().max() > 1e-3


def test_matches_diffusers_on_the_shipped_model():
    pytest.importorskip("diffusers")
    from ddim_teach.pretrained import load_pretrained
    model, s = load_pretrained()
    x_T = torch.randn(2, 1, 28, 28, generator=torch.Generator().manual_seed(0))
    ts, ref, _ = _diffusers_run(model, s, x_T, 10)
    ours = samplers.sample(model, s, x_T, steps=10, method="dpm_solver_pp_2m", record_every=None).final
    torch.testing.assert_close(ours, ref, rtol=1e-4, atol=1e-4)


def test_front_end_counts_one_call_per_step(schedule):
    o = oracles.GaussianOracle(schedule, MU, S_DATA)
    tr = samplers.sample(o, schedule, torch.randn(3, 2), steps=12, method="dpm_solver_pp_2m")
    assert tr.nfe == 12 and tr.info["method"] == "dpm_solver_pp_2m"
    with pytest.raises(ValueError, match="eta must be 0"):
        samplers.sample(o, schedule, torch.randn(3, 2), steps=12, method="dpm_solver_pp_2m", eta=0.5)


@pytest.mark.parametrize("spacing,flag", [("karras", "use_karras_sigmas"), ("logsnr", "use_lu_lambdas")])
def test_noise_level_placements_are_diffusers_timesteps(schedule, spacing, flag):
    """The rho = 7 grid and the log-SNR grid, rounded to integer t, are the timesteps diffusers gives the network."""
    pytest.importorskip("diffusers")
    from diffusers import DPMSolverMultistepScheduler
    for S in (5, 10, 20, 30):
        ref = DPMSolverMultistepScheduler(num_train_timesteps=1000, trained_betas=schedule.betas.numpy(),
                                          algorithm_type="dpmsolver++", **{flag: True})
        ref.set_timesteps(S)
        assert schedules.sigma_timesteps(schedule, S, spacing).tolist() == ref.timesteps.tolist()


def test_noise_level_placements_by_their_definition(schedule):
    """Karras: sigma^(1/7) of the chosen timesteps is nearly linear in i; log-SNR: log sigma is. Ends at T-1 and 0."""
    sig = formulas.ode_sigma(schedule.alpha_bars)
    for spacing, f in (("karras", lambda v: v ** (1 / 7)), ("logsnr", torch.log)):
        ts = schedules.sigma_timesteps(schedule, 20, spacing)
        assert ts[0] == 999 and ts[-1] == 0
        g = f(sig[ts])
        line = torch.linspace(float(g[0]), float(g[-1]), 20, dtype=torch.float64)
        step = float(g[0] - g[-1]) / 19
        assert (g - line).abs().max() < 0.5 * step, (spacing, (g - line).abs().max() / step)
    with pytest.raises(ValueError, match=r"use steps <= \d+"):
        schedules.sigma_timesteps(schedule, 200, "logsnr")
    tr = samplers.sample(oracles.GaussianOracle(schedule), schedule, torch.randn(2, 2), steps=10, spacing="karras",
                         method="dpm_solver_pp_2m")
    assert tr.timesteps.tolist() == schedules.sigma_timesteps(schedule, 10, "karras").tolist()


def test_bench_solver_table_small(monkeypatch):
    """bench --solvers on 8 samples: every sampler at 5 calls, Heun at S = 3 (5 calls), intervals around the FD."""
    import functools

    from ddim_teach import bench, metrics
    # 20 bootstrap resamples instead of 200: the table's shape is under test here, not the width of its intervals
    monkeypatch.setattr(metrics, "fd_interval", functools.partial(metrics.fd_interval, n_boot=20))
    monkeypatch.setattr(metrics, "fd_difference_interval", functools.partial(metrics.fd_difference_interval, n_boot=20))
    from ddim_teach.pretrained import load_classifier, load_pretrained
    model, s = load_pretrained()
    table = bench.solver_table(model, s, load_classifier(), n=8, calls=(5,), progress=False)
    assert len(table) == len(bench.SOLVERS)
    for (label, calls), (S, nfe, fd, lo, hi, diff) in table.items():
        assert nfe == 5 and S == (3 if label.startswith("Heun") else 5)
        assert lo <= fd <= hi and diff is None  # no DDIM-50 cell to pair with at 5 calls only
    paired = bench.solver_table(model, s, load_classifier(), n=8, calls=(5,), progress=False,
                                against=("DDIM η=0, trailing", 5))
    d = paired[("DDIM η=0, trailing", 5)][5]
    assert d == (0.0, 0.0, 0.0)  # a cell against itself
    assert "5 calls" in bench.solver_markdown(table, 8, calls=(5,))
