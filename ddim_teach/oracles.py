"""Exact epsilon-predictors for data distributions where the answer is known in closed form.

If x0 ~ p_data and x_t = sqrt(ab) x0 + sqrt(1 - ab) eps, the ideal network predicts
E[eps | x_t] = -sqrt(1 - ab) grad log p_t(x_t) (Tweedie; DDPM Sec. 3.2 / Song et al. 2021b).
For Gaussians and Gaussian mixtures p_t is again a (mixture of) Gaussian(s), so the
ideal eps_hat is exact and a sampler can be tested without training anything.
Each oracle is a callable ``oracle(x_t, t) -> eps_hat`` like a trained model; the Gaussian one can
also predict x0 or v (``prediction_type``), exactly, even at alpha_bar = 0 (zero terminal SNR).
"""
from __future__ import annotations

import math
import numbers

import torch

from . import checks, formulas
from .schedules import PREDICTION_TYPES, Schedule, check_schedule


class GaussianOracle:
    """Data ~ N(mu, s^2 I), any shape. p_t = N(sqrt(ab) mu, v I) with v = ab s^2 + 1 - ab, and

        eps_hat(x_t, t) = E[eps | x_t] = sqrt(1 - ab) (x_t - sqrt(ab) mu) / v
        x0_hat(x_t, t)  = E[x0 | x_t]  = mu + sqrt(ab) s^2 (x_t - sqrt(ab) mu) / v
        v_hat           = sqrt(ab) eps_hat - sqrt(1 - ab) x0_hat       (Salimans & Ho 2022)

    all defined at ab = 0. ``prediction_type`` ("epsilon", "sample" or "v_prediction") picks what a
    call returns, as for a model trained that way.
    """

    def __init__(self, schedule: Schedule, mu=0.0, s: float = 1.0, sample_shape=None,
                 prediction_type: str = "epsilon"):
        check_schedule(schedule)
        if isinstance(s, bool) or not isinstance(s, numbers.Real) or not s > 0 or not math.isfinite(s):
            raise ValueError(f"s must be a positive finite number (the data's standard deviation), got {s!r}")
        checks.one_of(prediction_type, "prediction_type", PREDICTION_TYPES)
        mu = checks.numbers_tensor(mu, "mu", " (the data's mean)")
        if not bool(torch.isfinite(mu).all()):
            raise ValueError(f"mu must be finite numbers (the data's mean), got "
                             f"{mu.item() if mu.dim() == 0 else mu.flatten()[:6].tolist()}")
        self.schedule, self.mu, self.s = schedule, mu, float(s)
        self.prediction_type = prediction_type
        if sample_shape is not None:
            if isinstance(sample_shape, (str, bytes)) or not hasattr(sample_shape, "__iter__") or \
                    any(isinstance(n, bool) or not isinstance(n, numbers.Integral) for n in sample_shape):
                raise TypeError(f"sample_shape must be a tuple of sizes, e.g. (4,) or (1, 28, 28), got {sample_shape!r}")
            if any(n < 1 for n in sample_shape):
                raise ValueError(f"sample_shape must hold positive sizes, got {tuple(sample_shape)!r}")
            self.sample_shape = tuple(int(n) for n in sample_shape)

    def _ab(self, x_t, t):
        return formulas.per_sample(self.schedule.alpha_bar(t), x_t.double())  # float64, one per sample

    def eps_hat(self, x_t: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        ab = self._ab(x_t, t)
        var = ab * self.s ** 2 + 1 - ab
        return ((1 - ab).sqrt() * (x_t.double() - ab.sqrt() * self.mu) / var).to(x_t.dtype)

    def x0_hat(self, x_t: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        ab = self._ab(x_t, t)
        var = ab * self.s ** 2 + 1 - ab
        return (self.mu + ab.sqrt() * self.s ** 2 * (x_t.double() - ab.sqrt() * self.mu) / var).to(x_t.dtype)

    def __call__(self, x_t: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        if self.prediction_type == "epsilon":
            return self.eps_hat(x_t, t)
        if self.prediction_type == "sample":
            return self.x0_hat(x_t, t)
        eps, x0 = self.eps_hat(x_t, t).double(), self.x0_hat(x_t, t).double()
        return formulas.v_from(x0, eps, self._ab(x_t, t)).to(x_t.dtype)

    def sample_data(self, n: int, shape=(), generator=None) -> torch.Tensor:
        return self.mu + self.s * torch.randn((n, *shape), generator=generator, dtype=torch.float64)

    def ode_solution(self, x_T: torch.Tensor, alpha_bar_T, alpha_bar) -> torch.Tensor:
        """The exact probability-flow ODE solution at level ``alpha_bar`` from ``x_T`` at level ``alpha_bar_T``
        (both DDPM's ᾱ, alpha_bar_T > 0): for N(mu, s²) data the flow is affine, quantile to quantile. In the ODE's
        coordinates (:mod:`ddim_teach.ode`) x̄(σ) = mu + (x̄_T − mu) sqrt(s² + σ²)/sqrt(s² + σ_T²); at ᾱ = 1 this is the
        x₀ the flow lands on, mu + s (x_T − sqrt(ᾱ_T) mu)/sqrt(ᾱ_T s² + 1 − ᾱ_T). The reference every solver's error
        is measured against (notebooks 6 and 9)."""
        sig_T, sig = formulas.ode_sigma(alpha_bar_T), formulas.ode_sigma(alpha_bar)
        xbar_T = formulas.to_ode(x_T.double(), alpha_bar_T)
        xbar = self.mu + (xbar_T - self.mu) * (self.s ** 2 + sig ** 2).sqrt() / (self.s ** 2 + sig_T ** 2).sqrt()
        return formulas.from_ode(xbar, alpha_bar).to(x_T.dtype)


class GaussianMixtureOracle:
    """Data ~ sum_k w_k N(mu_k, s_k^2 I) in d dimensions (default: 2-D, points of shape (B, d)).

    p_t = sum_k w_k N(sqrt(ab) mu_k, v_k I), v_k = ab s_k^2 + 1 - ab, and with responsibilities
    r_k(x) proportional to w_k N(x; sqrt(ab) mu_k, v_k I):
    eps_hat = sqrt(1 - ab) sum_k r_k (x - sqrt(ab) mu_k) / v_k.
    """

    def __init__(self, schedule: Schedule, means, stds, weights=None):
        check_schedule(schedule)
        self.schedule = schedule
        self.means = checks.numbers_tensor(means, "means", ", shape (K, d): one row per component")
        if self.means.dim() != 2 or self.means.numel() == 0:
            raise ValueError(f"means must have shape (K, d), one row per component, got {tuple(self.means.shape)}")
        if not bool(torch.isfinite(self.means).all()):
            row = int((~torch.isfinite(self.means)).any(1).nonzero()[0])
            raise ValueError(f"means must be finite, got a NaN or inf in row {row}: {self.means[row].tolist()}")
        K, d = self.means.shape
        stds = checks.numbers_tensor(stds, "stds", " (one per component, or one for all)")
        w = torch.ones(K, dtype=torch.float64) if weights is None else \
            checks.numbers_tensor(weights, "weights", " (one per component)")
        if stds.numel() not in (1, K) or w.shape != (K,):
            raise ValueError(f"stds must be one number or K = {K} numbers, and weights K numbers; "
                             f"got {tuple(stds.shape)} and {tuple(w.shape)}")
        self.stds = stds.reshape(-1).expand(K).clone()
        for name, v in (("stds", stds.reshape(-1)), ("weights", w)):
            if not bool(((v > 0) & torch.isfinite(v)).all()):
                raise ValueError(f"{name} must be positive and finite, got {v.tolist()[:6]}")
        self.weights = w / w.sum()
        self.sample_shape = (d,)

    @classmethod
    def default(cls, schedule: Schedule) -> "GaussianMixtureOracle":
        """Three well-separated 2-D clusters, used by the notebooks."""
        r = 1.6
        means = [[r * math.cos(a), r * math.sin(a)] for a in (math.pi / 2, math.pi / 2 + 2 * math.pi / 3,
                                                             math.pi / 2 + 4 * math.pi / 3)]
        return cls(schedule, means, [0.25, 0.25, 0.25], [0.5, 0.3, 0.2])

    def log_p_t(self, x: torch.Tensor, ab) -> torch.Tensor:
        """Per-component log w_k N(x; sqrt(ab) mu_k, v_k I), shape (B, K)."""
        ab = torch.as_tensor(ab, dtype=torch.float64).reshape(-1, 1)
        v = ab * self.stds ** 2 + 1 - ab                               # (B, K)
        diff = x.double()[:, None, :] - ab.sqrt()[:, :, None] * self.means[None]   # (B, K, d)
        d = self.means.shape[1]
        return self.weights.log() - 0.5 * (diff ** 2).sum(-1) / v - 0.5 * d * torch.log(2 * math.pi * v)

    def _check_points(self, x_t) -> None:
        d = self.means.shape[1]
        if not isinstance(x_t, torch.Tensor) or x_t.dim() != 2 or x_t.shape[1] != d:
            got = tuple(x_t.shape) if isinstance(x_t, torch.Tensor) else type(x_t).__name__
            raise ValueError(f"x_t must be points of shape (B, {d}) for this {d}-D mixture, got {got}")

    @property
    def num_classes(self) -> int:
        """The components are the classes 0..K−1; K is "no label" (∅), as for a conditional U-Net."""
        return self.means.shape[0]

    def log_p_y(self, x_t: torch.Tensor, t: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """The exact noise-aware classifier: log p_t(y | x_t) = log r_y(x_t), one number per point, differentiable."""
        self._check_points(x_t)
        y = checks.labels(y, x_t.shape[0], item="point")
        if bool((y >= self.num_classes).any()):
            raise ValueError(f"y must be a class 0..{self.num_classes - 1}, got {sorted(set(y[y >= self.num_classes].tolist()))}")
        log_r = torch.log_softmax(self.log_p_t(x_t, self.schedule.alpha_bar(t)), dim=1)
        return log_r.gather(1, y[:, None].to(log_r.device))[:, 0].to(x_t.dtype)

    def __call__(self, x_t: torch.Tensor, t: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        """eps_hat of p_t (y None), or with labels y of the component y alone (exactly eps of p_t(x | y));
        a label equal to K (``num_classes``) means ∅, the whole mixture."""
        self._check_points(x_t)
        ab = self.schedule.alpha_bar(t).reshape(-1, 1)
        v = ab * self.stds ** 2 + 1 - ab
        r = torch.softmax(self.log_p_t(x_t, ab), dim=1)                # (B, K)
        if y is not None:
            K = self.num_classes
            y = checks.labels(y, x_t.shape[0], K, meaning=f", {K} = no label", item="point")
            onehot = torch.nn.functional.one_hot(y.clamp(max=K - 1), K).double()
            r = torch.where((y < K)[:, None], onehot, r)
        diff = x_t.double()[:, None, :] - ab.sqrt()[:, :, None] * self.means[None]
        eps = (1 - ab).sqrt() * (r[:, :, None] * diff / v[:, :, None]).sum(1)
        return eps.to(x_t.dtype)

    def sample_data(self, n: int, generator=None) -> torch.Tensor:
        k = torch.multinomial(self.weights, n, replacement=True, generator=generator)
        z = torch.randn((n, self.means.shape[1]), generator=generator, dtype=torch.float64)
        return self.means[k] + self.stds[k, None] * z
