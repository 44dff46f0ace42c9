"""DDPM's algebra done by SymPy: the posterior by Bayes' rule, Algorithm 2, and the ELBO's weights.

Notebook 2 shows each result and checks it; nothing here is numeric. Symbols follow DDPM (Ho et al. 2020):
``alpha_t`` is the one-step alpha_t = 1 - beta_t, ``alphabar_t`` the cumulative product (the DDIM paper's
alpha_t). Every derivation is written for one pixel: all the Gaussians are isotropic, so each pixel is an
independent copy of the same 1-D computation.

* :func:`gaussian_kl_same_variance`: KL(N(m1, s^2) || N(m2, s^2)) = (m1 - m2)^2 / (2 s^2)  (used in DDPM eq. 8).
* :func:`posterior_by_bayes`: q(x_{t-1} | x_t, x_0) proportional to q(x_t | x_{t-1}) q(x_{t-1} | x_0); completing the
  square in x_{t-1} gives beta_tilde and mu_tilde (DDPM eqs. 6-7).
* :func:`algorithm2_minus_posterior_mean`: DDPM's Algorithm 2 mean (x_t - beta/sqrt(1 - alphabar_t) eps)/sqrt(alpha_t)
  equals mu_tilde(x0_hat(eps), x_t) (eq. 11 = eqs. 7 + 9).
* :func:`elbo_weight`: with mu_theta in the eps form, the KL term L_{t-1} is
  beta_t^2 / (2 sigma_t^2 alpha_t (1 - alphabar_t)) * (eps - eps_theta)^2 + const (DDPM eq. 12).
"""
from __future__ import annotations

import sympy as sp

# one set of symbols for the whole module, so that results can be compared and substituted
x, m1, m2 = sp.symbols("x mu_1 mu_2", real=True)
s = sp.symbols("s", positive=True)
x0, x_t, x_prev, eps, eps_theta = sp.symbols("x_0 x_t x_{t-1} epsilon epsilon_theta", real=True)
alpha_t, alphabar_prev, sigma_t = sp.symbols("alpha_t alphabar_{t-1} sigma_t", positive=True)
beta_t = 1 - alpha_t
alphabar_t = alpha_t * alphabar_prev          # alphabar_t = alpha_t * alphabar_{t-1}


def log_normal(v, mean, var) -> sp.Expr:
    """log N(v; mean, var) of one real variable."""
    return -sp.log(2 * sp.pi * var) / 2 - (v - mean) ** 2 / (2 * var)


def gaussian_expectation(expr: sp.Expr, v: sp.Symbol, mean, var) -> sp.Expr:
    """E[expr] for v ~ N(mean, var), for expr a polynomial of degree <= 2 in v (E v = mean, E v^2 = mean^2 + var)."""
    p = sp.Poly(sp.expand(expr), v)
    if p.degree() > 2:
        raise ValueError(f"expr must be at most quadratic in {v}, got degree {p.degree()}")
    c2, c1, c0 = (p.coeff_monomial(v ** k) for k in (2, 1, 0))
    return c2 * (mean ** 2 + var) + c1 * mean + c0


def gaussian_kl_same_variance() -> sp.Expr:
    """KL(N(mu_1, s^2) || N(mu_2, s^2)) from its definition E_{x ~ N(mu_1, s^2)}[log N(x; mu_1) - log N(x; mu_2)].

    The log-ratio is quadratic in x, so the expectation needs only the first two moments.
    Result: (mu_1 - mu_2)^2 / (2 s^2), the squared distance of the means (DDPM eq. 8's step).
    """
    log_ratio = log_normal(x, m1, s ** 2) - log_normal(x, m2, s ** 2)
    return sp.factor(sp.simplify(gaussian_expectation(log_ratio, x, m1, s ** 2)))


