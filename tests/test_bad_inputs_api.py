"""Bad input to the library API gets a short, clear error that says what was wrong and what is allowed.

Each case below is one bad input a careful user could make. Unchecked, each would be silently accepted (a
truncated timestep, a replaced beta, an ignored argument, a NaN result) or crash deep inside torch with a
message that does not name the argument. A pattern checks the facts a message must carry (the argument, what
was given, what is allowed), not its exact wording.
"""
import math

import numpy as np
import pytest
import torch

from ddim_teach import diagnose, metrics, ode, oracles, samplers, schedules
from ddim_teach.denoiser import Denoiser
from ddim_teach.unet import UNet, UNetConfig

S = schedules.make_schedule("linear", 1000)
ZSNR = schedules.make_schedule("linear", 1000, rescale_to_zero_snr=True)
ORC = oracles.GaussianOracle(S, mu=0.5, s=0.5, sample_shape=(2,))
X = torch.randn(4, 2, generator=torch.Generator().manual_seed(0))
AB, ABP = S.alpha_bar(500), S.alpha_bar(450)


def _tiny_unet():
    torch.manual_seed(0)
    return UNet(UNetConfig(base_channels=8, ch_mult=(1, 2), attn_resolutions=(14,), groups=4)).eval()


NET = _tiny_unet()
IMG = torch.randn(2, 1, 28, 28, generator=torch.Generator().manual_seed(1))


def _returns(value):
    def model(x, t):
        return value(x) if callable(value) else value
    model.sample_shape = (2,)
    return model


def _with(x, idx, v):
    x = x.clone()
    x.view(-1)[idx] = v
    return x


def ddim(eta=1.0, **kw):
    """The DDIM loop itself over 5 trailing steps (it takes explicit noises)."""
    return samplers.sample_ddim(Denoiser(ORC, S), X, schedules.timesteps(1000, 5), eta, **kw)


def sample(**kw):
    kw.setdefault("progress", False)
    model, x = kw.pop("model", ORC), kw.pop("x", X)
    return samplers.sample(model, kw.pop("schedule", S), x, **kw)


