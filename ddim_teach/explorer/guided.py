"""Notebook 10's small explorer: a guidance slider (Ho & Salimans' w) and a digit selector over the conditional U-Net.

:class:`GuidanceExplorer` computes (and caches) the samples for (digit, w, seed) and returns them with the
classifier's probability of the requested digit; :func:`guidance_explorer` wires it to two sliders, a digit
selector, an ``Image`` and a status line (no ``Output`` widget, as the main explorer, so Voilà loads it too).
Every setting starts from the same x_T for a seed, so moving w shows what guidance does to the same digits.
"""
from __future__ import annotations

import io
import time
from collections import OrderedDict

import matplotlib.pyplot as plt
import torch

from .. import checks, i18n, metrics, samplers
from ..guidance import ClassifierFreeGuided
from ..schedules import check_schedule

MAX_W = 10.0


class GuidanceExplorer:
    """``GuidanceExplorer(model, schedule, clf)(digit, w, seed)`` -> {"samples", "p_digit", "seconds", "key"}.

    ``model`` is a conditional U-Net (``load_pretrained(conditional=True)``); ``clf`` the shipped classifier
    (``load_classifier()``), or None to leave ``p_digit`` out. DDIM η = 0, ``steps`` trailing steps, ``n``
    samples from the seed's x_T; w is kept to 2 decimals, so a slider's 1.5000000001 and 1.5 are one setting; a w
    with more decimals than that is refused rather than shown as its neighbour (as the main explorer does for η)."""

    def __init__(self, model, schedule, clf=None, n: int = 6, steps: int = 20, cache_size: int = 128):
        check_schedule(schedule, " (the one load_pretrained returns)")
        checks.integer(n, "n (samples shown)", 1, 32)
        checks.integer(steps, "steps", 1, schedule.T)
        checks.integer(cache_size, "cache_size", 1, 100_000)
        self.model, self.schedule, self.clf, self.n, self.steps = model, schedule, clf, n, steps
        self._cache: OrderedDict = OrderedDict()
        self.cache_size, self.calls = cache_size, 0

    def key(self, digit: int, w: float, seed: int) -> tuple:
        digit = checks.integer(digit, "digit", 0, 9)
        w = checks.real(w, "w (Ho & Salimans' guidance weight)", 0.0, MAX_W, lo_open=False)
        seed = checks.integer(seed, "seed", 0, 2 ** 62)
        if abs(w - round(w, 2)) > 1e-6:   # 1e-6, not less: a float32 slider's 0.35 is 0.3499999940…
            raise ValueError(f"w is kept to 2 decimals in the explorer, got {w!r}; round it (e.g. {round(w, 2)})")
        return digit, round(w, 2), seed

    def __call__(self, digit: int = 0, w: float = 0.0, seed: int = 0) -> dict:
        key = self.key(digit, w, seed)
        if key in self._cache:
            self._cache.move_to_end(key)
            return self._cache[key]
        digit, w, seed = key
        x_T = torch.randn((self.n, 1, 28, 28), generator=torch.Generator().manual_seed(seed))
        t0 = time.perf_counter()
        net = ClassifierFreeGuided(self.model, digit, w)
        x = samplers.sample(net, self.schedule, x_T, steps=self.steps, eta=0.0, spacing="trailing",
                            record_every=None, progress=False).final
        p = None if self.clf is None else metrics.probabilities(self.clf, x)[:, digit]   # of the clamped image shown
        self.calls += 1
        out = {"samples": x, "p_digit": p, "seconds": time.perf_counter() - t0, "key": key}
        self._cache[key] = out
        if len(self._cache) > self.cache_size:
            self._cache.popitem(last=False)
        return out


def draw(result: dict, lang: str | None = None, dpi: int = 80) -> bytes:
    """The samples in a row, each titled with the classifier's probability of the requested digit; PNG bytes."""
    x, p = result["samples"], result["p_digit"]
    digit, w, seed = result["key"]
    n = len(x)
    fig = plt.Figure(figsize=(1.3 * n, 1.9), dpi=dpi)
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    FigureCanvasAgg(fig)
    for i in range(n):
        ax = fig.add_subplot(1, n, i + 1)
        ax.imshow(x[i, 0].clamp(-1, 1).numpy(), cmap="gray", vmin=-1, vmax=1)
        ax.set_xticks([]), ax.set_yticks([])
        if p is not None:
            ax.set_title(f"p({digit}) = {float(p[i]):.2f}", fontsize=9)
    fig.suptitle(i18n.tr("guided.title", lang, digit=digit, w=f"{w:g}", scale=f"{1 + w:g}", seed=seed), fontsize=10)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return buf.getvalue()


def guidance_explorer(model, schedule, clf=None, n: int = 6, steps: int = 20, lang: str | None = None):
    """A w slider (0 to 10 in steps of 0.5), a digit selector and a seed slider over :class:`GuidanceExplorer`;
    returns the widget (a VBox) with ``.controls`` ({"w", "digit", "seed"}), ``.image``, ``.status``,
    ``.explorer`` and ``.result`` (the last result shown). Set a control's ``value`` to move it."""
    import ipywidgets as W

    lang = i18n.language(lang)
    ex = GuidanceExplorer(model, schedule, clf, n=n, steps=steps)
    style, layout = {"description_width": "60px"}, W.Layout(width="420px")
    controls = {
        "w": W.FloatSlider(value=0.0, min=0.0, max=MAX_W, step=0.5, description="w", style=style, layout=layout,
                           continuous_update=False),
        "digit": W.ToggleButtons(options=list(range(10)), value=3, description=i18n.tr("guided.digit", lang),
                                 style={"description_width": "60px", "button_width": "32px"}),
        "seed": W.IntSlider(value=0, min=0, max=20, description=i18n.tr("explorer.seed", lang), style=style,
                            layout=layout, continuous_update=False),
    }
    image, status = W.Image(format="png"), W.HTML()
    box = W.VBox([controls["w"], controls["digit"], controls["seed"], image, status])
    box.add_class("widget-interact")
    box.controls, box.image, box.status, box.explorer, box.result = controls, image, status, ex, None

    def update(change=None):
        t0 = time.perf_counter()
        r = ex(controls["digit"].value, controls["w"].value, controls["seed"].value)
        image.value = draw(r, lang)
        box.result = r
        mean_p = "" if r["p_digit"] is None else i18n.tr("guided.mean_p", lang, p=f"{float(r['p_digit'].mean()):.2f}")
        status.value = i18n.tr("guided.status", lang, seconds=f"{time.perf_counter() - t0:.2f}", mean_p=mean_p,
                               calls=2 * steps if r["key"][1] > 0 else steps)

    for c in controls.values():
        c.observe(update, names="value")
    update()
    return box
