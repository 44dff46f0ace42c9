"""Chapter 4 exercises: the DDIM step, the leading and trailing timestep lists, and the ᾱ_prev of every step.

``alpha_bar`` is DDPM's ᾱ (the DDIM paper's α). Scalars are 0-dim float64 tensors, as ``samplers.sample`` passes
them. The DDIM step's wrong answers are the broken updates of :mod:`ddim_teach.pitfalls` (the pitfalls clinic uses
the same functions); the timestep and ᾱ_prev mistakes are written here.
"""
from __future__ import annotations

import numpy as np
import torch

from .. import pitfalls, samplers, schedules
from . import Case, Exercise, Mistake, register
from ._cases import F64 as _F64, ONE as _ONE, SCHEDULE as _S, ddim_step_case


# ------------------------------------------------------------------------------------------ 4.1 ddim_step

def _step_cases():
    g = torch.Generator().manual_seed(41)

    def case(label, label_zh, t, t_prev, eta, dtype=_F64):
        x, eps, z = (torch.randn(3, 1, 4, 4, generator=g, dtype=_F64) for _ in range(3))   # fresh for each case
        return ddim_step_case(label, label_zh, x, eps, t, t_prev, eta, z, dtype)

    return [case("η = 0 at t = 500 → 480", "η = 0，t = 500 → 480", 500, 480, 0.0),
            case("η = 1 at t = 500 → 480", "η = 1，t = 500 → 480", 500, 480, 1.0),
            case("η = 0.5 over a skip of 500 (999 → 499)", "η = 0.5，跨 500 步（999 → 499）", 999, 499, 0.5),
            case("η = 1 over a skip of 200 (999 → 799)", "η = 1，跨 200 步（999 → 799）", 999, 799, 1.0),
            case("η = 1 for one step (10 → 9)", "η = 1，只走一步（10 → 9）", 10, 9, 1.0),
            case("last step (99 → ᾱ_prev = 1) at η = 1", "最后一步（99 → ᾱ_prev = 1），η = 1", 99, None, 1.0),
            case("float32 batch at η = 1 (300 → 200)", "float32 批次，η = 1（300 → 200）", 300, 200, 1.0, torch.float32),
            case("float32 batch at η = 0 (999 → 899)", "float32 批次，η = 0（999 → 899）", 999, 899, 0.0, torch.float32)]


