"""DDPM and DDIM sampling: one pure step function per method, one loop for all.

Notation: ``alpha_bar`` is DDPM's alpha_bar_t (the DDIM paper's alpha_t). A step
goes from timestep t to the *next entry* of the timestep list, t_prev (never
t - stride); after the last entry it goes to alpha_bar_prev = 1 (the clean image;
diffusers' ``set_alpha_to_one=True``) or, with ``final_alpha_bar="alpha_bar_0"``,
to alpha_bar_0.

DDIM step (Song et al. 2021, eq. 12)::

    x0_hat   = (x_t - sqrt(1 - ab_t) eps_hat) / sqrt(ab_t)
    x_prev   = sqrt(ab_prev) x0_hat + sqrt(1 - ab_prev - sigma^2) eps_hat + sigma z
    sigma    = eta sqrt((1 - ab_prev) / (1 - ab_t)) sqrt(1 - ab_t / ab_prev)        (eq. 16)

DDPM ancestral step (Ho et al. 2020, eqs. 6-7), written for any pair (t, t_prev) with
beta = 1 - ab_t / ab_prev (the step's own beta; the usual beta_t when t_prev = t - 1)::

    mean     = sqrt(ab_prev) beta / (1 - ab_t) x0_hat + sqrt(1 - beta) (1 - ab_prev) / (1 - ab_t) x_t
    variance = beta_tilde = (1 - ab_prev) / (1 - ab_t) beta     ("fixed_small")
             | beta                                            ("fixed_large"; the DDIM paper's sigma_hat)
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Callable, Optional

import torch

from . import ode
from .schedules import Schedule, timesteps as make_timesteps

VARIANCES = ("fixed_small", "fixed_large")
METHODS = ("ddim", "ddpm", "heun")


def _scalar(a, name: str) -> torch.Tensor:
    a = torch.as_tensor(a, dtype=torch.float64)
    if a.dim() != 0:
        raise ValueError(f"{name} must be a scalar, got shape {tuple(a.shape)}")
    if not 0.0 < float(a) <= 1.0:
        raise ValueError(f"{name} must lie in (0, 1], got {float(a)}")
    return a


def _check_eta(eta) -> float:
    if isinstance(eta, bool) or not isinstance(eta, (int, float)) or not 0.0 <= eta <= 1.0 or math.isnan(eta):
        raise ValueError(f"eta must be a number in [0, 1] (0 = deterministic DDIM, 1 = DDPM-like), got {eta!r}")
    return float(eta)


def predict_x0(x_t, eps_hat, alpha_bar_t) -> torch.Tensor:
    """x0_hat = (x_t - sqrt(1 - ab_t) eps_hat) / sqrt(ab_t)  (DDIM eq. 9, "predicted x0")."""
    ab = _scalar(alpha_bar_t, "alpha_bar_t")
    return (x_t - (1 - ab).sqrt() * eps_hat) / ab.sqrt()


def ddim_sigma(alpha_bar_t, alpha_bar_prev, eta: float = 0.0) -> torch.Tensor:
    """sigma_t(eta) = eta sqrt((1 - ab_prev)/(1 - ab_t)) sqrt(1 - ab_t/ab_prev)  (DDIM eq. 16). A float64 scalar."""
    eta = _check_eta(eta)
    ab, abp = _scalar(alpha_bar_t, "alpha_bar_t"), _scalar(alpha_bar_prev, "alpha_bar_prev")
    if eta == 0.0:  # also valid for an upward (inversion) step, ab_prev < ab_t
        return torch.zeros((), dtype=torch.float64)
    if ab > abp:
        raise ValueError(f"alpha_bar_prev ({float(abp)}) must be >= alpha_bar_t ({float(ab)}) when eta > 0: "
                         "a stochastic step goes toward less noise")
    return eta * ((1 - abp) / (1 - ab)).sqrt() * (1 - ab / abp).sqrt()


def ddpm_variance(alpha_bar_t, alpha_bar_prev, variance: str = "fixed_small") -> torch.Tensor:
    """Variance of a DDPM ancestral step: beta_tilde (``fixed_small``) or beta (``fixed_large``), float64."""
    ab, abp = _scalar(alpha_bar_t, "alpha_bar_t"), _scalar(alpha_bar_prev, "alpha_bar_prev")
    beta = 1 - ab / abp
    if variance == "fixed_small":
        return (1 - abp) / (1 - ab) * beta
    if variance == "fixed_large":
        return beta
    raise ValueError(f"variance must be one of {VARIANCES}, got {variance!r}")


def _maybe_clip(x_t, eps_hat, x0_hat, ab, clip_sample, use_clipped_model_output):
    if clip_sample:
        x0_hat = x0_hat.clamp(-1, 1)
        if use_clipped_model_output:  # re-derive eps_hat so that x0_hat and eps_hat agree again
            eps_hat = (x_t - ab.sqrt() * x0_hat) / (1 - ab).sqrt()
    return eps_hat, x0_hat


def ddim_step(x_t, eps_hat, alpha_bar_t, alpha_bar_prev, eta: float = 0.0, noise=None, *,
              clip_sample: bool = False, use_clipped_model_output: bool = False):
    """One DDIM step (eq. 12) from x_t to x_prev. Returns ``(x_prev, x0_hat)``.

    ``noise`` is the standard normal z; None adds none (the loop passes None wherever sigma = 0).
    With ``clip_sample`` x0_hat is clamped to [-1, 1]; ``use_clipped_model_output`` then re-derives
    eps_hat from the clamped x0_hat for the "direction pointing to x_t" term (diffusers' names).
    """
    ab, abp = _scalar(alpha_bar_t, "alpha_bar_t"), _scalar(alpha_bar_prev, "alpha_bar_prev")
    sigma = ddim_sigma(ab, abp, eta)
    x0_hat = predict_x0(x_t, eps_hat, ab)
    eps_hat, x0_hat = _maybe_clip(x_t, eps_hat, x0_hat, ab, clip_sample, use_clipped_model_output)
    direction = (1 - abp - sigma ** 2).clamp(min=0).sqrt() * eps_hat
    x_prev = abp.sqrt() * x0_hat + direction
    if noise is not None and sigma > 0:
        x_prev = x_prev + sigma * noise
    return x_prev, x0_hat


def ddpm_step(x_t, eps_hat, alpha_bar_t, alpha_bar_prev, variance: str = "fixed_small", noise=None, *,
              clip_sample: bool = False, use_clipped_model_output: bool = False):
    """One DDPM ancestral step (eqs. 6-7, for any t -> t_prev). Returns ``(x_prev, x0_hat)``.

    Posterior mean from x0_hat and x_t, plus sqrt(variance) * noise; None adds no noise
    (the loop passes None at the last step, as DDPM does).
    """
    ab, abp = _scalar(alpha_bar_t, "alpha_bar_t"), _scalar(alpha_bar_prev, "alpha_bar_prev")
    var = ddpm_variance(ab, abp, variance)
    beta = 1 - ab / abp
    x0_hat = predict_x0(x_t, eps_hat, ab)
    eps_hat, x0_hat = _maybe_clip(x_t, eps_hat, x0_hat, ab, clip_sample, use_clipped_model_output)
    mean = (abp.sqrt() * beta / (1 - ab)) * x0_hat + ((1 - beta).sqrt() * (1 - abp) / (1 - ab)) * x_t
    if noise is not None and var > 0:
        mean = mean + var.sqrt() * noise
    return mean, x0_hat


@dataclass
class Trajectory:
    """Everything a sampling run did, stacked along a leading step axis (noisiest first).

    ``xs[i]`` is x_t entering step i at ``timesteps[i]``; ``x0_hats[i]``, ``eps_hats[i]`` the
    predictions there; ``sigmas[i]`` the std of the noise added (sqrt of the variance);
    ``noises[i]`` the z drawn (zeros where none; None when no step drew any);
    ``alpha_bars`` / ``alpha_bar_prevs`` the two schedule values each step used.
    With ``record_every = k`` only every k-th step (and the last) is kept; ``recorded``
    says which step indices are. ``final`` is the sample.
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


@dataclass
class StepState:
    """What a ``callback`` sees after each step (k-diffusion style)."""
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


def _check_x_T(model, x_T):
    if not isinstance(x_T, torch.Tensor) or not x_T.is_floating_point():
        got = x_T.dtype if isinstance(x_T, torch.Tensor) else type(x_T).__name__
        raise ValueError(f"x_T must be a floating-point tensor (float32 or float64), got {got}")
    if x_T.dim() < 2:
        raise ValueError(f"x_T must have a batch dimension, shape (B, ...); got {tuple(x_T.shape)}")
    want = getattr(model, "sample_shape", None)
    if want is not None and tuple(x_T.shape[1:]) != tuple(want):
        raise ValueError(f"x_T has shape {tuple(x_T.shape)}; this model expects (B, {', '.join(map(str, want))})")


def _step_range(S: int, desc: str, progress: Optional[bool]):
    """range(S), wrapped in a tqdm bar when ``progress`` is True, or when None and S > 50."""
    if progress if progress is not None else S > 50:
        from tqdm.auto import tqdm
        return tqdm(range(S), desc=desc, leave=False)
    return range(S)


def _model_eps(model, schedule: Schedule, x, t: int, prediction_type: str, where: str) -> torch.Tensor:
    """One model call at integer timestep t, checked, converted to eps_hat (``where`` names the step in errors)."""
    out = model(x, torch.full((x.shape[0],), t, dtype=torch.long))
    if out.shape != x.shape:
        raise ValueError(f"model output has shape {tuple(out.shape)}, expected {tuple(x.shape)} ({where}, t={t})")
    if not torch.isfinite(out).all():
        raise ValueError(f"model returned NaN or inf at {where} (t={t})")
    return schedule.to_eps(out, x, t, prediction_type)


def resolve_timesteps(schedule: Schedule, steps, spacing, steps_offset=0) -> torch.Tensor:
    """The descending timestep list a run will use: from ``spacing`` or from an explicit list."""
    if not isinstance(spacing, str):
        return make_timesteps(schedule.T, None, spacing)
    return make_timesteps(schedule.T, steps, spacing, steps_offset)


def sample(model: Callable, schedule: Schedule, x_T: torch.Tensor, steps: int = 50, eta: float | str = 0.0,
           spacing="leading", *, method: str = "ddim", variance: str = "fixed_small",
           timesteps=None, steps_offset: int = 0, final_alpha_bar: str = "one",
           prediction_type: str = "epsilon", clip_sample: bool = False, use_clipped_model_output: bool = False,
           generator: Optional[torch.Generator] = None, noises: Optional[torch.Tensor] = None,
           record_every: int | None = 1, callback: Optional[Callable[[StepState], None]] = None,
           progress: Optional[bool] = None, step_fn: Optional[Callable] = None) -> Trajectory:
    """Run DDIM or DDPM from x_T; return the :class:`Trajectory`.

    * ``method="ddim"`` uses :func:`ddim_step` with ``eta``; ``eta="sigma_hat"`` is the DDIM paper's
      sigma_hat row (Table 1), which is DDPM with ``variance="fixed_large"`` on the same timesteps.
    * ``method="ddpm"`` uses :func:`ddpm_step` with ``variance``. On all T steps, DDIM with eta = 1
      and DDPM ``fixed_small`` are the same update.
    * ``method="heun"``: the probability-flow ODE (see :mod:`ddim_teach.ode`) with Heun's method, a
      second model call per step at the Euler point (= the DDIM eta=0 step); the last step, to
      alpha_bar = 1, is a plain Euler step. ``eta`` must be 0; ``nfe`` is 2S - 1.
    * ``timesteps`` (a descending list) overrides ``steps``/``spacing``.
    * Noise: where a step needs noise (sigma > 0) it takes ``noises[i]`` if given, else draws
      ``torch.randn`` from ``generator``. Steps with sigma = 0 draw nothing, so eta = 0 draws no
      random numbers, and DDPM and DDIM(eta=1) runs with the same generator seed see the same z.
    * ``step_fn`` replaces :func:`ddim_step` (same signature and return) in ``method="ddim"``: the
      pitfalls clinic (:mod:`ddim_teach.pitfalls`) plugs its broken updates in here.
    * ``callback(StepState)`` is called after every step; ``record_every=k`` keeps every k-th step,
      ``None`` keeps only the final sample. ``progress`` shows a tqdm bar (default: when > 50 steps).
    """
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    if eta == "sigma_hat":
        method, variance, eta = "ddpm", "fixed_large", 1.0
    eta = _check_eta(eta)
    if step_fn is not None and method != "ddim":
        raise ValueError(f"step_fn replaces ddim_step, so it needs method='ddim', got {method!r}")
    if method == "heun" and eta != 0:
        raise ValueError(f"method='heun' integrates the deterministic ODE, so eta must be 0, got {eta}")
    if method == "heun" and clip_sample:
        raise ValueError("method='heun' integrates the ODE as is; clip_sample is allowed only with 'ddim' or 'ddpm'")
    if variance not in VARIANCES:
        raise ValueError(f"variance must be one of {VARIANCES}, got {variance!r}")
    if final_alpha_bar not in ("one", "alpha_bar_0"):
        raise ValueError(f"final_alpha_bar must be 'one' or 'alpha_bar_0', got {final_alpha_bar!r}")
    if record_every is not None and (not isinstance(record_every, int) or record_every < 1):
        raise ValueError(f"record_every must be a positive integer or None, got {record_every!r}")
    _check_x_T(model, x_T)
    ts = resolve_timesteps(schedule, steps, timesteps if timesteps is not None else spacing, steps_offset)
    S = len(ts)
    ab_all = schedule.alpha_bars
    ab_final = torch.tensor(1.0, dtype=torch.float64) if final_alpha_bar == "one" else ab_all[0]
    abs_t = ab_all[ts]
    abs_prev = torch.cat([ab_all[ts[1:]], ab_final.reshape(1)])
    if method in ("ddim", "heun"):
        sigmas = torch.stack([ddim_sigma(a, b, eta) for a, b in zip(abs_t, abs_prev)])
    else:
        sigmas = torch.stack([ddpm_variance(a, b, variance).sqrt() for a, b in zip(abs_t, abs_prev)])
        sigmas[-1] = 0.0  # DDPM adds no noise at the last step
    if noises is not None and tuple(noises.shape) != (S, *x_T.shape):
        raise ValueError(f"noises must have shape {(S, *x_T.shape)} (steps, *x_T.shape), got {tuple(noises.shape)}")
    keep = [] if record_every is None else sorted(set(range(0, S, record_every)) | {S - 1})
    rec = {k: [] for k in ("xs", "x0_hats", "eps_hats", "noises")}
    drew_noise = False
    it = _step_range(S, f"{method} {S} steps", progress)
    x = x_T
    nfe = 0

    def eps_at(x, t, i):
        nonlocal nfe
        nfe += 1
        return _model_eps(model, schedule, x, t, prediction_type, f"step {i} of {S}")

    with torch.no_grad():
        for i in it:
            t = int(ts[i])
            eps_hat = eps_at(x, t, i)
            z = None
            if sigmas[i] > 0:
                z = noises[i] if noises is not None else torch.randn(x.shape, generator=generator, dtype=x.dtype)
                drew_noise = True
            kw = dict(clip_sample=clip_sample, use_clipped_model_output=use_clipped_model_output)
            if method == "ddim":
                x_prev, x0_hat = (step_fn or ddim_step)(x, eps_hat, abs_t[i], abs_prev[i], eta, z, **kw)
            elif method == "heun":
                x0_hat = predict_x0(x, eps_hat, abs_t[i])
                x_prev = ode.euler_step(x, eps_hat, abs_t[i], abs_prev[i])
                if i + 1 < S:  # the Euler point's epsilon at t_prev, then the trapezoid
                    x_prev = ode.heun_step(x, eps_hat, abs_t[i], abs_prev[i], eps_at(x_prev, int(ts[i + 1]), i))
            else:
                x_prev, x0_hat = ddpm_step(x, eps_hat, abs_t[i], abs_prev[i], variance, z, **kw)
            if keep and i in keep:
                rec["xs"].append(x)
                rec["x0_hats"].append(x0_hat)
                rec["eps_hats"].append(eps_hat)
                rec["noises"].append(z if z is not None else torch.zeros_like(x))
            if callback is not None:
                callback(StepState(i, t, x, x_prev, x0_hat, eps_hat, float(sigmas[i]), z,
                                   float(abs_t[i]), float(abs_prev[i])))
            x = x_prev
    stack = {k: torch.stack(v) if v else None for k, v in rec.items()}
    if not drew_noise:
        stack["noises"] = None
    return Trajectory(final=x, timesteps=ts, alpha_bars=abs_t, alpha_bar_prevs=abs_prev, sigmas=sigmas,
                      recorded=torch.tensor(keep, dtype=torch.long), nfe=nfe,
                      info={"method": method, "eta": eta, "variance": variance if method == "ddpm" else None,
                            "spacing": spacing if timesteps is None else "custom"}, **stack)


def ddim_invert(model: Callable, schedule: Schedule, x0: torch.Tensor, steps: int = 50, spacing="leading", *,
                timesteps=None, steps_offset: int = 0, prediction_type: str = "epsilon",
                record_every: int | None = None, callback=None, progress: Optional[bool] = None) -> Trajectory:
    """DDIM inversion: run the eta = 0 update backwards, x0 -> x_T, deterministically.

    The same timesteps as :func:`sample` would use, visited in ascending order. Going from level
    t_prev (alpha_bar = 1 for x0) up to t needs eps(x_t, t), which depends on the unknown x_t; we use
    the approximation eps(x_t, t) ~ eps(x_{t_prev}, t), i.e. evaluate the model at the *current* x and the
    *target* t. The step is :func:`ddim_step` with eta = 0 and the two alpha_bars swapped. The error
    of this approximation vanishes as steps grow (the DDIM ODE, eq. 14, is then reversible).
    """
    _check_x_T(model, x0)
    ts = resolve_timesteps(schedule, steps, timesteps if timesteps is not None else spacing, steps_offset).flip(0)
    S = len(ts)
    ab_up = schedule.alpha_bars[ts]
    ab_from = torch.cat([torch.ones(1, dtype=torch.float64), ab_up[:-1]])
    keep = [] if record_every is None else sorted(set(range(0, S, record_every)) | {S - 1})
    xs, x0s, epss = [], [], []
    it = _step_range(S, f"invert {S} steps", progress)
    x = x0
    with torch.no_grad():
        for i in it:
            t = int(ts[i])
            eps_hat = _model_eps(model, schedule, x, t, prediction_type, f"inversion step {i} of {S}")
            # x0_hat from the current level, then re-noise to level t: ddim_step with the alpha_bars swapped
            ab_cur = ab_from[i]
            x_next, x0_hat = ddim_step(x, eps_hat, ab_cur, ab_up[i], eta=0.0)
            if keep and i in keep:
                xs.append(x); x0s.append(x0_hat); epss.append(eps_hat)
            if callback is not None:
                callback(StepState(i, t, x, x_next, x0_hat, eps_hat, 0.0, None, float(ab_cur), float(ab_up[i])))
            x = x_next
    return Trajectory(final=x, timesteps=ts, alpha_bars=ab_from, alpha_bar_prevs=ab_up,
                      sigmas=torch.zeros(S, dtype=torch.float64), recorded=torch.tensor(keep, dtype=torch.long),
                      xs=torch.stack(xs) if xs else None, x0_hats=torch.stack(x0s) if x0s else None,
                      eps_hats=torch.stack(epss) if epss else None, nfe=S, info={"method": "ddim_invert"})


def slerp(z0: torch.Tensor, z1: torch.Tensor, alpha) -> torch.Tensor:
    """Spherical interpolation between two noise tensors, per batch element (Shoemake 1985).

    slerp = sin((1-a) theta)/sin(theta) z0 + sin(a theta)/sin(theta) z1, theta the angle between z0 and z1.
    Keeps the norm near sqrt(d), where Gaussian noise lives; linear interpolation shrinks it (by
    ~1/sqrt(2) at a = 0.5 for independent z0, z1). ``alpha`` a float or a 1-D tensor of weights,
    which yields a stack (len(alpha), *z0.shape).
    """
    if z0.shape != z1.shape:
        raise ValueError(f"z0 and z1 must have the same shape, got {tuple(z0.shape)} and {tuple(z1.shape)}")
    a = torch.as_tensor(alpha, dtype=torch.float64)
    if a.dim() == 1:
        return torch.stack([slerp(z0, z1, float(v)) for v in a])
    a = float(a)
    f0, f1 = z0.reshape(z0.shape[0], -1).double(), z1.reshape(z1.shape[0], -1).double()
    cos = (f0 * f1).sum(1) / (f0.norm(dim=1) * f1.norm(dim=1))
    theta = torch.arccos(cos.clamp(-1, 1))
    s = torch.sin(theta)
    small = s < 1e-6
    w0 = torch.where(small, torch.full_like(s, 1 - a), torch.sin((1 - a) * theta) / s.where(~small, torch.ones_like(s)))
    w1 = torch.where(small, torch.full_like(s, a), torch.sin(a * theta) / s.where(~small, torch.ones_like(s)))
    out = w0[:, None] * f0 + w1[:, None] * f1
    return out.reshape(z0.shape).to(z0.dtype)
