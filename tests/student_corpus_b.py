"""Held-out student-answer corpus "b" for the course's 32 exercises (DDPM/DDIM notebooks 1-10).

How it was written: by hand, from the English notebooks' exercise statements (and their folded solutions, read
only to confirm the contracts), plus the package's formulas/samplers/schedules/ode/oracles/denoiser modules for
conventions. It was written WITHOUT reading the checker's reference and mistake lists (ddim_teach/exercises,
mistakes.py, pitfalls.py bodies, i18n.py), the exercise tests, the other corpus (tests/student_corpus.py) or the
checker-corpus scripts, so that it can serve as a held-out test of the checker's verdicts and hints.
The answers for the four exercises ddim_sample_loop (4.4), cfg_eps, classifier_guided_eps and guided_ddim_step
(10.1-10.3) were added later, by another writer, under the same rules (and reading also the package's guidance module).

Each exercise has one CORRECT answer (kind="correct"), written in a style different from the notebook's solution,
and three WRONG answers (kind="wrong") of the kind a student plausibly writes from the statement: notation
confusions (α vs ᾱ, σ vs σ², the DDIM paper's α), algebra slips (a sign, a missing or misplaced square root,
a parenthesis), indexing and edge cases (the last step, t = 0, negative-index wrap-around, off-by-one, one-element
lists), dtype slips, in-place modification of an input, and argument/return-order mix-ups. Each wrong answer's
`bug` says, in one sentence, what is wrong and where it shows.

Nothing here runs at import time except building the list CORPUS of `Answer` records.
"""
from dataclasses import dataclass
from typing import Callable

import math
import torch


@dataclass(frozen=True)
class Answer:
    exercise: str      # the exercise's function name, e.g. "ddim_step"
    kind: str          # "correct" or "wrong"
    bug: str           # one sentence for a wrong answer; "" for a correct one
    fn: Callable


# =============================================================================================================
# Chapter 1: the forward process
# =============================================================================================================

# --- 1.1 alpha_bar_from_betas --------------------------------------------------------------------------------
def alpha_bar_from_betas__b_correct(betas):
    out = torch.empty_like(betas)
    running = torch.ones((), dtype=betas.dtype)
    for i in range(betas.shape[0]):
        running = running * (1 - betas[i])
        out[i] = running
    return out


def alpha_bar_from_betas__b_wrong_exclusive_product(betas):
    alphas = 1 - betas
    return torch.cat([torch.ones(1, dtype=betas.dtype), torch.cumprod(alphas, 0)[:-1]])


def alpha_bar_from_betas__b_wrong_sum_of_betas(betas):
    return 1 - torch.cumsum(betas, 0)


def alpha_bar_from_betas__b_wrong_float32(betas):
    return torch.cumprod(1 - betas.float(), dim=0)


# --- 1.2 q_sample --------------------------------------------------------------------------------------------
def q_sample__b_correct(x0, alpha_bar_t, noise):
    ab = float(alpha_bar_t)
    signal_scale, noise_scale = math.sqrt(ab), math.sqrt(1.0 - ab)
    return signal_scale * x0 + noise_scale * noise


def q_sample__b_wrong_variances_as_scales(x0, alpha_bar_t, noise):
    return alpha_bar_t * x0 + (1 - alpha_bar_t) * noise


def q_sample__b_wrong_sqrt_inside_noise_scale(x0, alpha_bar_t, noise):
    return alpha_bar_t.sqrt() * x0 + (1 - alpha_bar_t.sqrt()) * noise


def q_sample__b_wrong_float64_broadcast(x0, alpha_bar_t, noise):
    ab = alpha_bar_t.reshape([1] * x0.dim())          # a float64 tensor with dims: promotes a float32 batch
    return ab.sqrt() * x0 + (1 - ab).sqrt() * noise


# --- 1.3 snr -------------------------------------------------------------------------------------------------
def snr__b_correct(betas):
    ab = torch.cumprod(1.0 - betas, 0)
    return 1.0 / (1.0 / ab - 1.0)


def snr__b_wrong_std_ratio(betas):
    ab = torch.cumprod(1 - betas, 0)
    return ab.sqrt() / (1 - ab).sqrt()


def snr__b_wrong_one_step_alpha(betas):
    alphas = 1 - betas
    return alphas / (1 - alphas)


def snr__b_wrong_inverted(betas):
    ab = torch.cumprod(1 - betas, 0)
    return (1 - ab) / ab


# =============================================================================================================
# Chapter 2: DDPM
# =============================================================================================================

# --- 2.1 posterior_mean --------------------------------------------------------------------------------------
def posterior_mean__b_correct(x0, x_t, alpha_bar_t, alpha_bar_prev):
    one_minus = 1 - alpha_bar_t
    # sqrt(ᾱ_prev)·β = sqrt(ᾱ_prev) − ᾱ_t / sqrt(ᾱ_prev)
    coef_x0 = (alpha_bar_prev.sqrt() - alpha_bar_t / alpha_bar_prev.sqrt()) / one_minus
    coef_xt = (alpha_bar_t / alpha_bar_prev).sqrt() * (1 - alpha_bar_prev) / one_minus
    return coef_x0 * x0 + coef_xt * x_t


def posterior_mean__b_wrong_swapped_inputs(x0, x_t, alpha_bar_t, alpha_bar_prev):
    alpha = alpha_bar_t / alpha_bar_prev
    beta = 1 - alpha
    c_x0 = alpha_bar_prev.sqrt() * beta / (1 - alpha_bar_t)
    c_xt = alpha.sqrt() * (1 - alpha_bar_prev) / (1 - alpha_bar_t)
    return c_x0 * x_t + c_xt * x0


def posterior_mean__b_wrong_alpha_without_sqrt(x0, x_t, alpha_bar_t, alpha_bar_prev):
    alpha = alpha_bar_t / alpha_bar_prev
    beta = 1 - alpha
    return (alpha_bar_prev.sqrt() * beta / (1 - alpha_bar_t) * x0
            + alpha * (1 - alpha_bar_prev) / (1 - alpha_bar_t) * x_t)


def posterior_mean__b_wrong_cumulative_beta(x0, x_t, alpha_bar_t, alpha_bar_prev):
    alpha = alpha_bar_t / alpha_bar_prev
    beta = 1 - alpha_bar_t
    return (alpha_bar_prev.sqrt() * beta / (1 - alpha_bar_t) * x0
            + alpha.sqrt() * (1 - alpha_bar_prev) / (1 - alpha_bar_t) * x_t)


# --- 2.2 posterior_variance ----------------------------------------------------------------------------------
def posterior_variance__b_correct(alpha_bar_t, alpha_bar_prev):
    return (1 - alpha_bar_prev) * (alpha_bar_prev - alpha_bar_t) / ((1 - alpha_bar_t) * alpha_bar_prev)


def posterior_variance__b_wrong_returns_std(alpha_bar_t, alpha_bar_prev):
    beta = 1 - alpha_bar_t / alpha_bar_prev
    return ((1 - alpha_bar_prev) / (1 - alpha_bar_t) * beta).sqrt()


def posterior_variance__b_wrong_step_beta(alpha_bar_t, alpha_bar_prev):
    return 1 - alpha_bar_t / alpha_bar_prev


def posterior_variance__b_wrong_inverted_ratio(alpha_bar_t, alpha_bar_prev):
    beta = 1 - alpha_bar_t / alpha_bar_prev
    return (1 - alpha_bar_t) / (1 - alpha_bar_prev) * beta


# --- 2.3 ddpm_step -------------------------------------------------------------------------------------------
def ddpm_step__b_correct(x_t, eps_hat, alpha_bar_t, alpha_bar_prev, noise):
    # the ε-form of the posterior mean, (x_t − β/√(1−ᾱ_t) ε̂)/√α, evaluated in float64
    xt, e = x_t.double(), eps_hat.double()
    alpha = alpha_bar_t / alpha_bar_prev
    beta = 1 - alpha
    mean = (xt - beta / (1 - alpha_bar_t).sqrt() * e) / alpha.sqrt()
    var = (1 - alpha_bar_prev) / (1 - alpha_bar_t) * beta
    if noise is not None:
        mean = mean + var.clamp(min=0).sqrt() * noise.double()
    return mean.to(x_t.dtype)


def _ddpm_parts(x_t, eps_hat, alpha_bar_t, alpha_bar_prev):
    alpha = alpha_bar_t / alpha_bar_prev
    beta = 1 - alpha
    x0_hat = (x_t - (1 - alpha_bar_t).sqrt() * eps_hat) / alpha_bar_t.sqrt()
    mean = (alpha_bar_prev.sqrt() * beta / (1 - alpha_bar_t) * x0_hat
            + alpha.sqrt() * (1 - alpha_bar_prev) / (1 - alpha_bar_t) * x_t)
    beta_tilde = (1 - alpha_bar_prev) / (1 - alpha_bar_t) * beta
    return x0_hat, mean, beta, beta_tilde


def ddpm_step__b_wrong_variance_times_noise(x_t, eps_hat, alpha_bar_t, alpha_bar_prev, noise):
    x0_hat, mean, beta, beta_tilde = _ddpm_parts(x_t, eps_hat, alpha_bar_t, alpha_bar_prev)
    return mean + beta_tilde * noise, x0_hat


def ddpm_step__b_wrong_fixed_large(x_t, eps_hat, alpha_bar_t, alpha_bar_prev, noise):
    x0_hat, mean, beta, beta_tilde = _ddpm_parts(x_t, eps_hat, alpha_bar_t, alpha_bar_prev)
    return mean + beta.sqrt() * noise, x0_hat


def ddpm_step__b_wrong_tuple_order(x_t, eps_hat, alpha_bar_t, alpha_bar_prev, noise):
    x0_hat, mean, beta, beta_tilde = _ddpm_parts(x_t, eps_hat, alpha_bar_t, alpha_bar_prev)
    return x0_hat, mean + beta_tilde.sqrt() * noise


# --- 2.4 l_simple --------------------------------------------------------------------------------------------
def l_simple__b_correct(model, x0, t, noise, alpha_bars):
    ab = alpha_bars.index_select(0, t).to(x0.dtype).view(-1, *([1] * (x0.dim() - 1)))
    x_t = torch.sqrt(ab) * x0 + torch.sqrt(1 - ab) * noise
    return torch.nn.functional.mse_loss(model(x_t, t), noise)


