"""DDPM, DDIM and Heun sampling, and DDIM inversion: pure steps, and one short explicit loop per sampler.

Notation: ``alpha_bar`` is DDPM's ᾱ_t (the DDIM paper's α_t). A step goes from timestep t to the *next
entry* of the descending timestep list, t_prev (never t - stride); after the last entry it goes to
ᾱ_prev = 1, the clean image (:func:`ddim_teach.formulas.alpha_bar_prevs`).

DDIM step (Song et al. 2021, eq. 12; :func:`ddim_step`)::

    x0_hat = (x_t - sqrt(1 - ᾱ_t) eps_hat) / sqrt(ᾱ_t)                                    (eq. 9)
    x_prev = sqrt(ᾱ_prev) x0_hat + sqrt(1 - ᾱ_prev - sigma²) eps_hat + sigma z
    sigma  = eta sqrt((1 - ᾱ_prev) / (1 - ᾱ_t)) sqrt(1 - ᾱ_t / ᾱ_prev)                     (eq. 16)

DDPM ancestral step (Ho et al. 2020, eqs. 6-7; :func:`ddpm_step`): the posterior mean mu_tilde(x_t, x0_hat)
plus sqrt(variance) z, with variance beta_tilde (``fixed_small``) or beta (``fixed_large``: the DDIM
paper's σ̂), beta = 1 - ᾱ_t / ᾱ_prev being the step's own beta.

The loops (:func:`sample_ddim`, :func:`sample_ddpm`, :func:`sample_heun`, :func:`sample_dpm_solver_pp_2m`,
:func:`invert_ddim`) take a
:class:`~ddim_teach.denoiser.Denoiser`, a start, a descending ``timesteps`` tensor
(:func:`ddim_teach.schedules.timesteps`), a generator or explicit noises, and a ``callback`` that sees
every step as a :class:`StepState` (as in k-diffusion). They return the end point. :class:`Recorder` is a
callback that keeps the steps as a :class:`Trajectory`. :func:`sample` and :func:`ddim_invert` are the
notebooks' front ends: a model, a schedule, a number of steps.
"""
from __future__ import annotations

import numbers
from dataclasses import dataclass, field
from typing import Callable, Optional

import torch

from . import checks, formulas, ode
from .denoiser import Denoiser, as_denoiser
from .formulas import VARIANCES, ddim_sigma, eps_from_x0, predict_x0  # noqa: F401  (importable from here too)
from .schedules import SIGMA_SPACINGS, Schedule, sigma_timesteps
from .schedules import timesteps as make_timesteps

METHODS = ("ddim", "ddpm", "heun", "dpm_solver_pp_2m")
DEFAULT_STEPS = 50
DEFAULT_SPACING = "trailing"


# --- the steps: pure functions of x_t, the model's output and two ᾱ ---------------------------------------
def ddim_step(x_t, eps_hat, alpha_bar_t, alpha_bar_prev, eta: float = 0.0, noise=None, *, x0_hat=None):
    """One DDIM step (eq. 12) from x_t to x_prev. Returns ``(x_prev, x0_hat)``.

    ``noise`` is the standard normal z; None adds none. ``x0_hat``, when given, is used instead of eq. 9:
    the denoiser gives it (clipped, or straight from a v- or x0-predicting model, the only way at ᾱ_t = 0)."""
    checks.like(x_t, eps_hat=eps_hat, noise=noise, x0_hat=x0_hat)
    sigma = ddim_sigma(alpha_bar_t, alpha_bar_prev, eta)
    if x0_hat is None:
        x0_hat = predict_x0(x_t, eps_hat, alpha_bar_t)
    x_prev = formulas.ddim_mean(x0_hat, eps_hat, alpha_bar_prev, sigma)
    if noise is not None and sigma > 0:
        x_prev = x_prev + sigma * noise
    return x_prev, x0_hat


def ddpm_variance(alpha_bar_t, alpha_bar_prev, variance: str = "fixed_small") -> torch.Tensor:
    """The variance of a DDPM step, float64: beta_tilde (``fixed_small``, DDPM eq. 7) or the step's beta
    (``fixed_large``)."""
    checks.one_of(variance, "variance", VARIANCES)
    ab = checks.scalar_alpha_bar(alpha_bar_t, "alpha_bar_t", allow_one=False)
    abp = checks.scalar_alpha_bar(alpha_bar_prev, "alpha_bar_prev", allow_zero=False, zero_means=formulas._PURE_NOISE)
    checks.toward_less_noise(ab, abp, "in a DDPM step")
    if variance == "fixed_small":
        return formulas.posterior_variance(ab, abp)
    return formulas.step_beta(ab, abp)


