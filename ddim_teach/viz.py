"""Thin plotting helpers for the notebooks: a grid of images, a strip of steps. The math lives elsewhere;
these only draw.

The explorer widget lives in :mod:`ddim_teach.explorer`; the names the notebooks call as ``viz.explorer``,
``viz.Explorer`` and ``viz.draw_explorer`` are re-exported here.
"""
from __future__ import annotations

import matplotlib.pyplot as plt
import torch

from . import i18n, samplers
from .explorer import Explorer, draw_explorer, explorer  # the explorer lives in ddim_teach/explorer/

__all__ = ["show_images", "show_strip", "Explorer", "draw_explorer", "explorer"]


def _figure_language(lang: str | None) -> str:
    """``lang`` checked (None: :func:`ddim_teach.i18n.get_language`); for "zh" the CJK font is made matplotlib's
    fallback first (:func:`ddim_teach.i18n.use_chinese_font`), so the texts drawn next have no missing glyphs."""
    lang = i18n.language(lang)
    if lang == "zh":
        i18n.use_chinese_font()
    return lang


def show_images(images: torch.Tensor, nrow: int | None = None, ax=None, title: str | None = None,
                scale: float = 1.0, lang: str | None = None, row_labels=None, fontsize: float | None = None):
    """Show (N, 1, 28, 28) images in [-1, 1] (a tensor or a numpy array) as one grid; returns the axes. The
    ``title`` is drawn as given;
    with ``lang="zh"`` (default: the current language) the CJK font is set up first, so a Chinese title renders.
    ``row_labels`` (one string per row of the grid) are written left of the rows, so a projected grid says what
    each row is; ``fontsize`` sets the size of the title and the row labels."""
    if type(images).__module__ == "numpy" and hasattr(images, "shape"):
        images = torch.as_tensor(images)
    if not isinstance(images, torch.Tensor) or images.dim() != 4 or images.shape[0] == 0:
        what = f"shape {tuple(images.shape)}" if isinstance(images, torch.Tensor) else type(images).__name__
        raise ValueError(f"show_images needs a batch of images of shape (N, C, H, W) with N >= 1 (channel 0 is "
                         f"shown), got {what}")
    _figure_language(lang)
    x = images.detach().float().clamp(-1, 1)
    n = x.shape[0]
    nrow = nrow or n
    ncol_rows = (n + nrow - 1) // nrow
    if row_labels is not None and len(row_labels) != ncol_rows:
        raise ValueError(f"row_labels: the grid has {ncol_rows} rows of {nrow} images, got {len(row_labels)} labels")
    pad = 2
    H, W = x.shape[-2:]
    canvas = torch.ones(ncol_rows * (H + pad) + pad, nrow * (W + pad) + pad)
    for i in range(n):
        r, c = divmod(i, nrow)
        canvas[pad + r * (H + pad): pad + r * (H + pad) + H, pad + c * (W + pad): pad + c * (W + pad) + W] = x[i, 0]
    if ax is None:
        _, ax = plt.subplots(figsize=(scale * nrow * 0.6, scale * ncol_rows * 0.6 + 0.3))
    ax.imshow(canvas.numpy(), cmap="gray", vmin=-1, vmax=1, interpolation="nearest")
    ax.set_xticks([]), ax.set_yticks([])
    if row_labels is not None:
        ax.set_yticks([pad + r * (H + pad) + H / 2 for r in range(ncol_rows)])
        ax.set_yticklabels([str(label) for label in row_labels], fontsize=fontsize)
        ax.tick_params(axis="y", length=0)
    if title:
        ax.set_title(title, fontsize=fontsize)
    return ax


def show_strip(traj: samplers.Trajectory, sample: int = 0, k: int = 8, rows=("xs", "x0_hats"), scale=1.0,
               lang: str | None = None):
    """For one sample: k evenly chosen recorded steps, one row per recorded field (x_t, x0_hat, ...).
    ``lang`` ("en" or "zh"; default: the current language) is the language of the row labels."""
    lang = _figure_language(lang)
    idx = torch.linspace(0, len(traj.recorded) - 1, k).round().long()
    labels = {f: i18n.tr(f"strip.{f}", lang) for f in ("xs", "x0_hats", "eps_hats")}
    fig, axes = plt.subplots(len(rows), 1, figsize=(scale * k * 0.9, scale * len(rows) * 1.1 + 0.4))
    axes = [axes] if len(rows) == 1 else list(axes)
    for ax, field in zip(axes, rows):
        imgs = getattr(traj, field)[idx, sample]
        show_images(imgs, nrow=k, ax=ax, lang=lang)
        ax.set_ylabel(labels.get(field, field), rotation=0, labelpad=18)
    ts = traj.timesteps[traj.recorded[idx]].tolist()
    axes[0].set_title("t = " + ", ".join(map(str, ts)), fontsize=9)
    fig.tight_layout()
    return fig
