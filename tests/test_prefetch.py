"""The explorer's background worker: the states of its jobs, and a cell that asks for the setting in progress.

The model here holds the worker at its first call until the test opens a gate, so each test catches the
worker in the middle of a run without depending on timing. Every call that could hang runs in a thread
with a time limit, so a regression fails the test instead of hanging the suite.
"""
import io
import threading
import time

import pytest
import torch
from IPython.core.events import EventManager, available_events

from ddim_teach import oracles
from ddim_teach.explorer import Explorer, JobState, Prefetcher, explorer, widget

KEY = (0.0, 10, 0, "trailing", "ddim")


class GatedModel:
    """The exact eps for Gaussian 'images'. A call from any thread but the test's own waits until ``gate``
    opens (``entered`` tells the test the worker is inside a run); ``fail`` makes the worker's calls raise."""
    sample_shape = (1, 28, 28)

    def __init__(self, schedule, fail: bool = False):
        self.o = oracles.GaussianOracle(schedule, mu=0.0, s=0.5)
        self.main = threading.get_ident()
        self.entered, self.gate = threading.Event(), threading.Event()
        self.fail = fail
        self.calls = 0

    def __call__(self, x, t):
        self.calls += 1
        if threading.get_ident() != self.main:
            self.entered.set()
            self.gate.wait()
            if self.fail:
                raise RuntimeError("the model broke")
        return self.o(x, t)


def _within(seconds: float, fn):
    """Run ``fn`` in a thread; (True, its value) if it returned within ``seconds``, else (False, None)."""
    out = {}
    t = threading.Thread(target=lambda: out.setdefault("value", fn()), daemon=True)
    t.start()
    t.join(seconds)
    return not t.is_alive(), out.get("value")


def _until(cond, seconds: float = 30.0) -> bool:
    """Poll ``cond`` until it holds (True) or ``seconds`` pass (False)."""
    deadline = time.monotonic() + seconds
    while not cond():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.005)
    return True


@pytest.fixture
def stop_later(widgets):
    """Prefetchers (or explorer widgets) built by a test, stopped after it; no worker thread may be left (and no
    figure open): tests/conftest.py's ``widgets``."""
    return widgets


def _prefetching_explorer(schedule, stop_later, **model_kw):
    model = GatedModel(schedule, **model_kw)
    ex = Explorer(model, schedule, n=1)
    pre = ex.prefetcher = Prefetcher(ex)
    stop_later.append(pre)
    return model, ex, pre


def _foreground_only(schedule, key):
    return Explorer(GatedModel(schedule), schedule, n=1).get(key)


def test_a_cell_calling_the_explorer_for_the_setting_in_progress_gets_it(schedule, stop_later):
    """A cell calls the explorer for the very setting the worker computes. The cell's hold (pre_run_cell)
    has paused the worker; the call must still return, with the worker's result, bit for bit the
    foreground's. (It used to wait on the paused worker forever.)"""
    model, ex, pre = _prefetching_explorer(schedule, stop_later)
    (job,) = pre.schedule([KEY])
    assert model.entered.wait(30)
    pre.hold()                                  # pre_run_cell: the cell starts
    model.gate.set()
    assert _until(lambda: job.state is JobState.PAUSED)
    try:
        done, result = _within(10, lambda: ex(eta=0.0, steps=10, seed=0))
    finally:
        pre.release()                           # post_run_cell: the cell ends
    assert done, "asking for the setting in progress waited on the paused worker"
    assert job.state is JobState.DONE and result is job.future.result() and result["ahead"]
    reference = _foreground_only(schedule, KEY)
    assert torch.equal(result["final"], reference["final"]) and torch.equal(result["xs"], reference["xs"])
    assert pre.computed == [KEY] and pre.errors == []


