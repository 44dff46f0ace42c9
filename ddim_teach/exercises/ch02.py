"""Chapter 2 exercises: DDPM's posterior q(x_{t-1} | x_t, x_0), one ancestral step, and L_simple.

Every step is written for any pair t -> t_prev of the timestep list, as :mod:`ddim_teach.samplers` does: the step's own
β = 1 − ᾱ_t/ᾱ_prev and α = ᾱ_t/ᾱ_prev (DDPM's one-step β_t and α_t when t_prev = t − 1). ``alpha_bar`` is DDPM's ᾱ
(the DDIM paper's α). Scalars are 0-dim float64 tensors, as ``samplers.sample`` passes them.
"""
from __future__ import annotations

import torch

from .. import elbo, pitfalls, samplers
from ..oracles import GaussianOracle
from . import Case, Exercise, Mistake, register
from ._cases import F64 as _F64, ONE as _ONE, SCHEDULE as _S, alpha_bar as _ab


def _pairs():
    """(label, label_zh, ᾱ_t, ᾱ_prev): one step, the noisiest step, long skips, the last step (ᾱ_prev = 1)."""
    return [("t = 400 → 399", "t = 400 → 399", _ab(400), _ab(399)),
            ("t = 10 → 9", "t = 10 → 9", _ab(10), _ab(9)),
            ("t = 999 → 998", "t = 999 → 998", _ab(999), _ab(998)),
            ("a skip of 100: t = 999 → 899", "跳过 100 步：t = 999 → 899", _ab(999), _ab(899)),
            ("a skip of 200: t = 250 → 50", "跳过 200 步：t = 250 → 50", _ab(250), _ab(50)),
            ("last step: t = 0 → ᾱ_prev = 1", "最后一步：t = 0 → ᾱ_prev = 1", _ab(0), _ONE)]


# ------------------------------------------------------------------------------------------ 2.1 posterior_mean

def _mean_cases():
    g = torch.Generator().manual_seed(21)
    x0 = torch.rand(3, 1, 4, 4, generator=g, dtype=_F64) * 2 - 1
    x_t = torch.randn(3, 1, 4, 4, generator=g, dtype=_F64)
    cases = [Case((x0, x_t, ab, abp), label, label_zh=label_zh) for label, label_zh, ab, abp in _pairs()]
    cases.append(Case((x0.float(), x_t.float(), _ab(600), _ab(550)), "float32 batch, t = 600 → 550",
                      label_zh="float32 批次，t = 600 → 550"))
    return cases


def _mean_reference(x0, x_t, alpha_bar_t, alpha_bar_prev):
    # ddpm_step's mean is mu_tilde(x0_hat, x_t); with the eps that makes x0_hat = x0 it is mu_tilde(x0, x_t).
    # Done in float64 and cast back, so that the eps round trip adds no float32 error of its own.
    x0d, xtd = x0.double(), x_t.double()
    eps = (xtd - alpha_bar_t.sqrt() * x0d) / (1 - alpha_bar_t).sqrt()
    mean, _ = samplers.ddpm_step(xtd, eps, alpha_bar_t, alpha_bar_prev, "fixed_small", None)
    return mean.to(x0.dtype)


def _mu(x0, x_t, c0, ct):
    return c0 * x0 + ct * x_t


def _mean_alpha_bar_for_alpha(x0, x_t, ab, abp):
    beta = 1 - ab / abp
    return _mu(x0, x_t, abp.sqrt() * beta / (1 - ab), ab.sqrt() * (1 - abp) / (1 - ab))


def _mean_alpha_for_alpha_bar(x0, x_t, ab, abp):
    alpha = ab / abp
    beta = 1 - alpha
    return _mu(x0, x_t, abp.sqrt() * beta / (1 - alpha), alpha.sqrt() * (1 - abp) / (1 - alpha))


def _mean_no_sqrt_alpha(x0, x_t, ab, abp):
    beta = 1 - ab / abp
    return _mu(x0, x_t, abp.sqrt() * beta / (1 - ab), (1 - beta) * (1 - abp) / (1 - ab))


def _mean_no_sqrt_alpha_bar_prev(x0, x_t, ab, abp):
    beta = 1 - ab / abp
    return _mu(x0, x_t, abp * beta / (1 - ab), (1 - beta).sqrt() * (1 - abp) / (1 - ab))


