"""Classifier-free guidance on MNIST, measured: accuracy, MNIST-FD and spread against the guidance weight w.

    python -m ddim_teach.bench --guidance            # n = 512, DDIM S = 20, w in 0, 0.5, 1, 2, 3, 5, 7

The shipped conditional U-Net (``load_pretrained(conditional=True)``) samples n digits, the requested labels
y = 0, 1, …, 9, 0, 1, … (a uniform class mix), from the *same* x_T at every w. For each w:

* **accuracy**: the share of samples the shipped classifier labels as the requested digit, with a 95 % Wilson
  interval;
* **MNIST-FD** against held-out real digits of the same class mix (the same number of each digit), with a 95 %
  bootstrap interval, and its paired difference to w = 0 (same x_T, so the noise they share cancels);
* **spread**: the mean over the ten digits of the per-pixel standard deviation among samples of that digit (in
  [−1, 1] units), with a 95 % bootstrap interval; real digits' spread is the reference. Lower is less varied.
"""
from __future__ import annotations

import math
import re
import time

import torch

from . import data, metrics, samplers
from .guidance import ClassifierFreeGuided

WS = (0.0, 0.5, 1.0, 2.0, 3.0, 5.0, 7.0)
STEPS = 20


def requested_labels(n: int) -> torch.Tensor:
    """0, 1, …, 9, 0, 1, …: the labels asked for, a uniform class mix."""
    return torch.arange(n) % 10


def class_matched_reference(labels: torch.Tensor, seed: int = 0) -> torch.Tensor:
    """Held-out real digits (the bundled test split) drawn at random, one for each entry of ``labels``: image i is a
    real digit labels[i], so the reference has exactly the requested class mix, in the same order."""
    images, true = data.load_mnist("test", source="bundled")
    x, true = data.to_tensor(images), torch.as_tensor(true, dtype=torch.long)
    g = torch.Generator().manual_seed(seed)
    out = torch.empty((len(labels), *x.shape[1:]), dtype=x.dtype)
    for k in range(10):
        where = labels == k
        want = int(where.sum())
        pool = (true == k).nonzero()[:, 0]
        if want > len(pool):
            raise ValueError(f"{want} held-out digits {k} are needed, the bundled test split has {len(pool)}")
        out[where] = x[pool[torch.randperm(len(pool), generator=g)[:want]]]
    return out


def wilson(k: int, n: int, level: float = 0.95) -> tuple[float, float]:
    """Wilson's score interval for a binomial share k/n."""
    if isinstance(n, bool) or not isinstance(n, int) or n < 1 or not isinstance(k, int) or not 0 <= k <= n:
        raise ValueError(f"wilson needs whole numbers 0 <= k <= n, n >= 1; got k={k!r}, n={n!r}")
    z = float(torch.distributions.Normal(0.0, 1.0).icdf(torch.tensor((1 + level) / 2)))
    p = k / n
    centre, half = (p + z * z / (2 * n)) / (1 + z * z / n), z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return centre - half, centre + half


MIN_N = 20   # two samples of every digit: a standard deviation needs two


def n_limits() -> tuple[int, int]:
    """The smallest and largest n the table can run: two samples of every digit, and no digit asked for more
    often than the bundled test split holds it (the class-matched reference draws one real digit per sample)."""
    counts = torch.bincount(torch.as_tensor(data.load_mnist("test", source="bundled")[1], dtype=torch.long),
                            minlength=10)
    return MIN_N, min(10 * int(c) + k for k, c in enumerate(counts))


def _spread(images: torch.Tensor, labels: torch.Tensor, min_count: int) -> float:
    digits = [k for k in labels.unique() if int((labels == k).sum()) >= min_count]
    return float(torch.stack([images[labels == k].flatten(1).std(0).mean() for k in digits]).mean())


def spread(images: torch.Tensor, labels: torch.Tensor) -> float:
    """Mean over the digits of the per-pixel standard deviation among the images of that digit (each digit present
    needs at least 2 images: one image has no standard deviation)."""
    ks, counts = labels.unique(return_counts=True)
    if len(ks) == 0 or bool((counts < 2).any()):
        k = int(ks[counts < 2][0]) if len(ks) else None
        raise ValueError("spread needs at least 2 images of each digit; "
                         + (f"digit {k} has 1" if k is not None else "there are none"))
    return _spread(images, labels, 2)


def spread_interval(images, labels, n_boot: int = 200, level: float = 0.95, seed: int = 0):
    """(spread, low, high): a bootstrap over the images (labels kept with their images). A resample in which a digit
    has fewer than 2 images (likely for n below about 100) averages over the digits that have 2 or more, so the
    interval is defined down to n = 20; where every digit keeps 2 (n = 512) this is the plain bootstrap."""
    est = spread(images, labels)
    g = torch.Generator().manual_seed(seed)
    boots = []
    for _ in range(n_boot):
        i = torch.randint(len(images), (len(images),), generator=g)
        boots.append(_spread(images[i], labels[i], 2))
    return metrics._interval(est, torch.tensor(boots, dtype=torch.float64), level)   # as fd_interval: est ± z·std


def guided_samples(model, schedule, x_T: torch.Tensor, labels: torch.Tensor, w: float, steps: int = STEPS,
                   batch: int = 128) -> torch.Tensor:
    """DDIM (η = 0, trailing) with classifier-free guidance at w, in batches (each a 2B network call)."""
    out = []
    for i in range(0, len(x_T), batch):
        net = ClassifierFreeGuided(model, labels[i:i + batch], w)
        out.append(samplers.sample(net, schedule, x_T[i:i + batch], steps=steps, eta=0.0, spacing="trailing",
                                   record_every=None, progress=False).final)
    return torch.cat(out)


