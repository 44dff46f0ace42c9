"""The catalogue of named mistakes: every wrong answer the course knows by name, once.

A mistake is a function that makes exactly one known error (it has the signature of the correct function it
imitates) under a name that is unique in the whole course. Its label (what went wrong) and hint (where to look)
are the strings ``mistake.<name>.label`` and ``mistake.<name>.hint`` of :data:`ddim_teach.i18n.STRINGS`, in
English and Chinese.

Two kinds of module register mistakes when they are imported:

* :mod:`ddim_teach.pitfalls`, the clinic's broken DDIM steps. Each has
  :func:`ddim_teach.samplers.ddim_step`'s signature and is registered with ``ddim_step=True``;
  :func:`ddim_teach.exercises.ch08.identify_step` (the answer of exercise 8.3) knows all of them (:func:`ddim_steps`).
* the chapters of :mod:`ddim_teach.exercises`, whose checker names a wrong answer after the first mistake
  of the exercise's list that it agrees with on every case. An exercise takes its mistakes from here, so a
  mistake that two exercises share is one entry with one text.

This module imports neither: ``import ddim_teach.pitfalls`` registers the broken DDIM steps, and
``import ddim_teach.exercises`` (which imports pitfalls first) registers them all.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Optional

from .i18n import tr

__all__ = ["Mistake", "REGISTRY", "register", "get", "ddim_steps"]


@dataclass(frozen=True, eq=False)
class Mistake:
    """A known wrong answer: ``fn`` makes exactly the mistake ``name``. ``ddim_step``: ``fn`` is a broken
    DDIM step, with :func:`ddim_teach.samplers.ddim_step`'s signature."""
    name: str
    fn: Callable
    ddim_step: bool = False

    def label(self, lang: Optional[str] = None) -> str:
        """What went wrong, in ``lang`` (default: the current language)."""
        return tr(f"mistake.{self.name}.label", lang)

    def hint(self, lang: Optional[str] = None) -> str:
        """Where to look, in ``lang`` (default: the current language)."""
        return tr(f"mistake.{self.name}.hint", lang)


REGISTRY: dict[str, Mistake] = {}


def register(name: str, fn: Callable, *, ddim_step: bool = False) -> Mistake:
    """Add the mistake ``name``, made by ``fn``, and return it.

    A name registered twice is an error, and so is a function registered twice: one function is one mistake,
    with one label and one hint (an exercise that shares it takes it with :func:`get`)."""
    if not name.isidentifier():
        raise ValueError(f"a mistake's name must be an identifier, got {name!r}")
    if name in REGISTRY:
        raise ValueError(f"a mistake named {name!r} is already registered")
    if not callable(fn):
        raise TypeError(f"mistake {name!r}: fn must be a function, got {type(fn).__name__}")
    for m in REGISTRY.values():
        if m.fn is fn:
            raise ValueError(f"{getattr(fn, '__name__', fn)!r} is already registered as the mistake {m.name!r}; "
                             f"use mistakes.get({m.name!r})")
    REGISTRY[name] = m = Mistake(name, fn, ddim_step)
    return m


def get(name: str) -> Mistake:
    """The registered mistake ``name``."""
    try:
        return REGISTRY[name]
    except KeyError:
        raise KeyError(f"no mistake named {name!r}; registered: {', '.join(sorted(REGISTRY))}") from None


def ddim_steps() -> list[Mistake]:
    """The catalogue of broken DDIM steps (the mistakes registered with ``ddim_step=True``), in the order
    they were registered."""
    return [m for m in REGISTRY.values() if m.ddim_step]
