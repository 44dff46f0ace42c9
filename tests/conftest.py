import os

import matplotlib
import pytest
import torch

matplotlib.use("Agg")  # set here, never exported: kernels would inherit it


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
