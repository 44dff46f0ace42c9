"""Computing ahead: which settings a lecturer picks next (:func:`likely_next`), and the background worker
that computes them into the explorer's cache while the picture is on screen (:class:`Prefetcher`).

Each setting the worker takes on is a :class:`Job` with a state a reader can name (:class:`JobState`), a
``concurrent.futures.Future`` for its result, and two ``threading.Event`` objects: ``go`` (cleared: pause at
the next sampler step) and ``cancelled`` (set: give up at the next step). One rule keeps a waiter from
waiting forever: a job somebody waits for (:meth:`Prefetcher.wait_for`) is never paused.
"""
from __future__ import annotations

import contextlib
import enum
import threading
import time
from concurrent.futures import Future
from dataclasses import dataclass, field

from .cache import SOLVERS, SPACINGS, Explorer


def likely_next(key: tuple, last: tuple | None = None, max_steps: int = 100, max_seed: int = 20,
                min_steps: int = 2, repeats: int = 1, ddim_eta: float | None = None) -> list[tuple]:
    """Settings a lecturer is likely to pick next from ``key``, most likely first.

    ``last`` is the previous move as (control, direction): the same gesture once more comes first
    (S + 1 after S + 1, the next seed after the next seed, the other end of eta after a drag across, the
    other solver at the same S after a flip of the solver).
    ``repeats`` counts how many times in a row that gesture was made: from the second time on, a lecturer
    stepping S with the arrow key is likely to go on, so the whole run ahead in that direction comes first
    (S + 1, S + 2, ... to the slider's end; the next 3 seeds). The worker banks the time it has to spare at
    small S, where a setting takes less than the talk between moves, for large S, where it takes more; the
    next move replaces the queue, so a run that stops costs only otherwise idle time.
    Then the neighbours: S +- 1, the next seed, eta +- 0.1, both ends of eta, S +- 2, the other
    spacings, S +- 3..5. Only settings the sliders can reach: under DPM-Solver++(2M) eta stays 0 (its
    slider is disabled), so no eta moves are offered there. ``ddim_eta`` is the eta of the DDIM setting
    that flipping back from DPM-Solver++(2M) reaches (the η slider's value; default: the key's eta).
    """
    eta, S, seed, sp, solver = key

    def k(e=eta, s=S, sd=seed, p=sp, so=solver):
        return (round(e, 4) if so == "ddim" else 0.0), s, sd, p, so
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
        elif control == "solver":
            back = eta if ddim_eta is None else ddim_eta
            first = [k(e=back if so == "ddim" else 0.0, so=so) for so in SOLVERS if so != solver]
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


def with_references(key: tuple, keys, reference_key) -> list[tuple]:
    """The worker's queue for ``keys`` (:func:`likely_next`'s guesses from ``key``) with the reference rows they
    need: ``key``'s own reference first (the setting shown needs it; usually it is cached by then), then each
    guess preceded by its reference (``reference_key(guess)``) unless that is already in the list. A guess of
    the seed and spacing shown needs no other reference, so only a new seed or spacing adds one, just before
    the first guess that needs it; moving eta, S or the solver never does."""
    out = [reference_key(key)]
    for k in keys:
        out += [reference_key(k), k]
    return [k for k in dict.fromkeys(out) if k != key]


class Cancelled(Exception):
    """Raised inside a background computation whose job was cancelled; it ends that run at its next step."""


class JobState(enum.Enum):
    """Where a :class:`Job` stands."""
    QUEUED = "queued"        # in the queue; the worker has not started it
    RUNNING = "running"      # the worker is computing it
    PAUSED = "paused"        # started, waiting at a sampler step until no hold is left (or it is wanted)
    DONE = "done"            # finished: the result is in the explorer's cache and in the job's future
    CANCELLED = "cancelled"  # dropped (a new queue without it, or stop()); nothing was stored
    FAILED = "failed"        # the computation raised; the message is in Prefetcher.errors


