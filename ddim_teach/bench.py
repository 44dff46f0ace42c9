"""The MNIST analogue of the DDIM paper's Table 1, plus sampler speed.

    python -m ddim_teach.bench            # full: S in {10,20,50,100,1000} x eta in {0,0.2,0.5,1,sigma_hat}
    python -m ddim_teach.bench --quick    # CI-sized: n=64, S in {10, 20, 50}, eta in {0, 1}; no overhead timing

Every cell starts from the same x_T (and, for eta > 0, the same generator seed), so a row
compares samplers, not luck. MNIST-FD is measured against held-out real digits; the
floor is the distance between two disjoint sets of real digits of the same size. The real
digits are always the bundled ones (``load_mnist(split, source="bundled")``), so a user's
data folder cannot change the figures.
"""
from __future__ import annotations

import argparse
import math
import re
import time
from pathlib import Path

import torch

from . import data, metrics, samplers
from .i18n import tr
from ._infra import cli
from .denoiser import Denoiser
from .pretrained import load_classifier, load_pretrained

ETAS = (0.0, 0.2, 0.5, 1.0, "sigma_hat")
STEPS = (10, 20, 50, 100, 1000)


def _eta_label(eta) -> str:
    return "σ̂" if eta == "sigma_hat" else f"η={eta:g}"


def n_heldout() -> int:
    """How many held-out real digits the reference set can draw from (the bundled test split)."""
    return len(data.load_mnist("test", source="bundled")[1])


def real_sets(n: int, seed: int = 0):
    """Two random disjoint real sets of n digits: held-out (reference) and train (for the floor)."""
    if isinstance(n, bool) or not isinstance(n, int) or n < 2:
        raise ValueError(f"n must be an integer of at least 2 (a Fréchet distance needs a covariance), got {n!r}")
    g = torch.Generator().manual_seed(seed)
    te = data.to_tensor(data.load_mnist("test", source="bundled")[0])
    tr = data.to_tensor(data.load_mnist("train", source="bundled")[0])
    if n > len(te):
        raise ValueError(f"n must be at most {len(te)} (the held-out digits), got {n}")
    return te[torch.randperm(len(te), generator=g)[:n]], tr[torch.randperm(len(tr), generator=g)[:n]]


def fd_table(model, schedule, clf, n=128, steps=STEPS, etas=ETAS, spacing="leading", seed=0, progress=True,
             keep_features=None):
    """{(S, eta): (mnist_fd, confident_share, seconds)} plus the floor. Every cell starts from the same n x_T and
    the same noise generator. A dict passed as ``keep_features`` receives each cell's classifier features under
    (S, eta) and the reference set's under "reference", for :func:`table_intervals`."""
    ref, other = real_sets(n, seed)
    floor = metrics.mnist_fd(clf, other, ref)
    x_T = torch.randn(n, 1, 28, 28, generator=torch.Generator().manual_seed(seed + 1))
    out = {}
    for eta in etas:
        for S in steps:
            t0 = time.perf_counter()
            x = samplers.sample(model, schedule, x_T, steps=S, eta=eta, spacing=spacing,
                                generator=torch.Generator().manual_seed(seed + 2), record_every=None,
                                progress=False).final
            dt = time.perf_counter() - t0
            probs = metrics.probabilities(clf, x)
            out[(S, eta)] = (metrics.mnist_fd(clf, x, ref), metrics.confidence(probs), dt)
            if keep_features is not None:
                keep_features[(S, eta)] = metrics.features(clf, x)
                keep_features.setdefault("reference", metrics.features(clf, ref))
            if progress:
                print(f"  S={S:5d} {_eta_label(eta):>6}: FD {out[(S, eta)][0]:7.2f}  ({dt:.1f}s)", flush=True)
    return out, floor


