"""The explorer's picture: one figure built once and updated in place, rendered to PNG bytes.

:class:`ExplorerFigure` draws a result of :class:`ddim_teach.explorer.Explorer` (the widget shows its PNG);
:func:`draw_explorer` is the same picture as a pyplot figure for a notebook cell; :func:`setting_text`
names a setting the way the status line and the PNG do.
"""
from __future__ import annotations

import io

import matplotlib.pyplot as plt
import numpy as np
import torch

from .. import i18n


def setting_text(key: tuple, lang: str = "en") -> str:
    """'DDIM, η = 0.5, S = 20, trailing, seed = 0' (or 'DPM-Solver++(2M), no η, S = 10, trailing, seed = 0'):
    the status line's and the PNG's name for a setting. The PNG's is always English; the status line's is in
    the widget's ``lang``."""
    eta, steps, seed, spacing, solver = key
    if solver == "ddim":
        setting = i18n.tr("explorer.setting", lang, eta=eta, steps=steps, spacing=spacing, seed=seed)
    else:  # DPM-Solver++(2M) has no eta: the key's 0 is not shown as if it were a choice
        setting = i18n.tr("explorer.setting_no_eta", lang, steps=steps, spacing=spacing, seed=seed)
    return i18n.tr("explorer.with_solver", lang, solver=i18n.tr(f"explorer.solver_{solver}", lang), setting=setting)


def _grid(images: torch.Tensor, slots: int, pad: int = 2) -> np.ndarray:
    """(N, 1, H, W) images in [-1, 1] side by side in ``slots`` slots on a white ground (empty slots stay white)."""
    x = images.detach().float().clamp(-1, 1)[:slots, 0].numpy()
    H, W = x.shape[-2:]
    canvas = np.ones((H + 2 * pad, slots * (W + pad) + pad), dtype=np.float32)
    for i, img in enumerate(x):
        canvas[pad:pad + H, pad + i * (W + pad): pad + i * (W + pad) + W] = img
    return canvas


def strip_steps(n_steps: int, k: int = 8) -> torch.Tensor:
    """The step indices the strips show: k evenly chosen (all of them when there are at most k)."""
    return torch.linspace(0, n_steps - 1, min(k, n_steps)).round().long()