def ddpm_step(x_t, eps_hat, alpha_bar_t, alpha_bar_prev, variance: str = "fixed_small", noise=None, *,
              x0_hat=None):
    """One DDPM ancestral step (eqs. 6-7, for any t -> t_prev). Returns ``(x_prev, x0_hat)``.

    The posterior mean from x0_hat and x_t, plus sqrt(variance) z; ``noise`` None adds none (DDPM's last
    step). ``x0_hat`` as in :func:`ddim_step`."""
    checks.like(x_t, eps_hat=eps_hat, noise=noise, x0_hat=x0_hat)
    var = ddpm_variance(alpha_bar_t, alpha_bar_prev, variance)
    if x0_hat is None:
        x0_hat = predict_x0(x_t, eps_hat, alpha_bar_t)
    x_prev = formulas.posterior_mean(x_t, x0_hat, alpha_bar_t, alpha_bar_prev)
    if noise is not None and var > 0:
        x_prev = x_prev + var.sqrt() * noise
    return x_prev, x0_hat


def dpm_solver_pp_2m_step(x_t, x0_hat, alpha_bar_t, alpha_bar_prev, x0_hat_last=None, alpha_bar_last=None):
    """One step of DPM-Solver++(2M) (Lu et al. 2022b, "DPM-Solver++", Alg. 2), from level ᾱ_t to ᾱ_prev.

    In the half log-SNR λ (:func:`ddim_teach.formulas.half_log_snr`) the probability-flow ODE is semi-linear,
    and its exact solution over a step of length h = λ_prev - λ_t, with x0_hat held at D over the step, is::

        x_prev = sqrt((1 - ᾱ_prev) / (1 - ᾱ_t)) x_t + sqrt(ᾱ_prev) (1 - e^(-h)) D

    (the papers write α_t = sqrt(ᾱ_t) and σ_t = sqrt(1 - ᾱ_t), so the first factor is their σ_prev / σ_t).

    With D = x0_hat this is first order and *is* DDIM's η = 0 step (eq. 12). Given the previous step's
    ``x0_hat_last``, made at level ``alpha_bar_last``, the multistep second-order method makes x0_hat linear in λ:
    D = (1 + 1/(2r)) x0_hat - 1/(2r) x0_hat_last, with r = h_last / h (diffusers' "midpoint" form). A step to
    ᾱ_prev = 1 (σ = 0, h = ∞) is first order. Returns x_prev."""
    checks.like(x_t, x0_hat=x0_hat, x0_hat_last=x0_hat_last)
    ab = checks.scalar_alpha_bar(alpha_bar_t, "alpha_bar_t", allow_one=False)   # 0 (pure noise) is fine here
    abp = checks.scalar_alpha_bar(alpha_bar_prev, "alpha_bar_prev", allow_zero=False, zero_means=formulas._PURE_NOISE)
    checks.toward_less_noise(ab, abp, "in a DPM-Solver step")
    if (x0_hat_last is None) != (alpha_bar_last is None):
        raise ValueError("give both x0_hat_last and alpha_bar_last (a second-order step) or neither (first order)")
    lam = formulas.half_log_snr
    h = lam(abp) - lam(ab)                                     # inf for a step to ᾱ = 1, where e^(-h) = 0
    D = x0_hat
    if x0_hat_last is not None:
        abl = checks.scalar_alpha_bar(alpha_bar_last, "alpha_bar_last", allow_one=False)
        checks.toward_less_noise(abl, ab, "(the previous step's level)", names=("alpha_bar_last", "alpha_bar_t"))
        if abp == 1:
            raise ValueError("a step to alpha_bar_prev = 1 (sigma = 0) has h = inf and is first order: "
                             "leave x0_hat_last out")
        r = (lam(ab) - lam(abl)) / h
        D = (1 + 1 / (2 * r)) * x0_hat - 1 / (2 * r) * x0_hat_last
    return ((1 - abp) / (1 - ab)).sqrt() * x_t + abp.sqrt() * (1 - torch.exp(-h)) * D


# --- what a callback sees, and the callback that records --------------------------------------------------------
@dataclass(eq=False)
class StepState:
    """One step, as a ``callback`` sees it: step ``i`` at timestep ``t`` went from ``x_t`` (level
    ``alpha_bar_t``) to ``x_prev`` (level ``alpha_bar_prev``), adding ``sigma * noise`` (noise None: none)."""
    i: int
    t: int
    x_t: torch.Tensor
    x_prev: torch.Tensor
    x0_hat: torch.Tensor
    eps_hat: torch.Tensor
    sigma: float
    noise: Optional[torch.Tensor]
    alpha_bar_t: float
    alpha_bar_prev: float