register(Exercise(
    name="ddim_step", chapter=4,
    signature="ddim_step(x_t, eps_hat, alpha_bar_t, alpha_bar_prev, eta, noise) -> x_prev or (x_prev, x0_hat)",
    reference=samplers.ddim_step, cases=_step_cases, output="first",
    doc="one DDIM step, eq. 12 with σ_t(η) of eq. 16",
    mistakes=(
        Mistake("sigma_squared", "σ² used where σ is meant (the noise is σ_t² z)",
                "σ_t from eq. 16 is a standard deviation: the noise is multiplied by it, not by its square.",
                pitfalls.variance_for_std,
                label_zh="该用 σ 的地方用了 σ²（噪声成了 σ_t² z）",
                hint_zh="式 16 的 σ_t 是标准差：噪声要乘以它本身，而不是它的平方。"),
        Mistake("alpha_for_alpha_bar", "DDPM's one-step α_t = ᾱ_t/ᾱ_prev used where ᾱ_t is meant",
                "x̂₀ comes from x_t = √ᾱ_t x₀ + √(1 − ᾱ_t) ε with the cumulative ᾱ_t (the DDIM paper's α_t), "
                "not the one-step ratio.", pitfalls.alpha_for_alpha_bar,
                label_zh="该用 ᾱ_t 的地方用了 DDPM 的单步 α_t = ᾱ_t/ᾱ_prev",
                hint_zh="x̂₀ 来自 x_t = √ᾱ_t x₀ + √(1 − ᾱ_t) ε，其中是累积的 ᾱ_t（DDIM 论文中的 α_t），而不是单步的比值。"),
        Mistake("returns_x0_hat", "x̂₀ returned as the next x",
                "x̂₀ is the prediction of the clean image; the step must return x at the next, smaller noise level, "
                "which mixes x̂₀ with a direction and noise.", pitfalls.returns_x0_hat,
                label_zh="把 x̂₀ 当作下一个 x 返回",
                hint_zh="x̂₀ 是对干净图像的预测；这一步要返回的是下一个、噪声更小的 x，它由 x̂₀、一个方向项和噪声混合而成。"),
        Mistake("noise_scale_tutorial", "the noise added at the wrong scale, η·√(1 − ᾱ_prev)·z (as a widely copied "
                "tutorial writes it)",
                "the fresh noise is σ_t z, with σ_t from eq. 16; √(1 − ᾱ_prev) is the whole noise level of x_prev, "
                "not the part the step adds.", pitfalls.noise_scale_tutorial,
                label_zh="噪声加的尺度不对：η·√(1 − ᾱ_prev)·z（一篇流传很广的教程就是这么写的）",
                hint_zh="新加入的噪声是 σ_t z，σ_t 由式 16 给出；√(1 − ᾱ_prev) 是 x_prev 的全部噪声水平，而不是这一步新加的部分。"),
        Mistake("direction_without_sigma", "the direction term without −σ²: √(1 − ᾱ_prev)·ε̂",
                "the noise σ_t z takes part of x_prev's noise variance 1 − ᾱ_prev; the direction term gets only "
                "what is left.", pitfalls.direction_without_sigma,
                label_zh="方向项漏了 −σ²：写成了 √(1 − ᾱ_prev)·ε̂",
                hint_zh="噪声 σ_t z 占去了 x_prev 噪声方差 1 − ᾱ_prev 的一部分；方向项只能分到剩下的。"),
        Mistake("direction_without_sqrt", "a missing square root: the direction coefficient is (1 − ᾱ_prev − σ²)",
                "1 − ᾱ_prev − σ_t² is a variance; ε̂ is multiplied by a standard deviation.",
                pitfalls.direction_without_sqrt,
                label_zh="缺少平方根：方向项的系数写成了 (1 − ᾱ_prev − σ²)",
                hint_zh="1 − ᾱ_prev − σ_t² 是方差；ε̂ 要乘的是标准差。"),
        Mistake("signal_without_sqrt", "a missing square root: x̂₀ scaled by ᾱ_prev instead of √ᾱ_prev",
                "the forward process scales x₀ by √ᾱ, not by ᾱ.", pitfalls.signal_without_sqrt,
                label_zh="缺少平方根：x̂₀ 乘的是 ᾱ_prev 而不是 √ᾱ_prev",
                hint_zh="前向过程把 x₀ 乘以 √ᾱ，而不是 ᾱ。"),
    )))


# ------------------------------------------------------------------------------------------ 4.2 timesteps

def _ts_cases():
    return [Case((1000, 10, "leading"), "leading with S = 10", label_zh="leading，S = 10"),
            Case((1000, 10, "trailing"), "trailing with S = 10", label_zh="trailing，S = 10"),
            Case((1000, 3, "leading"), "leading with S = 3", label_zh="leading，S = 3"),
            Case((1000, 3, "trailing"), "trailing with S = 3 (T/S not an integer)", label_zh="trailing，S = 3（T/S 不是整数）"),
            Case((1000, 7, "trailing"), "trailing with S = 7", label_zh="trailing，S = 7"),
            Case((1000, 30, "leading"), "leading with S = 30", label_zh="leading，S = 30"),
            Case((50, 4, "trailing"), "trailing with T = 50 and S = 4", label_zh="trailing，T = 50，S = 4"),
            Case((1000, 1000, "trailing"), "trailing with S = T = 1000", label_zh="trailing，S = T = 1000")]


