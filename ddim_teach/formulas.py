"""Every formula of the course, once, as a plain function of alpha_bar.

Notation. ``alpha_bar`` is DDPM's ᾱ_t = prod_{s<=t} (1 - beta_s) (Ho et al. 2020), which the DDIM paper
(Song et al. 2021) calls α_t. ``alpha_bar_t`` is the level a step starts from, ``alpha_bar_prev`` the less
noisy level it goes to (the next entry of the timestep list; 1, the clean image, after the last one).
An alpha_bar may be a number, a 0-dim tensor, or one value per sample: shape (B,) (applied along x's first
dimension, whatever x's rank) or (B, 1, 1, 1) (:func:`per_sample`). Numbers become float64 0-dim tensors; a
tensor with dimensions takes x's dtype. Tensors that enter a formula together (x_t and eps_hat, say) must have
one dtype: float32 and float64 are not mixed silently.

Contents, in the order a reader meets them in the course:

* the table: :func:`alpha_bar_from_betas`, :func:`alpha_bar_at` (ᾱ with ᾱ_{-1} = 1), :func:`alpha_bar_prevs`;
* the forward process: :func:`q_sample` (DDPM eq. 4);
* the parameterisations: :func:`predict_x0` (DDIM eq. 9), :func:`eps_from_x0`, :func:`v_from`,
  :func:`x0_from_v`, :func:`eps_from_v` (Salimans & Ho 2022);
* DDPM's posterior for any pair of timesteps: :func:`step_beta`, :func:`posterior_mean`,
  :func:`posterior_variance` (DDPM eqs. 6-7);
* DDIM: :func:`ddim_sigma` (eq. 16) and :func:`ddim_mean` (eq. 12 without its noise);
* the ODE's coordinates: :func:`ode_sigma`, :func:`to_ode`, :func:`from_ode` (DDIM eq. 14), and the half
  log-SNR :func:`half_log_snr` in which DPM-Solver integrates.

The functions a caller uses directly check their arguments (:mod:`ddim_teach.checks`, which imports nothing;
:func:`alpha_bar_from_betas`, :func:`alpha_bar_at` and :func:`step_beta` are helpers whose callers have checked
theirs) and import nothing else from the package: every other module, the exercise references included, calls these.
"""
from __future__ import annotations

import torch

from . import checks


# --- the table ----------------------------------------------------------------------------------------------
def alpha_bar_from_betas(betas: torch.Tensor) -> torch.Tensor:
    """ᾱ_t = prod_{s<=t} (1 - beta_s), t = 0 .. T-1 (DDPM, Sec. 2: alpha_t = 1 - beta_t)."""
    return torch.cumprod(1 - betas, 0)


def alpha_bar_at(alpha_bars: torch.Tensor, t) -> torch.Tensor:
    """ᾱ at 0-based timestep(s) ``t``, where t = -1 means "before the first step": ᾱ = 1, the clean image.

    ``t`` must lie in -1 .. T-1 (a LongTensor or an int); the caller checks the range."""
    return torch.cat([torch.ones(1, dtype=alpha_bars.dtype), alpha_bars])[torch.as_tensor(t) + 1]


def alpha_bar_prevs(alpha_bars: torch.Tensor, timesteps: torch.Tensor) -> torch.Tensor:
    """The ᾱ_prev of every step of a descending timestep list: ᾱ at the *next entry* of the list (never at
    t - 1 or t - stride), and 1 after the last entry (the clean image; diffusers' ``set_alpha_to_one``)."""
    t_prev = torch.cat([timesteps[1:], torch.full((1,), -1, dtype=timesteps.dtype)])
    return alpha_bar_at(alpha_bars, t_prev)


