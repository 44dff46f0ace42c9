"""Checkpoints: written atomically, read without running pickled code.

A checkpoint is a plain dict of tensors, numbers, strings, lists and dicts, saved
with ``torch.save`` and read with ``torch.load(weights_only=True)``, which
refuses anything that would execute code on load. It records what it needs to
be used safely: ``kind`` ("unet" or "classifier"), the architecture ``config``,
the ``schedule`` (name and T) and the training ``step``.

It also records ``content_sha256``, a SHA-256 over every tensor's bytes and every value, so a file
that was damaged after saving (a flipped byte inside the tensor data, which ``torch.load`` does not
notice) is refused on load. Files are written through :func:`ddim_teach._infra.atomic.atomic_write`.
"""
from __future__ import annotations

import hashlib
import os
import pickle
import zipfile
from pathlib import Path

import torch

from .atomic import atomic_write

FORMAT_VERSION = 1


class CheckpointError(ValueError):
    """A checkpoint is unreadable, unsafe, or does not fit the model or schedule it is loaded into."""


def content_sha256(obj) -> str:
    """SHA-256 over a nested dict/list of tensors and plain values: keys, dtypes, shapes and bytes."""
    h = hashlib.sha256()

    def walk(o):
        if isinstance(o, torch.Tensor):
            t = o.detach().cpu().contiguous()
            h.update(f"T{t.dtype}{tuple(t.shape)}".encode())
            h.update(t.reshape(-1).view(torch.uint8).numpy().tobytes())
        elif isinstance(o, dict):
            h.update(b"{")
            for k in sorted(o, key=repr):
                h.update(repr(k).encode())
                walk(o[k])
            h.update(b"}")
        elif isinstance(o, (list, tuple)):
            h.update(b"[")
            for v in o:
                walk(v)
            h.update(b"]")
        else:
            h.update(repr(o).encode())

    walk(obj)
    return h.hexdigest()


def save(obj: dict, path: str | os.PathLike) -> None:
    """torch.save to a temporary file in the same folder, fsync, then rename: a crash never leaves half a file."""
    body = {"format_version": FORMAT_VERSION, **obj}
    body.pop("content_sha256", None)
    body["content_sha256"] = content_sha256(body)
    atomic_write(path, lambda tmp: torch.save(body, tmp))


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
    if "content_sha256" in ckpt:
        recorded = ckpt.pop("content_sha256")
        if content_sha256(ckpt) != recorded:
            raise CheckpointError(f"{path}: corrupt: its contents do not match the SHA-256 recorded when it was "
                                  "saved (damaged on disk or in transfer); use another copy")
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
