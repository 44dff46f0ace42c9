"""The explorer's picture: one figure built once and updated in place, rendered to PNG bytes.

:class:`ExplorerFigure` draws a result of :class:`ddim_teach.explorer.Explorer` (the widget shows its PNG);
:func:`draw_explorer` is the same picture as a pyplot figure for a notebook cell; :func:`setting_text`
names a setting the way the status line and the PNG do, :func:`rms_text` the RMS distances to the reference row.
"""
from __future__ import annotations

import io

import matplotlib.pyplot as plt
import matplotlib.transforms as mtransforms
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


def _slot_centres(slots: int, width: int = 28, pad: int = 2) -> list[float]:
    """The x (in the grid's pixel coordinates) of each slot's centre in :func:`_grid`'s canvas."""
    return [pad + i * (width + pad) + (width - 1) / 2 for i in range(slots)]


def rms_text(rms, lang: str = "en") -> str:
    """'0.05 0.07 0.03 (mean 0.05)': the status line's and the figure's RMS distances to the reference row."""
    values = [float(r) for r in rms]
    return i18n.tr("explorer.rms_values", lang, values=" ".join(f"{r:.2f}" for r in values),
                   mean=sum(values) / len(values))


class ExplorerFigure:
    """The explorer's figure, built once and updated in place (``set_data``), rendered to PNG bytes.

    Left, top to bottom: the final samples; the reference row (the same x_T sampled by DDIM at η = 0, S = 100,
    the same spacing), with each sample's RMS distance to it above its reference; x_t and x0_hat of sample 0 at
    ``k`` steps. Right: the schedule's alpha_bar_t at the timesteps the sampler visits, on the whole alpha_bar
    curve drawn faint, and sigma_t per step where eta > 0 adds noise (at eta = 0, and under DPM-Solver++(2M),
    sigma_t is 0 and not drawn), with a dashed line where the timestep list starts ("starts at t = 800" for
    leading spacing at S = 5); its axes are the same for every setting. ``pyplot=True`` makes a pyplot figure
    (for ``plt.show()``); otherwise a bare Agg figure that pyplot never sees (so an inline backend does not draw
    it again at the end of a cell).

    With ``blit`` (the default for the bare figure) :meth:`png` draws the parts that never change (axes,
    ticks, labels, the legend) once and afterwards only the images, the curves and the texts that change
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
            self.fig = plt.figure(figsize=(12, 7.2))
        else:
            self.fig = Figure(figsize=(12, 7.2))
            FigureCanvasAgg(self.fig)
        fig = self.fig
        # Rows: final samples, reference, x_t, x0_hat; the strips' 8 slots make them shorter at the same width.
        gs = fig.add_gridspec(4, 2, width_ratios=[3, 1.3], height_ratios=[1.2, 1.2, 0.8, 0.8])
        H, W = sample_hw
        self.axes = {}
        self.ims = {}
        # The reference row's axes are made last, so fig.axes keeps the order it had before the row was added:
        # final, x_t, x0_hat, the timestep panel, then the reference.
        rows = (("final", gs[0, 0], n), ("xs", gs[2, 0], k), ("x0_hats", gs[3, 0], k))
        for name, cell, slots in rows:
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
        ax = self.axes["sigma"] = fig.add_subplot(gs[:, 1])  # the timestep panel (its old name kept)
        # Made in this order so that lines[0] is the visited points and lines[1] the start marker, as before.
        (self.visited_line,) = ax.plot([], [], "o", ms=4, color="C0", zorder=3,
                                       label=i18n.tr("explorer.visited", self.lang))
        self.start_line = ax.axvline(1000, ls="--", lw=1.2, color="C3")
        (self.sigma_line,) = ax.plot([], [], "s-", ms=2.5, lw=1, color="C1", zorder=2,
                                     label=i18n.tr("explorer.sigma_eta", self.lang))
        (self.curve_line,) = ax.plot([], [], "-", lw=1.5, color="0.75", zorder=1,
                                     label=i18n.tr("explorer.alpha_bar_curve", self.lang))
        # Upright along the marker, ending near its top: alpha_bar_t rises to 1 at the right, so a level text
        # running right from the marker would cross the curve.
        beside = mtransforms.offset_copy(ax.get_xaxis_transform(), fig=fig, x=2, units="points")  # clear of the line
        self.start_text = ax.text(1000, 0.97, "", transform=beside, ha="right", va="top",
                                  rotation=90, rotation_mode="anchor", color="C3", fontsize=fontsize - 2)
        ax.set_xlim(1040, -15)  # room left of t = 999, so the start marker there stands clear of the frame
        ax.set_ylim(-0.03, 1.05)  # alpha_bar_t and sigma_t (for every eta in [0, 1]) lie in [0, 1]: one scale
        ax.set_xlabel(i18n.tr("explorer.t", self.lang), fontsize=fontsize)
        ax.legend(handles=[self.curve_line, self.visited_line, self.sigma_line], loc="upper center",
                  bbox_to_anchor=(0.5, -0.09), fontsize=fontsize - 3, frameon=False)
        ref = self.axes["reference"] = fig.add_subplot(gs[1, 0])
        self.ims["reference"] = ref.imshow(_grid(torch.ones(0, 1, H, W), n), cmap="gray", vmin=-1, vmax=1,
                                           interpolation="nearest")
        ref.set_xticks([]), ref.set_yticks([])
        self.ref_label = ref.text(0.5, -0.04, "", transform=ref.transAxes, ha="center", va="top",
                                  fontsize=fontsize - 2)
        self.rms_texts = [ref.text(x, 1.02, "", transform=ref.get_xaxis_transform(), ha="center", va="bottom",
                                   fontsize=fontsize - 2) for x in _slot_centres(n, W)]
        ref.text(-0.01, 1.02, i18n.tr("explorer.rms_label", self.lang), transform=ref.transAxes, ha="right",
                 va="bottom", fontsize=fontsize - 2)  # "RMS" before the row of distances: drawn once
        for a in fig.axes:
            a.tick_params(labelsize=fontsize - 3)
        # Lay out once, with the longest texts the figure will show; updates only change data and text.
        self._set_texts((0.0, 100, 20, "trailing", "dpm_solver_pp_2m"), list(range(999, 0, -125)), 999,
                        (0.0, 100, 20, "linspace", "ddim"), [1.99] * n)
        fig.tight_layout()
        self.blit = (not pyplot) if blit is None else blit
        # In a full draw's order (zorder, then the order they were made): images, lines, then the frames over
        # them, then texts.
        spines = [sp for ax in self.axes.values() for sp in ax.spines.values()]
        self._dynamic = [*self.ims.values(), self.curve_line, self.start_line, self.sigma_line, self.visited_line,
                         *spines, self.start_text, self.t_label, self.ref_label, *self.rms_texts,
                         self.axes["final"].title, self.axes["sigma"].title]
        for a in self._dynamic:
            a.set_animated(self.blit)  # animated artists are left out of a full draw: they are blitted
        self._background = None  # (dpi, the canvas without the dynamic artists)

    def _set_texts(self, key, shown_ts, t_start, ref_key=None, rms=None):
        spacing = key[3]
        fs = self.fontsize
        self.axes["final"].set_title(i18n.tr("explorer.final_samples", self.lang,
                                             setting=setting_text(key, self.lang)), fontsize=fs)
        self.t_label.set_text("t = " + ", ".join(str(int(t)) for t in shown_ts))
        self.axes["sigma"].set_title(i18n.tr("explorer.visited_title", self.lang, spacing=spacing), fontsize=fs)
        self.start_line.set_xdata([t_start, t_start])
        self.start_text.set_x(t_start)
        self.start_text.set_text(i18n.tr("explorer.starts_at", self.lang, t=t_start))
        if ref_key is None:
            self.ref_label.set_text(i18n.tr("explorer.no_reference", self.lang))
        else:
            eta, ref_steps, _, ref_spacing, _ = ref_key
            self.ref_label.set_text(i18n.tr("explorer.reference_row", self.lang, eta=eta, steps=ref_steps,
                                            spacing=ref_spacing))
        for i, text in enumerate(self.rms_texts):
            text.set_text("" if rms is None or i >= len(rms) else
                          i18n.tr("explorer.rms_one", self.lang, rms=float(rms[i])))

    def update(self, result: dict):
        """Show ``result`` (from :class:`ddim_teach.explorer.Explorer`); returns the figure. A result without a
        reference row (from ``Explorer.compute``) leaves that row blank."""
        key = result["key"]
        ts = result["timesteps"]
        idx = strip_steps(len(ts), self.k)
        H, W = result["final"].shape[-2:]
        self.ims["final"].set_data(_grid(result["final"], self.n))
        reference = result.get("reference")
        self.ims["reference"].set_data(_grid(reference if reference is not None else torch.ones(0, 1, H, W),
                                             self.n))
        self.ims["xs"].set_data(_grid(result["xs"][idx], self.k))
        self.ims["x0_hats"].set_data(_grid(result["x0_hats"][idx], self.k))
        curve = result["alpha_bar_curve"]
        self.curve_line.set_data(np.arange(len(curve)), curve.float().numpy())
        self.visited_line.set_data(ts.numpy(), result["alpha_bars"].float().numpy())
        sigmas = result["sigmas"].float()
        noisy = bool((sigmas > 0).any())  # eta > 0 under DDIM; at eta = 0 sigma_t = 0 is not drawn
        self.sigma_line.set_data(ts.numpy() if noisy else [], sigmas.numpy() if noisy else [])
        self._set_texts(key, ts[idx].tolist(), int(ts[0]), result.get("reference_key") if reference is not None
                        else None, result.get("rms") if reference is not None else None)
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
    """The explorer's picture for one result, as a pyplot figure (final samples, the η = 0, S = 100 reference
    row with each sample's RMS distance to it, x_t and x0_hat strips of sample 0, alpha_bar_t at the visited
    timesteps and sigma_t where eta > 0, the start of the timestep list marked); large fonts for projection."""
    needed = ("key", "timesteps", "final", "xs", "x0_hats", "alpha_bar_curve", "alpha_bars", "sigmas")
    if not isinstance(result, dict) or any(name not in result for name in needed):
        got = sorted(result) if isinstance(result, dict) else type(result).__name__
        raise TypeError(f"draw_explorer needs one result of the explorer's cache (a dict with {', '.join(needed)}; "
                        f"e.g. Explorer(model, schedule)(eta, steps, seed)), got {got}")
    return ExplorerFigure(n=len(result["final"]), k=k, fontsize=fontsize, pyplot=True, lang=lang).update(result)
