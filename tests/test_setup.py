"""The two install routes (pip via pyproject + lock, conda via environment.yml) must not drift apart."""
import re
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CONDA_NAMES = {"pytorch-cpu": "torch"}


def _name(req: str) -> str:
    return re.split(r"[<>=!~\[ ;]", req.strip(), maxsplit=1)[0].lower().replace("_", "-")


def pyproject_packages() -> set[str]:
    meta = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    reqs = meta["dependencies"] + [r for group in meta["optional-dependencies"].values() for r in group]
    return {_name(r) for r in reqs}


def conda_packages() -> set[str]:
    names, in_deps = set(), False
    for line in (ROOT / "environment.yml").read_text().splitlines():
        if line.startswith("dependencies:"):
            in_deps = True
            continue
        m = re.match(r"^\s+- ([A-Za-z0-9_.\-]+)", line)
        if in_deps and m and not line.strip().endswith(":"):
            n = _name(m.group(1))
            names.add(CONDA_NAMES.get(n, n))
    return names - {"python", "pip"}


def test_environment_yml_matches_pyproject():
    py, conda = pyproject_packages(), conda_packages()
    assert py == conda, f"only in pyproject: {sorted(py - conda)}; only in environment.yml: {sorted(conda - py)}"


def test_lock_pins_every_dependency_and_torch_exactly():
    lock = {}
    for line in (ROOT / "requirements.lock").read_text().splitlines():
        if line and not line.startswith("#"):
            name, _, version = line.partition("==")
            lock[_name(name)] = version
    missing = pyproject_packages() - set(lock)
    assert not missing, f"requirements.lock lacks {sorted(missing)}"
    assert lock["torch"] == "2.13.0"
    assert '"torch==2.13.0"' in (ROOT / "Makefile").read_text()
    assert "pytorch-cpu=2.13.0" in (ROOT / "environment.yml").read_text()


def test_readme_leads_with_the_two_commands():
    text = (ROOT / "README.md").read_text()
    first_block = text.split("```")[1]
    assert "make lab" in first_block and "make test" in first_block
    assert "environment.yml" in text


def test_requires_python_is_true_and_make_says_so(tmp_path):
    """requires-python is what the lock needs (3.11+), and make refuses an older Python in one clear message."""
    import subprocess
    import sys
    meta = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert meta["requires-python"] == ">=3.11" and sys.version_info >= (3, 11)
    assert "sys.version_info >= (3, 11)" in (ROOT / "Makefile").read_text()
    fake = tmp_path / "python3.10"
    fake.write_text('#!/bin/sh\nif [ "$1" = "-V" ]; then echo "Python 3.10.12"; exit 0; fi\nexit 1\n')
    fake.chmod(0o755)
    p = subprocess.run(["make", "-C", str(ROOT), f"PYTHON={fake}", f"VENV={tmp_path / 'venv'}", "setup"],
                       capture_output=True, text=True, timeout=60)
    out = p.stdout + p.stderr
    assert p.returncode != 0
    assert "ddim-teach needs Python 3.11 or newer" in out and "Python 3.10.12" in out, out
    assert not (tmp_path / "venv").exists()


def test_dependencies_are_split():
    """The library needs torch, numpy, tqdm and matplotlib; the course stack is the `course` extra."""
    meta = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert sorted(_name(r) for r in meta["dependencies"]) == ["matplotlib", "numpy", "torch", "tqdm"]
    course = {_name(r) for r in meta["optional-dependencies"]["course"]}
    assert {"jupyterlab", "ipywidgets", "voila", "sympy", "ipykernel"} <= course
    make = (ROOT / "Makefile").read_text()
    assert '-e ".[course]"' in make and '-e ".[course,dev]"' in make
    assert "version" in meta.get("dynamic", []) and "version" not in meta
    assert meta["license"] == "MIT AND CC-BY-SA-3.0" and (ROOT / "LICENSE").is_file()
    assert set(meta["scripts"]) == {"ddim-teach-train", "ddim-teach-bench", "ddim-teach-pretrained"}


def test_markers_are_registered():
    ini = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["pytest"]["ini_options"]
    assert {m.split(":")[0] for m in ini["markers"]} >= {"slow", "notebook", "browser"}
    assert '-m "not slow and not notebook and not browser"' in (ROOT / "Makefile").read_text()


def _make_pip_line(*make_args) -> str:
    import subprocess
    out = subprocess.run(["make", "-n", "-B", ".venv/.installed-course", *make_args], cwd=ROOT, capture_output=True,
                         text=True, check=True).stdout
    return next(line for line in out.splitlines() if "pip install" in line)


def test_torch_cpu_index_only_on_linux_and_only_unless_cuda_is_asked_for():
    import platform
    line = _make_pip_line()
    cuda = _make_pip_line("TORCH=cuda")
    assert "download.pytorch.org" not in cuda                   # TORCH=cuda: pip's default build
    if platform.system() != "Linux":
        assert "download.pytorch.org" not in line


@pytest.mark.slow
def test_the_install_resolves_no_cuda_wheels(tmp_path):
    """The course install as `make lab` runs it, resolved (pip --dry-run --report): no nvidia-* package, a CPU torch."""
    import json
    import platform
    import shlex
    import subprocess
    cmd = shlex.split(_make_pip_line()) + ["--dry-run", "--ignore-installed", "--report", str(tmp_path / "r.json")]
    r = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr[-2000:]
    installs = {i["metadata"]["name"].lower(): i["metadata"]["version"]
                for i in json.loads((tmp_path / "r.json").read_text())["install"]}
    assert "torch" in installs and not [n for n in installs if n.startswith("nvidia")], sorted(installs)
    if platform.system() == "Linux" and platform.machine() == "x86_64":
        assert installs["torch"].endswith("+cpu"), installs["torch"]


def test_plain_pytest_runs_without_nbval():
    """Without the dev extra (here: nbval blocked), pytest accepts pyproject's nbval flags, runs the package tests and
    says in its header what to install for the notebooks."""
    import subprocess
    import sys
    r = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:nbval", "-p", "no:cacheprovider",
                        "tests/test_package_shape.py"], cwd=ROOT, capture_output=True, text=True)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    assert "nbval is not installed" in r.stdout and "pip install -e '.[dev]'" in r.stdout