def test_a_cell_setting_the_slider_to_the_setting_in_progress_gets_its_picture(schedule, stop_later, monkeypatch):
    """The same through the widget and IPython's cell events: the cell that built the explorer ends, the
    worker starts on S + 1; the next cell sets the steps slider to S + 1 while the worker is in that run."""
    from PIL import Image
    events = EventManager(None, available_events)
    monkeypatch.setattr(widget, "_ipython", lambda: type("IP", (), {"events": events})())
    model = GatedModel(schedule)
    w = explorer(model, schedule, n=1, max_steps=30)  # in a cell: the worker waits for the cell's end
    stop_later.append(w)
    events.trigger("post_run_cell", None)
    assert model.entered.wait(30)
    job = w.prefetcher.job
    assert job is not None and job.key == (0.0, 21, 0, "trailing", "ddim")  # the likeliest next setting: S + 1
    events.trigger("pre_run_cell", None)  # the next cell: w.controls["steps"].value = 21
    model.gate.set()
    assert _until(lambda: job.state is JobState.PAUSED)
    try:
        done, _ = _within(10, lambda: setattr(w.controls["steps"], "value", 21))
    finally:
        events.trigger("post_run_cell", None)
    assert done, "setting the slider to the setting in progress waited on the paused worker"
    assert w.result["key"] == (0.0, 21, 0, "trailing", "ddim") and w.result["ahead"]
    shown = Image.open(io.BytesIO(w.image.value)).text["ddim-teach-setting"]
    assert shown == "DDIM, η = 0, S = 21, trailing, seed = 0"
    assert "computed ahead" in w.status.value


def test_job_states_from_queued_to_done(schedule, stop_later):
    model, ex, pre = _prefetching_explorer(schedule, stop_later)
    pre.hold()
    first, second = pre.schedule([KEY, (0.0, 3, 1, "trailing", "ddim")])
    assert (first.state, second.state) == (JobState.QUEUED, JobState.QUEUED)
    assert not model.entered.wait(0.2)          # held: nothing starts
    pre.release()
    assert model.entered.wait(30) and first.state is JobState.RUNNING and pre.job is first
    pre.hold()                                  # a move is answered: the run pauses at its next step
    model.gate.set()
    assert _until(lambda: first.state is JobState.PAUSED)
    assert second.state is JobState.QUEUED
    pre.release()
    assert pre.idle(60)
    assert (first.state, second.state) == (JobState.DONE, JobState.DONE) and pre.job is None
    assert ex.cached(KEY) is first.future.result() and pre.computed == [KEY, (0.0, 3, 1, "trailing", "ddim")]


def test_a_new_queue_cancels_what_is_no_longer_likely(schedule, stop_later):
    model, ex, pre = _prefetching_explorer(schedule, stop_later)
    running, queued = pre.schedule([KEY, (0.0, 3, 1, "trailing", "ddim")])
    assert model.entered.wait(30)
    pre.hold()
    model.gate.set()
    assert _until(lambda: running.state is JobState.PAUSED)
    (kept,) = pre.schedule([(0.0, 4, 2, "trailing", "ddim")])  # neither is likely any more: both dropped
    assert queued.state is JobState.CANCELLED and queued.future.cancelled()
    assert _until(lambda: running.state is JobState.CANCELLED)  # the paused run woke to end, though held
    assert kept.state is JobState.QUEUED       # and nothing new starts while held
    pre.release()
    assert pre.idle(60) and kept.state is JobState.DONE
    assert ex.cached(KEY) is None and ex.cached((0.0, 3, 1, "trailing", "ddim")) is None and pre.errors == []


def test_a_failed_job_is_kept_not_printed_and_the_waiter_computes(schedule, stop_later, capsys):
    model, ex, pre = _prefetching_explorer(schedule, stop_later, fail=True)
    (job,) = pre.schedule([KEY])
    assert model.entered.wait(30)
    model.gate.set()
    assert _until(lambda: job.state is JobState.FAILED)
    assert pre.errors == [f"{KEY}: RuntimeError: the model broke"] and capsys.readouterr() == ("", "")
    assert pre.idle(60) and ex.cached(KEY) is None
    assert ex(eta=0.0, steps=10, seed=0)["ahead"] is False  # the foreground computes it (its calls do not fail)


def test_stop_ends_a_paused_run_and_a_waiter_computes_itself(schedule, stop_later):
    model, ex, pre = _prefetching_explorer(schedule, stop_later)
    (job,) = pre.schedule([KEY])
    assert model.entered.wait(30)
    pre.hold()
    model.gate.set()
    assert _until(lambda: job.state is JobState.PAUSED)
    pre.stop()
    assert job.state is JobState.CANCELLED and pre.job is None
    assert pre.wait_for(KEY) is None and pre.schedule([KEY]) == []
    assert ex(eta=0.0, steps=10, seed=0)["ahead"] is False
