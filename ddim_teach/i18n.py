"""The course's language: English (default) or Simplified Chinese, for the text the package shows.

The notebooks' prose is translated in ``i18n/zh/*.json`` and built into ``notebooks/zh/`` by
``scripts/build_zh.py``. This module covers the text that *code* shows: the explorer's sliders and status
line, the titles and labels the viz helpers draw, the exercise checker's verdicts, and the label and hint of
every named mistake (:mod:`ddim_teach.mistakes`, keys ``mistake.<name>.label`` and ``.hint``). The first code
cell of every Chinese notebook runs::

    from ddim_teach import i18n
    i18n.set_language("zh")        # also calls i18n.use_chinese_font()

Helpers then call :func:`tr` with a key of :data:`STRINGS`::

    tr("explorer.computing", setting="η = 0, S = 20, seed = 0")   # "正在计算 η = 0, S = 20, seed = 0…" in zh

Math symbols (η, σ_t, x̂₀, S) stay as they are in both languages, as in the notebooks.

Fonts: matplotlib's default font (DejaVu Sans) has no Chinese glyphs and draws boxes ("tofu") with a
``Glyph ... missing from font(s)`` warning per character. :func:`use_chinese_font` finds a CJK font and puts it
*behind* DejaVu Sans in ``rcParams["font.family"]``: Latin letters, Greek and math symbols keep their usual
look, and each Chinese character falls back to the CJK font (matplotlib >= 3.6 falls back per glyph). It
looks, in order, for the font of the ``noto-cjk-sans-otc`` package (Noto Sans CJK SC, OFL-1.1; a dependency
of this package, so ``pip install`` brings it on every platform), then for a Chinese font already installed
(Debian's ``fonts-noto-cjk`` or ``fonts-wqy-microhei``, macOS's PingFang SC, Windows' Microsoft YaHei, ...).
"""
from __future__ import annotations

import contextlib
import os
import string
import warnings
from collections.abc import Iterator

__all__ = [
    "LANGUAGES",
    "STRINGS",
    "find_chinese_font",
    "get_language",
    "language",
    "missing_glyphs",
    "set_language",
    "tr",
    "use_chinese_font",
    "using",
]

LANGUAGES = ("en", "zh")
_state = {"lang": "en", "font": None}