@dataclass(eq=False)
class Trajectory:
    """A sampling run, stacked along a leading step axis (noisiest first).

    ``xs[i]`` is x_t entering step i at ``timesteps[i]``; ``x0_hats[i]``, ``eps_hats[i]`` the predictions
    there; ``sigmas[i]`` the std of the noise added; ``noises[i]`` the z drawn (zeros where none; None when
    no step drew any); ``alpha_bars`` / ``alpha_bar_prevs`` the two levels of each step. With
    ``record_every = k`` only every k-th step (and the last) is kept in ``xs``, ``x0_hats``, ``eps_hats``
    and ``noises``; ``recorded`` says which. ``final`` is the sample, ``nfe`` the number of model calls.
    (``==`` compares identity; compare fields with ``torch.equal``.)
    """
    final: torch.Tensor
    timesteps: torch.Tensor
    alpha_bars: torch.Tensor
    alpha_bar_prevs: torch.Tensor
    sigmas: torch.Tensor
    recorded: torch.Tensor
    xs: Optional[torch.Tensor] = None
    x0_hats: Optional[torch.Tensor] = None
    eps_hats: Optional[torch.Tensor] = None
    noises: Optional[torch.Tensor] = None
    nfe: int = 0
    info: dict = field(default_factory=dict)

    @property
    def x_T(self) -> torch.Tensor:
        return self.xs[0] if self.xs is not None and self.recorded[0] == 0 else None


class Recorder:
    """A callback that keeps a run's steps: the per-step numbers of every step, and x_t, x0_hat, eps_hat and
    the noise of every ``record_every``-th step and the last (``record_every=None``: of none)."""

    def __init__(self, record_every: int | None = 1):
        if record_every is not None:
            checks.positive_int(record_every, "record_every")
        self.record_every, self.steps, self.kept = record_every, [], []

    def __call__(self, s: StepState) -> None:
        self.steps.append(s)
        if self.record_every is not None and s.i % self.record_every == 0:
            self.kept.append(s)

    def trajectory(self, final: torch.Tensor, nfe: int = 0, info: Optional[dict] = None) -> Trajectory:
        kept = list(self.kept)
        if self.record_every is not None and self.steps and (not kept or kept[-1] is not self.steps[-1]):
            kept.append(self.steps[-1])
        f64 = dict(dtype=torch.float64)
        rec = dict(xs=[s.x_t for s in kept], x0_hats=[s.x0_hat for s in kept], eps_hats=[s.eps_hat for s in kept],
                   noises=[s.noise if s.noise is not None else torch.zeros_like(s.x_t) for s in kept])
        stack = {k: torch.stack(v) if v else None for k, v in rec.items()}
        if all(s.noise is None for s in self.steps):
            stack["noises"] = None
        return Trajectory(final=final, timesteps=torch.tensor([s.t for s in self.steps], dtype=torch.long),
                          alpha_bars=torch.tensor([s.alpha_bar_t for s in self.steps], **f64),
                          alpha_bar_prevs=torch.tensor([s.alpha_bar_prev for s in self.steps], **f64),
                          sigmas=torch.tensor([s.sigma for s in self.steps], **f64),
                          recorded=torch.tensor([s.i for s in kept], dtype=torch.long), nfe=nfe,
                          info=dict(info or {}), **stack)


def draw_noise(x: torch.Tensor, generator: Optional[torch.Generator] = None) -> torch.Tensor:
    """A standard normal z shaped like x, drawn on the generator's device (the CPU by default) and moved to
    x's device: a seed gives the same numbers whether the model runs on the CPU or a GPU."""
    device = generator.device if generator is not None else torch.device("cpu")
    return torch.randn(x.shape, generator=generator, dtype=x.dtype, device=device).to(x.device)


def _noise(i, x, generator, noises):
    return noises[i].to(x.device) if noises is not None else draw_noise(x, generator)


def _check_loop(denoiser, x, timesteps, callback, generator=None, noises=None, name="x_T") -> torch.Tensor:
    """The loops' shared checks, once, before the first model call; returns the timesteps as a LongTensor."""
    if not isinstance(denoiser, Denoiser):
        raise TypeError(f"denoiser must be a ddim_teach Denoiser (denoiser.Denoiser(model, schedule)), "
                        f"got {type(denoiser).__name__}")
    denoiser.check_input(x, name)
    ts = checks.descending_timesteps(timesteps, denoiser.schedule.T)
    checks.function(callback, "callback", "callback(StepState)")
    checks.noise_source(generator, noises, x, len(ts))
    return ts


