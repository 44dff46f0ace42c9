"""Thin plotting and widget helpers for the notebooks. The math lives elsewhere; these only draw.

The explorer is split so it can be tested without a browser: :class:`Explorer` computes (and caches)
everything a picture needs and returns it; :class:`ExplorerFigure` only draws, into one figure built
once; :class:`Prefetcher` computes likely next settings in the background; :func:`explorer` wires them to
ipywidgets sliders, a spacing selector, an image and a status line. ``python -m ddim_teach.bench
--explorer`` times a scripted lecture session against it (:mod:`ddim_teach.bench_explorer`).
"""
from __future__ import annotations

import contextlib
import io
import threading
import time
import weakref
from collections import OrderedDict

import matplotlib.pyplot as plt
import numpy as np
import torch

from . import i18n, samplers


def _figure_language(lang: str | None) -> str:
    """``lang`` checked (None: :func:`ddim_teach.i18n.get_language`); for "zh" the CJK font is made matplotlib's
    fallback first (:func:`ddim_teach.i18n.use_chinese_font`), so the texts drawn next have no missing glyphs."""
    lang = i18n.language(lang)
    if lang == "zh":
        i18n.use_chinese_font()
    return lang


def show_images(images: torch.Tensor, nrow: int | None = None, ax=None, title: str | None = None,
                scale: float = 1.0, lang: str | None = None):
    """Show (N, 1, 28, 28) images in [-1, 1] as one grid; returns the axes. The ``title`` is drawn as given;
    with ``lang="zh"`` (default: the current language) the CJK font is set up first, so a Chinese title renders."""
    _figure_language(lang)
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


SPACINGS = ("leading", "trailing", "linspace")


class Cancelled(Exception):
    """Raised inside a background computation when a real move makes it stale."""


class Explorer:
    """Samples for (eta, steps, seed, spacing), cached: the lecture's sliders call :meth:`__call__`.

    A result holds what the explorer shows: the ``n`` final samples, and for sample 0 only, ``xs`` and
    ``x0_hats`` (x_t and x0_hat entering every step), with the ``timesteps`` and ``sigmas`` of the run.
    The same key gives the same tensors, bit for bit, whichever thread computed them (x_T and the noise
    come from generators seeded by ``seed``; the thread count is torch's, shared by all threads).
    """

    def __init__(self, model, schedule, n: int = 6, spacing: str = "trailing", cache_size: int = 256,
                 x_seed: int = 0):
        if spacing not in SPACINGS:
            raise ValueError(f"spacing must be one of {', '.join(SPACINGS)}, got {spacing!r}")
        self.model, self.schedule, self.n, self.spacing = model, schedule, n, spacing
        self.x_seed = x_seed
        self._cache: OrderedDict = OrderedDict()
        self._lock = threading.Lock()
        self.cache_size = cache_size
        self.calls = 0
        self.prefetcher: Prefetcher | None = None

    def x_T(self, seed: int) -> torch.Tensor:
        shape = (self.n, *getattr(self.model, "sample_shape", (1, 28, 28)))
        return torch.randn(shape, generator=torch.Generator().manual_seed(seed))

    def key(self, eta: float = 0.0, steps: int = 20, seed: int = 0, spacing: str | None = None) -> tuple:
        """The cache key (eta rounded to 4 decimals, steps, seed, spacing), checked."""
        spacing = self.spacing if spacing is None else spacing
        if spacing not in SPACINGS:
            raise ValueError(f"spacing must be one of {', '.join(SPACINGS)}, got {spacing!r}")
        if not 0.0 <= float(eta) <= 1.0:
            raise ValueError(f"eta must lie in [0, 1] (0 = DDIM, 1 = DDPM-like), got {eta!r}")
        if not 1 <= int(steps) <= self.schedule.T:
            raise ValueError(f"steps must be an integer in 1..{self.schedule.T}, got {steps!r}")
        return round(float(eta), 4), int(steps), int(seed), spacing

    def cached(self, key: tuple) -> dict | None:
        with self._lock:
            if key in self._cache:
                self._cache.move_to_end(key)
                return self._cache[key]
        return None

    def store(self, key: tuple, result: dict) -> dict:
        with self._lock:
            self._cache[key] = result
            self._cache.move_to_end(key)
            while len(self._cache) > self.cache_size:
                self._cache.popitem(last=False)
        return result

    def compute(self, key: tuple, checkpoint=None) -> dict:
        """Run the sampler for ``key`` (uncached). ``checkpoint()`` is called after every step; it may
        raise :class:`Cancelled` to abandon the run (the background worker's way to yield)."""
        eta, steps, seed, spacing = key
        xs, x0_hats = [], []

        def keep_sample_0(state):  # the strip shows x_t and x0_hat of one sample: record only that one
            xs.append(state.x_t[:1].clone())
            x0_hats.append(state.x0_hat[:1].clone())
            if checkpoint is not None:
                checkpoint()
        t0 = time.perf_counter()
        traj = samplers.sample(self.model, self.schedule, self.x_T(seed), steps=steps, eta=eta, spacing=spacing,
                               generator=torch.Generator().manual_seed(seed + 10_000), record_every=None,
                               progress=False, callback=keep_sample_0)
        with self._lock:
            self.calls += 1
        return {"final": traj.final, "x0_hats": torch.cat(x0_hats), "xs": torch.cat(xs),
                "timesteps": traj.timesteps, "sigmas": traj.sigmas, "seconds": time.perf_counter() - t0,
                "key": key, "ahead": False}

    def get(self, key: tuple) -> dict:
        """The result for a checked key: cached, or the background worker's if it is on it, or computed now."""
        hit = self.cached(key)
        if hit is None and self.prefetcher is not None:
            hit = self.prefetcher.wait_for(key)
        if hit is None:
            hit = self.store(key, self.compute(key))
        return hit

    def __call__(self, eta: float = 0.0, steps: int = 20, seed: int = 0, spacing: str | None = None) -> dict:
        """Returns final samples, the x_t and x0_hat strips of sample 0, timesteps, sigmas and the compute time."""
        return self.get(self.key(eta, steps, seed, spacing))


