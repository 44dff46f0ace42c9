"""The two install routes (pip via pyproject + lock, conda via environment.yml) must not drift apart."""
import re
import tomllib
from pathlib import Path

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
