"""Score, Tweedie's formula, and the error x0_hat inherits from the network's output.

For x_t = sqrt(ab) x0 + sqrt(1 - ab) eps, whatever the data distribution:

* the score of the noisy marginal is grad log p_t(x_t) = -E[eps | x_t] / sqrt(1 - ab), so the ideal eps-predictor
  is eps_hat = -sqrt(1 - ab) grad log p_t(x_t)  (Song et al. 2021b; DDPM Sec. 3.2);
* Tweedie's formula: E[x0 | x_t] = (x_t + (1 - ab) grad log p_t(x_t)) / sqrt(ab) (Efron 2011), which is exactly
  x0_hat = (x_t - sqrt(1 - ab) eps_hat) / sqrt(ab) (DDIM eq. 9) with the ideal eps_hat.

For Gaussian data N(mu, s^2 I) both sides are closed-form (:class:`ddim_teach.oracles.GaussianOracle`);
:func:`gaussian_log_p_t` and :func:`gaussian_posterior_mean_x0` give them, so autograd can check the score.
For a finite set of images, the empirical distribution, :func:`empirical_posterior_x0` gives E[x0 | x_t]
exactly, and :func:`x0_error_split` splits a model's x0_hat error into the posterior mean's own error (the
blur, which no network avoids) and the model's deviation from the posterior mean (the speckle).
``ab`` is DDPM's alpha_bar_t (the DDIM paper's alpha_t) throughout.
"""
from __future__ import annotations

import math
from typing import NamedTuple

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


class EmpiricalPosterior(NamedTuple):
    """:func:`empirical_posterior_x0`'s answer: ``mean`` E[x0 | x_t] shaped like x_t, in its dtype; ``weights``
    (B, N, float64) the posterior probability of each data image (rows sum to 1), ``ess`` (B,) the effective number of
    images that share the weight, 1 / sum_i w_i^2 (N when all weigh the same, 1 when one image takes it all)."""
    mean: torch.Tensor
    weights: torch.Tensor
    ess: torch.Tensor


def empirical_posterior_x0(x_t: torch.Tensor, alpha_bar_t, data: torch.Tensor) -> EmpiricalPosterior:
    """E[x0 | x_t] when x0 is one of the N images ``data`` (N, ...), each with probability 1/N.

    Bayes' rule with q(x_t | x0) = N(sqrt(ab) x0, (1 - ab) I) (DDPM eq. 4):
    E[x0 | x_t] = sum_i w_i x0^(i),  w_i = N(x_t; sqrt(ab) x0^(i), (1 - ab) I) / sum_j N(x_t; sqrt(ab) x0^(j), (1 - ab) I).
    This is exact for that empirical distribution (it is the x0_hat of the ideal eps-model trained on
    ``data``), and it estimates the posterior mean of the distribution the images came from only while many
    images share the weight (large ``ess``): at high noise. At low noise it collapses onto the nearest data
    image (memorisation). The weights are a softmax of the log-likelihoods in float64 (log-sum-exp), with the
    term |x_t|^2, common to all i, left out; ``data`` images have x_t's shape without its batch dimension.
    The mean is computed in float64 and returned in x_t's dtype.
    """
    ab = _ab(alpha_bar_t)
    checks.batch(x_t, "x_t")
    if not isinstance(data, torch.Tensor) or not data.is_floating_point():
        raise TypeError("data must be a floating-point tensor of images, shape (N, ...)")
    if data.dim() != x_t.dim() or data.shape[1:] != x_t.shape[1:] or data.shape[0] == 0:
        raise ValueError(f"data must be (N, ...) images shaped like x_t's {tuple(x_t.shape[1:])}, "
                         f"got {tuple(data.shape)}")
    x = x_t.detach().flatten(1).to(torch.float64)
    d = data.detach().flatten(1).to(torch.float64).to(x.device)
    # log N(x_t; sqrt(ab) x0_i, (1 - ab) I) = -(|x_t|^2 - 2 sqrt(ab) x_t.x0_i + ab |x0_i|^2) / (2 (1 - ab)) + const
    logits = (ab.sqrt() * (x @ d.T) - 0.5 * ab * (d * d).sum(1)) / (1 - ab)
    w = torch.softmax(logits, dim=1)
    return EmpiricalPosterior((w @ d).view(x_t.shape).to(x_t.dtype), w, 1 / (w * w).sum(1))


class X0ErrorSplit(NamedTuple):
    """:func:`x0_error_split`'s answer, each shaped like x0: ``blur`` = x0 - E[x0 | x_t], ``speckle`` =
    x0_hat - E[x0 | x_t], so x0_hat - x0 = speckle - blur. All three inputs share one shape and dtype."""
    blur: torch.Tensor
    speckle: torch.Tensor


def x0_error_split(x0: torch.Tensor, x0_hat: torch.Tensor, posterior_mean: torch.Tensor) -> X0ErrorSplit:
    """Split x0_hat's error into the posterior mean's own error and the model's deviation from it.

    x0_hat - x0 = (x0_hat - E[x0 | x_t]) - (x0 - E[x0 | x_t]) = speckle - blur. The blur is the error of the
    best possible guess (the posterior mean minimises the expected squared error over all functions of x_t), the
    same for an eps-, v- or x0-model. The speckle is the model's deviation; for an eps-model it is
    -sqrt((1 - ab) / ab) (eps_hat - E[eps | x_t]), for a v-model -sqrt(1 - ab) (v_hat - E[v | x_t])
    (:func:`x0_error_gain`). Since E[x0 - E[x0 | x_t] | x_t] = 0, the two are uncorrelated over x0 ~ data:
    E|x0_hat - x0|^2 = E|speckle|^2 + E|blur|^2.
    """
    checks.like(x0, "x0", x0_hat=x0_hat, posterior_mean=posterior_mean)
    return X0ErrorSplit(x0 - posterior_mean, x0_hat - posterior_mean)
