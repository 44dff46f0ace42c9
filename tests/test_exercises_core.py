"""The exercise checker itself, on a toy exercise registered only for this test; the registry of named mistakes; and
what every registered exercise answers to a stub and to each of its mistakes."""
import re

import pytest
import torch

from ddim_teach import exercises, i18n, mistakes
from ddim_teach.exercises import Case, Exercise, Mistake, check


def _ref(x, a):
    return (x * a.sqrt(), x)


def _sq(x, a):  # the known mistake: a where sqrt(a) belongs
    return (x * a, x)


def _cases():
    g = torch.Generator().manual_seed(0)
    x64 = torch.randn(3, 2, dtype=torch.float64, generator=g)
    return [Case((x64, torch.tensor(0.25, dtype=torch.float64)), "float64, a = 0.25"),
            Case((x64.float(), torch.tensor(0.5, dtype=torch.float64)), "float32, a = 0.5"),
            Case((x64, torch.tensor(1.0, dtype=torch.float64)), "a = 1")]


_TOY_TEXT = {"mistake.toy_no_sqrt.label": {"en": "a missing square root", "zh": "漏了平方根"},
             "mistake.toy_no_sqrt.hint": {"en": "scale by the std, not the variance", "zh": "乘的是标准差，不是方差"}}


@pytest.fixture
def toy():
    i18n.STRINGS.update(_TOY_TEXT)
    m = mistakes.register("toy_no_sqrt", _sq)
    ex = exercises.register(Exercise("toy_scale", 0, "toy_scale(x, a) -> x * sqrt(a)", _ref, _cases, (m,),
                                     output="first"))
    yield ex
    del exercises.EXERCISES["toy_scale"], mistakes.REGISTRY["toy_no_sqrt"]
    for key in _TOY_TEXT:
        del i18n.STRINGS[key]


def test_a_right_answer_passes_as_a_tuple_or_a_tensor(toy):
    v = check("toy_scale", lambda x, a: (x * torch.sqrt(a), None))
    assert v.ok and v.message.startswith("✓ toy_scale: matches the reference on all 3 cases") and repr(v) == v.message
    assert check("toy_scale", lambda x, a: x * a.sqrt()).ok  # x_prev alone is fine


def test_named_mistake(toy):
    v = check("toy_scale", lambda x, a: x * a)
    assert not v.ok and v.mistake == "toy_no_sqrt"
    assert '"a missing square root"' in v.message and "Hint: scale by the std" in v.message
    assert 'largest difference: case "float64, a = 0.25"' in v.message


def test_unknown_wrong_answer_says_how_much(toy):
    v = check("toy_scale", lambda x, a: x * a.sqrt() + 0.5)
    assert not v.ok and v.mistake is None
    assert "differs from the reference on 3 of 3 cases" in v.message and "max |difference| 0.5" in v.message


def test_stub_none_shape_dtype_type_and_exception_get_one_line(toy):
    def stub(x, a):
        raise NotImplementedError("write it")
    assert check("toy_scale", stub).message.startswith("✗ toy_scale: not implemented yet")
    assert "did you forget `return`" in check("toy_scale", lambda x, a: None).message
    assert "returned shape (3,)" in check("toy_scale", lambda x, a: x[:, 0]).message
    assert "returned dtype torch.float32" in check("toy_scale", lambda x, a: (x * a.sqrt()).float()).message
    assert "expected a torch.Tensor" in check("toy_scale", lambda x, a: 1.0).message
    m = check("toy_scale", lambda x, a: x @ x).message
    assert m.startswith("✗ toy_scale raised RuntimeError") and "\n" not in m
    for v in (check("toy_scale", stub), check("toy_scale", lambda x, a: None)):
        assert not v.ok and "\n" not in v.message


def test_an_answer_that_changes_its_input_in_place_is_named_and_spoils_nothing(toy):
    def in_place(x, a):               # the right value, but the caller's x is changed
        return x.mul_(a.sqrt())
    v = check("toy_scale", in_place)
    assert not v.ok and v.mistake == "changed_input_in_place" and "`x`" in v.message
    cases = _cases()
    before = [c.args[0].clone() for c in cases]
    assert check("toy_scale", lambda x, a: x * a.sqrt()).ok      # the same answer without the in-place write passes
    assert all(torch.equal(b, c.args[0]) for b, c in zip(before, _cases()))


