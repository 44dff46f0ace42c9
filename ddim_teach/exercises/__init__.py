"""Exercises the student writes, and a checker that names the mistake.

A chapter's notebook gives a stub (``raise NotImplementedError``); the next cell runs
``exercises.check("ddim_step", ddim_step)``. The checker runs the student's function and the package's
reference on the same inputs: random ones and the edge cases where tutorials go wrong (the last step with
alpha_bar_prev = 1, eta = 0 and eta = 1, a skip of many timesteps, float32 and float64, a batch). It returns a
:class:`Verdict` whose one-line repr is what Jupyter shows:

* ``✓ ddim_step: matches the reference on all 8 cases (…)``
* ``✗ ddim_step: looks like "σ² used where σ is meant". Hint: …`` when the wrong answer agrees, on every case,
  with a known mistake of the exercise: a named mistake of :mod:`ddim_teach.mistakes`, whose label and hint are
  i18n strings (the DDIM steps' mistakes are the pitfalls clinic's broken updates, :mod:`ddim_teach.pitfalls`);
* ``✗ ddim_step: not implemented yet …`` for a stub, and one clear line for None, a wrong shape or dtype.

Each chapter registers its exercises, and the mistakes only they use, in ``ddim_teach/exercises/chNN.py`` (what
their case builders share is in ``_cases.py``); :data:`EXERCISES` lists them all.
"""
from __future__ import annotations

import contextlib
import importlib
import math
import numbers
import os
import signal
import sys
import threading
import time
import traceback
from dataclasses import dataclass, field
from typing import Any, Callable, Optional, Sequence

import torch

from .. import i18n, pitfalls  # noqa: F401  (pitfalls registers the clinic's broken steps, which the chapters name)
from ..i18n import tr
from ..mistakes import REGISTRY, Mistake

__all__ = ["Case", "Mistake", "Exercise", "Verdict", "EXERCISES", "register", "check", "by_chapter"]


@dataclass(eq=False)
class Case:
    """One set of inputs. ``args`` go to the student's function and to the reference alike."""
    args: tuple
    label: str
    kwargs: dict = field(default_factory=dict)
    label_zh: str = ""   # the label in Chinese (verdicts with lang="zh"); empty: the English label

    def shown_label(self) -> str:
        return self.label_zh if self.label_zh and i18n.get_language() == "zh" else self.label


@dataclass(eq=False)
class Exercise:
    name: str
    chapter: int
    signature: str
    reference: Callable
    cases: Callable[[], Sequence[Case]]
    mistakes: Sequence[Mistake] = ()   # named mistakes (ddim_teach.mistakes), each with the reference's signature
    output: str = "all"          # "first": a returned tuple is compared by its element 0 (x_prev of (x_prev, x0_hat))
    compare: Optional[Callable[[Any, Any], Optional[str]]] = None
    doc: str = ""


EXERCISES: dict[str, Exercise] = {}


def register(ex: Exercise) -> Exercise:
    """Add ``ex`` to :data:`EXERCISES`; a second exercise with the same name is an error, and so is a mistake that
    is not in the registry of :mod:`ddim_teach.mistakes`."""
    if ex.name in EXERCISES:
        raise ValueError(f"an exercise named {ex.name!r} is already registered (chapter {EXERCISES[ex.name].chapter})")
    if ex.output not in ("all", "first"):
        raise ValueError(f"Exercise.output must be 'all' or 'first', got {ex.output!r}")
    for m in ex.mistakes:
        if REGISTRY.get(getattr(m, "name", None)) is not m:
            raise ValueError(f"exercise {ex.name!r}: {m!r} is not a registered mistake (ddim_teach.mistakes.register)")
    EXERCISES[ex.name] = ex
    return ex


def by_chapter(chapter: int) -> list[Exercise]:
    """The exercises of one chapter, in registration order."""
    return [e for e in EXERCISES.values() if e.chapter == chapter]


