"""The explorer: η, steps, spacing, solver and seed controls over cached sampler runs, for the lecture and notebook 5.

Split so that each part can be tested without a browser, read in this order:

* :mod:`.cache`: :class:`Explorer` computes (and caches) everything a picture needs and returns it, with the
  reference row (DDIM, η = 0, S = 100, the same x_T and spacing) and each sample's RMS distance to it;
* :mod:`.prefetch`: :func:`likely_next` guesses the next settings, :func:`with_references` adds the reference
  rows they need, and :class:`Prefetcher` computes them in a background thread, pausing while the kernel works;
* :mod:`.figure`: :class:`ExplorerFigure` only draws, into one figure built once, and renders PNG bytes;
* :mod:`.widget`: :func:`explorer` wires them to ipywidgets sliders, a spacing selector, a solver selector
  (DDIM or DPM-Solver++(2M)), an image and a status line.

``python -m ddim_teach.bench --explorer`` times a scripted lecture session against it
(:mod:`ddim_teach.bench_explorer`).
"""
from .cache import REFERENCE_ETA, REFERENCE_STEPS, SOLVERS, SPACINGS, Explorer, rms_distance
from .figure import ExplorerFigure, draw_explorer, rms_text, setting_text, strip_steps
from .prefetch import Cancelled, Job, JobState, Prefetcher, likely_next, with_references
from .widget import explorer

__all__ = ["SPACINGS", "SOLVERS", "REFERENCE_ETA", "REFERENCE_STEPS", "Explorer", "rms_distance", "likely_next",
           "with_references", "Prefetcher", "Job", "JobState", "Cancelled", "ExplorerFigure", "draw_explorer",
           "rms_text", "setting_text", "strip_steps", "explorer"]
