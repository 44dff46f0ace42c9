"""Shared bits of the command lines (train, bench, pretrained, classifier)."""
from __future__ import annotations

import os
import sys


def prog(module: str) -> str:
    """The command as the user typed it: the console script's name, or ``python -m ddim_teach.<module>``."""
    name = os.path.basename(sys.argv[0]) if sys.argv and sys.argv[0] else ""
    return name if name.startswith("ddim-teach-") else f"python -m ddim_teach.{module}"
