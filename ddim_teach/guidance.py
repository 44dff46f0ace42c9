"""Guidance: steering a diffusion model towards a class y, with a classifier or without one.

``alpha_bar`` is DDPM's ᾱ (the DDIM paper's α). The noise a model predicts is a scaled score (Tweedie,
notebooks 2 and 6): eps_hat(x_t) = −√(1 − ᾱ_t) ∇ log p_t(x_t). Bayes' rule for scores,

    ∇ log p_t(x | y) = ∇ log p_t(x) + ∇ log p_t(y | x),

turns a class-conditional score into an unconditional one plus a classifier's gradient. Scaling the
classifier's term is guidance; both forms below sample with the eps of the *tilted* density
p_t(x) p_t(y | x)^s ∝ p_t(x | y)^s / p_t(x)^(s − 1) at every t, which is p_t(x | y) only at s = 1. (For s > 1 the
samples do not follow the t = 0 tilt either: the tilted p_t are not the noised versions of one density; notebook 10.)

* Classifier guidance (Dhariwal & Nichol 2021: the DDIM form of §4.2 and Algorithm 2, with the gradient
  scale s of §4.3)::

      eps_tilde = eps_hat(x_t) − s √(1 − ᾱ_t) ∇_x log p_φ(y | x_t)              (:func:`classifier_guided_eps`)

* Classifier-free guidance (Ho & Salimans 2022, eq. 6), one network trained with and without labels::

      eps_tilde = (1 + w) eps_hat(x_t, y) − w eps_hat(x_t, ∅)                    (:func:`cfg_eps`)

  = eps_hat(x_t, ∅) + (1 + w)(eps_hat(x_t, y) − eps_hat(x_t, ∅)). Its implicit classifier is
  p(y | x) ∝ p(x | y)/p(x), so CFG at w is classifier guidance at s = 1 + w.

Three names for one knob: Ho & Salimans' w (w = 0: the conditional model, no guidance), Dhariwal & Nichol's
s and diffusers' ``guidance_scale``, both 1 + w (1: no guidance). :func:`guidance_scale` translates.

:class:`ClassifierFreeGuided` and :class:`ClassifierGuided` wrap a model into a model(x_t, t) that returns
eps_tilde, so every sampler of :mod:`ddim_teach.samplers` (and DDIM inversion) runs guided unchanged.
"""
from __future__ import annotations

import numbers

import torch

from . import checks
from .schedules import Schedule, check_schedule

__all__ = ["cfg_eps", "classifier_guided_eps", "guidance_scale", "w_from_guidance_scale",
           "ClassifierFreeGuided", "ClassifierGuided"]


def _check_scale(v, name: str, low: float) -> float:
    if isinstance(v, bool) or not isinstance(v, numbers.Real) or not low <= float(v) < float("inf"):
        raise ValueError(f"{name} must be a finite number of at least {low:g}, got {v!r}")
    return float(v)


def cfg_eps(eps_cond: torch.Tensor, eps_uncond: torch.Tensor, w: float) -> torch.Tensor:
    """Classifier-free guidance (Ho & Salimans 2022, eq. 6): (1 + w) eps_cond − w eps_uncond.

    w = 0 returns eps_cond (the conditional model); w > 0 moves away from eps_uncond. diffusers writes the
    same with ``guidance_scale`` = 1 + w: eps_uncond + guidance_scale (eps_cond − eps_uncond)."""
    w = _check_scale(w, "w (Ho & Salimans' guidance weight; 0 = no guidance)", 0.0)
    checks.like(eps_cond, "eps_cond", eps_uncond=eps_uncond)
    return (1 + w) * eps_cond - w * eps_uncond