# --- the loops --------------------------------------------------------------------------------------------------
@torch.no_grad()
def sample_ddim(denoiser: Denoiser, x_T, timesteps, eta: float = 0.0, *, generator=None, noises=None,
                callback=None, step: Callable = ddim_step) -> torch.Tensor:
    """DDIM (Song et al. 2021, eq. 12) from x_T down the descending ``timesteps``; returns the sample.

    eta = 0 is deterministic; eta = 1 on all T steps is DDPM. A step with sigma > 0 takes ``noises[i]``, or
    draws z from ``generator`` (:func:`draw_noise`); eta = 0 draws nothing. ``step`` replaces
    :func:`ddim_step` (same signature): the pitfalls clinic plugs its broken steps in here. It is called as
    ``step(x_t, eps_hat, alpha_bar_t, alpha_bar_prev, eta, noise)``, with ``x0_hat=`` added only when the denoiser's
    x0_hat is not eq. 9's (clipped, or from a v- or x0-predicting model), so six parameters are enough."""
    ts = _check_loop(denoiser, x_T, timesteps, callback, generator, noises)
    eta = checks.eta(eta)
    checks.function(step, "step", "ddim_step(x_t, eps_hat, alpha_bar_t, alpha_bar_prev, eta, noise)")
    if noises is not None and eta == 0:
        raise ValueError("noises were given, but eta = 0 adds no noise; leave noises out")
    alpha_bars = denoiser.schedule.alpha_bars
    alpha_bar_prevs = formulas.alpha_bar_prevs(alpha_bars, ts)
    own_x0 = denoiser.clip_sample or denoiser.prediction_type != "epsilon"  # x0_hat is not eq. 9's: pass it on
    x = x_T
    for i, t in enumerate(ts.tolist()):
        ab_t, ab_prev = alpha_bars[t], alpha_bar_prevs[i]
        sigma = ddim_sigma(ab_t, ab_prev, eta)
        z = _noise(i, x, generator, noises) if sigma > 0 else None
        eps_hat, x0_hat = denoiser(x, t)
        x_prev, x0_hat = step(x, eps_hat, ab_t, ab_prev, eta, z, **({"x0_hat": x0_hat} if own_x0 else {}))
        if callback is not None:
            callback(StepState(i, t, x, x_prev, x0_hat, eps_hat, float(sigma), z, float(ab_t), float(ab_prev)))
        x = x_prev
    return x


@torch.no_grad()
def sample_ddpm(denoiser: Denoiser, x_T, timesteps, variance: str = "fixed_small", *, generator=None,
                noises=None, callback=None) -> torch.Tensor:
    """DDPM's ancestral sampler (Ho et al. 2020, Alg. 2) down the descending ``timesteps``; returns the sample.

    On a subsequence each step uses its own beta = 1 - ᾱ_t/ᾱ_prev. No noise at the last step (Alg. 2's
    "z = 0 if t = 1"), so the sample is the posterior mean there."""
    ts = _check_loop(denoiser, x_T, timesteps, callback, generator, noises)
    checks.one_of(variance, "variance", VARIANCES)
    alpha_bars = denoiser.schedule.alpha_bars
    alpha_bar_prevs = formulas.alpha_bar_prevs(alpha_bars, ts)
    x = x_T
    for i, t in enumerate(ts.tolist()):
        ab_t, ab_prev = alpha_bars[t], alpha_bar_prevs[i]
        last = i == len(ts) - 1
        sigma = 0.0 if last else float(ddpm_variance(ab_t, ab_prev, variance).sqrt())
        z = _noise(i, x, generator, noises) if sigma > 0 else None
        eps_hat, x0_hat = denoiser(x, t)
        x_prev, x0_hat = ddpm_step(x, eps_hat, ab_t, ab_prev, variance, z, x0_hat=x0_hat)
        if callback is not None:
            callback(StepState(i, t, x, x_prev, x0_hat, eps_hat, sigma, z, float(ab_t), float(ab_prev)))
        x = x_prev
    return x


@torch.no_grad()
def sample_heun(denoiser: Denoiser, x_T, timesteps, *, callback=None) -> torch.Tensor:
    """Heun's method on the probability-flow ODE (:mod:`ddim_teach.ode`; Karras et al. 2022, Alg. 1).

    Each step takes the Euler step (= DDIM with eta = 0), calls the model again there at the next timestep,
    and takes the trapezoid. The last step, to ᾱ = 1 where there is no timestep to call the model at, stays
    an Euler step. So S steps cost 2S - 1 model calls."""
    ts = _check_loop(denoiser, x_T, timesteps, callback)
    if denoiser.clip_sample:
        raise ValueError("Heun integrates the ODE as is; clip_sample is allowed only with DDIM or DDPM")
    alpha_bars = denoiser.schedule.alpha_bars
    if alpha_bars[ts[0]] == 0:
        raise ValueError(f"alpha_bar is 0 at t={int(ts[0])} (zero terminal SNR), where the ODE's sigma is infinite; "
                         "use method='ddim' or 'ddpm'")
    alpha_bar_prevs = formulas.alpha_bar_prevs(alpha_bars, ts)
    x = x_T
    for i, t in enumerate(ts.tolist()):
        ab_t, ab_prev = alpha_bars[t], alpha_bar_prevs[i]
        eps_hat, x0_hat = denoiser(x, t)
        x_prev = ode.euler_step(x, eps_hat, ab_t, ab_prev)
        if i + 1 < len(ts):
            eps_at_euler, _ = denoiser(x_prev, int(ts[i + 1]))
            x_prev = ode.heun_step(x, eps_hat, ab_t, ab_prev, eps_at_euler)
        if callback is not None:
            callback(StepState(i, t, x, x_prev, x0_hat, eps_hat, 0.0, None, float(ab_t), float(ab_prev)))
        x = x_prev
    return x