# Every string that package code shows a reader. {name} fields are filled by tr(key, name=...).
# Keys are grouped by the module that uses them. Keep the math symbols unchanged in zh.
STRINGS: dict[str, dict[str, str]] = {
    # explorer.widget: the controls' labels and the status line. explorer.figure.setting_text (also written into the PNG's
    # "ddim-teach-setting" chunk, which tests read) stays English; the status line shows tr("explorer.setting").
    "explorer.eta": {"en": "η", "zh": "η"},
    "explorer.steps": {"en": "steps", "zh": "步数"},
    "explorer.spacing": {"en": "spacing", "zh": "间隔"},
    "explorer.seed": {"en": "seed", "zh": "种子"},
    "explorer.setting": {"en": "η = {eta:g}, S = {steps}, {spacing}, seed = {seed}",
                         "zh": "η = {eta:g}，S = {steps}，{spacing}，种子 = {seed}"},
    "explorer.computing": {"en": "computing {setting}…", "zh": "正在计算 {setting}…"},
    "explorer.computed": {
        "en": "{setting}: computed in {seconds:.2f}s; picture in {picture:.2f}s (settings already shown are instant)",
        "zh": "{setting}：计算用时 {seconds:.2f} 秒，绘图用时 {picture:.2f} 秒（显示过的设置会立即重现）"},
    "explorer.computed_ahead": {
        "en": "{setting}: computed ahead in {seconds:.2f}s; picture in {picture:.2f}s "
              "(settings already shown are instant)",
        "zh": "{setting}：已提前算好（用时 {seconds:.2f} 秒），绘图用时 {picture:.2f} 秒（显示过的设置会立即重现）"},
    # explorer.figure.ExplorerFigure / draw_explorer: the figure
    "explorer.final": {"en": "final samples   η = {eta:g}, S = {steps}, {spacing}, seed = {seed}",
                       "zh": "最终样本   η = {eta:g}，S = {steps}，{spacing}，种子 = {seed}"},
    "explorer.starts_at": {"en": " starts at t = {t}", "zh": " 从 t = {t} 开始"},
    "explorer.t": {"en": "t", "zh": "t"},
    "explorer.tip_leading": {"en": "DDIM's uniform: 0, T/S, 2T/S, ... (never visits T-1)",
                             "zh": "DDIM 的 uniform：0, T/S, 2T/S, …（从不经过 T-1）"},
    "explorer.tip_trailing": {"en": "counts down from T-1 = 999", "zh": "从 T-1 = 999 开始往下数"},
    "explorer.tip_linspace": {"en": "999 down to 0, evenly", "zh": "从 999 均匀地降到 0"},
    # explorer: the solver selector (DDIM or DPM-Solver++(2M)); setting_text names the solver first
    "explorer.solver": {"en": "solver", "zh": "求解器"},
    "explorer.solver_ddim": {"en": "DDIM", "zh": "DDIM"},
    "explorer.solver_dpm_solver_pp_2m": {"en": "DPM-Solver++(2M)", "zh": "DPM-Solver++(2M)"},
    "explorer.tip_ddim": {"en": "first order: one model call per step; η sets the noise added",
                          "zh": "一阶：每步调用一次模型；η 决定加入的噪声"},
    "explorer.tip_dpm_solver_pp_2m": {
        "en": "second order: one model call per step, reusing the previous step's x̂₀; deterministic, no η",
        "zh": "二阶：每步调用一次模型，并复用上一步的 x̂₀；确定性的，没有 η"},
    "explorer.eta_unused": {"en": "DPM-Solver++(2M) has no η: it adds no noise",
                            "zh": "DPM-Solver++(2M) 没有 η：它不加噪声"},
    "explorer.with_solver": {"en": "{solver}, {setting}", "zh": "{solver}，{setting}"},
    "explorer.setting_no_eta": {"en": "no η, S = {steps}, {spacing}, seed = {seed}",
                                "zh": "无 η，S = {steps}，{spacing}，种子 = {seed}"},
    "explorer.final_samples": {"en": "final samples   {setting}", "zh": "最终样本   {setting}"},
    # explorer: the reference row (DDIM, η = 0, S = 100, same seed and spacing) and the RMS distances to it
    "explorer.reference_row": {"en": "reference: DDIM, η = {eta:g}, S = {steps}, {spacing}, the same x_T (RMS to it above)",
                               "zh": "参考行：DDIM，η = {eta:g}，S = {steps}，{spacing}，同一个 x_T（上方为到它的 RMS）"},
    "explorer.no_reference": {"en": "(no reference row)", "zh": "（无参考行）"},
    "explorer.rms_one": {"en": "{rms:.2f}", "zh": "{rms:.2f}"},
    "explorer.rms_label": {"en": "RMS", "zh": "RMS"},
    "explorer.rms_values": {"en": "{values} (mean {mean:.2f})", "zh": "{values}（平均 {mean:.2f}）"},
    "explorer.rms_status": {"en": "RMS distance of each sample to its reference (DDIM, η = {eta:g}, S = {steps}): {rms}",
                            "zh": "各样本到参考行（DDIM，η = {eta:g}，S = {steps}）的 RMS 距离：{rms}"},
    "explorer.reference_now": {"en": "; the reference row of this seed and spacing took {seconds:.2f}s, once",
                               "zh": "；这个种子和间隔的参考行用时 {seconds:.2f} 秒（只算一次）"},
    "explorer.computing_reference": {"en": "computing {setting} and its reference row…",
                                     "zh": "正在计算 {setting} 及其参考行…"},
    # explorer: the timestep panel (ᾱ_t at the visited timesteps; σ_t where η > 0)
    "explorer.visited_title": {"en": "timesteps visited ({spacing})", "zh": "访问的时间步（{spacing}）"},
    "explorer.alpha_bar_curve": {"en": "ᾱ_t, every t", "zh": "ᾱ_t，所有 t"},
    "explorer.visited": {"en": "ᾱ_t at the visited t", "zh": "访问到的 t 处的 ᾱ_t"},
    "explorer.sigma_eta": {"en": "σ_t per step (drawn where η > 0)", "zh": "每步的 σ_t（η > 0 时才画出）"},
    # family.py: the paths figure of the DDIM family q_σ (notebook 3)
    "family.title": {"en": "η = {eta:g}: {n} paths from q_σ(x_1:T | x₀), colour = x₀",
                     "zh": "η = {eta:g}：从 q_σ(x_1:T | x₀) 抽取的 {n} 条路径，颜色 = x₀"},
    "family.xlabel": {"en": "timestep t (noise → data)", "zh": "时间步 t（噪声 → 数据）"},
    # viz.show_strip: row labels (math) and the timestep line
    "strip.xs": {"en": "x_t", "zh": "x_t"},
    "strip.x0_hats": {"en": "x̂₀", "zh": "x̂₀"},
    "strip.eps_hats": {"en": "ε̂", "zh": "ε̂"},
    # diagnose.run_checks: the report's lines
    "diagnose.pass": {"en": "PASS",
        "zh": "通过"},
    "diagnose.fail": {"en": "FAIL",
        "zh": "未通过"},
    "diagnose.terminal_noise": {"en": "alpha_bar at t={t} is {ab} (want < 1e-2: x_T must be nearly pure noise)",
        "zh": "t={t} 处 alpha_bar 为 {ab}（应 < 1e-2：x_T 必须几乎是纯噪声）"},
    "diagnose.output_shape": {"en": "model output {out} for input {inp}",
        "zh": "输入 {inp} 时模型输出 {out}"},
    "diagnose.uses_time": {"en": "same x_t, t={t1} vs t={t2}: relative output change {rel} (want > 0.02)",
        "zh": "同一个 x_t，t={t1} 对比 t={t2}：输出的相对变化 {rel}（应 > 0.02）"},
    "diagnose.eps_scale": {"en": "at t={t}: MSE(eps_hat, eps) = {mse}, guessing 0 gives {trivial} (want < half)",
        "zh": "t={t} 处：MSE(eps_hat, eps) = {mse}，全猜 0 得 {trivial}（应小于它的一半）"},
    "diagnose.denoises": {"en": "at t={t}: MSE(x0_hat, x0) = {err}, vs {naive} for x_t/sqrt(alpha_bar) (want < half)",
        "zh": "t={t} 处：MSE(x0_hat, x0) = {err}，而 x_t/sqrt(alpha_bar) 得 {naive}（应小于它的一半）"},
    "diagnose.timesteps": {"en": "{spacing}, S={S}: starts at t={first}, ends at t={last} (want a start within 2% of {top}, descending)",
        "zh": "{spacing}，S={S}：从 t={first} 开始，到 t={last} 结束（起点应在 {top} 的 2% 以内，且递减）"},
    "diagnose.samples_like_data": {"en": "S={S} DDIM samples: mean {m_s}, std {s_s}; data: mean {m_d}, std {s_d}",
        "zh": "S={S} 的 DDIM 样本：均值 {m_s}，标准差 {s_s}；数据：均值 {m_d}，标准差 {s_d}"},
    # bench.markdown: the FD table's caption (bench.read_markdown reads both)
    "bench.caption": {"en": "MNIST-FD (lower is better), n = {n} samples per cell; real-vs-real floor at n = {n}: **{floor}**",
                      "zh": "MNIST-FD（越低越好），每格 n = {n} 个样本；真实对真实的本底值（n = {n}）：**{floor}**"},
    "bench.intervals_caption": {"en": "MNIST-FD, n = {n} samples per cell, each with its 95 % bootstrap interval "
                                      "[low, high] (`metrics.fd_interval`):",
                                "zh": "MNIST-FD，每格 n = {n} 个样本，附 95 % 自助法区间 [下限, 上限]（`metrics.fd_interval`）："},
    "bench.paired_caption": {"en": "Each row's FD minus the {row} row's in the same column (the same x_T and noise), with "
                                   "its 95 % paired bootstrap interval (`metrics.fd_difference_interval`); an interval "
                                   "that excludes 0 orders the two rows:",
                             "zh": "每行的 FD 减去同一列中 {row} 行的 FD（相同的 x_T 与噪声），附 95 % 配对自助法区间"
                                   "（`metrics.fd_difference_interval`）；区间不含 0 时，两行的先后才成立："},
    # bench.solver_label: the solver table's rows
    "solver.label": {"en": "{method}, {spacing}", "zh": "{method}，{spacing}"},
    "solver.ddim": {"en": "DDIM η=0", "zh": "DDIM η=0"},
    "solver.dpm_solver_pp_2m": {"en": "DPM-Solver++(2M)", "zh": "DPM-Solver++(2M)"},
    "solver.heun": {"en": "Heun", "zh": "Heun 法"},
    "spacing.trailing": {"en": "trailing", "zh": "trailing"},
    "spacing.logsnr": {"en": "uniform in log-SNR", "zh": "log-SNR 中等距"},
    "spacing.karras": {"en": "Karras ρ = 7", "zh": "Karras ρ = 7"},
    # exercises.check: the verdicts
    "check.ok": {"en": "✓ {name}: matches the reference on all {n} cases ({labels}).",
                 "zh": "✓ {name}：在全部 {n} 个用例上与参考实现一致（{labels}）。"},
    "check.not_implemented": {"en": "✗ {name}: not implemented yet — write the body of {name} in the cell above "
                                    "and run this cell again.",
                              "zh": "✗ {name}：尚未实现——请在上面的单元格里写出 {name} 的函数体，然后重新运行本单元格。"},
    "check.not_callable": {"en": "✗ {name}: expected a function {signature}, got {got}",
                           "zh": "✗ {name}：需要一个函数 {signature}，收到的是 {got}"},
    "check.raised": {"en": "✗ {name} raised {error} (case \"{case}\"){where}. Signature: {signature}",
                     "zh": "✗ {name} 抛出了 {error}（用例“{case}”）{where}。函数签名：{signature}"},
    "check.exit": {"en": "✗ {name} called {call} (case \"{case}\"){where}: return the result instead of ending the "
                         "program. Signature: {signature}",
                   "zh": "✗ {name} 调用了 {call}（用例“{case}”）{where}：请返回结果，不要结束程序。函数签名：{signature}"},
    "origin.yours": {"en": ", in your {func}, line {line}", "zh": "，位于你的 {func} 第 {line} 行"},
    "origin.helper": {"en": ", in {func} (line {line}), which your {name} calls",
                      "zh": "，位于你的 {name} 所调用的 {func}（第 {line} 行）"},
    "origin.package": {"en": ", inside the package ({file}, line {line}, in {func}): look at what your code passes to it",
                       "zh": "，发生在软件包内部（{file} 第 {line} 行，{func}）：检查你的代码传给它的参数"},
    "check.helper_not_implemented": {
        "en": "✗ {name}: {helper}, which {name} calls, is not implemented yet{message}. Write it, run its cell, "
              "then run this one again.",
        "zh": "✗ {name}：{name} 调用的 {helper} 尚未实现{message}。先写好它并运行它的单元格，再重新运行本单元格。"},
    "check.in_place": {
        "en": "✗ {name} changed its input `{arg}` in place (case \"{case}\"): the caller's tensor must stay as it was; "
              "compute a new one (x = x + …, not x += … or x.mul_(…)).",
        "zh": "✗ {name} 原地修改了输入 `{arg}`（用例“{case}”）：调用者的张量必须保持原样；请计算一个新张量"
              "（写 x = x + …，而不是 x += … 或 x.mul_(…)）。"},
    "check.time_limit": {
        "en": "✗ {name}: case \"{case}\" took more than {seconds} s and was stopped. Look for a loop that does not "
              "end, or work repeated for every element.",
        "zh": "✗ {name}：用例“{case}”运行超过 {seconds} s，已被中止。检查是否有不会结束的循环，或对每个元素重复的计算。"},
    "check.problem": {"en": "✗ {name} {problem} (case \"{case}\").",
                      "zh": "✗ {name}：{problem}（用例“{case}”）。"},
    "check.where": {"en": "largest difference: case \"{case}\", {reason}",
                    "zh": "差异最大处：用例“{case}”，{reason}"},
    "check.cases": {"en": "{k} of {n} cases ({labels})", "zh": "{n} 个用例中的 {k} 个（{labels}）"},
    "check.partial_all": {
        "en": "✗ {name}: fails on {fails}; on those it behaves like \"{label}\". Hint: {hint} ({where})",
        "zh": "✗ {name}：未通过 {fails}；在这些用例上，它的表现像是“{label}”。提示：{hint}（{where}）"},
    "check.partial_some": {
        "en": "✗ {name}: fails on {fails}; on {on} it behaves like \"{label}\", on the others it differs otherwise. "
              "Hint: {hint} ({where})",
        "zh": "✗ {name}：未通过 {fails}；其中在 {on} 上，它的表现像是“{label}”，其余用例另有差异。提示：{hint}（{where}）"},
    "check.mistake": {"en": "✗ {name}: looks like \"{label}\". Hint: {hint} ({where})",
                      "zh": "✗ {name}：看起来是“{label}”。提示：{hint}（{where}）"},
    "check.differs": {"en": "✗ {name}: differs from the reference on {fails}; {where}.",
                      "zh": "✗ {name}：在 {fails} 上与参考实现不同；{where}。"},
    # exercises: the reason a case differs
    "reason.at_index": {"en": " at index {i}",
        "zh": "，位于下标 {i}"},
    "reason.max_diff": {"en": "max |difference| {d}{where}{at}: got {got}, expected {expected}",
        "zh": "最大 |差| {d}{where}{at}：得到 {got}，应为 {expected}"},
    "reason.differs_at": {"en": "differs at index {i}{where}: got {got}, expected {expected}",
        "zh": "在下标 {i}{where} 处不同：得到 {got}，应为 {expected}"},
    "reason.nan": {"en": "contains NaN{where}",
        "zh": "含有 NaN{where}"},
    "reason.number": {"en": "got {got}{where}, expected {expected}",
        "zh": "得到 {got}{where}，应为 {expected}"},
    "reason.item": {"en": " (item {k})",
        "zh": "（第 {k} 项）"},
    "reason.values": {"en": "{n} values, expected {m}",
        "zh": "{n} 个值，应为 {m} 个"},
    "reason.coeff_tuple": {"en": "returned {got}, expected a tuple (k, m) of two SymPy expressions",
        "zh": "返回了 {got}，应为由两个 SymPy 表达式组成的元组 (k, m)"},
    "reason.coeff_expr": {"en": "{name} is a {got}, expected an expression (solve for k and m, then return the solutions)",
        "zh": "{name} 是 {got}，应为表达式（解出 k 和 m，再返回解）"},
    "reason.coeff_symbols": {"en": "{name} still contains {extra}: return the solved coefficients, in the inputs only",
        "zh": "{name} 中仍含有 {extra}：请返回解出的系数，只含输入的符号"},
    "reason.these_inputs": {"en": "these inputs",
        "zh": "这些输入"},
    "reason.coeff_value": {"en": "{name} = {got} at {at}, expected {expected}",
        "zh": "在 {at} 处 {name} = {got}，应为 {expected}"},
    # exercises: why an answer cannot be compared (the _Problem messages)
    "problem.none": {"en": "returned None — did you forget `return`?",
                     "zh": "返回了 None——是不是忘了写 `return`？"},
    "problem.not_tensor": {"en": "returned {got}{where}, expected a torch.Tensor",
                           "zh": "返回了 {got}{where}，应为 torch.Tensor"},
    "problem.not_number": {"en": "returned {got}{where}, expected a number", "zh": "返回了 {got}{where}，应为一个数"},
    "problem.not_sequence": {"en": "returned {got}{where}, expected a {expected} of {n}",
                             "zh": "返回了 {got}{where}，应为包含 {n} 个元素的 {expected}"},
    "problem.shape": {"en": "returned shape {got}{where}, expected {expected}",
                      "zh": "返回的形状为 {got}{where}，应为 {expected}"},
    "problem.dtype": {"en": "returned dtype {got}{where}, expected {expected} (keep the inputs' dtype)",
                      "zh": "返回的 dtype 为 {got}{where}，应为 {expected}（请保持输入的 dtype）"},
    "problem.storage": {"en": "returned a {got} tensor{where}, expected an ordinary dense CPU tensor like the inputs "
                                "(no .to_sparse(), no device='meta')",
                        "zh": "返回了 {got} 张量{where}，应为与输入相同的普通稠密 CPU 张量（不要用 .to_sparse() 或 device='meta'）"},
    "problem.rounding": {"en": " (a difference at float32's rounding level: compute in float64, the inputs' dtype)",
                         "zh": "（差异处于 float32 的舍入误差量级：请用 float64，即输入的 dtype 计算）"},
    "problem.count": {"en": "returned {got} values{where}, expected {expected}",
                      "zh": "返回了 {got} 个值{where}，应为 {expected} 个"},
    # ddim_teach.mistakes: each named mistake's label (what went wrong) and hint (where to look), by name.
    # A verdict shows them as: looks like "<label>". Hint: <hint>. In the order the exercises first use them;
    # wrapped_final_alpha_bar, a broken step of the clinic that no exercise lists, comes last.
    "mistake.cumprod_betas.label": {"en": "the product of the β's (not of the α's)", "zh": "β 的连乘（而不是 α 的连乘）"},
    "mistake.cumprod_betas.hint": {
        "en": "each step keeps a fraction α_s = 1 − β_s of the signal variance; ᾱ_t multiplies those fractions",
        "zh": "每一步保留信号方差的比例 α_s = 1 − β_s；ᾱ_t 是这些比例的乘积"},
    "mistake.alpha_bar_from_betas_alpha_for_alpha_bar.label": {
        "en": "DDPM's one-step α_t = 1 − β_t returned where the cumulative ᾱ_t is meant",
        "zh": "返回了 DDPM 的单步 α_t = 1 − β_t，而要求的是累积的 ᾱ_t"},
    "mistake.alpha_bar_from_betas_alpha_for_alpha_bar.hint": {
        "en": "ᾱ_t is the signal variance left after all steps s ≤ t, not after step t alone",
        "zh": "ᾱ_t 是经过所有 s ≤ t 的步之后剩下的信号方差，而不只是第 t 步之后的"},
    "mistake.shifted.label": {
        "en": "off by one: ᾱ_{t−1} (starting at 1) instead of ᾱ_t",
        "zh": "差一位：ᾱ_{t−1}（从 1 开始）而不是 ᾱ_t"},
    "mistake.shifted.hint": {
        "en": "the product runs over s ≤ t, so it includes step t itself; alpha_bars[0] = 1 − β_0",
        "zh": "乘积取遍 s ≤ t，包括第 t 步本身；alpha_bars[0] = 1 − β_0"},
    "mistake.one_minus_cumsum.label": {"en": "1 − Σβ (the first-order approximation)", "zh": "1 − Σβ（一阶近似）"},
    "mistake.one_minus_cumsum.hint": {
        "en": "the fractions multiply; 1 − Σβ is only their first-order approximation and turns negative",
        "zh": "各比例是相乘的；1 − Σβ 只是它的一阶近似，而且会变成负数"},
    "mistake.alpha_bar_from_betas_sqrt.label": {
        "en": "an extra square root: √ᾱ_t (the signal's amplitude) instead of ᾱ_t (its variance)",
        "zh": "多了一个平方根：√ᾱ_t（信号的幅度）而不是 ᾱ_t（信号的方差）"},
    "mistake.alpha_bar_from_betas_sqrt.hint": {
        "en": "ᾱ_t is the product of the α_s themselves, without a square root",
        "zh": "ᾱ_t 是各 α_s 本身的乘积，不开平方"},
    "mistake.q_sample_no_sqrt.label": {
        "en": "missing square roots: ᾱ_t x₀ + (1 − ᾱ_t) ε",
        "zh": "缺少平方根：ᾱ_t x₀ + (1 − ᾱ_t) ε"},
    "mistake.q_sample_no_sqrt.hint": {
        "en": "ᾱ_t and 1 − ᾱ_t are variances; a Gaussian is scaled by its standard deviation",
        "zh": "ᾱ_t 和 1 − ᾱ_t 是方差；缩放高斯变量用的是它的标准差"},
    "mistake.q_sample_coefficients_swapped.label": {"en": "the two coefficients swapped", "zh": "两个系数互换了"},
    "mistake.q_sample_coefficients_swapped.hint": {
        "en": "at t = 0 (ᾱ ≈ 1), x_t must be ≈ x₀",
        "zh": "在 t = 0（ᾱ ≈ 1）时，x_t 必须 ≈ x₀"},
    "mistake.amplitude_complement.label": {"en": "1 − √ᾱ_t as the noise's coefficient", "zh": "用 1 − √ᾱ_t 作为噪声的系数"},
    "mistake.amplitude_complement.hint": {
        "en": "the variances add up to 1, not the amplitudes: (√ᾱ_t)² + (noise coefficient)² = 1",
        "zh": "加起来等于 1 的是方差而不是幅度：(√ᾱ_t)² + (噪声系数)² = 1"},
    "mistake.unscaled_noise.label": {
        "en": "the noise added at full scale (√ᾱ_t x₀ + ε)",
        "zh": "噪声没有缩放就加上了（√ᾱ_t x₀ + ε）"},
    "mistake.unscaled_noise.hint": {
        "en": "the noise's variance is 1 − ᾱ_t, so that x_t keeps unit variance",
        "zh": "噪声的方差是 1 − ᾱ_t，这样 x_t 的方差保持为 1"},
    "mistake.unscaled_signal.label": {
        "en": "the signal not shrunk (x₀ + √(1 − ᾱ_t) ε)",
        "zh": "信号没有缩小（x₀ + √(1 − ᾱ_t) ε）"},
    "mistake.unscaled_signal.hint": {
        "en": "DDPM's forward process shrinks the signal by √ᾱ_t as it adds noise (variance preserving)",
        "zh": "DDPM 的前向过程在加噪的同时把信号缩小 √ᾱ_t 倍（保持方差）"},
    "mistake.alpha_bar_only.label": {
        "en": "ᾱ_t alone (the signal variance, not the ratio)",
        "zh": "只有 ᾱ_t（信号方差，而不是比值）"},
    "mistake.alpha_bar_only.hint": {
        "en": "SNR divides the signal variance by the noise variance",
        "zh": "SNR 是信号方差除以噪声方差"},
    "mistake.inverted.label": {"en": "noise over signal (1/SNR)", "zh": "噪声比信号（1/SNR）"},
    "mistake.inverted.hint": {"en": "the signal's variance goes on top", "zh": "信号的方差在分子上"},
    "mistake.amplitude.label": {"en": "the ratio of amplitudes √ᾱ_t/√(1 − ᾱ_t)", "zh": "幅度之比 √ᾱ_t/√(1 − ᾱ_t)"},
    "mistake.amplitude.hint": {
        "en": "SNR is a ratio of variances, not of standard deviations",
        "zh": "SNR 是方差之比，而不是标准差之比"},
    "mistake.snr_alpha_for_alpha_bar.label": {
        "en": "DDPM's one-step α_t/β_t where the cumulative ᾱ_t is meant",
        "zh": "用了 DDPM 的单步 α_t/β_t，而要求的是累积的 ᾱ_t"},
    "mistake.snr_alpha_for_alpha_bar.hint": {
        "en": "x_t's signal variance is ᾱ_t = ∏_{s≤t} α_s, and its noise variance 1 − ᾱ_t",
        "zh": "x_t 的信号方差是 ᾱ_t = ∏_{s≤t} α_s，噪声方差是 1 − ᾱ_t"},
    "mistake.alpha_bar_for_alpha.label": {
        "en": "√ᾱ_t where the step's own √α_t belongs (the x_t coefficient)",
        "zh": "在该用这一步自己的 √α_t 的地方用了 √ᾱ_t（x_t 的系数）"},
    "mistake.alpha_bar_for_alpha.hint": {
        "en": "x_t's coefficient comes from q(x_t | x_{t-1}) = N(√α_t x_{t-1}, β_t): one step, α = ᾱ_t/ᾱ_prev",
        "zh": "x_t 的系数来自 q(x_t | x_{t-1}) = N(√α_t x_{t-1}, β_t)：只是一步，α = ᾱ_t/ᾱ_prev"},
    "mistake.posterior_mean_alpha_for_alpha_bar.label": {
        "en": "DDPM's one-step α_t where the cumulative ᾱ_t is meant (1 − α_t in the denominators)",
        "zh": "用了 DDPM 的单步 α_t，而要求的是累积的 ᾱ_t（分母里出现 1 − α_t）"},
    "mistake.posterior_mean_alpha_for_alpha_bar.hint": {
        "en": "the denominator 1 − ᾱ_t is the variance of q(x_t | x₀), which is cumulative",
        "zh": "分母 1 − ᾱ_t 是 q(x_t | x₀) 的方差，它是累积的"},
    "mistake.no_sqrt_alpha.label": {
        "en": "a missing square root: α_t where √α_t belongs",
        "zh": "缺少平方根：该用 √α_t 的地方用了 α_t"},
    "mistake.no_sqrt_alpha.hint": {
        "en": "q(x_t | x_{t-1}) has mean √α_t x_{t-1}",
        "zh": "q(x_t | x_{t-1}) 的均值是 √α_t x_{t-1}"},
    "mistake.no_sqrt_alpha_bar_prev.label": {
        "en": "a missing square root: ᾱ_prev where √ᾱ_prev belongs",
        "zh": "缺少平方根：该用 √ᾱ_prev 的地方用了 ᾱ_prev"},
    "mistake.no_sqrt_alpha_bar_prev.hint": {
        "en": "q(x_{t-1} | x₀) has mean √ᾱ_{t-1} x₀",
        "zh": "q(x_{t-1} | x₀) 的均值是 √ᾱ_{t-1} x₀"},
    "mistake.posterior_mean_cumulative_beta.label": {
        "en": "1 − ᾱ_t used as the step's β (in the x₀ coefficient)",
        "zh": "把 1 − ᾱ_t 当作这一步的 β（在 x₀ 的系数中）"},
    "mistake.posterior_mean_cumulative_beta.hint": {
        "en": "the step's β is 1 − ᾱ_t/ᾱ_prev (DDPM's β_t when t_prev = t − 1)",
        "zh": "这一步的 β 是 1 − ᾱ_t/ᾱ_prev（t_prev = t − 1 时即 DDPM 的 β_t）"},
    "mistake.posterior_mean_x0_x_t_swapped.label": {
        "en": "the x₀ and x_t coefficients swapped",
        "zh": "x₀ 和 x_t 的系数互换了"},
    "mistake.posterior_mean_x0_x_t_swapped.hint": {
        "en": "at the last step (ᾱ_prev = 1) the mean must be x₀ itself",
        "zh": "在最后一步（ᾱ_prev = 1），均值必须就是 x₀ 本身"},
    "mistake.posterior_variance_fixed_large.label": {
        "en": "fixed_large's β where β̃ is asked",
        "zh": "要求的是 β̃，却用了 fixed_large 的 β"},
    "mistake.posterior_variance_fixed_large.hint": {
        "en": "β is the forward step's variance (DDPM's σ² = β option); the posterior's is smaller by (1 − ᾱ_prev)/(1 "
              "− ᾱ_t)",
        "zh": "β 是前向一步的方差（DDPM 中 σ² = β 的选项）；后验的方差要小 (1 − ᾱ_prev)/(1 − ᾱ_t) 倍"},
    "mistake.std_for_variance.label": {
        "en": "an extra square root: the standard deviation √β̃ instead of the variance β̃",
        "zh": "多了一个平方根：标准差 √β̃ 而不是方差 β̃"},
    "mistake.std_for_variance.hint": {
        "en": "the exercise asks for the variance, the quantity DDPM's eq. 7 calls β̃_t",
        "zh": "练习要求的是方差，即 DDPM 式 7 中的 β̃_t"},
    "mistake.inverted_ratio.label": {
        "en": "the ratio inverted: (1 − ᾱ_t)/(1 − ᾱ_prev) β",
        "zh": "比值倒过来了：(1 − ᾱ_t)/(1 − ᾱ_prev) β"},
    "mistake.inverted_ratio.hint": {
        "en": "β̃ ≤ β: the posterior knows x₀, so it is narrower than the forward step",
        "zh": "β̃ ≤ β：后验知道 x₀，所以比前向一步更窄"},
    "mistake.posterior_variance_cumulative_beta.label": {
        "en": "1 − ᾱ_t used as the step's β",
        "zh": "把 1 − ᾱ_t 当作这一步的 β"},
    "mistake.posterior_variance_cumulative_beta.hint": {
        "en": "the step's β is 1 − ᾱ_t/ᾱ_prev (DDPM's β_t when t_prev = t − 1)",
        "zh": "这一步的 β 是 1 − ᾱ_t/ᾱ_prev（t_prev = t − 1 时即 DDPM 的 β_t）"},
    "mistake.ddpm_step_alpha_for_alpha_bar.label": {
        "en": "DDPM's one-step α_t = ᾱ_t/ᾱ_prev used where ᾱ_t is meant (in x̂₀)",
        "zh": "在该用 ᾱ_t 的地方用了 DDPM 的单步 α_t = ᾱ_t/ᾱ_prev（在 x̂₀ 中）"},
    "mistake.ddpm_step_alpha_for_alpha_bar.hint": {
        "en": "x̂₀ inverts q(x_t | x₀) = N(√ᾱ_t x₀, 1 − ᾱ_t), which is cumulative",
        "zh": "x̂₀ 是对 q(x_t | x₀) = N(√ᾱ_t x₀, 1 − ᾱ_t) 求逆，而它是累积的"},
    "mistake.ddpm_step_fixed_large.label": {
        "en": "fixed_large's β where β̃ is asked (noise std √β)",
        "zh": "要求的是 β̃，却用了 fixed_large 的 β（噪声标准差 √β）"},
    "mistake.ddpm_step_fixed_large.hint": {
        "en": "fixed_small adds noise of variance β̃ = (1 − ᾱ_prev)/(1 − ᾱ_t) · β",
        "zh": "fixed_small 加入方差为 β̃ = (1 − ᾱ_prev)/(1 − ᾱ_t) · β 的噪声"},
    "mistake.ddpm_step_variance_for_std.label": {
        "en": "the variance β̃ multiplies z where the standard deviation √β̃ belongs",
        "zh": "用方差 β̃ 乘 z，而该用的是标准差 √β̃"},
    "mistake.ddpm_step_variance_for_std.hint": {
        "en": "z ~ N(0, I) is scaled by a standard deviation",
        "zh": "z ~ N(0, I) 要乘的是标准差"},
    "mistake.returns_x0_hat.label": {"en": "x̂₀ returned as the next x", "zh": "把 x̂₀ 当作下一个 x 返回"},
    "mistake.returns_x0_hat.hint": {
        "en": "x̂₀ is the clean estimate; the next x is x̂₀ re-noised to the next level",
        "zh": "x̂₀ 是干净图像的估计；下一个 x 是重新加噪到下一级的 x̂₀"},
    "mistake.no_noise.label": {"en": "the noise term √β̃ z left out", "zh": "漏掉了噪声项 √β̃ z"},
    "mistake.no_noise.hint": {
        "en": "an ancestral step samples from N(μ̃, β̃): add √β̃ · noise",
        "zh": "祖先采样的一步从 N(μ̃, β̃) 中采样：加上 √β̃ · noise"},
    "mistake.x0_target.label": {"en": "the prediction compared with x₀ instead of ε", "zh": "把预测与 x₀ 而不是 ε 比较"},
    "mistake.x0_target.hint": {
        "en": "an ε-prediction model is trained to output the noise that was added",
        "zh": "预测 ε 的模型被训练来输出加入的噪声"},
    "mistake.l_simple_no_sqrt.label": {
        "en": "missing square roots in x_t: ᾱ_t x₀ + (1 − ᾱ_t) ε",
        "zh": "x_t 中缺少平方根：ᾱ_t x₀ + (1 − ᾱ_t) ε"},
    "mistake.l_simple_no_sqrt.hint": {
        "en": "x_t = √ᾱ_t x₀ + √(1 − ᾱ_t) ε (DDPM eq. 4)",
        "zh": "x_t = √ᾱ_t x₀ + √(1 − ᾱ_t) ε（DDPM 式 4）"},
    "mistake.l_simple_one_based.label": {
        "en": "1-based timesteps: alpha_bars[t − 1] where alpha_bars[t] belongs",
        "zh": "时间步从 1 开始编号：该用 alpha_bars[t] 的地方用了 alpha_bars[t − 1]"},
    "mistake.l_simple_one_based.hint": {
        "en": "t is 0-based here: t = 0 is the first noising step, alpha_bars[0] = 1 − β_0",
        "zh": "这里 t 从 0 开始编号：t = 0 是第一个加噪步，alpha_bars[0] = 1 − β_0"},
    "mistake.sum_not_mean.label": {
        "en": "the squared error summed over pixels instead of averaged",
        "zh": "平方误差对像素求和而不是取平均"},
    "mistake.sum_not_mean.hint": {
        "en": "here L_simple is the mean over all elements (F.mse_loss), so that its scale does not grow with the "
              "image size",
        "zh": "这里 L_simple 是对所有元素的平均（F.mse_loss），这样它的尺度不会随图像尺寸增长"},
    "mistake.model_on_x0.label": {
        "en": "the model evaluated on x₀ instead of the noised x_t",
        "zh": "在 x₀ 上而不是在加噪后的 x_t 上调用模型"},
    "mistake.model_on_x0.hint": {
        "en": "the network sees x_t = √ᾱ_t x₀ + √(1 − ᾱ_t) ε and t",
        "zh": "网络看到的是 x_t = √ᾱ_t x₀ + √(1 − ᾱ_t) ε 和 t"},
    "mistake.negative_root.label": {"en": "the root with m < 0", "zh": "取了 m < 0 的根"},
    "mistake.negative_root.hint": {
        "en": "the variance equation gives m² = (1 − ᾱ_prev − σ²)/(1 − ᾱ_t), so m = ±√(…); keep m > 0, so that x_prev "
              "moves with x_t (at σ² = β̃ it must equal DDPM's positive coefficient of x_t; test a root's value at a point "
              "with .subs: its printed sign can mislead)",
        "zh": "方差方程给出 m² = (1 − ᾱ_prev − σ²)/(1 − ᾱ_t)，所以 m = ±√(…)；取 m > 0，这样 x_prev 与 x_t 同向变化"
              "（σ² = β̃ 时它必须等于 DDPM 中 x_t 的正系数；用 .subs 代入一个点检查根的值：表达式印出来的正负号可能会误导）"},
    "mistake.no_sqrt_in_mean.label": {
        "en": "the mean constraint without square roots (k + m ᾱ_t = ᾱ_prev)",
        "zh": "均值约束里漏了平方根（k + m ᾱ_t = ᾱ_prev）"},
    "mistake.no_sqrt_in_mean.hint": {
        "en": "q(x_t | x₀) has mean √ᾱ_t · x₀, not ᾱ_t · x₀",
        "zh": "q(x_t | x₀) 的均值是 √ᾱ_t · x₀，不是 ᾱ_t · x₀"},
    "mistake.sigma_not_squared.label": {
        "en": "σ where σ² belongs in the variance constraint",
        "zh": "方差约束里该用 σ² 的地方用了 σ"},
    "mistake.sigma_not_squared.hint": {
        "en": "the variances add: m²(1 − ᾱ_t) + (the kernel's variance) = 1 − ᾱ_prev",
        "zh": "方差相加：m²(1 − ᾱ_t) +（转移核的方差）= 1 − ᾱ_prev"},
    "mistake.k_m_swapped.label": {"en": "k and m swapped", "zh": "k 与 m 对调了"},
    "mistake.k_m_swapped.hint": {
        "en": "return (k, m): k multiplies x₀, m multiplies x_t",
        "zh": "返回 (k, m)：k 乘 x₀，m 乘 x_t"},
    "mistake.ddim_sigma_squared.label": {"en": "σ² returned where σ is meant", "zh": "该返回 σ 的地方返回了 σ²"},
    "mistake.ddim_sigma_squared.hint": {
        "en": "η scales the standard deviation σ_t; at η = 1, σ_t² (not σ_t) equals β̃",
        "zh": "η 缩放的是标准差 σ_t；η = 1 时等于 β̃ 的是 σ_t²（而不是 σ_t）"},
    "mistake.ddim_sigma_missing_sqrt.label": {
        "en": "a missing square root over 1 − ᾱ_t/ᾱ_prev",
        "zh": "1 − ᾱ_t/ᾱ_prev 上漏了平方根"},
    "mistake.ddim_sigma_missing_sqrt.hint": {
        "en": "eq. 16 takes the square root of both factors",
        "zh": "式 16 对两个因子都开平方"},
    "mistake.missing_sqrt_ratio.label": {
        "en": "a missing square root over (1 − ᾱ_prev)/(1 − ᾱ_t)",
        "zh": "(1 − ᾱ_prev)/(1 − ᾱ_t) 上漏了平方根"},
    "mistake.missing_sqrt_ratio.hint": {"en": "eq. 16 takes the square root of both factors", "zh": "式 16 对两个因子都开平方"},
    "mistake.ddim_sigma_alpha_for_alpha_bar.label": {
        "en": "σ_t = η·√(1 − ᾱ_prev), a shortcut that drops eq. 16's first factor (also what DDPM's one-step "
              "α_t = ᾱ_t/ᾱ_prev in place of ᾱ_t gives)",
        "zh": "σ_t = η·√(1 − ᾱ_prev)，丢掉了式 16 第一个因子的简写（把 DDPM 的单步 α_t = ᾱ_t/ᾱ_prev 当作 ᾱ_t 代入，得到的也是它）"},
    "mistake.ddim_sigma_alpha_for_alpha_bar.hint": {
        "en": "eq. 16 has two factors, √((1 − ᾱ_prev)/(1 − ᾱ_t)) and √(1 − ᾱ_t/ᾱ_prev), with the DDIM paper's α = DDPM's "
              "cumulative ᾱ; √(1 − ᾱ_prev) is the whole noise level of x_prev, not the part a step adds",
        "zh": "式 16 有两个因子：√((1 − ᾱ_prev)/(1 − ᾱ_t)) 与 √(1 − ᾱ_t/ᾱ_prev)，其中 DDIM 论文的 α 就是 DDPM 的累积 ᾱ；"
              "√(1 − ᾱ_prev) 是 x_prev 的全部噪声水平，而不是这一步加入的那部分"},
    "mistake.eta_times_variance.label": {
        "en": "η·β̃: η times the variance, without the square root",
        "zh": "η·β̃：η 乘的是方差，而且没开平方根"},
    "mistake.eta_times_variance.hint": {
        "en": "σ_t = η·√β̃ (eq. 16): the square root of the posterior variance, then times η",
        "zh": "σ_t = η·√β̃（式 16）：先对后验方差开平方根，再乘以 η"},
    "mistake.family_posterior_mean_no_sqrt.label": {
        "en": "a missing square root over 1 − ᾱ_prev − σ²",
        "zh": "1 − ᾱ_prev − σ² 上漏了平方根"},
    "mistake.family_posterior_mean_no_sqrt.hint": {
        "en": "ε's coefficient is a standard deviation, and 1 − ᾱ_prev − σ² is a variance",
        "zh": "ε 的系数是标准差，而 1 − ᾱ_prev − σ² 是方差"},
    "mistake.sigma_for_variance.label": {"en": "σ where σ² belongs", "zh": "该用 σ² 的地方用了 σ"},
    "mistake.sigma_for_variance.hint": {
        "en": "σ_t is a standard deviation; the kernel's variance is σ_t²",
        "zh": "σ_t 是标准差；转移核的方差是 σ_t²"},
    "mistake.eps_unscaled.label": {
        "en": "x_t − √ᾱ_t x₀ used as the noise without dividing by √(1 − ᾱ_t)",
        "zh": "把 x_t − √ᾱ_t x₀ 当作噪声，没有除以 √(1 − ᾱ_t)"},
    "mistake.eps_unscaled.hint": {
        "en": "the unit-variance noise in x_t is ε = (x_t − √ᾱ_t x₀)/√(1 − ᾱ_t)",
        "zh": "x_t 中单位方差的噪声是 ε = (x_t − √ᾱ_t x₀)/√(1 − ᾱ_t)"},
    "mistake.variance_for_std.label": {
        "en": "σ² used where σ is meant (the noise is σ_t² z)",
        "zh": "该用 σ 的地方用了 σ²（噪声成了 σ_t² z）"},
    "mistake.variance_for_std.hint": {
        "en": "σ_t from eq. 16 is a standard deviation: the noise is multiplied by it, not by its square.",
        "zh": "式 16 的 σ_t 是标准差：噪声要乘以它本身，而不是它的平方。"},
    "mistake.alpha_for_alpha_bar.label": {
        "en": "DDPM's one-step α_t = ᾱ_t/ᾱ_prev used where ᾱ_t is meant",
        "zh": "该用 ᾱ_t 的地方用了 DDPM 的单步 α_t = ᾱ_t/ᾱ_prev"},
    "mistake.alpha_for_alpha_bar.hint": {
        "en": "x̂₀ comes from x_t = √ᾱ_t x₀ + √(1 − ᾱ_t) ε with the cumulative ᾱ_t (the DDIM paper's α_t), not the "
              "one-step ratio.",
        "zh": "x̂₀ 来自 x_t = √ᾱ_t x₀ + √(1 − ᾱ_t) ε，其中是累积的 ᾱ_t（DDIM 论文中的 α_t），而不是单步的比值。"},
    "mistake.noise_scale_tutorial.label": {
        "en": "the noise added at the wrong scale, η·√(1 − ᾱ_prev)·z, with that scale also in the direction term",
        "zh": "噪声加的尺度不对：η·√(1 − ᾱ_prev)·z，方向项里也用了这个尺度"},
    "mistake.noise_scale_tutorial.hint": {
        "en": "the fresh noise is σ_t z, with σ_t from eq. 16; √(1 − ᾱ_prev) is the whole noise level of x_prev, not "
              "the part the step adds.",
        "zh": "新加入的噪声是 σ_t z，σ_t 由式 16 给出；√(1 − ᾱ_prev) 是 x_prev 的全部噪声水平，而不是这一步新加的部分。"},
    "mistake.noise_at_full_level.label": {
        "en": "the fresh noise added as η·√(1 − ᾱ_prev)·z, while the direction term keeps σ_t of eq. 16",
        "zh": "新噪声按 η·√(1 − ᾱ_prev)·z 加入，而方向项仍用式 16 的 σ_t"},
    "mistake.noise_at_full_level.hint": {
        "en": "the fresh noise is σ_t z, with σ_t from eq. 16; √(1 − ᾱ_prev) is the whole noise level of x_prev, not "
              "the part the step adds.",
        "zh": "新加入的噪声是 σ_t z，σ_t 由式 16 给出；√(1 − ᾱ_prev) 是 x_prev 的全部噪声水平，而不是这一步新加的部分。"},
    "mistake.direction_without_sigma.label": {
        "en": "the direction term without −σ²: √(1 − ᾱ_prev)·ε̂",
        "zh": "方向项漏了 −σ²：写成了 √(1 − ᾱ_prev)·ε̂"},
    "mistake.direction_without_sigma.hint": {
        "en": "the noise σ_t z takes part of x_prev's noise variance 1 − ᾱ_prev; the direction term gets only what is "
              "left.",
        "zh": "噪声 σ_t z 占去了 x_prev 噪声方差 1 − ᾱ_prev 的一部分；方向项只能分到剩下的。"},
    "mistake.direction_without_sqrt.label": {
        "en": "a missing square root: the direction coefficient is (1 − ᾱ_prev − σ²)",
        "zh": "缺少平方根：方向项的系数写成了 (1 − ᾱ_prev − σ²)"},
    "mistake.direction_without_sqrt.hint": {
        "en": "1 − ᾱ_prev − σ_t² is a variance; ε̂ is multiplied by a standard deviation.",
        "zh": "1 − ᾱ_prev − σ_t² 是方差；ε̂ 要乘的是标准差。"},
    "mistake.signal_without_sqrt.label": {
        "en": "a missing square root: x̂₀ scaled by ᾱ_prev instead of √ᾱ_prev",
        "zh": "缺少平方根：x̂₀ 乘的是 ᾱ_prev 而不是 √ᾱ_prev"},
    "mistake.signal_without_sqrt.hint": {
        "en": "the forward process scales x₀ by √ᾱ, not by ᾱ.",
        "zh": "前向过程把 x₀ 乘以 √ᾱ，而不是 ᾱ。"},
    "mistake.timesteps_one_based.label": {"en": "1-based timesteps (t = 1 … T)", "zh": "时间步从 1 开始编号（t = 1 … T）"},
    "mistake.timesteps_one_based.hint": {
        "en": "the package's timesteps are 0-based: t runs from 0 to T − 1, and T − 1 is the noisiest.",
        "zh": "本包的时间步从 0 开始：t 从 0 到 T − 1，T − 1 噪声最大。"},
    "mistake.ascending.label": {"en": "the list in ascending order", "zh": "序列按升序排列"},
    "mistake.ascending.hint": {
        "en": "sampling goes from noise to data: the list starts at the noisiest timestep.",
        "zh": "采样是从噪声走向数据：序列从噪声最大的时间步开始。"},
    "mistake.integer_stride.label": {"en": "trailing with an integer stride T // S", "zh": "trailing 用了整数步长 T // S"},
    "mistake.integer_stride.hint": {
        "en": "for trailing, the positions T, T − T/S, T − 2T/S, … are fractions in general: round them, then shift "
              "to 0-based.",
        "zh": "对 trailing，位置 T, T − T/S, T − 2T/S, … 一般是小数：先取整，再平移到从 0 开始的编号。"},
    "mistake.leading_trailing_swapped.label": {"en": "leading and trailing swapped", "zh": "leading 与 trailing 弄反了"},
    "mistake.leading_trailing_swapped.hint": {
        "en": "leading counts up from 0 (so it never reaches T − 1); trailing counts down from T.",
        "zh": "leading 从 0 往上数（所以永远到不了 T − 1）；trailing 从 T 往下数。"},
    "mistake.linspace_for_trailing.label": {
        "en": "linspace spacing given for trailing",
        "zh": "trailing 给成了 linspace 间隔"},
    "mistake.linspace_for_trailing.hint": {
        "en": "linspace includes both t = T − 1 and t = 0; trailing starts at T − 1 and stops one stride above 0.",
        "zh": "linspace 同时包含 t = T − 1 和 t = 0；trailing 从 T − 1 开始，停在比 0 高一个步长的地方。"},
    "mistake.final_alpha_bar_T.label": {
        "en": "ᾱ_T (alpha_bars[-1], a wrapped index) as the final ᾱ_prev instead of 1",
        "zh": "最后的 ᾱ_prev 用了 ᾱ_T（alpha_bars[-1]，索引绕回）而不是 1"},
    "mistake.final_alpha_bar_T.hint": {
        "en": "after the last entry the step goes to the clean image; a negative index wraps around to the noisiest ᾱ "
              "(the pitfalls clinic's wrapped_final_alpha_bar).",
        "zh": "最后一项之后，这一步走向干净图像；负索引会绕回到噪声最大的 ᾱ（常见错误门诊中的 wrapped_final_alpha_bar）。"},
    "mistake.final_alpha_bar_0.label": {"en": "ᾱ_0 as the final ᾱ_prev instead of 1", "zh": "最后的 ᾱ_prev 用了 ᾱ_0 而不是 1"},
    "mistake.final_alpha_bar_0.hint": {
        "en": "after the last entry the step goes to the clean image, where ᾱ = 1 (diffusers' set_alpha_to_one=True); "
              "ᾱ_0 is a level of noise still.",
        "zh": "最后一项之后，这一步走向干净图像，那里 ᾱ = 1（diffusers 的 set_alpha_to_one=True）；ᾱ_0 仍然是一个噪声水平。"},
    "mistake.fixed_stride.label": {
        "en": "a fixed stride t − T//S instead of the next entry of the list",
        "zh": "用了固定步长 t − T//S，而不是序列中的下一项"},
    "mistake.fixed_stride.hint": {
        "en": "the step goes to the next timestep of the list; for trailing, linspace or a list of your own that is "
              "not t − T//S.",
        "zh": "这一步走向序列中的下一个时间步；对 trailing、linspace 或自定义序列，它不是 t − T//S。"},
    "mistake.one_step_back.label": {
        "en": "ᾱ at t − 1 (one DDPM step) instead of the next entry of the list",
        "zh": "用了 t − 1 处的 ᾱ（DDPM 的一步），而不是序列中的下一项"},
    "mistake.one_step_back.hint": {
        "en": "with S < T steps, the step from t skips to the next entry of the list, not to t − 1.",
        "zh": "步数 S < T 时，从 t 出发的一步跳到序列中的下一项，而不是 t − 1。"},
    "mistake.one_step_back_wrapped.label": {
        "en": "alpha_bars[t − 1]: one DDPM step instead of the next entry, and at t = 0 index −1, the noisiest ᾱ",
        "zh": "alpha_bars[t − 1]：用了 DDPM 的一步而不是序列中的下一项；t = 0 时下标为 −1，取到了噪声最大的 ᾱ"},
    "mistake.one_step_back_wrapped.hint": {
        "en": "the step from t goes to the next entry of the list, and after the last entry to ᾱ = 1; a negative index "
              "wraps around in Python instead of failing.",
        "zh": "从 t 出发的一步走到序列中的下一项，最后一项之后走到 ᾱ = 1；Python 中的负下标会绕回到末尾，而不会报错。"},
    "mistake.own_alpha_bar.label": {"en": "each step's own ᾱ_t instead of the next one", "zh": "每一步用了自己的 ᾱ_t，而不是下一项的"},
    "mistake.own_alpha_bar.hint": {
        "en": "ᾱ_prev belongs to the timestep the step moves to: the next entry of the list.",
        "zh": "ᾱ_prev 属于这一步要走到的时间步：序列中的下一项。"},
    "mistake.predict_x0_no_sqrt.label": {
        "en": "square roots missing: (x_t − (1 − ᾱ) ε̂) / ᾱ",
        "zh": "缺少平方根：(x_t − (1 − ᾱ) ε̂) / ᾱ"},
    "mistake.predict_x0_no_sqrt.hint": {
        "en": "x_t = √ᾱ x₀ + √(1 − ᾱ) ε: ᾱ and 1 − ᾱ are variances, the coefficients are their square roots.",
        "zh": "x_t = √ᾱ x₀ + √(1 − ᾱ) ε：ᾱ 和 1 − ᾱ 是方差，系数是它们的平方根。"},
    "mistake.no_division.label": {
        "en": "not divided by √ᾱ: x_t − √(1 − ᾱ) ε̂ is √ᾱ x̂₀, not x̂₀",
        "zh": "没有除以 √ᾱ：x_t − √(1 − ᾱ) ε̂ 是 √ᾱ x̂₀，而不是 x̂₀"},
    "mistake.no_division.hint": {
        "en": "removing the noise leaves the signal at its scale √ᾱ; undo that scale too.",
        "zh": "去掉噪声后剩下的信号仍带着尺度 √ᾱ；把这个尺度也除掉。"},
    "mistake.predict_x0_sign.label": {"en": "the noise added instead of removed", "zh": "噪声被加上了，而不是去掉"},
    "mistake.predict_x0_sign.hint": {
        "en": "x_t contains + √(1 − ᾱ) ε; take it away.",
        "zh": "x_t 中含有 + √(1 − ᾱ) ε；要把它减掉。"},
    "mistake.predict_x0_roots_swapped.label": {"en": "√ᾱ and √(1 − ᾱ) swapped", "zh": "√ᾱ 与 √(1 − ᾱ) 弄反了"},
    "mistake.predict_x0_roots_swapped.hint": {
        "en": "which coefficient belongs to the signal x₀ and which to the noise ε in x_t?",
        "zh": "在 x_t 中，哪个系数属于信号 x₀，哪个属于噪声 ε？"},
    "mistake.eps_from_x0_sign.label": {"en": "the signal added instead of removed", "zh": "信号被加上了，而不是去掉"},
    "mistake.eps_from_x0_sign.hint": {"en": "x_t contains + √ᾱ x₀; take it away.", "zh": "x_t 中含有 + √ᾱ x₀；要把它减掉。"},
    "mistake.eps_from_x0_roots_swapped.label": {"en": "√ᾱ and √(1 − ᾱ) swapped", "zh": "√ᾱ 与 √(1 − ᾱ) 弄反了"},
    "mistake.eps_from_x0_roots_swapped.hint": {
        "en": "which coefficient belongs to x₀ and which to ε in x_t = √ᾱ x₀ + √(1 − ᾱ) ε?",
        "zh": "在 x_t = √ᾱ x₀ + √(1 − ᾱ) ε 中，哪个系数属于 x₀，哪个属于 ε？"},
    "mistake.eps_from_x0_no_sqrt.label": {
        "en": "square roots missing: (x_t − ᾱ x̂₀) / (1 − ᾱ)",
        "zh": "缺少平方根：(x_t − ᾱ x̂₀) / (1 − ᾱ)"},
    "mistake.eps_from_x0_no_sqrt.hint": {
        "en": "ᾱ and 1 − ᾱ are variances; x_t is built with their square roots.",
        "zh": "ᾱ 和 1 − ᾱ 是方差；x_t 是用它们的平方根构造的。"},
    "mistake.x0_from_v_sign.label": {"en": "the v term added instead of subtracted", "zh": "v 项被加上了，而不是减去"},
    "mistake.x0_from_v_sign.hint": {
        "en": "v = √ᾱ ε − √(1 − ᾱ) x₀ has a minus sign; follow it through.",
        "zh": "v = √ᾱ ε − √(1 − ᾱ) x₀ 里有一个负号；把它一路带下去。"},
    "mistake.x0_from_v_roots_swapped.label": {"en": "√ᾱ and √(1 − ᾱ) swapped", "zh": "√ᾱ 与 √(1 − ᾱ) 弄反了"},
    "mistake.x0_from_v_roots_swapped.hint": {
        "en": "at low noise (ᾱ near 1) x̂₀ must be close to x_t itself.",
        "zh": "噪声小时（ᾱ 接近 1），x̂₀ 必须接近 x_t 本身。"},
    "mistake.eps_from_v.label": {
        "en": "ε from v computed instead of x₀: √(1 − ᾱ) x_t + √ᾱ v̂",
        "zh": "由 v 算出的是 ε 而不是 x₀：√(1 − ᾱ) x_t + √ᾱ v̂"},
    "mistake.eps_from_v.hint": {
        "en": "that combination is the noise ε; x₀ is the other one.",
        "zh": "这个组合是噪声 ε；x₀ 是另一个组合。"},
    "mistake.v_as_eps.label": {"en": "v̂ used as if it were ε̂ (eq. 9)", "zh": "把 v̂ 当作 ε̂ 使用（式 9）"},
    "mistake.v_as_eps.hint": {
        "en": "v is not the noise: write x_t and v in terms of x₀ and ε, and eliminate ε.",
        "zh": "v 不是噪声：用 x₀ 和 ε 写出 x_t 和 v，再消去 ε。"},
    "mistake.ode_coordinates_sigma_squared.label": {
        "en": "σ² = (1 − ᾱ)/ᾱ returned where σ is meant",
        "zh": "该返回 σ 的地方返回了 σ² = (1 − ᾱ)/ᾱ"},
    "mistake.ode_coordinates_sigma_squared.hint": {
        "en": "the ODE's time is the noise-to-signal ratio of *standard deviations*",
        "zh": "ODE 的时间是噪声与信号的*标准差*之比"},
    "mistake.ddpm_noise_std.label": {
        "en": "σ = √(1 − ᾱ), x_t's noise std, where the noise-to-signal ratio is meant",
        "zh": "该用噪声与信号之比的地方用了 x_t 的噪声标准差 σ = √(1 − ᾱ)"},
    "mistake.ddpm_noise_std.hint": {
        "en": "x̄ = x₀ + σ ε: divide x_t's noise std by its signal scale",
        "zh": "x̄ = x₀ + σ ε：把 x_t 的噪声标准差除以它的信号尺度"},
    "mistake.multiplied.label": {
        "en": "x̄ = √ᾱ · x_t (multiplied where you should divide)",
        "zh": "x̄ = √ᾱ · x_t（该除的地方乘了）"},
    "mistake.multiplied.hint": {
        "en": "x̄ undoes the signal's shrinking, so that x̄ = x₀ + σ ε",
        "zh": "x̄ 抵消信号的收缩，使得 x̄ = x₀ + σ ε"},
    "mistake.wrong_direction.label": {
        "en": "the step taken with σ − σ_next (backwards)",
        "zh": "用 σ − σ_next 走了这一步（方向反了）"},
    "mistake.wrong_direction.hint": {
        "en": "Euler: x̄(σ_next) ≈ x̄(σ) + (σ_next − σ) · dx̄/dσ, and σ_next < σ when sampling",
        "zh": "欧拉法：x̄(σ_next) ≈ x̄(σ) + (σ_next − σ) · dx̄/dσ，采样时 σ_next < σ"},
    "mistake.variance_time.label": {
        "en": "σ² used as the ODE's time (σ_next² − σ²)",
        "zh": "把 σ² 当作 ODE 的时间（σ_next² − σ²）"},
    "mistake.variance_time.hint": {
        "en": "the ODE is dx̄/dσ = ε̂, with σ a standard deviation ratio",
        "zh": "ODE 是 dx̄/dσ = ε̂，其中 σ 是标准差之比"},
    "mistake.returns_x.label": {
        "en": "x_next = √ᾱ_next · x̄_next returned instead of x̄_next",
        "zh": "返回了 x_next = √ᾱ_next · x̄_next，而不是 x̄_next"},
    "mistake.returns_x.hint": {
        "en": "stay in the ODE's coordinates: the step maps x̄ to x̄",
        "zh": "留在 ODE 的坐标里：这一步把 x̄ 映射到 x̄"},
    "mistake.no_predictor.label": {
        "en": "the second slope taken at the start point x̄ instead of the Euler point",
        "zh": "第二个斜率取在起点 x̄，而不是欧拉点"},
    "mistake.no_predictor.hint": {
        "en": "Heun first takes the Euler step, then evaluates ε̂ where that step lands",
        "zh": "Heun 法先走欧拉步，再在这一步的落点处计算 ε̂"},
    "mistake.second_slope_only.label": {
        "en": "the second slope alone instead of the average of the two",
        "zh": "只用了第二个斜率，而不是两个斜率的平均"},
    "mistake.second_slope_only.hint": {
        "en": "the corrector uses the mean of the slope at the start and the slope at the Euler point",
        "zh": "校正步使用起点处斜率与欧拉点处斜率的平均"},
    "mistake.slope_at_sigma.label": {
        "en": "the second slope evaluated at time σ instead of σ_next",
        "zh": "第二个斜率在时间 σ 而不是 σ_next 处求值"},
    "mistake.slope_at_sigma.hint": {"en": "the Euler point lives at σ_next", "zh": "欧拉点位于时间 σ_next"},
    "mistake.trapezoid_at_zero.label": {
        "en": "the average slope also on the last step (σ_next = 0)",
        "zh": "最后一步（σ_next = 0）也用了平均斜率"},
    "mistake.trapezoid_at_zero.hint": {
        "en": "a network has no timestep at σ = 0: take the plain Euler step there",
        "zh": "σ = 0 处网络没有对应的时间步：那里只走普通的欧拉步"},
    "mistake.sampler_direction.label": {
        "en": "the sampling step unchanged: x̂₀ taken at the next (noisier) level and re-noised to the current one",
        "zh": "原样照搬采样步：在下一级（噪声更大的一级）求 x̂₀，再重新加噪到当前级"},
    "mistake.sampler_direction.hint": {
        "en": "x is at the current level: take x̂₀ there, then re-noise it to the next level",
        "zh": "x 处在当前级：在当前级求 x̂₀，再把它重新加噪到下一级"},
    "mistake.invert_step_missing_sqrt.label": {
        "en": "ᾱ and 1 − ᾱ used where their square roots belong in the re-noising",
        "zh": "重新加噪时用了 ᾱ 和 1 − ᾱ，而应当用它们的平方根"},
    "mistake.invert_step_missing_sqrt.hint": {
        "en": "x_t = √ᾱ x₀ + √(1 − ᾱ) ε: the coefficients are standard deviations",
        "zh": "x_t = √ᾱ x₀ + √(1 − ᾱ) ε：系数是标准差"},
    "mistake.no_direction.label": {
        "en": "the ε̂ term dropped: only √ᾱ_next x̂₀ returned",
        "zh": "丢掉了 ε̂ 项：只返回 √ᾱ_next x̂₀"},
    "mistake.no_direction.hint": {
        "en": "the deterministic step keeps the noise it has: add the direction term √(1 − ᾱ_next) ε̂",
        "zh": "确定性的一步保留原有的噪声：加上方向项 √(1 − ᾱ_next) ε̂"},
    "mistake.slerp_no_fallback.label": {
        "en": "no fallback where sin θ ≈ 0: 0/0 when z0 and z1 are (nearly) parallel",
        "zh": "sin θ ≈ 0 时没有退路：z0 与 z1（几乎）平行时出现 0/0"},
    "mistake.slerp_no_fallback.hint": {
        "en": "where sin θ is tiny, use (1 − α) z0 + α z1, which slerp tends to there (and arccos needs its argument "
              "clamped to [−1, 1]).",
        "zh": "sin θ 很小时改用 (1 − α) z0 + α z1，slerp 在那里趋于它（而且 arccos 的参数要截断到 [−1, 1]）。"},
    "mistake.lerp.label": {"en": "linear interpolation (1 − α) z0 + α z1", "zh": "线性插值 (1 − α) z0 + α z1"},
    "mistake.lerp.hint": {
        "en": "a straight line cuts inside the sphere; walk along the great circle through z0 and z1 instead (a cos θ "
              "not divided by both norms, clamped to 1, gives this line too)",
        "zh": "直线会穿进球面内部；应沿经过 z0 和 z1 的大圆走（cos θ 没有除以两个范数、又被截断到 1 时，得到的也是这条直线）"},
    "mistake.nlerp.label": {
        "en": "linear interpolation rescaled to the interpolated norm (nlerp)",
        "zh": "线性插值后再缩放到插值的范数（nlerp）"},
    "mistake.nlerp.hint": {
        "en": "right norm, but nlerp moves at an uneven angular speed: weight z0 and z1 by sin((1 − α)θ)/sin θ and "
              "sin(αθ)/sin θ",
        "zh": "范数对了，但 nlerp 的角速度不均匀：z0 和 z1 的权重应为 sin((1 − α)θ)/sin θ 和 sin(αθ)/sin θ"},
    "mistake.one_angle.label": {"en": "one angle θ for the whole batch", "zh": "整个批次只用了一个夹角 θ"},
    "mistake.one_angle.hint": {
        "en": "compute θ for each batch element separately (flatten each sample, not the whole batch)",
        "zh": "对批次中每个元素分别计算 θ（把每个样本展平，而不是把整个批次展平）"},
    "mistake.slerp_ends_swapped.label": {"en": "the weights swapped: α = 0 gives z1", "zh": "权重对调了：α = 0 时得到 z1"},
    "mistake.slerp_ends_swapped.hint": {"en": "at α = 0 slerp must return z0", "zh": "α = 0 时 slerp 必须返回 z0"},
    "mistake.descending.label": {
        "en": "the timesteps visited in the sampler's (descending) order",
        "zh": "按采样器的（降序）顺序遍历时间步"},
    "mistake.descending.hint": {
        "en": "inversion climbs from the clean image: visit the list from its smallest t to its largest",
        "zh": "反演是从干净图像往上爬：按从最小 t 到最大 t 的顺序遍历列表"},
    "mistake.eps_at_current_level.label": {
        "en": "ε̂ evaluated at the level x is at: plain explicit Euler going up, a legitimate solver, but not the "
              "mirror of the sampler's step that this exercise asks for",
        "zh": "在 x 当前所处的级别上求 ε̂：这是向上走的普通显式欧拉法，也是合理的求解器，但不是本练习要求的、与采样器逐步对应的那一步"},
    "mistake.eps_at_current_level.hint": {
        "en": "the sampler's step from t down uses ε̂(x_t, t); the inversion step that undoes it calls the model at that "
              "*target* t with the current x: ε(x_t, t) ≈ ε(x_prev, t)",
        "zh": "采样器从 t 往下走的那一步用的是 ε̂(x_t, t)；撤销它的反演步就在这个*目标* t 上调用模型，输入当前的 x："
              "ε(x_t, t) ≈ ε(x_prev, t)"},
    "mistake.level_not_carried.label": {
        "en": "every step starts from ᾱ = 1, as if x were still the clean image",
        "zh": "每一步都从 ᾱ = 1 开始，仿佛 x 仍是干净图像"},
    "mistake.level_not_carried.hint": {
        "en": "after a step, x is at the level you just reached: that ᾱ is the next step's current ᾱ",
        "zh": "走完一步后，x 处在刚到达的那一级：那一级的 ᾱ 就是下一步的当前 ᾱ"},
    "mistake.noise_dropped.label": {"en": "the noise term removed: η ignored", "zh": "去掉了噪声项：忽略了 η"},
    "mistake.noise_dropped.hint": {
        "en": "η > 0 must add σ z; the fix is to the size of σ, not to drop it",
        "zh": "η > 0 时必须加上 σ z；要改的是 σ 的大小，而不是把它去掉"},
    "mistake.x0_over_alpha_bar.label": {
        "en": "the mystery's bug is still there: x̂₀ divided by ᾱ_t",
        "zh": "谜题中的 bug 还在：x̂₀ 除以的是 ᾱ_t"},
    "mistake.x0_over_alpha_bar.hint": {
        "en": "x_t = √ᾱ_t x₀ + √(1 − ᾱ_t) ε: solve it for x₀",
        "zh": "x_t = √ᾱ_t x₀ + √(1 − ᾱ_t) ε：从中解出 x₀"},
    "mistake.missing_sqrt_noise.label": {
        "en": "x̂₀ with (1 − ᾱ_t) where √(1 − ᾱ_t) belongs",
        "zh": "x̂₀ 中用了 (1 − ᾱ_t)，而应当是 √(1 − ᾱ_t)"},
    "mistake.missing_sqrt_noise.hint": {
        "en": "both coefficients of x_t = √ᾱ_t x₀ + √(1 − ᾱ_t) ε are square roots",
        "zh": "x_t = √ᾱ_t x₀ + √(1 − ᾱ_t) ε 的两个系数都是平方根"},
    "mistake.only_eta_0.label": {
        "en": "probed only at η = 0, where the σ bug is invisible",
        "zh": "只在 η = 0 时探测，而那里 σ 的 bug 看不出来"},
    "mistake.only_eta_0.hint": {
        "en": "a bug in the noise term shows only when a step adds noise: probe at η = 1 too",
        "zh": "噪声项里的 bug 只在这一步加噪时才显形：也要在 η = 1 时探测"},
    "mistake.never_last_step.label": {"en": "never probed the last step (ᾱ_prev = 1)", "zh": "从未探测最后一步（ᾱ_prev = 1）"},
    "mistake.never_last_step.hint": {
        "en": "the wrapped-index bug changes only the final step: probe a step with ᾱ_prev = 1",
        "zh": "下标回绕的 bug 只改变最后一步：探测一个 ᾱ_prev = 1 的步"},
    "mistake.only_last_step.label": {
        "en": "probed only the last step, where the α and σ bugs vanish",
        "zh": "只探测了最后一步，而那里 α 和 σ 的 bug 都消失了"},
    "mistake.only_last_step.hint": {
        "en": "at ᾱ_prev = 1 the one-step α equals ᾱ_t and σ is 0: probe a middle step as well",
        "zh": "在 ᾱ_prev = 1 时单步 α 等于 ᾱ_t，σ 为 0：还要探测一个中间步"},
    "mistake.wrapped_final_alpha_bar.label": {
        "en": "ᾱ_prev of the last step read with a negative index: alpha_bars[-1] (ᾱ at t = T − 1) instead of 1",
        "zh": "最后一步的 ᾱ_prev 用负索引读取：alpha_bars[-1]（t = T − 1 处的 ᾱ）而不是 1"},
    "mistake.wrapped_final_alpha_bar.hint": {
        "en": "after the last entry of the list the step goes to the clean image, ᾱ_prev = 1; alpha_bars[t − stride] "
              "with t − stride < 0 wraps around to the noisiest ᾱ",
        "zh": "列表最后一项之后，这一步走向干净图像，ᾱ_prev = 1；t − stride < 0 时 alpha_bars[t − stride] 会绕回到噪声最大的 ᾱ"},
    # chapter 4: the whole DDIM loop
    "mistake.loop_ascending.label": {
        "en": "the timesteps walked in ascending order: the loop starts at the least noisy level",
        "zh": "时间步按升序遍历：循环从噪声最小的那一级开始"},
    "mistake.loop_ascending.hint": {
        "en": "sampling goes from noise to data: the first step is at the largest t of the list (999), the last at the smallest.",
        "zh": "采样从噪声走向数据：第一步在列表中最大的 t（999），最后一步在最小的 t。"},
    "mistake.loop_prev_t_minus_1.label": {
        "en": "ᾱ_prev read at t − 1, the next integer timestep, instead of at the next entry of the list",
        "zh": "ᾱ_prev 取在 t − 1（下一个整数时间步），而不是列表的下一项"},
    "mistake.loop_prev_t_minus_1.hint": {
        "en": "with S < T steps the loop jumps: the step from t goes to the next entry of the list (Exercise 4.3), and after the "
              "last entry to ᾱ = 1.",
        "zh": "步数 S < T 时循环是跳着走的：从 t 出发的一步走到列表的下一项（练习 4.3），最后一项之后走到 ᾱ = 1。"},
    "mistake.loop_last_alpha_bar_0.label": {
        "en": "the last step goes to ᾱ_0 (t = 0) instead of ᾱ = 1, the clean image",
        "zh": "最后一步走到 ᾱ_0（t = 0），而不是 ᾱ = 1 的干净图像"},
    "mistake.loop_last_alpha_bar_0.hint": {
        "en": "t = 0 is the first level of noise (ᾱ_0 = 1 − β_0 < 1), not the data: after the last entry the step goes to "
              "ᾱ_prev = 1 (diffusers' set_alpha_to_one=True).",
        "zh": "t = 0 是第一级噪声（ᾱ_0 = 1 − β_0 < 1），不是数据：列表最后一项之后，这一步走到 ᾱ_prev = 1"
              "（diffusers 的 set_alpha_to_one=True）。"},
    "mistake.loop_last_wrapped.label": {
        "en": "the last step's ᾱ_prev read with a negative index, alpha_bars[−1] (the noisiest ᾱ), instead of 1",
        "zh": "最后一步的 ᾱ_prev 用负索引读取：alpha_bars[−1]（噪声最大的 ᾱ），而不是 1"},
    "mistake.loop_last_wrapped.hint": {
        "en": "a negative index wraps around in Python: alpha_bars[timesteps[i + 1]] past the end, or alpha_bars[t − stride] "
              "at t = 99 on trailing steps, reads the noisiest ᾱ; after the last entry of the list ᾱ_prev = 1.",
        "zh": "Python 中负索引会绕回：越过列表末尾读 alpha_bars[timesteps[i + 1]]，或在 trailing 的 t = 99 处读 "
              "alpha_bars[t − stride]，读到的都是噪声最大的 ᾱ；列表最后一项之后 ᾱ_prev = 1。"},
    "mistake.loop_skips_last_step.label": {
        "en": "the loop stops at the last listed timestep, without the final step to the clean image",
        "zh": "循环停在列表的最后一个时间步，少了走到干净图像的最后一步"},
    "mistake.loop_skips_last_step.hint": {
        "en": "a list of S timesteps is S steps: the step from the last entry (e.g. t = 99) goes to ᾱ = 1. Looping over "
              "pairs of entries makes only S − 1.",
        "zh": "S 个时间步的列表就是 S 步：从最后一项（例如 t = 99）出发的一步走到 ᾱ = 1。按相邻两项配对循环只走了 S − 1 步。"},
    "mistake.loop_model_gets_index.label": {
        "en": "the model is called with the loop index i instead of the timestep t",
        "zh": "调用模型时传入的是循环序号 i，而不是时间步 t"},
    "mistake.loop_model_gets_index.hint": {
        "en": "enumerate gives (i, t): the network was trained on t (0 … 999), so model(x, torch.full((B,), t)).",
        "zh": "enumerate 给出 (i, t)：网络是在 t（0 … 999）上训练的，所以应是 model(x, torch.full((B,), t))。"},
    # chapter 9: the half log-SNR, DPM-Solver++(2M), the Karras grid
    "mistake.h_full_log_snr.label": {
        "en": "h from the whole log-SNR, log(ᾱ/(1 − ᾱ)): twice the step",
        "zh": "用完整的 log-SNR，即 log(ᾱ/(1 − ᾱ)) 计算 h：步长成了两倍"},
    "mistake.h_full_log_snr.hint": {
        "en": "DPM-Solver's λ is half the log-SNR: λ = log(√ᾱ/√(1 − ᾱ)) = ½ log(ᾱ/(1 − ᾱ)), so that σ = e^(−λ).",
        "zh": "DPM-Solver 的 λ 是 log-SNR 的一半：λ = log(√ᾱ/√(1 − ᾱ)) = ½ log(ᾱ/(1 − ᾱ))，这样 σ = e^(−λ)。"},
    "mistake.h_sign_flipped.label": {
        "en": "h = λ_t − λ_prev: the sign flipped",
        "zh": "h = λ_t − λ_prev：符号反了"},
    "mistake.h_sign_flipped.hint": {
        "en": "sampling goes towards less noise, where λ grows: h = λ(ᾱ_prev) − λ(ᾱ_t) > 0.",
        "zh": "采样朝噪声更小的方向走，λ 随之增大：h = λ(ᾱ_prev) − λ(ᾱ_t) > 0。"},
    "mistake.lambda_no_sqrt_below.label": {
        "en": "λ = log(√ᾱ/(1 − ᾱ)): the square root missing below",
        "zh": "λ = log(√ᾱ/(1 − ᾱ))：分母漏了平方根"},
    "mistake.lambda_no_sqrt_below.hint": {
        "en": "x_t = √ᾱ x₀ + √(1 − ᾱ) ε: λ is the log of the ratio of the two standard deviations, √ᾱ and √(1 − ᾱ).",
        "zh": "x_t = √ᾱ x₀ + √(1 − ᾱ) ε：λ 是两个标准差 √ᾱ 与 √(1 − ᾱ) 之比的对数。"},
    "mistake.r_inverted.label": {
        "en": "r = h/h_last: the ratio of the step lengths inverted",
        "zh": "r = h/h_last：两步步长之比倒过来了"},
    "mistake.r_inverted.hint": {
        "en": "r = h_last/h compares the previous step with this one; the correction (x̂₀ − x̂₀_last)/(2r) is the slope "
              "of x̂₀ in λ times h/2.",
        "zh": "r = h_last/h 是上一步与这一步之比；修正项 (x̂₀ − x̂₀_last)/(2r) 是 x̂₀ 对 λ 的斜率乘以 h/2。"},
    "mistake.x0_hats_swapped.label": {
        "en": "the previous step's x̂₀ and this step's x̂₀ swapped",
        "zh": "上一步的 x̂₀ 与这一步的 x̂₀ 对调了"},
    "mistake.x0_hats_swapped.hint": {
        "en": "D extrapolates from the last x̂₀ through this one: (1 + 1/(2r)) x̂₀ − x̂₀_last/(2r), the newer estimate "
              "weighted more.",
        "zh": "D 由上一个 x̂₀ 经过这一个 x̂₀ 外推：(1 + 1/(2r)) x̂₀ − x̂₀_last/(2r)，较新的估计权重更大。"},
    "mistake.exp_plus_h.label": {
        "en": "e^(+h) where e^(−h) belongs",
        "zh": "该用 e^(−h) 的地方用了 e^(+h)"},
    "mistake.exp_plus_h.hint": {
        "en": "the exact solution carries √ᾱ_prev (1 − e^(−h)), which is 0 for h = 0 and √ᾱ_prev for a step to the data "
              "(h = ∞).",
        "zh": "精确解中的系数是 √ᾱ_prev (1 − e^(−h))：h = 0 时为 0，走到数据（h = ∞）时为 √ᾱ_prev。"},
    "mistake.first_order_only.label": {
        "en": "x̂₀_last ignored: the first-order step (DDIM), not the second-order one",
        "zh": "忽略了 x̂₀_last：这是一阶的一步（DDIM），不是二阶的"},
    "mistake.first_order_only.hint": {
        "en": "2M uses the previous step's x̂₀ to make x̂₀ linear in λ over the step: D = (1 + 1/(2r)) x̂₀ − x̂₀_last/(2r).",
        "zh": "2M 用上一步的 x̂₀ 让 x̂₀ 在这一步内对 λ 呈线性：D = (1 + 1/(2r)) x̂₀ − x̂₀_last/(2r)。"},
    "mistake.sigma_spaced_linearly.label": {
        "en": "σ spaced linearly, not in σ^(1/ρ)",
        "zh": "σ 按线性等距排列，而不是按 σ^(1/ρ) 等距"},
    "mistake.sigma_spaced_linearly.hint": {
        "en": "the grid is uniform in σ^(1/ρ), then raised to the power ρ: that makes the steps short in σ near σ_min.",
        "zh": "网格在 σ^(1/ρ) 中等距，再取 ρ 次方：这样在 σ_min 附近，步长（以 σ 计）很短。"},
    "mistake.rho_inverted.label": {
        "en": "ρ and 1/ρ swapped",
        "zh": "ρ 与 1/ρ 对调了"},
    "mistake.rho_inverted.hint": {
        "en": "take σ^(1/ρ) of the two ends, space those evenly, then raise the points to the power ρ.",
        "zh": "先对两端取 σ^(1/ρ)，在其间等距取点，再把这些点取 ρ 次方。"},
    "mistake.grid_ascending.label": {
        "en": "the n levels in ascending order",
        "zh": "n 个噪声水平按升序排列"},
    "mistake.grid_without_final_zero.label": {
        "en": "the n levels without the final σ = 0",
        "zh": "只有 n 个噪声水平，缺了最后的 σ = 0"},
    "mistake.grid_without_final_zero.hint": {
        "en": "the sampler's last step goes to σ = 0, the clean image: append 0 after the n levels (n + 1 values).",
        "zh": "采样器的最后一步走到 σ = 0，即干净图像：在 n 个噪声水平之后再加一个 0（共 n + 1 个值）。"},
    "mistake.q_sample_noise_no_sqrt.label": {
        "en": "(1 − ᾱ_t) ε: the square root missing on the noise's factor",
        "zh": "（1 − ᾱ_t）ε：噪声的系数漏了平方根"},
    "mistake.q_sample_noise_no_sqrt.hint": {
        "en": "x_t = √ᾱ_t x₀ + √(1 − ᾱ_t) ε: both factors are standard deviations, so that their squares add up to 1",
        "zh": "x_t = √ᾱ_t x₀ + √(1 − ᾱ_t) ε：两个系数都是标准差，它们的平方和为 1"},
    "mistake.q_sample_signal_no_sqrt.label": {
        "en": "ᾱ_t x₀: the square root missing on the signal's factor",
        "zh": "ᾱ_t x₀：信号的系数漏了平方根"},
    "mistake.q_sample_signal_no_sqrt.hint": {
        "en": "x_t = √ᾱ_t x₀ + √(1 − ᾱ_t) ε: both factors are standard deviations, so that their squares add up to 1",
        "zh": "x_t = √ᾱ_t x₀ + √(1 − ᾱ_t) ε：两个系数都是标准差，它们的平方和为 1"},
    "mistake.snr_log.label": {
        "en": "log SNR returned where the SNR is meant",
        "zh": "该返回 SNR 的地方返回了 log SNR"},
    "mistake.snr_log.hint": {
        "en": "SNR(t) = ᾱ_t/(1 − ᾱ_t) itself; plot it on a log axis rather than taking its log",
        "zh": "SNR(t) 就是 ᾱ_t/(1 − ᾱ_t) 本身；要看对数，就用对数坐标轴画它，而不是取对数"},
    "mistake.posterior_mean_alpha_is_alpha_bar.label": {
        "en": "the formula's one-step α_t read as ᾱ_t (and β_t as 1 − ᾱ_t)",
        "zh": "把公式里的单步 α_t 当成了 ᾱ_t（β_t 当成了 1 − ᾱ_t）"},
    "mistake.posterior_mean_alpha_is_alpha_bar.hint": {
        "en": "in DDPM eq. 7, α_t = 1 − β_t is one step's factor, ᾱ_t/ᾱ_prev; only the ᾱ's are cumulative",
        "zh": "DDPM 式 7 中 α_t = 1 − β_t 是单步的系数，即 ᾱ_t/ᾱ_prev；只有 ᾱ 是累积的"},
    "mistake.eq11_no_sqrt.label": {
        "en": "β_t/(1 − ᾱ_t) in front of ε̂ where β_t/√(1 − ᾱ_t) belongs",
        "zh": "ε̂ 前面写成了 β_t/(1 − ᾱ_t)，应为 β_t/√(1 − ᾱ_t)"},
    "mistake.eq11_no_sqrt.hint": {
        "en": "DDPM eq. 11: μ = (x_t − β_t/√(1 − ᾱ_t) ε̂)/√α_t; ε̂'s scale in x_t is √(1 − ᾱ_t)",
        "zh": "DDPM 式 11：μ = (x_t − β_t/√(1 − ᾱ_t) ε̂)/√α_t；ε̂ 在 x_t 中的尺度是 √(1 − ᾱ_t)"},
    "mistake.eta_inside_sqrt.label": {
        "en": "√(η β̃): η put under the square root",
        "zh": "√(η β̃)：把 η 放进了平方根里"},
    "mistake.eta_inside_sqrt.hint": {
        "en": "η scales the standard deviation: σ_t = η √β̃_t, so σ_t² = η² β̃_t (right only at η = 0 and 1 otherwise)",
        "zh": "η 缩放的是标准差：σ_t = η √β̃_t，于是 σ_t² = η² β̃_t（否则只有 η = 0 和 1 时才对）"},
    "mistake.direction_alpha_bar_t.label": {
        "en": "√(1 − ᾱ_t − σ²) in the direction term, where ᾱ_prev belongs",
        "zh": "方向项写成了 √(1 − ᾱ_t − σ²)，应为 ᾱ_prev"},
    "mistake.direction_alpha_bar_t.hint": {
        "en": "eq. 12's direction points to x_prev, so its size is √(1 − ᾱ_prev − σ_t²): x_prev's noise level minus the fresh noise",
        "zh": "式 12 的方向项指向 x_prev，大小是 √(1 − ᾱ_prev − σ_t²)：x_prev 的噪声水平减去新加的噪声"},
    "mistake.round_half_up.label": {
        "en": "trailing timesteps rounded half up, where half to even is meant",
        "zh": "trailing 时间步按四舍五入取整，应为“四舍六入五成双”"},
    "mistake.round_half_up.hint": {
        "en": "diffusers rounds T − i·T/S with numpy's round, which sends .5 to the even neighbour (T = 50, S = 4: 12.5 → 12)",
        "zh": "diffusers 用 numpy 的 round 对 T − i·T/S 取整，.5 会取到偶数一侧（T = 50，S = 4 时 12.5 → 12）"},
    "mistake.predict_x0_over_alpha_bar.label": {
        "en": "divided by ᾱ_t where √ᾱ_t is meant",
        "zh": "除以了 ᾱ_t，应除以 √ᾱ_t"},
    "mistake.predict_x0_over_alpha_bar.hint": {
        "en": "x_t = √ᾱ_t x₀ + √(1 − ᾱ_t) ε, solved for x₀: (x_t − √(1 − ᾱ_t) ε̂)/√ᾱ_t",
        "zh": "从 x_t = √ᾱ_t x₀ + √(1 − ᾱ_t) ε 解出 x₀：(x_t − √(1 − ᾱ_t) ε̂)/√ᾱ_t"},
    "mistake.predict_x0_noise_no_sqrt.label": {
        "en": "(1 − ᾱ_t) ε̂: the square root missing on the noise's factor",
        "zh": "（1 − ᾱ_t）ε̂：噪声的系数漏了平方根"},
    "mistake.predict_x0_noise_no_sqrt.hint": {
        "en": "the noise in x_t is √(1 − ᾱ_t) ε, so x̂₀ = (x_t − √(1 − ᾱ_t) ε̂)/√ᾱ_t",
        "zh": "x_t 中的噪声是 √(1 − ᾱ_t) ε，所以 x̂₀ = (x_t − √(1 − ᾱ_t) ε̂)/√ᾱ_t"},
    "mistake.eps_from_x0_negated.label": {
        "en": "(√ᾱ_t x̂₀ − x_t)/√(1 − ᾱ_t): the whole result negated",
        "zh": "(√ᾱ_t x̂₀ − x_t)/√(1 − ᾱ_t)：整个结果的符号反了"},
    "mistake.eps_from_x0_negated.hint": {
        "en": "the noise is what is left of x_t after the signal: ε̂ = (x_t − √ᾱ_t x̂₀)/√(1 − ᾱ_t)",
        "zh": "噪声是 x_t 去掉信号后剩下的部分：ε̂ = (x_t − √ᾱ_t x̂₀)/√(1 − ᾱ_t)"},
    "mistake.eps_from_x0_denominator_no_sqrt.label": {
        "en": "divided by 1 − ᾱ_t where √(1 − ᾱ_t) is meant",
        "zh": "除以了 1 − ᾱ_t，应除以 √(1 − ᾱ_t)"},
    "mistake.eps_from_x0_denominator_no_sqrt.hint": {
        "en": "ε's factor in x_t is the standard deviation √(1 − ᾱ_t), not the variance",
        "zh": "ε 在 x_t 中的系数是标准差 √(1 − ᾱ_t)，不是方差"},
    "mistake.eps_from_x0_signal_no_sqrt.label": {
        "en": "ᾱ_t x̂₀ subtracted where √ᾱ_t x̂₀ is meant",
        "zh": "减去的是 ᾱ_t x̂₀，应为 √ᾱ_t x̂₀"},
    "mistake.eps_from_x0_signal_no_sqrt.hint": {
        "en": "the signal in x_t is √ᾱ_t x₀",
        "zh": "x_t 中的信号是 √ᾱ_t x₀"},
    "mistake.heun_from_euler_point.label": {
        "en": "the averaged slope applied from the Euler point instead of from x̄",
        "zh": "平均斜率是从欧拉点出发走的，而不是从 x̄"},
    "mistake.heun_from_euler_point.hint": {
        "en": "Heun's step restarts from the step's start: x̄ + (σ_next − σ)(d₁ + d₂)/2; the Euler point only gives d₂",
        "zh": "Heun 法从这一步的起点重新出发：x̄ + (σ_next − σ)(d₁ + d₂)/2；欧拉点只用来求 d₂"},
    "mistake.invert_noise_negated.label": {
        "en": "the noise term subtracted when going up",
        "zh": "向上走时减去了噪声项"},
    "mistake.invert_noise_negated.hint": {
        "en": "inversion re-noises x̂₀ to the next level with the same sign as a sampler: √ᾱ_next x̂₀ + √(1 − ᾱ_next) ε̂",
        "zh": "反演用与采样器相同的符号把 x̂₀ 重新加噪到下一个水平：√ᾱ_next x̂₀ + √(1 − ᾱ_next) ε̂"},
    "mistake.invert_skips_first_climb.label": {
        "en": "the first climb, from the clean image (ᾱ = 1) to the smallest t, left out",
        "zh": "漏了第一步：从干净图像（ᾱ = 1）爬到最小的 t"},
    "mistake.invert_skips_first_climb.hint": {
        "en": "x0 sits at ᾱ = 1, not at the smallest timestep: the loop needs one step more than the pairs of the list",
        "zh": "x0 位于 ᾱ = 1，而不在最小的时间步上：循环比列表中相邻对的个数多一步"},
    "mistake.sigma_step_beta.label": {
        "en": "σ_t = η √β with the step's own β = 1 − ᾱ_t/ᾱ_prev, without eq. 16's first factor",
        "zh": "σ_t = η √β，用了这一步自己的 β = 1 − ᾱ_t/ᾱ_prev，少了式 16 的第一个因子"},
    "mistake.sigma_step_beta.hint": {
        "en": "eq. 16: σ_t = η √((1 − ᾱ_prev)/(1 − ᾱ_t)) √(1 − ᾱ_t/ᾱ_prev); the first factor makes σ_t² = β̃ at η = 1",
        "zh": "式 16：σ_t = η √((1 − ᾱ_prev)/(1 − ᾱ_t)) √(1 − ᾱ_t/ᾱ_prev)；第一个因子保证 η = 1 时 σ_t² = β̃"},
    "mistake.x0_precedence.label": {
        "en": "x_t − √(1 − ᾱ_t) ε̂/√ᾱ_t: the parentheses dropped, only ε̂'s term divided",
        "zh": "x_t − √(1 − ᾱ_t) ε̂/√ᾱ_t：漏了括号，只有 ε̂ 那一项被除"},
    "mistake.x0_precedence.hint": {
        "en": "x̂₀ = (x_t − √(1 − ᾱ_t) ε̂)/√ᾱ_t: the whole difference is divided",
        "zh": "x̂₀ = (x_t − √(1 − ᾱ_t) ε̂)/√ᾱ_t：整个差都要除"},
    "mistake.x0_over_sqrt_alpha_bar_prev.label": {
        "en": "x_prev's signal term √ᾱ_t x̂₀ (the same x_prev as x̂₀ divided by √ᾱ_prev): the signal left at level ᾱ_t",
        "zh": "x_prev 的信号项写成了 √ᾱ_t x̂₀（与 x̂₀ 除以 √ᾱ_prev 得到的 x_prev 相同）：信号停在了 ᾱ_t 水平"},
    "mistake.x0_over_sqrt_alpha_bar_prev.hint": {
        "en": "x̂₀ = (x_t − √(1 − ᾱ_t) ε̂)/√ᾱ_t is read off x_t, and x_prev puts it at the next level: √ᾱ_prev x̂₀",
        "zh": "x̂₀ = (x_t − √(1 − ᾱ_t) ε̂)/√ᾱ_t 是从 x_t 读出来的，x_prev 再把它放到下一个水平：√ᾱ_prev x̂₀"},
    "mistake.extrapolation_sign.label": {
        "en": "the extrapolation's sign flipped: (1 − 1/(2r)) x̂₀ + x̂₀_last/(2r)",
        "zh": "外推的符号反了：(1 − 1/(2r)) x̂₀ + x̂₀_last/(2r)"},
    "mistake.extrapolation_sign.hint": {
        "en": "D extrapolates beyond x̂₀, away from x̂₀_last: D = x̂₀ + (x̂₀ − x̂₀_last)/(2r)",
        "zh": "D 从 x̂₀ 向远离 x̂₀_last 的方向外推：D = x̂₀ + (x̂₀ − x̂₀_last)/(2r)"},
    "mistake.signal_ratio_on_x.label": {
        "en": "x_t scaled by √(ᾱ_prev/ᾱ_t) where √((1 − ᾱ_prev)/(1 − ᾱ_t)) belongs",
        "zh": "x_t 乘的是 √(ᾱ_prev/ᾱ_t)，应为 √((1 − ᾱ_prev)/(1 − ᾱ_t))"},
    "mistake.signal_ratio_on_x.hint": {
        "en": "the papers' σ_prev/σ_t is a ratio of noise stds, √(1 − ᾱ) (their α is √ᾱ): the data-prediction form keeps x_t's noise",
        "zh": "论文中的 σ_prev/σ_t 是噪声标准差 √(1 − ᾱ) 之比（论文的 α 是 √ᾱ）：数据预测形式保留的是 x_t 中的噪声"},
    "mistake.karras_i_over_n.label": {
        "en": "i/n where i/(n − 1) is meant: the grid never reaches σ_min",
        "zh": "用了 i/n，应为 i/(n − 1)：网格到不了 σ_min"},
    "mistake.karras_i_over_n.hint": {
        "en": "the n levels run from σ_max (i = 0) to σ_min (i = n − 1), so the step in σ^(1/ρ) is 1/(n − 1) of the range",
        "zh": "n 个噪声水平从 σ_max（i = 0）到 σ_min（i = n − 1），所以 σ^(1/ρ) 中的步长是区间的 1/(n − 1)"},
    "mistake.never_unknown.label": {
        "en": "the nearest known step named, so that an unfamiliar bug is never 'unknown'",
        "zh": "总是报出最接近的已知步，陌生的 bug 永远不会被判为 'unknown'"},
    "mistake.never_unknown.hint": {
        "en": "return a name only when the step matches it on every probe (allclose), and 'unknown' otherwise",
        "zh": "只有在每个探测输入上都吻合（allclose）时才返回那个名字，否则返回 'unknown'"},
    "mistake.compares_x0_hat.label": {
        "en": "x̂₀ (the second output) compared instead of x_prev",
        "zh": "比较的是 x̂₀（第二个输出），而不是 x_prev"},
    "mistake.compares_x0_hat.hint": {
        "en": "the noise and last-step bugs change x_prev, not x̂₀: compare the step's first output, x_prev",
        "zh": "噪声项和最后一步的 bug 改变的是 x_prev 而不是 x̂₀：请比较这一步的第一个输出 x_prev"},
    "mistake.m_not_squared.label": {
        "en": "m (1 − ᾱ_t) where m² (1 − ᾱ_t) belongs in the variance constraint",
        "zh": "方差约束中写成了 m (1 − ᾱ_t)，应为 m² (1 − ᾱ_t)"},
    "mistake.m_not_squared.hint": {
        "en": "the variance of m x_t is m² times x_t's noise variance 1 − ᾱ_t",
        "zh": "m x_t 的方差是 m² 乘以 x_t 的噪声方差 1 − ᾱ_t"},
    "mistake.invert_noise_at_current_level.label": {
        "en": "re-noised with √(1 − ᾱ_cur) where √(1 − ᾱ_next) belongs",
        "zh": "重新加噪时用了 √(1 − ᾱ_cur)，应为 √(1 − ᾱ_next)"},
    "mistake.invert_noise_at_current_level.hint": {
        "en": "x_next lives at the next level: √ᾱ_next x̂₀ + √(1 − ᾱ_next) ε̂",
        "zh": "x_next 处于下一个水平：√ᾱ_next x̂₀ + √(1 − ᾱ_next) ε̂"},
    "mistake.sigma_dropped.label": {
        "en": "σ² left out of the variance constraint: m = √(1 − ᾱ_prev)/√(1 − ᾱ_t) for every σ",
        "zh": "方差约束中漏了 σ²：无论 σ 取何值，m 都是 √(1 − ᾱ_prev)/√(1 − ᾱ_t)"},
    "mistake.sigma_dropped.hint": {
        "en": "x_prev's variance 1 − ᾱ_prev is split between m x_t's part, m²(1 − ᾱ_t), and the fresh noise σ²",
        "zh": "x_prev 的方差 1 − ᾱ_prev 由两部分组成：m x_t 贡献的 m²(1 − ᾱ_t)，以及新加噪声的 σ²"},
    "mistake.k_sign.label": {
        "en": "k = √ᾱ_prev + m √ᾱ_t: the sign slipped in the mean constraint",
        "zh": "k = √ᾱ_prev + m √ᾱ_t：均值约束中的符号错了"},
    "mistake.k_sign.hint": {
        "en": "the mean constraint is k + m √ᾱ_t = √ᾱ_prev, so k = √ᾱ_prev − m √ᾱ_t",
        "zh": "均值约束是 k + m √ᾱ_t = √ᾱ_prev，所以 k = √ᾱ_prev − m √ᾱ_t"},
    "mistake.family_eps_signal_no_sqrt.label": {
        "en": "ᾱ_t x₀ subtracted where √ᾱ_t x₀ is meant, when recovering the noise",
        "zh": "从 x_t 求噪声时减去的是 ᾱ_t x₀，应为 √ᾱ_t x₀"},
    "mistake.family_eps_signal_no_sqrt.hint": {
        "en": "the noise of x_t is (x_t − √ᾱ_t x₀)/√(1 − ᾱ_t)",
        "zh": "x_t 中的噪声是 (x_t − √ᾱ_t x₀)/√(1 − ᾱ_t)"},
    "mistake.noise_term_missing.label": {
        "en": "the fresh noise σ_t z never added (the direction term keeps its −σ²)",
        "zh": "没有加上新噪声 σ_t z（方向项里仍减去了 σ²）"},
    "mistake.noise_term_missing.hint": {
        "en": "eq. 12 ends with + σ_t z: the direction term gives up σ² of variance so that the noise can put it back",
        "zh": "式 12 的最后一项是 + σ_t z：方向项让出了 σ² 的方差，正是留给这一项补上的"},
    "mistake.trailing_truncated.label": {
        "en": "trailing positions truncated (int) where they are rounded",
        "zh": "trailing 的位置被截断取整（int），应为四舍五入"},
    "mistake.trailing_truncated.hint": {
        "en": "diffusers rounds T − i·T/S to the nearest integer (numpy's round) before subtracting 1",
        "zh": "diffusers 先把 T − i·T/S 取整到最近的整数（numpy 的 round），再减 1"},
    "mistake.x0_from_v_signal_no_sqrt.label": {
        "en": "ᾱ_t x_t where √ᾱ_t x_t is meant",
        "zh": "写成了 ᾱ_t x_t，应为 √ᾱ_t x_t"},
    "mistake.x0_from_v_signal_no_sqrt.hint": {
        "en": "x̂₀ = √ᾱ_t x_t − √(1 − ᾱ_t) v̂: both factors are square roots",
        "zh": "x̂₀ = √ᾱ_t x_t − √(1 − ᾱ_t) v̂：两个系数都是平方根"},
    "mistake.invert_x0_sign.label": {
        "en": "x̂₀ with the noise added instead of removed",
        "zh": "求 x̂₀ 时把噪声加上了，而不是减去"},
    "mistake.invert_x0_sign.hint": {
        "en": "x̂₀ = (x − √(1 − ᾱ_cur) ε̂)/√ᾱ_cur, as in the sampler (eq. 9); only the levels are swapped",
        "zh": "x̂₀ = (x − √(1 − ᾱ_cur) ε̂)/√ᾱ_cur，与采样器相同（式 9）；只是两个水平对调了"},
    "mistake.invert_noise_no_sqrt.label": {
        "en": "re-noised with (1 − ᾱ_next) ε̂ where √(1 − ᾱ_next) ε̂ belongs",
        "zh": "重新加噪时用了 (1 − ᾱ_next) ε̂，应为 √(1 − ᾱ_next) ε̂"},
    "mistake.invert_noise_no_sqrt.hint": {
        "en": "the noise's factor is a standard deviation: √ᾱ_next x̂₀ + √(1 − ᾱ_next) ε̂",
        "zh": "噪声的系数是标准差：√ᾱ_next x̂₀ + √(1 − ᾱ_next) ε̂"},
    "mistake.x0_precedence_x_only.label": {
        "en": "x_t/√ᾱ_t − √(1 − ᾱ_t) ε̂: the parentheses dropped, only x_t divided",
        "zh": "x_t/√ᾱ_t − √(1 − ᾱ_t) ε̂：漏了括号，只有 x_t 被除"},
    "mistake.x0_precedence_x_only.hint": {
        "en": "x̂₀ = (x_t − √(1 − ᾱ_t) ε̂)/√ᾱ_t: the whole difference is divided",
        "zh": "x̂₀ = (x_t − √(1 − ᾱ_t) ε̂)/√ᾱ_t：整个差都要除"},
    "mistake.split_sqrt.label": {
        "en": "√(1 − ᾱ_prev − σ²) written as √(1 − ᾱ_prev) − σ",
        "zh": "把 √(1 − ᾱ_prev − σ²) 写成了 √(1 − ᾱ_prev) − σ"},
    "mistake.split_sqrt.hint": {
        "en": "a square root does not split over a difference; the direction's factor is √(1 − ᾱ_prev − σ_t²)",
        "zh": "平方根不能拆开作用在差上；方向项的系数是 √(1 − ᾱ_prev − σ_t²)"},
    "mistake.unknown_as_correct.label": {
        "en": "'correct' answered for a step that matches no known bug",
        "zh": "对不符合任何已知 bug 的步也回答 'correct'"},
    "mistake.unknown_as_correct.hint": {
        "en": "answer 'correct' only when the step matches ddim_step on every probe; a step that matches nothing is 'unknown'",
        "zh": "只有在每个探测输入上都与 ddim_step 吻合时才回答 'correct'；什么都不吻合的步是 'unknown'"},
    "mistake.lambda_sqrt_misplaced.label": {
        "en": "λ = log(√ᾱ/(1 − √ᾱ)): the square root inside instead of around 1 − ᾱ",
        "zh": "λ = log(√ᾱ/(1 − √ᾱ))：平方根放错了位置，应作用于整个 1 − ᾱ"},
    "mistake.lambda_sqrt_misplaced.hint": {
        "en": "the noise's standard deviation is √(1 − ᾱ), so λ = log(√ᾱ/√(1 − ᾱ))",
        "zh": "噪声的标准差是 √(1 − ᾱ)，所以 λ = log(√ᾱ/√(1 − ᾱ))"},
    "mistake.rho_ignored.label": {
        "en": "ρ = 7 always: the rho argument ignored",
        "zh": "总是用 ρ = 7：忽略了参数 rho"},
    "mistake.rho_ignored.hint": {
        "en": "use the rho that the caller passes; 7 is only its default",
        "zh": "使用调用者传入的 rho；7 只是默认值"},
    "mistake.karras_power_misplaced.label": {
        "en": "the power ρ applied to the interpolation term only, not to the whole sum",
        "zh": "ρ 次方只作用在插值项上，而不是整个和"},
    "mistake.karras_power_misplaced.hint": {
        "en": "σ_i = (σ_max^(1/ρ) + i/(n − 1) (σ_min^(1/ρ) − σ_max^(1/ρ)))^ρ: the parentheses close after the whole sum",
        "zh": "σ_i = (σ_max^(1/ρ) + i/(n − 1) (σ_min^(1/ρ) − σ_max^(1/ρ)))^ρ：括号包住整个和"},
    "mistake.grid_ascending.hint": {
        "en": "sampling starts at the noisiest level: σ_max first, σ_min last, then 0.",
        "zh": "采样从噪声最大的水平开始：先 σ_max，最后 σ_min，然后是 0。"},
    # chapter 10: guidance
    "mistake.cfg_w_for_one_plus_w.label": {
        "en": "ε̂(∅) + w (ε̂(y) − ε̂(∅)): diffusers' form with w where its guidance_scale = 1 + w belongs",
        "zh": "ε̂(∅) + w (ε̂(y) − ε̂(∅))：用了 diffusers 的写法，却把 w 放在了 guidance_scale = 1 + w 的位置"},
    "mistake.cfg_w_for_one_plus_w.hint": {
        "en": "Ho & Salimans' w = 0 is the conditional model: (1 + w) ε̂(y) − w ε̂(∅) = ε̂(∅) + (1 + w)(ε̂(y) − ε̂(∅)). "
              "Yours at w = 0 returns ε̂(∅), the unconditional model.",
        "zh": "Ho 与 Salimans 的 w = 0 就是条件模型：(1 + w) ε̂(y) − w ε̂(∅) = ε̂(∅) + (1 + w)(ε̂(y) − ε̂(∅))。"
              "你的答案在 w = 0 时返回 ε̂(∅)，即无条件模型。"},
    "mistake.cfg_swapped.label": {
        "en": "conditional and unconditional swapped: (1 + w) ε̂(∅) − w ε̂(y)",
        "zh": "条件与无条件对调了：(1 + w) ε̂(∅) − w ε̂(y)"},
    "mistake.cfg_swapped.hint": {
        "en": "guidance moves *towards* the label and away from the unconditional prediction: the weight 1 + w "
              "belongs to ε̂(x_t, y).",
        "zh": "引导是*朝向*标签、远离无条件预测：权重 1 + w 属于 ε̂(x_t, y)。"},
    "mistake.cfg_sign.label": {
        "en": "(1 + w) ε̂(y) + w ε̂(∅): the unconditional term added instead of subtracted",
        "zh": "(1 + w) ε̂(y) + w ε̂(∅)：无条件项被加上而不是减去"},
    "mistake.cfg_sign.hint": {
        "en": "the two weights sum to 1, (1 + w) − w, so that a prediction both agree on is unchanged.",
        "zh": "两个权重之和为 1，即 (1 + w) − w，这样两者一致的预测保持不变。"},
    "mistake.cfg_difference_only.label": {
        "en": "w (ε̂(y) − ε̂(∅)) alone: the guidance direction without the prediction it is added to",
        "zh": "只有 w (ε̂(y) − ε̂(∅))：只有引导方向，没有它要加到的那个预测"},
    "mistake.cfg_difference_only.hint": {
        "en": "the difference is a correction: add it to ε̂(x_t, y), i.e. ε̂(y) + w (ε̂(y) − ε̂(∅)).",
        "zh": "这个差是修正量：把它加到 ε̂(x_t, y) 上，即 ε̂(y) + w (ε̂(y) − ε̂(∅))。"},
    "mistake.cg_sign.label": {
        "en": "ε̂ + s √(1 − ᾱ_t) ∇ log p(y | x_t): the sign of the correction flipped",
        "zh": "ε̂ + s √(1 − ᾱ_t) ∇ log p(y | x_t)：修正项的符号反了"},
    "mistake.cg_sign.hint": {
        "en": "ε̂ = −√(1 − ᾱ_t) × score, so adding a score term to the score subtracts it from ε̂; yours pushes "
              "away from class y.",
        "zh": "ε̂ = −√(1 − ᾱ_t) × 得分，所以在得分上加一项，就是在 ε̂ 上减去它；你的答案把样本推离类别 y。"},
    "mistake.cg_no_sqrt_one_minus_ab.label": {
        "en": "ε̂ − s ∇ log p(y | x_t): the factor √(1 − ᾱ_t) missing",
        "zh": "ε̂ − s ∇ log p(y | x_t)：漏了因子 √(1 − ᾱ_t)"},
    "mistake.cg_no_sqrt_one_minus_ab.hint": {
        "en": "ε̂ and the score differ by the factor −√(1 − ᾱ_t) (Tweedie, notebook 6): the classifier's gradient is "
              "a score, so it takes the same factor.",
        "zh": "ε̂ 与得分相差因子 −√(1 − ᾱ_t)（Tweedie，第 6 章）：分类器的梯度也是一个得分，所以乘同一个因子。"},
    "mistake.cg_one_minus_ab_no_sqrt.label": {
        "en": "(1 − ᾱ_t) where √(1 − ᾱ_t) is meant",
        "zh": "用了 (1 − ᾱ_t)，应为 √(1 − ᾱ_t)"},
    "mistake.cg_one_minus_ab_no_sqrt.hint": {
        "en": "the factor is the noise's standard deviation at t, √(1 − ᾱ_t), not its variance.",
        "zh": "这个因子是 t 时刻噪声的标准差 √(1 − ᾱ_t)，而不是方差。"},
    "mistake.cg_sqrt_ab.label": {
        "en": "√ᾱ_t where √(1 − ᾱ_t) is meant",
        "zh": "用了 √ᾱ_t，应为 √(1 − ᾱ_t)"},
    "mistake.cg_sqrt_ab.hint": {
        "en": "the factor belongs to the noise, x_t = √ᾱ_t x₀ + √(1 − ᾱ_t) ε: it is the noise's standard deviation.",
        "zh": "这个因子属于噪声一项，x_t = √ᾱ_t x₀ + √(1 − ᾱ_t) ε：它是噪声的标准差。"},
    "mistake.cg_grad_of_p.label": {
        "en": "the gradient of p(y | x_t), not of log p(y | x_t)",
        "zh": "求的是 p(y | x_t) 的梯度，而不是 log p(y | x_t) 的梯度"},
    "mistake.cg_grad_of_p.hint": {
        "en": "Bayes' rule adds logs: ∇ log p(x | y) = ∇ log p(x) + ∇ log p(y | x). ∇p = p ∇ log p is "
              "weaker wherever the class is unlikely, exactly where guidance is needed.",
        "zh": "贝叶斯公式在对数上相加：∇ log p(x | y) = ∇ log p(x) + ∇ log p(y | x)。∇p = p ∇ log p 在类别"
              "不太可能的地方变弱，而那恰恰是需要引导的地方。"},
    "mistake.cg_scale_missing.label": {
        "en": "the scale s ignored (the correction taken once)",
        "zh": "忽略了尺度 s（修正只加了一倍）"},
    "mistake.cg_scale_missing.hint": {
        "en": "multiply the classifier's term by s; s = 1 gives p(x | y), s > 1 sharpens.",
        "zh": "把分类器那一项乘以 s；s = 1 得到 p(x | y)，s > 1 使分布更尖锐。"},
    "mistake.guided_x0_unguided.label": {
        "en": "guidance in the direction term only: x̂₀ from the conditional ε̂(y), not from ε̃",
        "zh": "只在方向项里用了引导：x̂₀ 由条件 ε̂(y) 算出，而不是由 ε̃ 算出"},
    "mistake.guided_x0_unguided.hint": {
        "en": "the step uses ε twice, in x̂₀ = (x_t − √(1 − ᾱ_t) ε)/√ᾱ_t and in √(1 − ᾱ_prev) ε; both take the "
              "guided ε̃.",
        "zh": "这一步两次用到 ε：x̂₀ = (x_t − √(1 − ᾱ_t) ε)/√ᾱ_t 和 √(1 − ᾱ_prev) ε；两处都要用引导后的 ε̃。"},
    "mistake.guided_direction_unguided.label": {
        "en": "guidance in x̂₀ only: the direction term points with the conditional ε̂(y), not ε̃",
        "zh": "只在 x̂₀ 里用了引导：方向项用的是条件 ε̂(y)，而不是 ε̃"},
    "mistake.guided_direction_unguided.hint": {
        "en": "x̂₀ and the direction √(1 − ᾱ_prev) ε must use the same ε̃; with two different ε's the step no "
              "longer returns x_t when ᾱ_prev = ᾱ_t.",
        "zh": "x̂₀ 与方向项 √(1 − ᾱ_prev) ε 必须用同一个 ε̃；两处用不同的 ε，当 ᾱ_prev = ᾱ_t 时这一步就不再返回 x_t。"},
    "mistake.loop_prev_previous_entry.label": {
        "en": "ᾱ_prev read at the previous entry of the list (the noisier level already passed), never 1",
        "zh": "ᾱ_prev 取自列表的前一项（已经走过的、噪声更大的那一级），从不为 1"},
    "mistake.loop_prev_previous_entry.hint": {
        "en": "the list is descending: the level a step goes *to* is the next entry, timesteps[i + 1], and 1 after the last.",
        "zh": "列表是降序的：一步要*走到*的级别是下一项 timesteps[i + 1]，最后一项之后是 1。"},
    "mistake.cg_grad_of_mean.label": {
        "en": "the gradient of the batch's mean log-probability: every image's gradient divided by the batch size",
        "zh": "对整批对数概率的均值求梯度：每个图像的梯度都被除以了批大小"},
    "mistake.cg_grad_of_mean.hint": {
        "en": "each image's log p(y | x) depends on its own x only, so the gradient of the *sum* is each image's own "
              "gradient; the mean divides it by B.",
        "zh": "每个图像的 log p(y | x) 只依赖它自己的 x，所以对*和*求梯度得到的正是每个图像各自的梯度；取均值会把它除以 B。"},
    "mistake.guided_direction_no_sqrt.label": {
        "en": "the direction term (1 − ᾱ_prev) ε̃: its square root missing",
        "zh": "方向项写成 (1 − ᾱ_prev) ε̃：漏了平方根"},
    "mistake.guided_direction_no_sqrt.hint": {
        "en": "the direction term carries the noise's standard deviation at the target level: √(1 − ᾱ_prev) ε̃ "
              "(invisible on the last step, where ᾱ_prev = 1).",
        "zh": "方向项带的是目标级别上噪声的标准差：√(1 − ᾱ_prev) ε̃（在 ᾱ_prev = 1 的最后一步上看不出来）。"},
    "mistake.step_w_for_one_plus_w.label": {
        "en": "the step guided with ε̂(∅) + w (ε̂(y) − ε̂(∅)): w where 1 + w belongs",
        "zh": "这一步用 ε̂(∅) + w (ε̂(y) − ε̂(∅)) 引导：把 w 放在了 1 + w 的位置"},
    "mistake.step_w_for_one_plus_w.hint": {
        "en": "ε̃ = (1 + w) ε̂(y) − w ε̂(∅) (exercise 10.1); at w = 0 the step must be the conditional model's.",
        "zh": "ε̃ = (1 + w) ε̂(y) − w ε̂(∅)（练习 10.1）；w = 0 时这一步必须是条件模型的那一步。"},
    "mistake.step_cfg_swapped.label": {
        "en": "the step guided with conditional and unconditional swapped",
        "zh": "这一步的引导把条件与无条件对调了"},
    "mistake.step_cfg_swapped.hint": {
        "en": "the weight 1 + w belongs to ε̂(x_t, y), the weight −w to ε̂(x_t, ∅) (exercise 10.1).",
        "zh": "权重 1 + w 属于 ε̂(x_t, y)，权重 −w 属于 ε̂(x_t, ∅)（练习 10.1）。"},
    "mistake.step_unguided.label": {
        "en": "no guidance: the plain conditional DDIM step",
        "zh": "没有引导：普通的条件 DDIM 一步"},
    "mistake.step_unguided.hint": {
        "en": "combine the two predictions into ε̃ first, then take DDIM's step with ε̃.",
        "zh": "先把两个预测组合成 ε̃，再用 ε̃ 走 DDIM 的一步。"},
    # notebook 10's guidance explorer
    "guided.title": {"en": "digit {digit}, w = {w} (guidance_scale {scale}), seed {seed}",
                     "zh": "数字 {digit}，w = {w}（guidance_scale {scale}），种子 {seed}"},
    "guided.digit": {"en": "digit", "zh": "数字"},
    "guided.mean_p": {"en": "; mean p(digit) = {p}", "zh": "；p(数字) 的平均值 = {p}"},
    "guided.status": {"en": "shown after {seconds} s ({calls} network evaluations per sample){mean_p}",
                      "zh": "用时 {seconds} 秒（每个样本 {calls} 次网络计算）{mean_p}"},
    # fonts
    "font.missing": {
        "en": "No Chinese font found: Chinese text in figures will show as boxes. Install one with "
              "`pip install noto-cjk-sans-otc` (or `apt-get install fonts-noto-cjk` / `fonts-wqy-microhei`), "
              "then restart the kernel.",
        "zh": "没有找到中文字体：图中的中文会显示为方框。请运行 `pip install noto-cjk-sans-otc`"
              "（或 `apt-get install fonts-noto-cjk` / `fonts-wqy-microhei`）安装字体，然后重启内核。"},
}

