"""DDPM and DDIM sampling: one pure step function per method, one loop for all.

Notation: ``alpha_bar`` is DDPM's alpha_bar_t (the DDIM paper's alpha_t). A step
goes from timestep t to the *next entry* of the timestep list, t_prev (never
t - stride); after the last entry it goes to alpha_bar_prev = 1 (the clean image;
diffusers' ``set_alpha_to_one=True``) or, with ``final_alpha_bar="alpha_bar_0"``,
to alpha_bar_0.

DDIM step (Song et al. 2021, eq. 12)::

    x0_hat   = (x_t - sqrt(1 - ab_t) eps_hat) / sqrt(ab_t)                            (eq. 9)
    x_prev   = sqrt(ab_prev) x0_hat + sqrt(1 - ab_prev - sigma^2) eps_hat + sigma z
    sigma    = eta sqrt((1 - ab_prev) / (1 - ab_t)) sqrt(1 - ab_t / ab_prev)        (eq. 16)

DDPM ancestral step (Ho et al. 2020, eqs. 6-7), written for any pair (t, t_prev) with
beta = 1 - ab_t / ab_prev (the step's own beta; the usual beta_t when t_prev = t - 1)::

    mean     = sqrt(ab_prev) beta / (1 - ab_t) x0_hat + sqrt(1 - beta) (1 - ab_prev) / (1 - ab_t) x_t
    variance = beta_tilde = (1 - ab_prev) / (1 - ab_t) beta     ("fixed_small")
             | beta                                            ("fixed_large"; the DDIM paper's sigma_hat)

The loop. Every method is an *update* with one signature, ``update(x, denoise, step) -> (x_prev,
x0_hat, eps_hat)``: ``denoise(x, t)`` calls the model (checked, counted) and returns a
:class:`Prediction`; ``step`` is a :class:`Step` (timesteps, the two alpha_bars, the noise z). An
update may call ``denoise`` more than once (Heun does). :func:`run_loop` runs any update over a
plan of steps, draws the noise, records the :class:`Trajectory` and calls ``callback`` after every
step; :func:`sample` (DDIM, DDPM, Heun) and :func:`ddim_invert` are both thin front ends to it.
"""
from __future__ import annotations

import math
import numbers
from dataclasses import dataclass, field
from functools import partial
from typing import Callable, NamedTuple, Optional

import torch

from . import ode
from .schedules import PREDICTION_TYPES, Schedule
from .schedules import timesteps as make_timesteps

VARIANCES = ("fixed_small", "fixed_large")
METHODS = ("ddim", "ddpm", "heun")
DEFAULT_STEPS = 50
DEFAULT_SPACING = "trailing"


# --- checked scalars ------------------------------------------------------------------------------
def _alpha_bar(a, name: str, allow_zero: bool = True, allow_one: bool = True) -> torch.Tensor:
    """An alpha_bar argument: a number or 0-dim tensor becomes a float64 0-dim tensor; a tensor with
    dimensions (e.g. shape (B, 1, 1, 1), to broadcast against x) is kept as given. Values checked."""
    if isinstance(a, bool) or not isinstance(a, (numbers.Real, torch.Tensor)):
        raise TypeError(f"{name} must be a number or a tensor, got {type(a).__name__}")
    if isinstance(a, torch.Tensor) and a.dim() > 0:
        if not a.is_floating_point():
            raise TypeError(f"{name} must be a floating-point tensor, got {a.dtype}")
        vals = a if a.device.type != "meta" else None
    else:
        a = torch.as_tensor(a, dtype=torch.float64)
        v = float(a)  # the common case, a scalar: checked in Python, cheaply
        vals = None if (0 < v if not allow_zero else 0 <= v) and (v < 1 if not allow_one else v <= 1) else a
    if vals is not None:
        lo_ok = (vals >= 0) if allow_zero else (vals > 0)
        hi_ok = (vals <= 1) if allow_one else (vals < 1)
        if not bool((lo_ok & hi_ok).all()):
            lo, hi = "[0" if allow_zero else "(0", "1]" if allow_one else "1)"
            shown = float(vals) if vals.dim() == 0 else vals.flatten()[:6].tolist()
            why = ""
            if not allow_zero and bool((vals == 0).any()):
                why = (" (alpha_bar = 0 is pure noise, zero terminal SNR: x0_hat cannot be recovered from eps_hat "
                       "there; use a v- or x0-predicting model, prediction_type='v_prediction' or 'sample')")
            raise ValueError(f"{name} must lie in {lo}, {hi}, got {shown}{why}")
    return a


def _scalar(a, name: str, allow_zero: bool = True, allow_one: bool = True) -> torch.Tensor:
    a = _alpha_bar(a, name, allow_zero, allow_one)
    if a.dim() != 0:
        raise ValueError(f"{name} must be a scalar, got shape {tuple(a.shape)}")
    return a