@torch.no_grad()
def invert_ddim(denoiser: Denoiser, x0, timesteps, *, callback=None) -> torch.Tensor:
    """DDIM inversion: the eta = 0 step run upwards, x0 -> x_T, through the ``timesteps`` in ascending order.

    A step from level ᾱ_from up to ᾱ_t needs eps(x_t, t), which depends on the unknown x_t; we use
    eps(x_from, t): the model sees the *current* x at the *target* t. Then x0_hat from the current level
    (eq. 9), re-noised to the target level (eq. 12 with sigma = 0). The error of that approximation vanishes
    as the steps shrink (the DDIM ODE, eq. 14, is then reversible). The callback's ``x_t`` is the step's
    start and ``x_prev`` its (noisier) end. Returns x_T."""
    ts = _check_loop(denoiser, x0, timesteps, callback, name="x0").flip(0)
    alpha_bars = denoiser.schedule.alpha_bars
    x = x0
    for i, t in enumerate(ts.tolist()):
        ab_from = formulas.alpha_bar_at(alpha_bars, int(ts[i - 1]) if i > 0 else -1)
        eps_hat, _ = denoiser(x, t)
        x_next, x0_hat = ddim_step(x, eps_hat, ab_from, alpha_bars[t], eta=0.0)
        if callback is not None:
            callback(StepState(i, t, x, x_next, x0_hat, eps_hat, 0.0, None, float(ab_from), float(alpha_bars[t])))
        x = x_next
    return x


@torch.no_grad()
def sample_dpm_solver_pp_2m(denoiser: Denoiser, x_T, timesteps, *, callback=None) -> torch.Tensor:
    """DPM-Solver++(2M) (:func:`dpm_solver_pp_2m_step`) down the descending ``timesteps``: one model call a step.

    The first step is first order (there is no previous x0_hat yet), and so is the last (to ᾱ = 1, where h = ∞);
    every other step is second order. On the same timesteps this is diffusers' ``DPMSolverMultistepScheduler(
    algorithm_type="dpmsolver++", solver_order=2)`` with its default ``final_sigmas_type="zero"``, step for step
    (tests/test_dpm_solver.py, with diffusers' ``timestep_spacing="trailing"``; its default "linspace" places the
    steps elsewhere). On the 'logsnr' and 'karras' placements diffusers steps with the unrounded σ's, this loop
    with the ᾱ of the rounded timesteps, so there the two differ by that rounding."""
    ts = _check_loop(denoiser, x_T, timesteps, callback)
    alpha_bars = denoiser.schedule.alpha_bars
    alpha_bar_prevs = formulas.alpha_bar_prevs(alpha_bars, ts)
    S, x, last = len(ts), x_T, ()
    for i, t in enumerate(ts.tolist()):
        ab_t, ab_prev = alpha_bars[t], alpha_bar_prevs[i]
        eps_hat, x0_hat = denoiser(x, t)
        x_prev = dpm_solver_pp_2m_step(x, x0_hat, ab_t, ab_prev, *(() if i == S - 1 else last))
        if callback is not None:
            callback(StepState(i, t, x, x_prev, x0_hat, eps_hat, 0.0, None, float(ab_t), float(ab_prev)))
        x, last = x_prev, (x0_hat, ab_t)
    return x


