"""The explorer as a widget: sliders for eta, steps and seed, a spacing and a solver selector over an
:class:`~ddim_teach.explorer.Explorer`, the picture as an ``Image`` widget, a status line, and a background
:class:`~ddim_teach.explorer.Prefetcher` fed with the likely next settings after every move."""
from __future__ import annotations

import contextlib
import time
import weakref

from .. import checks, i18n
from .cache import MAX_SEED, SOLVERS, SPACINGS, Explorer
from .figure import ExplorerFigure, rms_text, setting_text
from .prefetch import Prefetcher, likely_next, with_references

_LIVE: weakref.WeakSet = weakref.WeakSet()  # the explorers' prefetchers that may still run


def explorer(model, schedule, n: int = 6, max_steps: int = 100, spacing: str = "trailing", fontsize: int = 13,
             dpi: int = 80, prefetch: bool = True, max_seed: int = 20, lang: str | None = None,
             solver: str = "ddim"):
    """Sliders for eta, steps and seed, a spacing and a solver selector over :class:`Explorer`; returns the
    widget (a VBox).

    The figure is an ``Image`` widget (PNG bytes) and the status line an ``HTML`` widget. ``fontsize`` sizes
    the figure's text; the lecture app (``make lecture``) uses a larger one. ``spacing`` is the spacing
    selector's first value, ``solver`` the solver selector's ("ddim" or "dpm_solver_pp_2m", shown as DDIM and
    DPM-Solver++(2M), beside the spacing selector). DPM-Solver++(2M) has no η: while it is selected the η
    slider is disabled (it keeps its value for DDIM), the setting's eta is 0 and the status line says "no η".
    The picture has a reference row under the samples: the same seed's x_T sampled by DDIM at η = 0, S = 100
    with the spacing shown (:meth:`Explorer.reference_key`), computed once per seed and spacing (the first time
    in the foreground; the background worker computes the references of the seeds and spacings it guesses next
    before those settings). The status line's second line gives each sample's RMS distance to its reference.
    ``lang`` ("en" or "zh"; default :func:`ddim_teach.i18n.get_language`, which the Chinese
    notebooks set) is the language of the controls' labels and tooltips, the figure and the status line; the
    PNG's ``ddim-teach-setting`` chunk (read by tests) stays English.

    The widget exposes its parts: ``.controls`` (``{"eta", "steps", "spacing", "solver", "seed"}`` -> the control; set
    a control's ``value`` to move it, as the browser does), ``.image``, ``.status``, ``.figure`` (the
    :class:`ExplorerFigure`), ``.explorer`` (the :class:`Explorer`), ``.result`` (the last result shown),
    and with ``prefetch`` (the default) ``.prefetcher``, a :class:`Prefetcher` that computes likely next
    settings while the picture is on screen; ``.stop()`` ends it. Building a new explorer stops the previous
    explorers' background work (re-running the cell leaves no stale worker behind).

    Why not ``ipywidgets.interactive``: it draws into an ``Output`` widget, and Voilà (through nbclient)
    answers every output captured there with a message on the kernel's shell channel while it waits on
    that same channel for the cell's reply. Now and then the reply's wake-up is lost and the lecture page
    stays on "Executing 3 of 5" for good (nbclient issue #312; 8 of 12 page loads on our CI machine,
    ``scripts/voila_loads.sh``). With no ``Output`` widget nothing is sent back, and the page loads every time.
    """
    import ipywidgets as W

    lang = i18n.language(lang)
    checks.integer(max_steps, "max_steps", 2, schedule.T)
    checks.integer(max_seed, "max_seed", 0, MAX_SEED)
    checks.integer(dpi, "dpi", 20, 400)
    checks.real(fontsize, "fontsize", 0.0, 72.0)
    checks.one_of(solver, "solver", SOLVERS)

    def tr(key, **fields):
        return i18n.tr(key, lang, **fields)

    ex = Explorer(model, schedule, n=n, spacing=spacing)
    style = {"description_width": "60px"}
    layout = W.Layout(width="420px")
    controls = {
        "eta": W.FloatSlider(value=0.0, min=0.0, max=1.0, step=0.1, description=tr("explorer.eta"), style=style,
                             layout=layout, continuous_update=False),
        "steps": W.IntSlider(value=20, min=2, max=max_steps, step=1, description=tr("explorer.steps"), style=style,
                             layout=layout, continuous_update=False),
        "spacing": W.ToggleButtons(options=list(SPACINGS), value=spacing, description=tr("explorer.spacing"),
                                   tooltips=[tr(f"explorer.tip_{s}") for s in SPACINGS],
                                   style={"description_width": "60px", "button_width": "110px"}),
        "solver": W.ToggleButtons(options=[(tr(f"explorer.solver_{s}"), s) for s in SOLVERS], value=solver,
                                  description=tr("explorer.solver"),
                                  tooltips=[tr(f"explorer.tip_{s}") for s in SOLVERS],
                                  style={"description_width": "60px", "button_width": "auto"}),  # fits the label
        "seed": W.IntSlider(value=0, min=0, max=max_seed, description=tr("explorer.seed"), style=style,
                            layout=layout, continuous_update=False),
    }
    image = W.Image(format="png")
    status = W.HTML()
    selectors = W.HBox([controls["spacing"], controls["solver"]])  # the solver beside the spacing
    box = W.VBox([controls["eta"], controls["steps"], selectors, controls["seed"], image, status])
    box.add_class("widget-interact")  # the class ipywidgets.interactive uses; the CSS and browser tests find it
    box.controls, box.image, box.status, box.explorer = controls, image, status, ex
    picture = box.figure = ExplorerFigure(n=n, fontsize=fontsize, lang=lang)
    roles = {id(w): role for role, w in controls.items()}
    gesture = {"last": None, "repeats": 0}  # the last move and how many times in a row it was made

    ip = _ipython()
    pre = None
    if prefetch:
        for old in list(_LIVE):  # one background worker per kernel: the newest explorer's
            old.stop()
        pre = Prefetcher(ex, paused=ip is not None)  # in IPython it starts when this cell ends
        _LIVE.add(pre)
        if ip is not None:
            pre.follow_cells(ip)
    ex.prefetcher = box.prefetcher = pre
    box.stop = pre.stop if pre is not None else (lambda: None)

    def line(text):
        return f"<span style='font-size:{fontsize + 1}px'>{text}</span>"

    def move(change) -> tuple | None:
        """The move as likely_next takes it: (control, direction), or None for the first picture."""
        if change is None:
            return None
        role = roles.get(id(change["owner"]))
        if role in ("spacing", "solver"):
            return (role, 0)
        return (role, 1 if change["new"] > change["old"] else -1) if role else None

    def show_solver():
        """The η slider is disabled while DPM-Solver++(2M), which has no η, is selected."""
        ddim = controls["solver"].value == "ddim"
        controls["eta"].disabled = not ddim
        controls["eta"].tooltip = None if ddim else tr("explorer.eta_unused")

    def update(change=None):
        show_solver()
        key = ex.key(*(controls[c].value for c in ("eta", "steps", "seed", "spacing", "solver")))
        setting = setting_text(key, lang)
        ref_key = ex.reference_key(key)
        ref_before = ex.cached(ref_key)
        status.value = line(tr("explorer.computing" if ref_before is not None else "explorer.computing_reference",
                               setting=setting))
        with pre.foreground() if pre is not None else contextlib.nullcontext():  # the worker waits meanwhile
            result = ex.get(key)  # cached, or the worker's if it is on this key, or computed now; and its reference
            t0 = time.perf_counter()
            image.value = picture.png(result, dpi=dpi)
            done = tr("explorer.computed_ahead" if result.get("ahead") else "explorer.computed",
                      setting=setting, seconds=result["seconds"], picture=time.perf_counter() - t0)
            rms = tr("explorer.rms_status", eta=ref_key[0], steps=ref_key[1], rms=rms_text(result["rms"], lang))
            if ref_before is None and key != ref_key:  # this move paid for the reference row
                rms += tr("explorer.reference_now", seconds=result["reference_seconds"])
            status.value = line(done) + "<br>" + line(rms)
            box.result = result
            if pre is not None:
                last = move(change)
                gesture["repeats"] = gesture["repeats"] + 1 if last is not None and last == gesture["last"] else 1
                gesture["last"] = last
                guesses = likely_next(key, last, max_steps=max_steps, max_seed=max_seed,
                                      repeats=gesture["repeats"], ddim_eta=controls["eta"].value)
                pre.schedule(with_references(key, guesses, ex.reference_key))

    for control in controls.values():
        control.observe(update, names="value")
    update()
    return box


def _ipython():
    """The running IPython shell, or None (plain Python, or IPython not installed)."""
    try:
        from IPython import get_ipython
    except ImportError:
        return None
    return get_ipython()
