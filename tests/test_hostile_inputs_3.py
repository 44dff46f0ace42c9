"""A third round of hostile inputs, each once silently accepted (or a hang, or a traceback from deep inside): now a
short error that names the argument, says what was given and what is allowed, raised before any work is lost."""
import sys
import time

import numpy as np
import pytest
import torch

from ddim_teach import exercises, formulas, schedules

S = schedules.make_schedule("linear", 1000)


# --- the exercise checker -------------------------------------------------------------------------------------
def _q_ok(x0, alpha_bar_t, noise):
    return alpha_bar_t.sqrt() * x0 + (1 - alpha_bar_t).sqrt() * noise


def test_the_time_limit_is_not_swallowed_by_except_exception(monkeypatch):
    monkeypatch.setattr(exercises, "TIME_LIMIT_S", 0.3)

    def q_swallow(x0, alpha_bar_t, noise):
        t0 = time.perf_counter()
        while time.perf_counter() - t0 < 3:
            try:
                time.sleep(0.05)
            except Exception:
                pass
        return _q_ok(x0, alpha_bar_t, noise)

    t0 = time.perf_counter()
    v = exercises.check("q_sample", q_swallow)
    assert time.perf_counter() - t0 < 2.5
    assert not v.ok and "was stopped" in v.message


def test_sys_exit_inside_an_answer_is_a_verdict():
    def q_exit(x0, alpha_bar_t, noise):
        sys.exit(1)

    v = exercises.check("q_sample", q_exit)
    assert not v.ok and "sys.exit" in v.message and "q_exit" in v.message


def test_keyboard_interrupt_still_propagates():
    def q_kbd(x0, alpha_bar_t, noise):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        exercises.check("q_sample", q_kbd)


def test_an_exercise_name_that_is_not_a_string_is_a_type_error():
    with pytest.raises(TypeError, match=r"name must be an exercise's name \(a string\), got list"):
        exercises.check(["q_sample"], _q_ok)


def test_an_exception_whose_str_fails_is_still_a_verdict():
    class Weird(Exception):
        def __str__(self):
            raise RuntimeError("no str")

    def q_weird(x0, alpha_bar_t, noise):
        raise Weird()

    v = exercises.check("q_sample", q_weird)
    assert not v.ok and "Weird" in v.message
