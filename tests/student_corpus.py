"""A corpus of *student answers* to the 32 exercises of the course (notebooks 01-10).

How it was written: from the exercise statements in the English notebooks (the "### Exercise N.M" markdown cells,
their stub signatures, the text around them, and the folded solutions, read only to make sure the correct answers
here are correct) and the package's public modules (formulas, samplers, schedules, ode, oracles, denoiser) for
conventions. It was written *independently of the checker's lists of known mistakes*: ddim_teach/exercises/*.py,
ddim_teach/mistakes.py, ddim_teach/i18n.py, ddim_teach/pitfalls.py and tests/test_exercises_*.py were not read.
Nothing here was run against the checker while writing it. The answers to the last four exercises (4.4
ddim_sample_loop and notebook 10's cfg_eps, classifier_guided_eps and guided_ddim_step) were added later, by another
writer, under the same rules.

For every exercise there is one ``correct`` answer, written in a style other than the notebook's solution
(different but equivalent algebra, a loop, Python floats, another coordinate system, ...), and three ``wrong``
answers of the kind students plausibly write from the statement (off-by-one and wrap-around indices, σ vs σ²,
α vs ᾱ, a square root missing in one place, sign errors, a missed edge case, dtype slips, in-place changes of an
input, swapped arguments or outputs, η linear vs quadratic, ...). Each wrong answer is wrong for at least one
reasonable input of its contract, though several agree with the right answer on some inputs (at η = 0, at the
last step, for T divisible by S, ...), which is the point.

``CORPUS`` is a list of :class:`Answer` (exercise name, kind, one-sentence description, the function).
"""
import math

import torch
from dataclasses import dataclass
from typing import Callable


@dataclass(frozen=True)
class Answer:
    exercise: str
    kind: str          # "correct" or "wrong"
    bug: str           # what the student got wrong (wrong), or the answer's style (correct)
    fn: Callable


# ====================================================================================================================
# Chapter 1: the forward process
# ====================================================================================================================

# --- 1.1 alpha_bar_from_betas ---------------------------------------------------------------------------------------
def alpha_bar_from_betas__correct(betas):
    out = torch.empty_like(betas)
    running = torch.ones((), dtype=betas.dtype)
    for i in range(betas.shape[0]):
        running = running * (1 - betas[i])
        out[i] = running
    return out


def alpha_bar_from_betas__wrong_exclusive_product(betas):
    # ᾱ_t = prod over s < t: the product starts at 1 and lags one step behind
    alphas = 1 - betas
    return torch.cat([torch.ones(1, dtype=betas.dtype), torch.cumprod(alphas, 0)[:-1]])


def alpha_bar_from_betas__wrong_one_minus_sum(betas):
    # "1 - sum of betas": the first-order approximation of the product
    return 1 - torch.cumsum(betas, 0)


def alpha_bar_from_betas__wrong_in_place(betas):
    # right values, but turns the caller's betas into alphas
    betas.neg_().add_(1)
    return torch.cumprod(betas, 0)


# --- 1.2 q_sample ---------------------------------------------------------------------------------------------------
def q_sample__correct(x0, alpha_bar_t, noise):
    a = float(alpha_bar_t)
    signal_scale = math.sqrt(a)
    noise_scale = math.sqrt(1.0 - a)
    return signal_scale * x0 + noise_scale * noise


def q_sample__wrong_no_sqrt_on_noise(x0, alpha_bar_t, noise):
    return alpha_bar_t.sqrt() * x0 + (1 - alpha_bar_t) * noise


def q_sample__wrong_swapped_scales(x0, alpha_bar_t, noise):
    return (1 - alpha_bar_t).sqrt() * x0 + alpha_bar_t.sqrt() * noise


def q_sample__wrong_float64_output(x0, alpha_bar_t, noise):
    # converts to the schedule's dtype "for precision" and never converts back
    x0 = x0.to(alpha_bar_t.dtype)
    noise = noise.to(alpha_bar_t.dtype)
    return alpha_bar_t.sqrt() * x0 + (1 - alpha_bar_t).sqrt() * noise


# --- 1.3 snr --------------------------------------------------------------------------------------------------------
def snr__correct(betas):
    log_ab = torch.cumsum(torch.log1p(-betas), 0)
    return torch.exp(log_ab) / -torch.expm1(log_ab)          # ᾱ / (1 - ᾱ), with 1 - ᾱ computed without cancellation


def snr__wrong_one_step(betas):
    # the one-step α_t / β_t instead of the cumulative ᾱ_t / (1 - ᾱ_t)
    return (1 - betas) / betas


def snr__wrong_log_scale(betas):
    # returns what the plot shows: the log of the SNR
    ab = torch.cumprod(1 - betas, 0)
    return torch.log(ab / (1 - ab))


def snr__wrong_float32(betas):
    alphas = 1 - betas.float()
    ab = torch.cumprod(alphas, 0)
    return ab / (1 - ab)


# ====================================================================================================================
# Chapter 2: DDPM
# ====================================================================================================================

# --- 2.1 posterior_mean ---------------------------------------------------------------------------------------------
def posterior_mean__correct(x0, x_t, alpha_bar_t, alpha_bar_prev):
    # DDPM eq. 11 form: μ̃ = (x_t - β/√(1-ᾱ_t) ε) / √α, with ε the noise that x_t holds given x0
    alpha = alpha_bar_t / alpha_bar_prev
    beta = 1 - alpha
    eps = (x_t - alpha_bar_t.sqrt() * x0) / (1 - alpha_bar_t).sqrt()
    return (x_t - beta / (1 - alpha_bar_t).sqrt() * eps) / alpha.sqrt()


def posterior_mean__wrong_swapped_inputs(x0, x_t, alpha_bar_t, alpha_bar_prev):
    # coefficient of x0 applied to x_t and vice versa (formulas.posterior_mean takes x_t first)
    alpha = alpha_bar_t / alpha_bar_prev
    beta = 1 - alpha
    return (alpha_bar_prev.sqrt() * beta / (1 - alpha_bar_t) * x_t
            + alpha.sqrt() * (1 - alpha_bar_prev) / (1 - alpha_bar_t) * x0)


def posterior_mean__wrong_alpha_not_sqrt(x0, x_t, alpha_bar_t, alpha_bar_prev):
    alpha = alpha_bar_t / alpha_bar_prev
    beta = 1 - alpha
    return (alpha_bar_prev.sqrt() * beta / (1 - alpha_bar_t) * x0
            + alpha * (1 - alpha_bar_prev) / (1 - alpha_bar_t) * x_t)


def posterior_mean__wrong_alpha_bar_for_alpha(x0, x_t, alpha_bar_t, alpha_bar_prev):
    # takes the formula's α to be ᾱ_t (and β = 1 - ᾱ_t)
    alpha = alpha_bar_t
    beta = 1 - alpha_bar_t
    return (alpha_bar_prev.sqrt() * beta / (1 - alpha_bar_t) * x0
            + alpha.sqrt() * (1 - alpha_bar_prev) / (1 - alpha_bar_t) * x_t)


# --- 2.2 posterior_variance -----------------------------------------------------------------------------------------
def posterior_variance__correct(alpha_bar_t, alpha_bar_prev):
    # β = (ᾱ_prev - ᾱ_t) / ᾱ_prev, all in one fraction
    return (1 - alpha_bar_prev) * (alpha_bar_prev - alpha_bar_t) / ((1 - alpha_bar_t) * alpha_bar_prev)


def posterior_variance__wrong_returns_std(alpha_bar_t, alpha_bar_prev):
    beta = 1 - alpha_bar_t / alpha_bar_prev
    return ((1 - alpha_bar_prev) / (1 - alpha_bar_t) * beta).sqrt()


def posterior_variance__wrong_beta_only(alpha_bar_t, alpha_bar_prev):
    # forgets the (1 - ᾱ_prev)/(1 - ᾱ_t) factor: DDPM's "fixed_large" β
    return 1 - alpha_bar_t / alpha_bar_prev


def posterior_variance__wrong_inverted_ratio(alpha_bar_t, alpha_bar_prev):
    beta = 1 - alpha_bar_t / alpha_bar_prev
    return (1 - alpha_bar_t) / (1 - alpha_bar_prev) * beta


# --- 2.3 ddpm_step --------------------------------------------------------------------------------------------------
def ddpm_step__correct(x_t, eps_hat, alpha_bar_t, alpha_bar_prev, noise):
    # DDPM eq. 11 (mean straight from ε̂), then √β̃ z; returns x_prev only
    alpha = alpha_bar_t / alpha_bar_prev
    beta = 1 - alpha
    mean = (x_t - beta / (1 - alpha_bar_t).sqrt() * eps_hat) / alpha.sqrt()
    var = (1 - alpha_bar_prev) / (1 - alpha_bar_t) * beta
    if noise is None:
        return mean
    return mean + var.clamp(min=0).sqrt() * noise


def ddpm_step__wrong_variance_for_std(x_t, eps_hat, alpha_bar_t, alpha_bar_prev, noise):
    alpha = alpha_bar_t / alpha_bar_prev
    beta = 1 - alpha
    x0_hat = (x_t - (1 - alpha_bar_t).sqrt() * eps_hat) / alpha_bar_t.sqrt()
    mean = (alpha_bar_prev.sqrt() * beta / (1 - alpha_bar_t) * x0_hat
            + alpha.sqrt() * (1 - alpha_bar_prev) / (1 - alpha_bar_t) * x_t)
    beta_tilde = (1 - alpha_bar_prev) / (1 - alpha_bar_t) * beta
    return mean + beta_tilde * noise, x0_hat


def ddpm_step__wrong_eq11_missing_sqrt(x_t, eps_hat, alpha_bar_t, alpha_bar_prev, noise):
    alpha = alpha_bar_t / alpha_bar_prev
    beta = 1 - alpha
    mean = (x_t - beta / (1 - alpha_bar_t) * eps_hat) / alpha.sqrt()      # β/(1-ᾱ_t), should be β/√(1-ᾱ_t)
    beta_tilde = (1 - alpha_bar_prev) / (1 - alpha_bar_t) * beta
    return mean + beta_tilde.sqrt() * noise


def ddpm_step__wrong_tuple_order(x_t, eps_hat, alpha_bar_t, alpha_bar_prev, noise):
    alpha = alpha_bar_t / alpha_bar_prev
    beta = 1 - alpha
    x0_hat = (x_t - (1 - alpha_bar_t).sqrt() * eps_hat) / alpha_bar_t.sqrt()
    mean = (alpha_bar_prev.sqrt() * beta / (1 - alpha_bar_t) * x0_hat
            + alpha.sqrt() * (1 - alpha_bar_prev) / (1 - alpha_bar_t) * x_t)
    beta_tilde = (1 - alpha_bar_prev) / (1 - alpha_bar_t) * beta
    return x0_hat, mean + beta_tilde.sqrt() * noise


# --- 2.4 l_simple ---------------------------------------------------------------------------------------------------
def l_simple__correct(model, x0, t, noise, alpha_bars):
    # one image at a time, then the batch's mean squared error
    noisy = []
    for i in range(x0.shape[0]):
        a = float(alpha_bars[int(t[i])])
        noisy.append(math.sqrt(a) * x0[i] + math.sqrt(1.0 - a) * noise[i])
    x_t = torch.stack(noisy)
    return torch.nn.functional.mse_loss(model(x_t, t), noise)