def likely_next(key: tuple, last: tuple | None = None, max_steps: int = 100, max_seed: int = 20,
                min_steps: int = 2, repeats: int = 1) -> list[tuple]:
    """Settings a lecturer is likely to pick next from ``key``, most likely first.

    ``last`` is the previous move as (control, direction): the same gesture once more comes first
    (S + 1 after S + 1, the next seed after the next seed, the other end of eta after a drag across).
    ``repeats`` counts how many times in a row that gesture was made: from the second time on, a lecturer
    stepping S with the arrow key is likely to go on, so the whole run ahead in that direction comes first
    (S + 1, S + 2, ... to the slider's end; the next 3 seeds). The worker banks the time it has to spare at
    small S, where a setting takes less than the talk between moves, for large S, where it takes more; the
    next move replaces the queue, so a run that stops costs only otherwise idle time.
    Then the neighbours: S +- 1, the next seed, eta +- 0.1, both ends of eta, S +- 2, the other
    spacings, S +- 3..5. Only settings the sliders can reach.
    """
    eta, S, seed, sp = key

    def k(e=eta, s=S, sd=seed, p=sp):
        return round(e, 4), s, sd, p
    first = []
    if last:
        control, direction = last
        if control == "steps":
            run = max_steps if repeats >= 2 else 1
            first = [k(s=S + i * direction) for i in range(1, run + 1)]
        elif control == "seed":
            first = [k(sd=seed + i * direction) for i in range(1, (3 if repeats >= 2 else 1) + 1)]
        elif control == "eta":
            first = [k(e=eta + 0.1 * direction), k(e=0.0 if eta >= 0.5 else 1.0)]
        elif control == "spacing":
            first = [k(p=p) for p in SPACINGS if p != sp]
    rest = [k(s=S + 1), k(s=S - 1), k(sd=seed + 1), k(e=eta + 0.1), k(e=eta - 0.1), k(e=1.0), k(e=0.0),
            k(s=S + 2), k(s=S - 2)] + [k(p=p) for p in SPACINGS if p != sp]
    for d in (3, 4, 5):
        rest += [k(s=S + d), k(s=S - d)]
    rest.append(k(sd=seed - 1))
    out = []
    for c in first + rest:
        if (c != key and c not in out and 0.0 <= c[0] <= 1.0 and min_steps <= c[1] <= max_steps
                and 0 <= c[2] <= max_seed):
            out.append(c)
    return out