def _check_like(x_t, **others) -> None:
    """x_t is a floating-point tensor; every other given tensor has its shape (no silent broadcasting)."""
    if not isinstance(x_t, torch.Tensor) or not x_t.is_floating_point():
        got = x_t.dtype if isinstance(x_t, torch.Tensor) else type(x_t).__name__
        raise TypeError(f"x_t must be a floating-point tensor, got {got}")
    for name, v in others.items():
        if v is None:
            continue
        if not isinstance(v, torch.Tensor):
            raise TypeError(f"{name} must be a tensor shaped like x_t, got {type(v).__name__}")
        if v.shape != x_t.shape:
            raise ValueError(f"{name} has shape {tuple(v.shape)}, x_t has {tuple(x_t.shape)}; they must match")


def _check_eta(eta) -> float:
    if isinstance(eta, torch.Tensor) and eta.dim() == 0 and eta.is_floating_point():
        eta = float(eta)
    if isinstance(eta, bool) or not isinstance(eta, numbers.Real) or math.isnan(eta) or not 0.0 <= eta <= 1.0:
        raise ValueError(f"eta must be a number in [0, 1] (0 = deterministic DDIM, 1 = DDPM-like), got {eta!r}")
    return float(eta)


# --- the parameterisations: one source for x0 <-> eps ---------------------------------------------
def predict_x0(x_t, eps_hat, alpha_bar_t) -> torch.Tensor:
    """x0_hat = (x_t - sqrt(1 - ab_t) eps_hat) / sqrt(ab_t)  (DDIM eq. 9, "predicted x0").

    ``alpha_bar_t``: a scalar, or a tensor that broadcasts against x_t (one value per sample). It must
    be > 0: at alpha_bar = 0 (zero terminal SNR) eps_hat carries no information about x0.
    """
    _check_like(x_t, eps_hat=eps_hat)
    ab = _alpha_bar(alpha_bar_t, "alpha_bar_t", allow_zero=False)
    return (x_t - (1 - ab).sqrt() * eps_hat) / ab.sqrt()


def eps_from_x0(x_t, x0_hat, alpha_bar_t) -> torch.Tensor:
    """eps_hat = (x_t - sqrt(ab_t) x0_hat) / sqrt(1 - ab_t): eq. 9 solved for eps (``alpha_bar_t`` < 1)."""
    _check_like(x_t, x0_hat=x0_hat)
    ab = _alpha_bar(alpha_bar_t, "alpha_bar_t", allow_one=False)
    return (x_t - ab.sqrt() * x0_hat) / (1 - ab).sqrt()


def ddim_sigma(alpha_bar_t, alpha_bar_prev, eta: float = 0.0) -> torch.Tensor:
    """sigma_t(eta) = eta sqrt((1 - ab_prev)/(1 - ab_t)) sqrt(1 - ab_t/ab_prev)  (DDIM eq. 16). A float64 scalar."""
    eta = _check_eta(eta)
    ab, abp = _scalar(alpha_bar_t, "alpha_bar_t"), _scalar(alpha_bar_prev, "alpha_bar_prev")
    if eta == 0.0:  # also valid for an upward (inversion) step, ab_prev < ab_t
        return torch.zeros((), dtype=torch.float64)
    if ab > abp:
        raise ValueError(f"alpha_bar_prev ({float(abp)}) must be >= alpha_bar_t ({float(ab)}) when eta > 0: "
                         "a stochastic step goes toward less noise")
    if ab == abp:  # a step of length zero adds no noise (and 0/0 is avoided at ab = 1 or ab_prev = 0)
        return torch.zeros((), dtype=torch.float64)
    return eta * ((1 - abp) / (1 - ab)).sqrt() * (1 - ab / abp).sqrt()


def ddpm_variance(alpha_bar_t, alpha_bar_prev, variance: str = "fixed_small") -> torch.Tensor:
    """Variance of a DDPM ancestral step: beta_tilde (``fixed_small``) or beta (``fixed_large``), float64."""
    if variance not in VARIANCES:
        raise ValueError(f"variance must be one of {VARIANCES}, got {variance!r}")
    ab, abp = _scalar(alpha_bar_t, "alpha_bar_t", allow_one=False), _scalar(alpha_bar_prev, "alpha_bar_prev")
    if ab > abp:
        raise ValueError(f"alpha_bar_prev ({float(abp)}) must be >= alpha_bar_t ({float(ab)}): "
                         "a DDPM step goes toward less noise")
    if ab == abp:
        return torch.zeros((), dtype=torch.float64)
    beta = 1 - ab / abp
    if variance == "fixed_small":
        return (1 - abp) / (1 - ab) * beta
    return beta


def _maybe_clip(x_t, eps_hat, x0_hat, ab, clip_sample, use_clipped_model_output):
    if use_clipped_model_output and not clip_sample:
        raise ValueError("use_clipped_model_output=True re-derives eps_hat from the clipped x0_hat; "
                         "it needs clip_sample=True")
    if clip_sample:
        x0_hat = x0_hat.clamp(-1, 1)
        if use_clipped_model_output:  # re-derive eps_hat so that x0_hat and eps_hat agree again
            eps_hat = eps_from_x0(x_t, x0_hat, ab)
    return eps_hat, x0_hat


