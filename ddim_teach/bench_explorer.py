"""How fast the explorer answers a lecturer: a scripted session, headless, timed in the kernel.

    python -m ddim_teach.bench --explorer                  # both apps, 2 s of talk between moves
    python -m ddim_teach.bench --explorer --think 0        # moves back to back (no time to compute ahead)
    python -m ddim_teach.bench --explorer --app lecture --no-prefetch

The explorer is built exactly as the two apps build it (:data:`APPS`: notebook 5's cell and the lecture
app's cell call :func:`ddim_teach.explorer.explorer`, as ``viz.explorer``, with these arguments). Each move
of :func:`lecture_script` sets the ``value`` of one of the widget's ``controls``, as a slider's message from
the browser does in the kernel; without a kernel the observer runs at once, in this thread. The latency of
a move is the time from setting the value to the observer's return, when the new PNG bytes are in the
widget's ``image``: computation (or a cache hit, or waiting for the background work on that setting) plus
drawing plus PNG encoding. The browser's own time (sending the bytes, decoding the PNG) is not in it.
Between moves the lecturer talks for ``think`` seconds, while the explorer may compute likely next settings
in the background. The first picture (building the explorer: its first setting and that seed's reference row,
DDIM at η = 0, S = 100) is timed too and reported on its own line, not in the headline.

The script: start at eta = 0, S = 20; step S up to 100 with the arrow key (80 moves);
drag eta to 1 (one move: a slider with ``continuous_update=False`` sends only where the drag ends);
step the seed 0 -> 3; go back to settings already shown. A last segment, reported on its own line and
not in the headline, uses the spacing selector at S = 5.
"""
from __future__ import annotations

import os
import time

import torch

# The two apps, as their notebooks build the explorer (keep in step with the cells that call viz.explorer).
APPS = {
    "notebook5": {"n": 6, "max_steps": 100},                   # notebooks/05_x0_and_consistency.ipynb
    "lecture": {"n": 6, "max_steps": 100, "fontsize": 17},     # notebooks/lecture_explorer.ipynb (make lecture)
}
HEADLINE = ("S up with the arrow key", "drag η to 1", "step the seed", "back to settings shown")
FIRST = "first picture"  # building the explorer: the first setting and its reference row, before any move


def lecture_script(max_steps: int = 100) -> list[tuple[str, str, object]]:
    """The moves, as (segment, control, new value); the explorer starts at eta = 0, S = 20, seed = 0."""
    moves = [("S up with the arrow key", "steps", S) for S in range(21, max_steps + 1)]
    moves.append(("drag η to 1", "eta", 1.0))
    moves += [("step the seed", "seed", s) for s in (1, 2, 3)]
    # Back: seeds already shown at eta = 1, S = 100; then eta = 0 and S = 50, 20 (shown on the way up, seed 0).
    moves += [("back to settings shown", "seed", s) for s in (2, 1, 0)]
    moves += [("back to settings shown", "eta", 0.0), ("back to settings shown", "steps", 50),
              ("back to settings shown", "steps", 20)]
    moves += [("spacing at S = 5", "steps", 5)] + [("spacing at S = 5", "spacing", sp)
                                                    for sp in ("leading", "linspace", "trailing")]
    return moves


def run_session(model, schedule, app_kwargs: dict, think: float = 2.0, prefetch: bool | None = None,
                script=None, log=None) -> list[dict]:
    """Build the explorer, play the script, return one row per move: segment, control, value, seconds; the
    first row (segment "first picture", control None) times building the explorer."""
    from .explorer import explorer
    kw = dict(app_kwargs)
    if prefetch is not None:
        kw["prefetch"] = prefetch
    t0 = time.perf_counter()
    box = explorer(model, schedule, **kw)
    try:
        rows = [{"segment": FIRST, "control": None, "value": None, "seconds": time.perf_counter() - t0,
                 "new_png": True}]
        time.sleep(think)  # the first picture is on screen; the lecturer starts talking
        for segment, name, value in (script or lecture_script(kw.get("max_steps", 100))):
            before = box.image.value
            t0 = time.perf_counter()
            box.controls[name].value = value
            dt = time.perf_counter() - t0
            key = box.result["key"]
            want = {"eta": 0, "steps": 1, "seed": 2, "spacing": 3, "solver": 4}[name]
            if key[want] != value:
                raise AssertionError(f"after {name} = {value!r} the explorer shows {key}")
            rows.append({"segment": segment, "control": name, "value": value, "seconds": dt,
                         "new_png": box.image.value != before})
            if log:
                log(f"  {segment:<24} {name:>7} = {value!s:<8} {dt:6.3f}s")
            time.sleep(think)
        return rows
    finally:
        box.stop()