def overhead(model, schedule, batch=64, S=50, repeats=5):
    """Sampler cost beyond the model's own, for S steps at ``batch``: (model seconds, loop seconds), medians.

    Each of ``repeats`` runs (after a warm-up) times the whole ``samplers.sample`` loop and, inside that same
    run, every model call (a timing wrapper around the model), so a drift in the machine's speed falls on
    both alike; overhead = loop - model. The loop records every step (x_t, x0_hat, eps_hat, noise) with
    eta = 1, its most expensive setting. The medians over the runs are returned.
    """
    x = torch.randn(batch, 1, 28, 28, generator=torch.Generator().manual_seed(0))
    spent = [0.0]

    def timed_model(x_t, t):
        t0 = time.perf_counter()
        out = model(x_t, t)
        spent[0] += time.perf_counter() - t0
        return out

    times_m, times_l = [], []
    for r in range(repeats + 1):
        spent[0] = 0.0
        t0 = time.perf_counter()
        samplers.sample(timed_model, schedule, x, steps=S, eta=1.0, generator=torch.Generator().manual_seed(0),
                        record_every=1, progress=False)
        if r:  # run 0 is the warm-up
            times_l.append(time.perf_counter() - t0)
            times_m.append(spent[0])
    return float(torch.tensor(times_m).median()), float(torch.tensor(times_l).median())


def overhead_line(model_s: float, loop_s: float) -> str:
    return (f"sampler overhead at batch 64, 50 steps, recording on (median of 5 runs, model calls timed inside each): "
            f"model {model_s:.2f}s, loop {loop_s:.2f}s, overhead {100 * (loop_s - model_s) / model_s:+.1f}%")


def quality(model, schedule, clf, n=512, steps=50, near=0.05, seed=0) -> dict:
    """The shipped-model bar: DDIM eta=0, S=50 on n samples: FD vs floor, confidence, classes, memorisation."""
    ref, other = real_sets(min(n, n_heldout()), seed)
    x_T = torch.randn(n, 1, 28, 28, generator=torch.Generator().manual_seed(seed + 1))
    x = samplers.sample(model, schedule, x_T, steps=steps, eta=0.0, spacing="trailing",
                        record_every=None, progress=False).final
    probs = metrics.probabilities(clf, x)
    train = data.to_tensor(data.load_mnist("train", source="bundled")[0])
    d_samples = metrics.nearest_train_distance(x, train)
    d_real = metrics.nearest_train_distance(ref, train)
    return {"n": n, "n_ref": len(ref), "fd": metrics.mnist_fd(clf, x, ref), "floor": metrics.mnist_fd(clf, other, ref),
            "confident": metrics.confidence(probs), "real_confident": metrics.confidence(metrics.probabilities(clf, ref)),
            "histogram": metrics.class_histogram(probs).tolist(),
            "near_copies": float((d_samples < near).float().mean()), "real_near_copies": float((d_real < near).float().mean()),
            "median_nn": float(d_samples.median()), "real_median_nn": float(d_real.median())}


SAMPLER_VARIANTS = (
    ("DDIM η=0, S=50, trailing (the bar's setting)", dict(spacing="trailing")),
    ("DDIM η=0, S=50, leading", dict(spacing="leading")),
    ("DDIM η=0, S=50, trailing, x0_hat clipped to [-1, 1]", dict(spacing="trailing", clip_sample=True)),
    ("Heun, S=25 (49 model calls), trailing", dict(spacing="trailing", method="heun", steps=25)),
)


def sampler_variants(model, schedule, clf, n=512, seed=0):
    """The quality bar's figures for deterministic samplers of at most 50 model calls, same x_T for all.

    Returns [(label, mnist_fd, confident_share, mean max-probability, paired)], where ``paired`` is the difference of
    this row's FD to the first row's with its 95 % paired bootstrap interval
    (:func:`ddim_teach.metrics.fd_difference_interval`: the same x_T, so the noise the rows share cancels).
    """
    ref, _ = real_sets(min(n, n_heldout()), seed)
    ref_feats = metrics.features(clf, ref)
    x_T = torch.randn(n, 1, 28, 28, generator=torch.Generator().manual_seed(seed + 1))
    rows, first = [], None
    for label, kw in SAMPLER_VARIANTS:
        kw = {"steps": 50, **kw}
        clip = kw.pop("clip_sample", False)  # clipping belongs to the denoiser, not the sampler
        net = Denoiser(model, schedule, clip_sample=True) if clip else model
        x = samplers.sample(net, schedule, x_T, **kw, eta=0.0, record_every=None, progress=False).final
        probs, feats = metrics.probabilities(clf, x), metrics.features(clf, x)
        first = feats if first is None else first
        paired = metrics.fd_difference_interval(feats, first, ref_feats, seed=seed)
        rows.append((label, metrics.frechet_distance(feats, ref_feats), metrics.confidence(probs),
                     float(probs.max(1).values.mean()), paired))
    return rows