class Prefetcher:
    """Computes likely next settings in a background thread while the picture is on screen.

    It never competes with the kernel's own work: it pauses at the next sampler step (a few
    milliseconds) while a move is answered (:meth:`foreground`) and while a notebook cell runs (IPython's
    ``pre_run_cell`` / ``post_run_cell`` events, when there is an IPython). A move to the setting it is
    computing waits for it (:meth:`wait_for`) instead of starting over; :meth:`schedule` replaces the
    queue after every move and abandons the setting in progress if it is no longer likely. Results go
    into the explorer's cache, the same tensors the foreground would compute. Errors are kept in
    ``errors``, never printed (output from a thread would land in whatever cell runs then).
    """

    def __init__(self, explorer: Explorer, paused: bool = False):
        self.ex = explorer
        self._cv = threading.Condition()
        self._queue: list[tuple] = []
        self._current: tuple | None = None
        self._cancel = False
        self._stopped = False
        self._holds = 1 if paused else 0  # > 0: the worker waits (a move is being answered, a cell runs)
        self.computed: list[tuple] = []     # keys finished in the background, in order
        self.errors: list[str] = []
        self._thread = threading.Thread(target=self._run, name="ddim-teach-prefetch", daemon=True)
        self._thread.start()

    # -- the main thread's side
    def schedule(self, keys) -> None:
        """Replace the queue with ``keys`` (most likely first); drop the setting in progress if not among them."""
        with self._cv:
            if self._stopped:
                return
            self._queue = [k for k in keys if self.ex.cached(k) is None]
            if self._current is not None and self._current not in keys:
                self._cancel = True
            self._cv.notify_all()

    def wait_for(self, key: tuple) -> dict | None:
        """If the worker is computing ``key``, wait for it and return the result; otherwise None."""
        with self._cv:
            if self._current != key:
                return None
            while self._current == key:
                self._cv.wait()
        return self.ex.cached(key)

    def hold(self) -> None:
        with self._cv:
            self._holds += 1

    def release(self) -> None:
        with self._cv:
            self._holds = max(0, self._holds - 1)
            self._cv.notify_all()

    @contextlib.contextmanager
    def foreground(self):
        """While the main thread answers a move, the worker waits at its next step."""
        self.hold()
        try:
            yield
        finally:
            self.release()

    def idle(self, timeout: float = 60.0) -> bool:
        """Wait until the queue is empty and nothing is in progress (for tests and the bench)."""
        deadline = time.monotonic() + timeout
        with self._cv:
            while self._queue or self._current is not None:
                left = deadline - time.monotonic()
                if left <= 0 or self._stopped:
                    return False
                self._cv.wait(left)
        return True

    def follow_cells(self, ip) -> None:
        """Pause while IPython runs a cell: hold at ``pre_run_cell``, release at ``post_run_cell``."""
        self._hooks = [("pre_run_cell", lambda *a: self.hold()), ("post_run_cell", lambda *a: self.release())]
        self._ip = ip
        for event, fn in self._hooks:
            ip.events.register(event, fn)

    def stop(self) -> None:
        """End the worker (at its next step) and drop the IPython hooks."""
        with self._cv:
            self._stopped = True
            self._queue = []
            self._cv.notify_all()
        for event, fn in getattr(self, "_hooks", []):
            try:
                self._ip.events.unregister(event, fn)
            except ValueError:
                pass
        self._hooks = []
        self._thread.join(timeout=10)

    # -- the worker's side
    def _checkpoint(self) -> None:
        with self._cv:
            while self._holds > 0 and not (self._cancel or self._stopped):
                self._cv.wait()
            if self._cancel or self._stopped:
                raise Cancelled

    def _run(self) -> None:
        while True:
            with self._cv:
                while not self._stopped and (not self._queue or self._holds > 0):
                    self._cv.wait()
                if self._stopped:
                    return
                key = self._queue.pop(0)
                if self.ex.cached(key) is not None:
                    continue
                self._current, self._cancel = key, False
            try:
                result = self.ex.compute(key, checkpoint=self._checkpoint)
                result["ahead"] = True
                self.ex.store(key, result)
                self.computed.append(key)
            except Cancelled:
                pass
            except Exception as e:  # noqa: BLE001 - kept, not printed; the foreground will hit it again
                self.errors.append(f"{key}: {type(e).__name__}: {e}")
            finally:
                with self._cv:
                    self._current = None
                    self._cv.notify_all()


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
        self.lang = _figure_language(lang)  # "en" or "zh": the figure's texts (default: i18n.get_language())
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
        self._set_texts((1.0, 100, 20, "trailing"), list(range(999, 0, -125)), 999)
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
        eta, steps, seed, spacing = key
        fs = self.fontsize
        self.axes["final"].set_title(i18n.tr("explorer.final", self.lang, eta=eta, steps=steps, spacing=spacing,
                                             seed=seed), fontsize=fs)
        self.t_label.set_text("t = " + ", ".join(str(int(t)) for t in shown_ts))
        self.axes["sigma"].set_title(i18n.tr("explorer.sigma_per_step", self.lang, spacing=spacing), fontsize=fs)
        self.start_line.set_xdata([t_start, t_start])
        self.start_text.set_x(t_start)
        self.start_text.set_text(i18n.tr("explorer.starts_at", self.lang, t=t_start))

    def update(self, result: dict):
        """Show ``result`` (from :class:`Explorer`); returns the figure."""
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