# (id, call, exception type, message pattern)
CASES = [
    # --- samplers.sample: the input tensor ---
    ("x_T float64 for a float32 U-Net", lambda: samplers.sample(NET, S, IMG.double(), steps=2), ValueError,
     r"x_T is torch.float64 but the model's weights are torch.float32"),
    ("x_T with NaN", lambda: sample(x=_with(X, 3, float("nan")), steps=3), ValueError, r"x_T contains NaN or inf"),
    ("x_T with inf", lambda: sample(x=_with(X, 0, float("inf")), steps=3), ValueError, r"x_T contains NaN or inf"),
    ("x_T empty batch", lambda: sample(x=torch.zeros(0, 2), steps=3), ValueError, r"non-empty batch"),
    ("x_T a numpy array", lambda: sample(x=X.numpy(), steps=3), TypeError, r"x_T must be a floating-point tensor"),
    # --- samplers.sample: what the model returns ---
    ("model returns a tuple", lambda: sample(model=_returns(lambda x: (torch.zeros_like(x),)), steps=3), TypeError,
     r"must return a torch.Tensor.*got tuple.*return_dict=False"),
    ("model returns None", lambda: sample(model=_returns(None), steps=3), TypeError, r"got NoneType.*forget `return`"),
    ("model returns numpy", lambda: sample(model=_returns(lambda x: np.zeros(tuple(x.shape), np.float32)), steps=3),
     TypeError, r"got ndarray"),
    ("model returns a list", lambda: sample(model=_returns(lambda x: [0.0]), steps=3), TypeError, r"got list"),
    ("model is not callable", lambda: sample(model="unet", steps=3), TypeError, r"model must be callable"),
    # --- samplers.sample: timesteps, steps, spacing ---
    ("float timesteps", lambda: sample(steps=[999.5, 0.5]), ValueError, r"timesteps must be integers.*999.5"),
    ("bool timesteps", lambda: sample(steps=[True, False]), ValueError, r"must be integers, got dtype torch.bool"),
    ("steps as a spacing name", lambda: sample(steps="trailing"), ValueError, r"use spacing='trailing'"),
    ("timesteps and spacing", lambda: sample(steps=[999, 500], spacing="leading"), ValueError,
     r"explicit timestep list fixes the spacing"),
    ("loop: timesteps ascending", lambda: samplers.sample_ddim(Denoiser(ORC, S), X, [10, 500]), ValueError,
     r"strictly descending"),
    ("loop: a model, not a denoiser", lambda: samplers.sample_ddim(ORC, X, [999, 500]), TypeError,
     r"denoiser must be a ddim_teach Denoiser"),
    ("steps=1, leading", lambda: sample(steps=1, spacing="leading"), ValueError,
     r"steps=1 with 'leading' spacing runs only t=0.*use spacing='trailing'"),
    ("steps=1, linspace", lambda: sample(steps=1, spacing="linspace"), ValueError, r"steps=1 with 'linspace'"),
    # --- samplers.sample: arguments a method would ignore ---
    ("eta with method='ddpm'", lambda: sample(steps=5, method="ddpm", eta=0.5), ValueError,
     r"method='ddpm' takes no eta"),
    ("eta=0 with method='ddpm'", lambda: sample(steps=5, method="ddpm", eta=0.0), ValueError,
     r"method='ddpm' takes no eta"),
    ("variance with method='ddim'", lambda: sample(steps=5, variance="fixed_large"), ValueError,
     r"variance='fixed_large' applies only to method='ddpm'"),
    ("variance with method='heun'", lambda: sample(steps=5, method="heun", variance="fixed_small"), ValueError,
     r"applies only to method='ddpm'"),
    ("sigma_hat with method='heun'", lambda: sample(steps=5, eta="sigma_hat", method="heun"), ValueError,
     r"eta='sigma_hat' means method='ddpm', variance='fixed_large'"),
    ("sigma_hat with method='ddim'", lambda: sample(steps=5, eta="sigma_hat", method="ddim"), ValueError,
     r"eta='sigma_hat' means method='ddpm'"),
    ("sigma_hat with fixed_small", lambda: sample(steps=5, eta="sigma_hat", variance="fixed_small"), ValueError,
     r"eta='sigma_hat' means method='ddpm'"),
    ("use_clipped_model_output without clip_sample", lambda: Denoiser(ORC, S, use_clipped_model_output=True),
     ValueError, r"needs clip_sample=True"),
    ("noises for a run without noise", lambda: ddim(0.0, noises=torch.randn(5, 4, 2)), ValueError,
     r"eta = 0 adds no noise"),
    ("noises and generator", lambda: ddim(noises=torch.randn(5, 4, 2), generator=torch.Generator()), ValueError,
     r"not both"),
    ("noises of the wrong shape", lambda: ddim(noises=torch.randn(4, 4, 2)), ValueError,
     r"noises must be a tensor of shape \(5, 4, 2\)"),
    ("noises in another dtype", lambda: ddim(noises=torch.randn(5, 4, 2, dtype=torch.float64)),
     ValueError, r"noises must have x_T's dtype"),
    ("noises with NaN", lambda: ddim(noises=_with(torch.randn(5, 4, 2), 7, float("nan"))),
     ValueError, r"noises contain NaN"),
    ("generator an int", lambda: sample(steps=5, eta=1.0, generator=0), TypeError,
     r"generator must be a torch.Generator"),
    ("record_every=True", lambda: sample(steps=5, record_every=True), ValueError, r"record_every must be an integer >= 1, got True"),
    ("callback not callable", lambda: sample(steps=5, callback="print"), TypeError, r"callback must be callable"),
    ("schedule a tensor", lambda: samplers.sample(ORC, S.betas, X, steps=5), TypeError,
     r"schedule must be a ddim_teach Schedule"),
    ("prediction_type misspelt", lambda: Denoiser(lambda x, t: x, S, prediction_type="v"), ValueError,
     r"prediction_type must be one of .*got 'v'"),
    ("prediction_type against the model's own", lambda: Denoiser(ORC, S, prediction_type="sample"), ValueError,
     r"prediction_type='sample', but the model says it predicts 'epsilon'"),
    ("epsilon model on a zero-SNR schedule", lambda: sample(schedule=ZSNR, model=oracles.GaussianOracle(ZSNR),
                                                            steps=10), ValueError,
     r"alpha_bar is 0 at t=999.*v- or x0-predicting model"),
    # --- samplers.ddim_invert ---
    ("invert: x0 with NaN", lambda: samplers.ddim_invert(ORC, S, _with(X, 1, float("nan")), steps=5), ValueError,
     r"x0 contains NaN"),
    ("invert: steps=1 leading", lambda: samplers.ddim_invert(ORC, S, X, steps=1, spacing="leading"), ValueError,
     r"steps=1 with 'leading'"),
    ("invert: float timesteps", lambda: samplers.ddim_invert(ORC, S, X, steps=[600.2, 300.0]), ValueError,
     r"must be integers"),
    # --- the step functions ---
    ("ddim_step: eps_hat of another shape", lambda: samplers.ddim_step(X, torch.zeros(2), AB, ABP), ValueError,
     r"eps_hat has shape \(2,\), x_t has \(4, 2\)"),
    ("ddim_step: noise of another shape", lambda: samplers.ddim_step(X, X, AB, ABP, 1.0, torch.zeros(1, 2)),
     ValueError, r"noise has shape"),
    ("ddim_step: x_t a numpy array", lambda: samplers.ddim_step(X.numpy(), X, AB, ABP), TypeError,
     r"x_t must be a floating-point tensor"),
    ("ddim_step: x0_hat of another shape", lambda: samplers.ddim_step(X, X, AB, ABP, x0_hat=X[:1]),
     ValueError, r"x0_hat has shape \(1, 2\), x_t has \(4, 2\)"),
    ("ddpm_step: upward step", lambda: samplers.ddpm_step(X, X, ABP, AB), ValueError,
     r"alpha_bar_prev \(0.07.*\) must be >= alpha_bar_t \(0.12.*\) in a DDPM step"),
    ("ddpm_step: alpha_bar_t = 1", lambda: samplers.ddpm_step(X, X, 1.0, 1.0), ValueError,
     r"alpha_bar_t must lie in \[0, 1\)"),
    ("ddpm_variance: upward step", lambda: samplers.ddpm_variance(0.6, 0.3), ValueError,
     r"alpha_bar_prev \(0.3\) must be >= alpha_bar_t \(0.6\)"),
    ("predict_x0: alpha_bar a bool", lambda: samplers.predict_x0(X, X, True), TypeError,
     r"alpha_bar_t must be a number or a tensor, got bool"),
    ("predict_x0: alpha_bar a string", lambda: samplers.predict_x0(X, X, "0.5"), TypeError,
     r"alpha_bar_t must be a number or a tensor, got str"),
    ("predict_x0: alpha_bar = 0", lambda: samplers.predict_x0(X, X, 0.0), ValueError,
     r"alpha_bar_t must lie in \(0, 1\].*zero terminal SNR"),
    ("predict_x0: alpha_bar > 1", lambda: samplers.predict_x0(X, X, torch.full((4, 1), 1.5, dtype=torch.float64)),
     ValueError, r"alpha_bar_t must lie in \(0, 1\]"),
    ("ddim_sigma: eta a string", lambda: samplers.ddim_sigma(AB, ABP, "one"), ValueError,
     r"eta must be a number in \[0, 1\]"),
    ("slerp: zero vector", lambda: samplers.slerp(torch.zeros(2, 4), torch.ones(2, 4), 0.5), ValueError,
     r"nonzero z0 and z1"),
    ("slerp: alpha 2-D", lambda: samplers.slerp(X, X.flip(0), torch.zeros(2, 2)), ValueError,
     r"alpha must be a number or a 1-D tensor"),
    ("slerp: no batch dimension", lambda: samplers.slerp(torch.randn(8), torch.randn(8), 0.5), ValueError,
     r"batches of shape \(B, ...\)"),
    ("slerp: alpha NaN", lambda: samplers.slerp(X, X.flip(0), float("nan")), ValueError, r"alpha must be finite"),
    # --- schedules ---
    ("beta_start = 0", lambda: schedules.make_betas("linear", 1000, beta_start=0.0), ValueError,
     r"beta_start must be a number in \(0.0, 1.0\], got 0.0"),
    ("beta_end = 0", lambda: schedules.make_betas("linear", 1000, beta_end=0.0), ValueError,
     r"beta_end must be a number in \(0.0, 1.0\], got 0.0"),
    ("decreasing betas (linear)", lambda: schedules.make_betas("linear", 1000, beta_start=0.02, beta_end=1e-4),
     ValueError, r"beta_start \(0.02\) must be smaller than beta_end \(0.0001\)"),
    ("decreasing betas (sigmoid)", lambda: schedules.make_betas("sigmoid", 100, beta_start=0.02, beta_end=1e-4),
     ValueError, r"must be smaller than beta_end"),
    ("cosine with beta_end", lambda: schedules.make_betas("cosine", 1000, beta_end=0.02), ValueError,
     r"the cosine schedule takes no beta_end"),
    ("linear with cosine_s", lambda: schedules.make_betas("linear", 1000, cosine_s=0.1), ValueError,
     r"cosine_s belong\(s\) to the cosine schedule"),
    ("beta_start a string", lambda: schedules.make_schedule("linear", beta_start="1e-4"), ValueError,
     r"beta_start must be a number"),
    ("custom decreasing betas", lambda: schedules.Schedule(torch.tensor([0.02, 0.01, 0.03])), ValueError,
     r"betas must not decrease with t: beta\[0\]"),
    ("custom betas a string", lambda: schedules.Schedule("0.1, 0.2"), ValueError, r"betas must be a 1-D sequence"),
    ("custom beta = 0", lambda: schedules.Schedule(torch.tensor([0.0, 0.1])), ValueError,
     r"betas must lie in \(0, 1\], got \[0.0\]"),
    ("rescale_to_zero_snr not a bool", lambda: schedules.make_schedule("linear", rescale_to_zero_snr="yes"),
     ValueError, r"rescale_to_zero_snr must be True or False"),
    ("zero SNR with T = 1", lambda: schedules.make_schedule("linear", 1, rescale_to_zero_snr=True), ValueError,
     r"needs at least 2 timesteps"),
    ("T a bool", lambda: schedules.timesteps(True, 1), ValueError, r"T must be an integer >= 1, got True"),
    ("q_sample at a float t", lambda: S.q_sample(X, 500.7, X), ValueError, r"timestep must be integers.*500.7"),
    ("q_sample t of the wrong length", lambda: S.q_sample(X, torch.tensor([1, 2, 3]), X), ValueError,
     r"t must be one integer or one per batch element, shape \(4,\)"),
    ("q_sample without noise", lambda: S.q_sample(X, 10, None), TypeError, r"noise must be a tensor"),
    ("alpha_bar at a float t", lambda: S.alpha_bar(500.5), ValueError, r"must be integers"),
    ("alpha_bar at t=True", lambda: S.alpha_bar(True), ValueError, r"timestep must be an integer"),
    ("timesteps: float list", lambda: schedules.timesteps(1000, spacing=[999.5, 0.5]), ValueError,
     r"timesteps must be integers"),
    ("timesteps: steps with a list", lambda: schedules.timesteps(1000, 10, spacing=[999, 0]), ValueError,
     r"pass steps=None with it"),
    ("timesteps: steps_offset a float", lambda: schedules.timesteps(1000, 10, "leading", steps_offset=1.5),
     ValueError, r"steps_offset must be an integer >= 0, got 1.5"),
    ("x0_from_eps at alpha_bar = 0", lambda: ZSNR.x0_from_eps(X, 999, X), ValueError, r"zero terminal SNR"),
    # --- ode ---
    ("ode_sigma at alpha_bar = 0", lambda: ode.ode_sigma(0.0), ValueError, r"alpha_bar must lie in \(0, 1\]"),
    ("to_ode at alpha_bar > 1", lambda: ode.to_ode(X, 1.5), ValueError, r"alpha_bar must lie in \(0, 1\], got 1.5"),
    ("euler_step: eps of another shape", lambda: ode.euler_step(X, torch.zeros(2), AB, ABP), ValueError,
     r"eps_hat has shape \(2,\), x_t has \(4, 2\)"),
    ("heun_step: eps_prev of another shape", lambda: ode.heun_step(X, X, AB, ABP, torch.zeros(1, 2)), ValueError,
     r"eps_hat_prev has shape \(1, 2\), x_t has \(4, 2\)"),
    ("velocity at a float t", lambda: ode.velocity(ORC, X, 400.5), ValueError, r"t must be integers"),
    ("velocity: model returns a tuple", lambda: ode.velocity(_returns(lambda x: (x,)), X, 400), TypeError,
     r"got tuple"),
    # --- oracles ---
    ("GaussianOracle s a string", lambda: oracles.GaussianOracle(S, s="1"), ValueError, r"s must be a positive finite number"),
    ("GaussianOracle prediction_type", lambda: oracles.GaussianOracle(S, prediction_type="x0"), ValueError,
     r"prediction_type must be one of"),
    ("GaussianMixtureOracle 1-D means", lambda: oracles.GaussianMixtureOracle(S, [0.0, 1.0], 0.5), ValueError,
     r"means must have shape \(K, d\)"),
    ("GaussianMixtureOracle weights length", lambda: oracles.GaussianMixtureOracle(S, [[0.0], [1.0]], 0.5, [1.0]),
     ValueError, r"weights K numbers"),
    # --- diagnose ---
    ("run_checks: float64 x0 for a float32 U-Net", lambda: diagnose.run_checks(NET, S, IMG.double()), ValueError,
     r"x0 is torch.float64 but the model's weights are torch.float32"),
    ("run_checks: x0 with NaN", lambda: diagnose.run_checks(NET, S, _with(IMG, 5, float("nan"))), ValueError,
     r"x0 contains NaN"),
    ("run_checks: schedule a tensor", lambda: diagnose.run_checks(NET, S.alpha_bars, IMG), TypeError,
     r"schedule must be a ddim_teach Schedule"),
    ("run_checks: seed a float", lambda: diagnose.run_checks(NET, S, IMG, seed=0.5), ValueError,
     r"seed must be an integer"),
    # --- unet ---
    ("UNet: float64 input", lambda: NET(IMG.double(), torch.tensor([1, 2])), ValueError,
     r"x is torch.float64.*weights are torch.float32"),
    ("UNet: a float timestep", lambda: NET(IMG, torch.tensor([1.5, 2.0])), ValueError,
     r"t must hold integer timesteps"),
    # --- metrics ---
    ("frechet_distance: NaN features", lambda: metrics.frechet_distance(_with(torch.randn(5, 3), 2, float("nan")),
                                                                        torch.randn(5, 3)), ValueError, r"NaN or inf"),
    ("features: images without a channel", lambda: metrics.features(None, torch.zeros(3, 28, 28)), ValueError,
     r"shape \(N, 1, 28, 28\)"),
    ("probabilities: images with NaN", lambda: metrics.probabilities(None, _with(IMG, 0, float("nan"))), ValueError,
     r"images contain NaN"),
    ("confidence: threshold 90", lambda: metrics.confidence(torch.full((3, 10), 0.1), threshold=90), ValueError,
     r"threshold must be a probability"),
    ("class_histogram: probs of 1 sample without batch", lambda: metrics.class_histogram(torch.full((10,), 0.1)),
     ValueError, r"shape \(N, 10\)"),
    ("nearest_train_distance: sizes differ", lambda: metrics.nearest_train_distance(IMG, torch.zeros(3, 1, 14, 14)),
     ValueError, r"differ in size"),
]


