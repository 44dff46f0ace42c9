"""Lets a plain `pytest` run without the dev extra: pyproject's addopts name nbval's flags, which pytest refuses when
nbval is not installed. Then they are accepted here and ignored, the notebooks are not checked, and the header says
what to install. (Root level, so that it loads whatever path pytest is given.)"""

_NBVAL_FLAGS = (("--nbval-lax", {"action": "store_true"}), ("--nbval-current-env", {"action": "store_true"}),
                ("--nbval-cell-timeout", {}), ("--nbval-sanitize-with", {}))


def pytest_addoption(parser, pluginmanager):
    if pluginmanager.has_plugin("nbval"):
        return
    group = parser.getgroup("nbval (not installed)")
    for flag, kw in _NBVAL_FLAGS:
        group.addoption(flag, help="ignored: nbval is not installed", **kw)


def pytest_report_header(config):
    if not config.pluginmanager.has_plugin("nbval"):
        return "nbval is not installed: the notebooks are not checked (install the dev extra: pip install -e '.[dev]')"