# Chinese fonts we know, best first. The first is what the noto-cjk-sans-otc package registers.
CHINESE_FONTS = ("Noto Sans CJK SC", "Source Han Sans SC", "Noto Sans SC", "WenQuanYi Micro Hei",
                 "WenQuanYi Zen Hei", "PingFang SC", "Hiragino Sans GB", "Heiti SC", "STHeiti",
                 "Microsoft YaHei", "SimHei", "Noto Sans CJK TC", "Noto Sans CJK JP", "Droid Sans Fallback",
                 "AR PL UMing CN", "Arial Unicode MS")


def set_language(lang: str, font: bool = True) -> None:
    """Set the language of the package's figures, widgets and verdicts: ``"en"`` or ``"zh"``.

    With ``lang="zh"`` and ``font=True`` (default) it also calls :func:`use_chinese_font`.
    """
    if lang not in LANGUAGES:
        raise ValueError(f"unknown language {lang!r}; choose one of {', '.join(map(repr, LANGUAGES))}")
    _state["lang"] = lang
    if lang == "zh" and font:
        use_chinese_font()


def get_language() -> str:
    """The current language, ``"en"`` or ``"zh"`` (default ``"en"``)."""
    return _state["lang"]


def language(lang: str | None = None) -> str:
    """``lang`` if given (checked), else the current language: for helpers with a ``lang=None`` argument."""
    if lang is None:
        return _state["lang"]
    if lang not in LANGUAGES:
        raise ValueError(f"unknown language {lang!r}; choose one of {', '.join(map(repr, LANGUAGES))}")
    return lang