def l_simple__b_wrong_t_minus_one(model, x0, t, noise, alpha_bars):
    ab = alpha_bars[t - 1].to(x0.dtype).reshape(-1, *([1] * (x0.dim() - 1)))
    x_t = ab.sqrt() * x0 + (1 - ab).sqrt() * noise
    return ((model(x_t, t) - noise) ** 2).mean()


def l_simple__b_wrong_float64_table(model, x0, t, noise, alpha_bars):
    ab = alpha_bars[t].reshape(-1, *([1] * (x0.dim() - 1)))        # float64 table promotes a float32 batch
    x_t = ab.sqrt() * x0 + (1 - ab).sqrt() * noise
    return ((model(x_t, t) - noise) ** 2).mean()


def l_simple__b_wrong_sum_per_image(model, x0, t, noise, alpha_bars):
    ab = alpha_bars[t].to(x0.dtype).reshape(-1, *([1] * (x0.dim() - 1)))
    x_t = ab.sqrt() * x0 + (1 - ab).sqrt() * noise
    return ((model(x_t, t) - noise) ** 2).flatten(1).sum(1).mean()


# =============================================================================================================
# Chapter 3: the DDIM derivation
# =============================================================================================================

# --- 3.1 ddim_coefficients (SymPy) ---------------------------------------------------------------------------
def ddim_coefficients__b_correct(alpha_bar_t, alpha_bar_prev, sigma):
    import sympy as sp
    msq = sp.Symbol("msq")                     # solve the variance equation for m² (linear), then take the root m > 0
    (msq_value,) = sp.solve(sp.Eq(msq * (1 - alpha_bar_t) + sigma ** 2, 1 - alpha_bar_prev), msq)
    m = sp.sqrt(msq_value)
    k = sp.sqrt(alpha_bar_prev) - m * sp.sqrt(alpha_bar_t)
    return k, m


def ddim_coefficients__b_wrong_sigma_dropped(alpha_bar_t, alpha_bar_prev, sigma):
    import sympy as sp
    m = sp.sqrt((1 - alpha_bar_prev) / (1 - alpha_bar_t))
    k = sp.sqrt(alpha_bar_prev) - m * sp.sqrt(alpha_bar_t)
    return k, m


def ddim_coefficients__b_wrong_sigma_as_variance(alpha_bar_t, alpha_bar_prev, sigma):
    import sympy as sp
    m = sp.sqrt((1 - alpha_bar_prev - sigma) / (1 - alpha_bar_t))
    k = sp.sqrt(alpha_bar_prev) - m * sp.sqrt(alpha_bar_t)
    return k, m


def ddim_coefficients__b_wrong_k_sign(alpha_bar_t, alpha_bar_prev, sigma):
    import sympy as sp
    m = sp.sqrt(1 - alpha_bar_prev - sigma ** 2) / sp.sqrt(1 - alpha_bar_t)
    k = sp.sqrt(alpha_bar_prev) + m * sp.sqrt(alpha_bar_t)
    return k, m


# --- 3.2 ddim_sigma ------------------------------------------------------------------------------------------
def ddim_sigma__b_correct(alpha_bar_t, alpha_bar_prev, eta):
    ab = torch.as_tensor(alpha_bar_t, dtype=torch.float64)
    abp = torch.as_tensor(alpha_bar_prev, dtype=torch.float64)
    beta_tilde = (1 - abp) * (abp - ab) / ((1 - ab) * abp)        # σ(η=1)² = β̃
    return eta * beta_tilde.clamp(min=0).sqrt()


def ddim_sigma__b_wrong_returns_variance(alpha_bar_t, alpha_bar_prev, eta):
    return eta * (1 - alpha_bar_prev) / (1 - alpha_bar_t) * (1 - alpha_bar_t / alpha_bar_prev)


def ddim_sigma__b_wrong_tutorial_scale(alpha_bar_t, alpha_bar_prev, eta):
    return eta * (1 - alpha_bar_prev).sqrt()


def ddim_sigma__b_wrong_eta_inside_sqrt(alpha_bar_t, alpha_bar_prev, eta):
    return (eta * (1 - alpha_bar_prev) / (1 - alpha_bar_t) * (1 - alpha_bar_t / alpha_bar_prev)).sqrt()


# --- 3.3 family_posterior_mean -------------------------------------------------------------------------------
def family_posterior_mean__b_correct(x0, x_t, alpha_bar_t, alpha_bar_prev, sigma):
    m = ((1 - alpha_bar_prev - sigma ** 2).clamp(min=0) / (1 - alpha_bar_t)).sqrt()
    k = alpha_bar_prev.sqrt() - m * alpha_bar_t.sqrt()
    return (k * x0 + m * x_t).to(x_t.dtype)


def family_posterior_mean__b_wrong_sigma_not_squared(x0, x_t, alpha_bar_t, alpha_bar_prev, sigma):
    eps = (x_t - alpha_bar_t.sqrt() * x0) / (1 - alpha_bar_t).sqrt()
    return alpha_bar_prev.sqrt() * x0 + (1 - alpha_bar_prev - sigma).sqrt() * eps


def family_posterior_mean__b_wrong_noise_not_normalised(x0, x_t, alpha_bar_t, alpha_bar_prev, sigma):
    return alpha_bar_prev.sqrt() * x0 + (1 - alpha_bar_prev - sigma ** 2).sqrt() * (x_t - alpha_bar_t.sqrt() * x0)


def family_posterior_mean__b_wrong_missing_sqrt_alpha_bar_t(x0, x_t, alpha_bar_t, alpha_bar_prev, sigma):
    eps = (x_t - alpha_bar_t * x0) / (1 - alpha_bar_t).sqrt()
    return alpha_bar_prev.sqrt() * x0 + (1 - alpha_bar_prev - sigma ** 2).sqrt() * eps


# =============================================================================================================
# Chapter 4: DDPM vs DDIM
# =============================================================================================================

# --- 4.1 ddim_step -------------------------------------------------------------------------------------------
def ddim_step__b_correct(x_t, eps_hat, alpha_bar_t, alpha_bar_prev, eta, noise):
    ab, abp = alpha_bar_t.double(), alpha_bar_prev.double()
    sigma = eta * ((1 - abp) * (abp - ab) / ((1 - ab) * abp)).clamp(min=0).sqrt()
    c_dir = (1 - abp - sigma ** 2).clamp(min=0).sqrt()
    # x_prev = √(ᾱ_prev/ᾱ_t) x_t + (c_dir − √ᾱ_prev √(1−ᾱ_t)/√ᾱ_t) ε̂ + σ z, in float64
    c_x = (abp / ab).sqrt()
    c_eps = c_dir - abp.sqrt() * (1 - ab).sqrt() / ab.sqrt()
    out = c_x * x_t.double() + c_eps * eps_hat.double()
    if noise is not None:
        out = out + sigma * noise.double()
    return out.to(x_t.dtype)


def ddim_step__b_wrong_one_step_alpha(x_t, eps_hat, alpha_bar_t, alpha_bar_prev, eta, noise):
    alpha = alpha_bar_t / alpha_bar_prev          # "the DDIM paper's α_t" read as DDPM's one-step α
    x0_hat = (x_t - (1 - alpha).sqrt() * eps_hat) / alpha.sqrt()
    sigma = eta * ((1 - alpha_bar_prev) / (1 - alpha_bar_t)).sqrt() * (1 - alpha_bar_t / alpha_bar_prev).sqrt()
    x_prev = alpha_bar_prev.sqrt() * x0_hat + (1 - alpha_bar_prev - sigma ** 2).clamp(min=0).sqrt() * eps_hat
    return x_prev + sigma * noise, x0_hat


def ddim_step__b_wrong_direction_ignores_sigma(x_t, eps_hat, alpha_bar_t, alpha_bar_prev, eta, noise):
    x0_hat = (x_t - (1 - alpha_bar_t).sqrt() * eps_hat) / alpha_bar_t.sqrt()
    sigma = eta * ((1 - alpha_bar_prev) / (1 - alpha_bar_t)).sqrt() * (1 - alpha_bar_t / alpha_bar_prev).sqrt()
    x_prev = alpha_bar_prev.sqrt() * x0_hat + (1 - alpha_bar_prev).sqrt() * eps_hat + sigma * noise
    return x_prev, x0_hat


def ddim_step__b_wrong_returns_float64(x_t, eps_hat, alpha_bar_t, alpha_bar_prev, eta, noise):
    x, e, z = x_t.double(), eps_hat.double(), noise.double()
    x0_hat = (x - (1 - alpha_bar_t).sqrt() * e) / alpha_bar_t.sqrt()
    sigma = eta * ((1 - alpha_bar_prev) / (1 - alpha_bar_t)).sqrt() * (1 - alpha_bar_t / alpha_bar_prev).sqrt()
    x_prev = alpha_bar_prev.sqrt() * x0_hat + (1 - alpha_bar_prev - sigma ** 2).clamp(min=0).sqrt() * e + sigma * z
    return x_prev, x0_hat


# --- 4.2 timesteps -------------------------------------------------------------------------------------------
def timesteps__b_correct(T, steps, spacing):
    if spacing == "leading":
        stride = T // steps
        values = [stride * i for i in range(steps - 1, -1, -1)]
    elif spacing == "trailing":
        delta = (T - T / steps) - T                      # the positions T, T − T/S, ... as arange would fill them
        values = [round(T + i * delta) - 1 for i in range(steps)]     # Python's round: half to even
    else:
        raise ValueError(f"unknown spacing {spacing!r}")
    return torch.tensor(values, dtype=torch.long)


