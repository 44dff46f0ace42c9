"""Atomic file writes, shared by checkpoints and downloads.

A file is written to a hidden temporary file in the same folder (``.NAME<random>.part``), flushed
to disk with ``fsync``, then renamed over the target, and the folder is synced: a crash or a kill
leaves either the old file or the new one, never half a file. A kill can leave the ``.part`` file
itself behind; :func:`clean_orphans` removes those. :func:`check_writable` and
:func:`refuse_package_path` check an output path before any work is done.
"""
from __future__ import annotations

import contextlib
import os
import tempfile
from importlib import resources
from pathlib import Path
from typing import Callable


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:  # e.g. Windows cannot open a folder; the rename is still atomic there
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def atomic_write(path: str | os.PathLike, data: bytes | Callable[[str], None]) -> Path:
    """Write ``data`` (bytes, or a function that writes to the path it is given) to ``path`` atomically."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix="." + path.name + ".", suffix=".part")
    try:
        if isinstance(data, (bytes, bytearray, memoryview)):
            with os.fdopen(fd, "wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
        else:
            os.close(fd)
            data(tmp)
            with open(tmp, "rb+") as f:
                os.fsync(f.fileno())
        os.chmod(tmp, 0o644)  # mkstemp makes 0600 files
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    _fsync_dir(path.parent)
    return path


def orphans(path: str | os.PathLike) -> list[Path]:
    """The ``.part`` files a killed :func:`atomic_write` of ``path`` left behind."""
    path = Path(path)
    if not path.parent.is_dir():
        return []
    return sorted(p for p in path.parent.glob("." + path.name + ".*.part") if p.is_file())  # not "name2"'s


def clean_orphans(path: str | os.PathLike) -> list[Path]:
    """Delete the orphan ``.part`` files of ``path``; return what was removed."""
    removed = []
    for p in orphans(path):
        try:
            p.unlink()
            removed.append(p)
        except OSError:
            pass
    return removed


@contextlib.contextmanager
def exclusive(path: str | os.PathLike, what: str = "out"):
    """Hold the only right to write ``path`` while the block runs, or refuse at once, naming the process that holds it.

    The lock is ``.<name>.lock`` beside ``path``, locked with ``flock`` (held by the open file, so the operating
    system releases it when its process ends, even by kill -9: a killed run never blocks the next one) and holding
    the writer's process id for the message. Inside the block no live writer of ``path`` exists but this one, so its
    ``.part`` files are orphans (:func:`clean_orphans`). Where ``flock`` does not exist (Windows) an existing lock
    file is refused, with the advice to delete it if no run is writing."""
    path = Path(path).resolve()
    lock = path.parent / f".{path.name}.lock"
    try:
        import fcntl
    except ImportError:
        fcntl = None
    if fcntl is None:
        try:
            fd = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_RDWR, 0o644)
        except FileExistsError:
            raise ValueError(f"{what} {str(path)!r} is locked by {str(lock)!r}: another run is writing it, or one was "
                             "killed; delete the lock file if no run is") from None
    else:
        while True:
            fd = os.open(lock, os.O_CREAT | os.O_RDWR, 0o644)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "unknown"
                os.close(fd)
                raise ValueError(f"{what} {str(path)!r} is being written by another run (process {holder}); wait "
                                 "for it to finish, or give another file") from None
            try:  # the holder before us may have removed the file between our open and our lock: lock the new one
                same = os.fstat(fd).st_ino == os.stat(lock).st_ino
            except FileNotFoundError:
                same = False
            if same:
                break
            os.close(fd)
    os.ftruncate(fd, 0)
    os.pwrite(fd, str(os.getpid()).encode(), 0)
    try:
        yield path
    finally:
        with contextlib.suppress(OSError):
            os.unlink(lock)  # while still holding it: a run that opened the old file sees it gone and retries
        os.close(fd)


def check_writable(path: str | os.PathLike, what: str = "output") -> Path:
    """Fail now, with a clear message, if ``path`` could not be written later (a folder, a read-only place)."""
    path = Path(path)
    if path.is_dir():
        raise ValueError(f"{what} {str(path)!r} is a folder; give a file name, e.g. {str(path / 'unet.pt')!r}")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise ValueError(f"{what} {str(path)!r}: cannot create its folder ({e.strerror})") from None
    try:
        fd, probe = tempfile.mkstemp(dir=path.parent, prefix="." + path.name + ".", suffix=".part")
    except OSError as e:
        raise ValueError(f"{what} {str(path)!r}: cannot write into {str(path.parent)!r} ({e.strerror})") from None
    os.close(fd)
    os.unlink(probe)
    if path.exists() and not os.access(path, os.W_OK) and not os.access(path.parent, os.W_OK):
        raise ValueError(f"{what} {str(path)!r} exists and cannot be replaced (no write permission)")
    return path


def inside_package(path: str | os.PathLike) -> bool:
    """Whether ``path`` lies inside the installed ddim_teach package (where nothing of the user's is written)."""
    pkg = Path(str(resources.files("ddim_teach"))).resolve()
    try:
        Path(path).resolve().relative_to(pkg)
        return True
    except ValueError:
        return False


def refuse_package_path(path: str | os.PathLike, what: str = "out") -> None:
    if inside_package(path):
        raise ValueError(f"{what} {str(path)!r} is inside the installed ddim_teach package; write elsewhere (to ship "
                         "a file, copy it into a source checkout by hand and update weights/SHA256SUMS)")