# --- front ends for the notebooks ---------------------------------------------------------------------------
def resolve_timesteps(schedule: Schedule, steps=None, spacing=None) -> torch.Tensor:
    """The descending timesteps a run uses: ``steps`` (default 50) spaced by ``spacing`` (default
    'trailing'; 'logsnr' and 'karras' place them by noise level, :func:`ddim_teach.schedules.sigma_timesteps`),
    or ``steps`` given as an explicit descending list of timesteps (then no spacing)."""
    if isinstance(steps, str):
        raise ValueError(f"steps must be a number of steps or a list of timesteps; for a spacing name use "
                         f"spacing={steps!r}")
    if isinstance(steps, numbers.Integral) and not isinstance(steps, bool):
        steps = int(steps)   # a numpy integer is a number of steps too
    elif isinstance(steps, numbers.Real) and not isinstance(steps, bool):
        raise ValueError(f"steps must be a whole number of steps (1..T) or a list of timesteps, got {steps!r}")
    if steps is not None and not isinstance(steps, (int, bool)):
        if spacing is not None:
            raise ValueError("an explicit timestep list fixes the spacing; pass spacing=None with it")
        return make_timesteps(schedule.T, None, steps)
    steps = DEFAULT_STEPS if steps is None else steps
    spacing = DEFAULT_SPACING if spacing is None else spacing
    if not isinstance(spacing, str):
        raise ValueError(f"spacing must be a spacing's name; for an explicit list pass it as steps, got {spacing!r}")
    if spacing in SIGMA_SPACINGS:  # placed by noise level: Karras's rho = 7 grid, or uniform in log-SNR
        return sigma_timesteps(schedule, steps, spacing)
    ts = make_timesteps(schedule.T, steps, spacing)
    if len(ts) == 1 and int(ts[0]) < schedule.T - 1:
        raise ValueError(f"steps=1 with {spacing!r} spacing runs only t={int(ts[0])} (alpha_bar "
                         f"{float(schedule.alpha_bars[ts[0]]):.4f}, almost no noise), so the result is x_T "
                         f"nearly unchanged; use spacing='trailing', which starts at t={schedule.T - 1}")
    return ts


def _method(method, eta, variance):
    """Checks the method's own arguments: returns (method, eta, variance, info)."""
    alias = None
    if isinstance(eta, str):
        if eta != "sigma_hat":
            raise ValueError(f"eta must be a number in [0, 1] (0 = deterministic DDIM, 1 = DDPM-like) or the "
                             f"alias 'sigma_hat', got {eta!r}")
        if method not in (None, "ddpm") or variance not in (None, "fixed_large"):
            raise ValueError(f"eta='sigma_hat' means method='ddpm', variance='fixed_large'; it cannot be "
                             f"combined with method={method!r}, variance={variance!r}")
        alias, method, variance, eta = "sigma_hat", "ddpm", "fixed_large", None
    method = "ddim" if method is None else method
    checks.one_of(method, "method", METHODS)
    if method == "ddpm" and eta is not None:
        raise ValueError(f"method='ddpm' takes no eta (its noise is set by variance='fixed_small' or "
                         f"'fixed_large'), got eta={eta!r}; for DDIM's eta use method='ddim'")
    if method != "ddpm" and variance is not None:
        raise ValueError(f"variance={variance!r} applies only to method='ddpm' (got method={method!r}); "
                         "DDIM's noise is set by eta")
    variance = ("fixed_small" if variance is None else variance) if method == "ddpm" else None
    eta = None if method == "ddpm" else checks.eta(0.0 if eta is None else eta)
    if method in ("heun", "dpm_solver_pp_2m") and eta != 0:
        raise ValueError(f"method={method!r} integrates the deterministic ODE, so eta must be 0, got {eta}")
    info = {"method": method, "eta": eta, "variance": variance}
    if alias:
        info["alias"] = alias
    return method, eta, variance, info


def _with_progress(callback, S: int, desc: str, progress: Optional[bool]):
    """``callback``, and a tqdm bar when ``progress`` is True, or when None and S > 50; returns (callback, close)."""
    if not (progress if progress is not None else S > 50):
        return callback, lambda: None
    from tqdm.auto import tqdm
    bar = tqdm(total=S, desc=desc, leave=False)

    def both(state):
        if callback is not None:
            callback(state)
        bar.update(1)
    return both, bar.close


def _all(*callbacks):
    """One callback that calls each of the given ones (None where none is given)."""
    live = [c for c in callbacks if c is not None]
    if len(live) < 2:
        return live[0] if live else None

    def each(state):
        for c in live:
            c(state)
    return each


