"""The non-Markovian family q_σ (DDIM Sec. 3.1): same marginals for every η, DDPM at η = 1, DDIM at η = 0."""
import pytest
import sympy as sp
import torch

from ddim_teach import ddim_derivation as derivation, family, samplers

SUPPORT, WEIGHTS = [-1.0, 1.0], [0.3, 0.7]


def _x0(n, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.tensor(SUPPORT, dtype=torch.float64)[torch.multinomial(torch.tensor(WEIGHTS), n, True, generator=g)]


def _eps_for(x0, x_t, ab):
    return (x_t - ab.sqrt() * x0) / (1 - ab).sqrt()


@pytest.mark.parametrize("t, t_prev", [(999, 949), (500, 499), (20, 0), (20, -1)])
def test_posterior_mean_is_ddpm_at_beta_tilde_and_ddim_at_zero(schedule, t, t_prev):
    g = torch.Generator().manual_seed(1)
    x0, x_t = torch.randn(5, 3, generator=g, dtype=torch.float64), torch.randn(5, 3, generator=g, dtype=torch.float64)
    ab, abp = schedule.alpha_bar(t), schedule.alpha_bar(t_prev)
    eps = _eps_for(x0, x_t, ab)                      # with this eps_hat, x0_hat = x0 exactly
    ddpm_mean, _ = samplers.ddpm_step(x_t, eps, ab, abp, "fixed_small", noise=None)
    sigma1 = samplers.ddim_sigma(ab, abp, 1.0)
    torch.testing.assert_close(family.posterior_mean(x0, x_t, ab, abp, sigma1), ddpm_mean, rtol=0, atol=1e-10)
    ddim0, _ = samplers.ddim_step(x_t, eps, ab, abp, eta=0.0)
    torch.testing.assert_close(family.posterior_mean(x0, x_t, ab, abp, 0.0), ddim0, rtol=0, atol=1e-10)
    assert sigma1 ** 2 == pytest.approx(float(samplers.ddpm_variance(ab, abp, "fixed_small")), rel=1e-12, abs=1e-300)


def test_sigma_too_large_for_the_family_is_an_error(schedule):
    ab, abp = schedule.alpha_bar(500), schedule.alpha_bar(400)
    with pytest.raises(ValueError, match="exceeds 1 - alpha_bar_prev"):
        family.posterior_mean(torch.zeros(2), torch.zeros(2), ab, abp, (1 - abp).sqrt() * 1.01)


@pytest.mark.parametrize("eta", [0.0, 0.5, 1.0])
def test_marginals_match_q_xt_given_x0_for_every_eta(schedule, eta):
    x0 = _x0(20000)
    p = family.sample_paths(x0, schedule, eta, steps=100, spacing="trailing", generator=torch.Generator().manual_seed(2))
    z = family.standardised(p)                       # N(0, 1) under q(x_t | x0)
    assert z.shape == (100, 20000)
    for i in (0, 30, 60, 90, 99):
        assert abs(z[i].mean().item()) < 0.03 and abs(z[i].std().item() - 1) < 0.03, (eta, i, z[i].mean(), z[i].std())
    torch.testing.assert_close(p.xs[-1], x0)         # every path ends on its x0 (sigma = 0 at alpha_bar = 1)
    assert p.alpha_bars[-1] == 1 and len(p.xs) == len(p.timesteps) + 1


def test_joints_differ_eta0_keeps_its_noise_eta1_forgets_it(schedule):
    x0 = _x0(20000)
    corr = {}
    for eta in (0.0, 1.0):
        z = family.standardised(family.sample_paths(x0, schedule, eta, steps=50, spacing="trailing",
                                                    generator=torch.Generator().manual_seed(3)))
        corr[eta] = torch.corrcoef(torch.stack([z[0], z[-1]]))[0, 1].item()
    assert corr[0.0] > 0.999999                      # DDIM: the same eps from x_T to the end
    assert abs(corr[1.0]) < 0.05                     # DDPM: x_T and the last noisy state are nearly independent


def test_eta0_paths_are_deterministic_given_x0_and_x_T(schedule):
    x0 = _x0(50)
    x_T = torch.randn(50, dtype=torch.float64)
    a = family.sample_paths(x0, schedule, 0.0, x_T=x_T, generator=torch.Generator().manual_seed(4))
    b = family.sample_paths(x0, schedule, 0.0, steps=None, x_T=x_T, generator=torch.Generator().manual_seed(5))
    assert torch.equal(a.xs, b.xs) and (a.sigmas == 0).all()
    assert len(a.timesteps) == 1000 and torch.equal(a.timesteps, torch.arange(999, -1, -1))   # steps=None: the full chain
    c = family.sample_paths(x0, schedule, 0.5, steps=100, x_T=x_T, generator=torch.Generator().manual_seed(5))
    assert not torch.equal(a.xs, c.xs)
    with pytest.raises(ValueError, match="must match x0"):
        family.sample_paths(x0, schedule, 0.0, x_T=x_T[:3])


def test_forward_step_matches_bayes_in_sympy(schedule):
    ab_s, abp_s, sg_s = derivation.symbols()
    c0_s, cp_s, v_s = derivation.forward_step(ab_s, abp_s, sg_s)
    f = sp.lambdify((ab_s, abp_s, sg_s), (c0_s, cp_s, v_s))
    for t, t_prev, eta in [(700, 650, 0.5), (300, 299, 0.2), (999, 900, 0.9)]:
        ab, abp = schedule.alpha_bar(t), schedule.alpha_bar(t_prev)
        sg = samplers.ddim_sigma(ab, abp, eta)
        c0, cp, v = f(float(ab), float(abp), float(sg))
        mean, std = family.forward_step(torch.tensor(1.0), torch.tensor(0.0), ab, abp, sg)
        assert float(mean) == pytest.approx(c0, rel=1e-9)
        mean, _ = family.forward_step(torch.tensor(0.0), torch.tensor(1.0), ab, abp, sg)
        assert float(mean) == pytest.approx(cp, rel=1e-9) and float(std) ** 2 == pytest.approx(v, rel=1e-9)
        assert abs(c0) > 1e-4                        # eta < 1: the forward step depends on x0 (non-Markovian)


def test_forward_step_is_ddpms_markov_step_at_eta1(schedule):
    ab, abp = schedule.alpha_bar(600), schedule.alpha_bar(550)
    sg = samplers.ddim_sigma(ab, abp, 1.0)
    x_prev = torch.tensor([0.3, -1.0], dtype=torch.float64)
    for x0 in (torch.tensor([-1.0, 2.0], dtype=torch.float64), torch.tensor([5.0, 0.0], dtype=torch.float64)):
        mean, std = family.forward_step(x0, x_prev, ab, abp, sg)
        torch.testing.assert_close(mean, (ab / abp).sqrt() * x_prev, rtol=0, atol=1e-12)   # N(sqrt(alpha) x_prev, beta)
        assert float(std) ** 2 == pytest.approx(float(1 - ab / abp), rel=1e-10)


def test_forward_step_matches_a_regression_on_sampled_paths(schedule):
    """The Bayes formula is what the sampled joint shows: regress x_t on (x0, x_prev) across paths."""
    g = torch.Generator().manual_seed(6)
    x0 = torch.randn(40000, generator=g, dtype=torch.float64)   # continuous x0, so both coefficients are identifiable
    p = family.sample_paths(x0, schedule, 0.5, steps=20, spacing="trailing", generator=g)
    i = 10
    x_t, x_prev = p.xs[i], p.xs[i + 1]
    A = torch.stack([x0, x_prev], 1)
    coef = torch.linalg.lstsq(A, x_t[:, None]).solution[:, 0]
    mean, std = family.forward_step(x0, x_prev, p.alpha_bars[i], p.alpha_bars[i + 1], p.sigmas[i])
    c0, _ = family.forward_step(torch.tensor(1.0), torch.tensor(0.0), p.alpha_bars[i], p.alpha_bars[i + 1], p.sigmas[i])
    assert abs(float(coef[0]) - float(c0)) < 0.01 and abs(float(c0)) > 0.05   # measured: -0.0654 vs -0.0663
    assert float((x_t - mean).std()) == pytest.approx(float(std), rel=0.03)


def test_forward_step_rejects_an_upward_pair(schedule):
    with pytest.raises(ValueError, match="alpha_bar_t < alpha_bar_prev < 1"):
        family.forward_step(torch.zeros(1), torch.zeros(1), schedule.alpha_bar(100), schedule.alpha_bar(200), 0.0)


def test_sigma_hat_breaks_where_the_gap_is_positive(schedule):
    ab_s, abp_s, _ = derivation.symbols()
    gap = sp.lambdify((ab_s, abp_s), derivation.sigma_hat_gap(ab_s, abp_s))
    for t, t_prev in [(999, 998), (999, 899), (999, -1), (10, 9), (1, 0), (0, -1), (300, 100), (150, 50)]:
        ab, abp = schedule.alpha_bar(t), schedule.alpha_bar(t_prev)
        sigma_hat_sq = 1 - ab / abp
        assert bool(family.sigma_hat_breaks(ab, abp)) == (gap(float(ab), float(abp)) > 0) == bool(sigma_hat_sq > 1 - abp)
    assert not family.sigma_hat_breaks(schedule.alpha_bar(999), schedule.alpha_bar(998))
    assert family.sigma_hat_breaks(schedule.alpha_bar(0), 1.0)


def test_marginal_density_is_a_density():
    x = torch.linspace(-8, 8, 4001, dtype=torch.float64)
    for ab in (0.999, 0.5, 1e-3):
        d = family.marginal_density(x, SUPPORT, WEIGHTS, ab)
        assert float(torch.trapezoid(d, x)) == pytest.approx(1.0, abs=1e-6)


def test_widget_redraws_for_eta_with_the_same_x_T(schedule):
    pytest.importorskip("ipywidgets")
    x0 = _x0(200)
    box = family.family_widget(x0, schedule, SUPPORT, WEIGHTS, steps=50, hist_t=(999, 19), n_show=5)
    first = box.result
    assert first.eta == 0.0 and len(box.children[1].value) > 1000   # a PNG was drawn
    box.children[0].value = 1.0                                      # the slider: observers fire at once
    assert box.result.eta == 1.0 and torch.equal(box.result.xs[0], first.xs[0])
    assert not torch.equal(box.result.xs[1:-1], first.xs[1:-1])
