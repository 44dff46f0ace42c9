"""Every chapter has at least 3 exercises the student writes: a stub, a check, a folded solution that nbgrader can strip."""
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from ddim_teach import exercises

NB_DIR = Path(__file__).resolve().parents[1] / "notebooks"
CHAPTERS = sorted(p for p in (p for p in NB_DIR.glob("[01][0-9]_*.ipynb") if p.name[:2] != "00"))
CHECK = re.compile(r"""exercises\.check\(\s*["'](\w+)["']\s*,\s*(\w+)\s*\)""")


def _src(c) -> str:
    return "".join(c["source"])


def _text(c) -> str:
    out = []
    for o in c.get("outputs", []):
        if "text" in o:
            out.append("".join(o["text"]))
        out.append("".join(o.get("data", {}).get("text/plain", "")))
    return "".join(out)


def student_exercises(path: Path) -> list[dict]:
    """[{name, stub, check, solution}] found in a notebook: stub cell, check cell right after it, solution cell after that."""
    cells = json.loads(path.read_text())["cells"]
    found = []
    for i, c in enumerate(cells):
        if c["cell_type"] != "code" or "raise NotImplementedError" not in _src(c):
            continue
        m = re.search(r"^def (\w+)\(", _src(c), re.M)
        if not m or "BEGIN SOLUTION" in _src(c):
            continue
        name = m.group(1)
        nxt = [k for k in range(i + 1, len(cells)) if cells[k]["cell_type"] == "code"][:2]
        check = cells[nxt[0]] if nxt else None
        sol = cells[nxt[1]] if len(nxt) > 1 else None
        found.append({"name": name, "stub": c, "check": check, "solution": sol})
    return found


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_chapter_has_three_student_exercises_each_with_check_and_solution(path):
    chapter = int(path.name[:2])
    found = student_exercises(path)
    assert len(found) >= 3, f"{path.name} has {len(found)} student exercises (a stub cell raising NotImplementedError); at least 3"
    for ex in found:
        name = ex["name"]
        assert name in exercises.EXERCISES, f"{path.name}: no registered exercise {name!r}"
        assert exercises.EXERCISES[name].chapter == chapter, f"{name} is registered for another chapter"
        chk = ex["check"]
        assert chk is not None and CHECK.search(_src(chk)) and CHECK.search(_src(chk)).groups() == (name, name), \
            f"{path.name}: the cell after the {name} stub must run exercises.check({name!r}, {name})"
        assert "NBVAL_CHECK_OUTPUT" in _src(chk)
        assert "not implemented yet" in _text(chk), f"{path.name}: the stored check of the {name} stub is not the stub verdict"
        sol = ex["solution"]
        assert sol is not None, f"{path.name}: {name} has no solution cell"
        s = _src(sol)
        assert "### BEGIN SOLUTION" in s and "### END SOLUTION" in s, f"{path.name}: {name}'s solution is not marked"
        assert sol["metadata"].get("jupyter", {}).get("source_hidden") is True, f"{path.name}: {name}'s solution is not folded"
        assert sol["metadata"].get("nbgrader", {}).get("solution") is True, f"{path.name}: {name}'s solution lacks nbgrader metadata"
        m = CHECK.search(s)
        assert m and m.group(1) == name and m.group(2) != name, \
            f"{path.name}: the solution must check {name}_solution without overwriting the student's {name}"
        assert _text(sol).lstrip().startswith("✓"), f"{path.name}: the stored solution check of {name} is not ✓"


def test_every_registered_exercise_appears_in_its_chapter():
    in_notebooks = {ex["name"] for p in CHAPTERS for ex in student_exercises(p)}
    missing = sorted(set(exercises.EXERCISES) - in_notebooks)
    assert not missing, f"registered but in no notebook: {missing}"


def test_nbgrader_generates_a_student_version_without_solutions(tmp_path):
    """nbgrader's generate step strips every solution; the stub, the checks and the prose stay."""
    nbgrader = Path(sys.executable).parent / "nbgrader"
    if not nbgrader.exists():
        pytest.skip("nbgrader is not installed (it is in the dev extra)")
    path = next(p for p in CHAPTERS if p.name.startswith("04_"))
    src = tmp_path / "source" / "ch04"
    src.mkdir(parents=True)
    shutil.copy(path, src / path.name)
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}")
    r = subprocess.run([str(nbgrader), "generate_assignment", "ch04", f"--CourseDirectory.root={tmp_path}", "--force"],
                       cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    out = json.loads((tmp_path / "release" / "ch04" / path.name).read_text())
    code = [_src(c) for c in out["cells"] if c["cell_type"] == "code"]
    assert not any("BEGIN SOLUTION" in s for s in code)
    orig = student_exercises(path)
    for ex in orig:
        sol_body = _src(ex["solution"]).split("### BEGIN SOLUTION")[1].split("### END SOLUTION")[0].strip()
        assert not any(sol_body in s for s in code), f"{ex['name']}'s solution survived nbgrader"
        assert any(f"exercises.check(\"{ex['name']}\", {ex['name']})" in s.replace("'", '"') for s in code)
    assert sum("raise NotImplementedError()" in s for s in code) >= len(orig)
    assert all(not c.get("outputs") for c in out["cells"] if c["cell_type"] == "code")