def _mean_cumulative_beta(x0, x_t, ab, abp):
    alpha = ab / abp
    return _mu(x0, x_t, abp.sqrt() * (1 - ab) / (1 - ab), alpha.sqrt() * (1 - abp) / (1 - ab))


def _mean_swapped(x0, x_t, ab, abp):
    beta = 1 - ab / abp
    return _mu(x_t, x0, abp.sqrt() * beta / (1 - ab), (1 - beta).sqrt() * (1 - abp) / (1 - ab))


register(Exercise(
    name="posterior_mean", chapter=2,
    signature="posterior_mean(x0, x_t, alpha_bar_t, alpha_bar_prev) -> mu_tilde (shape and dtype of x0)",
    reference=_mean_reference,
    cases=_mean_cases,
    mistakes=(
        Mistake("alpha_bar_for_alpha", "√ᾱ_t where the step's own √α_t belongs (the x_t coefficient)",
                "x_t's coefficient comes from q(x_t | x_{t-1}) = N(√α_t x_{t-1}, β_t): one step, α = ᾱ_t/ᾱ_prev",
                _mean_alpha_bar_for_alpha,
                label_zh="在该用这一步自己的 √α_t 的地方用了 √ᾱ_t（x_t 的系数）",
                hint_zh="x_t 的系数来自 q(x_t | x_{t-1}) = N(√α_t x_{t-1}, β_t)：只是一步，α = ᾱ_t/ᾱ_prev"),
        Mistake("alpha_for_alpha_bar", "DDPM's one-step α_t where the cumulative ᾱ_t is meant (1 − α_t in the denominators)",
                "the denominator 1 − ᾱ_t is the variance of q(x_t | x₀), which is cumulative", _mean_alpha_for_alpha_bar,
                label_zh="用了 DDPM 的单步 α_t，而要求的是累积的 ᾱ_t（分母里出现 1 − α_t）",
                hint_zh="分母 1 − ᾱ_t 是 q(x_t | x₀) 的方差，它是累积的"),
        Mistake("no_sqrt_alpha", "a missing square root: α_t where √α_t belongs",
                "q(x_t | x_{t-1}) has mean √α_t x_{t-1}", _mean_no_sqrt_alpha,
                label_zh="缺少平方根：该用 √α_t 的地方用了 α_t",
                hint_zh="q(x_t | x_{t-1}) 的均值是 √α_t x_{t-1}"),
        Mistake("no_sqrt_alpha_bar_prev", "a missing square root: ᾱ_prev where √ᾱ_prev belongs",
                "q(x_{t-1} | x₀) has mean √ᾱ_{t-1} x₀", _mean_no_sqrt_alpha_bar_prev,
                label_zh="缺少平方根：该用 √ᾱ_prev 的地方用了 ᾱ_prev",
                hint_zh="q(x_{t-1} | x₀) 的均值是 √ᾱ_{t-1} x₀"),
        Mistake("cumulative_beta", "1 − ᾱ_t used as the step's β (in the x₀ coefficient)",
                "the step's β is 1 − ᾱ_t/ᾱ_prev (DDPM's β_t when t_prev = t − 1)", _mean_cumulative_beta,
                label_zh="把 1 − ᾱ_t 当作这一步的 β（在 x₀ 的系数中）",
                hint_zh="这一步的 β 是 1 − ᾱ_t/ᾱ_prev（t_prev = t − 1 时即 DDPM 的 β_t）"),
        Mistake("swapped", "the x₀ and x_t coefficients swapped",
                "at the last step (ᾱ_prev = 1) the mean must be x₀ itself", _mean_swapped,
                label_zh="x₀ 和 x_t 的系数互换了",
                hint_zh="在最后一步（ᾱ_prev = 1），均值必须就是 x₀ 本身"),
    ),
    doc="μ̃ = √ᾱ_prev β/(1 − ᾱ_t) x₀ + √α (1 − ᾱ_prev)/(1 − ᾱ_t) x_t, α = ᾱ_t/ᾱ_prev, β = 1 − α (DDPM eq. 7).",
))


# ------------------------------------------------------------------------------------------ 2.2 posterior_variance

def _var_cases():
    return [Case((ab, abp), label, label_zh=label_zh) for label, label_zh, ab, abp in _pairs()]


