"""The empirical posterior mean E[x0 | x_t] over a finite set of images, and the split of x0_hat's error into
the blur (x0 - E[x0 | x_t]) and the speckle (x0_hat - E[x0 | x_t]): notebook 2's section on x0_hat at high noise."""
import pytest
import torch

from ddim_teach import data, schedules, tweedie

S = schedules.make_schedule("linear", 1000)


def test_weights_are_a_distribution_and_the_mean_their_average():
    g = torch.Generator().manual_seed(0)
    bank = torch.rand(50, 1, 4, 4, generator=g) * 2 - 1
    x_t = torch.randn(3, 1, 4, 4, generator=g)
    for t in (0, 300, 999):
        post = tweedie.empirical_posterior_x0(x_t, S.alpha_bars[t], bank)
        assert post.weights.shape == (3, 50) and post.mean.shape == x_t.shape and post.mean.dtype == x_t.dtype
        assert (post.weights >= 0).all()
        assert torch.allclose(post.weights.sum(1), torch.ones(3, dtype=torch.float64), atol=1e-12)
        assert torch.allclose(post.mean.flatten(1), (post.weights @ bank.flatten(1).double()).float(), atol=1e-6)
        assert ((post.ess >= 1 - 1e-9) & (post.ess <= 50 + 1e-9)).all()


def test_matches_the_gaussian_oracles_posterior_mean_on_many_samples():
    """For N(mu, s^2) data, the empirical posterior over many samples is the Bayes posterior mean."""
    mu, sd = 0.3, 0.5
    g = torch.Generator().manual_seed(1)
    bank = mu + sd * torch.randn(200_000, 1, generator=g, dtype=torch.float64)
    x_t = torch.linspace(-0.6, 1.2, 7, dtype=torch.float64)[:, None]   # within 2 sd of the data, where samples are dense
    for t in (100, 400, 700, 999):
        ab = S.alpha_bars[t]
        got = tweedie.empirical_posterior_x0(x_t, ab, bank).mean
        want = tweedie.gaussian_posterior_mean_x0(x_t, ab, mu, sd)
        assert (got - want).abs().max() < 0.01, (t, got.flatten(), want.flatten())


def test_tends_to_the_mean_image_as_t_goes_to_T():
    bank = data.to_tensor(data.load_mnist("train", source="bundled")[0][:2000])
    mean_digit = bank.mean(0, keepdim=True)
    x0 = data.to_tensor(data.load_mnist("test", source="bundled")[0][:8])
    eps = torch.randn(x0.shape, generator=torch.Generator().manual_seed(2))
    rms = {}
    for t in (599, 899, 999):
        post = tweedie.empirical_posterior_x0(S.q_sample(x0, t, eps), S.alpha_bars[t], bank)
        rms[t] = (post.mean - mean_digit).pow(2).mean().sqrt().item()
        if t == 999:
            assert (post.ess > 0.95 * len(bank)).all()
    assert rms[999] < rms[899] < rms[599] and rms[999] < 0.05
    # at almost no signal the weights are uniform and the posterior mean is the mean image
    post = tweedie.empirical_posterior_x0(torch.randn(x0.shape, generator=torch.Generator().manual_seed(3)), 1e-12, bank)
    assert torch.allclose(post.mean, mean_digit.expand_as(post.mean), atol=1e-4)


def test_log_sum_exp_keeps_low_noise_finite_and_collapses_onto_the_nearest_image():
    """At t = 0 the log-likelihoods differ by thousands: a plain exp would overflow. The mean is the data image
    that made x_t (memorisation)."""
    bank = data.to_tensor(data.load_mnist("train", source="bundled")[0][:500])
    eps = torch.randn(bank[:4].shape, generator=torch.Generator().manual_seed(4))
    x_t = S.q_sample(bank[10:14], 0, eps)
    post = tweedie.empirical_posterior_x0(x_t, S.alpha_bars[0], bank)
    assert torch.isfinite(post.mean).all() and torch.isfinite(post.weights).all()
    assert post.weights.argmax(1).tolist() == [10, 11, 12, 13]
    assert torch.allclose(post.mean, bank[10:14], atol=1e-6) and (post.ess < 1 + 1e-6).all()