SAMPLERS_HEADER = ("| sampler | MNIST-FD | p > 0.9 | mean max-probability | FD minus the first row's, paired [95 %] |\n"
                   "|---|---|---|---|---|")


def samplers_markdown_row(label, fd, conf, pmax, paired) -> str:
    d, lo, hi = paired
    return f"| {label} | {fd:.2f} | {100 * conf:.1f} % | {pmax:.3f} | {d:+.2f} [{lo:+.2f}, {hi:+.2f}] |"


def read_samplers_markdown(text: str) -> dict:
    """The inverse of the ``--samplers`` table (e.g. as recorded in docs/RESULTS.md): ``{label: (fd, paired)}``
    with ``paired`` = (difference to the first row, low, high). Notebooks read the recorded numbers with this."""
    head = SAMPLERS_HEADER.splitlines()[0]
    if head not in text:
        raise ValueError("no --samplers table here: expected the header line that bench --samplers prints")
    rows = {}
    for line in text[text.index(head):].splitlines()[2:]:
        if not line.startswith("|"):
            break
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        m = re.fullmatch(r"([-+][\d.]+) \[([-+][\d.]+), ([-+][\d.]+)\]", cells[4])
        if m is None:
            raise ValueError(f"cannot read the paired difference {cells[4]!r} of row {cells[0]!r}")
        rows[cells[0]] = (float(cells[1]), tuple(float(v) for v in m.groups()))
    return rows


CALLS = (5, 8, 10, 15, 20, 50)
SOLVERS = (  # (label, method, spacing): DDIM and DPM-Solver++(2M) take one model call a step, Heun two (less one)
    ("DDIM η=0, trailing", "ddim", "trailing"),
    ("DPM-Solver++(2M), trailing", "dpm_solver_pp_2m", "trailing"),
    ("DPM-Solver++(2M), uniform in log-SNR", "dpm_solver_pp_2m", "logsnr"),
    ("DPM-Solver++(2M), Karras ρ = 7", "dpm_solver_pp_2m", "karras"),
    ("Heun, Karras ρ = 7", "heun", "karras"),
)


def solver_label(label: str) -> str:
    """A row label of the solver table (:data:`SOLVERS`, as recorded in docs/RESULTS.md) in the course's language."""
    method, spacing = next(((m, sp) for lab, m, sp in SOLVERS if lab == label), (None, None))
    if method is None:
        return label
    return tr("solver.label", method=tr(f"solver.{method}"), spacing=tr(f"spacing.{spacing}"))


def solver_table(model, schedule, clf, n=512, calls=CALLS, seed=0, progress=True, against=("DDIM η=0, trailing", 50)):
    """{(label, calls): (S, nfe, fd, low, high, diff) or None}: MNIST-FD against model calls, same x_T for every
    cell, with a 95 % bootstrap interval (:func:`ddim_teach.metrics.fd_interval`), and ``diff``, the paired
    difference to the cell ``against`` (same x_T, so the noise they share cancels:
    :func:`ddim_teach.metrics.fd_difference_interval`) as (difference, low, high), or None without that cell.
    Heun runs the largest S with 2S - 1 <= calls. A cell a placement cannot make (log-SNR at more steps than integer
    timesteps allow) is None."""
    ref, _ = real_sets(min(n, n_heldout()), seed)
    ref_feats = metrics.features(clf, ref)
    x_T = torch.randn(n, 1, 28, 28, generator=torch.Generator().manual_seed(seed + 1))
    out, feats = {}, {}
    for label, method, spacing in SOLVERS:
        for c in calls:
            S = (c + 1) // 2 if method == "heun" else c
            try:
                tr = samplers.sample(model, schedule, x_T, steps=S, spacing=spacing, method=method, record_every=None,
                                     progress=False)
            except ValueError as e:
                if progress:
                    print(f"  {label}, {c} calls: not made ({e})", flush=True)
                out[(label, c)] = None
                continue
            feats[(label, c)] = f = metrics.features(clf, tr.final)
            fd, lo, hi = metrics.fd_interval(f, ref_feats, seed=seed)
            out[(label, c)] = (S, tr.nfe, fd, lo, hi)
            if progress:
                print(f"  {label}, {tr.nfe} calls (S={S}): FD {fd:.2f} [{lo:.2f}, {hi:.2f}]", flush=True)
    for key, v in out.items():
        if v is not None:
            diff = (metrics.fd_difference_interval(feats[key], feats[against], ref_feats, seed=seed)
                    if against in feats else None)
            out[key] = (*v, diff)
    return out