def posterior_by_bayes() -> dict:
    """Derive q(x_{t-1} | x_t, x_0) by Bayes' rule and completing the square.

    log q(x_{t-1} | x_t, x_0) = log q(x_t | x_{t-1}) + log q(x_{t-1} | x_0) + const, with
    q(x_t | x_{t-1}) = N(sqrt(alpha_t) x_{t-1}, beta_t)  and  q(x_{t-1} | x_0) = N(sqrt(alphabar_{t-1}) x_0, 1 - alphabar_{t-1}).
    As a function of x_{t-1} this is -x_{t-1}^2 / (2 v) + x_{t-1} m / v + const: a Gaussian with variance v = 1/precision
    and mean m = v * (linear coefficient). Returns a dict with

    * ``log_joint``: the sum of the two log-densities (x_{t-1}-dependent part),
    * ``precision``, ``linear``: the coefficients of -x^2/2 and of x,
    * ``beta_tilde``, ``mu_tilde``: the variance and mean, simplified,
    * ``beta_tilde_ddpm``, ``mu_tilde_ddpm``: DDPM eq. 7 as printed in the paper, for comparison.
    """
    log_joint = (-(x_t - sp.sqrt(alpha_t) * x_prev) ** 2 / (2 * beta_t)
                 - (x_prev - sp.sqrt(alphabar_prev) * x0) ** 2 / (2 * (1 - alphabar_prev)))
    p = sp.Poly(sp.expand(log_joint), x_prev)
    precision = sp.simplify(-2 * p.coeff_monomial(x_prev ** 2))
    linear = sp.simplify(p.coeff_monomial(x_prev))
    beta_tilde = sp.factor(sp.simplify(1 / precision))
    mu = sp.expand(linear / precision)
    mu_tilde = (sp.factor(sp.simplify(sp.diff(mu, x0))) * x0      # linear in x_0 and x_t: simplify each coefficient
                + sp.factor(sp.simplify(sp.diff(mu, x_t))) * x_t)
    return {
        "log_joint": log_joint, "precision": precision, "linear": linear,
        "beta_tilde": beta_tilde, "mu_tilde": mu_tilde,
        "beta_tilde_ddpm": (1 - alphabar_prev) / (1 - alphabar_t) * beta_t,
        "mu_tilde_ddpm": (sp.sqrt(alphabar_prev) * beta_t / (1 - alphabar_t) * x0
                          + sp.sqrt(alpha_t) * (1 - alphabar_prev) / (1 - alphabar_t) * x_t),
    }


def x0_from_eps_expr(eps_sym=eps) -> sp.Expr:
    """x0_hat = (x_t - sqrt(1 - alphabar_t) eps) / sqrt(alphabar_t)  (DDPM eq. 15, DDIM eq. 9)."""
    return (x_t - sp.sqrt(1 - alphabar_t) * eps_sym) / sp.sqrt(alphabar_t)


def algorithm2_mean(eps_sym=eps) -> sp.Expr:
    """The mean of DDPM's Algorithm 2 step: (x_t - beta_t / sqrt(1 - alphabar_t) eps) / sqrt(alpha_t)  (eq. 11)."""
    return (x_t - beta_t / sp.sqrt(1 - alphabar_t) * eps_sym) / sp.sqrt(alpha_t)


def algorithm2_minus_posterior_mean() -> sp.Expr:
    """Algorithm 2's mean minus mu_tilde(x0_hat, x_t) with x0_hat from eps; simplifies to 0."""
    mu = posterior_by_bayes()["mu_tilde_ddpm"].subs(x0, x0_from_eps_expr())
    return sp.simplify(algorithm2_mean() - mu)


def elbo_weight() -> dict:
    """The weight of (eps - eps_theta)^2 in L_{t-1} = KL(q(x_{t-1}|x_t,x_0) || N(mu_theta, sigma_t^2))  (DDPM eq. 12).

    Both means are written in Algorithm 2's eps form (the true mean with the true eps, the model's with eps_theta),
    so their difference is beta_t / (sqrt(alpha_t) sqrt(1 - alphabar_t)) (eps_theta - eps), and the KL of two
    Gaussians with the same variance is the squared distance over 2 sigma_t^2. Returns ``kl`` (the per-pixel KL,
    factored) and ``weight`` (its coefficient lambda_t = beta_t^2 / (2 sigma_t^2 alpha_t (1 - alphabar_t))).
    """
    kl = gaussian_kl_same_variance().subs({m1: algorithm2_mean(eps), m2: algorithm2_mean(eps_theta), s: sigma_t},
                                           simultaneous=True)
    kl = sp.factor(sp.simplify(kl))
    weight = sp.factor(sp.simplify(kl / (eps - eps_theta) ** 2))
    return {"kl": kl, "weight": weight,
            "weight_ddpm": beta_t ** 2 / (2 * sigma_t ** 2 * alpha_t * (1 - alphabar_t))}
