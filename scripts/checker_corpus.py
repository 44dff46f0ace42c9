"""Run the exercise checker on the student corpus (tests/student_corpus.py) and sort the verdicts.

    .venv/bin/python scripts/checker_corpus.py [--corpus student_corpus_b]   # the shares (docs/RESULTS.md records them)
    .venv/bin/python scripts/checker_corpus.py --verbose                      # also every verdict

Both corpora were written from the exercise statements only, without the checker's mistake lists (tests/
test_checker_corpus.py says how they were used). The classes of a wrong answer's verdict are :func:`classify`'s.
Whether a named mistake is the student's real bug is a matter of reading the writer's description next to the
label (``--verbose``); docs/RESULTS.md gives that reading.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))


CLASSES = ("named", "slip named", "helped", "generic", "accepted")


def classify(v) -> str:
    """named: a catalogued mistake (on every case, or a partial match); slip named: the verdict states the slip itself
    (an input changed in place, a wrong dtype); helped: it says what the code did (raised, with where; None; a
    shape); generic: only "differs from the reference"; accepted: a wrong answer passed."""
    if v.ok:
        return "accepted"
    if v.mistake == "changed_input_in_place" or "returned dtype" in v.message or "返回的 dtype" in v.message:
        return "slip named"
    if v.mistake is not None:
        return "named"
    if "differs from the reference" in v.message:
        return "generic"
    return "helped"


def run(verbose=False, corpus="student_corpus"):
    import importlib
    from ddim_teach.exercises import check
    rows = []
    for a in importlib.import_module(corpus).CORPUS:
        v = check(a.exercise, a.fn, lang="en")
        rows.append((a, v, classify(v)))
        if verbose:
            print(f"[{a.kind}] {a.exercise} / {a.fn.__name__}: {a.bug}\n    -> {v.message}\n")
    return rows


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--verbose", action="store_true")
    p.add_argument("--json", help="write every verdict to this file")
    p.add_argument("--corpus", default="student_corpus", choices=["student_corpus", "student_corpus_b"])
    a = p.parse_args(argv)
    rows = run(a.verbose, a.corpus)
    right = [r for r in rows if r[0].kind == "correct"]
    wrong = [r for r in rows if r[0].kind == "wrong"]
    rejected = [r for r in right if not r[1].ok]
    counts = {k: sum(1 for r in wrong if r[2] == k) for k in CLASSES}
    n = len(wrong)
    print(f"correct answers: {len(right)}, rejected: {len(rejected)}")
    for r in rejected:
        print(f"  rejected: {r[0].exercise} / {r[0].fn.__name__}: {r[1].message}")
    print(f"wrong answers: {n}")
    for k, c in counts.items():
        print(f"  {k:10s} {c:3d}  ({100 * c / n:.0f} %)")
    for r in [r for r in wrong if r[2] in ("accepted",)]:
        print(f"  {r[2]}: {r[0].exercise} / {r[0].fn.__name__}: {r[0].bug}")
    if a.json:
        Path(a.json).write_text(json.dumps([{"exercise": r[0].exercise, "fn": r[0].fn.__name__, "kind": r[0].kind,
                                             "bug": r[0].bug, "class": r[2], "verdict": r[1].message}
                                            for r in rows], ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
