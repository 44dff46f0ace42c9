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

import importlib
import math
import numbers
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


def _diff(got, want, where: str = "") -> Optional[tuple[str, float]]:
    """None when ``got`` equals ``want``; else (short reason, size of the difference or nan).

    Raises _Problem when the two cannot be compared (None, wrong type, shape, dtype).
    """
    if got is None:
        raise _Problem(tr("problem.none"))
    if isinstance(want, torch.Tensor):
        if not isinstance(got, torch.Tensor):
            raise _Problem(tr("problem.not_tensor", got=type(got).__name__, where=where))
        if tuple(got.shape) != tuple(want.shape):
            raise _Problem(tr("problem.shape", got=tuple(got.shape), where=where, expected=tuple(want.shape)))
        if got.dtype != want.dtype:
            raise _Problem(tr("problem.dtype", got=got.dtype, where=where, expected=want.dtype))
        if not want.is_floating_point() and not want.is_complex():
            if torch.equal(got, want):
                return None
            bad = (got != want).nonzero()
            i = tuple(bad[0].tolist()) if bad.numel() else ()
            return (f"differs at index {list(i) if len(i) != 1 else i[0]}{where}: "
                    f"got {got[i].item() if i else got.item()}, expected {want[i].item() if i else want.item()}", math.nan)
        rtol, atol = _tol(want.dtype)
        g, w = got.detach().double(), want.detach().double()
        if torch.isnan(g).any() and not torch.isnan(w).any():
            return (f"contains NaN{where}", math.inf)
        if torch.allclose(g, w, rtol=rtol, atol=atol, equal_nan=True):
            return None
        d = float((g - w).abs().nan_to_num(posinf=math.inf).max())
        return (f"max |difference| {d:.3g}{where}", d)
    if isinstance(want, (bool, str)):
        return None if got == want else (f"got {got!r}{where}, expected a different value", math.nan)
    if isinstance(want, numbers.Number):
        if isinstance(got, torch.Tensor) and got.numel() == 1:
            got = got.item()
        if not isinstance(got, numbers.Number) or isinstance(got, bool):
            raise _Problem(tr("problem.not_number", got=type(got).__name__, where=where))
        d = abs(float(got) - float(want))
        return None if d <= 1e-6 + 1e-5 * abs(float(want)) else (f"got {float(got):.6g}{where}, expected another value", d)
    if isinstance(want, (tuple, list)):
        if not isinstance(got, (tuple, list)):
            raise _Problem(tr("problem.not_sequence", got=type(got).__name__, where=where, expected=type(want).__name__,
                              n=len(want)))
        if len(got) != len(want):
            raise _Problem(tr("problem.count", got=len(got), where=where, expected=len(want)))
        for k, (a, b) in enumerate(zip(got, want)):
            r = _diff(a, b, f"{where} (item {k})")
            if r is not None:
                return r
        return None
    return None if got == want else (f"got {got!r}{where}", math.nan)


def _compare(ex: Exercise, got, want):
    got, want = _normalise(got, ex), _normalise(want, ex)
    if ex.compare is not None:
        if got is None:
            raise _Problem(tr("problem.none"))
        reason = ex.compare(got, want)
        return None if reason is None else (reason, math.nan)
    return _diff(got, want)


def _clone_args(case: Case):
    """Fresh copies of the tensor inputs, so that a function that works in place cannot spoil the next call."""
    def c(a):
        if isinstance(a, torch.Tensor):
            return a.clone()
        if isinstance(a, (list, tuple)) and any(isinstance(v, torch.Tensor) for v in a):
            return type(a)(c(v) for v in a)
        return a
    return tuple(c(a) for a in case.args), {k: c(v) for k, v in case.kwargs.items()}


def _run(fn, case: Case):
    args, kwargs = _clone_args(case)
    return fn(*args, **kwargs)


# --------------------------------------------------------------------------------------------- the checker

def check(name: str, fn: Callable, lang: Optional[str] = None) -> Verdict:
    """Check the student's ``fn`` for exercise ``name``; return a :class:`Verdict` (its repr is one line).

    ``lang``: "en" or "zh" for the verdict (default: :func:`ddim_teach.i18n.get_language`)."""
    with i18n.using(lang):
        return _check(name, fn)


def _check(name: str, fn: Callable) -> Verdict:
    if name not in EXERCISES:
        missing = "".join(f"; chapter {int(ch[2:])}'s exercises need {mod}, which is not installed "
                          f"(pip install -e '.[course]')" for ch, mod in UNAVAILABLE.items())
        raise ValueError(f"no exercise named {name!r}; the exercises are: {', '.join(sorted(EXERCISES))}{missing}")
    ex = EXERCISES[name]
    if not callable(fn):
        return Verdict(False, tr("check.not_callable", name=name, signature=ex.signature, got=type(fn).__name__), name)
    cases = list(ex.cases())
    refs = [_run(ex.reference, c) for c in cases]

    outs, failures = [], []
    for case, ref in zip(cases, refs):
        try:
            out = _run(fn, case)
        except NotImplementedError:
            return Verdict(False, tr("check.not_implemented", name=name), name)
        except Exception as e:  # the student's own error, shown in one line with the case that caused it
            msg = str(e).strip().splitlines()[0] if str(e).strip() else ""
            return Verdict(False, tr("check.raised", name=name, error=type(e).__name__ + (": " + msg if msg else ""),
                                     case=case.shown_label(), signature=ex.signature), name)
        try:
            d = _compare(ex, out, ref)
        except _Problem as p:
            return Verdict(False, tr("check.problem", name=name, problem=p, case=case.shown_label()), name)
        outs.append(out)
        if d is not None:
            failures.append((case, d))

    if not failures:
        labels = ", ".join(c.shown_label() for c in cases)
        return Verdict(True, tr("check.ok", name=name, n=len(cases), labels=labels), name)

    first_case, (reason, _) = failures[0]
    where = tr("check.where", case=first_case.shown_label(), reason=reason)
    for m in ex.mistakes:
        if _agrees_with(ex, m, cases, outs):
            return Verdict(False, tr("check.mistake", name=name, label=m.label(), hint=m.hint(), where=where), name,
                           m.name)
    return Verdict(False, tr("check.differs", name=name, bad=len(failures), n=len(cases), where=where), name)


def _agrees_with(ex: Exercise, m: Mistake, cases, outs) -> bool:
    for case, out in zip(cases, outs):
        try:
            wrong = _run(m.fn, case)
            if _compare(ex, out, wrong) is not None:
                return False
        except Exception:
            return False
    return True


# --------------------------------------------------------------------------------------------- chapters

CHAPTERS = tuple(f"ch{n:02d}" for n in range(1, 10))
UNAVAILABLE: dict[str, str] = {}   # chapter -> the course-extra module it needs and this environment lacks
for _mod in CHAPTERS:
    try:
        importlib.import_module(f"{__name__}.{_mod}")
    except ModuleNotFoundError as _e:  # a chapter not written yet, or one that needs SymPy (the course extra)
        if _e.name == "sympy":
            UNAVAILABLE[_mod] = "sympy"
        elif _e.name != f"{__name__}.{_mod}":  # any other import error is a real bug
            raise