def timesteps__b_wrong_trailing_without_minus_one(T, steps, spacing):
    if spacing == "leading":
        return (torch.arange(steps) * (T // steps)).flip(0)
    if spacing == "trailing":
        return (T - torch.arange(steps, dtype=torch.float64) * (T / steps)).round().long()
    raise ValueError(spacing)


def timesteps__b_wrong_leading_ascending(T, steps, spacing):
    if spacing == "leading":
        return torch.arange(0, T, T // steps)[:steps]
    if spacing == "trailing":
        return (T - torch.arange(steps, dtype=torch.float64) * (T / steps)).round().long() - 1
    raise ValueError(spacing)


def timesteps__b_wrong_trailing_truncates(T, steps, spacing):
    if spacing == "leading":
        return (torch.arange(steps) * (T // steps)).flip(0)
    if spacing == "trailing":
        return torch.tensor([int(T - i * T / steps) - 1 for i in range(steps)], dtype=torch.long)
    raise ValueError(spacing)


# --- 4.3 alpha_bar_prevs -------------------------------------------------------------------------------------
def alpha_bar_prevs__b_correct(alpha_bars, timesteps):
    ts = [int(t) for t in timesteps]
    prevs = []
    for i in range(len(ts)):
        prevs.append(float(alpha_bars[ts[i + 1]]) if i + 1 < len(ts) else 1.0)
    return torch.tensor(prevs, dtype=torch.float64)


def alpha_bar_prevs__b_wrong_roll_wraps(alpha_bars, timesteps):
    ts = torch.as_tensor(timesteps).long()
    return alpha_bars[torch.roll(ts, -1)]


def alpha_bar_prevs__b_wrong_t_minus_one(alpha_bars, timesteps):
    ts = torch.as_tensor(timesteps).long()
    return alpha_bars[ts - 1]


def alpha_bar_prevs__b_wrong_final_alpha_bar_zero(alpha_bars, timesteps):
    ts = torch.as_tensor(timesteps).long()
    return torch.cat([alpha_bars[ts[1:]], alpha_bars[:1]])


# --- 4.4 ddim_sample_loop (added later, same rules) ----------------------------------------------------------
def ddim_sample_loop__b_correct(model, schedule, x_T, timesteps, eta=0.0, noises=None):
    ts = [int(t) for t in timesteps]
    x = x_T
    for i, (t, t_next) in enumerate(zip(ts, ts[1:] + [None])):       # None: the step to the clean image
        ab = float(schedule.alpha_bars[t])
        ab_prev = 1.0 if t_next is None else float(schedule.alpha_bars[t_next])
        eps = model(x, torch.full((x.shape[0],), t, dtype=torch.long, device=x.device))
        var = eta ** 2 * (1 - ab_prev) / (1 - ab) * (1 - ab / ab_prev)          # σ² of eq. 16
        x0 = (x - math.sqrt(1 - ab) * eps) / math.sqrt(ab)
        x = math.sqrt(ab_prev) * x0 + math.sqrt(max(1 - ab_prev - var, 0.0)) * eps
        if var > 0:
            x = x + math.sqrt(var) * noises[i]
    return x


def ddim_sample_loop__b_wrong_stops_one_step_early(model, schedule, x_T, timesteps, eta=0.0, noises=None):
    from ddim_teach import samplers
    ts = [int(t) for t in timesteps]
    x = x_T
    for i, (t, t_prev) in enumerate(zip(ts, ts[1:])):            # pairs of entries: the last entry is never left
        eps_hat = model(x, torch.full((x.shape[0],), t))
        x, _ = samplers.ddim_step(x, eps_hat, schedule.alpha_bars[t], schedule.alpha_bars[t_prev], eta,
                                  noises[i] if eta > 0 else None)
    return x


def ddim_sample_loop__b_wrong_uniform_stride(model, schedule, x_T, timesteps, eta=0.0, noises=None):
    from ddim_teach import samplers
    ts = [int(t) for t in timesteps]
    stride = schedule.T // len(ts)                                 # assumes the entries are T // S apart
    x = x_T
    for i, t in enumerate(ts):
        ab_t = schedule.alpha_bars[t]
        ab_prev = schedule.alpha_bars[t - stride] if t - stride >= 0 else torch.tensor(1.0, dtype=torch.float64)
        eps_hat = model(x, torch.full((x.shape[0],), t))
        x, _ = samplers.ddim_step(x, eps_hat, ab_t, ab_prev, eta, noises[i] if eta > 0 else None)
    return x


def ddim_sample_loop__b_wrong_fresh_noise(model, schedule, x_T, timesteps, eta=0.0, noises=None):
    from ddim_teach import samplers
    ts = [int(t) for t in timesteps]
    prevs = [schedule.alpha_bars[t] for t in ts[1:]] + [torch.tensor(1.0, dtype=torch.float64)]
    x = x_T
    for i, t in enumerate(ts):
        eps_hat = model(x, torch.full((x.shape[0],), t))
        z = torch.randn_like(x) if eta > 0 else None               # draws its own z instead of noises[i]
        x, _ = samplers.ddim_step(x, eps_hat, schedule.alpha_bars[t], prevs[i], eta, z)
    return x


# =============================================================================================================
# Chapter 5: x̂₀ and the parameterisations
# =============================================================================================================

# --- 5.1 predict_x0 ------------------------------------------------------------------------------------------
def predict_x0__b_correct(x_t, eps_hat, alpha_bar_t):
    inv_root = alpha_bar_t.rsqrt()
    return x_t * inv_root - ((1 - alpha_bar_t) / alpha_bar_t).sqrt() * eps_hat


def predict_x0__b_wrong_no_sqrt_in_denominator(x_t, eps_hat, alpha_bar_t):
    return (x_t - (1 - alpha_bar_t).sqrt() * eps_hat) / alpha_bar_t


def predict_x0__b_wrong_plus_sign(x_t, eps_hat, alpha_bar_t):
    return (x_t + (1 - alpha_bar_t).sqrt() * eps_hat) / alpha_bar_t.sqrt()


def predict_x0__b_wrong_variance_on_noise(x_t, eps_hat, alpha_bar_t):
    return (x_t - (1 - alpha_bar_t) * eps_hat) / alpha_bar_t.sqrt()


# --- 5.2 eps_from_x0 -----------------------------------------------------------------------------------------
def eps_from_x0__b_correct(x_t, x0_hat, alpha_bar_t):
    return (x_t - alpha_bar_t.sqrt() * x0_hat) * (1 - alpha_bar_t).rsqrt()


def eps_from_x0__b_wrong_copied_x0_pattern(x_t, x0_hat, alpha_bar_t):
    return (x_t - (1 - alpha_bar_t).sqrt() * x0_hat) / alpha_bar_t.sqrt()


def eps_from_x0__b_wrong_missing_sqrt(x_t, x0_hat, alpha_bar_t):
    return (x_t - alpha_bar_t * x0_hat) / (1 - alpha_bar_t).sqrt()


def eps_from_x0__b_wrong_float64(x_t, x0_hat, alpha_bar_t):
    return (x_t.double() - alpha_bar_t.sqrt() * x0_hat.double()) / (1 - alpha_bar_t).sqrt()


# --- 5.3 x0_from_v -------------------------------------------------------------------------------------------
def x0_from_v__b_correct(x_t, v_hat, alpha_bar_t):
    # √ᾱ x_t − √(1−ᾱ) v = (ᾱ + 1 − ᾱ) x0 + (√ᾱ√(1−ᾱ) − √(1−ᾱ)√ᾱ) ε
    a, s = alpha_bar_t.sqrt(), (1 - alpha_bar_t).sqrt()
    return torch.sub(a * x_t, s * v_hat)


def x0_from_v__b_wrong_sign(x_t, v_hat, alpha_bar_t):
    return alpha_bar_t.sqrt() * x_t + (1 - alpha_bar_t).sqrt() * v_hat


def x0_from_v__b_wrong_returns_eps(x_t, v_hat, alpha_bar_t):
    return (1 - alpha_bar_t).sqrt() * x_t + alpha_bar_t.sqrt() * v_hat


def x0_from_v__b_wrong_missing_sqrt(x_t, v_hat, alpha_bar_t):
    return alpha_bar_t * x_t - (1 - alpha_bar_t).sqrt() * v_hat


# =============================================================================================================
# Chapter 6: the ODE view
# =============================================================================================================

# --- 6.1 ode_coordinates -------------------------------------------------------------------------------------
def ode_coordinates__b_correct(x_t, alpha_bar_t):
    ab = torch.as_tensor(alpha_bar_t, dtype=torch.float64)
    sigma = (1.0 / ab - 1.0).clamp(min=0).sqrt()           # √((1−ᾱ)/ᾱ), exactly 0 at ᾱ = 1
    return x_t * ab.rsqrt(), sigma


def ode_coordinates__b_wrong_sigma_is_noise_std(x_t, alpha_bar_t):
    return x_t / alpha_bar_t.sqrt(), (1 - alpha_bar_t).sqrt()


def ode_coordinates__b_wrong_sigma_squared(x_t, alpha_bar_t):
    return x_t / alpha_bar_t.sqrt(), (1 - alpha_bar_t) / alpha_bar_t


def ode_coordinates__b_wrong_multiplies(x_t, alpha_bar_t):
    return x_t * alpha_bar_t.sqrt(), ((1 - alpha_bar_t) / alpha_bar_t).sqrt()


# --- 6.2 euler_step_ode --------------------------------------------------------------------------------------
def euler_step_ode__b_correct(x_bar, sigma, sigma_next, eps_hat):
    return x_bar - (sigma - sigma_next) * eps_hat


def euler_step_ode__b_wrong_sign(x_bar, sigma, sigma_next, eps_hat):
    return x_bar + (sigma - sigma_next) * eps_hat


def euler_step_ode__b_wrong_sigma_squared_step(x_bar, sigma, sigma_next, eps_hat):
    return x_bar + (sigma_next ** 2 - sigma ** 2) * eps_hat


def euler_step_ode__b_wrong_in_place(x_bar, sigma, sigma_next, eps_hat):
    x_bar += (sigma_next - sigma) * eps_hat
    return x_bar


# --- 6.3 heun_step -------------------------------------------------------------------------------------------
def heun_step__b_correct(eps_fn, x_bar, sigma, sigma_next):
    dt = sigma_next - sigma
    slope = eps_fn(x_bar, sigma)
    x_euler = x_bar + dt * slope
    if not bool(sigma_next > 0):            # σ_next = 0: no time to evaluate there, keep the Euler point
        return x_euler
    slope_next = eps_fn(x_euler, sigma_next)
    return x_bar + dt * (0.5 * slope + 0.5 * slope_next)


def heun_step__b_wrong_second_slope_at_old_sigma(eps_fn, x_bar, sigma, sigma_next):
    h = sigma_next - sigma
    d1 = eps_fn(x_bar, sigma)
    x_e = x_bar + h * d1
    if float(sigma_next) == 0.0:
        return x_e
    d2 = eps_fn(x_e, sigma)
    return x_bar + h * (d1 + d2) / 2


def heun_step__b_wrong_no_last_step_case(eps_fn, x_bar, sigma, sigma_next):
    h = sigma_next - sigma
    d1 = eps_fn(x_bar, sigma)
    x_e = x_bar + h * d1
    d2 = eps_fn(x_e, sigma_next)
    return x_bar + h * (d1 + d2) / 2


def heun_step__b_wrong_starts_from_euler_point(eps_fn, x_bar, sigma, sigma_next):
    h = sigma_next - sigma
    d1 = eps_fn(x_bar, sigma)
    x_e = x_bar + h * d1
    if float(sigma_next) == 0.0:
        return x_e
    d2 = eps_fn(x_e, sigma_next)
    return x_e + h * (d1 + d2) / 2


# =============================================================================================================
# Chapter 7: inversion and interpolation
# =============================================================================================================

# --- 7.1 invert_step -----------------------------------------------------------------------------------------
def invert_step__b_correct(x, eps_hat, alpha_bar_cur, alpha_bar_next):
    ratio = (alpha_bar_next / alpha_bar_cur).sqrt()
    c_eps = (1 - alpha_bar_next).sqrt() - ratio * (1 - alpha_bar_cur).sqrt()
    return ratio * x + c_eps * eps_hat


def invert_step__b_wrong_levels_not_swapped(x, eps_hat, alpha_bar_cur, alpha_bar_next):
    x0_hat = (x - (1 - alpha_bar_next).sqrt() * eps_hat) / alpha_bar_next.sqrt()
    return alpha_bar_cur.sqrt() * x0_hat + (1 - alpha_bar_cur).sqrt() * eps_hat


def invert_step__b_wrong_sign_in_x0_hat(x, eps_hat, alpha_bar_cur, alpha_bar_next):
    x0_hat = (x + (1 - alpha_bar_cur).sqrt() * eps_hat) / alpha_bar_cur.sqrt()
    return alpha_bar_next.sqrt() * x0_hat + (1 - alpha_bar_next).sqrt() * eps_hat


def invert_step__b_wrong_renoise_with_variance(x, eps_hat, alpha_bar_cur, alpha_bar_next):
    x0_hat = (x - (1 - alpha_bar_cur).sqrt() * eps_hat) / alpha_bar_cur.sqrt()
    return alpha_bar_next.sqrt() * x0_hat + (1 - alpha_bar_next) * eps_hat


# --- 7.2 slerp -----------------------------------------------------------------------------------------------
def _slerp_weights(theta, alpha):
    s = torch.sin(theta)
    tiny = s < 1e-6
    safe = torch.where(tiny, torch.ones_like(s), s)
    w0 = torch.where(tiny, torch.full_like(s, 1.0 - alpha), torch.sin((1.0 - alpha) * theta) / safe)
    w1 = torch.where(tiny, torch.full_like(s, float(alpha)), torch.sin(alpha * theta) / safe)
    return w0, w1


def slerp__b_correct(z0, z1, alpha):
    a = z0.reshape(z0.shape[0], -1).to(torch.float64)
    b = z1.reshape(z1.shape[0], -1).to(torch.float64)
    ua = a / a.norm(dim=1, keepdim=True)
    ub = b / b.norm(dim=1, keepdim=True)
    # the angle from chord lengths: accurate also for nearly parallel ends, where arccos is not
    theta = 2 * torch.atan2((ua - ub).norm(dim=1, keepdim=True), (ua + ub).norm(dim=1, keepdim=True))
    w0, w1 = _slerp_weights(theta, alpha)
    return (w0 * a + w1 * b).reshape(z0.shape).to(z0.dtype)


def slerp__b_wrong_one_angle_for_batch(z0, z1, alpha):
    a, b = z0.reshape(-1).double(), z1.reshape(-1).double()
    theta = torch.arccos(((a * b).sum() / (a.norm() * b.norm())).clamp(-1, 1)).reshape(1)
    w0, w1 = _slerp_weights(theta, alpha)
    return (w0 * a + w1 * b).reshape(z0.shape).to(z0.dtype)


def slerp__b_wrong_swapped_weights(z0, z1, alpha):
    a, b = z0.flatten(1).double(), z1.flatten(1).double()
    theta = torch.arccos(((a * b).sum(1) / (a.norm(dim=1) * b.norm(dim=1))).clamp(-1, 1))[:, None]
    s = torch.sin(theta)
    tiny = s < 1e-6
    safe = torch.where(tiny, torch.ones_like(s), s)
    w0 = torch.where(tiny, torch.full_like(s, 1.0 - alpha), torch.sin(alpha * theta) / safe)
    w1 = torch.where(tiny, torch.full_like(s, float(alpha)), torch.sin((1.0 - alpha) * theta) / safe)
    return (w0 * a + w1 * b).reshape(z0.shape).to(z0.dtype)


def slerp__b_wrong_cosine_not_normalised(z0, z1, alpha):
    a, b = z0.flatten(1).double(), z1.flatten(1).double()
    theta = torch.arccos((a * b).sum(1).clamp(-1, 1))[:, None]
    w0, w1 = _slerp_weights(theta, alpha)
    return (w0 * a + w1 * b).reshape(z0.shape).to(z0.dtype)


# --- 7.3 ddim_invert -----------------------------------------------------------------------------------------
def _t_batch(x, t):
    return torch.full((x.shape[0],), int(t), dtype=torch.long)


def ddim_invert__b_correct(model, schedule, x0, timesteps):
    x = x0
    ab_cur = torch.ones((), dtype=torch.float64)
    for t in sorted(int(v) for v in timesteps):           # smallest t first: climb from the clean image
        ab_next = schedule.alpha_bars[t]
        eps_hat = model(x, _t_batch(x, t))
        ratio = (ab_next / ab_cur).sqrt()
        x = ratio * x + ((1 - ab_next).sqrt() - ratio * (1 - ab_cur).sqrt()) * eps_hat
        ab_cur = ab_next
    return x


def ddim_invert__b_wrong_descending_order(model, schedule, x0, timesteps):
    x, ab_cur = x0, torch.tensor(1.0, dtype=torch.float64)
    for t in [int(v) for v in timesteps]:
        ab_next = schedule.alpha_bars[t]
        eps_hat = model(x, _t_batch(x, t))
        x0_hat = (x - (1 - ab_cur).sqrt() * eps_hat) / ab_cur.sqrt()
        x = ab_next.sqrt() * x0_hat + (1 - ab_next).sqrt() * eps_hat
        ab_cur = ab_next
    return x


def ddim_invert__b_wrong_level_never_updated(model, schedule, x0, timesteps):
    x, ab_cur = x0, torch.tensor(1.0, dtype=torch.float64)
    for t in sorted(int(v) for v in timesteps):
        ab_next = schedule.alpha_bars[t]
        eps_hat = model(x, _t_batch(x, t))
        x0_hat = (x - (1 - ab_cur).sqrt() * eps_hat) / ab_cur.sqrt()
        x = ab_next.sqrt() * x0_hat + (1 - ab_next).sqrt() * eps_hat
    return x


def ddim_invert__b_wrong_skips_first_climb(model, schedule, x0, timesteps):
    ts = sorted(int(v) for v in timesteps)
    x = x0
    for t_cur, t_next in zip(ts[:-1], ts[1:]):             # treats the clean x0 as if it sat at level ts[0]
        ab_cur, ab_next = schedule.alpha_bars[t_cur], schedule.alpha_bars[t_next]
        eps_hat = model(x, _t_batch(x, t_next))
        x0_hat = (x - (1 - ab_cur).sqrt() * eps_hat) / ab_cur.sqrt()
        x = ab_next.sqrt() * x0_hat + (1 - ab_next).sqrt() * eps_hat
    return x


# =============================================================================================================
# Chapter 8: the pitfalls clinic
# =============================================================================================================

# --- 8.1 fix_mystery_step ------------------------------------------------------------------------------------
def fix_mystery_step__b_correct(x_t, eps_hat, alpha_bar_t, alpha_bar_prev, eta=0.0, noise=None):
    ab, abp = alpha_bar_t, alpha_bar_prev
    beta_tilde = (1 - abp) / (1 - ab) * (1 - ab / abp)
    sigma = eta * beta_tilde.clamp(min=0).sqrt()                 # eq. 16: η √β̃
    x0_hat = (x_t - (1 - ab).sqrt() * eps_hat) / ab.sqrt()
    x_prev = abp.sqrt() * x0_hat + (1 - abp - sigma * sigma).clamp(min=0).sqrt() * eps_hat
    if noise is not None and eta > 0:
        x_prev = x_prev + sigma * noise
    return x_prev, x0_hat


def fix_mystery_step__b_wrong_tutorial_sigma(x_t, eps_hat, alpha_bar_t, alpha_bar_prev, eta=0.0, noise=None):
    x0_hat = (x_t - (1 - alpha_bar_t).sqrt() * eps_hat) / alpha_bar_t.sqrt()
    sigma = eta * (1 - alpha_bar_prev).sqrt()
    x_prev = alpha_bar_prev.sqrt() * x0_hat + (1 - alpha_bar_prev - sigma ** 2).clamp(min=0).sqrt() * eps_hat
    if noise is not None:
        x_prev = x_prev + sigma * noise
    return x_prev, x0_hat


def fix_mystery_step__b_wrong_noise_times_variance(x_t, eps_hat, alpha_bar_t, alpha_bar_prev, eta=0.0, noise=None):
    x0_hat = (x_t - (1 - alpha_bar_t).sqrt() * eps_hat) / alpha_bar_t.sqrt()
    sigma = eta * ((1 - alpha_bar_prev) / (1 - alpha_bar_t) * (1 - alpha_bar_t / alpha_bar_prev)).sqrt()
    x_prev = alpha_bar_prev.sqrt() * x0_hat + (1 - alpha_bar_prev - sigma ** 2).clamp(min=0).sqrt() * eps_hat
    if noise is not None:
        x_prev = x_prev + sigma ** 2 * noise
    return x_prev, x0_hat


def fix_mystery_step__b_wrong_noise_never_added(x_t, eps_hat, alpha_bar_t, alpha_bar_prev, eta=0.0, noise=None):
    x0_hat = (x_t - (1 - alpha_bar_t).sqrt() * eps_hat) / alpha_bar_t.sqrt()
    sigma = eta * ((1 - alpha_bar_prev) / (1 - alpha_bar_t) * (1 - alpha_bar_t / alpha_bar_prev)).sqrt()
    x_prev = alpha_bar_prev.sqrt() * x0_hat + (1 - alpha_bar_prev - sigma ** 2).clamp(min=0).sqrt() * eps_hat
    return x_prev, x0_hat


# --- 8.2 fix_mystery_step_2 ----------------------------------------------------------------------------------
def fix_mystery_step_2__b_correct(x_t, eps_hat, alpha_bar_t, alpha_bar_prev, eta=0.0, noise=None):
    xt, e = x_t.double(), eps_hat.double()
    sigma = eta * ((1 - alpha_bar_prev) / (1 - alpha_bar_t)).sqrt() * (1 - alpha_bar_t / alpha_bar_prev).sqrt()
    x0_hat = (xt - (1 - alpha_bar_t).sqrt() * e) / alpha_bar_t.sqrt()
    x_prev = alpha_bar_prev.sqrt() * x0_hat + (1 - alpha_bar_prev - sigma ** 2).clamp(min=0).sqrt() * e
    if noise is not None:
        x_prev = x_prev + sigma * noise.double()
    return x_prev.to(x_t.dtype), x0_hat.to(x_t.dtype)


def fix_mystery_step_2__b_wrong_precedence(x_t, eps_hat, alpha_bar_t, alpha_bar_prev, eta=0.0, noise=None):
    sigma = eta * ((1 - alpha_bar_prev) / (1 - alpha_bar_t) * (1 - alpha_bar_t / alpha_bar_prev)).sqrt()
    x0_hat = x_t / alpha_bar_t.sqrt() - (1 - alpha_bar_t).sqrt() * eps_hat
    x_prev = alpha_bar_prev.sqrt() * x0_hat + (1 - alpha_bar_prev - sigma ** 2).clamp(min=0).sqrt() * eps_hat
    if noise is not None:
        x_prev = x_prev + sigma * noise
    return x_prev, x0_hat


def fix_mystery_step_2__b_wrong_signal_uses_alpha_bar_t(x_t, eps_hat, alpha_bar_t, alpha_bar_prev, eta=0.0,
                                                        noise=None):
    sigma = eta * ((1 - alpha_bar_prev) / (1 - alpha_bar_t) * (1 - alpha_bar_t / alpha_bar_prev)).sqrt()
    x0_hat = (x_t - (1 - alpha_bar_t).sqrt() * eps_hat) / alpha_bar_t.sqrt()
    x_prev = alpha_bar_t.sqrt() * x0_hat + (1 - alpha_bar_prev - sigma ** 2).clamp(min=0).sqrt() * eps_hat
    if noise is not None:
        x_prev = x_prev + sigma * noise
    return x_prev, x0_hat


def fix_mystery_step_2__b_wrong_split_sqrt(x_t, eps_hat, alpha_bar_t, alpha_bar_prev, eta=0.0, noise=None):
    sigma = eta * ((1 - alpha_bar_prev) / (1 - alpha_bar_t) * (1 - alpha_bar_t / alpha_bar_prev)).sqrt()
    x0_hat = (x_t - (1 - alpha_bar_t).sqrt() * eps_hat) / alpha_bar_t.sqrt()
    x_prev = alpha_bar_prev.sqrt() * x0_hat + ((1 - alpha_bar_prev).sqrt() - sigma) * eps_hat
    if noise is not None:
        x_prev = x_prev + sigma * noise
    return x_prev, x0_hat


# --- 8.3 name_the_bug ----------------------------------------------------------------------------------------
_ERROR = "raised"


def _ntb_setup():
    from ddim_teach import schedules
    sched = schedules.make_schedule("linear", 1000)
    g = torch.Generator().manual_seed(2024)
    x, eps, z = (torch.randn(3, 1, 5, 5, generator=g, dtype=torch.float64) for _ in range(3))
    return sched, x, eps, z


def _ntb_outputs(fn, probes, x, eps, z):
    outs = []
    for a, b, eta in probes:
        try:
            o = fn(x.clone(), eps.clone(), a, b, eta, z.clone() if eta > 0 else None)
            outs.append(o[0] if isinstance(o, (tuple, list)) else o)
        except Exception:
            outs.append(_ERROR)
    return outs


def _ntb_same(p, q):
    for u, v in zip(p, q):
        if isinstance(u, str) or isinstance(v, str):
            if not (isinstance(u, str) and isinstance(v, str)):
                return False
            continue
        try:
            if u.shape != v.shape or not torch.allclose(u.double(), v.double(), rtol=1e-6, atol=1e-9, equal_nan=True):
                return False
        except Exception:
            return False
    return True


def name_the_bug__b_correct(step_fn):
    from ddim_teach import pitfalls, samplers
    sched, x, eps, z = _ntb_setup()
    ab = sched.alpha_bars
    one = torch.tensor(1.0, dtype=torch.float64)
    # η = 0 (α-for-ᾱ, returns x̂₀), η = 1 and η = 0.5 on a long skip (σ vs σ²), the last step (wrapped ᾱ_prev)
    probes = [(ab[700], ab[600], 0.0), (ab[300], ab[250], 1.0), (ab[800], ab[200], 0.5), (ab[19], one, 0.0)]
    mine = _ntb_outputs(step_fn, probes, x, eps, z)
    ref = _ntb_outputs(samplers.ddim_step, probes, x, eps, z)
    if _ntb_same(mine, ref):
        return "correct"
    for name in ("alpha_for_alpha_bar", "variance_for_std", "returns_x0_hat"):
        if _ntb_same(mine, _ntb_outputs(getattr(pitfalls, name), probes, x, eps, z)):
            return name
    if _ntb_same(mine, _ntb_outputs(pitfalls.wrapped_final_alpha_bar(ab[-1]), probes, x, eps, z)):
        return "wrapped_final_alpha_bar"
    # right everywhere but the last step, where it lands on some tiny ᾱ instead of 1: fit y = √c x̂₀ + √(1−c) ε̂
    last = mine[-1]
    if _ntb_same(mine[:-1], ref[:-1]) and not isinstance(last, str):
        x0_hat = (x - (1 - ab[19]).sqrt() * eps) / ab[19].sqrt()
        A = torch.stack([x0_hat.flatten(), eps.flatten()], 1)
        y = last.double().flatten()[:, None]
        coef = torch.linalg.lstsq(A, y).solution.flatten()
        if (torch.allclose(A @ coef, y.flatten(), atol=1e-8) and abs(float(coef @ coef) - 1) < 1e-6
                and float(coef[0]) ** 2 < 0.05):
            return "wrapped_final_alpha_bar"
    return "unknown"


def name_the_bug__b_wrong_only_eta_zero(step_fn):
    from ddim_teach import pitfalls, samplers
    sched, x, eps, z = _ntb_setup()
    ab = sched.alpha_bars
    one = torch.tensor(1.0, dtype=torch.float64)
    probes = [(ab[500], ab[400], 0.0), (ab[49], one, 0.0)]
    mine = _ntb_outputs(step_fn, probes, x, eps, z)
    known = {"correct": samplers.ddim_step, "alpha_for_alpha_bar": pitfalls.alpha_for_alpha_bar,
             "variance_for_std": pitfalls.variance_for_std, "returns_x0_hat": pitfalls.returns_x0_hat,
             "wrapped_final_alpha_bar": pitfalls.wrapped_final_alpha_bar(ab[-1])}
    for name, fn in known.items():
        if _ntb_same(mine, _ntb_outputs(fn, probes, x, eps, z)):
            return name
    return "unknown"


def name_the_bug__b_wrong_no_last_step_probe(step_fn):
    from ddim_teach import pitfalls, samplers
    sched, x, eps, z = _ntb_setup()
    ab = sched.alpha_bars
    probes = [(ab[500], ab[400], 0.0), (ab[500], ab[400], 1.0)]
    mine = _ntb_outputs(step_fn, probes, x, eps, z)
    known = {"correct": samplers.ddim_step, "alpha_for_alpha_bar": pitfalls.alpha_for_alpha_bar,
             "variance_for_std": pitfalls.variance_for_std, "returns_x0_hat": pitfalls.returns_x0_hat,
             "wrapped_final_alpha_bar": pitfalls.wrapped_final_alpha_bar(ab[-1])}
    for name, fn in known.items():
        if _ntb_same(mine, _ntb_outputs(fn, probes, x, eps, z)):
            return name
    return "unknown"


def name_the_bug__b_wrong_defaults_to_correct(step_fn):
    from ddim_teach import pitfalls
    sched, x, eps, z = _ntb_setup()
    ab = sched.alpha_bars
    one = torch.tensor(1.0, dtype=torch.float64)
    probes = [(ab[500], ab[400], 0.0), (ab[500], ab[400], 1.0), (ab[49], one, 0.0)]
    mine = _ntb_outputs(step_fn, probes, x, eps, z)
    known = {"alpha_for_alpha_bar": pitfalls.alpha_for_alpha_bar, "variance_for_std": pitfalls.variance_for_std,
             "returns_x0_hat": pitfalls.returns_x0_hat,
             "wrapped_final_alpha_bar": pitfalls.wrapped_final_alpha_bar(ab[-1])}
    for name, fn in known.items():
        if _ntb_same(mine, _ntb_outputs(fn, probes, x, eps, z)):
            return name
    return "correct"                      # anything that matches no known bug is taken to be right


# =============================================================================================================
# Chapter 9: solvers after DDIM
# =============================================================================================================

# --- 9.1 step_h ----------------------------------------------------------------------------------------------
def step_h__b_correct(alpha_bar_t, alpha_bar_prev):
    ab, abp = alpha_bar_t, alpha_bar_prev
    return 0.5 * (torch.log(abp / ab) + torch.log((1 - ab) / (1 - abp)))


def step_h__b_wrong_full_log_snr(alpha_bar_t, alpha_bar_prev):
    def lam(a):
        return torch.log(a / (1 - a))
    return lam(alpha_bar_prev) - lam(alpha_bar_t)


def step_h__b_wrong_sign(alpha_bar_t, alpha_bar_prev):
    def lam(a):
        return torch.log(a.sqrt() / (1 - a).sqrt())
    return lam(alpha_bar_t) - lam(alpha_bar_prev)


def step_h__b_wrong_sqrt_misplaced(alpha_bar_t, alpha_bar_prev):
    def lam(a):
        return torch.log(a.sqrt() / (1 - a.sqrt()))
    return lam(alpha_bar_prev) - lam(alpha_bar_t)


# --- 9.2 dpm_pp_2m_step --------------------------------------------------------------------------------------
def dpm_pp_2m_step__b_correct(x_t, x0_hat, x0_hat_last, alpha_bar_last, alpha_bar_t, alpha_bar_prev):
    def lam(a):
        return torch.log(a.sqrt()) - torch.log((1 - a).sqrt())
    h = lam(alpha_bar_prev) - lam(alpha_bar_t)
    r = (lam(alpha_bar_t) - lam(alpha_bar_last)) / h
    D = x0_hat + (x0_hat - x0_hat_last) / (2 * r)                  # x̂₀ extrapolated half a step along λ
    decay = ((1 - alpha_bar_prev) / (1 - alpha_bar_t)).sqrt()      # = σ_prev/σ_t in the papers' notation
    return decay * x_t + alpha_bar_prev.sqrt() * (-torch.expm1(-h)) * D


def _lam(a):
    return 0.5 * (torch.log(a) - torch.log(1 - a))


def dpm_pp_2m_step__b_wrong_r_inverted(x_t, x0_hat, x0_hat_last, alpha_bar_last, alpha_bar_t, alpha_bar_prev):
    h = _lam(alpha_bar_prev) - _lam(alpha_bar_t)
    h_last = _lam(alpha_bar_t) - _lam(alpha_bar_last)
    r = h / h_last
    D = (1 + 1 / (2 * r)) * x0_hat - x0_hat_last / (2 * r)
    return ((1 - alpha_bar_prev) / (1 - alpha_bar_t)).sqrt() * x_t + alpha_bar_prev.sqrt() * (1 - torch.exp(-h)) * D


def dpm_pp_2m_step__b_wrong_D_signs(x_t, x0_hat, x0_hat_last, alpha_bar_last, alpha_bar_t, alpha_bar_prev):
    h = _lam(alpha_bar_prev) - _lam(alpha_bar_t)
    r = (_lam(alpha_bar_t) - _lam(alpha_bar_last)) / h
    D = (1 - 1 / (2 * r)) * x0_hat + x0_hat_last / (2 * r)
    return ((1 - alpha_bar_prev) / (1 - alpha_bar_t)).sqrt() * x_t + alpha_bar_prev.sqrt() * (1 - torch.exp(-h)) * D


def dpm_pp_2m_step__b_wrong_alpha_ratio(x_t, x0_hat, x0_hat_last, alpha_bar_last, alpha_bar_t, alpha_bar_prev):
    h = _lam(alpha_bar_prev) - _lam(alpha_bar_t)
    r = (_lam(alpha_bar_t) - _lam(alpha_bar_last)) / h
    D = (1 + 1 / (2 * r)) * x0_hat - x0_hat_last / (2 * r)
    return (alpha_bar_prev / alpha_bar_t).sqrt() * x_t + alpha_bar_prev.sqrt() * (1 - torch.exp(-h)) * D


# --- 9.3 karras_sigmas ---------------------------------------------------------------------------------------
def karras_sigmas__b_correct(sigma_min, sigma_max, n, rho=7.0):
    top, bottom = sigma_max ** (1.0 / rho), sigma_min ** (1.0 / rho)
    if n == 1:
        levels = [float(sigma_max)]
    else:
        levels = [(top + i / (n - 1) * (bottom - top)) ** rho for i in range(n)]
    return torch.tensor(levels + [0.0], dtype=torch.float64)


def karras_sigmas__b_wrong_no_final_zero(sigma_min, sigma_max, n, rho=7.0):
    i = torch.linspace(0, 1, n, dtype=torch.float64)
    return (sigma_max ** (1 / rho) + i * (sigma_min ** (1 / rho) - sigma_max ** (1 / rho))) ** rho


def karras_sigmas__b_wrong_rho_hard_coded(sigma_min, sigma_max, n, rho=7.0):
    i = torch.linspace(0, 1, n, dtype=torch.float64)
    grid = (sigma_max ** (1 / 7) + i * (sigma_min ** (1 / 7) - sigma_max ** (1 / 7))) ** 7
    return torch.cat([grid, torch.zeros(1, dtype=torch.float64)])


def karras_sigmas__b_wrong_parenthesis(sigma_min, sigma_max, n, rho=7.0):
    i = torch.linspace(0, 1, n, dtype=torch.float64)
    grid = sigma_max ** (1 / rho) + (i * (sigma_min ** (1 / rho) - sigma_max ** (1 / rho))) ** rho
    return torch.cat([grid, torch.zeros(1, dtype=torch.float64)])


# =============================================================================================================
# Chapter 10: guidance (added later, by another writer, under the same rules)
# =============================================================================================================

# --- 10.1 cfg_eps --------------------------------------------------------------------------------------------
def cfg_eps__b_correct(eps_cond, eps_uncond, w):
    # ε(y) + w (ε(y) − ε(∅)): the conditional prediction pushed away from the unconditional one
    return eps_cond + w * (eps_cond - eps_uncond)


def cfg_eps__b_wrong_w_as_guidance_scale(eps_cond, eps_uncond, w):
    return eps_uncond + w * (eps_cond - eps_uncond)


def cfg_eps__b_wrong_swapped_predictions(eps_cond, eps_uncond, w):
    return (1 + w) * eps_uncond - w * eps_cond


def cfg_eps__b_wrong_in_place(eps_cond, eps_uncond, w):
    eps_cond *= 1 + w
    eps_cond -= w * eps_uncond
    return eps_cond


# --- 10.2 classifier_guided_eps ------------------------------------------------------------------------------
def classifier_guided_eps__b_correct(eps_hat, x_t, alpha_bar_t, log_p_y, s):
    with torch.enable_grad():
        x = x_t.detach().clone().requires_grad_(True)
        log_p_y(x).sum().backward()
    scale = s * math.sqrt(1.0 - float(alpha_bar_t))              # a Python float keeps eps_hat's dtype
    return eps_hat - scale * x.grad.to(eps_hat.dtype)


def classifier_guided_eps__b_wrong_plus_sign(eps_hat, x_t, alpha_bar_t, log_p_y, s):
    x = x_t.detach().requires_grad_(True)
    grad, = torch.autograd.grad(log_p_y(x).sum(), x)
    return eps_hat + (s * (1 - alpha_bar_t).sqrt()).to(eps_hat.dtype) * grad


def classifier_guided_eps__b_wrong_variance_not_std(eps_hat, x_t, alpha_bar_t, log_p_y, s):
    x = x_t.detach().requires_grad_(True)
    grad, = torch.autograd.grad(log_p_y(x).sum(), x)
    return eps_hat - (s * (1 - alpha_bar_t)).to(eps_hat.dtype) * grad


def classifier_guided_eps__b_wrong_mean_not_sum(eps_hat, x_t, alpha_bar_t, log_p_y, s):
    x = x_t.detach().requires_grad_(True)
    grad, = torch.autograd.grad(log_p_y(x).mean(), x)
    return eps_hat - (s * (1 - alpha_bar_t).sqrt()).to(eps_hat.dtype) * grad


# --- 10.3 guided_ddim_step -----------------------------------------------------------------------------------
def guided_ddim_step__b_correct(x_t, eps_cond, eps_uncond, w, alpha_bar_t, alpha_bar_prev):
    ab, abp = alpha_bar_t.double(), alpha_bar_prev.double()
    x = x_t.double()

    def plain_step(eps):                                          # the unguided η = 0 step with one prediction
        x0 = (x - (1 - ab).sqrt() * eps) / ab.sqrt()
        return abp.sqrt() * x0 + (1 - abp).sqrt() * eps

    # the step is affine in ε and (1 + w) − w = 1, so combining the two plain steps is the guided step
    out = (1 + w) * plain_step(eps_cond.double()) - w * plain_step(eps_uncond.double())
    return out.to(x_t.dtype)


def guided_ddim_step__b_wrong_guides_x0_only(x_t, eps_cond, eps_uncond, w, alpha_bar_t, alpha_bar_prev):
    eps_tilde = (1 + w) * eps_cond - w * eps_uncond
    ab, abp = alpha_bar_t.to(x_t.dtype), alpha_bar_prev.to(x_t.dtype)
    x0_hat = (x_t - (1 - ab).sqrt() * eps_tilde) / ab.sqrt()
    return abp.sqrt() * x0_hat + (1 - abp).sqrt() * eps_cond


def guided_ddim_step__b_wrong_returns_tuple(x_t, eps_cond, eps_uncond, w, alpha_bar_t, alpha_bar_prev):
    from ddim_teach import guidance, samplers
    eps_tilde = guidance.cfg_eps(eps_cond, eps_uncond, w)
    return samplers.ddim_step(x_t, eps_tilde, alpha_bar_t, alpha_bar_prev)     # (x_prev, x0_hat), not x_prev


def guided_ddim_step__b_wrong_direction_uses_alpha_bar_t(x_t, eps_cond, eps_uncond, w, alpha_bar_t,
                                                         alpha_bar_prev):
    eps_tilde = (1 + w) * eps_cond - w * eps_uncond
    ab, abp = alpha_bar_t.to(x_t.dtype), alpha_bar_prev.to(x_t.dtype)
    noise_scale = (1 - ab).sqrt()
    x0_hat = (x_t - noise_scale * eps_tilde) / ab.sqrt()
    return abp.sqrt() * x0_hat + noise_scale * eps_tilde


# =============================================================================================================
# The corpus
# =============================================================================================================
def _c(exercise, fn):
    return Answer(exercise, "correct", "", fn)


def _w(exercise, fn, bug):
    return Answer(exercise, "wrong", bug, fn)


CORPUS = [
    # --- ch1 ---
    _c("alpha_bar_from_betas", alpha_bar_from_betas__b_correct),
    _w("alpha_bar_from_betas", alpha_bar_from_betas__b_wrong_exclusive_product,
       "Off by one: takes the product over s < t (starting at 1), so every ᾱ_t is shifted one step late."),
    _w("alpha_bar_from_betas", alpha_bar_from_betas__b_wrong_sum_of_betas,
       "Returns 1 − Σ_{s≤t} β_s (adds the β's instead of multiplying the α's), which drifts and goes negative."),
    _w("alpha_bar_from_betas", alpha_bar_from_betas__b_wrong_float32,
       "Casts the β's to float32 before the product, so the result is float32 instead of float64."),

    _c("q_sample", q_sample__b_correct),
    _w("q_sample", q_sample__b_wrong_variances_as_scales,
       "Uses the variances ᾱ_t and 1 − ᾱ_t as the scales of x0 and ε (no square roots)."),
    _w("q_sample", q_sample__b_wrong_sqrt_inside_noise_scale,
       "Writes the noise scale as 1 − √ᾱ_t instead of √(1 − ᾱ_t) (square root in the wrong place)."),
    _w("q_sample", q_sample__b_wrong_float64_broadcast,
       "Reshapes ᾱ_t into a float64 tensor with dimensions, so a float32 batch comes back as float64."),

    _c("snr", snr__b_correct),
    _w("snr", snr__b_wrong_std_ratio,
       "Returns the ratio of standard deviations √ᾱ/√(1 − ᾱ), the square root of the SNR."),
    _w("snr", snr__b_wrong_one_step_alpha,
       "Uses the one-step α_t = 1 − β_t instead of the cumulative ᾱ_t (α vs ᾱ)."),
    _w("snr", snr__b_wrong_inverted,
       "Returns the noise-to-signal ratio (1 − ᾱ)/ᾱ, the SNR upside down."),

    # --- ch2 ---
    _c("posterior_mean", posterior_mean__b_correct),
    _w("posterior_mean", posterior_mean__b_wrong_swapped_inputs,
       "Applies x0's coefficient to x_t and x_t's to x0 (argument order of the package's posterior_mean(x_t, x0))."),
    _w("posterior_mean", posterior_mean__b_wrong_alpha_without_sqrt,
       "Multiplies x_t by α instead of √α in the second term."),
    _w("posterior_mean", posterior_mean__b_wrong_cumulative_beta,
       "Takes β = 1 − ᾱ_t (cumulative) instead of the step's β = 1 − ᾱ_t/ᾱ_prev; right only at the last step."),

    _c("posterior_variance", posterior_variance__b_correct),
    _w("posterior_variance", posterior_variance__b_wrong_returns_std,
       "Returns √β̃, the standard deviation, where the variance β̃ is asked for."),
    _w("posterior_variance", posterior_variance__b_wrong_step_beta,
       "Returns the step's β (DDPM's 'fixed_large'), not β̃; it is not 0 at the last step."),
    _w("posterior_variance", posterior_variance__b_wrong_inverted_ratio,
       "Inverts the ratio to (1 − ᾱ_t)/(1 − ᾱ_prev), which divides by zero at the last step (ᾱ_prev = 1)."),

    _c("ddpm_step", ddpm_step__b_correct),
    _w("ddpm_step", ddpm_step__b_wrong_variance_times_noise,
       "Adds β̃·z instead of √β̃·z: the variance used as the noise's standard deviation."),
    _w("ddpm_step", ddpm_step__b_wrong_fixed_large,
       "Uses the step's β as the variance ('fixed_large') instead of β̃, and so still adds noise at the last step."),
    _w("ddpm_step", ddpm_step__b_wrong_tuple_order,
       "Returns (x0_hat, x_prev) instead of (x_prev, x0_hat)."),

    _c("l_simple", l_simple__b_correct),
    _w("l_simple", l_simple__b_wrong_t_minus_one,
       "Reads ᾱ at t − 1 (a 1-based habit): off by one, and t = 0 wraps around to ᾱ_{T−1}."),
    _w("l_simple", l_simple__b_wrong_float64_table,
       "Leaves the per-image ᾱ in float64, so a float32 batch is noised, fed to the model and scored in float64."),
    _w("l_simple", l_simple__b_wrong_sum_per_image,
       "Sums the squared error over each image's pixels and averages only over the batch, not over all elements."),

    # --- ch3 ---
    _c("ddim_coefficients", ddim_coefficients__b_correct),
    _w("ddim_coefficients", ddim_coefficients__b_wrong_sigma_dropped,
       "Drops σ² from the variance equation, so m is the σ = 0 coefficient for every σ."),
    _w("ddim_coefficients", ddim_coefficients__b_wrong_sigma_as_variance,
       "Puts σ where σ² belongs in the variance equation (σ read as a variance)."),
    _w("ddim_coefficients", ddim_coefficients__b_wrong_k_sign,
       "Sign slip in the mean equation: k = √ᾱ_prev + m√ᾱ_t instead of minus."),

    _c("ddim_sigma", ddim_sigma__b_correct),
    _w("ddim_sigma", ddim_sigma__b_wrong_returns_variance,
       "Returns η·β̃, the variance, without the square roots of eq. 16."),
    _w("ddim_sigma", ddim_sigma__b_wrong_tutorial_scale,
       "Uses the tutorial's σ = η√(1 − ᾱ_prev) instead of eq. 16."),
    _w("ddim_sigma", ddim_sigma__b_wrong_eta_inside_sqrt,
       "Puts η inside the square root, √(η β̃), which is right only at η = 0 and η = 1."),

    _c("family_posterior_mean", family_posterior_mean__b_correct),
    _w("family_posterior_mean", family_posterior_mean__b_wrong_sigma_not_squared,
       "Subtracts σ instead of σ² under the square root of the noise coefficient."),
    _w("family_posterior_mean", family_posterior_mean__b_wrong_noise_not_normalised,
       "Forgets to divide x_t − √ᾱ_t x0 by √(1 − ᾱ_t), so the noise is not rescaled to unit variance."),
    _w("family_posterior_mean", family_posterior_mean__b_wrong_missing_sqrt_alpha_bar_t,
       "Subtracts ᾱ_t x0 instead of √ᾱ_t x0 when recovering the noise from x_t."),

    # --- ch4 ---
    _c("ddim_step", ddim_step__b_correct),
    _w("ddim_step", ddim_step__b_wrong_one_step_alpha,
       "Computes x̂₀ with the one-step α = ᾱ_t/ᾱ_prev (the DDIM paper's α read as DDPM's α) instead of ᾱ_t."),
    _w("ddim_step", ddim_step__b_wrong_direction_ignores_sigma,
       "Writes the direction term as √(1 − ᾱ_prev) ε̂, forgetting to subtract σ², so it is wrong whenever η > 0."),
    _w("ddim_step", ddim_step__b_wrong_returns_float64,
       "Computes in float64 and never casts back, so a float32 batch comes back as float64."),

    _c("timesteps", timesteps__b_correct),
    _w("timesteps", timesteps__b_wrong_trailing_without_minus_one,
       "Trailing list without the final − 1: starts at T (out of range) instead of T − 1."),
    _w("timesteps", timesteps__b_wrong_leading_ascending,
       "Leading list returned ascending (range(0, T, T // S) not reversed), so not noisiest first."),
    _w("timesteps", timesteps__b_wrong_trailing_truncates,
       "Trailing positions truncated with int() instead of rounded, e.g. 665 instead of 666 for T = 1000, S = 3."),

    _c("alpha_bar_prevs", alpha_bar_prevs__b_correct),
    _w("alpha_bar_prevs", alpha_bar_prevs__b_wrong_roll_wraps,
       "Uses torch.roll(timesteps, −1), so the last step wraps around to the first entry's ᾱ instead of 1."),
    _w("alpha_bar_prevs", alpha_bar_prevs__b_wrong_t_minus_one,
       "Takes ᾱ at t − 1 instead of the next entry of the list, and t = 0 wraps around to ᾱ_{T−1}."),
    _w("alpha_bar_prevs", alpha_bar_prevs__b_wrong_final_alpha_bar_zero,
       "Ends with ᾱ_0 (set_alpha_to_one=False) instead of 1 after the last entry."),

    _c("ddim_sample_loop", ddim_sample_loop__b_correct),
    _w("ddim_sample_loop", ddim_sample_loop__b_wrong_stops_one_step_early,
       "Loops over pairs of consecutive entries, so the last step to the clean image (ᾱ_prev = 1) is never taken."),
    _w("ddim_sample_loop", ddim_sample_loop__b_wrong_uniform_stride,
       "Takes ᾱ_prev at t − T // S (assumes evenly spaced entries): wrong on uneven lists and rounded trailing ones."),
    _w("ddim_sample_loop", ddim_sample_loop__b_wrong_fresh_noise,
       "Draws a fresh z with torch.randn_like instead of using noises[i], so every η > 0 result is random."),

    # --- ch5 ---
    _c("predict_x0", predict_x0__b_correct),
    _w("predict_x0", predict_x0__b_wrong_no_sqrt_in_denominator,
       "Divides by ᾱ_t instead of √ᾱ_t."),
    _w("predict_x0", predict_x0__b_wrong_plus_sign,
       "Adds √(1 − ᾱ_t) ε̂ to x_t instead of subtracting it."),
    _w("predict_x0", predict_x0__b_wrong_variance_on_noise,
       "Scales ε̂ by the variance 1 − ᾱ_t instead of its square root."),

    _c("eps_from_x0", eps_from_x0__b_correct),
    _w("eps_from_x0", eps_from_x0__b_wrong_copied_x0_pattern,
       "Copies eq. 9's pattern with x̂₀ in ε̂'s place: (x_t − √(1 − ᾱ) x̂₀)/√ᾱ, coefficients swapped."),
    _w("eps_from_x0", eps_from_x0__b_wrong_missing_sqrt,
       "Subtracts ᾱ_t x̂₀ instead of √ᾱ_t x̂₀."),
    _w("eps_from_x0", eps_from_x0__b_wrong_float64,
       "Promotes to float64 and never casts back, so a float32 batch comes back as float64."),

    _c("x0_from_v", x0_from_v__b_correct),
    _w("x0_from_v", x0_from_v__b_wrong_sign,
       "Sign slip: √ᾱ x_t + √(1 − ᾱ) v̂ instead of minus."),
    _w("x0_from_v", x0_from_v__b_wrong_returns_eps,
       "Eliminates the wrong unknown and returns ε̂ = √(1 − ᾱ) x_t + √ᾱ v̂ instead of x̂₀."),
    _w("x0_from_v", x0_from_v__b_wrong_missing_sqrt,
       "Multiplies x_t by ᾱ_t instead of √ᾱ_t."),

    # --- ch6 ---
    _c("ode_coordinates", ode_coordinates__b_correct),
    _w("ode_coordinates", ode_coordinates__b_wrong_sigma_is_noise_std,
       "Returns σ = √(1 − ᾱ), the noise's std in x_t, instead of the ODE's time √(1 − ᾱ)/√ᾱ."),
    _w("ode_coordinates", ode_coordinates__b_wrong_sigma_squared,
       "Returns σ² = (1 − ᾱ)/ᾱ (no square root) as σ."),
    _w("ode_coordinates", ode_coordinates__b_wrong_multiplies,
       "Multiplies x_t by √ᾱ instead of dividing (from_ode for to_ode)."),

    _c("euler_step_ode", euler_step_ode__b_correct),
    _w("euler_step_ode", euler_step_ode__b_wrong_sign,
       "Steps with (σ − σ_next) ε̂ instead of (σ_next − σ) ε̂, i.e. in the wrong direction."),
    _w("euler_step_ode", euler_step_ode__b_wrong_sigma_squared_step,
       "Uses the difference of σ² (variances) as the step size instead of the difference of σ."),
    _w("euler_step_ode", euler_step_ode__b_wrong_in_place,
       "Updates x_bar in place with +=, overwriting the caller's tensor."),

    _c("heun_step", heun_step__b_correct),
    _w("heun_step", heun_step__b_wrong_second_slope_at_old_sigma,
       "Evaluates the second slope at the Euler point but at the old σ instead of σ_next."),
    _w("heun_step", heun_step__b_wrong_no_last_step_case,
       "No special case for σ_next = 0: calls ε̂ there and averages, instead of returning the Euler point."),
    _w("heun_step", heun_step__b_wrong_starts_from_euler_point,
       "Applies the averaged slope from the Euler point instead of from x̄, taking the step twice."),

    # --- ch7 ---
    _c("invert_step", invert_step__b_correct),
    _w("invert_step", invert_step__b_wrong_levels_not_swapped,
       "Does not swap the ᾱ's: computes x̂₀ at ᾱ_next and re-noises to ᾱ_cur, an ordinary downward step."),
    _w("invert_step", invert_step__b_wrong_sign_in_x0_hat,
       "Adds √(1 − ᾱ_cur) ε̂ instead of subtracting it in x̂₀ (invisible on the first step from a clean image)."),
    _w("invert_step", invert_step__b_wrong_renoise_with_variance,
       "Re-noises with (1 − ᾱ_next) ε̂ instead of √(1 − ᾱ_next) ε̂."),

    _c("slerp", slerp__b_correct),
    _w("slerp", slerp__b_wrong_one_angle_for_batch,
       "Flattens the whole batch into one vector, so all batch elements share one angle θ."),
    _w("slerp", slerp__b_wrong_swapped_weights,
       "Swaps the weights: sin(αθ) goes with z0 and sin((1 − α)θ) with z1, so α runs from z1 to z0."),
    _w("slerp", slerp__b_wrong_cosine_not_normalised,
       "Takes cos θ as the raw dot product without dividing by the norms (clamped), so θ is wrong."),

    _c("ddim_invert", ddim_invert__b_correct),
    _w("ddim_invert", ddim_invert__b_wrong_descending_order,
       "Climbs the list in the given descending order, so it jumps from the clean image straight to the noisiest t."),
    _w("ddim_invert", ddim_invert__b_wrong_level_never_updated,
       "Never updates ᾱ_cur, so every step treats the current x as a clean image (ᾱ = 1)."),
    _w("ddim_invert", ddim_invert__b_wrong_skips_first_climb,
       "Off by one: treats x0 as if it were at the smallest timestep and skips the first step up from ᾱ = 1."),

    # --- ch8 ---
    _c("fix_mystery_step", fix_mystery_step__b_correct),
    _w("fix_mystery_step", fix_mystery_step__b_wrong_tutorial_sigma,
       "Keeps the tutorial's σ = η√(1 − ᾱ_prev) (for the noise and the direction) instead of eq. 16."),
    _w("fix_mystery_step", fix_mystery_step__b_wrong_noise_times_variance,
       "Adds σ²·z instead of σ·z (variance for standard deviation)."),
    _w("fix_mystery_step", fix_mystery_step__b_wrong_noise_never_added,
       "Never adds σ z, so the step is deterministic even when η > 0."),

    _c("fix_mystery_step_2", fix_mystery_step_2__b_correct),
    _w("fix_mystery_step_2", fix_mystery_step_2__b_wrong_precedence,
       "Parenthesis slip in x̂₀: x_t/√ᾱ_t − √(1 − ᾱ_t) ε̂ divides only x_t."),
    _w("fix_mystery_step_2", fix_mystery_step_2__b_wrong_signal_uses_alpha_bar_t,
       "Scales x̂₀ by √ᾱ_t instead of √ᾱ_prev in the 'predicted x0' term."),
    _w("fix_mystery_step_2", fix_mystery_step_2__b_wrong_split_sqrt,
       "Writes √(1 − ᾱ_prev − σ²) as √(1 − ᾱ_prev) − σ, which is wrong whenever η > 0."),

    _c("name_the_bug", name_the_bug__b_correct),
    _w("name_the_bug", name_the_bug__b_wrong_only_eta_zero,
       "Probes only at η = 0, where σ is 0, so variance_for_std is reported as 'correct'."),
    _w("name_the_bug", name_the_bug__b_wrong_no_last_step_probe,
       "Never probes the last step (ᾱ_prev = 1), so wrapped_final_alpha_bar is reported as 'correct'."),
    _w("name_the_bug", name_the_bug__b_wrong_defaults_to_correct,
       "Returns 'correct' for any step that matches none of the known bugs, so unknown bugs pass as correct."),

    # --- ch9 ---
    _c("step_h", step_h__b_correct),
    _w("step_h", step_h__b_wrong_full_log_snr,
       "Uses the whole log-SNR log(ᾱ/(1 − ᾱ)) as λ, twice the half log-SNR."),
    _w("step_h", step_h__b_wrong_sign,
       "Returns λ(ᾱ_t) − λ(ᾱ_prev), the negative of h."),
    _w("step_h", step_h__b_wrong_sqrt_misplaced,
       "Writes the noise std as 1 − √ᾱ instead of √(1 − ᾱ) inside λ."),

    _c("dpm_pp_2m_step", dpm_pp_2m_step__b_correct),
    _w("dpm_pp_2m_step", dpm_pp_2m_step__b_wrong_r_inverted,
       "Inverts r to h/h_last, which is right only when consecutive steps are equally long in λ."),
    _w("dpm_pp_2m_step", dpm_pp_2m_step__b_wrong_D_signs,
       "Sign slip in D: (1 − 1/(2r)) x̂₀ + x̂₀_last/(2r) extrapolates the wrong way."),
    _w("dpm_pp_2m_step", dpm_pp_2m_step__b_wrong_alpha_ratio,
       "Scales x_t by √(ᾱ_prev/ᾱ_t) (the papers' α_prev/α_t) instead of σ_prev/σ_t = √((1 − ᾱ_prev)/(1 − ᾱ_t))."),

    _c("karras_sigmas", karras_sigmas__b_correct),
    _w("karras_sigmas", karras_sigmas__b_wrong_no_final_zero,
       "Leaves out the final 0, returning n values instead of n + 1."),
    _w("karras_sigmas", karras_sigmas__b_wrong_rho_hard_coded,
       "Hard-codes ρ = 7 and ignores the rho argument, so ρ = 3 gives the ρ = 7 grid."),
    _w("karras_sigmas", karras_sigmas__b_wrong_parenthesis,
       "Parenthesis slip: raises only the interpolation term to the power ρ, not σ_max^(1/ρ) + that term."),

    # --- ch10 (added later, same rules) ---
    _c("cfg_eps", cfg_eps__b_correct),
    _w("cfg_eps", cfg_eps__b_wrong_w_as_guidance_scale,
       "Reads w as diffusers' guidance_scale: ε(∅) + w(ε(y) − ε(∅)) is guidance at w − 1, and ε(∅) at w = 0."),
    _w("cfg_eps", cfg_eps__b_wrong_swapped_predictions,
       "Swaps the two predictions: (1 + w) ε(∅) − w ε(y) pushes towards the unconditional model."),
    _w("cfg_eps", cfg_eps__b_wrong_in_place,
       "Builds the result in place in eps_cond (*=, -=), so the caller's conditional prediction is overwritten."),

    _c("classifier_guided_eps", classifier_guided_eps__b_correct),
    _w("classifier_guided_eps", classifier_guided_eps__b_wrong_plus_sign,
       "Sign slip: adds s √(1 − ᾱ_t) ∇ log p(y | x_t) instead of subtracting it, steering away from class y."),
    _w("classifier_guided_eps", classifier_guided_eps__b_wrong_variance_not_std,
       "Scales the gradient by s (1 − ᾱ_t), the variance, instead of s √(1 − ᾱ_t)."),
    _w("classifier_guided_eps", classifier_guided_eps__b_wrong_mean_not_sum,
       "Differentiates the batch mean of log p(y | x) instead of the sum, so every row's gradient is divided by B."),

    _c("guided_ddim_step", guided_ddim_step__b_correct),
    _w("guided_ddim_step", guided_ddim_step__b_wrong_guides_x0_only,
       "Uses the guided ε̃ in x̂₀ but the conditional ε(y) in the direction term √(1 − ᾱ_prev) ε."),
    _w("guided_ddim_step", guided_ddim_step__b_wrong_returns_tuple,
       "Returns samplers.ddim_step's (x_prev, x0_hat) tuple instead of x_prev alone."),
    _w("guided_ddim_step", guided_ddim_step__b_wrong_direction_uses_alpha_bar_t,
       "Reuses x_t's noise scale √(1 − ᾱ_t) in the direction term instead of √(1 − ᾱ_prev)."),
]