@dataclass(eq=False)
class Verdict:
    """The checker's answer. ``ok`` is True only when every case matches the reference."""
    ok: bool
    message: str
    name: str
    mistake: Optional[str] = None   # the name of the mistake that the answer matched, if any

    def __repr__(self) -> str:
        return self.message

    __str__ = __repr__

    def __bool__(self) -> bool:
        return self.ok


# --------------------------------------------------------------------------------------------- comparison

class _Problem(Exception):
    """The student's output cannot be compared at all (None, wrong type, shape or dtype)."""


def _tol(dtype) -> tuple[float, float]:
    if dtype in (torch.float64, torch.complex128):
        return 1e-5, 1e-6
    return 1e-4, 1e-5


def _normalise(out, ex: Exercise):
    if ex.output == "first" and isinstance(out, tuple) and len(out) > 0:
        return out[0]
    return out


def _worst(g: torch.Tensor, w: torch.Tensor) -> str:
    """Where the difference is largest, with the two values there."""
    diff = (g - w).abs().nan_to_num(nan=math.inf)
    i = tuple(int(k) for k in torch.unravel_index(diff.argmax(), diff.shape)) if diff.dim() else ()
    at = tr("reason.at_index", i=list(i) if len(i) != 1 else i[0]) if i else ""
    return at, f"{g[i].item():.6g}", f"{w[i].item():.6g}"


def _diff(got, want, where: str = "") -> Optional[tuple[str, float]]:
    """None when ``got`` equals ``want``; else (short reason, relative size of the difference, or nan).

    Raises _Problem when the two cannot be compared (None, wrong type, shape, dtype).
    """
    if got is None:
        raise _Problem(tr("problem.none"))
    if isinstance(want, torch.Tensor):
        if not isinstance(got, torch.Tensor):
            raise _Problem(tr("problem.not_tensor", got=type(got).__name__, where=where))
        if tuple(got.shape) != tuple(want.shape):
            raise _Problem(tr("problem.shape", got=tuple(got.shape), where=where, expected=tuple(want.shape)))
        if got.layout != want.layout or got.device != want.device:
            kind = got.device.type if got.device != want.device else str(got.layout).replace("torch.", "")
            raise _Problem(tr("problem.storage", got=kind, where=where))
        if got.dtype != want.dtype:
            raise _Problem(tr("problem.dtype", got=got.dtype, where=where, expected=want.dtype))
        if not want.is_floating_point() and not want.is_complex():
            if torch.equal(got, want):
                return None
            bad = (got != want).nonzero()
            i = tuple(bad[0].tolist()) if bad.numel() else ()
            return (tr("reason.differs_at", i=list(i) if len(i) != 1 else i[0], where=where,
                       got=got[i].item() if i else got.item(), expected=want[i].item() if i else want.item()), math.nan)
        rtol, atol = _tol(want.dtype)
        g, w = got.detach().double(), want.detach().double()
        if torch.isnan(g).any() and not torch.isnan(w).any():
            return (tr("reason.nan", where=where), math.inf)
        if torch.allclose(g, w, rtol=rtol, atol=atol, equal_nan=True):
            return None
        d = float((g - w).abs().nan_to_num(nan=math.inf, posinf=math.inf).max())
        rel = d / max(float(w.abs().max()), 1e-12) if w.numel() else d
        at, g_at, w_at = _worst(g, w)
        reason = tr("reason.max_diff", d=f"{d:.3g}", where=where, at=at, got=g_at, expected=w_at)
        if want.dtype == torch.float64 and rel < 1e-5:
            reason += tr("problem.rounding")
        return (reason, rel)
    if isinstance(want, numbers.Number) or (isinstance(want, torch.Tensor) and want.dim() == 0):
        if isinstance(got, torch.Tensor) and got.numel() == 1:
            got = got.item()
        if not isinstance(got, numbers.Number) or isinstance(got, bool):
            raise _Problem(tr("problem.not_number", got=type(got).__name__, where=where))
        d = abs(float(got) - float(want))
        return None if d <= 1e-6 + 1e-5 * abs(float(want)) else \
            (tr("reason.number", got=f"{float(got):.6g}", where=where, expected=f"{float(want):.6g}"),
             d / max(abs(float(want)), 1e-12))
    if isinstance(want, (tuple, list)):
        if not isinstance(got, (tuple, list)):
            raise _Problem(tr("problem.not_sequence", got=type(got).__name__, where=where, expected=type(want).__name__,
                              n=len(want)))
        if len(got) != len(want):
            raise _Problem(tr("problem.count", got=len(got), where=where, expected=len(want)))
        for k, (a, b) in enumerate(zip(got, want)):
            r = _diff(a, b, where + tr("reason.item", k=k))
            if r is not None:
                return r
        return None
    return None if got == want else (tr("reason.number", got=repr(got), where=where, expected=repr(want)), math.nan)