def ddim_step(x_t, eps_hat, alpha_bar_t, alpha_bar_prev, eta: float = 0.0, noise=None, *,
              clip_sample: bool = False, use_clipped_model_output: bool = False, x0_hat=None):
    """One DDIM step (eq. 12) from x_t to x_prev. Returns ``(x_prev, x0_hat)``.

    ``noise`` is the standard normal z; None adds none (the loop passes None wherever sigma = 0).
    With ``clip_sample`` x0_hat is clamped to [-1, 1]; ``use_clipped_model_output`` then re-derives
    eps_hat from the clamped x0_hat for the "direction pointing to x_t" term (diffusers' names).
    ``x0_hat``, when given, is used instead of eq. 9: a v- or x0-predicting model gives it directly,
    which is the only way at alpha_bar_t = 0 (zero terminal SNR).
    """
    _check_like(x_t, eps_hat=eps_hat, noise=noise, x0_hat=x0_hat)
    ab, abp = _scalar(alpha_bar_t, "alpha_bar_t"), _scalar(alpha_bar_prev, "alpha_bar_prev")
    sigma = ddim_sigma(ab, abp, eta)
    x0_hat = predict_x0(x_t, eps_hat, ab) if x0_hat is None else x0_hat
    eps_hat, x0_hat = _maybe_clip(x_t, eps_hat, x0_hat, ab, clip_sample, use_clipped_model_output)
    direction = (1 - abp - sigma ** 2).clamp(min=0).sqrt() * eps_hat
    x_prev = abp.sqrt() * x0_hat + direction
    if noise is not None and sigma > 0:
        x_prev = x_prev + sigma * noise
    return x_prev, x0_hat


def ddpm_step(x_t, eps_hat, alpha_bar_t, alpha_bar_prev, variance: str = "fixed_small", noise=None, *,
              clip_sample: bool = False, use_clipped_model_output: bool = False, x0_hat=None):
    """One DDPM ancestral step (eqs. 6-7, for any t -> t_prev). Returns ``(x_prev, x0_hat)``.

    Posterior mean from x0_hat and x_t, plus sqrt(variance) * noise; None adds no noise
    (the loop passes None at the last step, as DDPM does). ``x0_hat`` as in :func:`ddim_step`.
    """
    _check_like(x_t, eps_hat=eps_hat, noise=noise, x0_hat=x0_hat)
    ab, abp = _scalar(alpha_bar_t, "alpha_bar_t", allow_one=False), _scalar(alpha_bar_prev, "alpha_bar_prev")
    var = ddpm_variance(ab, abp, variance)
    beta = 1 - ab / abp
    x0_hat = predict_x0(x_t, eps_hat, ab) if x0_hat is None else x0_hat
    eps_hat, x0_hat = _maybe_clip(x_t, eps_hat, x0_hat, ab, clip_sample, use_clipped_model_output)
    mean = (abp.sqrt() * beta / (1 - ab)) * x0_hat + ((1 - beta).sqrt() * (1 - abp) / (1 - ab)) * x_t
    if noise is not None and var > 0:
        mean = mean + var.sqrt() * noise
    return mean, x0_hat


