"""ruff's check runs on the package, the tests, the scripts and the notebooks (settings in pyproject.toml)."""
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_ruff_check_is_clean():
    ruff = Path(sys.executable).parent / "ruff"
    if not ruff.exists() and not shutil.which("ruff"):
        pytest.skip("ruff is not installed (it is in the dev extra)")
    r = subprocess.run([str(ruff) if ruff.exists() else "ruff", "check", "--no-cache", "ddim_teach", "tests", "scripts",
                        "notebooks"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stdout[-4000:] + r.stderr[-2000:]