def test_split_adds_up_and_its_parts_are_uncorrelated_on_the_empirical_distribution():
    """x0_hat - x0 = speckle - blur exactly; and with x0 drawn from the bank itself, the cross term
    E[speckle . blur] vanishes (Monte Carlo), so E|x0_hat - x0|^2 = E|speckle|^2 + E|blur|^2."""
    g = torch.Generator().manual_seed(5)
    bank = torch.rand(40, 1, 3, 3, generator=g, dtype=torch.float64) * 2 - 1
    t = 600
    ab = S.alpha_bars[t]
    x0 = bank[torch.randint(0, 40, (100_000,), generator=g)]
    x_t = S.q_sample(x0, t, torch.randn(x0.shape, generator=g, dtype=torch.float64))
    post = tweedie.empirical_posterior_x0(x_t, ab, bank)
    x0_hat = S.x0_from_eps(x_t, t, S.eps_from_x0(x_t, t, post.mean) + 0.1 * torch.tanh(x_t))   # a biased eps-model
    split = tweedie.x0_error_split(x0, x0_hat, post.mean)
    assert torch.allclose(x0_hat - x0, split.speckle - split.blur, atol=1e-12)
    total, sp, bl = ((x0_hat - x0) ** 2).mean(), (split.speckle ** 2).mean(), (split.blur ** 2).mean()
    assert sp > 0.05 * total and bl > 0.05 * total
    assert abs(total - sp - bl) < 0.005 * total
    # not so for another guess in the posterior mean's place (the mean image): the cross term is then large
    other = tweedie.x0_error_split(x0, x0_hat, bank.mean(0).expand_as(x0))
    assert abs(total - (other.speckle ** 2).mean() - (other.blur ** 2).mean()) > 0.03 * total
    # the ideal model's x0_hat is the posterior mean: no speckle
    assert tweedie.x0_error_split(x0, post.mean, post.mean).speckle.abs().max() == 0


def test_speckle_gain_for_eps_and_v_models():
    """The same deviation from the ideal output reaches x0_hat times sqrt((1-ab)/ab) for an eps-model and
    times sqrt(1-ab) for a v-model, measured against the posterior mean."""
    bank = data.to_tensor(data.load_mnist("train", source="bundled")[0][:300]).double()
    t = 999
    ab = S.alpha_bars[t]
    g = torch.Generator().manual_seed(6)
    x_t = torch.randn(4, 1, 28, 28, generator=g, dtype=torch.float64)
    pm = tweedie.empirical_posterior_x0(x_t, ab, bank).mean
    eps_ideal = S.eps_from_x0(x_t, t, pm)
    v_ideal = S.v_from(pm, t, eps_ideal)
    delta = 1e-3 * torch.randn(x_t.shape, generator=g, dtype=torch.float64)
    via_eps = S.x0_from_eps(x_t, t, eps_ideal + delta) - pm
    via_v = S.x0_from_v(x_t, t, v_ideal + delta) - pm
    assert torch.allclose(via_eps, -tweedie.x0_error_gain(ab, "epsilon") * delta, atol=1e-9)
    assert torch.allclose(via_v, -tweedie.x0_error_gain(ab, "v_prediction") * delta, atol=1e-12)


def test_bad_inputs():
    bank = torch.zeros(5, 1, 4, 4)
    with pytest.raises(ValueError, match="data must be"):
        tweedie.empirical_posterior_x0(torch.zeros(2, 1, 5, 5), 0.5, bank)
    with pytest.raises(TypeError, match="data must be"):
        tweedie.empirical_posterior_x0(torch.zeros(2, 1, 4, 4), 0.5, bank.long())
    with pytest.raises(ValueError, match="alpha_bar_t must"):
        tweedie.empirical_posterior_x0(torch.zeros(2, 1, 4, 4), 1.0, bank)
    with pytest.raises(ValueError, match="must match"):
        tweedie.x0_error_split(torch.zeros(2, 3), torch.zeros(2, 3), torch.zeros(3, 3))
    with pytest.raises(TypeError, match="same dtype"):
        tweedie.x0_error_split(torch.zeros(2, 3), torch.zeros(2, 3), torch.zeros(2, 3, dtype=torch.float64))
