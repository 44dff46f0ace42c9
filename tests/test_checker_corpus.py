"""The checker against students' answers written without its mistake lists (tests/student_corpus*.py).

Each corpus was written from the exercise statements only: a correct answer in the writer's own style and three
plausible wrong ones per exercise. Corpus A was used while the mistake lists were extended (a development set);
corpus B was written afterwards, by another writer, and held out. Here: no correct answer is rejected, no wrong
answer is accepted, at least 80 % of the wrong answers are named (a mistake on every case, or a partial match on the
failing cases). The shares are recorded in docs/RESULTS.md by scripts/checker_corpus.py.
"""
import importlib

import pytest

from ddim_teach.exercises import check

CORPORA = ["student_corpus", "student_corpus_b"]


def _corpus(name):
    try:
        return importlib.import_module(name).CORPUS
    except ModuleNotFoundError:
        pytest.fail(f"tests/{name}.py is missing")


@pytest.fixture(scope="module", params=CORPORA)
def verdicts(request):
    return request.param, [(a, check(a.exercise, a.fn, lang="en")) for a in _corpus(request.param)]


def test_no_correct_answer_is_rejected(verdicts):
    name, rows = verdicts
    rejected = [(a.fn.__name__, v.message) for a, v in rows if a.kind == "correct" and not v.ok]
    assert not rejected, rejected


def test_no_wrong_answer_is_accepted(verdicts):
    name, rows = verdicts
    accepted = [a.fn.__name__ for a, v in rows if a.kind == "wrong" and v.ok]
    assert not accepted, accepted


def test_most_wrong_answers_are_named(verdicts):
    name, rows = verdicts
    wrong = [(a, v) for a, v in rows if a.kind == "wrong"]
    named = [a for a, v in wrong if v.mistake is not None]
    assert len(named) >= 0.8 * len(wrong), f"{name}: {len(named)} of {len(wrong)} wrong answers named"


def test_every_exercise_has_its_answers():
    from ddim_teach.exercises import EXERCISES
    for name in CORPORA:
        kinds = {(a.exercise, a.kind) for a in _corpus(name)}
        for ex in EXERCISES:
            assert (ex, "correct") in kinds and (ex, "wrong") in kinds, f"{name} lacks answers to {ex}"