def classifier_guided_eps(eps_hat: torch.Tensor, grad_log_p_y: torch.Tensor, alpha_bar_t, s: float) -> torch.Tensor:
    """Classifier guidance (Dhariwal & Nichol 2021, §4.2 with the scale s of §4.3): eps_hat − s √(1 − ᾱ_t) ∇_x log p(y | x_t).

    ``grad_log_p_y`` is the gradient of the *log* class probability at x_t; ``s`` their guidance scale
    (s = 1: eps of p_t(x | y) exactly, s = 1 + w in classifier-free terms)."""
    s = _check_scale(s, "s (Dhariwal & Nichol's guidance scale; 1 = the conditional eps)", 0.0)
    checks.like(eps_hat, "eps_hat", grad_log_p_y=grad_log_p_y)
    ab = _alpha_bar(alpha_bar_t, eps_hat)
    return eps_hat - (s * (1 - ab).sqrt()).to(eps_hat) * grad_log_p_y


def _alpha_bar(alpha_bar_t, like: torch.Tensor) -> torch.Tensor:
    """ᾱ_t as float64: one number, or one per image shaped (B, 1, ...) like ``like``; each in [0, 1]."""
    if isinstance(alpha_bar_t, bool) or not isinstance(alpha_bar_t, (numbers.Real, torch.Tensor)):
        raise TypeError(f"alpha_bar_t must be a number or a tensor (DDPM's ᾱ_t), got {type(alpha_bar_t).__name__}")
    ab = torch.as_tensor(alpha_bar_t, dtype=torch.float64)
    per_image = (like.shape[0], *[1] * (like.dim() - 1))
    if ab.dim() != 0 and tuple(ab.shape) != per_image:
        raise ValueError(f"alpha_bar_t must be one number or one per image of shape {per_image}, got {tuple(ab.shape)}")
    if not bool(((ab >= 0) & (ab <= 1)).all()):
        raise ValueError(f"alpha_bar_t must lie in [0, 1] (DDPM's ᾱ_t), got {ab.flatten()[:4].tolist()}")
    return ab


def guidance_scale(w: float) -> float:
    """diffusers' ``guidance_scale`` (and Dhariwal & Nichol's s) for Ho & Salimans' w: 1 + w."""
    return 1.0 + _check_scale(w, "w", 0.0)


def w_from_guidance_scale(scale: float) -> float:
    """Ho & Salimans' w for diffusers' ``guidance_scale``: scale − 1 (a scale below 1 is not guidance)."""
    return _check_scale(scale, "guidance_scale (1 = no guidance)", 1.0) - 1.0


class _Wrapped:
    """What a Denoiser reads from a model (prediction type, schedule, sample shape) passes through."""

    def __init__(self, model, how: str):
        if model is None or not callable(model):
            raise TypeError(f"model must be callable as {how}, got {type(model).__name__}")
        self.model = model
        self.prediction_type = getattr(model, "prediction_type", "epsilon")
        if self.prediction_type != "epsilon":
            raise ValueError(f"guidance combines eps predictions; this model predicts {self.prediction_type!r}")
        for attr in ("trained_schedule", "sample_shape"):
            if hasattr(model, attr):
                setattr(self, attr, getattr(model, attr))