def _var_reference(alpha_bar_t, alpha_bar_prev):
    return samplers.ddpm_variance(alpha_bar_t, alpha_bar_prev, "fixed_small")


def _var_fixed_large(ab, abp):
    return 1 - ab / abp


def _var_std(ab, abp):
    return ((1 - abp) / (1 - ab) * (1 - ab / abp)).sqrt()


def _var_inverted(ab, abp):
    return (1 - ab) / (1 - abp) * (1 - ab / abp)


def _var_cumulative_beta(ab, abp):
    return (1 - abp) / (1 - ab) * (1 - ab)


register(Exercise(
    name="posterior_variance", chapter=2,
    signature="posterior_variance(alpha_bar_t, alpha_bar_prev) -> beta_tilde (0-dim float64 tensor)",
    reference=_var_reference,
    cases=_var_cases,
    mistakes=(
        Mistake("fixed_large", "fixed_large's β where β̃ is asked",
                "β is the forward step's variance (DDPM's σ² = β option); the posterior's is smaller by "
                "(1 − ᾱ_prev)/(1 − ᾱ_t)", _var_fixed_large,
                label_zh="要求的是 β̃，却用了 fixed_large 的 β",
                hint_zh="β 是前向一步的方差（DDPM 中 σ² = β 的选项）；后验的方差要小 (1 − ᾱ_prev)/(1 − ᾱ_t) 倍"),
        Mistake("std_for_variance", "an extra square root: the standard deviation √β̃ instead of the variance β̃",
                "the exercise asks for the variance, the quantity DDPM's eq. 7 calls β̃_t", _var_std,
                label_zh="多了一个平方根：标准差 √β̃ 而不是方差 β̃",
                hint_zh="练习要求的是方差，即 DDPM 式 7 中的 β̃_t"),
        Mistake("inverted_ratio", "the ratio inverted: (1 − ᾱ_t)/(1 − ᾱ_prev) β",
                "β̃ ≤ β: the posterior knows x₀, so it is narrower than the forward step", _var_inverted,
                label_zh="比值倒过来了：(1 − ᾱ_t)/(1 − ᾱ_prev) β",
                hint_zh="β̃ ≤ β：后验知道 x₀，所以比前向一步更窄"),
        Mistake("cumulative_beta", "1 − ᾱ_t used as the step's β",
                "the step's β is 1 − ᾱ_t/ᾱ_prev (DDPM's β_t when t_prev = t − 1)", _var_cumulative_beta,
                label_zh="把 1 − ᾱ_t 当作这一步的 β",
                hint_zh="这一步的 β 是 1 − ᾱ_t/ᾱ_prev（t_prev = t − 1 时即 DDPM 的 β_t）"),
    ),
    doc="β̃ = (1 − ᾱ_prev)/(1 − ᾱ_t) · β, β = 1 − ᾱ_t/ᾱ_prev (DDPM eq. 7); 0 at the last step.",
))


# ------------------------------------------------------------------------------------------ 2.3 ddpm_step

def _step_cases():
    g = torch.Generator().manual_seed(23)
    x_t = torch.randn(3, 1, 4, 4, generator=g, dtype=_F64)
    eps = torch.randn(3, 1, 4, 4, generator=g, dtype=_F64)
    z = torch.randn(3, 1, 4, 4, generator=g, dtype=_F64)
    cases = [Case((x_t, eps, ab, abp, z), label, label_zh=label_zh) for label, label_zh, ab, abp in _pairs()]
    cases.append(Case((x_t.float(), eps.float(), _ab(600), _ab(550), z.float()), "float32 batch, t = 600 → 550",
                      label_zh="float32 批次，t = 600 → 550"))
    return cases


def _step_reference(x_t, eps_hat, alpha_bar_t, alpha_bar_prev, noise):
    return samplers.ddpm_step(x_t, eps_hat, alpha_bar_t, alpha_bar_prev, "fixed_small", noise)


def _ddpm(x_t, eps_hat, ab, abp, noise, *, x0_ab=None, var=None, scale=None, add_noise=True):
    """The DDPM step with one part swapped for a wrong one (for the mistakes below)."""
    beta = 1 - ab / abp
    a = ab if x0_ab is None else x0_ab
    x0_hat = (x_t - (1 - a).sqrt() * eps_hat) / a.sqrt()
    mean = abp.sqrt() * beta / (1 - ab) * x0_hat + (1 - beta).sqrt() * (1 - abp) / (1 - ab) * x_t
    v = (1 - abp) / (1 - ab) * beta if var is None else var
    s = v.sqrt() if scale is None else scale
    return mean + s * noise if add_noise else mean


