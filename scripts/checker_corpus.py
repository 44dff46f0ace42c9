"""Run the exercise checker on the student corpus (tests/student_corpus.py) and sort the verdicts.

    .venv/bin/python scripts/checker_corpus.py            # the table and the shares (docs/RESULTS.md records them)
    .venv/bin/python scripts/checker_corpus.py --verbose  # also every verdict

The corpus was written from the exercise statements only, without the checker's mistake lists. A wrong answer's
verdict is *named* when it names a mistake (on every case, or a partial match on the failing cases), *helped* when it
names no mistake but says what the student's code did (changed an input in place, raised with its origin, a wrong
shape, dtype or None), *generic* otherwise ("differs from the reference"). Whether a named mistake is the student's
real bug is judged by reading: scripts/checker_corpus_judged.json records that reading for every named verdict.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))


def classify(v) -> str:
    if v.ok:
        return "accepted"
    if v.mistake == "changed_input_in_place":
        return "helped"
    if v.mistake is not None:
        return "named"
    text = v.message
    if "differs from the reference" in text:
        return "generic"
    return "helped"    # raised (with its origin), not implemented in a helper, None, shape, dtype, time limit


def run(verbose=False):
    import student_corpus
    from ddim_teach.exercises import check
    rows = []
    for a in student_corpus.CORPUS:
        v = check(a.exercise, a.fn, lang="en")
        rows.append((a, v, classify(v)))
        if verbose:
            print(f"[{a.kind}] {a.exercise} / {a.fn.__name__}: {a.bug}\n    -> {v.message}\n")
    return rows


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--verbose", action="store_true")
    p.add_argument("--json", help="write every verdict to this file")
    a = p.parse_args(argv)
    rows = run(a.verbose)
    right = [r for r in rows if r[0].kind == "correct"]
    wrong = [r for r in rows if r[0].kind == "wrong"]
    judged_path = ROOT / "scripts" / "checker_corpus_judged.json"
    judged = json.loads(judged_path.read_text()) if judged_path.exists() else {}
    rejected = [r for r in right if not r[1].ok]
    counts = {k: sum(1 for r in wrong if r[2] == k) for k in ("named", "helped", "generic", "accepted")}
    misnamed = [r for r in wrong if r[2] == "named" and judged.get(r[0].fn.__name__) == "wrong name"]
    unjudged = [r for r in wrong if r[2] == "named" and r[0].fn.__name__ not in judged]
    n = len(wrong)
    print(f"correct answers: {len(right)}, rejected: {len(rejected)}")
    for r in rejected:
        print(f"  rejected: {r[0].exercise} / {r[0].fn.__name__}: {r[1].message}")
    print(f"wrong answers: {n}")
    for k, c in counts.items():
        print(f"  {k:9s} {c:3d}  ({100 * c / n:.0f} %)")
    print(f"  of the named, judged as the wrong mistake: {len(misnamed)}; not yet judged: {len(unjudged)}")
    for r in [r for r in wrong if r[2] in ("accepted",)] + misnamed:
        print(f"  {r[2]}: {r[0].exercise} / {r[0].fn.__name__}: {r[0].bug}")
    if a.json:
        Path(a.json).write_text(json.dumps([{"exercise": r[0].exercise, "fn": r[0].fn.__name__, "kind": r[0].kind,
                                             "bug": r[0].bug, "class": r[2], "verdict": r[1].message}
                                            for r in rows], ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
