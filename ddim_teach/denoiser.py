"""A denoiser wraps a model: ``denoiser(x_t, t)`` returns both eps_hat and x0_hat.

A sampler needs eps_hat (the "direction pointing to x_t" of DDIM eq. 12) and x0_hat (the "predicted x0",
eq. 9). What a network outputs is one of three things, its ``prediction_type`` (diffusers' word):

* ``"epsilon"``: eps_hat; then x0_hat = (x_t - sqrt(1 - ᾱ_t) eps_hat) / sqrt(ᾱ_t)  (eq. 9);
* ``"v_prediction"``: v = sqrt(ᾱ_t) eps - sqrt(1 - ᾱ_t) x0 (Salimans & Ho 2022); both follow from v;
* ``"sample"``: x0_hat itself; then eps_hat = (x_t - sqrt(ᾱ_t) x0_hat) / sqrt(1 - ᾱ_t).

v and x0 give x0_hat directly, so they work at ᾱ = 0 (a zero-terminal-SNR schedule), where eq. 9 cannot.
``clip_sample`` clamps x0_hat to [-1, 1], the data range; ``use_clipped_model_output`` then re-derives
eps_hat from the clamped x0_hat, so that the two agree again (diffusers' names). The denoiser also checks
every call (shape, device, NaN) and counts them (``nfe``, the number of function evaluations).
The exact oracles of :mod:`ddim_teach.oracles` are models too: wrap them the same way.
"""
from __future__ import annotations

from typing import Callable, NamedTuple

import torch

from . import checks, formulas
from .schedules import PREDICTION_TYPES, Schedule, check_schedule


class Prediction(NamedTuple):
    eps_hat: torch.Tensor
    x0_hat: torch.Tensor


class Denoiser:
    """``Denoiser(model, schedule)(x_t, t) -> Prediction(eps_hat, x0_hat)`` for one integer timestep t.

    ``prediction_type`` defaults to the model's own ``prediction_type`` attribute when it has one (the
    oracles and loaded checkpoints do), else ``"epsilon"``; a value that contradicts the model's is refused,
    and so is a schedule other than the ``trained_schedule`` a loaded checkpoint carries.

    The model is called as ``model(x, t)`` with t a LongTensor (B,) on x's device; it returns a tensor shaped
    like x, or an object with a tensor ``.sample`` (diffusers' output)."""

    def __init__(self, model: Callable, schedule: Schedule, prediction_type: str | None = None, *,
                 clip_sample: bool = False, use_clipped_model_output: bool = False):
        checks.function(model, "model", "model(x_t, t)")
        if model is None:
            raise TypeError("model must be callable as model(x_t, t), got None")
        check_schedule(schedule, " (schedules.make_schedule(...))")
        declared = getattr(model, "prediction_type", None)  # a model may say what it predicts (the oracles do)
        if prediction_type is None:
            prediction_type = declared if declared is not None else "epsilon"
        checks.one_of(prediction_type, "prediction_type", PREDICTION_TYPES)
        if declared is not None and declared != prediction_type:
            raise ValueError(f"prediction_type={prediction_type!r}, but the model says it predicts {declared!r}")
        trained = getattr(model, "trained_schedule", None)  # a loaded checkpoint knows its schedule
        if isinstance(trained, Schedule) and trained is not schedule and not torch.equal(trained.betas, schedule.betas):
            raise ValueError(f"this model was trained with the {trained.name!r} schedule, T = {trained.T}; the schedule "
                             f"given is {schedule.name!r}, T = {schedule.T}. Sample with the schedule load_pretrained "
                             "returns")
        clip_sample = checks.boolean(clip_sample, "clip_sample")
        use_clipped_model_output = checks.boolean(use_clipped_model_output, "use_clipped_model_output")
        if use_clipped_model_output and not clip_sample:
            raise ValueError("use_clipped_model_output=True re-derives eps_hat from the clipped x0_hat; "
                             "it needs clip_sample=True")
        self.model, self.schedule, self.prediction_type = model, schedule, prediction_type
        self.clip_sample, self.use_clipped_model_output = clip_sample, use_clipped_model_output
        self.nfe = 0

    def check_input(self, x: torch.Tensor, name: str = "x_T") -> None:
        """x fits the model (see :func:`ddim_teach.checks.model_input`)."""
        checks.model_input(self.model, x, name)

    def __call__(self, x_t: torch.Tensor, t: int) -> Prediction:
        t = checks.integer(t, "t", 0, self.schedule.T - 1)
        out = self.model(x_t, torch.full((x_t.shape[0],), t, dtype=torch.long, device=x_t.device))
        out = checks.model_output(out, x_t, f" (t={t})")
        self.nfe += 1
        ab = self.schedule.alpha_bars[t]
        if self.prediction_type == "epsilon":
            if ab == 0:
                raise ValueError(f"alpha_bar is 0 at t={t} (a zero-terminal-SNR schedule): x_t there is pure noise, so "
                                 "x0_hat cannot be recovered from eps_hat. Use a v- or x0-predicting model "
                                 "(prediction_type='v_prediction' or 'sample'), or timesteps that skip "
                                 f"t={t} (e.g. spacing='leading')")
            eps_hat, x0_hat = out, formulas.predict_x0(x_t, out, ab)
        else:  # per-sample ᾱ in x's dtype, as for a batch of timesteps
            ab_x = formulas.per_sample(ab.expand(x_t.shape[0]), x_t)
            if self.prediction_type == "sample":
                x0_hat, eps_hat = out, formulas.eps_from_x0(x_t, out, ab_x)
            else:
                x0_hat, eps_hat = formulas.x0_from_v(x_t, out, ab_x), formulas.eps_from_v(x_t, out, ab_x)
        if self.clip_sample:
            x0_hat = x0_hat.clamp(-1, 1)
            if self.use_clipped_model_output:
                eps_hat = formulas.eps_from_x0(x_t, x0_hat, ab)
        return Prediction(eps_hat, x0_hat)


def as_denoiser(model, schedule: Schedule) -> Denoiser:
    """``model`` if it is already a :class:`Denoiser` (of this schedule), else a Denoiser around it."""
    if isinstance(model, Denoiser):
        if model.schedule is not schedule and not torch.equal(model.schedule.betas, schedule.betas):
            raise ValueError("the Denoiser was built with another schedule than the one given to the sampler")
        return model
    return Denoiser(model, schedule)