def per_sample(a: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """One value per sample, shape (B,), as (B, 1, 1, ...) in x's dtype on x's device, to broadcast against x."""
    return a.to(x.dtype).reshape(-1, *([1] * (x.dim() - 1))).to(x.device)


# --- the forward process ------------------------------------------------------------------------------------
def q_sample(x0: torch.Tensor, noise: torch.Tensor, alpha_bar) -> torch.Tensor:
    """x_t = sqrt(ᾱ_t) x0 + sqrt(1 - ᾱ_t) eps: a draw from q(x_t | x0) (DDPM eq. 4), with ``noise`` = eps."""
    checks.like(x0, "x0", noise=noise)
    ab = checks.per_sample(checks.alpha_bar(alpha_bar, "alpha_bar"), x0, "alpha_bar", "x0")
    return ab.sqrt() * x0 + (1 - ab).sqrt() * noise


# --- the parameterisations ----------------------------------------------------------------------------------
def predict_x0(x_t, eps_hat, alpha_bar_t) -> torch.Tensor:
    """x0_hat = (x_t - sqrt(1 - ᾱ_t) eps_hat) / sqrt(ᾱ_t)  (DDIM eq. 9, "predicted x0").

    ᾱ_t must be > 0: at ᾱ = 0 (zero terminal SNR) eps_hat carries no information about x0."""
    checks.like(x_t, eps_hat=eps_hat)
    ab = checks.per_sample(checks.alpha_bar(alpha_bar_t, "alpha_bar_t", allow_zero=False), x_t, "alpha_bar_t")
    return (x_t - (1 - ab).sqrt() * eps_hat) / ab.sqrt()


def eps_from_x0(x_t, x0_hat, alpha_bar_t) -> torch.Tensor:
    """eps_hat = (x_t - sqrt(ᾱ_t) x0_hat) / sqrt(1 - ᾱ_t): eq. 9 solved for eps (ᾱ_t < 1)."""
    checks.like(x_t, x0_hat=x0_hat)
    ab = checks.per_sample(checks.alpha_bar(alpha_bar_t, "alpha_bar_t", allow_one=False), x_t, "alpha_bar_t")
    return (x_t - ab.sqrt() * x0_hat) / (1 - ab).sqrt()


def v_from(x0, eps, alpha_bar) -> torch.Tensor:
    """v = sqrt(ᾱ_t) eps - sqrt(1 - ᾱ_t) x0  (Salimans & Ho 2022, "v-prediction")."""
    checks.like(x0, "x0", eps=eps)
    ab = checks.per_sample(checks.alpha_bar(alpha_bar, "alpha_bar"), x0, "alpha_bar", "x0")
    return ab.sqrt() * eps - (1 - ab).sqrt() * x0


def x0_from_v(x_t, v, alpha_bar) -> torch.Tensor:
    """x0 = sqrt(ᾱ_t) x_t - sqrt(1 - ᾱ_t) v (defined at ᾱ = 0, zero terminal SNR)."""
    checks.like(x_t, v=v)
    ab = checks.per_sample(checks.alpha_bar(alpha_bar, "alpha_bar"), x_t, "alpha_bar")
    return ab.sqrt() * x_t - (1 - ab).sqrt() * v


def eps_from_v(x_t, v, alpha_bar) -> torch.Tensor:
    """eps = sqrt(1 - ᾱ_t) x_t + sqrt(ᾱ_t) v."""
    checks.like(x_t, v=v)
    ab = checks.per_sample(checks.alpha_bar(alpha_bar, "alpha_bar"), x_t, "alpha_bar")
    return (1 - ab).sqrt() * x_t + ab.sqrt() * v


# --- DDPM's posterior q(x_prev | x_t, x0), for any pair of timesteps ----------------------------------------
_PURE_NOISE = "alpha_bar_prev = 0 is pure noise: a step toward the data cannot end there"
VARIANCES = ("fixed_small", "fixed_large")  # a DDPM step's variance: beta_tilde (eq. 7) or the step's beta
def step_beta(alpha_bar_t, alpha_bar_prev):
    """The step's own beta = 1 - ᾱ_t / ᾱ_prev (the usual beta_t when t_prev = t - 1)."""
    return 1 - alpha_bar_t / alpha_bar_prev


def posterior_mean(x_t, x0_hat, alpha_bar_t, alpha_bar_prev) -> torch.Tensor:
    """mu_tilde(x_t, x0) = sqrt(ᾱ_prev) beta / (1 - ᾱ_t) x0 + sqrt(1 - beta) (1 - ᾱ_prev) / (1 - ᾱ_t) x_t
    (DDPM eq. 7), with beta = :func:`step_beta`. Scalars ᾱ_t < 1 and ᾱ_prev >= ᾱ_t."""
    checks.like(x_t, x0_hat=x0_hat)
    ab = checks.scalar_alpha_bar(alpha_bar_t, "alpha_bar_t", allow_one=False)
    abp = checks.scalar_alpha_bar(alpha_bar_prev, "alpha_bar_prev", allow_zero=False, zero_means=_PURE_NOISE)
    checks.toward_less_noise(ab, abp, "in the posterior")
    beta = step_beta(ab, abp)
    return (abp.sqrt() * beta / (1 - ab)) * x0_hat + ((1 - beta).sqrt() * (1 - abp) / (1 - ab)) * x_t


def posterior_variance(alpha_bar_t, alpha_bar_prev) -> torch.Tensor:
    """beta_tilde = (1 - ᾱ_prev) / (1 - ᾱ_t) beta (DDPM eq. 7), elementwise over tensors of ᾱ (in their dtype;
    numbers become float64).

    0 for a step of length zero (ᾱ_prev = ᾱ_t), and 0 at the last step to ᾱ_prev = 1."""
    ab = checks.alpha_bar(alpha_bar_t, "alpha_bar_t", allow_one=False)
    abp = checks.alpha_bar(alpha_bar_prev, "alpha_bar_prev", allow_zero=False, zero_means=_PURE_NOISE)
    if bool((ab > abp).any()):
        i = (ab > abp).nonzero()[0] if ab.dim() else ()
        checks.toward_less_noise(ab[tuple(i)], abp.expand_as(ab)[tuple(i)], "in the posterior")
    var = (1 - abp) / (1 - ab) * step_beta(ab, abp)
    return torch.where(ab == abp, torch.zeros_like(var), var)


# --- DDIM ---------------------------------------------------------------------------------------------------
def ddim_sigma(alpha_bar_t, alpha_bar_prev, eta: float = 0.0) -> torch.Tensor:
    """sigma_t(eta) = eta sqrt((1 - ᾱ_prev)/(1 - ᾱ_t)) sqrt(1 - ᾱ_t/ᾱ_prev)  (DDIM eq. 16). A float64 scalar.

    Written as the paper writes it; it equals eta sqrt(beta_tilde) (:func:`posterior_variance`), to rounding
    (tests/test_samplers.py::test_sigma_not_sigma_squared checks that).

    The *standard deviation* of the noise a step adds (its variance is sigma²); at eta = 1 the variance is
    DDPM's beta_tilde. With eta = 0 it is 0 also for an upward (inversion) step, ᾱ_prev < ᾱ_t."""
    eta = checks.eta(eta)
    ab = checks.scalar_alpha_bar(alpha_bar_t, "alpha_bar_t")
    abp = checks.scalar_alpha_bar(alpha_bar_prev, "alpha_bar_prev")
    if eta == 0.0:
        return torch.zeros((), dtype=torch.float64)
    checks.toward_less_noise(ab, abp, "when eta > 0")
    if ab == abp:  # a step of length zero adds no noise (and 0/0 is avoided at ᾱ = 1 or ᾱ_prev = 0)
        return torch.zeros((), dtype=torch.float64)
    return eta * ((1 - abp) / (1 - ab)).sqrt() * (1 - ab / abp).sqrt()


def ddim_mean(x0_hat, eps_hat, alpha_bar_prev, sigma) -> torch.Tensor:
    """sqrt(ᾱ_prev) x0_hat + sqrt(1 - ᾱ_prev - sigma²) eps_hat: DDIM eq. 12 before its noise sigma z
    ("predicted x0" plus "direction pointing to x_t"). 1 - ᾱ_prev - sigma² below 0 counts as 0: rounding makes it
    -1e-17 at eta = 1; a sigma far above sqrt(1 - ᾱ_prev) (a variance passed as a std) is refused."""
    checks.like(x0_hat, "x0_hat", eps_hat=eps_hat)
    abp = checks.per_sample(checks.alpha_bar(alpha_bar_prev, "alpha_bar_prev"), x0_hat, "alpha_bar_prev", "x0_hat")
    if isinstance(sigma, torch.Tensor):
        sigma = checks.per_sample(sigma, x0_hat, "sigma", "x0_hat")
    if bool((torch.as_tensor(sigma) ** 2 > 1 - abp + 1e-9).any()):
        raise ValueError(f"sigma ({float(torch.as_tensor(sigma).max()):.4g}) exceeds sqrt(1 - alpha_bar_prev): no DDIM step "
                         "has that much noise (eq. 12 needs sigma^2 <= 1 - alpha_bar_prev; a variance given as a std?)")
    return abp.sqrt() * x0_hat + (1 - abp - sigma ** 2).clamp(min=0).sqrt() * eps_hat


# --- the ODE's coordinates (DDIM Sec. 4.3) -------------------------------------------------------------------
def ode_sigma(alpha_bar) -> torch.Tensor:
    """σ = sqrt(1 - ᾱ) / sqrt(ᾱ): the ODE's time variable (DDIM eq. 14), 0 at ᾱ = 1, the data end.

    It is also how much an error in eps_hat is magnified in x0_hat (eq. 9). Not DDIM's sigma_t(eta)."""
    ab = _ode_alpha_bar(alpha_bar)
    return ((1 - ab) / ab).sqrt()


def to_ode(x: torch.Tensor, alpha_bar) -> torch.Tensor:
    """x̄ = x / sqrt(ᾱ)."""
    checks.like(x, "x")
    return x / checks.per_sample(_ode_alpha_bar(alpha_bar), x, "alpha_bar", "x").sqrt()


def from_ode(x_bar: torch.Tensor, alpha_bar) -> torch.Tensor:
    """x = sqrt(ᾱ) · x̄."""
    checks.like(x_bar, "x_bar")
    return x_bar * checks.per_sample(_ode_alpha_bar(alpha_bar), x_bar, "alpha_bar", "x_bar").sqrt()


def half_log_snr(alpha_bar) -> torch.Tensor:
    """λ = log(sqrt(ᾱ) / sqrt(1 - ᾱ)) = ½ log SNR (DPM-Solver's λ_t, Lu et al. 2022, Sec. 3.1; not the whole log-SNR).

    λ = -log σ of the ODE's σ (:func:`ode_sigma`): +inf at ᾱ = 1, -inf at ᾱ = 0. In λ the probability-flow ODE is
    semi-linear, and its exact solution over a step is what DPM-Solver approximates (:mod:`ddim_teach.samplers`)."""
    ab = torch.as_tensor(checks.alpha_bar(alpha_bar, "alpha_bar"), dtype=torch.float64)
    return 0.5 * (torch.log(ab) - torch.log1p(-ab))


def _ode_alpha_bar(alpha_bar) -> torch.Tensor:
    why = "at alpha_bar = 0, zero terminal SNR, the ODE's sigma is infinite"
    return torch.as_tensor(checks.alpha_bar(alpha_bar, "alpha_bar", allow_zero=False, zero_means=why),
                           dtype=torch.float64)