def _compare(ex: Exercise, got, want):
    got, want = _normalise(got, ex), _normalise(want, ex)
    if ex.compare is not None:
        if got is None:
            raise _Problem(tr("problem.none"))
        reason = ex.compare(got, want)
        return None if reason is None else (reason, math.nan)
    return _diff(got, want)


def _clone(a):
    if isinstance(a, torch.Tensor):
        return a.clone()
    if isinstance(a, (list, tuple)) and any(isinstance(v, torch.Tensor) for v in a):
        return type(a)(_clone(v) for v in a)
    return a


def _clone_args(case: Case):
    """Fresh copies of the tensor inputs, so that a function that works in place cannot spoil the next call."""
    return tuple(_clone(a) for a in case.args), {k: _clone(v) for k, v in case.kwargs.items()}


def _run(fn, case: Case):
    args, kwargs = _clone_args(case)
    return fn(*args, **kwargs)


def _param_names(ex: Exercise) -> list[str]:
    """The argument names of the exercise's signature, "name(a, b, c=0) -> ..." -> ["a", "b", "c"]."""
    inside = ex.signature.split("(", 1)[1].split(")", 1)[0] if "(" in ex.signature else ""
    return [p.split("=")[0].strip() for p in inside.split(",") if p.strip()]


def _changed_in_place(ex: Exercise, case: Case, args, kwargs) -> Optional[str]:
    """The name of the first tensor input that the student's function changed, or None."""
    names = _param_names(ex)
    pairs = [(names[k] if k < len(names) else f"argument {k + 1}", a, b) for k, (a, b) in enumerate(zip(args, case.args))]
    pairs += [(k, kwargs[k], v) for k, v in case.kwargs.items()]
    for name, after, before in pairs:
        if isinstance(before, torch.Tensor) and isinstance(after, torch.Tensor):
            if after.shape != before.shape or not torch.equal(after.nan_to_num(), before.nan_to_num()):
                return name
        elif isinstance(before, (list, tuple)) and isinstance(after, (list, tuple)):
            for a, b in zip(after, before):
                if isinstance(b, torch.Tensor) and isinstance(a, torch.Tensor) and \
                        (a.shape != b.shape or not torch.equal(a.nan_to_num(), b.nan_to_num())):
                    return name
    return None


# --------------------------------------------------------------------------------------------- running an answer

class _TimeLimit(BaseException):
    """The checker's time limit. A BaseException, like KeyboardInterrupt, so that an answer's own
    ``except Exception:`` (a retry loop, say) cannot swallow it and run on past the limit."""


@contextlib.contextmanager
def _time_limit(seconds: float):
    """Raise _TimeLimit in the main thread after ``seconds`` (a no-op where SIGALRM is not available). The previous
    handler and timer are restored, so the kernel stays usable."""
    if not hasattr(signal, "SIGALRM") or threading.current_thread() is not threading.main_thread():
        yield
        return

    def on_alarm(signum, frame):
        raise _TimeLimit()

    old = signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds, 1.0)   # and again every second, should a bare except: swallow one
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


_PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_THIS_FILE = os.path.abspath(__file__)