def _step_alpha_for_alpha_bar(x_t, eps_hat, ab, abp, noise):
    return _ddpm(x_t, eps_hat, ab, abp, noise, x0_ab=ab / abp)


def _step_fixed_large(x_t, eps_hat, ab, abp, noise):
    return _ddpm(x_t, eps_hat, ab, abp, noise, var=1 - ab / abp)


def _step_variance_for_std(x_t, eps_hat, ab, abp, noise):
    return _ddpm(x_t, eps_hat, ab, abp, noise, scale=(1 - abp) / (1 - ab) * (1 - ab / abp))


def _step_no_noise(x_t, eps_hat, ab, abp, noise):
    return _ddpm(x_t, eps_hat, ab, abp, noise, add_noise=False)


register(Exercise(
    name="ddpm_step", chapter=2,
    signature="ddpm_step(x_t, eps_hat, alpha_bar_t, alpha_bar_prev, noise) -> x_prev or (x_prev, x0_hat)",
    reference=_step_reference,
    cases=_step_cases,
    mistakes=(
        Mistake("alpha_for_alpha_bar", "DDPM's one-step α_t = ᾱ_t/ᾱ_prev used where ᾱ_t is meant (in x̂₀)",
                "x̂₀ inverts q(x_t | x₀) = N(√ᾱ_t x₀, 1 − ᾱ_t), which is cumulative", _step_alpha_for_alpha_bar,
                label_zh="在该用 ᾱ_t 的地方用了 DDPM 的单步 α_t = ᾱ_t/ᾱ_prev（在 x̂₀ 中）",
                hint_zh="x̂₀ 是对 q(x_t | x₀) = N(√ᾱ_t x₀, 1 − ᾱ_t) 求逆，而它是累积的"),
        Mistake("fixed_large", "fixed_large's β where β̃ is asked (noise std √β)",
                "fixed_small adds noise of variance β̃ = (1 − ᾱ_prev)/(1 − ᾱ_t) · β", _step_fixed_large,
                label_zh="要求的是 β̃，却用了 fixed_large 的 β（噪声标准差 √β）",
                hint_zh="fixed_small 加入方差为 β̃ = (1 − ᾱ_prev)/(1 − ᾱ_t) · β 的噪声"),
        Mistake("variance_for_std", "the variance β̃ multiplies z where the standard deviation √β̃ belongs",
                "z ~ N(0, I) is scaled by a standard deviation", _step_variance_for_std,
                label_zh="用方差 β̃ 乘 z，而该用的是标准差 √β̃",
                hint_zh="z ~ N(0, I) 要乘的是标准差"),
        Mistake("returns_x0_hat", "x̂₀ returned as the next x",
                "the step returns x_prev = μ̃(x̂₀, x_t) + √β̃ z; x̂₀ is only an ingredient", pitfalls.returns_x0_hat,
                label_zh="把 x̂₀ 当作下一个 x 返回",
                hint_zh="这一步返回 x_prev = μ̃(x̂₀, x_t) + √β̃ z；x̂₀ 只是其中的一个成分"),
        Mistake("no_noise", "the noise term √β̃ z left out",
                "an ancestral step samples from N(μ̃, β̃): add √β̃ · noise", _step_no_noise,
                label_zh="漏掉了噪声项 √β̃ z",
                hint_zh="祖先采样的一步从 N(μ̃, β̃) 中采样：加上 √β̃ · noise"),
    ),
    output="first",
    doc="x̂₀ = (x_t − √(1 − ᾱ_t) ε̂)/√ᾱ_t, then x_prev = μ̃(x̂₀, x_t) + √β̃ z (DDPM eqs. 6–7, 15; fixed_small).",
))


# ------------------------------------------------------------------------------------------ 2.4 l_simple