def test_partial_match_names_the_mistake_on_the_failing_cases(toy):
    def partly(x, a):                  # a missing square root, but only for float32 inputs
        return x * a if x.dtype == torch.float32 else x * a.sqrt()
    v = check("toy_scale", partly)
    assert not v.ok and v.mistake == "toy_no_sqrt" and "behaves like" in v.message and "float32" in v.message


def test_a_helper_left_unwritten_is_named_with_its_own_message(toy):
    def helper(a):
        raise NotImplementedError("write the square root")

    def answer(x, a):
        return x * helper(a)
    v = check("toy_scale", answer)
    assert not v.ok and "helper" in v.message and "write the square root" in v.message


def test_an_error_says_where_it_was_raised(toy):
    def answer(x, a):
        return x @ a                   # a matmul of a batch with a 0-dim tensor raises inside torch
    v = check("toy_scale", answer)
    assert not v.ok and "in your answer, line" in v.message


def test_a_slow_answer_is_stopped(toy, monkeypatch):
    import time as _time
    monkeypatch.setattr(exercises, "TIME_LIMIT_S", 0.2)

    def slow(x, a):
        _time.sleep(5)
        return x * a.sqrt()
    t0 = _time.perf_counter()
    v = check("toy_scale", slow)
    assert not v.ok and "was stopped" in v.message and _time.perf_counter() - t0 < 3
    assert check("toy_scale", lambda x, a: x * a.sqrt()).ok     # and the checker still works afterwards


def test_unknown_name_and_duplicate_registration(toy):
    with pytest.raises(ValueError, match="no exercise named 'nope'"):
        check("nope", _ref)
    with pytest.raises(ValueError, match="already registered"):
        exercises.register(Exercise("toy_scale", 0, "", _ref, _cases))
    with pytest.raises(ValueError, match="not a registered mistake"):
        exercises.register(Exercise("toy_other", 0, "", _ref, _cases, (Mistake("toy_no_sqrt", _sq),)))
    assert "toy_other" not in exercises.EXERCISES


def test_chinese_verdicts_use_the_chinese_labels(toy):
    v = check("toy_scale", lambda x, a: x * a, lang="zh")
    assert v.mistake == "toy_no_sqrt" and "漏了平方根" in v.message and "乘的是标准差" in v.message
    assert "a missing square root" in check("toy_scale", lambda x, a: x * a, lang="en").message
    assert "尚未实现" in check("toy_scale", lambda x, a: (_ for _ in ()).throw(NotImplementedError), lang="zh").message


# --------------------------------------------------------------------------------------------- every exercise

def test_every_exercise_answers_a_stub_and_a_missing_return_in_one_line():
    def stub(*args, **kwargs):
        raise NotImplementedError("write it")

    for name in exercises.EXERCISES:
        v = check(name, stub)
        assert not v.ok and v.message.startswith(f"✗ {name}: not implemented yet") and "\n" not in v.message, v.message
        v = check(name, lambda *a, **k: None)
        assert not v.ok and "did you forget `return`" in v.message and "\n" not in v.message, v.message


def test_every_mistake_of_an_exercise_is_wrong_and_named_as_itself():
    """No mistake of an exercise agrees with the reference, and none is hidden behind an earlier one of the list."""
    for name, ex in exercises.EXERCISES.items():
        for m in ex.mistakes:
            v = check(name, m.fn)
            assert not v.ok and v.mistake == m.name, (name, m.name, v.message)


# --------------------------------------------------------------------------------------------- the registry