@dataclass(eq=False)
class Job:
    """One setting for the worker. ``future`` resolves to the result dict; to :class:`Cancelled` (or
    ``CancelledError`` if it never started) when dropped; to the exception when it failed."""
    key: tuple
    state: JobState = JobState.QUEUED
    future: Future = field(default_factory=Future)
    go: threading.Event = field(default_factory=threading.Event)         # cleared: pause at the next step
    cancelled: threading.Event = field(default_factory=threading.Event)  # set: give up at the next step
    wanted: bool = False  # somebody waits for it (wait_for): no hold pauses it

    def cancel(self) -> None:
        """Drop the job: a queued one never starts; a running or paused one wakes and ends at its next step."""
        self.cancelled.set()
        self.go.set()
        if self.future.cancel():
            self.state = JobState.CANCELLED


class Prefetcher:
    """Computes likely next settings in a background thread while the picture is on screen.

    It never competes with the kernel's own work: while there is at least one hold, it starts no job and
    the job in progress pauses at its next sampler step (a few milliseconds). A move being answered holds
    it (:meth:`foreground`), and so does a notebook cell while it runs (IPython's ``pre_run_cell`` /
    ``post_run_cell`` events, :meth:`follow_cells`). A move, or a cell, that asks for the setting in
    progress takes the worker's result (:meth:`wait_for`) instead of starting over; that job is then no
    longer paused by any hold, so the wait always ends. :meth:`schedule` replaces the queue after every
    move and cancels the job in progress unless it is still the likeliest setting not yet computed. Results
    go into the explorer's cache, the same tensors the foreground would compute. Errors are kept in ``errors``, never printed (output
    from a thread would land in whatever cell runs then).

    The worker is one daemon thread with a queue of :class:`Job` objects, rather than a ``ThreadPoolExecutor``:
    the queue is replaced wholesale on every move, and the interpreter joins an executor's threads at
    exit, which a held worker would block.
    """

    def __init__(self, explorer: Explorer, paused: bool = False):
        self.ex = explorer
        self._cv = threading.Condition()  # guards the queue, the job in progress, the holds and _stopped
        self._queue: list[Job] = []
        self.job: Job | None = None        # the job in progress (RUNNING or PAUSED)
        self._holds = 1 if paused else 0   # > 0: no job starts, the one in progress pauses (unless wanted)
        self._stopped = False
        self._hooks: list = []
        self.computed: list[tuple] = []    # keys finished in the background, in order
        self.errors: list[str] = []
        self._thread = threading.Thread(target=self._run, name="ddim-teach-prefetch", daemon=True)
        self._thread.start()

    # -- the main thread's side
    def schedule(self, keys) -> list[Job]:
        """Replace the queue with jobs for ``keys`` (most likely first) not yet cached or in progress, and
        cancel the job in progress unless its key is the first of them not yet cached (or somebody waits for
        it): a setting further down the list, such as another seed's S = 100 reference row, would otherwise
        hold up the likelier ones until it ends. Returns the new queue's jobs."""
        keys = list(keys)
        with self._cv:
            if self._stopped:
                return []
            for job in self._queue:
                job.cancel()
            current = self.job
            pending = [k for k in dict.fromkeys(keys) if self.ex.cached(k) is None]
            if current is not None and not current.wanted and (not pending or pending[0] != current.key):
                current.cancel()
            busy = current.key if current is not None and not current.cancelled.is_set() else None
            self._queue = [Job(k) for k in dict.fromkeys(keys) if k != busy and self.ex.cached(k) is None]
            self._cv.notify_all()
            return list(self._queue)

    def wait_for(self, key: tuple) -> dict | None:
        """If the worker is computing ``key``, let it finish even while held, wait, and return the result;
        None if it is not on ``key`` (or the job ends without a result): then the caller computes it."""
        with self._cv:
            job = self.job
            if job is None or job.key != key:
                return None
            job.wanted = True
            job.go.set()
        try:
            return job.future.result()
        except Exception:  # cancelled by stop(), or failed: the caller computes it (and meets the error itself)
            return None

    def hold(self) -> None:
        """One more reason to wait: no job starts, and the one in progress pauses at its next step."""
        with self._cv:
            self._holds += 1
            job = self.job
            if job is not None and not job.wanted and not job.cancelled.is_set():
                job.go.clear()

    def release(self) -> None:
        """One reason fewer; with none left the worker goes on."""
        with self._cv:
            self._holds = max(0, self._holds - 1)
            if self._holds == 0:
                if self.job is not None:
                    self.job.go.set()
                self._cv.notify_all()

    @contextlib.contextmanager
    def foreground(self):
        """While the main thread answers a move, the worker waits at its next step."""
        self.hold()
        try:
            yield
        finally:
            self.release()

    def follow_cells(self, ip) -> None:
        """Pause while IPython runs a cell: hold at ``pre_run_cell``, release at ``post_run_cell``."""
        self._hooks = [("pre_run_cell", lambda *a: self.hold()), ("post_run_cell", lambda *a: self.release())]
        self._ip = ip
        for event, fn in self._hooks:
            ip.events.register(event, fn)

    def idle(self, timeout: float = 60.0) -> bool:
        """Wait until the queue is empty and nothing is in progress (for tests and the bench); False if
        ``timeout`` seconds pass first or the worker is stopped."""
        deadline = time.monotonic() + timeout
        with self._cv:
            while self._queue or self.job is not None:
                left = deadline - time.monotonic()
                if left <= 0 or self._stopped:
                    return False
                self._cv.wait(left)
        return True

    def stop(self) -> None:
        """Cancel every job, end the worker (the job in progress at its next step), drop the IPython hooks."""
        with self._cv:
            self._stopped = True
            for job in self._queue + ([self.job] if self.job is not None else []):
                job.cancel()
            self._queue = []
            self._cv.notify_all()
        for event, fn in self._hooks:
            try:
                self._ip.events.unregister(event, fn)
            except ValueError:
                pass
        self._hooks = []
        self._thread.join(timeout=10)

    # -- the worker's side
    def _run(self) -> None:
        while True:
            with self._cv:
                while not self._stopped and (not self._queue or self._holds > 0):
                    self._cv.wait()
                if self._stopped:
                    return
                job = self._queue.pop(0)
                if not job.future.set_running_or_notify_cancel():
                    continue
                hit = self.ex.cached(job.key)
                if hit is not None:  # computed in the foreground since it was queued
                    job.state = JobState.DONE
                    job.future.set_result(hit)
                    continue
                job.state = JobState.RUNNING
                job.go.set()
                self.job = job
            try:
                self._compute(job)
            finally:
                with self._cv:
                    self.job = None
                    self._cv.notify_all()

    def _compute(self, job: Job) -> None:
        try:
            result = self.ex.compute(job.key, checkpoint=lambda: self._checkpoint(job))
        except Cancelled as e:
            job.state = JobState.CANCELLED
            job.future.set_exception(e)
        except Exception as e:  # noqa: BLE001 - kept, not printed; the foreground will hit it again
            self.errors.append(f"{job.key}: {type(e).__name__}: {e}")
            job.state = JobState.FAILED
            job.future.set_exception(e)
        else:
            result["ahead"] = True
            self.ex.store(job.key, result)
            self.computed.append(job.key)
            job.state = JobState.DONE
            job.future.set_result(result)

    def _checkpoint(self, job: Job) -> None:
        """Called after every sampler step of ``job``: pause while its ``go`` is cleared, end it if cancelled."""
        while not (job.go.is_set() or job.cancelled.is_set()):
            job.state = JobState.PAUSED
            job.go.wait()
        job.state = JobState.RUNNING
        if job.cancelled.is_set():
            raise Cancelled
