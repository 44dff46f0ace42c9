import os
import shutil
import tempfile
from pathlib import Path

import matplotlib
import pytest
import torch

matplotlib.use("Agg")  # set here, never exported: kernels would inherit it


def pytest_configure(config):
    """Every test, subprocess and notebook kernel of the session sees an empty data folder.

    A user's cache (``~/.cache/ddim_teach/mnist`` or their ``DDIM_TEACH_DATA``) must change no checked
    result, so the session never reads it: ``DDIM_TEACH_DATA`` points at a fresh empty folder, set here
    (before any kernel starts) rather than in a fixture, so nbval's kernels inherit it too.
    """
    folder = tempfile.mkdtemp(prefix="ddim_teach_data_")
    config._ddim_teach_data = (os.environ.get("DDIM_TEACH_DATA"), folder)
    os.environ["DDIM_TEACH_DATA"] = folder


def pytest_unconfigure(config):
    saved = getattr(config, "_ddim_teach_data", None)
    if saved:
        before, folder = saved
        if before is None:
            os.environ.pop("DDIM_TEACH_DATA", None)
        else:
            os.environ["DDIM_TEACH_DATA"] = before
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="session", autouse=True)
def empty_data_folder():
    """The session's data folder: DDIM_TEACH_DATA, empty, never the HOME-based cache."""
    from ddim_teach import data
    folder = data.data_dir()
    assert Path(os.environ["DDIM_TEACH_DATA"]) == folder
    assert not str(folder).startswith(str(Path.home() / ".cache")), folder
    assert folder.is_dir() and not any(folder.iterdir()), f"the test data folder {folder} is not empty"
    return folder


def pytest_collection_modifyitems(config, items):
    """Markers by kind: every nbval item is `notebook`; every test in test_browser.py is `browser`."""
    for item in items:
        path = Path(str(getattr(item, "path", getattr(item, "fspath", ""))))
        if path.suffix == ".ipynb":
            item.add_marker(pytest.mark.notebook)
        elif path.name == "test_browser.py":
            item.add_marker(pytest.mark.browser)


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(0)


@pytest.fixture(scope="session")
def schedule():
    from ddim_teach import schedules
    return schedules.make_schedule("linear", 1000)


def require_or_skip(condition: bool, reason: str, env: str):
    """Skip with a reason, unless CI set ``env``, in which case the absence is a failure."""
    if not condition:
        if os.environ.get(env):
            pytest.fail(f"{reason} (and {env} is set, so this cannot be skipped)")
        pytest.skip(reason)
