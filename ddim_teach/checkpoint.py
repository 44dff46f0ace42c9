"""Checkpoints: written atomically, read without running pickled code.

A checkpoint is a plain dict of tensors, numbers, strings, lists and dicts, saved
with ``torch.save`` and read with ``torch.load(weights_only=True)``, which
refuses anything that would execute code on load. It records what it needs to
be used safely: ``kind`` ("unet" or "classifier"), the architecture ``config``,
the ``schedule`` (name and T) and the training ``step``.
"""
from __future__ import annotations

import os
import pickle
import tempfile
import zipfile
from pathlib import Path

import torch

FORMAT_VERSION = 1


class CheckpointError(ValueError):
    """A checkpoint is unreadable, unsafe, or does not fit the model or schedule it is loaded into."""


def save(obj: dict, path: str | os.PathLike) -> None:
    """torch.save to a temporary file in the same folder, then rename: a crash never leaves half a file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix="." + path.name, suffix=".part")
    os.close(fd)
    try:
        torch.save({"format_version": FORMAT_VERSION, **obj}, tmp)
        os.chmod(tmp, 0o644)  # mkstemp makes 0600 files
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def load(path, kind: str | None = None) -> dict:
    """Load a checkpoint with ``weights_only=True``; check its format and, if given, its kind."""
    if Path(path).is_file() and not zipfile.is_zipfile(path):
        raise CheckpointError(f"{path}: not a readable checkpoint (not a torch.save archive; truncated or corrupt?)")
    try:
        ckpt = torch.load(path, map_location="cpu", weights_only=True)
    except FileNotFoundError:
        raise CheckpointError(f"{path}: no such checkpoint") from None
    except pickle.UnpicklingError as e:
        first = str(e).strip().splitlines()[0] if str(e).strip() else "unpickling failed"
        raise CheckpointError(f"{path}: refused to load: it holds objects other than tensors and plain "
                              f"data, which could run code ({first[:160]})") from None
    except Exception as e:
        raise CheckpointError(f"{path}: not a readable checkpoint ({type(e).__name__}: {str(e)[:160]})") from None
    if not isinstance(ckpt, dict) or ckpt.get("format_version") != FORMAT_VERSION:
        raise CheckpointError(f"{path}: not a ddim_teach checkpoint (format_version "
                              f"{ckpt.get('format_version') if isinstance(ckpt, dict) else None}, "
                              f"expected {FORMAT_VERSION})")
    if kind is not None and ckpt.get("kind") != kind:
        raise CheckpointError(f"{path}: holds a {ckpt.get('kind')!r} checkpoint, expected {kind!r}")
    return ckpt


def diff_dicts(saved: dict, current: dict, what: str) -> list[str]:
    """Human-readable differences between two flat config dicts."""
    out = []
    for k in sorted(set(saved) | set(current)):
        a, b = saved.get(k, "<absent>"), current.get(k, "<absent>")
        if a != b:
            out.append(f"{what}.{k}: checkpoint has {a!r}, this model has {b!r}")
    return out


def check_compatible(ckpt: dict, config: dict | None = None, schedule: dict | None = None) -> None:
    """Raise CheckpointError listing every difference of architecture config and schedule."""
    problems = []
    if config is not None:
        problems += diff_dicts(ckpt.get("config", {}), config, "config")
    if schedule is not None and "schedule" in ckpt:
        problems += diff_dicts(ckpt["schedule"], schedule, "schedule")
    if problems:
        raise CheckpointError("checkpoint does not match: " + "; ".join(problems))


def load_state(model: torch.nn.Module, state: dict, source: str = "checkpoint") -> None:
    """load_state_dict with a short message naming missing, unexpected or mis-shaped tensors."""
    own = model.state_dict()
    missing = sorted(set(own) - set(state))
    extra = sorted(set(state) - set(own))
    shapes = [f"{k}: {tuple(state[k].shape)} vs {tuple(own[k].shape)}" for k in own
              if k in state and state[k].shape != own[k].shape]
    if missing or extra or shapes:
        parts = []
        if missing:
            parts.append(f"missing {len(missing)} tensors (e.g. {missing[0]})")
        if extra:
            parts.append(f"{len(extra)} unexpected tensors (e.g. {extra[0]})")
        if shapes:
            parts.append(f"{len(shapes)} shape mismatches (e.g. {shapes[0]})")
        raise CheckpointError(f"{source} does not fit this architecture: " + "; ".join(parts))
    model.load_state_dict(state)