def sample(model, schedule: Schedule, x_T: torch.Tensor, steps=None, eta=None, spacing=None, *,
           method=None, variance=None, generator=None, record_every: int | None = 1, callback=None,
           progress: Optional[bool] = None, step_fn: Optional[Callable] = None) -> Trajectory:
    """Run DDIM, DDPM or Heun from x_T; return the :class:`Trajectory`.

    * ``model``: a network called as ``model(x, t)``, or a :class:`~ddim_teach.denoiser.Denoiser` for a
      model that predicts v or x0, or for clipping x0_hat.
    * ``steps`` (default 50) spaced by ``spacing`` (default ``"trailing"``: starts at t = T - 1; see
      :func:`ddim_teach.schedules.timesteps`), or ``steps`` as an explicit descending list of timesteps.
    * ``method="ddim"`` (default) with ``eta`` in [0, 1] (default 0); ``method="ddpm"`` with ``variance``
      ``"fixed_small"`` (default) or ``"fixed_large"``, and no eta; ``eta="sigma_hat"``, the DDIM paper's
      Table 1 name, means exactly ``method="ddpm", variance="fixed_large"``; ``method="heun"``: the ODE with
      Heun's method (eta 0, 2S - 1 model calls); ``method="dpm_solver_pp_2m"``: DPM-Solver++(2M) (eta 0, S calls).
      Arguments a method would ignore are errors (eta with DDPM, a variance without it, ``step_fn`` outside DDIM);
      a ``generator`` is simply not drawn from where no step adds noise.
    * ``generator`` draws the noise; ``step_fn`` replaces :func:`ddim_step` (DDIM only: the pitfalls clinic).
    * ``record_every=k`` keeps x_t, x0_hat, eps_hat of every k-th step and the last (None: only the final
      sample); ``callback(StepState)`` sees every step; ``progress`` shows a bar (default: when S > 50).
    """
    method, eta, variance, info = _method(method, eta, variance)
    if step_fn is not None and method != "ddim":
        raise ValueError(f"step_fn replaces ddim_step, so it needs method='ddim', got {method!r}")
    denoiser = as_denoiser(model, schedule)
    ts = resolve_timesteps(schedule, steps, spacing)
    info["spacing"] = "custom" if steps is not None and not isinstance(steps, int) else (spacing or DEFAULT_SPACING)
    recorder = Recorder(record_every)
    checks.function(callback, "callback", "callback(StepState)")
    cb, close = _with_progress(_all(recorder, callback), len(ts), f"{method} {len(ts)} steps", progress)
    nfe = denoiser.nfe
    try:
        if method == "ddim":
            final = sample_ddim(denoiser, x_T, ts, eta, generator=generator, callback=cb, step=step_fn or ddim_step)
        elif method == "ddpm":
            final = sample_ddpm(denoiser, x_T, ts, variance, generator=generator, callback=cb)
        elif method == "heun":
            final = sample_heun(denoiser, x_T, ts, callback=cb)
        else:
            final = sample_dpm_solver_pp_2m(denoiser, x_T, ts, callback=cb)
    finally:
        close()
    return recorder.trajectory(final, nfe=denoiser.nfe - nfe, info=info)


@dataclass(eq=False)
class Inversion:
    """A DDIM inversion: ``x_T``, the noise it reached from the clean ``x0``, through ``timesteps`` in the
    order visited (ascending). ``xs`` holds every x on the way, x0 first and x_T last, when recorded."""
    x_T: torch.Tensor
    x0: torch.Tensor
    timesteps: torch.Tensor
    nfe: int
    xs: Optional[torch.Tensor] = None


def ddim_invert(model, schedule: Schedule, x0: torch.Tensor, steps=None, spacing=None, *,
                record: bool = False, callback=None, progress: Optional[bool] = None) -> Inversion:
    """DDIM inversion (:func:`invert_ddim`) of ``x0`` through the same timesteps :func:`sample` would use
    (default: 50 steps, ``"trailing"``); returns an :class:`Inversion`. ``record`` keeps every x."""
    denoiser = as_denoiser(model, schedule)
    ts = resolve_timesteps(schedule, steps, spacing)
    xs = []
    checks.function(callback, "callback", "callback(StepState)")
    keep = (lambda s: xs.append(s.x_prev)) if record else None
    cb, close = _with_progress(_all(keep, callback), len(ts), f"invert {len(ts)} steps", progress)
    nfe = denoiser.nfe
    try:
        x_T = invert_ddim(denoiser, x0, ts, callback=cb)
    finally:
        close()
    return Inversion(x_T=x_T, x0=x0, timesteps=ts.flip(0), nfe=denoiser.nfe - nfe,
                     xs=torch.stack([x0, *xs]) if record else None)


@dataclass(eq=False)
class InversionShortfall:
    """:func:`inversion_shortfall`'s answer: ``timesteps`` in the order visited (ascending), ``spread`` the data's
    spread after each step, ``rho`` each step's ratio of spreads (the first step's from the clean image, spread s),
    ``norm_ratio`` the estimated |x_T| over the exact flow's."""
    timesteps: torch.Tensor
    spread: torch.Tensor
    rho: torch.Tensor
    norm_ratio: float