def _origin(e: BaseException, fn: Callable) -> tuple[str, Optional[str]]:
    """Where an exception raised by the student's ``fn`` came from: (a short phrase, the name of the student's own
    function it was raised in, or None). Frames of the checker itself are skipped."""
    frames = [f for f in traceback.extract_tb(e.__traceback__) if os.path.abspath(f.filename) != _THIS_FILE]
    if not frames:
        return "", None
    last = frames[-1]
    path = os.path.abspath(last.filename)
    student = [f for f in frames if not os.path.abspath(f.filename).startswith(_PACKAGE_DIR)
               and "site-packages" not in f.filename and not f.filename.startswith(sys.prefix)
               and not f.filename.startswith(sys.base_prefix)]
    if path.startswith(_PACKAGE_DIR):
        rel = os.path.relpath(path, os.path.dirname(_PACKAGE_DIR))
        return tr("origin.package", file=rel, line=last.lineno, func=last.name), (student[-1].name if student else None)
    if student:
        f = student[-1]
        own = getattr(fn, "__name__", "")
        where = tr("origin.yours", func=f.name, line=f.lineno) if f.name == own else \
            tr("origin.helper", func=f.name, line=f.lineno, name=own)
        return where, f.name
    return "", None


# --------------------------------------------------------------------------------------------- the checker

def check(name: str, fn: Callable, lang: Optional[str] = None) -> Verdict:
    """Check the student's ``fn`` for exercise ``name``; return a :class:`Verdict` (its repr is one line).

    ``lang``: "en" or "zh" for the verdict (default: :func:`ddim_teach.i18n.get_language`)."""
    with i18n.using(lang):
        return _check(name, fn)


TIME_LIMIT_S = 10.0   # per case, at least; or 20 times the reference's own time on that case if that is longer


def _message(e: BaseException) -> str:
    """The first line of ``str(e)``, or "" (also when the exception's own __str__ fails)."""
    try:
        text = str(e).strip()
    except Exception:
        return ""
    return text.splitlines()[0] if text else ""


