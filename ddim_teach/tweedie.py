"""Score, Tweedie's formula, and the error x0_hat inherits from the network's output.

For x_t = sqrt(ab) x0 + sqrt(1 - ab) eps, whatever the data distribution:

* the score of the noisy marginal is grad log p_t(x_t) = -E[eps | x_t] / sqrt(1 - ab), so the ideal eps-predictor
  is eps_hat = -sqrt(1 - ab) grad log p_t(x_t)  (Song et al. 2021b; DDPM Sec. 3.2);
* Tweedie's formula: E[x0 | x_t] = (x_t + (1 - ab) grad log p_t(x_t)) / sqrt(ab) (Efron 2011), which is exactly
  x0_hat = (x_t - sqrt(1 - ab) eps_hat) / sqrt(ab) (DDIM eq. 9) with the ideal eps_hat.

For Gaussian data N(mu, s^2 I) both sides are closed-form (:class:`ddim_teach.oracles.GaussianOracle`);
:func:`gaussian_log_p_t` and :func:`gaussian_posterior_mean_x0` give them, so autograd can check the score.
``ab`` is DDPM's alpha_bar_t (the DDIM paper's alpha_t) throughout.
"""
from __future__ import annotations

import math

import torch

from . import checks, formulas
from .schedules import PREDICTION_TYPES


def _ab(alpha_bar_t) -> torch.Tensor:
    return checks.scalar_alpha_bar(alpha_bar_t, "alpha_bar_t", allow_zero=False, allow_one=False)


def score_from_eps(eps_hat: torch.Tensor, alpha_bar_t) -> torch.Tensor:
    """grad log p_t(x_t) = -eps_hat / sqrt(1 - ab)."""
    return -eps_hat / (1 - _ab(alpha_bar_t)).sqrt()


def eps_from_score(score: torch.Tensor, alpha_bar_t) -> torch.Tensor:
    """eps_hat = -sqrt(1 - ab) grad log p_t(x_t)."""
    return -(1 - _ab(alpha_bar_t)).sqrt() * score


def tweedie_x0(x_t: torch.Tensor, score: torch.Tensor, alpha_bar_t) -> torch.Tensor:
    """Tweedie's formula: E[x0 | x_t] = (x_t + (1 - ab) grad log p_t(x_t)) / sqrt(ab)."""
    ab = _ab(alpha_bar_t)
    return (x_t + (1 - ab) * score) / ab.sqrt()


def gaussian_log_p_t(x_t: torch.Tensor, alpha_bar_t, mu=0.0, s: float = 1.0) -> torch.Tensor:
    """log p_t(x_t) for data N(mu, s^2 I): p_t = N(sqrt(ab) mu, (ab s^2 + 1 - ab) I), summed per batch element (B,)."""
    if s <= 0:
        raise ValueError(f"s must be positive, got {s}")
    ab = _ab(alpha_bar_t)
    var = ab * s ** 2 + 1 - ab
    diff = x_t - ab.sqrt() * torch.as_tensor(mu, dtype=torch.float64)
    d = x_t[0].numel()
    return -0.5 * (diff ** 2).flatten(1).sum(1) / var - 0.5 * d * torch.log(2 * math.pi * var)


def gaussian_posterior_mean_x0(x_t: torch.Tensor, alpha_bar_t, mu=0.0, s: float = 1.0) -> torch.Tensor:
    """E[x0 | x_t] for data N(mu, s^2 I) by Bayes' rule (prior N(mu, s^2), likelihood N(x_t; sqrt(ab) x0, 1 - ab)):
    mu + s^2 sqrt(ab) / (ab s^2 + 1 - ab) * (x_t - sqrt(ab) mu)."""
    if s <= 0:
        raise ValueError(f"s must be positive, got {s}")
    ab = _ab(alpha_bar_t)
    mu = torch.as_tensor(mu, dtype=torch.float64)
    return mu + s ** 2 * ab.sqrt() / (ab * s ** 2 + 1 - ab) * (x_t - ab.sqrt() * mu)


def x0_error_gain(alpha_bar_t, prediction_type: str = "epsilon") -> torch.Tensor:
    """How much an error in the model's output is magnified in x0_hat (float64 scalar).

    x0_hat depends linearly on the output, so an error e in it becomes gain * e in x0_hat:
    ``epsilon``: x0 = (x_t - sqrt(1 - ab) eps) / sqrt(ab), gain sqrt((1 - ab) / ab), about 157 at ab = 4e-5;
    ``v_prediction``: x0 = sqrt(ab) x_t - sqrt(1 - ab) v, gain sqrt(1 - ab) <= 1;
    ``sample``: the output is x0_hat, gain 1.
    """
    ab = _ab(alpha_bar_t)
    if prediction_type == "epsilon":
        return formulas.ode_sigma(ab)  # the ODE's sigma, sqrt(1 - ab) / sqrt(ab)
    if prediction_type == "v_prediction":
        return (1 - ab).sqrt()
    if prediction_type == "sample":
        return torch.ones((), dtype=torch.float64)
    checks.one_of(prediction_type, "prediction_type", PREDICTION_TYPES)
