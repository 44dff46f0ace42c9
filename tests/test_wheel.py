"""The package as a user gets it: a built wheel, installed (not editable) into a fresh venv.

Offline and quick: the wheel is built without build isolation (the venv's setuptools), installed with
``--no-deps`` into a venv without site packages, which borrows the existing torch, numpy, tqdm and
matplotlib through a one-line ``.pth`` path (no ``.pth`` of that folder runs, so the editable
ddim_teach stays invisible). The test then loads the pretrained model, the classifier and the bundled
digits from the installed copy, and runs the console scripts.
"""
import json
import shutil
import subprocess
import sys
import sysconfig
import venv
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    d = tmp_path_factory.mktemp("wheel")
    src = d / "src"
    src.mkdir()
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy(ROOT / name, src / name)
    shutil.copytree(ROOT / "ddim_teach", src / "ddim_teach", ignore=shutil.ignore_patterns("__pycache__"))
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--quiet",
                    "--disable-pip-version-check", "-w", str(d / "dist"), str(src)], check=True, timeout=600)
    wheel = next((d / "dist").glob("ddim_teach-*.whl"))
    env_dir = d / "venv"
    venv.create(env_dir, with_pip=False)
    py = env_dir / "bin" / "python"
    subprocess.run([sys.executable, "-m", "pip", "--python", str(py), "install", "--no-deps", "--no-index",
                    "--quiet", "--disable-pip-version-check", str(wheel)], check=True, timeout=600)
    site = subprocess.run([str(py), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                          capture_output=True, text=True, check=True).stdout.strip()
    (Path(site) / "borrowed_deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    return wheel, env_dir, py


def _run(cmd, cwd, **kw):
    env = {"PATH": "/usr/bin:/bin", "HOME": str(cwd), "OMP_NUM_THREADS": "1", "DDIM_TEACH_DATA": str(cwd / "empty")}
    return subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=600, **kw)


def test_wheel_holds_the_assets_and_the_licence(installed):
    wheel, _, _ = installed
    names = zipfile.ZipFile(wheel).namelist()
    for needed in ("ddim_teach/assets/mnist_subset.npz", "ddim_teach/assets/README.md",
                   "ddim_teach/weights/unet_mnist.pt", "ddim_teach/weights/classifier.pt",
                   "ddim_teach/weights/SHA256SUMS"):
        assert needed in names, needed
    assert not [n for n in names if n.startswith("ddim_teach/data/")]  # the old folder that shadowed data.py
    meta = next(n for n in names if n.endswith(".dist-info/METADATA"))
    text = zipfile.ZipFile(wheel).read(meta).decode()
    assert "License-Expression: MIT AND CC-BY-SA-3.0" in text
    assert "Requires-Python: >=3.11" in text
    assert any(n.endswith(".dist-info/licenses/LICENSE") for n in names)
    requires = [line.split(":", 1)[1].strip() for line in text.splitlines() if line.startswith("Requires-Dist:")]
    core = sorted(r.split(">")[0].split("=")[0] for r in requires if "extra ==" not in r)
    assert core == ["matplotlib", "numpy", "torch", "tqdm"], core


def test_installed_wheel_loads_the_shipped_model_and_data(installed, tmp_path):
    _, env_dir, py = installed
    (tmp_path / "empty").mkdir()
    code = """
import json, importlib.metadata as md
import torch
import ddim_teach
from ddim_teach import data, samplers
from ddim_teach.pretrained import load_pretrained, load_classifier
model, schedule = load_pretrained()
clf = load_classifier()
x, y = data.load_mnist("test", source="bundled")
xt, _ = data.load_mnist("train", source="bundled")
acc = (clf(data.to_tensor(x)).argmax(1) == torch.from_numpy(y).long()).float().mean().item()
out = samplers.sample(model, schedule, torch.randn(2, 1, 28, 28, generator=torch.Generator().manual_seed(0)),
                      steps=3, spacing="trailing", record_every=None, progress=False).final
print(json.dumps({"file": ddim_teach.__file__, "version": ddim_teach.__version__,
                  "dist_version": md.version("ddim-teach"), "test": list(x.shape), "train": list(xt.shape),
                  "acc": acc, "steps": model.trained_steps, "out": list(out.shape)}))
"""
    p = _run([str(py), "-c", code], tmp_path)
    assert p.returncode == 0, p.stderr
    r = json.loads(p.stdout.strip().splitlines()[-1])
    assert r["file"].startswith(str(env_dir)), r["file"]  # the installed copy, not the source tree
    assert r["version"] == r["dist_version"]                # one version, read from ddim_teach/__init__.py
    assert r["test"] == [999, 28, 28] and r["train"] == [9001, 28, 28]
    assert r["acc"] > 0.97 and r["steps"] > 0 and r["out"] == [2, 1, 28, 28]


def test_console_scripts(installed, tmp_path):
    _, env_dir, _ = installed
    for script in ("ddim-teach-train", "ddim-teach-bench", "ddim-teach-pretrained"):
        p = _run([str(env_dir / "bin" / script), "--help"], tmp_path)
        assert p.returncode == 0 and p.stdout.startswith(f"usage: {script}"), (script, p.stdout[:200], p.stderr)
    p = _run([str(env_dir / "bin" / "ddim-teach-train"), "--lr", "0"], tmp_path)
    assert p.returncode == 2 and p.stderr.strip().splitlines()[-1].startswith("ddim-teach-train: error: --lr must")
