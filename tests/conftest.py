import functools
import os
import shutil
import tempfile
from pathlib import Path

# A private matplotlib cache for the session, set before matplotlib is first imported so that this process builds
# it (its "building the font cache" line goes to pytest, not into a checked notebook cell) and every kernel and
# subprocess inherits it. The user's ~/.cache/matplotlib can hold a font list written by another venv, since
# deleted; matplotlib then prints "findfont: ... not found" to a cell's stderr, which nbval counts as a difference.
_MPL_DIR = tempfile.mkdtemp(prefix="ddim_teach_mpl_")
os.environ["MPLCONFIGDIR"] = _MPL_DIR

import matplotlib  # noqa: E402
import matplotlib.font_manager  # noqa: E402,F401  (builds the session's font cache now)
import pytest  # noqa: E402
import torch  # noqa: E402

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
    _share_forward_passes(config)


def _share_forward_passes(config):
    """Notebook kernels start with tests/kernel_forward_memo.py (an IPython startup script in a private IPYTHONDIR):
    the Chinese edition of a notebook reads the shipped U-Net's forward passes that the English edition computed
    (bit-identical tensors) instead of computing them again: pytest collects notebooks/ before notebooks/zh/, and
    the scheduler below keeps the two editions on one worker in that order (whatever the Chinese kernel does not
    find, it computes). Set up once, by the process that starts the
    workers (they inherit both variables), and removed by it at the end."""
    if os.environ.get("DDIM_TEACH_FORWARD_MEMO"):
        return
    root = tempfile.mkdtemp(prefix="ddim_teach_kernels_")
    startup = Path(root, "ipython", "profile_default", "startup")
    startup.mkdir(parents=True)
    memo = Path(__file__).with_name("kernel_forward_memo.py").resolve()
    # exec'd into its own namespace: a startup file runs in the notebook's, which must stay empty
    (startup / "00-forward-memo.py").write_text(f"exec(compile(open({str(memo)!r}).read(), {str(memo)!r}, 'exec'), "
                                                "{'__name__': 'kernel_forward_memo'})\n")
    config._ddim_teach_kernels = (root, os.environ.get("IPYTHONDIR"))
    os.environ["IPYTHONDIR"] = str(Path(root, "ipython"))
    os.environ["DDIM_TEACH_FORWARD_MEMO"] = str(Path(root, "forward"))


def pytest_unconfigure(config):
    saved = getattr(config, "_ddim_teach_data", None)
    if saved:
        before, folder = saved
        if before is None:
            os.environ.pop("DDIM_TEACH_DATA", None)
        else:
            os.environ["DDIM_TEACH_DATA"] = before
        shutil.rmtree(folder, ignore_errors=True)
    shutil.rmtree(_MPL_DIR, ignore_errors=True)
    kernels = getattr(config, "_ddim_teach_kernels", None)
    if kernels:
        root, ipython_dir = kernels
        os.environ.pop("DDIM_TEACH_FORWARD_MEMO", None)
        if ipython_dir is None:
            os.environ.pop("IPYTHONDIR", None)
        else:
            os.environ["IPYTHONDIR"] = ipython_dir
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="session", autouse=True)
def empty_data_folder():
    """The session's data folder: DDIM_TEACH_DATA, empty, never the HOME-based cache."""
    from ddim_teach import data
    folder = data.data_dir()
    assert Path(os.environ["DDIM_TEACH_DATA"]) == folder
    assert not str(folder).startswith(str(Path.home() / ".cache")), folder
    assert folder.is_dir() and not any(folder.iterdir()), f"the test data folder {folder} is not empty"
    return folder