@pytest.mark.parametrize("call,exc,match", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_input_gets_a_clear_error(call, exc, match):
    with pytest.raises(exc, match=match) as info:
        call()
    msg = str(info.value)
    assert "\n" not in msg and len(msg) < 400, msg  # one line, short


# --- documented behaviour where an input looks odd but is fine -------------------------------------------
class _Output:
    def __init__(self, sample):
        self.sample = sample


def test_diffusers_style_output_object_is_accepted():
    """A model returning an object with a tensor ``.sample`` (diffusers' UNet2DOutput) is unwrapped."""
    def boxed(x, t):
        return _Output(ORC(x, t))
    plain = sample(steps=5, record_every=None).final
    assert torch.equal(sample(model=boxed, steps=5, record_every=None).final, plain)


def test_whole_float_timesteps_are_accepted_and_nonzero_steps_offset_works():
    assert schedules.timesteps(1000, spacing=[999.0, 500.0]).tolist() == [999, 500]
    assert S.alpha_bar(torch.tensor(500.0)).item() == S.alpha_bars[500].item()
    assert schedules.timesteps(1000, 10, "leading", steps_offset=1).tolist()[0] == 901


def test_zero_length_step_adds_no_noise():
    """sigma of a step of length zero is 0, also at alpha_bar = 1, where eq. 16 reads 0/0."""
    assert samplers.ddim_sigma(1.0, 1.0, 1.0).item() == 0.0
    assert samplers.ddpm_variance(0.3, 0.3).item() == 0.0


def test_default_beta_range_is_used_only_when_not_given():
    """Explicit values are honoured (no ``x or default``): a tiny beta_start is kept, not replaced."""
    b = schedules.make_betas("linear", 10, beta_start=1e-6)
    assert b[0].item() == 1e-6 and b[-1].item() == pytest.approx(0.02)
    assert schedules.make_betas("linear", 10)[0].item() == pytest.approx(1e-4)


def test_numpy_and_tensor_eta_are_numbers():
    a = sample(steps=5, eta=np.float32(0.5), generator=torch.Generator().manual_seed(0)).final
    b = sample(steps=5, eta=0.5, generator=torch.Generator().manual_seed(0)).final
    assert torch.equal(a, b)
    assert math.isclose(samplers.ddim_sigma(AB, ABP, torch.tensor(0.5)).item(),
                        samplers.ddim_sigma(AB, ABP, 0.5).item())
