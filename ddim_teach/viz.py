"""Thin plotting and widget helpers for the notebooks. The math lives elsewhere; these only draw.

The explorer is split in two so it can be tested without a browser: :func:`explore` computes
(and caches) everything a redraw needs and returns it; :func:`draw_explorer` only draws;
:func:`explorer` wires both to ipywidgets sliders, an image and a status line.
"""
from __future__ import annotations

import time
from collections import OrderedDict

import matplotlib.pyplot as plt
import torch

from . import samplers


def show_images(images: torch.Tensor, nrow: int | None = None, ax=None, title: str | None = None,
                scale: float = 1.0):
    """Show (N, 1, 28, 28) images in [-1, 1] as one grid; returns the axes."""
    x = images.detach().float().clamp(-1, 1)
    n = x.shape[0]
    nrow = nrow or n
    ncol_rows = (n + nrow - 1) // nrow
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
    if title:
        ax.set_title(title)
    return ax


def show_strip(traj: samplers.Trajectory, sample: int = 0, k: int = 8, rows=("xs", "x0_hats"), scale=1.0):
    """For one sample: k evenly chosen recorded steps, one row per recorded field (x_t, x0_hat, ...)."""
    idx = torch.linspace(0, len(traj.recorded) - 1, k).round().long()
    labels = {"xs": "x_t", "x0_hats": "x̂₀", "eps_hats": "ε̂"}
    fig, axes = plt.subplots(len(rows), 1, figsize=(scale * k * 0.9, scale * len(rows) * 1.1 + 0.4))
    axes = [axes] if len(rows) == 1 else list(axes)
    for ax, field in zip(axes, rows):
        imgs = getattr(traj, field)[idx, sample]
        show_images(imgs, nrow=k, ax=ax)
        ax.set_ylabel(labels.get(field, field), rotation=0, labelpad=18)
    ts = traj.timesteps[traj.recorded[idx]].tolist()
    axes[0].set_title("t = " + ", ".join(map(str, ts)), fontsize=9)
    fig.tight_layout()
    return fig


class Explorer:
    """Samples for (eta, steps, seed), cached: the lecture's sliders call :meth:`__call__`."""

    def __init__(self, model, schedule, n: int = 6, spacing: str = "trailing", cache_size: int = 64, x_seed: int = 0):
        self.model, self.schedule, self.n, self.spacing = model, schedule, n, spacing
        self.x_seed = x_seed
        self._cache: OrderedDict = OrderedDict()
        self.cache_size = cache_size
        self.calls = 0

    def x_T(self, seed: int) -> torch.Tensor:
        shape = (self.n, *getattr(self.model, "sample_shape", (1, 28, 28)))
        return torch.randn(shape, generator=torch.Generator().manual_seed(seed))

    def __call__(self, eta: float = 0.0, steps: int = 20, seed: int = 0) -> dict:
        """Returns final samples, the x0_hat strip of sample 0, timesteps, sigmas and the compute time."""
        key = (round(float(eta), 4), int(steps), int(seed))
        if key in self._cache:
            self._cache.move_to_end(key)
            return self._cache[key]
        t0 = time.perf_counter()
        traj = samplers.sample(self.model, self.schedule, self.x_T(seed), steps=int(steps), eta=float(eta),
                               spacing=self.spacing, generator=torch.Generator().manual_seed(seed + 10_000),
                               progress=False)
        self.calls += 1
        out = {"final": traj.final, "x0_hats": traj.x0_hats[:, 0], "xs": traj.xs[:, 0],
               "timesteps": traj.timesteps, "sigmas": traj.sigmas, "seconds": time.perf_counter() - t0,
               "key": key}
        self._cache[key] = out
        if len(self._cache) > self.cache_size:
            self._cache.popitem(last=False)
        return out