class ExplorerFigure:
    """The explorer's figure, built once and updated in place (``set_data``), rendered to PNG bytes.

    Top: the final samples. Middle and bottom: x_t and x0_hat of sample 0 at ``k`` steps. Right: sigma_t
    per step, with a dashed line where the timestep list starts ("starts at t = 800" for leading spacing
    at S = 5). ``pyplot=True`` makes a pyplot figure (for ``plt.show()``); otherwise a bare Agg figure
    that pyplot never sees (so an inline backend does not draw it again at the end of a cell).

    With ``blit`` (the default for the bare figure) :meth:`png` draws the parts that never change (axes,
    ticks, labels) once and afterwards only the images, the sigma_t curve and the texts that change
    (matplotlib's blitting: ``copy_from_bbox`` / ``restore_region`` / ``draw_artist``); the pixels are the
    same as a full draw's (a test checks this).
    """

    def __init__(self, n: int = 6, k: int = 8, fontsize: int = 13, pyplot: bool = False, sample_hw=(28, 28),
                 blit: bool | None = None, lang: str | None = None):
        self.lang = i18n.language(lang)  # "en" or "zh": the figure's texts (default: i18n.get_language())
        if self.lang == "zh":
            i18n.use_chinese_font()  # the CJK font as matplotlib's fallback, so no glyph is missing
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
        self.n, self.k, self.fontsize = n, k, fontsize
        if pyplot:
            self.fig = plt.figure(figsize=(12, 6.2))
        else:
            self.fig = Figure(figsize=(12, 6.2))
            FigureCanvasAgg(self.fig)
        fig = self.fig
        gs = fig.add_gridspec(3, 2, width_ratios=[3, 1.3], height_ratios=[1, 1, 1])
        H, W = sample_hw
        self.axes = {}
        self.ims = {}
        for name, cell, slots in (("final", gs[0, 0], n), ("xs", gs[1, 0], k), ("x0_hats", gs[2, 0], k)):
            ax = fig.add_subplot(cell)
            self.ims[name] = ax.imshow(_grid(torch.ones(0, 1, H, W), slots), cmap="gray",
                                       vmin=-1, vmax=1, interpolation="nearest")
            ax.set_xticks([]), ax.set_yticks([])
            self.axes[name] = ax
        self.axes["xs"].set_ylabel(i18n.tr("strip.xs", self.lang), rotation=0, labelpad=22, fontsize=fontsize)
        self.axes["x0_hats"].set_ylabel(i18n.tr("strip.x0_hats", self.lang), rotation=0, labelpad=22,
                                        fontsize=fontsize)
        self.t_label = self.axes["x0_hats"].text(0.5, -0.06, "", transform=self.axes["x0_hats"].transAxes,
                                                 ha="center", va="top", fontsize=fontsize - 2)
        ax = self.axes["sigma"] = fig.add_subplot(gs[:, 1])
        (self.sigma_line,) = ax.plot([], [], "o-", ms=3)
        self.start_line = ax.axvline(1000, ls="--", lw=1.2, color="C3")
        self.start_text = ax.text(1000, 0.97, "", transform=ax.get_xaxis_transform(), ha="left", va="top",
                                  color="C3", fontsize=fontsize - 2)
        ax.set_xlim(1040, -15)  # room left of t = 999, so the start marker there stands clear of the frame
        ax.set_ylim(-0.03, 1.05)  # sigma_t <= 1 for every eta in [0, 1]: one scale for every setting
        ax.set_xlabel(i18n.tr("explorer.t", self.lang), fontsize=fontsize)
        for a in fig.axes:
            a.tick_params(labelsize=fontsize - 3)
        # Lay out once, with the longest texts the figure will show; updates only change data and text.
        self._set_texts((0.0, 100, 20, "trailing", "dpm_solver_pp_2m"), list(range(999, 0, -125)), 999)
        fig.tight_layout()
        self.blit = (not pyplot) if blit is None else blit
        # In a full draw's order (zorder): images, lines, then the frames over them, then texts.
        spines = [sp for ax in self.axes.values() for sp in ax.spines.values()]
        self._dynamic = [*self.ims.values(), self.sigma_line, self.start_line, *spines, self.start_text,
                         self.t_label, self.axes["final"].title, self.axes["sigma"].title]
        for a in self._dynamic:
            a.set_animated(self.blit)  # animated artists are left out of a full draw: they are blitted
        self._background = None  # (dpi, the canvas without the dynamic artists)

    def _set_texts(self, key, shown_ts, t_start):
        spacing = key[3]
        fs = self.fontsize
        self.axes["final"].set_title(i18n.tr("explorer.final_samples", self.lang,
                                             setting=setting_text(key, self.lang)), fontsize=fs)
        self.t_label.set_text("t = " + ", ".join(str(int(t)) for t in shown_ts))
        self.axes["sigma"].set_title(i18n.tr("explorer.sigma_per_step", self.lang, spacing=spacing), fontsize=fs)
        self.start_line.set_xdata([t_start, t_start])
        self.start_text.set_x(t_start)
        self.start_text.set_text(i18n.tr("explorer.starts_at", self.lang, t=t_start))

    def update(self, result: dict):
        """Show ``result`` (from :class:`ddim_teach.explorer.Explorer`); returns the figure."""
        key = result["key"]
        ts = result["timesteps"]
        idx = strip_steps(len(ts), self.k)
        self.ims["final"].set_data(_grid(result["final"], self.n))
        self.ims["xs"].set_data(_grid(result["xs"][idx], self.k))
        self.ims["x0_hats"].set_data(_grid(result["x0_hats"][idx], self.k))
        self.sigma_line.set_data(ts.numpy(), result["sigmas"].float().numpy())
        self._set_texts(key, ts[idx].tolist(), int(ts[0]))
        return self.fig

    def png(self, result: dict, dpi: int = 80, compress_level: int = 1) -> bytes:
        """The figure for ``result`` as PNG bytes at ``dpi`` (the size it is shown at). The PNG's text chunk
        ``ddim-teach-setting`` names the setting it shows (the browser test reads it)."""
        from PIL import Image, PngImagePlugin
        self.update(result)
        canvas = self.fig.canvas
        if not self.blit:
            self.fig.set_dpi(dpi)
            canvas.draw()
        else:
            if self._background is None or self._background[0] != dpi:
                self.fig.set_dpi(dpi)
                canvas.draw()
                self._background = (dpi, canvas.copy_from_bbox(self.fig.bbox))
            else:
                canvas.restore_region(self._background[1])
            for a in self._dynamic:
                self.fig.draw_artist(a)
        rgb = np.asarray(self.fig.canvas.buffer_rgba())[..., :3]
        info = PngImagePlugin.PngInfo()
        info.add_text("ddim-teach-setting", setting_text(result["key"]))
        buf = io.BytesIO()
        Image.fromarray(rgb).save(buf, format="png", compress_level=compress_level, pnginfo=info)
        return buf.getvalue()

    def close(self):
        if plt.fignum_exists(getattr(self.fig, "number", -1)):
            plt.close(self.fig)


def draw_explorer(result: dict, k: int = 8, fontsize: int = 13, lang: str | None = None):
    """The explorer's picture for one result, as a pyplot figure (final samples, x_t and x0_hat strips of
    sample 0, sigma_t per step with the start of the timestep list marked); large fonts for projection."""
    return ExplorerFigure(n=len(result["final"]), k=k, fontsize=fontsize, pyplot=True, lang=lang).update(result)