# --- what the loop records and shows ------------------------------------------------------------------
@dataclass(eq=False)
class Trajectory:
    """Everything a sampling run did, stacked along a leading step axis (noisiest first).

    ``xs[i]`` is x_t entering step i at ``timesteps[i]``; ``x0_hats[i]``, ``eps_hats[i]`` the
    predictions there; ``sigmas[i]`` the std of the noise added (sqrt of the variance);
    ``noises[i]`` the z drawn (zeros where none; None when no step drew any);
    ``alpha_bars`` / ``alpha_bar_prevs`` the two schedule values each step used.
    With ``record_every = k`` only every k-th step (and the last) is kept; ``recorded``
    says which step indices are. ``final`` is the sample. (``==`` compares identity, as for tensors
    it would be ambiguous; compare fields with ``torch.equal``.)
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


@dataclass(eq=False)
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


class Prediction(NamedTuple):
    """What ``denoise(x, t)`` returns: eps_hat, and x0_hat when the model gave it without going through
    eps (``prediction_type`` 'v_prediction' or 'sample'); None for an eps-predicting model."""
    eps_hat: torch.Tensor
    x0_hat: Optional[torch.Tensor]


class Step(NamedTuple):
    """The input of one update: step ``i`` calls the model at timestep ``t`` (``t_next`` is the next
    step's timestep, None at the last step), moves x from level ``alpha_bar_t`` to ``alpha_bar_prev``
    (float64 scalars; in inversion the second is the noisier one) and adds ``sigma * noise``."""
    i: int
    t: int
    t_next: Optional[int]
    alpha_bar_t: torch.Tensor
    alpha_bar_prev: torch.Tensor
    noise: Optional[torch.Tensor]


# --- the updates: one short function per method ----------------------------------------------------
def ddim_update(x, denoise, step: Step, *, eta: float = 0.0, clip_sample: bool = False,
                use_clipped_model_output: bool = False, step_fn: Optional[Callable] = None):
    """DDIM: one model call, then :func:`ddim_step` (or ``step_fn``: the pitfalls clinic). The step is called as
    ``(x_t, eps_hat, alpha_bar_t, alpha_bar_prev, eta, noise)``; the keyword arguments ``clip_sample``,
    ``use_clipped_model_output`` and ``x0_hat`` are added only when in use, so a ``step_fn`` with just those
    six parameters works."""
    eps_hat, x0_direct = denoise(x, step.t)
    kw = dict(clip_sample=True, use_clipped_model_output=use_clipped_model_output) if clip_sample else {}
    if x0_direct is not None:
        kw["x0_hat"] = x0_direct
    x_prev, x0_hat = (step_fn or ddim_step)(x, eps_hat, step.alpha_bar_t, step.alpha_bar_prev, eta, step.noise, **kw)
    return x_prev, x0_hat, eps_hat


def ddpm_update(x, denoise, step: Step, *, variance: str = "fixed_small", clip_sample: bool = False,
                use_clipped_model_output: bool = False):
    """DDPM: one model call, then :func:`ddpm_step`."""
    eps_hat, x0_direct = denoise(x, step.t)
    x_prev, x0_hat = ddpm_step(x, eps_hat, step.alpha_bar_t, step.alpha_bar_prev, variance, step.noise,
                               clip_sample=clip_sample, use_clipped_model_output=use_clipped_model_output,
                               x0_hat=x0_direct)
    return x_prev, x0_hat, eps_hat


def heun_update(x, denoise, step: Step):
    """Heun on the probability-flow ODE (:mod:`ddim_teach.ode`): the Euler point (= DDIM eta = 0), a second
    model call there at t_next, then the trapezoid. The last step (to alpha_bar = 1) stays an Euler step."""
    eps_hat, x0_direct = denoise(x, step.t)
    x0_hat = predict_x0(x, eps_hat, step.alpha_bar_t) if x0_direct is None else x0_direct
    x_prev = ode.euler_step(x, eps_hat, step.alpha_bar_t, step.alpha_bar_prev)
    if step.t_next is not None:
        eps_euler = denoise(x_prev, step.t_next).eps_hat
        x_prev = ode.heun_step(x, eps_hat, step.alpha_bar_t, step.alpha_bar_prev, eps_euler)
    return x_prev, x0_hat, eps_hat


def ddim_invert_update(x, denoise, step: Step):
    """One inversion step, from level ``alpha_bar_t`` up to the noisier ``alpha_bar_prev`` at timestep t.

    It needs eps(x_t, t), which depends on the unknown x_t; we use eps(x_t, t) ~ eps(x_{t_prev}, t): the
    model sees the *current* x at the *target* t. The step is :func:`ddim_step` with eta = 0 and the two
    alpha_bars swapped (x0_hat from the current level, re-noised to the target level).
    """
    eps_hat = denoise(x, step.t).eps_hat
    x_next, x0_hat = ddim_step(x, eps_hat, step.alpha_bar_t, step.alpha_bar_prev, eta=0.0)
    return x_next, x0_hat, eps_hat


# --- model calls, checked ----------------------------------------------------------------------------
def _all_finite(x: torch.Tensor) -> bool:
    return x.device.type == "meta" or bool(torch.isfinite(x).all())  # a meta tensor has no values to check


def call_model(model: Callable, x: torch.Tensor, t: int, where: str = "", check: bool = True) -> torch.Tensor:
    """``model(x, t)`` with t an integer timestep, given as a LongTensor of shape (B,) on x's device.

    Accepts a plain tensor or a diffusers-style output object with a tensor ``.sample`` (e.g.
    ``UNet2DModel``'s ``UNet2DOutput``); anything else (a tuple, None, a numpy array) is a clear error.
    With ``check`` the output must have x's shape and device and be finite (``where`` names the call).
    """
    out = model(x, torch.full((x.shape[0],), int(t), dtype=torch.long, device=x.device))
    at = f" at {where} (t={t})" if where else f" (t={t})"
    if not isinstance(out, torch.Tensor) and isinstance(getattr(out, "sample", None), torch.Tensor):
        out = out.sample  # diffusers' BaseOutput
    if not isinstance(out, torch.Tensor):
        hint = {"NoneType": " (did its forward forget `return`?)",
                "tuple": " (diffusers models with return_dict=False return a tuple: return out[0] instead)",
                "ndarray": " (convert with torch.from_numpy)"}.get(type(out).__name__, "")
        raise TypeError(f"model(x, t) must return a torch.Tensor shaped like x (or an object with a tensor "
                        f".sample), got {type(out).__name__}{at}{hint}")
    if check:
        if out.shape != x.shape:
            raise ValueError(f"model output has shape {tuple(out.shape)}, expected {tuple(x.shape)}{at}")
        if out.device != x.device:
            raise ValueError(f"model output is on {out.device}, x is on {x.device}{at}")
        if not _all_finite(out):
            if not _all_finite(x):
                raise ValueError(f"x fed to the model{at} already contains NaN or inf: an earlier step made it")
            raise ValueError(f"model returned NaN or inf{at}")
    return out


def draw_noise(x: torch.Tensor, generator: Optional[torch.Generator] = None) -> torch.Tensor:
    """A standard normal z shaped like x, drawn on the generator's device (the CPU by default) and moved to
    x's device: a seed gives the same numbers whether the model runs on the CPU or a GPU."""
    device = generator.device if generator is not None else torch.device("cpu")
    return torch.randn(x.shape, generator=generator, dtype=x.dtype, device=device).to(x.device)


def _check_x_T(model, x_T, name: str = "x_T"):
    if not callable(model):
        raise TypeError(f"model must be callable as model(x_t, t), got {type(model).__name__}")
    if not isinstance(x_T, torch.Tensor) or not x_T.is_floating_point():
        got = x_T.dtype if isinstance(x_T, torch.Tensor) else type(x_T).__name__
        raise ValueError(f"{name} must be a floating-point tensor (float32 or float64), got {got}")
    if x_T.dim() < 2 or x_T.shape[0] == 0:
        raise ValueError(f"{name} must have a non-empty batch dimension, shape (B, ...); got {tuple(x_T.shape)}")
    want = getattr(model, "sample_shape", None)
    if want is not None and tuple(x_T.shape[1:]) != tuple(want):
        raise ValueError(f"{name} has shape {tuple(x_T.shape)}; this model expects (B, {', '.join(map(str, want))})")
    if not _all_finite(x_T):
        raise ValueError(f"{name} contains NaN or inf; start from finite values (e.g. torch.randn)")
    if isinstance(model, torch.nn.Module):
        p = next((p for p in model.parameters() if p.is_floating_point()), None)
        if p is not None and p.dtype != x_T.dtype:
            raise ValueError(f"{name} is {x_T.dtype} but the model's weights are {p.dtype}; "
                             f"pass {name}.to({p.dtype}) (or convert the model)")
        if p is not None and p.device != x_T.device:
            raise ValueError(f"{name} is on {x_T.device} but the model is on {p.device}; "
                             f"pass {name}.to('{p.device}')")


def _step_range(S: int, desc: str, progress: Optional[bool]):
    """range(S), wrapped in a tqdm bar when ``progress`` is True, or when None and S > 50."""
    if progress if progress is not None else S > 50:
        from tqdm.auto import tqdm
        return tqdm(range(S), desc=desc, leave=False)
    return range(S)


def resolve_timesteps(schedule: Schedule, steps=None, spacing=None, steps_offset=0) -> torch.Tensor:
    """The descending timestep list a run will use: from ``spacing`` (default 'trailing') and ``steps``
    (default 50), or from an explicit list passed as ``spacing``."""
    if spacing is not None and not isinstance(spacing, str):
        if steps is not None:
            raise ValueError("give either steps (with a spacing name) or an explicit timestep list, not both")
        return make_timesteps(schedule.T, None, spacing)
    steps = DEFAULT_STEPS if steps is None else steps
    spacing = DEFAULT_SPACING if spacing is None else spacing
    ts = make_timesteps(schedule.T, steps, spacing, steps_offset)
    if len(ts) == 1 and int(ts[0]) < schedule.T - 1:
        raise ValueError(f"steps=1 with {spacing!r} spacing runs only t={int(ts[0])} (alpha_bar "
                         f"{float(schedule.alpha_bars[ts[0]]):.4f}, almost no noise), so the result is x_T "
                         f"nearly unchanged; use spacing='trailing', which starts at t={schedule.T - 1}")
    return ts


# --- the loop ----------------------------------------------------------------------------------------
def run_loop(model: Callable, schedule: Schedule, x: torch.Tensor, update: Callable, timesteps: torch.Tensor,
             alpha_bars: torch.Tensor, alpha_bar_prevs: torch.Tensor, sigmas: torch.Tensor, *,
             prediction_type: str = "epsilon", generator: Optional[torch.Generator] = None,
             noises: Optional[torch.Tensor] = None, record_every: int | None = 1,
             callback: Optional[Callable[[StepState], None]] = None, progress: Optional[bool] = None,
             desc: str = "", where: str = "step", info: Optional[dict] = None) -> Trajectory:
    """Run ``update`` over the steps: step i calls the model at ``timesteps[i]`` and moves x from level
    ``alpha_bars[i]`` to ``alpha_bar_prevs[i]``; where ``sigmas[i] > 0`` it takes the noise z from
    ``noises[i]`` or draws it with :func:`draw_noise`. Records every ``record_every``-th step (and the
    last; None: none) and calls ``callback(StepState)`` after every step."""
    S = len(timesteps)
    keep = set() if record_every is None else set(range(0, S, record_every)) | {S - 1}
    rec = {k: [] for k in ("xs", "x0_hats", "eps_hats", "noises")}
    drew_noise = False
    nfe = 0
    for i in _step_range(S, desc, progress):
        t = int(timesteps[i])

        def denoise(x_in, t_in, _i=i):
            nonlocal nfe
            nfe += 1
            out = call_model(model, x_in, t_in, f"{where} {_i} of {S}")
            eps_hat = schedule.to_eps(out, x_in, t_in, prediction_type)
            x0_hat = None if prediction_type == "epsilon" else schedule.to_x0(out, x_in, t_in, prediction_type)
            return Prediction(eps_hat, x0_hat)

        z = None
        if sigmas[i] > 0:
            z = noises[i].to(x.device) if noises is not None else draw_noise(x, generator)
            drew_noise = True
        step = Step(i, t, int(timesteps[i + 1]) if i + 1 < S else None, alpha_bars[i], alpha_bar_prevs[i], z)
        with torch.no_grad():
            x_prev, x0_hat, eps_hat = update(x, denoise, step)
        if i in keep:
            rec["xs"].append(x)
            rec["x0_hats"].append(x0_hat)
            rec["eps_hats"].append(eps_hat)
            rec["noises"].append(z if z is not None else torch.zeros_like(x))
        if callback is not None:
            callback(StepState(i, t, x, x_prev, x0_hat, eps_hat, float(sigmas[i]), z,
                               float(alpha_bars[i]), float(alpha_bar_prevs[i])))
        x = x_prev
    stack = {k: torch.stack(v) if v else None for k, v in rec.items()}
    if not drew_noise:
        stack["noises"] = None
    return Trajectory(final=x, timesteps=timesteps, alpha_bars=alpha_bars, alpha_bar_prevs=alpha_bar_prevs,
                      sigmas=sigmas, recorded=torch.tensor(sorted(keep), dtype=torch.long), nfe=nfe,
                      info=dict(info or {}), **stack)


def _check_common(model, schedule, x_T, prediction_type, record_every, callback, name="x_T"):
    if not isinstance(schedule, Schedule):
        raise TypeError(f"schedule must be a ddim_teach Schedule (schedules.make_schedule(...)), "
                        f"got {type(schedule).__name__}")
    if prediction_type not in PREDICTION_TYPES:
        raise ValueError(f"unknown prediction_type {prediction_type!r}; choose one of {', '.join(PREDICTION_TYPES)}")
    if record_every is not None and (isinstance(record_every, bool) or not isinstance(record_every, int)
                                     or record_every < 1):
        raise ValueError(f"record_every must be a positive integer or None, got {record_every!r}")
    if callback is not None and not callable(callback):
        raise TypeError(f"callback must be callable as callback(StepState), got {type(callback).__name__}")
    _check_x_T(model, x_T, name)


def _resolve(schedule, steps, spacing, timesteps, steps_offset):
    if timesteps is not None:
        if steps is not None or spacing is not None:
            raise ValueError("timesteps (an explicit list) replaces steps and spacing; pass one or the other")
        if isinstance(timesteps, str):
            raise ValueError(f"timesteps must be a list of integers; for a spacing name use spacing={timesteps!r}")
        return resolve_timesteps(schedule, None, timesteps, steps_offset)
    return resolve_timesteps(schedule, steps, spacing, steps_offset)


def sample(model: Callable, schedule: Schedule, x_T: torch.Tensor, steps: int | None = None,
           eta: float | str | None = None, spacing: str | None = None, *, method: str | None = None,
           variance: str | None = None, timesteps=None, steps_offset: int = 0, final_alpha_bar: str = "one",
           prediction_type: str = "epsilon", clip_sample: bool = False, use_clipped_model_output: bool = False,
           generator: Optional[torch.Generator] = None, noises: Optional[torch.Tensor] = None,
           record_every: int | None = 1, callback: Optional[Callable[[StepState], None]] = None,
           progress: Optional[bool] = None, step_fn: Optional[Callable] = None) -> Trajectory:
    """Run DDIM, DDPM or Heun from x_T; return the :class:`Trajectory`.

    * ``steps`` (default 50) and ``spacing`` (default ``"trailing"``, which starts at t = T - 1; see
      :func:`ddim_teach.schedules.timesteps`) give the timesteps; ``timesteps`` (a descending list of
      integers) replaces both. ``steps=1`` with a spacing that does not start at T - 1 is refused.
    * ``method="ddim"`` (the default) uses :func:`ddim_step` with ``eta`` in [0, 1] (default 0).
    * ``method="ddpm"`` uses :func:`ddpm_step` with ``variance``: ``"fixed_small"`` (beta_tilde, the
      default) or ``"fixed_large"`` (beta: the DDIM paper's sigma_hat row, Table 1). It takes no ``eta``.
      On all T steps, DDIM with eta = 1 and DDPM ``fixed_small`` are the same update.
    * ``eta="sigma_hat"`` is an alias, kept for the DDIM paper's Table 1: exactly ``method="ddpm",
      variance="fixed_large"`` (``info`` records both); it cannot be combined with another method or variance.
    * ``method="heun"``: the probability-flow ODE (see :mod:`ddim_teach.ode`) with Heun's method, a
      second model call per step at the Euler point (= the DDIM eta=0 step); the last step, to
      alpha_bar = 1, is a plain Euler step. ``eta`` must be 0 or left out; ``nfe`` is 2S - 1.
    * ``prediction_type``: what the model returns, ``"epsilon"``, ``"v_prediction"`` or ``"sample"``
      (x0). v and x0 are converted to x0_hat directly (not through eps), so a zero-terminal-SNR
      schedule (alpha_bar = 0 at t = T - 1) works with them; with ``"epsilon"`` it is refused.
    * The model is called as ``model(x, t)`` with t a LongTensor (B,) on x's device; it returns a tensor
      shaped like x, or an object with a tensor ``.sample`` (diffusers' output). ``x_T`` must match a
      ``torch.nn.Module`` model's dtype and device, and be finite.
    * Noise: where a step needs noise (sigma > 0) it takes ``noises[i]`` if given (moved to x_T's
      device), else draws ``torch.randn`` from ``generator`` on the generator's device (default the CPU)
      and moves it to x_T's device, so a seed gives the same z on every device. Steps with sigma = 0
      draw nothing, so eta = 0 draws no random numbers, and DDPM and DDIM(eta=1) runs with the same
      generator seed see the same z. Giving both ``noises`` and ``generator`` is refused.
    * ``step_fn`` replaces :func:`ddim_step` (same signature and return) in ``method="ddim"``: the
      pitfalls clinic (:mod:`ddim_teach.pitfalls`) plugs its broken updates in here.
    * ``callback(StepState)`` is called after every step; ``record_every=k`` keeps every k-th step,
      ``None`` keeps only the final sample. ``progress`` shows a tqdm bar (default: when > 50 steps).

    Arguments that a method would ignore (``eta`` with DDPM, ``variance`` without it, ``step_fn``
    outside DDIM, ``use_clipped_model_output`` without ``clip_sample``) are errors, never ignored.
    """
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
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    if method == "ddpm":
        if eta is not None:
            raise ValueError(f"method='ddpm' takes no eta (its noise is set by variance='fixed_small' or "
                             f"'fixed_large'), got eta={eta!r}; for DDIM's eta use method='ddim'")
        variance = "fixed_small" if variance is None else variance
        if variance not in VARIANCES:
            raise ValueError(f"variance must be one of {VARIANCES}, got {variance!r}")
    elif variance is not None:
        raise ValueError(f"variance={variance!r} applies only to method='ddpm' (got method={method!r}); "
                         "DDIM's noise is set by eta")
    if method != "ddpm":
        eta = _check_eta(0.0 if eta is None else eta)
    if step_fn is not None and method != "ddim":
        raise ValueError(f"step_fn replaces ddim_step, so it needs method='ddim', got {method!r}")
    if step_fn is not None and not callable(step_fn):
        raise TypeError(f"step_fn must be callable with ddim_step's signature, got {type(step_fn).__name__}")
    if method == "heun" and eta != 0:
        raise ValueError(f"method='heun' integrates the deterministic ODE, so eta must be 0, got {eta}")
    if method == "heun" and (clip_sample or use_clipped_model_output):
        raise ValueError("method='heun' integrates the ODE as is; clip_sample is allowed only with 'ddim' or 'ddpm'")
    if use_clipped_model_output and not clip_sample:
        raise ValueError("use_clipped_model_output=True re-derives eps_hat from the clipped x0_hat; "
                         "it needs clip_sample=True")
    if final_alpha_bar not in ("one", "alpha_bar_0"):
        raise ValueError(f"final_alpha_bar must be 'one' or 'alpha_bar_0', got {final_alpha_bar!r}")
    _check_common(model, schedule, x_T, prediction_type, record_every, callback)
    if generator is not None and not isinstance(generator, torch.Generator):
        raise TypeError(f"generator must be a torch.Generator, got {type(generator).__name__}")
    if noises is not None and generator is not None:
        raise ValueError("give noises (the z of every step) or a generator to draw them, not both")
    ts = _resolve(schedule, steps, spacing, timesteps, steps_offset)
    S = len(ts)
    ab_all = schedule.alpha_bars
    ab_final = torch.tensor(1.0, dtype=torch.float64) if final_alpha_bar == "one" else ab_all[0]
    abs_t = ab_all[ts]
    abs_prev = torch.cat([ab_all[ts[1:]], ab_final.reshape(1)])
    if bool((abs_t == 0).any()):
        t0 = int(ts[abs_t == 0][0])
        if method == "heun":
            raise ValueError(f"alpha_bar is 0 at t={t0} (zero terminal SNR), where the ODE's sigma is infinite; "
                             "use method='ddim' or 'ddpm'")
        if prediction_type == "epsilon":
            raise ValueError(f"alpha_bar is 0 at t={t0} (a zero-terminal-SNR schedule): x_t there is pure noise, so "
                             "x0_hat cannot be recovered from eps_hat. Use a v- or x0-predicting model "
                             "(prediction_type='v_prediction' or 'sample'), or timesteps that skip t="
                             f"{t0} (e.g. spacing='leading')")
    if method in ("ddim", "heun"):
        sigmas = torch.stack([ddim_sigma(a, b, eta) for a, b in zip(abs_t, abs_prev)])
    else:
        sigmas = torch.stack([ddpm_variance(a, b, variance).sqrt() for a, b in zip(abs_t, abs_prev)])
        sigmas[-1] = 0.0  # DDPM adds no noise at the last step
    if noises is not None:
        if not isinstance(noises, torch.Tensor) or tuple(noises.shape) != (S, *x_T.shape):
            got = tuple(noises.shape) if isinstance(noises, torch.Tensor) else type(noises).__name__
            raise ValueError(f"noises must be a tensor of shape {(S, *x_T.shape)} (steps, *x_T.shape), got {got}")
        if noises.dtype != x_T.dtype:
            raise ValueError(f"noises must have x_T's dtype {x_T.dtype}, got {noises.dtype}")
        if not bool((sigmas > 0).any()):
            raise ValueError("noises were given, but no step of this run adds noise (eta = 0 or a deterministic "
                             "method); leave noises out")
        if not _all_finite(noises):
            raise ValueError("noises contain NaN or inf")
    kw = dict(clip_sample=clip_sample, use_clipped_model_output=use_clipped_model_output)
    if method == "ddim":
        update = partial(ddim_update, eta=eta, step_fn=step_fn, **kw)
    elif method == "ddpm":
        update = partial(ddpm_update, variance=variance, **kw)
    else:
        update = heun_update
    info = {"method": method, "eta": eta if method != "ddpm" else None,
            "variance": variance if method == "ddpm" else None,
            "spacing": (DEFAULT_SPACING if spacing is None else spacing) if timesteps is None else "custom"}
    if alias:
        info["alias"] = alias
    return run_loop(model, schedule, x_T, update, ts, abs_t, abs_prev, sigmas, prediction_type=prediction_type,
                    generator=generator, noises=noises, record_every=record_every, callback=callback,
                    progress=progress, desc=f"{method} {S} steps", info=info)


def ddim_invert(model: Callable, schedule: Schedule, x0: torch.Tensor, steps: int | None = None,
                spacing: str | None = None, *, timesteps=None, steps_offset: int = 0,
                prediction_type: str = "epsilon", record_every: int | None = None, callback=None,
                progress: Optional[bool] = None) -> Trajectory:
    """DDIM inversion: run the eta = 0 update backwards, x0 -> x_T, deterministically.

    The same timesteps as :func:`sample` would use (default: 50 steps, ``"trailing"``), visited in
    ascending order, through the same loop (:func:`run_loop`) with :func:`ddim_invert_update` as the
    step. The error of its approximation, eps(x_t, t) ~ eps(x_{t_prev}, t), vanishes as steps grow (the
    DDIM ODE, eq. 14, is then reversible). ``alpha_bars[i]`` is the level step i starts from (1 for x0),
    ``alpha_bar_prevs[i]`` the level it reaches.
    """
    _check_common(model, schedule, x0, prediction_type, record_every, callback, name="x0")
    ts = _resolve(schedule, steps, spacing, timesteps, steps_offset).flip(0)
    S = len(ts)
    ab_up = schedule.alpha_bars[ts]
    ab_from = torch.cat([torch.ones(1, dtype=torch.float64), ab_up[:-1]])
    return run_loop(model, schedule, x0, ddim_invert_update, ts, ab_from, ab_up, torch.zeros(S, dtype=torch.float64),
                    prediction_type=prediction_type, record_every=record_every, callback=callback,
                    progress=progress, desc=f"invert {S} steps", where="inversion step",
                    info={"method": "ddim_invert"})


def slerp(z0: torch.Tensor, z1: torch.Tensor, alpha) -> torch.Tensor:
    """Spherical interpolation between two noise tensors, per batch element (Shoemake 1985).

    slerp = sin((1-a) theta)/sin(theta) z0 + sin(a theta)/sin(theta) z1, theta the angle between z0 and z1.
    Keeps the norm near sqrt(d), where Gaussian noise lives; linear interpolation shrinks it (by
    ~1/sqrt(2) at a = 0.5 for independent z0, z1). ``alpha`` a float or a 1-D tensor of weights,
    which yields a stack (len(alpha), *z0.shape).
    """
    if not isinstance(z0, torch.Tensor) or not isinstance(z1, torch.Tensor):
        raise TypeError(f"z0 and z1 must be tensors, got {type(z0).__name__} and {type(z1).__name__}")
    if z0.shape != z1.shape:
        raise ValueError(f"z0 and z1 must have the same shape, got {tuple(z0.shape)} and {tuple(z1.shape)}")
    if z0.dim() < 2 or not z0.is_floating_point():
        raise ValueError(f"z0 and z1 must be floating-point batches of shape (B, ...), "
                         f"got {tuple(z0.shape)}, {z0.dtype}")
    a = torch.as_tensor(alpha, dtype=torch.float64)
    if a.dim() > 1:
        raise ValueError(f"alpha must be a number or a 1-D tensor of weights, got shape {tuple(a.shape)}")
    if a.dim() == 1:
        return torch.stack([slerp(z0, z1, float(v)) for v in a])
    a = float(a)
    if not math.isfinite(a):
        raise ValueError(f"alpha must be finite, got {a}")
    f0, f1 = z0.reshape(z0.shape[0], -1).double(), z1.reshape(z1.shape[0], -1).double()
    n0, n1 = f0.norm(dim=1), f1.norm(dim=1)
    if bool(((n0 == 0) | (n1 == 0)).any()):
        raise ValueError("slerp needs nonzero z0 and z1: the angle to a zero vector is undefined")
    cos = (f0 * f1).sum(1) / (n0 * n1)
    theta = torch.arccos(cos.clamp(-1, 1))
    s = torch.sin(theta)
    small = s < 1e-6
    w0 = torch.where(small, torch.full_like(s, 1 - a), torch.sin((1 - a) * theta) / s.where(~small, torch.ones_like(s)))
    w1 = torch.where(small, torch.full_like(s, a), torch.sin(a * theta) / s.where(~small, torch.ones_like(s)))
    out = w0[:, None] * f0 + w1[:, None] * f1
    return out.reshape(z0.shape).to(z0.dtype)