def solver_markdown(table, n, calls=CALLS) -> str:
    head = "| sampler | " + " | ".join(f"{c} calls" for c in calls) + " |"
    lines = [f"MNIST-FD (lower is better) against model calls, n = {n}, the same x_T for every cell; "
             "[95 % bootstrap interval]; Heun makes 2S − 1 calls (S in the cell).", "", head,
             "|---|" + "---|" * len(calls)]
    paired = ["Paired difference to DDIM η=0, trailing, 50 calls (FD of the cell minus FD of DDIM-50, same x_T; "
              "[95 % paired bootstrap interval]; an interval below 0 is better than DDIM-50, above 0 worse):", "", head,
              "|---|" + "---|" * len(calls)]
    for label, _, _ in SOLVERS:
        cells = []
        for c in calls:
            v = table.get((label, c))
            if v is None:
                cells.append("–")
            else:
                S, nfe, fd, lo, hi = v[:5]
                cells.append(f"{fd:.2f} [{lo:.2f}, {hi:.2f}]" + (f" ({nfe} calls, S={S})" if nfe != c else ""))
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
        diffs = []
        for c in calls:
            v = table.get((label, c))
            d = v[5] if v is not None and len(v) > 5 else None
            diffs.append("–" if d is None else f"{d[0]:+.2f} [{d[1]:+.2f}, {d[2]:+.2f}]")
        paired.append(f"| {label} | " + " | ".join(diffs) + " |")
    return "\n".join(lines + [""] + paired)


def read_solver_markdown(text: str) -> tuple[int, dict, dict]:
    """The inverse of :func:`solver_markdown`: ``(n, fds, paired)`` from the two tables it wrote (e.g. in
    docs/RESULTS.md), where ``fds[label][calls] = (fd, low, high, nfe)`` (``nfe``: the calls the sampler really made,
    ``calls`` unless the cell says otherwise) and ``paired[label][calls] = (difference, low, high)``; cells written
    "–" are left out. Notebooks read the recorded table with this rather than retyping its numbers."""
    head = re.search(r"MNIST-FD \(lower is better\) against model calls, n = (\d+),", text)
    if head is None:
        raise ValueError("no solver table here: expected the header line that bench.solver_markdown writes")
    num = r"([+-]?\d+(?:\.\d+)?)"
    cell = re.compile(rf"^{num} \[{num}, {num}\](?: \((\d+) calls, S=\d+\))?$")
    fds, paired, calls, target = {}, {}, None, None
    for line in text[head.start():].splitlines():
        if line.startswith("Paired difference to"):
            target = paired
            continue
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if cells[0] == "sampler":
            calls = [int(c.split()[0]) for c in cells[1:]]
            target = fds if target is None else target
        elif calls is not None and line.startswith("| ") and not line.startswith("|---"):
            row = {}
            for c, v in zip(calls, cells[1:]):
                if v == "–":
                    continue
                m = cell.match(v)
                if m is None:
                    raise ValueError(f"cannot read the cell {v!r} of row {cells[0]!r}")
                vals = (float(m.group(1)), float(m.group(2)), float(m.group(3)))
                row[c] = vals + (int(m.group(4)) if m.group(4) else c,) if target is fds else vals
            target[cells[0]] = row
        elif target is paired and paired and not line.startswith("|"):
            break
    if not fds or not paired:
        raise ValueError("the solver table lacks its FD rows or its paired rows")
    return int(head.group(1)), fds, paired


def markdown(table, floor, n, steps, etas) -> str:
    lines = [tr("bench.caption", n=n, floor=f"{floor:.2f}"), "",
             "| | " + " | ".join(f"S={S}" for S in steps) + " |", "|---|" + "---|" * len(steps)]
    for eta in etas:
        lines.append(f"| {_eta_label(eta)} | " + " | ".join(f"{table[(S, eta)][0]:.2f}" if (S, eta) in table else "–"
                                                         for S in steps) + " |")
    return "\n".join(lines)


