"""The exercise checker itself, on a toy exercise registered only for this test."""
import pytest
import torch

from ddim_teach import exercises
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


@pytest.fixture
def toy():
    ex = exercises.register(Exercise("toy_scale", 0, "toy_scale(x, a) -> x * sqrt(a)", _ref, _cases,
                                     (Mistake("no_sqrt", "a missing square root", "scale by the std, not the variance",
                                              _sq),), output="first"))
    yield ex
    del exercises.EXERCISES["toy_scale"]


def test_reference_passes_and_tuple_or_tensor_both_accepted(toy):
    v = check("toy_scale", _ref)
    assert v.ok and v.message.startswith("✓ toy_scale: matches the reference on all 3 cases") and repr(v) == v.message
    assert check("toy_scale", lambda x, a: x * a.sqrt()).ok  # x_prev alone is fine


def test_named_mistake(toy):
    v = check("toy_scale", lambda x, a: x * a)
    assert not v.ok and v.mistake == "no_sqrt"
    assert '"a missing square root"' in v.message and "Hint: scale by the std" in v.message
    assert 'first difference: case "float64, a = 0.25"' in v.message


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


def test_in_place_student_cannot_spoil_the_reference(toy):
    def in_place(x, a):
        return x.mul_(a.sqrt())
    assert check("toy_scale", in_place).ok


def test_unknown_name_and_duplicate_registration(toy):
    with pytest.raises(ValueError, match="no exercise named 'nope'"):
        check("nope", _ref)
    with pytest.raises(ValueError, match="already registered"):
        exercises.register(Exercise("toy_scale", 0, "", _ref, _cases))


def test_every_registered_exercise_passes_its_reference_and_answers_a_stub():
    assert exercises.EXERCISES, "no chapter registered any exercise"

    def stub(*a, **k):
        raise NotImplementedError
    for name, ex in exercises.EXERCISES.items():
        assert check(name, ex.reference).ok, check(name, ex.reference).message
        assert "not implemented yet" in check(name, stub).message
        for m in ex.mistakes:  # every catalogued mistake differs from the reference, and is named as itself
            v = check(name, m.fn)
            assert not v.ok and v.mistake == m.key, (name, m.key, v.message)


def test_chinese_verdicts_use_the_chinese_labels(toy):
    m = toy.mistakes[0]
    m.label_zh, m.hint_zh = "漏了平方根", "乘的是标准差，不是方差"
    v = check("toy_scale", lambda x, a: x * a, lang="zh")
    assert v.mistake == "no_sqrt" and "漏了平方根" in v.message and "乘的是标准差" in v.message
    assert "a missing square root" in check("toy_scale", lambda x, a: x * a, lang="en").message
    assert "尚未实现" in check("toy_scale", lambda x, a: (_ for _ in ()).throw(NotImplementedError), lang="zh").message