# Tests measured at several seconds each on the 2-core CPU (pytest --durations), marked `slow` here so that
# `make test-fast` stays short (its run time is in docs/RESULTS.md). A test file may instead carry @pytest.mark.slow itself.
SLOW = {
    "test_samplers.py::test_gaussian_oracle_maps_noise_to_data",
    "test_samplers.py::test_ddim_eta1_all_steps_is_ddpm",
    "test_samplers.py::test_inversion_round_trip_error_falls_as_one_over_S_squared",
    "test_diagnose.py::test_leading_spacing_with_few_steps_is_flagged",
    "test_diagnose.py::test_x0_predictor_fails_eps_scale",
    "test_diagnose.py::test_pretrained_model_passes",
    "test_diagnose.py::test_model_ignoring_time_fails_uses_time",
    "test_diagnose.py::test_untrained_network_and_short_schedule_fail",
    "test_schedules.py::test_q_sample_statistics",
    "test_ode.py::test_euler_is_first_order_and_heun_second",
    "test_exercises_structure.py::test_nbgrader_generates_a_student_version_without_solutions",
    "test_viz.py::test_prefetched_pictures_are_exactly_the_current_settings",
}


def pytest_xdist_make_scheduler(config, log):
    """With --dist loadfile, a notebook and its Chinese edition are one unit of work: one worker runs the English
    cells, then the Chinese ones, so the Chinese kernel finds the English kernel's forward passes (see
    _share_forward_passes). Every other test file is a unit of its own, as loadfile makes it."""
    if config.getvalue("dist") != "loadfile":
        return None
    from xdist.scheduler import LoadScopeScheduling

    class NotebookPairs(LoadScopeScheduling):
        def _split_scope(self, nodeid):
            path = nodeid.split("::", 1)[0]
            return "notebook " + Path(path).stem if path.endswith(".ipynb") else path

        def _assign_work_unit(self, node):
            # Longest first (xdist's own order is by the number of tests), so that short files fill the end of the
            # run instead of one long notebook or browser test running alone on one worker.
            if not getattr(self, "_longest_first", False):
                self._longest_first = True
                order = sorted(self.workqueue.items(), key=lambda item: -_expected_seconds(*item))
                self.workqueue.clear()
                self.workqueue.update(order)
            super()._assign_work_unit(node)

    return NotebookPairs(config, log)


# Rough run times (s) of the test files that take longest, from `pytest --durations` on 2 cores (docs/RESULTS.md,
# `make test`); a notebook pair's comes from docs/notebook_times.json. Only the order of the work depends on them.
LONG_FILES = {"test_browser.py": 50, "test_zh.py": 30, "test_pretrained.py": 20, "test_setup.py": 20,
              "test_student_view.py": 17, "test_bench_table.py": 13, "test_wheel.py": 10, "test_dpm_solver.py": 10}


@functools.lru_cache(maxsize=1)
def _notebook_seconds() -> dict:
    import json
    return json.loads(Path(__file__).resolve().parents[1].joinpath("docs", "notebook_times.json").read_text())["seconds"]


def _expected_seconds(scope: str, unit) -> float:
    if scope.startswith("notebook "):
        return 1.5 * _notebook_seconds().get(scope.split(" ", 1)[1], 30.0)    # English, then the Chinese edition
    return LONG_FILES.get(Path(scope).name, 0.02 * len(unit))


def pytest_collection_modifyitems(config, items):
    """Markers by kind: every nbval item is `notebook`; every test in test_browser.py is `browser`;
    the tests in SLOW are `slow`."""
    for item in items:
        path = Path(str(getattr(item, "path", getattr(item, "fspath", ""))))
        if path.suffix == ".ipynb":
            item.add_marker(pytest.mark.notebook)
        elif path.name == "test_browser.py":
            item.add_marker(pytest.mark.browser)
        elif f"{path.name}::{getattr(item, 'originalname', None) or item.name}" in SLOW:
            item.add_marker(pytest.mark.slow)


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


@pytest.fixture
def widgets():
    """Explorer widgets built by a test; their background workers are stopped and every figure is closed."""
    import threading

    import matplotlib.pyplot as plt
    built = []
    yield built
    for w in built:
        w.stop()
    assert not [t for t in threading.enumerate() if t.name == "ddim-teach-prefetch"]
    assert not plt.get_fignums()

