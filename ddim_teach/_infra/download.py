"""Checked downloads: a file is fetched from the first mirror that serves the expected bytes (by SHA-256) and
written atomically, so an interrupted or corrupted download never leaves a file that looks complete."""
from __future__ import annotations

import os
import urllib.request
from pathlib import Path

from .atomic import atomic_write
from .hashing import bytes_sha256, file_sha256


def fetch_verified(name: str, sha256: str, target: str | os.PathLike, mirrors,
                   opener=urllib.request.urlopen) -> Path | list[str]:
    """Fetch ``mirror + name`` from each mirror in turn until one gives bytes with the given SHA-256; write them to
    ``target``. A target that already has that hash is kept. Returns the target, or the list of reasons each
    mirror failed (the caller says what it was fetching)."""
    target = Path(target)
    if target.exists() and file_sha256(target) == sha256:
        return target
    errors = []
    for base in mirrors:
        try:
            with opener(base + name, timeout=60) as r:
                data = r.read()
        except Exception as e:  # network errors differ by platform
            errors.append(f"{base}: {e}")
            continue
        got = bytes_sha256(data)
        if got != sha256:
            errors.append(f"{base}: checksum mismatch (sha256 {got}, expected {sha256})")
            continue
        atomic_write(target, data)
        return target
    return errors