def table_intervals(features: dict, against=0.0, seed: int = 0) -> dict:
    """95 % bootstrap intervals for the FD table, from :func:`fd_table`'s ``keep_features``:
    ``{(S, eta): ((fd, low, high), (difference, low, high) or None)}``. The first is the cell's FD with
    :func:`ddim_teach.metrics.fd_interval`; the second the cell's FD minus the ``against`` row's in the same column,
    with :func:`ddim_teach.metrics.fd_difference_interval` (the two cells share their x_T and noise generator, so the
    bootstrap is paired): an ordering of two rows is shown only where that interval excludes 0."""
    ref = features["reference"]
    out = {}
    for key, f in features.items():
        if key == "reference":
            continue
        S, eta = key
        diff = None
        if eta != against and (S, against) in features:
            diff = metrics.fd_difference_interval(f, features[(S, against)], ref, seed=seed)
        out[key] = (metrics.fd_interval(f, ref, seed=seed), diff)
    return out


def intervals_markdown(intervals: dict, n: int, steps, etas, against=0.0) -> str:
    """The FD table again with each cell's 95 % interval, then each row minus the ``against`` row, paired."""
    steps = [S for S in steps if any((S, e) in intervals for e in etas)]
    head = ["| | " + " | ".join(f"S={S}" for S in steps) + " |", "|---|" + "---|" * len(steps)]
    lines = [tr("bench.intervals_caption", n=n), ""] + head
    for eta in etas:
        lines.append(f"| {_eta_label(eta)} | " + " | ".join(
            "{:.2f} [{:.2f}, {:.2f}]".format(*intervals[(S, eta)][0]) if (S, eta) in intervals else "–"
            for S in steps) + " |")
    lines += ["", tr("bench.paired_caption", row=_eta_label(against)), ""] + head
    for eta in etas:
        if eta == against:
            continue
        lines.append(f"| {_eta_label(eta)} | " + " | ".join(
            "{:+.2f} [{:+.2f}, {:+.2f}]".format(*intervals[(S, eta)][1])
            if (S, eta) in intervals and intervals[(S, eta)][1] is not None else "–" for S in steps) + " |")
    return "\n".join(lines)


def read_intervals_markdown(text: str) -> tuple[int, dict, dict]:
    """The inverse of :func:`intervals_markdown`: ``(n, cells, paired)``, each of the two a map from a row label
    ("η=0.2") to ``{S: (value, low, high)}``."""
    head = re.search(r"n = (\d+) samples per cell, each with its 95 % bootstrap interval", text) \
        or re.search(r"每格 n = (\d+) 个样本，附 95 % 自助法区间", text)
    if head is None:
        raise ValueError("no FD interval table here: expected the header line that bench.intervals_markdown writes")
    tables, steps, current = [], None, None
    number = re.compile(r"([+-]?[\d.]+) \[([+-]?[\d.]+), ([+-]?[\d.]+)\]")
    for line in text[head.end():].splitlines():      # the two tables under this header, and nothing after them
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if cells[0] == "" and len(cells) > 1 and cells[1].startswith("S="):
            if len(tables) == 2:
                break
            steps, current = [int(c[2:]) for c in cells[1:]], {}
            tables.append(current)
        elif current is not None and cells[0].startswith(("η=", "σ̂")):
            found = [(S, number.fullmatch(c)) for S, c in zip(steps, cells[1:]) if c != "–"]
            if any(m is None for _, m in found):
                raise ValueError(f"an FD interval table's cell must read 'value [low, high]', got the row: {line.strip()}")
            current[cells[0]] = {S: tuple(float(v) for v in m.groups()) for S, m in found}
        elif len(tables) == 2 and current and not line.startswith("|"):
            break
    if len(tables) != 2:
        raise ValueError("the FD interval table needs its two parts: the cells, then the paired differences")
    return int(head.group(1)), tables[0], tables[1]


