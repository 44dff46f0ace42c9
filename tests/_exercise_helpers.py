"""What the chapters' exercise tests share: the reference passes, a stub and a missing `return` get one clear line,
and `named` for a wrong answer's mistake key."""
from ddim_teach.exercises import EXERCISES, check


def stub(*args, **kwargs):
    raise NotImplementedError("write it")


def assert_reference_passes_and_stub_is_friendly(name: str, chapter: int):
    ex = EXERCISES[name]
    assert ex.chapter == chapter
    v = check(name, ex.reference)
    assert v.ok and v.message.startswith(f"✓ {name}: matches the reference on all"), v.message
    v = check(name, stub)
    assert not v.ok and v.message.startswith(f"✗ {name}: not implemented yet") and "\n" not in v.message, v.message
    assert "did you forget `return`" in check(name, lambda *a, **k: None).message


def named(name: str, fn):
    """The key of the known mistake that ``fn``'s wrong answer is named as (None: wrong, but not a known mistake)."""
    v = check(name, fn)
    assert not v.ok, f"{name}: a wrong answer passed"
    return v.mistake
