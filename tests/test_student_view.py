"""`make lab` gives the student's view: nbgrader, installed for the tests and for instructors, shows no menu, panel or
server extension there (jupyter-config/student/, which the Makefile puts on JUPYTER_CONFIG_PATH for lab and lecture)."""
import json
import os
import re
import secrets
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def _make_n(target: str) -> str:
    return subprocess.run(["make", "-n", target], cwd=ROOT, capture_output=True, text=True, check=True).stdout


@pytest.mark.parametrize("target, program", [("lab", "jupyter lab"), ("lecture", "voila")])
def test_make_lab_and_lecture_run_with_the_student_config(target, program):
    line = next(l for l in _make_n(target).splitlines() if program in l)
    m = re.match(r"JUPYTER_CONFIG_PATH=(\S+?)\$\{JUPYTER_CONFIG_PATH:\+:\$JUPYTER_CONFIG_PATH\} ", line)
    assert m and Path(m.group(1)) == ROOT / "jupyter-config" / "student", line


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.slow
def test_the_student_lab_has_no_grader_tools(tmp_path):
    pytest.importorskip("nbgrader")   # where nbgrader is not installed there is nothing to hide
    port, token = _free_port(), secrets.token_hex(16)
    env = {**os.environ, "JUPYTER_CONFIG_PATH": str(ROOT / "jupyter-config" / "student")}
    log = tmp_path / "lab.log"
    proc = subprocess.Popen([str(BIN / "jupyter"), "lab", "--no-browser", "--allow-root", "--ip=127.0.0.1",
                             f"--port={port}", f"--ServerApp.token={token}", "--ServerApp.password=",
                             f"--ServerApp.root_dir={tmp_path}", f"--LabApp.user_settings_dir={tmp_path}",
                             f"--LabApp.workspaces_dir={tmp_path}"],
                            stdout=log.open("w"), stderr=subprocess.STDOUT, env=env)
    try:
        deadline = time.time() + 60
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/api/status?token={token}", timeout=2)
                break
            except OSError:
                assert proc.poll() is None and time.time() < deadline, log.read_text()[-2000:]
                time.sleep(0.5)
        with pytest.raises(urllib.error.HTTPError, match="404"):           # the formgrader server extension is off
            urllib.request.urlopen(f"http://127.0.0.1:{port}/formgrader?token={token}", timeout=10)
        page = urllib.request.urlopen(f"http://127.0.0.1:{port}/lab?token={token}", timeout=10).read().decode()
        config = json.loads(re.search(r'<script id="jupyter-config-data" type="application/json">(.*?)</script>',
                                      page, re.S).group(1))
        assert "@jupyter/nbgrader" in config["disabledExtensions"], config["disabledExtensions"]
    finally:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()


def _run_make_student(out: Path):
    return subprocess.run([sys.executable, str(ROOT / "scripts" / "make_student.py"), "--out", str(out)],
                          capture_output=True, text=True)


def test_make_student_writes_each_exercise_once_without_solutions(tmp_path):
    from ddim_teach.exercises import EXERCISES
    out = tmp_path / "release"
    r = _run_make_student(out)
    assert r.returncode == 0, r.stderr
    for lang in ("notebooks", "notebooks/zh"):
        stubs = {}
        for p in sorted((out / lang).glob("*.ipynb")):
            cells = json.loads(p.read_text(encoding="utf-8"))["cells"]
            text = "".join("".join(c["source"]) for c in cells)
            assert "BEGIN SOLUTION" not in text and not re.search(r"def \w+_solution\(", text), \
                f"{lang}/{p.name} still has a solution"
            for i, c in enumerate(cells):
                src = "".join(c["source"])
                m = re.search(r"^def (\w+)\(", src, re.M)
                if c["cell_type"] == "code" and m and "raise NotImplementedError" in src:
                    stubs[m.group(1)] = stubs.get(m.group(1), 0) + 1
                    nxt = next(d for d in cells[i + 1:] if d["cell_type"] == "code")
                    assert f'exercises.check("{m.group(1)}", {m.group(1)})' in "".join(nxt["source"])
        assert stubs == {name: 1 for name in EXERCISES}, (lang, stubs)
    assert (out / "docs" / "RESULTS.md").exists() and (out / "notebooks" / "figures").is_dir()
    # run again: a release is replaced; a folder that is not one is refused
    assert _run_make_student(out).returncode == 0
    other = tmp_path / "mine"
    other.mkdir()
    (other / "notes.txt").write_text("my notes")
    r = _run_make_student(other)
    assert r.returncode != 0 and "not a student release" in r.stderr and (other / "notes.txt").exists()


@pytest.mark.slow
def test_a_release_notebook_runs_with_its_stubs(tmp_path):
    out = tmp_path / "release"
    assert _run_make_student(out).returncode == 0
    r = subprocess.run([str(BIN / "jupyter"), "nbconvert", "--to", "notebook", "--execute", "--output",
                        str(tmp_path / "run.ipynb"), "06_ode_view.ipynb"], cwd=out / "notebooks",
                       capture_output=True, text=True, env={**os.environ, "OMP_NUM_THREADS": "2"})
    assert r.returncode == 0, r.stderr[-2000:]
    cells = json.loads((tmp_path / "run.ipynb").read_text())["cells"]
    verdicts = [o.get("data", {}).get("text/plain", "") for c in cells for o in c.get("outputs", [])
                if "exercises.check(" in "".join(c["source"])]
    assert verdicts and all("not implemented yet" in "".join(v) for v in verdicts), verdicts


def test_the_release_index_says_it_is_the_student_release(tmp_path):
    out = tmp_path / "release"
    r = _run_make_student(out)
    from ddim_teach.exercises import EXERCISES
    n = 2 * len(EXERCISES)                     # one solution cell per exercise, in each language
    assert r.returncode == 0 and f"{n} solution cells removed" in r.stdout, r.stdout
    for lang, word in (("notebooks", "Student release"), ("notebooks/zh", "学生版")):
        first = json.loads((out / lang / "00_index.ipynb").read_text(encoding="utf-8"))["cells"][0]
        assert word in "".join(first["source"])
