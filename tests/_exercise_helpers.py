"""What the chapters' exercise tests share: `named`, the mistake that the checker names a wrong answer after."""
from ddim_teach.exercises import check


def named(name: str, fn):
    """The name of the known mistake that ``fn``'s wrong answer is named as (None: wrong, but not a known mistake)."""
    v = check(name, fn)
    assert not v.ok, f"{name}: a wrong answer passed"
    return v.mistake