def inversion_shortfall(schedule: Schedule, data_std: float, steps=None, spacing=None) -> InversionShortfall:
    """Why DDIM inversion (:func:`ddim_invert`, same ``steps`` and ``spacing``) gives short codes for data N(0, s² I),
    s = ``data_std``, with the exact eps_hat (:class:`~ddim_teach.oracles.GaussianOracle`).

    At level t the noised data have spread (std per dimension) sqrt(ᾱ_t s² + 1 - ᾱ_t); it is s at the clean image
    and 1 at pure noise. A step from level a up to level b hands the model the x of level a at timestep b. The exact
    eps_hat there is sqrt(1 - ᾱ_b) x / spread_b², so fed the exact flow's point of level a, it comes out as::

        rho = spread_a / spread_b

    times the exact flow's eps_hat at b. Where the noise dominates the data and ᾱ ≈ 1 (s << σ << 1, σ the ODE's
    sqrt(1 - ᾱ) / sqrt(ᾱ)), x0_hat then keeps 1 - rho of x and the step ends at rho (2 - rho) times the exact point,
    so the code's norm over the exact flow's is about::

        norm_ratio = prod over the steps of rho (2 - rho)

    An estimate: where σ is near s, or ᾱ well below 1, a step's factor differs (the first step from the clean image
    can overshoot). rho is near 1 where σ << s (the data dominate) and where σ >> 1 (the spread is already about 1):
    it is the steps between σ ≈ s and σ ≈ 1 that lose the norm, and there rho ≈ σ_a / σ_b."""
    s = checks.real(data_std, "data_std", 0.0, 1e6)
    ts = resolve_timesteps(schedule, steps, spacing).flip(0)          # ascending, the order visited
    alpha_bars = schedule.alpha_bars[ts].double()
    spread = (alpha_bars * s ** 2 + 1 - alpha_bars).sqrt()
    rho = torch.cat([spread.new_tensor([s]), spread[:-1]]) / spread
    return InversionShortfall(timesteps=ts, spread=spread, rho=rho, norm_ratio=float((rho * (2 - rho)).prod()))


def slerp(z0: torch.Tensor, z1: torch.Tensor, alpha) -> torch.Tensor:
    """Spherical interpolation between two noise tensors, per batch element (Shoemake 1985).

    slerp = sin((1-a) theta)/sin(theta) z0 + sin(a theta)/sin(theta) z1, theta the angle between z0 and z1.
    Keeps the norm near sqrt(d), where Gaussian noise lives; linear interpolation shrinks it (by
    ~1/sqrt(2) at a = 0.5 for independent z0, z1). Where z0 and z1 are (nearly) parallel, sin(theta) ~ 0 and
    it falls back to linear interpolation; opposite z0 and z1 are refused (no unique arc joins them). ``alpha`` a float or a 1-D tensor of weights, which yields a stack
    (len(alpha), *z0.shape).
    """
    if not isinstance(z0, torch.Tensor) or not isinstance(z1, torch.Tensor):
        raise TypeError(f"z0 and z1 must be tensors, got {type(z0).__name__} and {type(z1).__name__}")
    if z0.shape != z1.shape:
        raise ValueError(f"z0 and z1 must have the same shape, got {tuple(z0.shape)} and {tuple(z1.shape)}")
    if z0.dim() < 2 or not z0.is_floating_point():
        raise ValueError(f"z0 and z1 must be floating-point batches of shape (B, ...), "
                         f"got {tuple(z0.shape)}, {z0.dtype}")
    no_weight = f"alpha must be a number (0 gives z0, 1 gives z1) or a 1-D tensor of weights, got {alpha!r}"
    if isinstance(alpha, bool):          # torch would read True as 1.0
        raise ValueError(no_weight)
    try:                                 # a string, None or a list holding one is a TypeError here
        a = torch.as_tensor(alpha, dtype=torch.float64)
    except (TypeError, ValueError, RuntimeError) as e:
        raise ValueError(no_weight) from e
    if a.dim() > 1:
        raise ValueError(f"alpha must be a number or a 1-D tensor of weights, got shape {tuple(a.shape)}")
    if a.dim() == 1:
        return torch.stack([slerp(z0, z1, float(v)) for v in a])
    a = float(a)
    if not torch.isfinite(torch.tensor(a)):
        raise ValueError(f"alpha must be finite, got {a}")
    f0, f1 = z0.reshape(z0.shape[0], -1).double(), z1.reshape(z1.shape[0], -1).double()
    n0, n1 = f0.norm(dim=1), f1.norm(dim=1)
    if bool(((n0 == 0) | (n1 == 0)).any()):
        raise ValueError("slerp needs nonzero z0 and z1: the angle to a zero vector is undefined")
    cos = (f0 * f1).sum(1) / (n0 * n1)
    if bool((cos < -1 + 1e-12).any()):
        raise ValueError("slerp of opposite vectors (z1 = -c z0) is undefined: every great circle joins them; "
                         "perturb one of them, or interpolate linearly")
    theta = torch.arccos(cos.clamp(-1, 1))
    s = torch.sin(theta)
    small = s < 1e-6
    w0 = torch.where(small, torch.full_like(s, 1 - a), torch.sin((1 - a) * theta) / s.where(~small, torch.ones_like(s)))
    w1 = torch.where(small, torch.full_like(s, a), torch.sin(a * theta) / s.where(~small, torch.ones_like(s)))
    out = w0[:, None] * f0 + w1[:, None] * f1
    return out.reshape(z0.shape).to(z0.dtype)