def setting_text(key: tuple) -> str:
    """'η = 0.5, S = 20, trailing, seed = 0': the status line's and the PNG's name for a setting."""
    eta, steps, seed, spacing = key
    return f"η = {eta:g}, S = {steps}, {spacing}, seed = {seed}"


def draw_explorer(result: dict, k: int = 8, fontsize: int = 13, lang: str | None = None):
    """The explorer's picture for one result, as a pyplot figure (final samples, x_t and x0_hat strips of
    sample 0, sigma_t per step with the start of the timestep list marked); large fonts for projection."""
    return ExplorerFigure(n=len(result["final"]), k=k, fontsize=fontsize, pyplot=True, lang=lang).update(result)


_LIVE: weakref.WeakSet = weakref.WeakSet()  # the explorers' prefetchers that may still run


def explorer(model, schedule, n: int = 6, max_steps: int = 100, spacing: str = "trailing", fontsize: int = 13,
             dpi: int = 80, prefetch: bool = True, max_seed: int = 20, lang: str | None = None):
    """Sliders for eta, steps and seed and a spacing selector over :class:`Explorer`; returns the widget (a VBox).

    The figure is an ``Image`` widget (PNG bytes) and the status line an ``HTML`` widget. ``fontsize`` sizes
    the figure's text; the lecture app (``make lecture``) uses a larger one. ``spacing`` is the selector's
    first value. ``lang`` ("en" or "zh"; default :func:`ddim_teach.i18n.get_language`, which the Chinese
    notebooks set) is the language of the controls' labels and tooltips, the figure and the status line; the
    PNG's ``ddim-teach-setting`` chunk (read by tests) stays English. The widget keeps the last result in
    ``.result``, the :class:`Explorer` in ``.explorer``, and with ``prefetch`` (the default) a
    :class:`Prefetcher` in ``.prefetcher`` that computes likely next settings while the picture is on screen;
    ``.stop()`` ends it. Building a new explorer stops the previous explorers' background work (re-running
    the cell leaves no stale worker behind).

    Why not ``ipywidgets.interactive``: it draws into an ``Output`` widget, and Voilà (through nbclient)
    answers every output captured there with a message on the kernel's shell channel while it waits on
    that same channel for the cell's reply. Now and then the reply's wake-up is lost and the lecture page
    stays on "Executing 3 of 5" for good (nbclient issue #312; 8 of 12 page loads on our CI machine,
    ``scripts/voila_loads.sh``). With no ``Output`` widget nothing is sent back, and the page loads every time.
    """
    import ipywidgets as W

    lang = i18n.language(lang)

    def tr(key, **fields):
        return i18n.tr(key, lang, **fields)

    ex = Explorer(model, schedule, n=n, spacing=spacing)
    style = {"description_width": "60px"}
    layout = W.Layout(width="420px")
    eta = W.FloatSlider(value=0.0, min=0.0, max=1.0, step=0.1, description=tr("explorer.eta"), style=style,
                        layout=layout, continuous_update=False)
    steps = W.IntSlider(value=20, min=2, max=max_steps, step=1, description=tr("explorer.steps"), style=style,
                        layout=layout, continuous_update=False)
    spacing_w = W.ToggleButtons(options=list(SPACINGS), value=spacing, description=tr("explorer.spacing"),
                                tooltips=[tr(f"explorer.tip_{s}") for s in SPACINGS],
                                style={"description_width": "60px", "button_width": "110px"})
    seed = W.IntSlider(value=0, min=0, max=max_seed, description=tr("explorer.seed"), style=style, layout=layout,
                       continuous_update=False)
    image = W.Image(format="png")
    status = W.HTML()
    box = W.VBox([eta, steps, spacing_w, seed, image, status])
    box.add_class("widget-interact")  # the class ipywidgets.interactive uses; the CSS and browser tests find it
    box.explorer = ex
    picture = ExplorerFigure(n=n, fontsize=fontsize, lang=lang)
    box.figure = picture
    roles = {id(eta): "eta", id(steps): "steps", id(seed): "seed", id(spacing_w): "spacing"}
    gesture = {"last": None, "repeats": 0}  # the last move and how many times in a row it was made

    ip = _ipython()
    pre = None
    if prefetch:
        for old in list(_LIVE):  # one background worker per kernel: the newest explorer's
            old.stop()
        pre = Prefetcher(ex, paused=ip is not None)  # in IPython it starts when this cell ends
    ex.prefetcher = box.prefetcher = pre
    if pre is not None:
        _LIVE.add(pre)
        if ip is not None:
            pre.follow_cells(ip)
    box.stop = pre.stop if pre is not None else (lambda: None)

    def line(text):
        return f"<span style='font-size:{fontsize + 1}px'>{text}</span>"

    def update(change=None):
        key = ex.key(eta.value, steps.value, seed.value, spacing_w.value)
        eta_v, steps_v, seed_v, spacing_v = key
        setting = tr("explorer.setting", eta=eta_v, steps=steps_v, spacing=spacing_v, seed=seed_v)
        status.value = line(tr("explorer.computing", setting=setting))
        result = ex.cached(key)
        if result is None and pre is not None:
            result = pre.wait_for(key)  # the background worker is on this very setting: let it finish
        with pre.foreground() if pre is not None else contextlib.nullcontext():  # the worker waits meanwhile
            if result is None:
                result = ex.store(key, ex.compute(key))
            t0 = time.perf_counter()
            image.value = picture.png(result, dpi=dpi)
            status.value = line(tr("explorer.computed_ahead" if result.get("ahead") else "explorer.computed",
                                   setting=setting, seconds=result["seconds"], picture=time.perf_counter() - t0))
            box.result = result
            if pre is not None:
                last = None
                if change is not None:
                    role = roles.get(id(change["owner"]))
                    if role == "spacing":
                        last = ("spacing", 0)
                    elif role:
                        last = (role, 1 if change["new"] > change["old"] else -1)
                gesture["repeats"] = gesture["repeats"] + 1 if last is not None and last == gesture["last"] else 1
                gesture["last"] = last
                pre.schedule(likely_next(key, last, max_steps=max_steps, max_seed=max_seed,
                                         repeats=gesture["repeats"]))

    for control in (eta, steps, spacing_w, seed):
        control.observe(update, names="value")
    update()
    return box


def _ipython():
    try:
        from IPython import get_ipython
    except ImportError:
        return None
    return get_ipython()