def percentile(xs, q: float) -> float:
    """The q-quantile (0..1) by linear interpolation between order statistics (numpy's default)."""
    xs = sorted(xs)
    pos = q * (len(xs) - 1)
    lo = int(pos)
    hi = min(lo + 1, len(xs) - 1)
    return xs[lo] + (xs[hi] - xs[lo]) * (pos - lo)


def summary(seconds) -> str:
    return (f"p50 {percentile(seconds, 0.5):.3f}s  p95 {percentile(seconds, 0.95):.3f}s  max {max(seconds):.3f}s  "
            f"(n = {len(seconds)})")


def report(rows, log=print) -> dict:
    """Print per-segment and headline figures; return the headline's {p50, p95, max, n}."""
    segments = list(dict.fromkeys(r["segment"] for r in rows))
    for seg in segments:
        xs = [r["seconds"] for r in rows if r["segment"] == seg]
        log(f"  {seg:<26} {summary(xs)}")
    head = [r["seconds"] for r in rows if r["segment"] in HEADLINE]
    log(f"  {'the issue script (headline)':<26} {summary(head)}")
    return {"p50": percentile(head, 0.5), "p95": percentile(head, 0.95), "max": max(head), "n": len(head)}


def main(apps=None, think: float = 2.0, prefetch: bool | None = None, verbose: bool = False):
    import matplotlib
    matplotlib.use("Agg")
    from .pretrained import load_pretrained
    model, schedule = load_pretrained()
    print(f"torch threads: {torch.get_num_threads()}; OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', 'unset')}; "
          f"load average at start: {os.getloadavg()[0]:.2f}; think time between moves: {think:g}s; "
          f"prefetch: {'default' if prefetch is None else prefetch}")
    out = {}
    for name in (apps or list(APPS)):
        if name not in APPS:
            raise ValueError(f"unknown app {name!r}; choose from {list(APPS)}")
        t0 = time.perf_counter()
        rows = run_session(model, schedule, APPS[name], think=think, prefetch=prefetch,
                           log=print if verbose else None)
        print(f"{name} (viz.explorer({', '.join(f'{k}={v!r}' for k, v in APPS[name].items())})), "
              f"{time.perf_counter() - t0:.0f}s:")
        out[name] = report(rows)
    print(f"load average at end: {os.getloadavg()[0]:.2f} (1 min), {os.getloadavg()[1]:.2f} (5 min)")
    return out


def add_arguments(ap, mode=None) -> None:
    """The ``--explorer`` options of ``python -m ddim_teach.bench`` (``--explorer`` itself in ``mode``, the
    bench's group of mutually exclusive modes, when given)."""
    (mode or ap).add_argument("--explorer", action="store_true",
                    help="only the explorer's latency in a scripted lecture session (p50/p95/max per move)")
    ap.add_argument("--think", type=float, default=2.0,
                    help="with --explorer: seconds the lecturer talks between moves (default 2)")
    # A list (nargs), not action="append": bench.py finds the flags given by parsing into a namespace of
    # placeholders, which an append action cannot extend.
    ap.add_argument("--app", choices=list(APPS), nargs="+",
                    help="with --explorer: these apps only (one or both names; default both)")
    ap.add_argument("--no-prefetch", action="store_true",
                    help="with --explorer: no computing ahead in the background")
    ap.add_argument("--verbose", action="store_true", help="with --explorer: print every move's latency")


def run_from_args(a, ap) -> dict:
    if a.think < 0:
        ap.error(f"--think must be >= 0 seconds, got {a.think}")
    if getattr(a, "weights", None) is not None:
        ap.error("--explorer times the shipped model, as both apps load it; --weights does not apply")
    return main(a.app, think=a.think, prefetch=False if a.no_prefetch else None, verbose=a.verbose)