def guidance_table(model, schedule, clf, n: int = 512, ws=WS, steps: int = STEPS, seed: int = 0,
                   progress: bool = True) -> dict:
    """{"n", "steps", "real_spread", "rows": {w: dict(acc, acc_low, acc_high, fd, fd_low, fd_high, diff,
    spread, seconds)}}; every w from the same x_T (seed + 1, as the other tables)."""
    if isinstance(n, bool) or not isinstance(n, int) or n < MIN_N:
        raise ValueError(f"n must be a whole number of at least {MIN_N} (two samples of every digit, for a spread), "
                         f"got {n!r}")
    labels = requested_labels(n)
    ref = class_matched_reference(labels, seed)
    ref_feats = metrics.features(clf, ref)
    x_T = torch.randn(n, 1, 28, 28, generator=torch.Generator().manual_seed(seed + 1))
    rows, first = {}, None
    for w in ws:
        t0 = time.perf_counter()
        x = guided_samples(model, schedule, x_T, labels, w, steps)
        sec = time.perf_counter() - t0
        probs, feats = metrics.probabilities(clf, x), metrics.features(clf, x)
        k = int((probs.argmax(1) == labels).sum())
        lo, hi = wilson(k, n)
        fd, fd_lo, fd_hi = metrics.fd_interval(feats, ref_feats, seed=seed)
        first = feats if first is None else first
        diff = metrics.fd_difference_interval(feats, first, ref_feats, seed=seed)
        sp = spread_interval(x.clamp(-1, 1), labels, seed=seed)   # in the data's range, as the classifier sees them
        rows[w] = dict(acc=k / n, acc_low=lo, acc_high=hi, fd=fd, fd_low=fd_lo, fd_high=fd_hi, diff=diff,
                       spread=sp, seconds=sec)
        if progress:
            print(f"  w = {w:g}: accuracy {100 * k / n:.1f}% [{100 * lo:.1f}, {100 * hi:.1f}], FD {fd:.2f} "
                  f"[{fd_lo:.2f}, {fd_hi:.2f}], spread {sp[0]:.3f}, {sec:.0f}s", flush=True)
    return {"n": n, "steps": steps, "real_spread": spread(ref, labels), "rows": rows}


def guidance_markdown(table: dict) -> str:
    n, S = table["n"], table["steps"]
    lines = [f"Classifier-free guidance on MNIST: n = {n} samples per row (labels 0-9 in turn), DDIM η = 0, S = {S}, "
             "trailing, the same x_T in every row; accuracy: the shipped classifier agrees with the requested digit "
             "[95 % Wilson interval]; MNIST-FD against held-out real digits of the same class mix [95 % bootstrap]; "
             f"paired: FD minus w = 0's [95 % paired bootstrap]; spread: per-pixel std within a digit [95 % bootstrap] "
             f"(real digits: {table['real_spread']:.3f}).", "",
             "| w | guidance_scale | accuracy | MNIST-FD | FD minus w = 0's, paired | spread |",
             "|---|---|---|---|---|---|"]
    for w, r in table["rows"].items():
        d, sp = r["diff"], r["spread"]
        lines.append(f"| {w:g} | {1 + w:g} | {100 * r['acc']:.1f} % [{100 * r['acc_low']:.1f}, {100 * r['acc_high']:.1f}] "
                     f"| {r['fd']:.2f} [{r['fd_low']:.2f}, {r['fd_high']:.2f}] "
                     f"| {d[0]:+.2f} [{d[1]:+.2f}, {d[2]:+.2f}] | {sp[0]:.3f} [{sp[1]:.3f}, {sp[2]:.3f}] |")
    return "\n".join(lines)


def read_guidance_markdown(text: str) -> dict:
    """The inverse of :func:`guidance_markdown`: the same dict as :func:`guidance_table` (without the timings).
    Notebook 10 reads the recorded table with this rather than retyping its numbers."""
    head = re.search(r"Classifier-free guidance on MNIST: n = (\d+) samples per row .*?S = (\d+),.*?"
                     r"\(real digits: ([\d.]+)\)\.", text)
    if head is None:
        raise ValueError("no guidance table here: expected the header line that guidance_markdown writes")
    num = r"([+-]?\d+(?:\.\d+)?)"
    row = re.compile(rf"^\| {num} \| {num} \| {num} % \[{num}, {num}\] \| {num} \[{num}, {num}\] "
                     rf"\| {num} \[{num}, {num}\] \| {num} \[{num}, {num}\] \|$")
    rows = {}
    for line in text[head.end():].splitlines():
        m = row.match(line.strip())
        if m:
            v = [float(g) for g in m.groups()]
            rows[v[0]] = dict(acc=v[2] / 100, acc_low=v[3] / 100, acc_high=v[4] / 100, fd=v[5], fd_low=v[6],
                              fd_high=v[7], diff=(v[8], v[9], v[10]), spread=(v[11], v[12], v[13]))
        elif rows and not line.startswith("|"):
            break
    if not rows:
        raise ValueError("the guidance table has no rows")
    return {"n": int(head.group(1)), "steps": int(head.group(2)), "real_spread": float(head.group(3)), "rows": rows}