def l_simple__wrong_t_minus_one(model, x0, t, noise, alpha_bars):
    # thinks t is 1-based: alpha_bars[t - 1], which also wraps to ᾱ_{T-1} at t = 0
    ab = alpha_bars[t - 1].to(x0.dtype).reshape(-1, *[1] * (x0.dim() - 1))
    x_t = ab.sqrt() * x0 + (1 - ab).sqrt() * noise
    return ((model(x_t, t) - noise) ** 2).mean()


def l_simple__wrong_float64_promotion(model, x0, t, noise, alpha_bars):
    # the float64 ᾱ table promotes x_t (and the loss) to float64
    ab = alpha_bars[t].reshape(-1, *[1] * (x0.dim() - 1))
    x_t = ab.sqrt() * x0 + (1 - ab).sqrt() * noise
    return ((model(x_t, t) - noise) ** 2).mean()


def l_simple__wrong_sum_over_pixels(model, x0, t, noise, alpha_bars):
    # sums over each image's pixels and averages over the batch only
    ab = alpha_bars[t].to(x0.dtype).reshape(-1, *[1] * (x0.dim() - 1))
    x_t = ab.sqrt() * x0 + (1 - ab).sqrt() * noise
    return ((model(x_t, t) - noise) ** 2).flatten(1).sum(1).mean()


# ====================================================================================================================
# Chapter 3: deriving DDIM
# ====================================================================================================================

# --- 3.1 ddim_coefficients (SymPy) ----------------------------------------------------------------------------------
def ddim_coefficients__wrong_root_by_printed_sign(alpha_bar_t, alpha_bar_prev, sigma):
    # written as the corpus's correct answer; the checker found it wrong: at σ² = β̃ the root that does not *print*
    # with a minus sign is m < 0 (could_extract_minus_sign looks at the expression's form, not at its value)
    import sympy as sp
    k, m = sp.symbols("k m")
    m_roots = sp.solve(sp.Eq(m**2 * (1 - alpha_bar_t) + sigma**2, 1 - alpha_bar_prev), m)
    m_val = next(r for r in m_roots if not r.could_extract_minus_sign())
    k_val = sp.solve(sp.Eq(k + m_val * sp.sqrt(alpha_bar_t), sp.sqrt(alpha_bar_prev)), k)[0]
    return k_val, m_val


def ddim_coefficients__correct(alpha_bar_t, alpha_bar_prev, sigma):
    # both roots from sp.solve; keep the one that is positive at a point where all three symbols are valid
    import sympy as sp
    m = sp.symbols("m", real=True)
    roots = sp.solve(sp.Eq(m**2 * (1 - alpha_bar_t) + sigma**2, 1 - alpha_bar_prev), m)
    values = {"alphabar_t": sp.Rational(1, 5), "alphabar_prev": sp.Rational(1, 2)}     # σ: 1/10
    point = {sym: values.get(str(sym), sp.Rational(1, 10))
             for sym in sp.sympify(alpha_bar_t + alpha_bar_prev + sigma).free_symbols}
    m_val = next(r for r in roots if r.subs(point).evalf() > 0)
    return sp.sqrt(alpha_bar_prev) - m_val * sp.sqrt(alpha_bar_t), m_val


def ddim_coefficients__wrong_sigma_not_squared(alpha_bar_t, alpha_bar_prev, sigma):
    import sympy as sp
    k, m = sp.symbols("k m", real=True)
    roots = sp.solve([sp.Eq(k + m * sp.sqrt(alpha_bar_t), sp.sqrt(alpha_bar_prev)),
                      sp.Eq(m**2 * (1 - alpha_bar_t) + sigma, 1 - alpha_bar_prev)], [k, m], dict=True)
    root = next(r for r in roots if not r[m].could_extract_minus_sign())
    return root[k], root[m]


def ddim_coefficients__wrong_m_not_squared(alpha_bar_t, alpha_bar_prev, sigma):
    # the variance of m x_t written as m (1 - ᾱ_t) instead of m² (1 - ᾱ_t)
    import sympy as sp
    k, m = sp.symbols("k m", real=True)
    root = sp.solve([sp.Eq(k + m * sp.sqrt(alpha_bar_t), sp.sqrt(alpha_bar_prev)),
                     sp.Eq(m * (1 - alpha_bar_t) + sigma**2, 1 - alpha_bar_prev)], [k, m], dict=True)[0]
    return root[k], root[m]


def ddim_coefficients__wrong_returns_m_k(alpha_bar_t, alpha_bar_prev, sigma):
    import sympy as sp
    k, m = sp.symbols("k m", real=True)
    roots = sp.solve([sp.Eq(k + m * sp.sqrt(alpha_bar_t), sp.sqrt(alpha_bar_prev)),
                      sp.Eq(m**2 * (1 - alpha_bar_t) + sigma**2, 1 - alpha_bar_prev)], [k, m], dict=True)
    root = next(r for r in roots if not r[m].could_extract_minus_sign())
    return root[m], root[k]


# --- 3.2 ddim_sigma -------------------------------------------------------------------------------------------------
def ddim_sigma__correct(alpha_bar_t, alpha_bar_prev, eta):
    # η √β̃, with β̃ written as one fraction
    beta_tilde = (1 - alpha_bar_prev) * (alpha_bar_prev - alpha_bar_t) / ((1 - alpha_bar_t) * alpha_bar_prev)
    return eta * torch.sqrt(beta_tilde.clamp(min=0))


def ddim_sigma__wrong_eta_scales_variance(alpha_bar_t, alpha_bar_prev, eta):
    # σ² = η β̃: η interpolates the variance, so σ goes like √η (right only at η = 0 and 1)
    beta_tilde = (1 - alpha_bar_prev) / (1 - alpha_bar_t) * (1 - alpha_bar_t / alpha_bar_prev)
    return (eta * beta_tilde).sqrt()


def ddim_sigma__wrong_second_sqrt_missing(alpha_bar_t, alpha_bar_prev, eta):
    return eta * ((1 - alpha_bar_prev) / (1 - alpha_bar_t)).sqrt() * (1 - alpha_bar_t / alpha_bar_prev)


def ddim_sigma__wrong_returns_variance(alpha_bar_t, alpha_bar_prev, eta):
    return eta**2 * (1 - alpha_bar_prev) / (1 - alpha_bar_t) * (1 - alpha_bar_t / alpha_bar_prev)


# --- 3.3 family_posterior_mean --------------------------------------------------------------------------------------
def family_posterior_mean__correct(x0, x_t, alpha_bar_t, alpha_bar_prev, sigma):
    # k x0 + m x_t, the coefficients of Exercise 3.1
    m = ((1 - alpha_bar_prev - sigma**2).clamp(min=0) / (1 - alpha_bar_t)).sqrt()
    k = alpha_bar_prev.sqrt() - m * alpha_bar_t.sqrt()
    return (k * x0 + m * x_t).to(x_t.dtype)


def family_posterior_mean__wrong_sigma_not_squared(x0, x_t, alpha_bar_t, alpha_bar_prev, sigma):
    eps = (x_t - alpha_bar_t.sqrt() * x0) / (1 - alpha_bar_t).sqrt()
    return alpha_bar_prev.sqrt() * x0 + (1 - alpha_bar_prev - sigma).sqrt() * eps


def family_posterior_mean__wrong_noise_not_rescaled(x0, x_t, alpha_bar_t, alpha_bar_prev, sigma):
    # uses x_t - √ᾱ_t x0 as the noise, without dividing by √(1 - ᾱ_t)
    eps = x_t - alpha_bar_t.sqrt() * x0
    return alpha_bar_prev.sqrt() * x0 + (1 - alpha_bar_prev - sigma**2).sqrt() * eps


def family_posterior_mean__wrong_float64_output(x0, x_t, alpha_bar_t, alpha_bar_prev, sigma):
    x0, x_t = x0.double(), x_t.double()          # "to be safe", never cast back
    eps = (x_t - alpha_bar_t.sqrt() * x0) / (1 - alpha_bar_t).sqrt()
    return alpha_bar_prev.sqrt() * x0 + (1 - alpha_bar_prev - sigma**2).sqrt() * eps


# ====================================================================================================================
# Chapter 4: DDPM vs DDIM
# ====================================================================================================================

# --- 4.1 ddim_step --------------------------------------------------------------------------------------------------
def ddim_step__correct(x_t, eps_hat, alpha_bar_t, alpha_bar_prev, eta, noise):
    # scalar coefficients as Python floats; returns x_prev only
    a_t, a_p = float(alpha_bar_t), float(alpha_bar_prev)
    sigma = eta * math.sqrt((1 - a_p) / (1 - a_t) * (1 - a_t / a_p))
    x0_hat = (x_t - math.sqrt(1 - a_t) * eps_hat) / math.sqrt(a_t)
    x_prev = math.sqrt(a_p) * x0_hat + math.sqrt(max(1 - a_p - sigma**2, 0.0)) * eps_hat
    if noise is not None and sigma > 0:
        x_prev = x_prev + sigma * noise
    return x_prev


def ddim_step__wrong_variance_for_std(x_t, eps_hat, alpha_bar_t, alpha_bar_prev, eta, noise):
    x0_hat = (x_t - (1 - alpha_bar_t).sqrt() * eps_hat) / alpha_bar_t.sqrt()
    sigma = eta * ((1 - alpha_bar_prev) / (1 - alpha_bar_t)).sqrt() * (1 - alpha_bar_t / alpha_bar_prev).sqrt()
    direction = (1 - alpha_bar_prev - sigma**2).clamp(min=0).sqrt() * eps_hat
    return alpha_bar_prev.sqrt() * x0_hat + direction + sigma**2 * noise, x0_hat


def ddim_step__wrong_direction_ignores_sigma(x_t, eps_hat, alpha_bar_t, alpha_bar_prev, eta, noise):
    x0_hat = (x_t - (1 - alpha_bar_t).sqrt() * eps_hat) / alpha_bar_t.sqrt()
    sigma = eta * ((1 - alpha_bar_prev) / (1 - alpha_bar_t)).sqrt() * (1 - alpha_bar_t / alpha_bar_prev).sqrt()
    direction = (1 - alpha_bar_prev).sqrt() * eps_hat                    # forgot "- σ²"
    return alpha_bar_prev.sqrt() * x0_hat + direction + sigma * noise, x0_hat


def ddim_step__wrong_direction_uses_alpha_bar_t(x_t, eps_hat, alpha_bar_t, alpha_bar_prev, eta, noise):
    x0_hat = (x_t - (1 - alpha_bar_t).sqrt() * eps_hat) / alpha_bar_t.sqrt()
    sigma = eta * ((1 - alpha_bar_prev) / (1 - alpha_bar_t)).sqrt() * (1 - alpha_bar_t / alpha_bar_prev).sqrt()
    direction = (1 - alpha_bar_t - sigma**2).clamp(min=0).sqrt() * eps_hat   # ᾱ_t where ᾱ_prev belongs
    return alpha_bar_prev.sqrt() * x0_hat + direction + sigma * noise, x0_hat