def _ts_one_based(T, steps, spacing):
    if spacing == "leading":
        return (torch.arange(steps) * (T // steps) + 1).flip(0)
    return torch.from_numpy(np.round(np.arange(T, 0, -T / steps)).astype(np.int64))


def _ts_ascending(T, steps, spacing):
    return schedules.timesteps(T, steps, spacing).flip(0)


def _ts_integer_stride(T, steps, spacing):
    if spacing == "leading":
        return schedules.timesteps(T, steps, spacing)
    return T - 1 - torch.arange(steps) * (T // steps)


def _ts_swapped(T, steps, spacing):
    return schedules.timesteps(T, steps, "trailing" if spacing == "leading" else "leading")


def _ts_linspace(T, steps, spacing):
    if spacing == "leading":
        return schedules.timesteps(T, steps, spacing)
    return schedules.timesteps(T, steps, "linspace")


register(Exercise(
    name="timesteps", chapter=4,
    signature="timesteps(T, steps, spacing) -> LongTensor of `steps` timesteps, descending (spacing 'leading' or 'trailing')",
    reference=schedules.timesteps, cases=_ts_cases,
    doc="the leading and trailing timestep lists (0-based, noisiest first)",
    mistakes=(
        Mistake("one_based", "1-based timesteps (t = 1 … T)",
                "the package's timesteps are 0-based: t runs from 0 to T − 1, and T − 1 is the noisiest.", _ts_one_based,
                label_zh="时间步从 1 开始编号（t = 1 … T）",
                hint_zh="本包的时间步从 0 开始：t 从 0 到 T − 1，T − 1 噪声最大。"),
        Mistake("ascending", "the list in ascending order",
                "sampling goes from noise to data: the list starts at the noisiest timestep.", _ts_ascending,
                label_zh="序列按升序排列",
                hint_zh="采样是从噪声走向数据：序列从噪声最大的时间步开始。"),
        Mistake("integer_stride", "trailing with an integer stride T // S",
                "for trailing, the positions T, T − T/S, T − 2T/S, … are fractions in general: round them, "
                "then shift to 0-based.", _ts_integer_stride,
                label_zh="trailing 用了整数步长 T // S",
                hint_zh="对 trailing，位置 T, T − T/S, T − 2T/S, … 一般是小数：先取整，再平移到从 0 开始的编号。"),
        Mistake("swapped", "leading and trailing swapped",
                "leading counts up from 0 (so it never reaches T − 1); trailing counts down from T.", _ts_swapped,
                label_zh="leading 与 trailing 弄反了",
                hint_zh="leading 从 0 往上数（所以永远到不了 T − 1）；trailing 从 T 往下数。"),
        Mistake("linspace_for_trailing", "linspace spacing given for trailing",
                "linspace includes both t = T − 1 and t = 0; trailing starts at T − 1 and stops one stride above 0.",
                _ts_linspace,
                label_zh="trailing 给成了 linspace 间隔",
                hint_zh="linspace 同时包含 t = T − 1 和 t = 0；trailing 从 T − 1 开始，停在比 0 高一个步长的地方。"),
    )))


# ------------------------------------------------------------------------------------------ 4.3 alpha_bar_prevs

def _probe_model(x, t):
    return torch.zeros_like(x)


def _abp_reference(alpha_bars, timesteps):
    """The ᾱ_prev of every step, as ``samplers.sample`` computes them (read from its Trajectory; the probe
    model returns zeros, so only the schedule lookup matters)."""
    sch = schedules.Schedule(torch.full((len(alpha_bars),), 0.01, dtype=_F64))
    sch.alpha_bars = alpha_bars            # the given ᾱ's, exactly
    x = torch.zeros(1, 1, dtype=_F64)
    ts = [int(t) for t in timesteps]
    return samplers.sample(_probe_model, sch, x, timesteps=ts, record_every=None, progress=False).alpha_bar_prevs


def _abp_cases():
    ab = _S.alpha_bars
    cos = schedules.make_schedule("cosine", 1000).alpha_bars
    lin50 = schedules.make_schedule("linear", 50).alpha_bars
    return [Case((ab, schedules.timesteps(1000, 10, "leading")), "leading with S = 10 [900 … 0]", label_zh="leading，S = 10 [900 … 0]"),
            Case((ab, schedules.timesteps(1000, 10, "trailing")), "trailing with S = 10 [999 … 99]", label_zh="trailing，S = 10 [999 … 99]"),
            Case((ab, schedules.timesteps(1000, 7, "linspace")), "linspace with S = 7 [999 … 0]", label_zh="linspace，S = 7 [999 … 0]"),
            Case((ab, torch.tensor([999, 500, 100, 5])), "a list of your own [999 500 100 5]", label_zh="自定义序列 [999 500 100 5]"),
            Case((ab, torch.tensor([999])), "one step [999]", label_zh="只有一步 [999]"),
            Case((cos, schedules.timesteps(1000, 20, "trailing")), "cosine schedule (trailing with S = 20)", label_zh="cosine 噪声调度（trailing，S = 20）"),
            Case((lin50, schedules.timesteps(50, 4, "trailing")), "T = 50 (trailing with S = 4)", label_zh="T = 50（trailing，S = 4）")]


def _abp_with_final(alpha_bars, timesteps, final):
    ts = torch.as_tensor(timesteps).long()
    return torch.cat([alpha_bars[ts[1:]], final.reshape(1)])


def _abp_final_T(alpha_bars, timesteps):
    return _abp_with_final(alpha_bars, timesteps, alpha_bars[-1])


def _abp_final_0(alpha_bars, timesteps):
    return _abp_with_final(alpha_bars, timesteps, alpha_bars[0])


def _abp_fixed_stride(alpha_bars, timesteps):
    ts = torch.as_tensor(timesteps).long()
    stride = len(alpha_bars) // len(ts)
    return torch.stack([alpha_bars[t - stride] if t - stride >= 0 else _ONE for t in ts.tolist()])


def _abp_one_step(alpha_bars, timesteps):
    ts = torch.as_tensor(timesteps).long()
    return torch.stack([alpha_bars[t - 1] if t >= 1 else _ONE for t in ts.tolist()])


def _abp_own(alpha_bars, timesteps):
    return alpha_bars[torch.as_tensor(timesteps).long()]


register(Exercise(
    name="alpha_bar_prevs", chapter=4,
    signature="alpha_bar_prevs(alpha_bars, timesteps) -> float64 tensor: the ᾱ_prev that each step of the list moves to",
    reference=_abp_reference, cases=_abp_cases,
    doc="the ᾱ_prev of every step: the next entry of the list, and 1 after the last",
    mistakes=(
        Mistake("final_alpha_bar_T", "ᾱ_T (alpha_bars[-1], a wrapped index) as the final ᾱ_prev instead of 1",
                "after the last entry the step goes to the clean image; a negative index wraps around to the noisiest "
                "ᾱ (the pitfalls clinic's wrapped_final_alpha_bar).", _abp_final_T,
                label_zh="最后的 ᾱ_prev 用了 ᾱ_T（alpha_bars[-1]，索引绕回）而不是 1",
                hint_zh="最后一项之后，这一步走向干净图像；负索引会绕回到噪声最大的 ᾱ（常见错误门诊中的 wrapped_final_alpha_bar）。"),
        Mistake("final_alpha_bar_0", "ᾱ_0 as the final ᾱ_prev instead of 1",
                "after the last entry the step goes to the clean image, where ᾱ = 1 (diffusers' set_alpha_to_one=True); "
                "ᾱ_0 is a level of noise still.", _abp_final_0,
                label_zh="最后的 ᾱ_prev 用了 ᾱ_0 而不是 1",
                hint_zh="最后一项之后，这一步走向干净图像，那里 ᾱ = 1（diffusers 的 set_alpha_to_one=True）；ᾱ_0 仍然是一个噪声水平。"),
        Mistake("fixed_stride", "a fixed stride t − T//S instead of the next entry of the list",
                "the step goes to the next timestep of the list; for trailing, linspace or a list of your own that "
                "is not t − T//S.", _abp_fixed_stride,
                label_zh="用了固定步长 t − T//S，而不是序列中的下一项",
                hint_zh="这一步走向序列中的下一个时间步；对 trailing、linspace 或自定义序列，它不是 t − T//S。"),
        Mistake("one_step_back", "ᾱ at t − 1 (one DDPM step) instead of the next entry of the list",
                "with S < T steps, the step from t skips to the next entry of the list, not to t − 1.", _abp_one_step,
                label_zh="用了 t − 1 处的 ᾱ（DDPM 的一步），而不是序列中的下一项",
                hint_zh="步数 S < T 时，从 t 出发的一步跳到序列中的下一项，而不是 t − 1。"),
        Mistake("own_alpha_bar", "each step's own ᾱ_t instead of the next one",
                "ᾱ_prev belongs to the timestep the step moves to: the next entry of the list.", _abp_own,
                label_zh="每一步用了自己的 ᾱ_t，而不是下一项的",
                hint_zh="ᾱ_prev 属于这一步要走到的时间步：序列中的下一项。"),
    )))