def read_markdown(text: str) -> tuple[float, int, dict]:
    """The inverse of :func:`markdown`: ``(floor, n, rows)`` from a table it wrote (e.g. the one in
    docs/RESULTS.md between ``<!-- table -->`` markers), where ``rows`` maps a row label ("η=0", "σ̂") to
    ``{S: FD}`` (cells written as "–" are left out). Notebooks read the recorded table with this rather than
    retyping its numbers."""
    head = (re.search(r"n = (\d+) samples per cell; real-vs-real floor at n = \d+: \*\*([\d.]+)\*\*", text)
            or re.search(r"每格 n = (\d+) 个样本；真实对真实的本底值（n = \d+）：\*\*([\d.]+)\*\*", text))   # either language
    if head is None:
        raise ValueError("no MNIST-FD table here: expected the header line that bench.markdown writes")
    steps, rows = None, {}
    for line in text[head.end():].splitlines():     # the table under this header, up to the first line after it
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if cells[0] == "" and len(cells) > 1 and cells[1].startswith("S="):
            steps = [int(c[2:]) for c in cells[1:]]
        elif steps is not None and cells[0].startswith(("η=", "σ̂")):
            rows[cells[0]] = {S: float(c) for S, c in zip(steps, cells[1:]) if c != "–"}
        elif rows and not line.startswith("|"):
            break
    if not rows:
        raise ValueError("the MNIST-FD table has no rows")
    return float(head.group(2)), int(head.group(1)), rows


def _int_at_least(low: int, what: str):
    def parse(text: str) -> int:
        try:
            v = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{what} an integer of at least {low}, got {text!r}") from None
        if v < low:
            raise argparse.ArgumentTypeError(f"{what} an integer of at least {low}, got {v}")
        return v
    return parse


def _eta(text: str):
    if text == "sigma_hat":
        return text
    try:
        v = float(text)
    except ValueError:
        v = None
    if v is None or not math.isfinite(v) or not 0.0 <= v <= 1.0:
        raise argparse.ArgumentTypeError(f"each eta must be a number in [0, 1] or 'sigma_hat', got {text!r}")
    return v


def _ddpm_label(S: int, T: int) -> str:
    return f"DDPM-{S}" + (" (η=1, every step)" if S == T else f" (η=1, S={S} of T={T})")


# What each mode of the command line uses (argparse dests, besides the mode's own flag); anything else given is
# refused before a model loads, rather than silently ignored.
MODES = {
    "table": ("the FD table (no mode, or --quick)", ("n", "spacing", "steps", "etas", "skip_1000", "intervals",
                                                     "weights")),
    "quality": ("--quality", ("n", "weights")),
    "samplers": ("--samplers", ("n", "weights")),
    "overhead": ("--overhead", ("weights",)),
    "solvers": ("--solvers", ("n", "weights")),
    "guidance": ("--guidance", ("n", "weights")),
    "explorer": ("--explorer", ("think", "app", "no_prefetch", "verbose")),
}
_MODE_FLAGS = ("quick",) + tuple(m for m in MODES if m != "table")


def _given(ap: argparse.ArgumentParser, argv) -> set:
    """The dests of the options actually given on the command line (not left at their defaults)."""
    unset = object()
    # an action that adds to its value (append, extend, count) needs a real starting value: None, not the marker
    adds = (argparse._AppendAction, argparse._ExtendAction, argparse._CountAction)
    start = {act.dest: None if isinstance(act, adds) else unset for act in ap._actions}
    ns = argparse.Namespace(**start)
    ap.parse_args(argv, namespace=ns)
    return {d for d, v in vars(ns).items() if v is not start[d]}


def _check_mode_flags(ap: argparse.ArgumentParser, a, argv) -> str:
    """The mode the command line asks for; a flag that mode does not use is an error (one line, exit 2)."""
    mode = next((m for m in MODES if m != "table" and getattr(a, m)), "table")
    title, uses = MODES[mode]
    flag = {act.dest: act.option_strings[0] for act in ap._actions if act.option_strings}
    order = [act.dest for act in ap._actions]
    extra = [d for d in order if d in _given(ap, argv) and d not in uses and d not in _MODE_FLAGS and d != "help"]
    if extra:
        ap.error(f"{title} does not use {', '.join(flag[d] for d in extra)}; it takes "
                 f"{', '.join(flag[d] for d in order if d in uses)}")
    return mode