@contextlib.contextmanager
def using(lang: str | None) -> Iterator[str]:
    """``with using("zh"):`` the current language is ``lang`` inside the block (None: unchanged); restored after."""
    before = _state["lang"]
    _state["lang"] = language(lang)
    try:
        yield _state["lang"]
    finally:
        _state["lang"] = before


def tr(key: str, lang: str | None = None, **fields) -> str:
    """The string ``key`` of :data:`STRINGS` in ``lang`` (default: the current language), formatted with ``fields``."""
    try:
        entry = STRINGS[key]
    except KeyError:
        raise KeyError(f"no UI string {key!r} in ddim_teach.i18n.STRINGS") from None
    text = entry.get(language(lang)) or entry["en"]
    if not fields:
        return text
    try:
        return text.format(**fields)
    except KeyError as e:
        needed = sorted({name for _, name, _, _ in string.Formatter().parse(text) if name})
        raise KeyError(f"UI string {key!r} needs the fields {', '.join(needed)}; {e.args[0]!r} is missing "
                       f"(given: {', '.join(sorted(fields))})") from None


# --------------------------------------------------------------------------------------------- fonts

def _bundled_font_path() -> str | None:
    """The .ttc file of the ``noto-cjk-sans-otc`` package, or None when it is not installed."""
    try:
        import noto_cjk_sans_otc
    except ImportError:
        return None
    path = os.fspath(noto_cjk_sans_otc.FONT_PATH)
    return path if os.path.isfile(path) else None