def _check(name: str, fn: Callable) -> Verdict:
    if not isinstance(name, str):
        raise TypeError(f"name must be an exercise's name (a string), got {type(name).__name__}; "
                        "e.g. check('ddim_step', ddim_step)")
    if name not in EXERCISES:
        missing = "".join(f"; chapter {int(ch[2:])}'s exercises need {mod}, which is not installed "
                          f"(pip install -e '.[course]')" for ch, mod in UNAVAILABLE.items())
        raise ValueError(f"no exercise named {name!r}; the exercises are: {', '.join(sorted(EXERCISES))}{missing}")
    ex = EXERCISES[name]
    if not callable(fn):
        return Verdict(False, tr("check.not_callable", name=name, signature=ex.signature, got=type(fn).__name__), name)
    cases = list(ex.cases())
    refs, limits = [], []
    for c in cases:
        t0 = time.perf_counter()
        refs.append(_run(ex.reference, c))
        limits.append(max(TIME_LIMIT_S, 20 * (time.perf_counter() - t0)))

    outs, results = [], []      # results[i]: None (the case passes) or (reason, relative size)
    for case, ref, limit in zip(cases, refs, limits):
        args, kwargs = _clone_args(case)
        try:
            with _time_limit(limit):
                out = fn(*args, **kwargs)
        except _TimeLimit:
            return Verdict(False, tr("check.time_limit", name=name, seconds=f"{limit:.0f}", case=case.shown_label()),
                           name)
        except NotImplementedError as e:
            where, func = _origin(e, fn)
            if func is None or func == getattr(fn, "__name__", None):
                return Verdict(False, tr("check.not_implemented", name=name), name)
            msg = _message(e)
            sep = "：" if i18n.get_language() == "zh" else ": "
            return Verdict(False, tr("check.helper_not_implemented", name=name, helper=func,
                                     message=(sep + msg) if msg else ""), name)
        except (Exception, SystemExit) as e:  # the student's own error, in one line with the case and where it was raised
            where, _ = _origin(e, fn)
            if isinstance(e, SystemExit):   # sys.exit() would end the checker (and a script running it)
                call = f"sys.exit({e.code!r})" if e.code is not None else "sys.exit()"
                return Verdict(False, tr("check.exit", name=name, call=call, case=case.shown_label(),
                                         signature=ex.signature, where=where), name)
            msg = _message(e)
            return Verdict(False, tr("check.raised", name=name, error=type(e).__name__ + (": " + msg if msg else ""),
                                     case=case.shown_label(), signature=ex.signature, where=where), name)
        changed = _changed_in_place(ex, case, args, kwargs)
        if changed is not None:
            return Verdict(False, tr("check.in_place", name=name, arg=changed, case=case.shown_label()), name,
                           "changed_input_in_place")
        try:
            d = _compare(ex, out, ref)
        except _Problem as p:
            return Verdict(False, tr("check.problem", name=name, problem=p, case=case.shown_label()), name)
        outs.append(out)
        results.append(d)

    failing = [i for i, d in enumerate(results) if d is not None]
    if not failing:
        labels = ("；" if i18n.get_language() == "zh" else ", ").join(c.shown_label() for c in cases)
        return Verdict(True, tr("check.ok", name=name, n=len(cases), labels=labels), name)

    # the most telling failing case: the largest relative difference (a NaN size counts as large)
    worst = max(failing, key=lambda i: math.inf if math.isnan(results[i][1]) else results[i][1])
    where = tr("check.where", case=cases[worst].shown_label(), reason=results[worst][0])
    fails = _case_list([cases[i] for i in failing], len(cases))
    agree = {m.name: _agreeing_cases(ex, m, cases, outs) for m in ex.mistakes}
    for m in ex.mistakes:                      # a mistake that the answer reproduces on every case
        if len(agree[m.name]) == len(cases):
            return Verdict(False, tr("check.mistake", name=name, label=m.label(), hint=m.hint(), where=where), name,
                           m.name)
    # else the closest: the one that reproduces the answer on the most failing cases (ties: on more cases in all)
    best = max(ex.mistakes, key=lambda m: (len(agree[m.name] & set(failing)), len(agree[m.name])), default=None)
    if best is not None and agree[best.name] & set(failing):
        on = _case_list([cases[i] for i in sorted(agree[best.name] & set(failing))], len(cases))
        key = "check.partial_all" if set(failing) <= agree[best.name] else "check.partial_some"
        return Verdict(False, tr(key, name=name, on=on, label=best.label(), hint=best.hint(), fails=fails,
                                 where=where), name, best.name)
    return Verdict(False, tr("check.differs", name=name, bad=len(failing), n=len(cases), fails=fails, where=where), name)


def _case_list(cs, n: int, most: int = 3) -> str:
    """ "2 of 7 cases ("a", "b")": at most ``most`` labels, then "…"."""
    zh = i18n.get_language() == "zh"
    labels = [f"“{c.shown_label()}”" if zh else f'"{c.shown_label()}"' for c in cs[:most]]
    more = "…" if len(cs) > most else ""
    return tr("check.cases", labels=("；" if zh else ", ").join(labels) + more, k=len(cs), n=n)


def _agreeing_cases(ex: Exercise, m: Mistake, cases, outs) -> set:
    """The indices of the cases on which the answer's output equals the mistake's."""
    same = set()
    for i, (case, out) in enumerate(zip(cases, outs)):
        try:
            if _compare(ex, out, _run(m.fn, case)) is None:
                same.add(i)
        except Exception:
            pass
    return same


# --------------------------------------------------------------------------------------------- chapters

CHAPTERS = tuple(f"ch{n:02d}" for n in range(1, 11))
UNAVAILABLE: dict[str, str] = {}   # chapter -> the course-extra module it needs and this environment lacks
for _mod in CHAPTERS:
    try:
        importlib.import_module(f"{__name__}.{_mod}")
    except ModuleNotFoundError as _e:  # a chapter not written yet, or one that needs SymPy (the course extra)
        if _e.name == "sympy":
            UNAVAILABLE[_mod] = "sympy"
        elif _e.name != f"{__name__}.{_mod}":  # any other import error is a real bug
            raise
