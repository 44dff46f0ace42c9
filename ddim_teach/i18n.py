"""The course's language: English (default) or Simplified Chinese, for the text the package shows.

The notebooks' prose is translated in ``i18n/zh/*.json`` and built into ``notebooks/zh/`` by
``scripts/build_zh.py``. This module covers the text that *code* shows: the explorer's sliders and status
line, the titles and labels the viz helpers draw, and the exercise checker's verdicts. The first code cell
of every Chinese notebook runs::

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
import warnings
from collections.abc import Iterator

__all__ = [
    "LANGUAGES",
    "MISTAKES_ZH",
    "STRINGS",
    "find_chinese_font",
    "get_language",
    "language",
    "missing_glyphs",
    "mistake_text",
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
    # viz.explorer: the controls' labels and the status line. viz.setting_text (also written into the PNG's
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
    # viz.ExplorerFigure / draw_explorer: the figure
    "explorer.final": {"en": "final samples   η = {eta:g}, S = {steps}, {spacing}, seed = {seed}",
                       "zh": "最终样本   η = {eta:g}，S = {steps}，{spacing}，种子 = {seed}"},
    "explorer.sigma_per_step": {"en": "σ_t per step ({spacing})", "zh": "每步的 σ_t（{spacing}）"},
    "explorer.starts_at": {"en": " starts at t = {t}", "zh": " 从 t = {t} 开始"},
    "explorer.t": {"en": "t", "zh": "t"},
    "explorer.tip_leading": {"en": "DDIM's uniform: 0, T/S, 2T/S, ... (never visits T-1)",
                             "zh": "DDIM 的 uniform：0, T/S, 2T/S, …（从不经过 T-1）"},
    "explorer.tip_trailing": {"en": "counts down from T-1 = 999", "zh": "从 T-1 = 999 开始往下数"},
    "explorer.tip_linspace": {"en": "999 down to 0, evenly", "zh": "从 999 均匀地降到 0"},
    # family.py: the paths figure of the DDIM family q_σ (notebook 3)
    "family.title": {"en": "η = {eta:g}: {n} paths from q_σ(x_1:T | x₀), colour = x₀",
                     "zh": "η = {eta:g}：从 q_σ(x_1:T | x₀) 抽取的 {n} 条路径，颜色 = x₀"},
    "family.xlabel": {"en": "timestep t (noise → data)", "zh": "时间步 t（噪声 → 数据）"},
    # viz.show_strip: row labels (math) and the timestep line
    "strip.xs": {"en": "x_t", "zh": "x_t"},
    "strip.x0_hats": {"en": "x̂₀", "zh": "x̂₀"},
    "strip.eps_hats": {"en": "ε̂", "zh": "ε̂"},
    # exercises.check: the verdicts
    "check.ok": {"en": "✓ {name}: matches the reference on all {n} cases ({labels}).",
                 "zh": "✓ {name}：在全部 {n} 个用例上与参考实现一致（{labels}）。"},
    "check.not_implemented": {"en": "✗ {name}: not implemented yet — write the body of {name} in the cell above "
                                    "and run this cell again.",
                              "zh": "✗ {name}：尚未实现——请在上面的单元格里写出 {name} 的函数体，然后重新运行本单元格。"},
    "check.not_callable": {"en": "✗ {name}: expected a function {signature}, got {got}",
                           "zh": "✗ {name}：需要一个函数 {signature}，收到的是 {got}"},
    "check.raised": {"en": "✗ {name} raised {error} (case \"{case}\"). Signature: {signature}",
                     "zh": "✗ {name} 抛出了 {error}（用例“{case}”）。函数签名：{signature}"},
    "check.problem": {"en": "✗ {name} {problem} (case \"{case}\").",
                      "zh": "✗ {name}：{problem}（用例“{case}”）。"},
    "check.where": {"en": "first difference: case \"{case}\", {reason}",
                    "zh": "第一处差异：用例“{case}”，{reason}"},
    "check.mistake": {"en": "✗ {name}: looks like \"{label}\". Hint: {hint} ({where})",
                      "zh": "✗ {name}：看起来是“{label}”。提示：{hint}（{where}）"},
    "check.differs": {"en": "✗ {name}: differs from the reference on {bad} of {n} cases; {where}.",
                      "zh": "✗ {name}：在 {n} 个用例中有 {bad} 个与参考实现不同；{where}。"},
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
    "problem.count": {"en": "returned {got} values{where}, expected {expected}",
                      "zh": "返回了 {got} 个值{where}，应为 {expected} 个"},
    # fonts
    "font.missing": {
        "en": "No Chinese font found: Chinese text in figures will show as boxes. Install one with "
              "`pip install noto-cjk-sans-otc` (or `apt-get install fonts-noto-cjk` / `fonts-wqy-microhei`), "
              "then restart the kernel.",
        "zh": "没有找到中文字体：图中的中文会显示为方框。请运行 `pip install noto-cjk-sans-otc`"
              "（或 `apt-get install fonts-noto-cjk` / `fonts-wqy-microhei`）安装字体，然后重启内核。"},
}

# Exercise mistakes in Chinese, by Mistake.key: (label, hint). The checker uses them when the language is zh;
# a key without an entry falls back to the English label and hint. Filled when the exercises are translated.
MISTAKES_ZH: dict[str, tuple[str, str]] = {}

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
    return text.format(**fields) if fields else text


def mistake_text(key: str, label: str, hint: str, lang: str | None = None) -> tuple[str, str]:
    """A named mistake's (label, hint) in ``lang``: the Chinese entry of :data:`MISTAKES_ZH` if any, else as given."""
    if language(lang) == "zh" and key in MISTAKES_ZH:
        return MISTAKES_ZH[key]
    return label, hint


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
