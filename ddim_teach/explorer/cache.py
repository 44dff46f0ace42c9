"""What the explorer shows, computed and cached: one sampler run per setting (eta, steps, seed, spacing, solver),
and beside it the reference row (DDIM, eta = 0, S = 100, the same seed and spacing) with each sample's RMS distance
to it."""
from __future__ import annotations

import threading
import time
from collections import OrderedDict

import torch

from .. import checks, samplers
from ..schedules import check_schedule

SPACINGS = ("leading", "trailing", "linspace")
# The samplers the solver selector offers, as samplers.sample names them (DDIM, DPM-Solver++(2M)): both make one
# model call per step. DPM-Solver++(2M) is deterministic (it has no eta), so its settings carry eta = 0.
SOLVERS = ("ddim", "dpm_solver_pp_2m")
MAX_SEED = 2 ** 62  # a seed and seed + 10,000 (the noise's generator) must both fit torch's 64-bit seed
# The reference row: DDIM at eta = 0 with S = 100 steps (fewer if the schedule has fewer timesteps), the same seed
# (so the same x_T) and the same spacing as the setting shown: "the same sampler, fine".
REFERENCE_ETA, REFERENCE_STEPS = 0.0, 100


def rms_distance(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Per-sample RMS pixel distance sqrt(mean((a - b)^2)) between two batches of images (N, ...), on the
    [-1, 1] pixel scale of the pictures: both are clamped to [-1, 1] first, as they are shown (so it is at most 2)."""
    if not isinstance(a, torch.Tensor) or not isinstance(b, torch.Tensor) or a.shape != b.shape or a.dim() < 2:
        raise ValueError("a and b must be two batches of images (N, ...) of one shape, got "
                         f"{getattr(a, 'shape', type(a).__name__)} and {getattr(b, 'shape', type(b).__name__)}")
    d = a.detach().double().clamp(-1, 1) - b.detach().double().clamp(-1, 1)
    return d.flatten(1).pow(2).mean(1).sqrt()


class Explorer:
    """Samples for (eta, steps, seed, spacing, solver), cached: the lecture's sliders call :meth:`__call__`.

    A result holds what the explorer shows: the ``n`` final samples, and for sample 0 only, ``xs`` and
    ``x0_hats`` (x_t and x0_hat entering every step), with the ``timesteps``, their ``alpha_bars`` and the
    ``sigmas`` of the run (and the schedule's whole alpha_bar curve, ``alpha_bar_curve``, drawn faint under them).
    :meth:`get` (and so a call) adds the reference row: ``reference`` (the final samples of :meth:`reference_key`,
    DDIM at eta = 0, S = 100, same seed and spacing; its x_T is the same, as x_T depends on the seed and ``n``
    alone), ``reference_key``, ``reference_seconds`` (its compute time) and ``rms`` (each sample's
    :func:`rms_distance` to its reference). The reference is an ordinary cache entry: computed once per seed
    and spacing, whatever eta, S or solver are shown with it.
    The same key gives the same tensors, bit for bit, whichever thread computed them (x_T and the noise
    come from generators seeded by ``seed``; the thread count is torch's, shared by all threads).

    ``prefetcher`` (set by the widget, None otherwise) is the background worker that fills the cache
    ahead of time; :meth:`get` takes its result when it is on the very key asked for.
    """

    def __init__(self, model, schedule, n: int = 6, spacing: str = "trailing", cache_size: int = 256,
                 x_seed: int = 0):
        check_schedule(schedule, " (the one load_pretrained returns)")
        checks.one_of(spacing, "spacing", SPACINGS)
        checks.integer(n, "n (samples shown)", 1, 64)
        checks.integer(cache_size, "cache_size", 1, 100_000)
        checks.integer(x_seed, "x_seed", 0, MAX_SEED)
        self.model, self.schedule, self.n, self.spacing = model, schedule, n, spacing
        self.x_seed = x_seed
        self._cache: OrderedDict = OrderedDict()
        self._lock = threading.Lock()
        self.cache_size = cache_size
        self.calls = 0
        self.prefetcher = None  # a prefetch.Prefetcher, or None

    def x_T(self, seed: int) -> torch.Tensor:
        shape = (self.n, *getattr(self.model, "sample_shape", (1, 28, 28)))
        return torch.randn(shape, generator=torch.Generator().manual_seed(seed))

    def key(self, eta: float = 0.0, steps: int = 20, seed: int = 0, spacing: str | None = None,
            solver: str = "ddim") -> tuple:
        """The cache key (eta to 4 decimals, steps, seed, spacing, solver), checked.

        eta is kept to 4 decimals, so that a slider's 0.30000000000000004 and 0.3 are one setting; an eta with
        more decimals than that is refused rather than shown as its neighbour. ``solver`` is "ddim" or
        "dpm_solver_pp_2m" (:data:`SOLVERS`); DPM-Solver++(2M) has no eta, so with it the key's eta is 0
        whatever (valid) eta is given: the widget's η slider, disabled meanwhile, keeps its value for DDIM."""
        spacing = self.spacing if spacing is None else spacing
        checks.one_of(spacing, "spacing", SPACINGS)
        checks.one_of(solver, "solver", SOLVERS)
        eta = checks.eta(eta)
        if abs(eta - round(eta, 4)) > 1e-6:   # 1e-6, not less: a float32 slider's 0.35 is 0.3499999940…
            raise ValueError(f"eta is kept to 4 decimals in the explorer, got {eta!r}; round it (e.g. {round(eta, 4)})")
        steps = checks.integer(steps, "steps", 1, self.schedule.T)
        seed = checks.integer(seed, "seed", 0, MAX_SEED)
        return (round(eta, 4) if solver == "ddim" else 0.0), steps, seed, spacing, solver

    # -- the cache (least recently used entries go first; any thread may read and store)
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

    # -- computing
    def compute(self, key: tuple, checkpoint=None) -> dict:
        """Run the sampler for ``key`` (uncached). ``checkpoint()`` is called after every step; it may
        block (the background worker pausing) or raise to abandon the run (the worker's job cancelled)."""
        eta, steps, seed, spacing, solver = key
        xs, x0_hats = [], []

        def keep_sample_0(state):  # the strip shows x_t and x0_hat of one sample: record only that one
            xs.append(state.x_t[:1].clone())
            x0_hats.append(state.x0_hat[:1].clone())
            if checkpoint is not None:
                checkpoint()
        t0 = time.perf_counter()
        noise = torch.Generator().manual_seed(seed + 10_000) if solver == "ddim" else None  # DPM-Solver++ adds none
        traj = samplers.sample(self.model, self.schedule, self.x_T(seed), steps=steps, eta=eta, spacing=spacing,
                               method=solver, generator=noise, record_every=None, progress=False,
                               callback=keep_sample_0)
        with self._lock:
            self.calls += 1
        return {"final": traj.final, "x0_hats": torch.cat(x0_hats), "xs": torch.cat(xs),
                "timesteps": traj.timesteps, "alpha_bars": self.schedule.alpha_bar(traj.timesteps),
                "alpha_bar_curve": self.schedule.alpha_bars, "sigmas": traj.sigmas,
                "seconds": time.perf_counter() - t0, "key": key, "ahead": False}

    def reference_key(self, key: tuple) -> tuple:
        """The key of ``key``'s reference row: DDIM, eta = 0, S = 100 (at most T), the same seed and spacing."""
        _, _, seed, spacing, _ = key
        return REFERENCE_ETA, min(REFERENCE_STEPS, self.schedule.T), seed, spacing, "ddim"

    def _result(self, key: tuple) -> dict:
        """The run for a checked key: cached, or the background worker's if it is on this key (it finishes
        it even while paused), or computed now in the calling thread and stored."""
        hit = self.cached(key)
        if hit is None and self.prefetcher is not None:
            hit = self.prefetcher.wait_for(key)
        if hit is None:
            hit = self.store(key, self.compute(key))
        return hit

    def get(self, key: tuple) -> dict:
        """The result for a checked key (:meth:`_result`) with its reference row and RMS distances: the
        reference is another key's result, taken the same way (cached, the worker's, or computed now)."""
        result = self._result(key)
        ref_key = self.reference_key(key)
        if result.get("reference_key") != ref_key:  # first shown (a result is stored without its reference)
            ref = result if key == ref_key else self._result(ref_key)
            result["reference"], result["reference_key"] = ref["final"], ref_key
            result["reference_seconds"] = ref["seconds"]
            result["rms"] = rms_distance(result["final"], ref["final"])
        return result

    def __call__(self, eta: float = 0.0, steps: int = 20, seed: int = 0, spacing: str | None = None,
                 solver: str = "ddim") -> dict:
        """Returns final samples, the x_t and x0_hat strips of sample 0, timesteps, alpha_bars, sigmas, the compute
        time, and the reference row with each sample's RMS distance to it (:meth:`get`)."""
        return self.get(self.key(eta, steps, seed, spacing, solver))