def test_a_mistake_has_one_name_and_a_function_is_one_mistake():
    registered = list(mistakes.REGISTRY.values())
    assert len({m.name for m in registered}) == len(registered)
    assert len({id(m.fn) for m in registered}) == len(registered)   # the same function: one mistake, one label
    for ex in exercises.EXERCISES.values():
        for m in ex.mistakes:
            assert mistakes.get(m.name) is m, (ex.name, m.name)
    first = registered[0]
    with pytest.raises(ValueError, match="already registered"):
        mistakes.register(first.name, lambda *a: None)
    with pytest.raises(ValueError, match=f"already registered as the mistake '{first.name}'"):
        mistakes.register("a_new_name", first.fn)
    assert "a_new_name" not in mistakes.REGISTRY
    with pytest.raises(KeyError, match="no mistake named 'nope'"):
        mistakes.get("nope")


def test_every_mistake_has_a_label_and_a_hint_in_english_and_chinese():
    chinese = re.compile("[\u4e00-\u9fff]")
    for name, m in mistakes.REGISTRY.items():
        for part in ("label", "hint"):
            entry = i18n.STRINGS[f"mistake.{name}.{part}"]
            assert set(entry) == {"en", "zh"}, (name, part)
            assert entry["en"].strip() and not chinese.search(entry["en"]), (name, part)
            assert chinese.search(entry["zh"]), (name, part)
        assert m.label("en") == i18n.STRINGS[f"mistake.{name}.label"]["en"]
        with i18n.using("zh"):
            assert m.hint() == i18n.STRINGS[f"mistake.{name}.hint"]["zh"]
    texts = {key.split(".")[1] for key in i18n.STRINGS if key.startswith("mistake.")}
    assert texts == set(mistakes.REGISTRY), "i18n strings of mistakes that are not registered, or the reverse"


def test_the_checker_imports_without_sympy_and_says_what_is_missing():
    """SymPy belongs to the course extra; a bare install of the library still imports the checker, and asking for a
    chapter-3 exercise says what to install."""
    import subprocess
    import sys
    code = ("import sys; sys.modules['sympy'] = None\n"
            "from ddim_teach import exercises\n"
            "assert 'ddim_step' in exercises.EXERCISES and 'ddim_coefficients' not in exercises.EXERCISES\n"
            "try:\n    exercises.check('ddim_coefficients', print)\nexcept ValueError as e:\n    print(e)\n")
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    assert "chapter 3's exercises need sympy, which is not installed (pip install -e '.[course]')" in p.stdout


def test_a_difference_at_float32_rounding_level_is_called_so():
    ex = exercises.register(Exercise(
        "toy_copy", 0, "toy_copy(x) -> x", lambda x: x.clone(),
        lambda: [Case((torch.tensor([1.0, 0.0, -2.0], dtype=torch.float64),), "three values")]))
    try:
        v = check("toy_copy", lambda x: x + torch.tensor([0.0, 1.5e-6, 0.0], dtype=torch.float64))
        assert not v.ok and "rounding level" in v.message
        v = check("toy_copy", lambda x: x + torch.tensor([0.0, 0.5, 0.0], dtype=torch.float64))
        assert not v.ok and "rounding level" not in v.message and "got 0.5, expected 0" in v.message
    finally:
        del exercises.EXERCISES[ex.name]


@pytest.mark.parametrize("name", sorted(exercises.EXERCISES))
def test_mistakes_that_compute_the_same_function_share_a_label(name):
    """Two of an exercise's mistakes that agree on every case are one mistake to the student: one label. And no
    mistake may agree with the reference on every case (the checker could never name it)."""
    from ddim_teach.exercises import _compare, _run
    ex = exercises.EXERCISES[name]
    cases = list(ex.cases())
    refs = [_run(ex.reference, c) for c in cases]
    outs = {m.name: [_run(m.fn, c) for c in cases] for m in ex.mistakes}

    def same(a, b):
        try:
            return all(_compare(ex, x, y) is None for x, y in zip(a, b))
        except Exception:
            return False
    for i, a in enumerate(ex.mistakes):
        assert not same(outs[a.name], refs), f"{name}: the mistake {a.name} agrees with the reference on every case"
        for b in ex.mistakes[i + 1:]:
            if same(outs[a.name], outs[b.name]):
                assert a.label() == b.label(), f"{name}: {a.name} and {b.name} compute the same thing, two labels"