def _loss_cases():
    oracle = GaussianOracle(_S, mu=0.0, s=0.5)
    g = torch.Generator().manual_seed(24)
    x0 = 0.5 * torch.randn(6, 1, 4, 4, generator=g, dtype=_F64)
    eps = torch.randn(6, 1, 4, 4, generator=g, dtype=_F64)
    t = torch.tensor([0, 10, 200, 500, 800, 999])
    return [Case((oracle, x0, t, eps, _S.alpha_bars), "exact Gaussian ε-model, t = 0 … 999", label_zh="精确的高斯 ε 模型，t = 0 … 999"),
            Case((oracle, x0[:2], torch.tensor([300, 300]), eps[:2], _S.alpha_bars), "two images at t = 300", label_zh="两张图像，t = 300"),
            Case((oracle, x0.float(), t.flip(0), eps.float(), _S.alpha_bars), "float32 batch", label_zh="float32 批次")]


def _loss_x0_target(model, x0, t, noise, alpha_bars):
    ab = alpha_bars[t].to(x0.dtype).reshape(-1, *([1] * (x0.dim() - 1)))
    x_t = ab.sqrt() * x0 + (1 - ab).sqrt() * noise
    return ((model(x_t, t) - x0) ** 2).mean()


def _loss_no_sqrt(model, x0, t, noise, alpha_bars):
    ab = alpha_bars[t].to(x0.dtype).reshape(-1, *([1] * (x0.dim() - 1)))
    x_t = ab * x0 + (1 - ab) * noise
    return ((model(x_t, t) - noise) ** 2).mean()


def _loss_one_based(model, x0, t, noise, alpha_bars):
    return elbo.l_simple(model, x0, t, noise, alpha_bars[torch.arange(len(alpha_bars)) - 1])


def _loss_sum(model, x0, t, noise, alpha_bars):
    return elbo.l_simple(model, x0, t, noise, alpha_bars) * x0[0].numel()


def _loss_model_on_x0(model, x0, t, noise, alpha_bars):
    return ((model(x0, t) - noise) ** 2).mean()


register(Exercise(
    name="l_simple", chapter=2,
    signature="l_simple(model, x0, t, noise, alpha_bars) -> 0-dim tensor (mean over all elements)",
    reference=elbo.l_simple,
    cases=_loss_cases,
    mistakes=(
        Mistake("x0_target", "the prediction compared with x₀ instead of ε",
                "an ε-prediction model is trained to output the noise that was added", _loss_x0_target,
                label_zh="把预测与 x₀ 而不是 ε 比较",
                hint_zh="预测 ε 的模型被训练来输出加入的噪声"),
        Mistake("no_sqrt", "missing square roots in x_t: ᾱ_t x₀ + (1 − ᾱ_t) ε",
                "x_t = √ᾱ_t x₀ + √(1 − ᾱ_t) ε (DDPM eq. 4)", _loss_no_sqrt,
                label_zh="x_t 中缺少平方根：ᾱ_t x₀ + (1 − ᾱ_t) ε",
                hint_zh="x_t = √ᾱ_t x₀ + √(1 − ᾱ_t) ε（DDPM 式 4）"),
        Mistake("one_based", "1-based timesteps: alpha_bars[t − 1] where alpha_bars[t] belongs",
                "t is 0-based here: t = 0 is the first noising step, alpha_bars[0] = 1 − β_0", _loss_one_based,
                label_zh="时间步从 1 开始编号：该用 alpha_bars[t] 的地方用了 alpha_bars[t − 1]",
                hint_zh="这里 t 从 0 开始编号：t = 0 是第一个加噪步，alpha_bars[0] = 1 − β_0"),
        Mistake("sum_not_mean", "the squared error summed over pixels instead of averaged",
                "here L_simple is the mean over all elements (F.mse_loss), so that its scale does not grow with "
                "the image size", _loss_sum,
                label_zh="平方误差对像素求和而不是取平均",
                hint_zh="这里 L_simple 是对所有元素的平均（F.mse_loss），这样它的尺度不会随图像尺寸增长"),
        Mistake("model_on_x0", "the model evaluated on x₀ instead of the noised x_t",
                "the network sees x_t = √ᾱ_t x₀ + √(1 − ᾱ_t) ε and t", _loss_model_on_x0,
                label_zh="在 x₀ 上而不是在加噪后的 x_t 上调用模型",
                hint_zh="网络看到的是 x_t = √ᾱ_t x₀ + √(1 − ᾱ_t) ε 和 t"),
    ),
    doc="x_t = √ᾱ_t x₀ + √(1 − ᾱ_t) ε per image, then the mean of (ε − ε_θ(x_t, t))² (DDPM eq. 14).",
))