def main(argv=None):
    from ._infra.checkpoint import CheckpointError
    from .schedules import SPACINGS
    ap = argparse.ArgumentParser(prog=cli.prog("bench"), description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    mode = ap.add_mutually_exclusive_group()
    mode.add_argument("--quick", action="store_true", help="n=64, S in {10, 20, 50}, eta in {0, 1}; no overhead timing")
    ap.add_argument("--n", type=_int_at_least(2, "must be"), default=None,
                    help="samples per cell (at least 2; the table's reference set holds the held-out digits, "
                         "so at most their count)")
    ap.add_argument("--spacing", default=None, choices=SPACINGS, help="the FD table's spacing; default leading")
    ap.add_argument("--steps", type=_int_at_least(1, "each must be"), nargs="+", help=f"default {STEPS}")
    ap.add_argument("--etas", type=_eta, nargs="+", help="numbers in [0, 1] or sigma_hat; default all of " + str(ETAS))
    ap.add_argument("--intervals", action="store_true",
                    help="the FD table also with each cell's 95 %% bootstrap interval and each row minus η=0, paired")
    ap.add_argument("--skip-1000", action="store_true",
                    help="at S=1000 run only eta 0 and 1 (DDPM-1000), to save time on a CPU")
    mode.add_argument("--quality", action="store_true", help="only the shipped-model bar at n=512 (--n to change)")
    mode.add_argument("--samplers", action="store_true",
                      help="the quality bar's FD and confidence for a few deterministic samplers (same x_T)")
    mode.add_argument("--overhead", action="store_true", help="only the sampler-overhead measurement")
    mode.add_argument("--solvers", action="store_true",
                      help="MNIST-FD against model calls for DDIM, DPM-Solver++(2M) on three step placements and Heun "
                           "(n=512 by default, same x_T, bootstrap intervals)")
    mode.add_argument("--guidance", action="store_true",
                      help="classifier-free guidance with the shipped conditional U-Net: accuracy, MNIST-FD and spread "
                           "against w (n=512, DDIM S=20, same x_T; bootstrap and Wilson intervals)")
    ap.add_argument("--weights", default=None,
                    help="an exported U-Net file (python -m ddim_teach.pretrained CKPT OUT) instead of the shipped one")
    from . import bench_explorer
    bench_explorer.add_arguments(ap, mode)
    a = ap.parse_args(argv)
    mode = _check_mode_flags(ap, a, argv)
    if a.explorer:  # the explorer's latency in a scripted lecture session
        return bench_explorer.run_from_args(a, ap)
    if a.weights is not None and not Path(a.weights).is_file():
        ap.error(f"--weights {a.weights!r}: no such file (export one with python -m ddim_teach.pretrained CKPT OUT)")
    a.spacing = a.spacing or "leading"
    held_out = n_heldout()
    if mode in ("table", "solvers") and a.n is not None and a.n > held_out:
        ap.error(f"--n must be at most {held_out} (the held-out digits the table compares against), got {a.n}")
    if a.guidance:
        from . import bench_guidance
        n = a.n or 512
        low, high = bench_guidance.n_limits()
        if not low <= n <= high:
            ap.error(f"--n must be at least {low} for --guidance (two samples of every digit, for a spread), got {n}"
                     if n < low else f"--n must be at most {high} for --guidance (each digit is compared with as many "
                     f"held-out real digits of its class, and the bundled test split runs short above that), got {n}")
        try:
            model, schedule = load_pretrained(a.weights, conditional=a.weights is None)
            clf = load_classifier()
        except CheckpointError as e:
            ap.error(str(e))
        if not getattr(model, "num_classes", 0):
            ap.error("--guidance needs a conditional U-Net (trained with --conditional)")
        t0 = time.perf_counter()
        table = bench_guidance.guidance_table(model, schedule, clf, n)
        print()
        print(bench_guidance.guidance_markdown(table))
        print(f"total {time.perf_counter() - t0:.0f}s; torch threads: {torch.get_num_threads()}")
        return
    try:
        model, schedule = load_pretrained(a.weights)
    except CheckpointError as e:
        ap.error(str(e))
    if a.steps and max(a.steps) > schedule.T:
        ap.error(f"each of --steps must be at most T = {schedule.T} (the model's schedule), got {max(a.steps)}")
    if mode == "table":  # each S with the spacing, checked now rather than after the first rows have run
        for S in dict.fromkeys(a.steps or ((10, 20, 50) if a.quick else STEPS)):
            try:
                samplers.resolve_timesteps(schedule, S, a.spacing)
            except ValueError as e:
                msg = str(e).replace("spacing='trailing'", "--spacing trailing")
                ap.error("--" + msg if msg.startswith("steps=") else f"--steps: {msg}")
    try:
        clf = load_classifier()
    except CheckpointError as e:
        ap.error(str(e))
    if a.quality:
        q = quality(model, schedule, clf, n=a.n or 512)
        print(f"DDIM η=0, S=50, n={q['n']} (reference: {q['n_ref']} held-out digits)")
        print(f"MNIST-FD {q['fd']:.2f}; real-vs-real floor {q['floor']:.2f} (ratio {q['fd'] / q['floor']:.2f})")
        print(f"classifier p>0.9 on {100 * q['confident']:.1f}% of samples (real held-out digits: {100 * q['real_confident']:.1f}%)")
        print(f"predicted classes: {q['histogram']}")
        print(f"near-copies of a training digit (RMS < 0.05): samples {100 * q['near_copies']:.1f}%, "
              f"real held-out digits {100 * q['real_near_copies']:.1f}%; median nearest distance "
              f"{q['median_nn']:.3f} vs {q['real_median_nn']:.3f}")
        return
    if a.samplers:
        n = a.n or 512
        print(f"n = {n}, same x_T; reference: {min(n, held_out)} held-out digits")
        print(SAMPLERS_HEADER)
        for row in sampler_variants(model, schedule, clf, n):
            print(samplers_markdown_row(*row), flush=True)
        return
    if a.solvers:
        n = a.n or 512
        if n > held_out:
            ap.error(f"--n must be at most {held_out} (the held-out digits the table compares against), got {n}")
        t0 = time.perf_counter()
        table = solver_table(model, schedule, clf, n)
        print()
        print(solver_markdown(table, n))
        print(f"total {time.perf_counter() - t0:.0f}s")
        return
    if a.overhead:
        print(f"torch threads: {torch.get_num_threads()}")
        m, loop = overhead(model, schedule)
        print(overhead_line(m, loop))
        return
    steps, etas, n = (STEPS, ETAS, 128) if not a.quick else ((10, 20, 50), (0.0, 1.0), 64)
    steps = tuple(dict.fromkeys(a.steps)) if a.steps else steps
    etas = tuple(dict.fromkeys(a.etas)) if a.etas else etas
    n = a.n if a.n is not None else n
    if n > held_out:
        ap.error(f"--n must be at most {held_out} (the held-out digits the table compares against), got {n}")
    torch.manual_seed(0)
    print(f"torch threads: {torch.get_num_threads()}; model trained {model.trained_steps} steps; "
          f"reference: {n} of {held_out} held-out digits")
    t0 = time.perf_counter()
    feats = {} if a.intervals else None
    table, floor = fd_table(model, schedule, clf, n, [S for S in steps if S != 1000 or not a.skip_1000], etas,
                            a.spacing, keep_features=feats)
    if a.skip_1000 and 1000 in steps:
        extra, _ = fd_table(model, schedule, clf, n, (1000,), [e for e in etas if e in (0.0, 1.0)], a.spacing,
                            keep_features=feats)
        table.update(extra)
    print()
    print(markdown(table, floor, n, steps, etas))
    if a.intervals:
        print()
        print(intervals_markdown(table_intervals(feats), n, steps, etas))
    print()
    S_max = max(steps)
    if (S_max, 1.0) in table:
        ddpm = _ddpm_label(S_max, schedule.T)
        ddpm_fd, _, ddpm_t = table[(S_max, 1.0)]
        print(f"{ddpm}: FD {ddpm_fd:.2f}, {S_max} model evaluations, {ddpm_t:.1f}s at batch {n}")
        ddim = [S for S in steps if (S, 0.0) in table]
        for S in ddim:
            fd, _, dt = table[(S, 0.0)]
            print(f"DDIM η=0 S={S:4d}: FD {fd:7.2f}, {S:4d} evaluations, {dt:6.1f}s, speed-up {ddpm_t / dt:5.1f}x")
        if ddim:
            reach = [S for S in ddim if table[(S, 0.0)][0] <= ddpm_fd]
            print(f"smallest S where DDIM (η=0) reaches DDPM-{S_max}'s FD:", reach[0] if reach else "none in this grid")
    if a.quick:
        print("(--quick: sampler overhead not measured; python -m ddim_teach.bench --overhead measures it)")
    else:
        m, loop = overhead(model, schedule)
        print(overhead_line(m, loop))
    print(f"total {time.perf_counter() - t0:.0f}s")


if __name__ == "__main__":
    main()