# --- 4.2 timesteps --------------------------------------------------------------------------------------------------
def timesteps__correct(T, steps, spacing):
    if spacing == "leading":
        stride = T // steps
        values = [stride * i for i in range(steps - 1, -1, -1)]
    elif spacing == "trailing":
        spacing_f = T / steps
        values = [round(T - i * spacing_f) - 1 for i in range(steps)]     # Python's round is half to even too
    else:
        raise ValueError(f"unknown spacing {spacing!r}")
    return torch.tensor(values, dtype=torch.long)


def timesteps__wrong_leading_arange_length(T, steps, spacing):
    # DDIM's range(0, T, T // S) taken literally: S + 1 entries or more when S does not divide T
    if spacing == "leading":
        return torch.arange(0, T, T // steps).flip(0)
    if spacing == "trailing":
        return (T - torch.arange(steps, dtype=torch.float64) * (T / steps)).round().long() - 1
    raise ValueError(spacing)


def timesteps__wrong_round_half_up(T, steps, spacing):
    if spacing == "leading":
        return (torch.arange(steps) * (T // steps)).flip(0)
    if spacing == "trailing":
        return torch.tensor([math.floor(T - i * T / steps + 0.5) - 1 for i in range(steps)], dtype=torch.long)
    raise ValueError(spacing)


def timesteps__wrong_trailing_float_dtype(T, steps, spacing):
    if spacing == "leading":
        return (torch.arange(steps) * (T // steps)).flip(0)
    if spacing == "trailing":
        return (T - torch.arange(steps, dtype=torch.float64) * (T / steps)).round() - 1   # never .long()
    raise ValueError(spacing)


# --- 4.3 alpha_bar_prevs --------------------------------------------------------------------------------------------
def alpha_bar_prevs__correct(alpha_bars, timesteps):
    ts = [int(t) for t in timesteps]
    out = torch.ones(len(ts), dtype=alpha_bars.dtype)
    for i in range(len(ts) - 1):
        out[i] = alpha_bars[ts[i + 1]]
    return out


def alpha_bar_prevs__wrong_t_minus_one(alpha_bars, timesteps):
    # the previous *timestep* t - 1, not the next list entry; at t = 0 it wraps to ᾱ_{T-1}
    return torch.stack([alpha_bars[int(t) - 1] for t in timesteps])


def alpha_bar_prevs__wrong_stride_wraps(alpha_bars, timesteps):
    # alpha_bars[t - stride] with stride T // S: wrong for uneven lists, and wraps at the end
    stride = len(alpha_bars) // len(timesteps)
    return torch.stack([alpha_bars[int(t) - stride] for t in timesteps])


def alpha_bar_prevs__wrong_final_alpha_bar_0(alpha_bars, timesteps):
    # ends on ᾱ_0 (set_alpha_to_one=False) instead of 1
    ts = torch.as_tensor(timesteps).long()
    return torch.cat([alpha_bars[ts[1:]], alpha_bars[:1]])


# --- 4.4 ddim_sample_loop -------------------------------------------------------------------------------------------
def ddim_sample_loop__correct(model, schedule, x_T, timesteps, eta=0.0, noises=None):
    # the ᾱ_t and ᾱ_prev lists built up front as Python floats and zipped with the timesteps; each step written as
    # √(ᾱ_prev/ᾱ_t) (x − √(1 − ᾱ_t) ε̂) + √(1 − ᾱ_prev − σ²) ε̂ + σ z
    ts = [int(t) for t in timesteps]
    abs_t = [float(schedule.alpha_bars[t]) for t in ts]
    abs_prev = abs_t[1:] + [1.0]
    x = x_T
    for i, (t, a_t, a_p) in enumerate(zip(ts, abs_t, abs_prev)):
        eps_hat = model(x, torch.full((x.shape[0],), t))
        sigma = eta * math.sqrt(max((1 - a_p) / (1 - a_t) * (1 - a_t / a_p), 0.0))
        x_next = math.sqrt(a_p / a_t) * (x - math.sqrt(1 - a_t) * eps_hat)
        x_next = x_next + math.sqrt(max(1 - a_p - sigma**2, 0.0)) * eps_hat
        if sigma > 0:
            x_next = x_next + sigma * noises[i]
        x = x_next
    return x


def ddim_sample_loop__wrong_in_place(model, schedule, x_T, timesteps, eta=0.0, noises=None):
    # right values, but "saves memory" with in-place updates of x, which *is* the caller's x_T
    ts = [int(t) for t in timesteps]
    x = x_T
    for i, t in enumerate(ts):
        a_t = float(schedule.alpha_bars[t])
        a_p = float(schedule.alpha_bars[ts[i + 1]]) if i + 1 < len(ts) else 1.0
        sigma = eta * math.sqrt((1 - a_p) / (1 - a_t) * (1 - a_t / a_p))
        eps_hat = model(x, torch.full((x.shape[0],), t))
        x -= math.sqrt(1 - a_t) * eps_hat
        x /= math.sqrt(a_t)                                   # x now holds x̂0
        x *= math.sqrt(a_p)
        x += math.sqrt(max(1 - a_p - sigma**2, 0.0)) * eps_hat
        if sigma > 0:
            x += sigma * noises[i]
    return x


def ddim_sample_loop__wrong_sentinel_wraps(model, schedule, x_T, timesteps, eta=0.0, noises=None):
    # the official DDIM code's "next t = -1" sentinel, without its shifted ᾱ table: alpha_bars[-1] = ᾱ_{T-1}
    # (almost pure noise) instead of 1 for the last step
    ts = [int(t) for t in timesteps]
    t_next = ts[1:] + [-1]
    x = x_T
    for i, (t, tn) in enumerate(zip(ts, t_next)):
        a, b = schedule.alpha_bars[t], schedule.alpha_bars[tn]
        eps_hat = model(x, torch.full((x.shape[0],), t))
        sigma = eta * ((1 - b) / (1 - a) * (1 - a / b)).clamp(min=0).sqrt()
        x0_hat = (x - (1 - a).sqrt() * eps_hat) / a.sqrt()
        x = b.sqrt() * x0_hat + (1 - b - sigma**2).clamp(min=0).sqrt() * eps_hat
        if eta > 0:
            x = x + sigma * noises[i]
    return x


def ddim_sample_loop__wrong_prev_is_previous_entry(model, schedule, x_T, timesteps, eta=0.0, noises=None):
    # reads "prev" as the *previous* entry of the list, ts[i - 1] (ts[-1], the smallest t, at i = 0), never 1
    ts = [int(t) for t in timesteps]
    x = x_T
    for i, t in enumerate(ts):
        ab_t = schedule.alpha_bars[t]
        ab_prev = schedule.alpha_bars[ts[i - 1]]
        eps_hat = model(x, torch.full((x.shape[0],), t))
        sigma = eta * ((1 - ab_prev) / (1 - ab_t) * (1 - ab_t / ab_prev)).clamp(min=0).sqrt()
        x0_hat = (x - (1 - ab_t).sqrt() * eps_hat) / ab_t.sqrt()
        x = ab_prev.sqrt() * x0_hat + (1 - ab_prev - sigma**2).clamp(min=0).sqrt() * eps_hat
        if eta > 0:
            x = x + sigma * noises[i]
    return x


# ====================================================================================================================
# Chapter 5: x0, ε and v
# ====================================================================================================================

# --- 5.1 predict_x0 -------------------------------------------------------------------------------------------------
def predict_x0__correct(x_t, eps_hat, alpha_bar_t):
    # x̄ - σ ε̂ in the ODE's coordinates
    return x_t / alpha_bar_t.sqrt() - ((1 - alpha_bar_t) / alpha_bar_t).sqrt() * eps_hat


def predict_x0__wrong_divides_by_alpha_bar(x_t, eps_hat, alpha_bar_t):
    return (x_t - (1 - alpha_bar_t).sqrt() * eps_hat) / alpha_bar_t


def predict_x0__wrong_sign(x_t, eps_hat, alpha_bar_t):
    return (x_t + (1 - alpha_bar_t).sqrt() * eps_hat) / alpha_bar_t.sqrt()


def predict_x0__wrong_in_place(x_t, eps_hat, alpha_bar_t):
    # right values, but overwrites the caller's x_t
    x_t -= (1 - alpha_bar_t).sqrt() * eps_hat
    x_t /= alpha_bar_t.sqrt()
    return x_t


# --- 5.2 eps_from_x0 ------------------------------------------------------------------------------------------------
def eps_from_x0__correct(x_t, x0_hat, alpha_bar_t):
    a = float(alpha_bar_t)
    inv_noise_std = 1.0 / math.sqrt(1.0 - a)
    return inv_noise_std * x_t - (inv_noise_std * math.sqrt(a)) * x0_hat


def eps_from_x0__wrong_sqrts_swapped(x_t, x0_hat, alpha_bar_t):
    # predict_x0 copied with the names changed
    return (x_t - (1 - alpha_bar_t).sqrt() * x0_hat) / alpha_bar_t.sqrt()


def eps_from_x0__wrong_sign(x_t, x0_hat, alpha_bar_t):
    return (alpha_bar_t.sqrt() * x0_hat - x_t) / (1 - alpha_bar_t).sqrt()


def eps_from_x0__wrong_no_sqrt_denominator(x_t, x0_hat, alpha_bar_t):
    return (x_t - alpha_bar_t.sqrt() * x0_hat) / (1 - alpha_bar_t)


# --- 5.3 x0_from_v --------------------------------------------------------------------------------------------------
def x0_from_v__correct(x_t, v_hat, alpha_bar_t):
    # √ᾱ x_t - √(1-ᾱ) v, with the scalars as Python floats and torch.add's alpha
    a = math.sqrt(float(alpha_bar_t))
    b = math.sqrt(1.0 - float(alpha_bar_t))
    return torch.add(a * x_t, v_hat, alpha=-b)


def x0_from_v__wrong_sign(x_t, v_hat, alpha_bar_t):
    return alpha_bar_t.sqrt() * x_t + (1 - alpha_bar_t).sqrt() * v_hat


def x0_from_v__wrong_coefficients_swapped(x_t, v_hat, alpha_bar_t):
    return (1 - alpha_bar_t).sqrt() * x_t - alpha_bar_t.sqrt() * v_hat


def x0_from_v__wrong_v_as_eps(x_t, v_hat, alpha_bar_t):
    # treats v like ε in eq. 9
    return (x_t - (1 - alpha_bar_t).sqrt() * v_hat) / alpha_bar_t.sqrt()


# ====================================================================================================================
# Chapter 6: the ODE view
# ====================================================================================================================

# --- 6.1 ode_coordinates --------------------------------------------------------------------------------------------
def ode_coordinates__correct(x_t, alpha_bar_t):
    sigma = torch.sqrt(1 / alpha_bar_t - 1)
    x_bar = x_t * torch.rsqrt(alpha_bar_t)
    return x_bar, sigma


def ode_coordinates__wrong_sigma_is_noise_std(x_t, alpha_bar_t):
    # σ = √(1 - ᾱ), the std of the noise in x_t, not divided by √ᾱ
    return x_t / alpha_bar_t.sqrt(), (1 - alpha_bar_t).sqrt()


def ode_coordinates__wrong_sigma_no_sqrt(x_t, alpha_bar_t):
    return x_t / alpha_bar_t.sqrt(), (1 - alpha_bar_t) / alpha_bar_t


def ode_coordinates__wrong_multiplies(x_t, alpha_bar_t):
    # x̄ = √ᾱ x_t (from_ode instead of to_ode)
    return x_t * alpha_bar_t.sqrt(), ((1 - alpha_bar_t) / alpha_bar_t).sqrt()


# --- 6.2 euler_step_ode ---------------------------------------------------------------------------------------------
def euler_step_ode__correct(x_bar, sigma, sigma_next, eps_hat):
    return torch.add(x_bar, eps_hat, alpha=float(sigma_next - sigma))


def euler_step_ode__wrong_sign(x_bar, sigma, sigma_next, eps_hat):
    return x_bar + (sigma - sigma_next) * eps_hat


def euler_step_ode__wrong_returns_x(x_bar, sigma, sigma_next, eps_hat):
    # converts back to x with ᾱ_next = 1 / (1 + σ_next²) although x̄ is asked for
    x_bar_next = x_bar + (sigma_next - sigma) * eps_hat
    return x_bar_next / (1 + sigma_next**2).sqrt()


def euler_step_ode__wrong_sigma_squared(x_bar, sigma, sigma_next, eps_hat):
    # steps in σ² as if σ were a variance
    return x_bar + (sigma_next**2 - sigma**2) * eps_hat


# --- 6.3 heun_step --------------------------------------------------------------------------------------------------
def heun_step__correct(eps_fn, x_bar, sigma, sigma_next):
    # Euler, then a correction by half the change of slope
    h = sigma_next - sigma
    d1 = eps_fn(x_bar, sigma)
    x_euler = x_bar + h * d1
    if not bool(sigma_next > 0):
        return x_euler
    d2 = eps_fn(x_euler, sigma_next)
    return x_euler + (h / 2) * (d2 - d1)


def heun_step__wrong_no_last_step_case(eps_fn, x_bar, sigma, sigma_next):
    # always averages, also at σ_next = 0
    h = sigma_next - sigma
    d1 = eps_fn(x_bar, sigma)
    d2 = eps_fn(x_bar + h * d1, sigma_next)
    return x_bar + h * (d1 + d2) / 2


def heun_step__wrong_slope_at_start_point(eps_fn, x_bar, sigma, sigma_next):
    # evaluates the second slope at the starting x̄, not at the Euler point
    h = sigma_next - sigma
    d1 = eps_fn(x_bar, sigma)
    if float(sigma_next) == 0.0:
        return x_bar + h * d1
    d2 = eps_fn(x_bar, sigma_next)
    return x_bar + h * (d1 + d2) / 2


def heun_step__wrong_average_from_euler_point(eps_fn, x_bar, sigma, sigma_next):
    h = sigma_next - sigma
    d1 = eps_fn(x_bar, sigma)
    x_euler = x_bar + h * d1
    if float(sigma_next) == 0.0:
        return x_euler
    d2 = eps_fn(x_euler, sigma_next)
    return x_euler + h * (d1 + d2) / 2          # starts from x_E instead of x̄


# ====================================================================================================================
# Chapter 7: inversion and interpolation
# ====================================================================================================================

# --- 7.1 invert_step ------------------------------------------------------------------------------------------------
def invert_step__correct(x, eps_hat, alpha_bar_cur, alpha_bar_next):
    # an Euler step in (x̄, σ) upward: x̄' = x̄ + (σ_next - σ_cur) ε̂, then back to x
    a_c, a_n = float(alpha_bar_cur), float(alpha_bar_next)
    s_cur = math.sqrt((1 - a_c) / a_c)
    s_next = math.sqrt((1 - a_n) / a_n)
    x_bar = x / math.sqrt(a_c)
    return (x_bar + (s_next - s_cur) * eps_hat) * math.sqrt(a_n)


def invert_step__wrong_not_swapped(x, eps_hat, alpha_bar_cur, alpha_bar_next):
    # the sampling step as is: x̂0 from the target level, re-noised to the current one
    x0_hat = (x - (1 - alpha_bar_next).sqrt() * eps_hat) / alpha_bar_next.sqrt()
    return alpha_bar_cur.sqrt() * x0_hat + (1 - alpha_bar_cur).sqrt() * eps_hat


def invert_step__wrong_noise_from_current_level(x, eps_hat, alpha_bar_cur, alpha_bar_next):
    x0_hat = (x - (1 - alpha_bar_cur).sqrt() * eps_hat) / alpha_bar_cur.sqrt()
    return alpha_bar_next.sqrt() * x0_hat + (1 - alpha_bar_cur).sqrt() * eps_hat


def invert_step__wrong_negated_noise(x, eps_hat, alpha_bar_cur, alpha_bar_next):
    # "going the other way" taken as subtracting the noise
    x0_hat = (x - (1 - alpha_bar_cur).sqrt() * eps_hat) / alpha_bar_cur.sqrt()
    return alpha_bar_next.sqrt() * x0_hat - (1 - alpha_bar_next).sqrt() * eps_hat


# --- 7.2 ddim_invert ------------------------------------------------------------------------------------------------
def ddim_invert__correct(model, schedule, x0, timesteps):
    # formula written inline, ascending list from a tensor sort
    ascending = torch.as_tensor(timesteps).flatten().sort().values.tolist()
    x = x0
    a_cur = torch.tensor(1.0, dtype=torch.float64)
    for t in ascending:
        a_next = schedule.alpha_bars[t]
        eps_hat = model(x, torch.full((x.shape[0],), t, dtype=torch.long))
        x0_hat = (x - (1 - a_cur).sqrt() * eps_hat) / a_cur.sqrt()
        x = a_next.sqrt() * x0_hat + (1 - a_next).sqrt() * eps_hat
        a_cur = a_next
    return x


def ddim_invert__wrong_descending_order(model, schedule, x0, timesteps):
    # climbs the list in the order given, noisiest first
    x, a_cur = x0, torch.tensor(1.0, dtype=torch.float64)
    for t in timesteps:
        t = int(t)
        a_next = schedule.alpha_bars[t]
        eps_hat = model(x, torch.full((x.shape[0],), t))
        x0_hat = (x - (1 - a_cur).sqrt() * eps_hat) / a_cur.sqrt()
        x = a_next.sqrt() * x0_hat + (1 - a_next).sqrt() * eps_hat
        a_cur = a_next
    return x


def ddim_invert__wrong_model_at_current_t(model, schedule, x0, timesteps):
    # calls the model where x is (the previous timestep, 0 for the clean image), not at the target t
    x, a_cur, t_cur = x0, torch.tensor(1.0, dtype=torch.float64), 0
    for t in sorted(int(v) for v in timesteps):
        a_next = schedule.alpha_bars[t]
        eps_hat = model(x, torch.full((x.shape[0],), t_cur))
        x0_hat = (x - (1 - a_cur).sqrt() * eps_hat) / a_cur.sqrt()
        x = a_next.sqrt() * x0_hat + (1 - a_next).sqrt() * eps_hat
        a_cur, t_cur = a_next, t
    return x


def ddim_invert__wrong_skips_first_climb(model, schedule, x0, timesteps):
    # loops over consecutive pairs, so x0 is treated as if it sat at the smallest t: the climb from ᾱ = 1 is lost
    ts = sorted(int(v) for v in timesteps)
    x = x0
    for t_cur, t_next in zip(ts[:-1], ts[1:]):
        a_cur, a_next = schedule.alpha_bars[t_cur], schedule.alpha_bars[t_next]
        eps_hat = model(x, torch.full((x.shape[0],), t_next))
        x0_hat = (x - (1 - a_cur).sqrt() * eps_hat) / a_cur.sqrt()
        x = a_next.sqrt() * x0_hat + (1 - a_next).sqrt() * eps_hat
    return x


# --- 7.3 slerp ------------------------------------------------------------------------------------------------------
def slerp__correct(z0, z1, alpha):
    # one batch element at a time, scalars in Python
    rows = []
    for a, b in zip(z0, z1):
        u, v = a.reshape(-1).double(), b.reshape(-1).double()
        c = float(torch.dot(u, v) / (u.norm() * v.norm()))
        theta = math.acos(max(-1.0, min(1.0, c)))
        s = math.sin(theta)
        if s < 1e-6:
            w0, w1 = 1.0 - alpha, alpha
        else:
            w0, w1 = math.sin((1.0 - alpha) * theta) / s, math.sin(alpha * theta) / s
        rows.append((w0 * u + w1 * v).reshape(a.shape))
    return torch.stack(rows).to(z0.dtype)


def slerp__wrong_one_angle_for_batch(z0, z1, alpha):
    f0, f1 = z0.reshape(-1).double(), z1.reshape(-1).double()
    cos = torch.dot(f0, f1) / (f0.norm() * f1.norm())
    theta = torch.arccos(cos.clamp(-1, 1))
    if torch.sin(theta) < 1e-6:
        out = (1 - alpha) * f0 + alpha * f1
    else:
        out = (torch.sin((1 - alpha) * theta) * f0 + torch.sin(alpha * theta) * f1) / torch.sin(theta)
    return out.reshape(z0.shape).to(z0.dtype)


def slerp__wrong_cosine_not_normalised(z0, z1, alpha):
    # takes ⟨z0, z1⟩ as cos θ, as if the ends were unit vectors
    f0, f1 = z0.flatten(1).double(), z1.flatten(1).double()
    theta = torch.arccos((f0 * f1).sum(1).clamp(-1, 1))[:, None]
    sin = torch.sin(theta)
    small = sin < 1e-6
    safe = torch.where(small, torch.ones_like(sin), sin)
    w0 = torch.where(small, torch.full_like(sin, 1 - alpha), torch.sin((1 - alpha) * theta) / safe)
    w1 = torch.where(small, torch.full_like(sin, alpha), torch.sin(alpha * theta) / safe)
    return (w0 * f0 + w1 * f1).reshape(z0.shape).to(z0.dtype)


def slerp__wrong_no_parallel_fallback(z0, z1, alpha):
    f0, f1 = z0.flatten(1).double(), z1.flatten(1).double()
    cos = (f0 * f1).sum(1) / (f0.norm(dim=1) * f1.norm(dim=1))
    theta = torch.arccos(cos.clamp(-1, 1))[:, None]
    out = (torch.sin((1 - alpha) * theta) * f0 + torch.sin(alpha * theta) * f1) / torch.sin(theta)
    return out.reshape(z0.shape).to(z0.dtype)


# ====================================================================================================================
# Chapter 8: pitfalls clinic
# ====================================================================================================================

# --- 8.1 fix_mystery_step -------------------------------------------------------------------------------------------
def fix_mystery_step__correct(x_t, eps_hat, alpha_bar_t, alpha_bar_prev, eta=0.0, noise=None):
    # the step as c_x x_t + c_e ε̂ (+ σ z), σ = η √β̃; returns x_prev only
    beta_tilde = (1 - alpha_bar_prev) / (1 - alpha_bar_t) * (1 - alpha_bar_t / alpha_bar_prev)
    sigma = eta * beta_tilde.clamp(min=0).sqrt()
    direction = (1 - alpha_bar_prev - sigma**2).clamp(min=0).sqrt()
    c_x = (alpha_bar_prev / alpha_bar_t).sqrt()
    c_e = direction - alpha_bar_prev.sqrt() * (1 - alpha_bar_t).sqrt() / alpha_bar_t.sqrt()
    x_prev = c_x * x_t + c_e * eps_hat
    if noise is not None:
        x_prev = x_prev + sigma * noise
    return x_prev


def fix_mystery_step__wrong_fixed_large_sigma(x_t, eps_hat, alpha_bar_t, alpha_bar_prev, eta=0.0, noise=None):
    # σ = η √β (the step's own β), dropping eq. 16's (1 - ᾱ_prev)/(1 - ᾱ_t) factor
    x0_hat = (x_t - (1 - alpha_bar_t).sqrt() * eps_hat) / alpha_bar_t.sqrt()
    sigma = eta * (1 - alpha_bar_t / alpha_bar_prev).sqrt()
    x_prev = alpha_bar_prev.sqrt() * x0_hat + (1 - alpha_bar_prev - sigma**2).clamp(min=0).sqrt() * eps_hat
    if noise is not None:
        x_prev = x_prev + sigma * noise
    return x_prev, x0_hat


def fix_mystery_step__wrong_new_variance_bug(x_t, eps_hat, alpha_bar_t, alpha_bar_prev, eta=0.0, noise=None):
    # fixes σ, but the noise term now uses σ²
    x0_hat = (x_t - (1 - alpha_bar_t).sqrt() * eps_hat) / alpha_bar_t.sqrt()
    sigma = eta * ((1 - alpha_bar_prev) / (1 - alpha_bar_t) * (1 - alpha_bar_t / alpha_bar_prev)).sqrt()
    x_prev = alpha_bar_prev.sqrt() * x0_hat + (1 - alpha_bar_prev - sigma**2).clamp(min=0).sqrt() * eps_hat
    if noise is not None:
        x_prev = x_prev + sigma**2 * noise
    return x_prev, x0_hat


def fix_mystery_step__wrong_edited_other_line(x_t, eps_hat, alpha_bar_t, alpha_bar_prev, eta=0.0, noise=None):
    # keeps the tutorial's σ = η √(1 - ᾱ_prev) and "fixes" the direction term instead
    x0_hat = (x_t - (1 - alpha_bar_t).sqrt() * eps_hat) / alpha_bar_t.sqrt()
    sigma = eta * (1 - alpha_bar_prev).sqrt()
    x_prev = alpha_bar_prev.sqrt() * x0_hat + (1 - alpha_bar_prev).sqrt() * eps_hat
    if noise is not None:
        x_prev = x_prev + sigma * noise
    return x_prev, x0_hat


# --- 8.2 fix_mystery_step_2 -----------------------------------------------------------------------------------------
def fix_mystery_step_2__correct(x_t, eps_hat, alpha_bar_t, alpha_bar_prev, eta=0.0, noise=None):
    # Python floats; x̂0 = x_t/√ᾱ - √(1/ᾱ - 1) ε̂
    a_t, a_p = float(alpha_bar_t), float(alpha_bar_prev)
    sigma = eta * math.sqrt(max((1 - a_p) / (1 - a_t) * (1 - a_t / a_p), 0.0))
    x0_hat = x_t / math.sqrt(a_t) - math.sqrt(1 / a_t - 1) * eps_hat
    x_prev = math.sqrt(a_p) * x0_hat + math.sqrt(max(1 - a_p - sigma**2, 0.0)) * eps_hat
    if noise is not None and sigma > 0:
        x_prev = x_prev + sigma * noise
    return x_prev, x0_hat


def fix_mystery_step_2__wrong_sqrt_moved(x_t, eps_hat, alpha_bar_t, alpha_bar_prev, eta=0.0, noise=None):
    # moves the square root to the denominator but takes it off the noise coefficient
    sigma = eta * ((1 - alpha_bar_prev) / (1 - alpha_bar_t) * (1 - alpha_bar_t / alpha_bar_prev)).sqrt()
    x0_hat = (x_t - (1 - alpha_bar_t) * eps_hat) / alpha_bar_t.sqrt()
    x_prev = alpha_bar_prev.sqrt() * x0_hat + (1 - alpha_bar_prev - sigma**2).sqrt() * eps_hat
    if noise is not None:
        x_prev = x_prev + sigma * noise
    return x_prev, x0_hat


def fix_mystery_step_2__wrong_precedence(x_t, eps_hat, alpha_bar_t, alpha_bar_prev, eta=0.0, noise=None):
    # drops the parentheses: only the noise term is divided by √ᾱ_t
    sigma = eta * ((1 - alpha_bar_prev) / (1 - alpha_bar_t) * (1 - alpha_bar_t / alpha_bar_prev)).sqrt()
    x0_hat = x_t - (1 - alpha_bar_t).sqrt() * eps_hat / alpha_bar_t.sqrt()
    x_prev = alpha_bar_prev.sqrt() * x0_hat + (1 - alpha_bar_prev - sigma**2).sqrt() * eps_hat
    if noise is not None:
        x_prev = x_prev + sigma * noise
    return x_prev, x0_hat


def fix_mystery_step_2__wrong_divides_by_prev(x_t, eps_hat, alpha_bar_t, alpha_bar_prev, eta=0.0, noise=None):
    # adds the square root, but of ᾱ_prev
    sigma = eta * ((1 - alpha_bar_prev) / (1 - alpha_bar_t) * (1 - alpha_bar_t / alpha_bar_prev)).sqrt()
    x0_hat = (x_t - (1 - alpha_bar_t).sqrt() * eps_hat) / alpha_bar_prev.sqrt()
    x_prev = alpha_bar_prev.sqrt() * x0_hat + (1 - alpha_bar_prev - sigma**2).sqrt() * eps_hat
    if noise is not None:
        x_prev = x_prev + sigma * noise
    return x_prev, x0_hat


# --- 8.3 name_the_bug -----------------------------------------------------------------------------------------------
_BUG_NAMES = ("correct", "alpha_for_alpha_bar", "variance_for_std", "returns_x0_hat", "wrapped_final_alpha_bar")


def name_the_bug__correct(step_fn):
    """Fingerprint: every step of interest is linear in (x_t, ε̂, z), so fit x_prev on that basis at a few probes
    (η = 0, 0.5, 1 mid-way; η = 0 at the last step) and compare the three coefficients with what each named bug
    would give, written out by hand (no reference step functions are called)."""
    from ddim_teach import schedules
    ab = schedules.make_schedule("linear").alpha_bars
    ab_wrapped = float(ab[-1])
    g = torch.Generator().manual_seed(2024)
    x, eps, z = (torch.randn(2, 1, 6, 6, generator=g, dtype=torch.float64) for _ in range(3))
    basis = torch.stack([x.flatten(), eps.flatten(), z.flatten()], 1)
    one = torch.tensor(1.0, dtype=torch.float64)
    probes = [(ab[500], ab[400], 0.0), (ab[500], ab[400], 0.5), (ab[500], ab[400], 1.0), (ab[49], one, 0.0)]

    def fingerprint(a, b, eta):
        try:
            out = step_fn(x.clone(), eps.clone(), a, b, eta, z.clone() if eta > 0 else None)
        except Exception:
            return None
        if isinstance(out, (tuple, list)):
            out = out[0]
        y = torch.as_tensor(out).to(torch.float64).flatten()
        if y.numel() != basis.shape[0] or not bool(torch.isfinite(y).all()):
            return None
        coef = torch.linalg.lstsq(basis, y[:, None]).solution.flatten()
        if float((basis @ coef - y).abs().max()) > 1e-9 * (1 + float(y.abs().max())):
            return None                                      # not linear in (x_t, ε̂, z): none of ours
        return coef

    def ddim_like(a_hat, b, sigma, z_coef):
        # x̂0 = (x - √(1-a_hat) ε)/√a_hat;  x_prev = √b x̂0 + √(1 - b - σ²) ε + z_coef z
        c_x = math.sqrt(b / a_hat)
        c_e = math.sqrt(max(1 - b - sigma**2, 0.0)) - math.sqrt(b) * math.sqrt(1 - a_hat) / math.sqrt(a_hat)
        return torch.tensor([c_x, c_e, z_coef], dtype=torch.float64)

    def expected(name, a, b, eta):
        fa, fb = float(a), float(b)
        sigma = eta * math.sqrt(max((1 - fb) / (1 - fa) * (1 - fa / fb), 0.0))
        z_on = sigma if eta > 0 else 0.0
        if name == "correct":
            return ddim_like(fa, fb, sigma, z_on)
        if name == "alpha_for_alpha_bar":
            return ddim_like(fa / fb, fb, sigma, z_on)
        if name == "variance_for_std":
            return ddim_like(fa, fb, sigma, sigma**2 if eta > 0 else 0.0)
        if name == "returns_x0_hat":
            return torch.tensor([1 / math.sqrt(fa), -math.sqrt(1 - fa) / math.sqrt(fa), 0.0], dtype=torch.float64)
        if name == "wrapped_final_alpha_bar":
            return ddim_like(fa, ab_wrapped, 0.0, 0.0) if fb == 1.0 else ddim_like(fa, fb, sigma, z_on)
        raise KeyError(name)

    seen = [fingerprint(a, b, eta) for a, b, eta in probes]
    if any(f is None for f in seen):
        return "unknown"
    for name in _BUG_NAMES:
        if all(torch.allclose(f, expected(name, a, b, eta), rtol=1e-6, atol=1e-9)
               for f, (a, b, eta) in zip(seen, probes)):
            return name
    return "unknown"


def _clinic_references():
    from ddim_teach import pitfalls, samplers, schedules
    s = schedules.make_schedule("linear")
    return s, {"correct": samplers.ddim_step, "alpha_for_alpha_bar": pitfalls.alpha_for_alpha_bar,
               "variance_for_std": pitfalls.variance_for_std, "returns_x0_hat": pitfalls.returns_x0_hat,
               "wrapped_final_alpha_bar": pitfalls.wrapped_final_alpha_bar(s.alpha_bars[-1])}


def name_the_bug__wrong_no_last_step_probe(step_fn):
    # probes η = 0 and η = 1 in the middle of the schedule only: the wrapped ᾱ_prev never shows
    s, known = _clinic_references()
    g = torch.Generator().manual_seed(0)
    x, eps, z = (torch.randn(2, 1, 4, 4, generator=g, dtype=torch.float64) for _ in range(3))
    probes = [(s.alpha_bars[500], s.alpha_bars[400], 0.0), (s.alpha_bars[500], s.alpha_bars[400], 1.0)]

    def outputs(fn):
        return [fn(x, eps, a, b, eta, z if eta > 0 else None)[0] for a, b, eta in probes]

    mine = outputs(step_fn)
    for key, fn in known.items():
        if all(torch.allclose(m, k) for m, k in zip(mine, outputs(fn))):
            return key
    return "unknown"


def name_the_bug__wrong_compares_x0_hat(step_fn):
    # compares the second output (x̂0) of each step: bugs that only change x_prev look "correct"
    s, known = _clinic_references()
    g = torch.Generator().manual_seed(0)
    x, eps, z = (torch.randn(2, 1, 4, 4, generator=g, dtype=torch.float64) for _ in range(3))
    one = torch.tensor(1.0, dtype=torch.float64)
    probes = [(s.alpha_bars[500], s.alpha_bars[400], 0.0), (s.alpha_bars[500], s.alpha_bars[400], 1.0),
              (s.alpha_bars[49], one, 0.0)]

    def outputs(fn):
        return [fn(x, eps, a, b, eta, z if eta > 0 else None)[1] for a, b, eta in probes]

    mine = outputs(step_fn)
    for key, fn in known.items():
        if all(torch.allclose(m, k) for m, k in zip(mine, outputs(fn))):
            return key
    return "unknown"


def name_the_bug__wrong_nearest_never_unknown(step_fn):
    # names the closest known step, so an unfamiliar bug is never "unknown"
    s, known = _clinic_references()
    g = torch.Generator().manual_seed(0)
    x, eps, z = (torch.randn(2, 1, 4, 4, generator=g, dtype=torch.float64) for _ in range(3))
    one = torch.tensor(1.0, dtype=torch.float64)
    probes = [(s.alpha_bars[500], s.alpha_bars[400], 0.0), (s.alpha_bars[500], s.alpha_bars[400], 1.0),
              (s.alpha_bars[49], one, 0.0)]

    def outputs(fn):
        return [fn(x, eps, a, b, eta, z if eta > 0 else None)[0] for a, b, eta in probes]

    mine = outputs(step_fn)
    distances = {key: sum(float((m - k).abs().max()) for m, k in zip(mine, outputs(fn)))
                 for key, fn in known.items()}
    return min(distances, key=lambda key: distances[key] if math.isfinite(distances[key]) else math.inf)


# ====================================================================================================================
# Chapter 9: after DDIM
# ====================================================================================================================

# --- 9.1 step_h -----------------------------------------------------------------------------------------------------
def step_h__correct(alpha_bar_t, alpha_bar_prev):
    # half the difference of log-SNRs, with log1p for 1 - ᾱ
    log_snr_prev = torch.log(alpha_bar_prev) - torch.log1p(-alpha_bar_prev)
    log_snr_t = torch.log(alpha_bar_t) - torch.log1p(-alpha_bar_t)
    return 0.5 * (log_snr_prev - log_snr_t)


def step_h__wrong_full_log_snr(alpha_bar_t, alpha_bar_prev):
    def lam(ab):
        return torch.log(ab / (1 - ab))
    return lam(alpha_bar_prev) - lam(alpha_bar_t)


def step_h__wrong_sign(alpha_bar_t, alpha_bar_prev):
    def lam(ab):
        return torch.log(ab.sqrt() / (1 - ab).sqrt())
    return lam(alpha_bar_t) - lam(alpha_bar_prev)


def step_h__wrong_sqrt_missing_below(alpha_bar_t, alpha_bar_prev):
    def lam(ab):
        return torch.log(ab.sqrt() / (1 - ab))
    return lam(alpha_bar_prev) - lam(alpha_bar_t)


# --- 9.2 dpm_pp_2m_step ---------------------------------------------------------------------------------------------
def _lam(ab):
    return 0.5 * (torch.log(ab) - torch.log1p(-ab))


def dpm_pp_2m_step__correct(x_t, x0_hat, x0_hat_last, alpha_bar_last, alpha_bar_t, alpha_bar_prev):
    # the x̄ form: x̄_prev = e^{-h} x̄_t + (1 - e^{-h}) (x̂0 + (x̂0 - x̂0_last)/(2r)), times √ᾱ_prev
    h = _lam(alpha_bar_prev) - _lam(alpha_bar_t)
    h_last = _lam(alpha_bar_t) - _lam(alpha_bar_last)
    r = h_last / h
    x0_linear = x0_hat + (x0_hat - x0_hat_last) / (2 * r)
    decay = torch.exp(-h)
    return (alpha_bar_prev.sqrt() * decay / alpha_bar_t.sqrt()) * x_t + alpha_bar_prev.sqrt() * (1 - decay) * x0_linear


def dpm_pp_2m_step__wrong_r_inverted(x_t, x0_hat, x0_hat_last, alpha_bar_last, alpha_bar_t, alpha_bar_prev):
    h = _lam(alpha_bar_prev) - _lam(alpha_bar_t)
    r = h / (_lam(alpha_bar_t) - _lam(alpha_bar_last))
    D = (1 + 1 / (2 * r)) * x0_hat - x0_hat_last / (2 * r)
    return ((1 - alpha_bar_prev) / (1 - alpha_bar_t)).sqrt() * x_t + alpha_bar_prev.sqrt() * (1 - torch.exp(-h)) * D


def dpm_pp_2m_step__wrong_extrapolation_sign(x_t, x0_hat, x0_hat_last, alpha_bar_last, alpha_bar_t, alpha_bar_prev):
    h = _lam(alpha_bar_prev) - _lam(alpha_bar_t)
    r = (_lam(alpha_bar_t) - _lam(alpha_bar_last)) / h
    D = (1 - 1 / (2 * r)) * x0_hat + x0_hat_last / (2 * r)
    return ((1 - alpha_bar_prev) / (1 - alpha_bar_t)).sqrt() * x_t + alpha_bar_prev.sqrt() * (1 - torch.exp(-h)) * D


def dpm_pp_2m_step__wrong_signal_ratio_on_x(x_t, x0_hat, x0_hat_last, alpha_bar_last, alpha_bar_t, alpha_bar_prev):
    # σ_prev/σ_t read with σ = √ᾱ (the papers' α/σ notation clash): √(ᾱ_prev/ᾱ_t) multiplies x_t
    h = _lam(alpha_bar_prev) - _lam(alpha_bar_t)
    r = (_lam(alpha_bar_t) - _lam(alpha_bar_last)) / h
    D = (1 + 1 / (2 * r)) * x0_hat - x0_hat_last / (2 * r)
    return (alpha_bar_prev / alpha_bar_t).sqrt() * x_t + alpha_bar_prev.sqrt() * (1 - torch.exp(-h)) * D


# --- 9.3 karras_sigmas ----------------------------------------------------------------------------------------------
def karras_sigmas__correct(sigma_min, sigma_max, n, rho=7.0):
    lo, hi = sigma_min ** (1.0 / rho), sigma_max ** (1.0 / rho)
    values = []
    for i in range(n):
        frac = i / (n - 1) if n > 1 else 0.0
        values.append((hi + frac * (lo - hi)) ** rho)
    values.append(0.0)
    return torch.tensor(values, dtype=torch.float64)


def karras_sigmas__wrong_divides_by_n(sigma_min, sigma_max, n, rho=7.0):
    # i / n instead of i / (n - 1): the grid never reaches σ_min
    i = torch.arange(n, dtype=torch.float64)
    grid = (sigma_max ** (1 / rho) + i / n * (sigma_min ** (1 / rho) - sigma_max ** (1 / rho))) ** rho
    return torch.cat([grid, torch.zeros(1, dtype=torch.float64)])


def karras_sigmas__wrong_float32(sigma_min, sigma_max, n, rho=7.0):
    # torch.tensor of Python floats is float32 by default
    vals = [(sigma_max ** (1 / rho) + i / (n - 1) * (sigma_min ** (1 / rho) - sigma_max ** (1 / rho))) ** rho
            for i in range(n)]
    return torch.tensor(vals + [0.0])


def karras_sigmas__wrong_rho_exponents_swapped(sigma_min, sigma_max, n, rho=7.0):
    # uniform in σ^ρ, then the ρ-th root
    i = torch.linspace(0, 1, n, dtype=torch.float64)
    grid = (sigma_max ** rho + i * (sigma_min ** rho - sigma_max ** rho)) ** (1 / rho)
    return torch.cat([grid, torch.zeros(1, dtype=torch.float64)])


# ====================================================================================================================
# Chapter 10: guidance
# ====================================================================================================================

# --- 10.1 cfg_eps ---------------------------------------------------------------------------------------------------
def cfg_eps__correct(eps_cond, eps_uncond, w):
    # ε̂(∅) + (1 + w)(ε̂(y) − ε̂(∅)) as torch.lerp with weight 1 + w (lerp extrapolates past 1; at weight 1 it
    # returns eps_cond exactly, since torch.lerp computes end − (end − start)(1 − weight) for weights ≥ 0.5)
    return torch.lerp(eps_uncond, eps_cond, 1.0 + float(w))


def cfg_eps__wrong_w_as_guidance_scale(eps_cond, eps_uncond, w):
    # diffusers' line with w where guidance_scale = 1 + w belongs: w = 0 returns the unconditional prediction
    return eps_uncond + w * (eps_cond - eps_uncond)


def cfg_eps__wrong_swapped_predictions(eps_cond, eps_uncond, w):
    # (1 + w) on the unconditional prediction and − w on the conditional one: guides away from the class
    return (1 + w) * eps_uncond - w * eps_cond


def cfg_eps__wrong_in_place(eps_cond, eps_uncond, w):
    # right values, but scales and overwrites the caller's eps_cond
    return eps_cond.mul_(1 + w).sub_(w * eps_uncond)


# --- 10.2 classifier_guided_eps -------------------------------------------------------------------------------------
def classifier_guided_eps__correct(eps_hat, x_t, alpha_bar_t, log_p_y, s):
    # the gradient of the summed log-probabilities as a vector-Jacobian product (autograd's functional API, which
    # turns grad on by itself and returns detached tensors); the coefficient as a Python float
    _, grad = torch.autograd.functional.vjp(lambda x: log_p_y(x).sum(), x_t.detach())
    coef = s * math.sqrt(1.0 - float(alpha_bar_t))
    return eps_hat - coef * grad.to(eps_hat.dtype)


def classifier_guided_eps__wrong_plus_sign(eps_hat, x_t, alpha_bar_t, log_p_y, s):
    # adds the correction: ε̂ is *minus* the scaled score, so this pushes away from class y
    x = x_t.detach().requires_grad_(True)
    grad, = torch.autograd.grad(log_p_y(x).sum(), x)
    return eps_hat + (s * (1 - alpha_bar_t).sqrt()).to(eps_hat.dtype) * grad


def classifier_guided_eps__wrong_mean_not_sum(eps_hat, x_t, alpha_bar_t, log_p_y, s):
    # reduces the batch's log-probabilities with .mean(): every row's gradient comes out divided by B
    x = x_t.detach().requires_grad_(True)
    grad, = torch.autograd.grad(log_p_y(x).mean(), x)
    return eps_hat - (s * (1 - alpha_bar_t).sqrt()).to(eps_hat.dtype) * grad


def classifier_guided_eps__wrong_no_sqrt(eps_hat, x_t, alpha_bar_t, log_p_y, s):
    # scales by the variance 1 − ᾱ_t instead of the std √(1 − ᾱ_t)
    x = x_t.detach().requires_grad_(True)
    grad, = torch.autograd.grad(log_p_y(x).sum(), x)
    return eps_hat - (s * (1 - alpha_bar_t)).to(eps_hat.dtype) * grad


# --- 10.3 guided_ddim_step ------------------------------------------------------------------------------------------
def guided_ddim_step__correct(x_t, eps_cond, eps_uncond, w, alpha_bar_t, alpha_bar_prev):
    # the η = 0 step as a x_t + b ε̃ with Python-float a and b; ε̃ written as ε̂(y) + w (ε̂(y) − ε̂(∅))
    a_t, a_p = float(alpha_bar_t), float(alpha_bar_prev)
    eps_tilde = eps_cond + w * (eps_cond - eps_uncond)
    a = math.sqrt(a_p / a_t)
    b = math.sqrt(1.0 - a_p) - math.sqrt(a_p * (1.0 - a_t) / a_t)
    return a * x_t + b * eps_tilde


def guided_ddim_step__wrong_direction_unguided(x_t, eps_cond, eps_uncond, w, alpha_bar_t, alpha_bar_prev):
    # x̂0 from ε̃, but the direction term copied from the plain step with eps_cond (same as the right step at w = 0
    # and at the last step, where √(1 − ᾱ_prev) = 0)
    eps_tilde = (1 + w) * eps_cond - w * eps_uncond
    ab, abp = alpha_bar_t.to(x_t.dtype), alpha_bar_prev.to(x_t.dtype)
    x0_hat = (x_t - (1 - ab).sqrt() * eps_tilde) / ab.sqrt()
    return abp.sqrt() * x0_hat + (1 - abp).sqrt() * eps_cond


def guided_ddim_step__wrong_direction_no_sqrt(x_t, eps_cond, eps_uncond, w, alpha_bar_t, alpha_bar_prev):
    # (1 − ᾱ_prev) ε̃ in the direction term: the square root missing (invisible at the last step)
    eps_tilde = (1 + w) * eps_cond - w * eps_uncond
    ab, abp = alpha_bar_t.to(x_t.dtype), alpha_bar_prev.to(x_t.dtype)
    x0_hat = (x_t - (1 - ab).sqrt() * eps_tilde) / ab.sqrt()
    return abp.sqrt() * x0_hat + (1 - abp) * eps_tilde


def guided_ddim_step__wrong_cfg_arguments_swapped(x_t, eps_cond, eps_uncond, w, alpha_bar_t, alpha_bar_prev):
    # calls guidance.cfg_eps(eps_uncond, eps_cond, w): the package's argument order reversed, so even w = 0 steps
    # with the unconditional prediction
    from ddim_teach import guidance
    eps_tilde = guidance.cfg_eps(eps_uncond, eps_cond, w)
    ab, abp = alpha_bar_t.to(x_t.dtype), alpha_bar_prev.to(x_t.dtype)
    x0_hat = (x_t - (1 - ab).sqrt() * eps_tilde) / ab.sqrt()
    return abp.sqrt() * x0_hat + (1 - abp).sqrt() * eps_tilde


# ====================================================================================================================
# The corpus
# ====================================================================================================================
def _c(exercise, bug, fn):
    return Answer(exercise=exercise, kind="correct", bug=bug, fn=fn)


def _w(exercise, bug, fn):
    return Answer(exercise=exercise, kind="wrong", bug=bug, fn=fn)


CORPUS = [
    # ch1
    _c("alpha_bar_from_betas", "Explicit loop keeping a running product.", alpha_bar_from_betas__correct),
    _w("alpha_bar_from_betas", "Exclusive product (starts at 1), so ᾱ_t lags one step: off by one.",
       alpha_bar_from_betas__wrong_exclusive_product),
    _w("alpha_bar_from_betas", "Uses 1 − Σβ_s, the first-order approximation, instead of the product.",
       alpha_bar_from_betas__wrong_one_minus_sum),
    _w("alpha_bar_from_betas", "Right values, but turns the caller's betas into alphas in place.",
       alpha_bar_from_betas__wrong_in_place),

    _c("q_sample", "Scalars pulled out as Python floats with math.sqrt.", q_sample__correct),
    _w("q_sample", "No square root on the noise coefficient: (1 − ᾱ) ε.", q_sample__wrong_no_sqrt_on_noise),
    _w("q_sample", "Signal and noise scales swapped.", q_sample__wrong_swapped_scales),
    _w("q_sample", "Casts x0 to float64 and returns float64 for a float32 batch.", q_sample__wrong_float64_output),

    _c("snr", "ᾱ from a cumulative sum of log1p(−β); 1 − ᾱ as −expm1.", snr__correct),
    _w("snr", "One-step α_t/β_t instead of the cumulative ᾱ_t/(1 − ᾱ_t).", snr__wrong_one_step),
    _w("snr", "Returns log SNR (what the plot shows) instead of SNR.", snr__wrong_log_scale),
    _w("snr", "Computes in float32 and returns float32.", snr__wrong_float32),

    # ch2
    _c("posterior_mean", "DDPM eq. 11 form: (x_t − β/√(1−ᾱ_t) ε)/√α with ε recovered from x0.",
       posterior_mean__correct),
    _w("posterior_mean", "x0 and x_t coefficients applied to the wrong inputs (package's argument order).",
       posterior_mean__wrong_swapped_inputs),
    _w("posterior_mean", "α instead of √α in the x_t coefficient.", posterior_mean__wrong_alpha_not_sqrt),
    _w("posterior_mean", "Takes the formula's α to be ᾱ_t (β = 1 − ᾱ_t): α vs ᾱ.",
       posterior_mean__wrong_alpha_bar_for_alpha),

    _c("posterior_variance", "β written as (ᾱ_prev − ᾱ_t)/ᾱ_prev, all in one fraction.", posterior_variance__correct),
    _w("posterior_variance", "Returns the standard deviation √β̃ instead of the variance.",
       posterior_variance__wrong_returns_std),
    _w("posterior_variance", "Returns the step's β (fixed_large), without the (1−ᾱ_prev)/(1−ᾱ_t) factor.",
       posterior_variance__wrong_beta_only),
    _w("posterior_variance", "Ratio inverted: (1−ᾱ_t)/(1−ᾱ_prev), infinite at the last step.",
       posterior_variance__wrong_inverted_ratio),

    _c("ddpm_step", "Mean straight from ε̂ (DDPM eq. 11); returns x_prev only.", ddpm_step__correct),
    _w("ddpm_step", "Adds β̃ z instead of √β̃ z (variance for std).", ddpm_step__wrong_variance_for_std),
    _w("ddpm_step", "Eq. 11 with β/(1−ᾱ_t) where β/√(1−ᾱ_t) belongs.", ddpm_step__wrong_eq11_missing_sqrt),
    _w("ddpm_step", "Returns (x0_hat, x_prev): the tuple in the wrong order.", ddpm_step__wrong_tuple_order),

    _c("l_simple", "Loop over the batch building x_t image by image, then F.mse_loss.", l_simple__correct),
    _w("l_simple", "alpha_bars[t − 1] (1-based thinking), wrapping to ᾱ_{T−1} at t = 0.",
       l_simple__wrong_t_minus_one),
    _w("l_simple", "Forgets to cast ᾱ to x0's dtype: x_t and the loss come out float64.",
       l_simple__wrong_float64_promotion),
    _w("l_simple", "Sums over pixels and averages over the batch only, not the mean over all elements.",
       l_simple__wrong_sum_over_pixels),

    # ch3
    _w("ddim_coefficients", "Picks the root of m by its printed sign (could_extract_minus_sign): m < 0 at σ² = β̃. "
       "Written as this corpus's correct answer; the checker showed it is not.", ddim_coefficients__wrong_root_by_printed_sign),
    _c("ddim_coefficients", "Solves for m with m declared positive, then the mean equation for k.",
       ddim_coefficients__correct),
    _w("ddim_coefficients", "Writes σ instead of σ² in the variance equation.",
       ddim_coefficients__wrong_sigma_not_squared),
    _w("ddim_coefficients", "Variance equation with m(1 − ᾱ_t) instead of m²(1 − ᾱ_t).",
       ddim_coefficients__wrong_m_not_squared),
    _w("ddim_coefficients", "Returns (m, k) instead of (k, m).", ddim_coefficients__wrong_returns_m_k),

    _c("ddim_sigma", "η √β̃ with β̃ written as one fraction.", ddim_sigma__correct),
    _w("ddim_sigma", "η scales the variance (σ = √(η β̃)): right only at η = 0 and 1.",
       ddim_sigma__wrong_eta_scales_variance),
    _w("ddim_sigma", "Second square root missing: (1 − ᾱ_t/ᾱ_prev) not under √.",
       ddim_sigma__wrong_second_sqrt_missing),
    _w("ddim_sigma", "Returns the variance σ² instead of the std σ.", ddim_sigma__wrong_returns_variance),

    _c("family_posterior_mean", "As k x0 + m x_t with the coefficients of Exercise 3.1.",
       family_posterior_mean__correct),
    _w("family_posterior_mean", "σ instead of σ² under the square root.",
       family_posterior_mean__wrong_sigma_not_squared),
    _w("family_posterior_mean", "Noise x_t − √ᾱ_t x0 not divided by √(1 − ᾱ_t).",
       family_posterior_mean__wrong_noise_not_rescaled),
    _w("family_posterior_mean", "Casts to float64 and never back: a float32 x_t gives float64.",
       family_posterior_mean__wrong_float64_output),

    # ch4
    _c("ddim_step", "Coefficients as Python floats with math.sqrt; returns x_prev only.", ddim_step__correct),
    _w("ddim_step", "Adds σ² z instead of σ z (variance for std): invisible at η = 0.",
       ddim_step__wrong_variance_for_std),
    _w("ddim_step", "Direction term √(1 − ᾱ_prev) without − σ²: invisible at η = 0.",
       ddim_step__wrong_direction_ignores_sigma),
    _w("ddim_step", "Direction term uses ᾱ_t where ᾱ_prev belongs.", ddim_step__wrong_direction_uses_alpha_bar_t),

    _c("timesteps", "Python lists with round() (also half to even), then a LongTensor.", timesteps__correct),
    _w("timesteps", "Leading as arange(0, T, T // S): more than S entries when S does not divide T.",
       timesteps__wrong_leading_arange_length),
    _w("timesteps", "Trailing rounded half up (floor(x + 0.5)) instead of half to even.",
       timesteps__wrong_round_half_up),
    _w("timesteps", "Trailing list returned as a float tensor, not a LongTensor.",
       timesteps__wrong_trailing_float_dtype),

    _c("alpha_bar_prevs", "Loop filling a tensor of ones with the next entry's ᾱ.", alpha_bar_prevs__correct),
    _w("alpha_bar_prevs", "alpha_bars[t − 1] instead of the next list entry; wraps at t = 0.",
       alpha_bar_prevs__wrong_t_minus_one),
    _w("alpha_bar_prevs", "alpha_bars[t − T//S]: wrong for uneven lists and wraps to ᾱ near T at the end.",
       alpha_bar_prevs__wrong_stride_wraps),
    _w("alpha_bar_prevs", "Ends on ᾱ_0 (set_alpha_to_one=False) instead of 1.",
       alpha_bar_prevs__wrong_final_alpha_bar_0),

    # ch5
    _c("predict_x0", "x̄ − σ ε̂ in the ODE's coordinates.", predict_x0__correct),
    _w("predict_x0", "Divides by ᾱ_t instead of √ᾱ_t.", predict_x0__wrong_divides_by_alpha_bar),
    _w("predict_x0", "Adds the noise instead of subtracting it.", predict_x0__wrong_sign),
    _w("predict_x0", "Right values, but computed in place in the caller's x_t.", predict_x0__wrong_in_place),

    _c("eps_from_x0", "Distributed form with Python-float coefficients.", eps_from_x0__correct),
    _w("eps_from_x0", "predict_x0 copied with renamed arguments: the two square roots swapped.",
       eps_from_x0__wrong_sqrts_swapped),
    _w("eps_from_x0", "Sign flipped: (√ᾱ x̂0 − x_t)/√(1 − ᾱ).", eps_from_x0__wrong_sign),
    _w("eps_from_x0", "Divides by 1 − ᾱ instead of √(1 − ᾱ).", eps_from_x0__wrong_no_sqrt_denominator),

    _c("x0_from_v", "Python-float coefficients and torch.add(..., alpha=−b).", x0_from_v__correct),
    _w("x0_from_v", "Sign error: √ᾱ x_t + √(1−ᾱ) v.", x0_from_v__wrong_sign),
    _w("x0_from_v", "Coefficients swapped: √(1−ᾱ) x_t − √ᾱ v.", x0_from_v__wrong_coefficients_swapped),
    _w("x0_from_v", "Treats v as ε in eq. 9.", x0_from_v__wrong_v_as_eps),

    # ch6
    _c("ode_coordinates", "σ = √(1/ᾱ − 1) and x̄ = x_t · rsqrt(ᾱ).", ode_coordinates__correct),
    _w("ode_coordinates", "σ = √(1 − ᾱ), the noise std, not divided by √ᾱ.",
       ode_coordinates__wrong_sigma_is_noise_std),
    _w("ode_coordinates", "σ = (1 − ᾱ)/ᾱ without the square root.", ode_coordinates__wrong_sigma_no_sqrt),
    _w("ode_coordinates", "x̄ = √ᾱ x_t: multiplies instead of dividing.", ode_coordinates__wrong_multiplies),

    _c("euler_step_ode", "torch.add with alpha = σ_next − σ.", euler_step_ode__correct),
    _w("euler_step_ode", "Step sign reversed: (σ − σ_next) ε̂.", euler_step_ode__wrong_sign),
    _w("euler_step_ode", "Converts the result back to x although x̄ is asked for.", euler_step_ode__wrong_returns_x),
    _w("euler_step_ode", "Steps in σ² instead of σ.", euler_step_ode__wrong_sigma_squared),

    _c("heun_step", "Euler step, then add h/2 times the change of slope.", heun_step__correct),
    _w("heun_step", "No σ_next = 0 case: averages with ε̂ evaluated at σ = 0.", heun_step__wrong_no_last_step_case),
    _w("heun_step", "Second slope evaluated at the start point x̄, not at the Euler point.",
       heun_step__wrong_slope_at_start_point),
    _w("heun_step", "Applies the averaged slope from the Euler point instead of from x̄.",
       heun_step__wrong_average_from_euler_point),

    # ch7
    _c("invert_step", "Euler step upward in (x̄, σ) with Python-float scalars.", invert_step__correct),
    _w("invert_step", "ᾱ's not swapped: the sampling step's roles of current and next level.",
       invert_step__wrong_not_swapped),
    _w("invert_step", "Re-noises with √(1 − ᾱ_cur) instead of √(1 − ᾱ_next).",
       invert_step__wrong_noise_from_current_level),
    _w("invert_step", "Subtracts the noise term when going up.", invert_step__wrong_negated_noise),

    _c("ddim_invert", "Ascending list from a tensor sort, update written inline.", ddim_invert__correct),
    _w("ddim_invert", "Climbs the list in the given (descending) order.", ddim_invert__wrong_descending_order),
    _w("ddim_invert", "Calls the model at the current level's timestep (0 at first), not the target t.",
       ddim_invert__wrong_model_at_current_t),
    _w("ddim_invert", "Loops over consecutive pairs: the first climb from ᾱ = 1 is missing.",
       ddim_invert__wrong_skips_first_climb),

    _c("slerp", "Loop over the batch with Python math for the angle.", slerp__correct),
    _w("slerp", "One angle for the whole batch (flattens everything).", slerp__wrong_one_angle_for_batch),
    _w("slerp", "cos θ = ⟨z0, z1⟩ without dividing by the norms.", slerp__wrong_cosine_not_normalised),
    _w("slerp", "No fallback when sin θ ≈ 0: NaN for parallel ends.", slerp__wrong_no_parallel_fallback),

    # ch8
    _c("fix_mystery_step", "Step as c_x x_t + c_e ε̂ + σ z with σ = η √β̃; returns x_prev only.",
       fix_mystery_step__correct),
    _w("fix_mystery_step", "σ = η √β (step's own β), missing eq. 16's (1−ᾱ_prev)/(1−ᾱ_t).",
       fix_mystery_step__wrong_fixed_large_sigma),
    _w("fix_mystery_step", "Fixes σ but then adds σ² z.", fix_mystery_step__wrong_new_variance_bug),
    _w("fix_mystery_step", "Keeps the tutorial σ and edits the direction term instead.",
       fix_mystery_step__wrong_edited_other_line),

    _c("fix_mystery_step_2", "Python floats, x̂0 = x_t/√ᾱ − √(1/ᾱ − 1) ε̂.", fix_mystery_step_2__correct),
    _w("fix_mystery_step_2", "Moves the √ to the denominator but drops it from √(1 − ᾱ_t).",
       fix_mystery_step_2__wrong_sqrt_moved),
    _w("fix_mystery_step_2", "Missing parentheses: only the noise term is divided by √ᾱ_t.",
       fix_mystery_step_2__wrong_precedence),
    _w("fix_mystery_step_2", "Divides by √ᾱ_prev instead of √ᾱ_t.", fix_mystery_step_2__wrong_divides_by_prev),

    _c("name_the_bug", "Fits x_prev on (x_t, ε̂, z) at four probes and matches hand-written coefficients.",
       name_the_bug__correct),
    _w("name_the_bug", "No probe at the last step, so the wrapped ᾱ_prev bug reads as correct.",
       name_the_bug__wrong_no_last_step_probe),
    _w("name_the_bug", "Compares the returned x̂0 instead of x_prev, so noise/last-step bugs read as correct.",
       name_the_bug__wrong_compares_x0_hat),
    _w("name_the_bug", "Returns the nearest known step, never 'unknown'.", name_the_bug__wrong_nearest_never_unknown),

    # ch9
    _c("step_h", "Half the difference of log-SNRs, with log1p.", step_h__correct),
    _w("step_h", "Uses the full log-SNR, giving 2h.", step_h__wrong_full_log_snr),
    _w("step_h", "λ(ᾱ_t) − λ(ᾱ_prev): sign reversed.", step_h__wrong_sign),
    _w("step_h", "λ = log(√ᾱ/(1 − ᾱ)): square root missing below.", step_h__wrong_sqrt_missing_below),

    _c("dpm_pp_2m_step", "In x̄: e^{−h} x̄_t + (1 − e^{−h})(x̂0 + (x̂0 − x̂0_last)/(2r)).",
       dpm_pp_2m_step__correct),
    _w("dpm_pp_2m_step", "r = h/h_last instead of h_last/h.", dpm_pp_2m_step__wrong_r_inverted),
    _w("dpm_pp_2m_step", "Extrapolation sign flipped in D.", dpm_pp_2m_step__wrong_extrapolation_sign),
    _w("dpm_pp_2m_step", "x_t scaled by √(ᾱ_prev/ᾱ_t) instead of √((1−ᾱ_prev)/(1−ᾱ_t)).",
       dpm_pp_2m_step__wrong_signal_ratio_on_x),

    _c("karras_sigmas", "Python loop over i with i/(n−1) (n = 1 handled), float64 tensor.", karras_sigmas__correct),
    _w("karras_sigmas", "i/n instead of i/(n − 1): never reaches σ_min.", karras_sigmas__wrong_divides_by_n),
    _w("karras_sigmas", "torch.tensor of Python floats: float32.", karras_sigmas__wrong_float32),
    _w("karras_sigmas", "Uniform in σ^ρ then the ρ-th root: the exponents swapped.",
       karras_sigmas__wrong_rho_exponents_swapped),

    # ch4 (4.4)
    _c("ddim_sample_loop", "Python-float ᾱ_t and ᾱ_prev lists zipped with the timesteps; the step written out inline.",
       ddim_sample_loop__correct),
    _w("ddim_sample_loop", "Right values, but updates x in place (-=, /=, *=, +=), overwriting the caller's x_T.",
       ddim_sample_loop__wrong_in_place),
    _w("ddim_sample_loop", "Next-t sentinel −1 read as alpha_bars[−1]: the last step goes to ᾱ_{T−1} instead of 1.",
       ddim_sample_loop__wrong_sentinel_wraps),
    _w("ddim_sample_loop", "ᾱ_prev read at the previous list entry ts[i − 1] (ts[−1] at i = 0), never 1.",
       ddim_sample_loop__wrong_prev_is_previous_entry),

    # ch10
    _c("cfg_eps", "torch.lerp(eps_uncond, eps_cond, 1 + w): extrapolation past the conditional prediction.",
       cfg_eps__correct),
    _w("cfg_eps", "diffusers' line with w in place of guidance_scale = 1 + w: w = 0 gives eps_uncond.",
       cfg_eps__wrong_w_as_guidance_scale),
    _w("cfg_eps", "Weights on the wrong predictions: (1 + w) eps_uncond − w eps_cond.",
       cfg_eps__wrong_swapped_predictions),
    _w("cfg_eps", "Right values, but computed in place in the caller's eps_cond (mul_, sub_).",
       cfg_eps__wrong_in_place),

    _c("classifier_guided_eps", "Gradient as autograd.functional.vjp of the summed log p; coefficient a Python float.",
       classifier_guided_eps__correct),
    _w("classifier_guided_eps", "Adds s √(1 − ᾱ_t) ∇log p(y | x_t) instead of subtracting it: sign error.",
       classifier_guided_eps__wrong_plus_sign),
    _w("classifier_guided_eps", "Gradient of the batch's mean log-probability: each row's gradient divided by B.",
       classifier_guided_eps__wrong_mean_not_sum),
    _w("classifier_guided_eps", "Scales by 1 − ᾱ_t instead of √(1 − ᾱ_t): square root missing.",
       classifier_guided_eps__wrong_no_sqrt),

    _c("guided_ddim_step", "a x_t + b ε̃ with Python-float a, b and ε̃ = ε̂(y) + w (ε̂(y) − ε̂(∅)).",
       guided_ddim_step__correct),
    _w("guided_ddim_step", "x̂0 from ε̃ but the direction term with the unguided eps_cond.",
       guided_ddim_step__wrong_direction_unguided),
    _w("guided_ddim_step", "Direction term (1 − ᾱ_prev) ε̃ without the square root (invisible at the last step).",
       guided_ddim_step__wrong_direction_no_sqrt),
    _w("guided_ddim_step", "Calls guidance.cfg_eps(eps_uncond, eps_cond, w): the two predictions swapped.",
       guided_ddim_step__wrong_cfg_arguments_swapped),
]