def find_chinese_font() -> str | None:
    """The family name of a Chinese font that matplotlib can use (registering the bundled one), or None."""
    from matplotlib import font_manager

    path = _bundled_font_path()
    if path is not None and not any(f.fname == path for f in font_manager.fontManager.ttflist):
        font_manager.fontManager.addfont(path)
    available = {f.name for f in font_manager.fontManager.ttflist}
    for name in CHINESE_FONTS:
        if name in available:
            return name
    return None


def use_chinese_font(warn: bool = True) -> str | None:
    """Make matplotlib draw Chinese text: returns the CJK font's family name, or None (with a warning).

    ``rcParams["font.family"]`` becomes ``["DejaVu Sans", <CJK font>]``: DejaVu Sans (matplotlib's default)
    draws Latin, Greek and math symbols as in the English course; Chinese characters fall back to the CJK font.
    """
    import matplotlib

    name = find_chinese_font()
    if name is None:
        if warn:
            text = tr("font.missing", lang="en")
            warnings.warn(text if get_language() == "en" else tr("font.missing") + "\n" + text, UserWarning,
                          stacklevel=2)
        return None
    matplotlib.rcParams["font.family"] = ["DejaVu Sans", name]
    _state["font"] = name
    return name


def missing_glyphs(text: str, family=None) -> list[str]:
    """The characters of ``text`` that no font of ``family`` (default: rcParams' font.family) can draw."""
    import matplotlib
    from matplotlib import font_manager
    from matplotlib.ft2font import FT2Font

    families = family or matplotlib.rcParams["font.family"]
    families = [families] if isinstance(families, str) else list(families)
    paths = font_manager.fontManager._find_fonts_by_props(font_manager.FontProperties(family=families))
    fonts = [FT2Font(os.fspath(p)) for p in paths]
    out = []
    for ch in dict.fromkeys(text):
        if ch.isspace() or 0x300 <= ord(ch) <= 0x36F:  # spaces and combining marks (x̂'s hat) have no own glyph
            continue
        if not any(f.get_char_index(ord(ch)) for f in fonts):
            out.append(ch)
    return out