def draw_explorer(result: dict, k: int = 8, fontsize: int = 13):
    """Final samples, the x_t and x0_hat strips of sample 0, and sigma_t; large fonts for projection."""
    fig = plt.figure(figsize=(12, 6.2))
    gs = fig.add_gridspec(3, 2, width_ratios=[3, 1.3], height_ratios=[1, 1, 1])
    eta, steps, seed = result["key"]
    show_images(result["final"], ax=fig.add_subplot(gs[0, 0]),
                title=f"final samples   η = {eta:g}, S = {steps}, seed = {seed}")
    idx = torch.linspace(0, len(result["timesteps"]) - 1, min(k, len(result["timesteps"]))).round().long()
    ax = fig.add_subplot(gs[1, 0])
    show_images(result["xs"][idx], ax=ax)
    ax.set_ylabel("x_t", rotation=0, labelpad=22, fontsize=fontsize)
    ax = fig.add_subplot(gs[2, 0])
    show_images(result["x0_hats"][idx], ax=ax)
    ax.set_ylabel("x̂₀", rotation=0, labelpad=22, fontsize=fontsize)
    ax.set_xlabel("t = " + ", ".join(str(int(result["timesteps"][i])) for i in idx), fontsize=fontsize - 2)
    ax = fig.add_subplot(gs[:, 1])
    ax.plot(result["timesteps"].numpy(), result["sigmas"].numpy(), "o-", ms=3)
    ax.set_xlim(1000, -10)
    ax.set_xlabel("t", fontsize=fontsize), ax.set_title("σ_t per step", fontsize=fontsize)
    for a in fig.axes:
        a.title.set_fontsize(fontsize)
        a.tick_params(labelsize=fontsize - 3)
    fig.tight_layout()
    return fig


def explorer(model, schedule, n: int = 6, max_steps: int = 100, spacing: str = "trailing", fontsize: int = 13,
             dpi: int = 80):
    """ipywidgets sliders for eta, steps and seed over :class:`Explorer`; returns the widget (a VBox).

    The figure is an ``Image`` widget (PNG bytes) and the status line an ``HTML`` widget. ``fontsize`` sizes
    the figure's text; the lecture app (``make lecture``) uses a larger one. The widget keeps the last
    result in ``.result`` and the :class:`Explorer` in ``.explorer``.

    Why not ``ipywidgets.interactive``: it draws into an ``Output`` widget, and Voilà (through nbclient)
    answers every output captured there with a message on the kernel's shell channel while it waits on
    that same channel for the cell's reply. Now and then the reply's wake-up is lost and the lecture page
    stays on "Executing 3 of 5" for good (nbclient issue #312; 8 of 12 page loads on our CI machine,
    ``scripts/voila_loads.sh``). With no ``Output`` widget nothing is sent back, and the page loads every time.
    """
    import io

    import ipywidgets as W

    ex = Explorer(model, schedule, n=n, spacing=spacing)
    style = {"description_width": "60px"}
    layout = W.Layout(width="420px")
    eta = W.FloatSlider(value=0.0, min=0.0, max=1.0, step=0.1, description="η", style=style, layout=layout,
                        continuous_update=False)
    steps = W.IntSlider(value=20, min=2, max=max_steps, step=1, description="steps", style=style, layout=layout,
                        continuous_update=False)
    seed = W.IntSlider(value=0, min=0, max=20, description="seed", style=style, layout=layout,
                       continuous_update=False)
    image = W.Image(format="png")
    status = W.HTML()
    box = W.VBox([eta, steps, seed, image, status])
    box.add_class("widget-interact")  # the class ipywidgets.interactive uses; the CSS and browser tests find it
    box.explorer = ex

    def line(text):
        return f"<span style='font-size:{fontsize + 1}px'>{text}</span>"

    def update(change=None):
        setting = f"η = {eta.value:g}, S = {steps.value}, seed = {seed.value}"
        status.value = line(f"computing {setting}…")
        result = ex(eta.value, steps.value, seed.value)
        fig = draw_explorer(result, fontsize=fontsize)
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=dpi)
        plt.close(fig)
        image.value = buf.getvalue()
        status.value = line(f"{setting}: computed in {result['seconds']:.2f}s (cached redraws are instant)")
        box.result = result

    for slider in (eta, steps, seed):
        slider.observe(update, names="value")
    update()
    return box