class ClassifierFreeGuided(_Wrapped):
    """``ClassifierFreeGuided(model, y, w)(x_t, t)`` = (1 + w) eps(x_t, t, y) − w eps(x_t, t, ∅) (:func:`cfg_eps`).

    ``model(x, t, y)`` is a conditional eps model whose ``num_classes`` is the label "no label" (∅)
    (:class:`ddim_teach.unet.UNet` with ``num_classes`` > 0, or the mixture oracle). ``y``: one label or
    one per image. ``batched=True`` (default) runs the conditional and unconditional halves as one batch of
    2B, one network call per step, as pipelines do; ``batched=False`` makes two calls of B. Either way a
    step costs two network evaluations per image. ``w = 0`` skips the unconditional half."""

    def __init__(self, model, y, w: float, batched: bool = True):
        super().__init__(model, "model(x_t, t, y)")
        self.w = _check_scale(w, "w (Ho & Salimans' guidance weight; 0 = no guidance)", 0.0)
        batched = checks.boolean(batched, "batched")
        n = getattr(model, "num_classes", None)
        if not isinstance(n, int) or isinstance(n, bool) or n < 1:
            raise ValueError("classifier-free guidance needs a conditional model (num_classes > 0), e.g. "
                             "load_pretrained(conditional=True); this one has none")
        self.null = n
        self.y, self.batched, self.calls = y, batched, 0
        yt = checks.label_tensor(y, f"integer class labels 0..{n - 1}")
        checks.labels(yt, yt.numel() if yt.dim() == 1 else 1, n - 1)     # checked now, not at the first step

    def __call__(self, x_t: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        B = x_t.shape[0]
        y = checks.labels(self.y, B, self.null - 1, x_t.device)
        if self.w == 0:
            self.calls += 1
            return self.model(x_t, t, y)
        null = torch.full_like(y, self.null)
        if self.batched:  # one call of 2B: [conditional | unconditional]
            self.calls += 1
            eps = self.model(torch.cat([x_t, x_t]), torch.cat([t, t]), torch.cat([y, null]))
            eps_cond, eps_uncond = eps.chunk(2)
        else:
            self.calls += 2
            eps_cond, eps_uncond = self.model(x_t, t, y), self.model(x_t, t, null)
        return cfg_eps(eps_cond, eps_uncond, self.w)


class ClassifierGuided(_Wrapped):
    """``ClassifierGuided(model, log_p_y, y, s, schedule)(x_t, t)``: classifier guidance with a noise-aware
    classifier (:func:`classifier_guided_eps`).

    ``model(x, t)`` gives the unconditional eps_hat; ``log_p_y(x_t, t, y)`` the log probability of class y
    at noise level t, one number per image, differentiable in x_t (the mixture oracle's
    :meth:`~ddim_teach.oracles.GaussianMixtureOracle.log_p_y` is exact). ``schedule`` gives the guidance term's
    ᾱ_t; the wrapper declares it as its ``trained_schedule`` (as a loaded checkpoint does), so a sampler run with
    another schedule is refused instead of guiding with the wrong ᾱ_t."""

    def __init__(self, model, log_p_y, y, s: float, schedule):
        super().__init__(model, "model(x_t, t)")
        if log_p_y is None or not callable(log_p_y):
            raise TypeError(f"log_p_y must be callable as log_p_y(x_t, t, y), got {type(log_p_y).__name__}")
        check_schedule(schedule, " (the one the model was trained with)")
        trained = getattr(self, "trained_schedule", None)     # the model's own, passed through by _Wrapped
        if isinstance(trained, Schedule) and trained is not schedule and not torch.equal(trained.betas, schedule.betas):
            raise ValueError(f"schedule: the model was trained with {trained.name!r}, T = {trained.T}, the schedule "
                             f"given is {schedule.name!r}, T = {schedule.T}; give the model's schedule")
        self.log_p_y, self.y, self.schedule = log_p_y, y, schedule
        self.trained_schedule = schedule
        self.s = _check_scale(s, "s (Dhariwal & Nichol's guidance scale; 1 = the conditional eps)", 0.0)

    def __call__(self, x_t: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        y = checks.labels(self.y, x_t.shape[0], device=x_t.device)
        with torch.enable_grad():
            x = x_t.detach().requires_grad_(True)
            log_p = self.log_p_y(x, t, y)
            if not isinstance(log_p, torch.Tensor) or tuple(log_p.shape) != (x_t.shape[0],):
                got = tuple(log_p.shape) if isinstance(log_p, torch.Tensor) else type(log_p).__name__
                raise ValueError(f"log_p_y(x_t, t, y) must return one log-probability per image, shape "
                                 f"({x_t.shape[0]},), got {got} (for a classifier's logits (B, K), take "
                                 "log_softmax(logits)[range(B), y])")
            if not log_p.requires_grad:
                raise ValueError("log_p_y(x_t, t, y) must be differentiable in x_t: its output does not depend on "
                                 "x_t through autograd (no .detach(), .item() or torch.no_grad() inside it)")
            grad, = torch.autograd.grad(log_p.sum(), x)
        ab = self.schedule.alpha_bars[t.cpu()].reshape(-1, *[1] * (x_t.dim() - 1))  # one ᾱ_t per image
        ab = ab.to(x_t.device)
        return classifier_guided_eps(self.model(x_t, t), grad.detach(), ab, self.s)
