"""The shipped models: an EMA U-Net trained on MNIST and the evaluation classifier.

    from ddim_teach.pretrained import load_pretrained, load_classifier
    model, schedule = load_pretrained()     # offline, from files inside the package

Both files are plain checkpoints read with ``weights_only=True`` (no pickled code runs), and each
is checked against the SHA-256 recorded beside it in ``weights/SHA256SUMS`` before it is read, so a
damaged copy is refused rather than quietly giving other samples.

``export_pretrained`` turns a training checkpoint into a shipping-style file (EMA weights only):

    python -m ddim_teach.pretrained CKPT OUT [--force]      # or: ddim-teach-pretrained CKPT OUT

It never writes into the installed package; to ship new weights, copy OUT into ``ddim_teach/weights/``
of a source checkout and put the SHA-256 it prints into ``SHA256SUMS``.
"""
from __future__ import annotations

import argparse
import contextlib
import os
from importlib import resources
from pathlib import Path

from . import checks, schedules
from ._infra import checkpoint, cli
from ._infra.atomic import check_writable, refuse_package_path
from ._infra.hashing import file_sha256
from .classifier import Classifier
from .unet import UNet, UNetConfig

UNET_FILE = "unet_mnist.pt"
COND_FILE = "unet_mnist_cond.pt"   # the class-conditional U-Net (classifier-free guidance, notebook 10)
CLASSIFIER_FILE = "classifier.pt"
SUMS_FILE = "SHA256SUMS"


def weights_path(name: str) -> Path:
    """Where a shipped file lives when the package is installed as files (the usual case).

    Readers use :func:`shipped_file`, which also works from a zip and verifies the SHA-256.
    """
    return Path(str(resources.files("ddim_teach") / "weights" / name))


def recorded_sha256(name: str) -> str:
    """The SHA-256 recorded for a shipped file in ``weights/SHA256SUMS`` (``sha256sum`` format)."""
    text = (resources.files("ddim_teach") / "weights" / SUMS_FILE).read_text()
    for line in text.splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[1].lstrip("*") == name:
            return parts[0].lower()
    raise checkpoint.CheckpointError(f"no SHA-256 recorded for the shipped file {name!r} in weights/{SUMS_FILE}")


@contextlib.contextmanager
def shipped_file(name: str):
    """A real path to a shipped weights file, verified against its recorded SHA-256."""
    with resources.as_file(resources.files("ddim_teach") / "weights" / name) as p:
        if not Path(p).is_file():
            raise checkpoint.CheckpointError(f"the shipped file {name!r} is missing from the package; reinstall it")
        got, want = file_sha256(p), recorded_sha256(name)
        if got != want:
            raise checkpoint.CheckpointError(f"the shipped file {p} is damaged: SHA-256 {got[:16]}..., recorded "
                                             f"{want[:16]}... in weights/{SUMS_FILE}; reinstall the package")
        yield Path(p)


def load_unet(path, schedule: schedules.Schedule | None = None):
    """Load a U-Net checkpoint (shipped or from training, EMA weights preferred) and its schedule.

    The architecture is built from the checkpoint's own config; if ``schedule`` is given and differs
    from the one the model was trained with, a CheckpointError says how.
    """
    ck = checkpoint.load(path, kind="unet")
    missing = [k for k in ("config", "schedule") if not isinstance(ck.get(k), dict)]
    if missing:
        raise checkpoint.CheckpointError(f"{path}: a U-Net checkpoint needs its {' and '.join(missing)} (as "
                                         "python -m ddim_teach.train and ddim_teach.pretrained write them); this one has none")
    cfg = UNetConfig.from_dict(ck["config"])
    sched_info = ck["schedule"]
    trained = schedules.make_schedule(sched_info["name"].replace("+zero_snr", ""), sched_info["T"],
                                      rescale_to_zero_snr=sched_info["name"].endswith("+zero_snr"))
    if schedule is not None:
        checkpoint.check_compatible(ck, schedule=schedule.to_dict())
    model = UNet(cfg)
    checkpoint.load_state(model, ck["ema"] if "ema" in ck else ck["model"], str(path))
    model.eval().requires_grad_(False)
    model.trained_steps = ck.get("step")
    # what the model was trained for travels with it: a Denoiser refuses another schedule or prediction type
    model.trained_schedule, model.prediction_type = trained, "epsilon"
    return model, trained


def _check_path(path) -> None:
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"path must be the file of an exported U-Net (a str or Path), got {type(path).__name__}; "
                        "leave it out for the shipped U-Net")


def load_pretrained(path=None, *, conditional: bool = False):
    """The shipped EMA U-Net (eval mode) and the schedule it was trained with; ``path``: another exported file.

    ``conditional=True``: the shipped class-conditional U-Net, model(x_t, t, y) with y in 0..9 and 10 for "no
    label" (fine-tuned from the unconditional one with label dropout, for classifier-free guidance)."""
    conditional = checks.boolean(conditional, "conditional")
    if path is not None:
        _check_path(path)
        if conditional:
            raise ValueError("give either path (a file of your own) or conditional=True (the shipped conditional "
                             "U-Net), not both")
        return load_unet(path)
    with shipped_file(COND_FILE if conditional else UNET_FILE) as p:
        return load_unet(p)


def training_history(path=None, *, conditional: bool = False) -> dict:
    """Step count, training settings and the loss curve ([step, mean loss over 50 steps]) of the shipped U-Net
    (``conditional=True``: of the shipped conditional one)."""
    conditional = checks.boolean(conditional, "conditional")
    if path is not None:
        _check_path(path)
    if path is not None and conditional:
        raise ValueError("give either path (a file of your own) or conditional=True (the shipped conditional U-Net), "
                         "not both")
    shipped = COND_FILE if conditional else UNET_FILE
    with (contextlib.nullcontext(path) if path is not None else shipped_file(shipped)) as p:
        ck = checkpoint.load(p, kind="unet")
    return {"step": ck.get("step"), "train": ck.get("train", {}), "loss_history": ck.get("loss_history", [])}


def load_classifier(path=None) -> Classifier:
    """The shipped evaluation classifier (eval mode); ``path``: another classifier checkpoint."""
    with (contextlib.nullcontext(path) if path is not None else shipped_file(CLASSIFIER_FILE)) as p:
        ck = checkpoint.load(p, kind="classifier")
    model = Classifier()
    checkpoint.load_state(model, ck["state_dict"], str(path or CLASSIFIER_FILE))
    model.heldout_accuracy = ck.get("heldout_accuracy")
    return model.eval().requires_grad_(False)


def export_pretrained(train_ckpt, out, force: bool = False) -> Path:
    """Write a shipping-style file: the EMA weights, config, schedule, step, settings and loss history only.

    ``out`` must be named; an existing file is replaced only with ``force=True``, and nothing is ever
    written inside the installed package (the shipped weights stay as installed).
    """
    force = checks.boolean(force, "force")
    if out is None or str(out) == "":
        raise ValueError("out must name the file to write, e.g. 'unet_ema.pt'")
    out = Path(out)
    refuse_package_path(out, "out")
    if Path(train_ckpt).resolve() == out.resolve():
        raise ValueError(f"out {str(out)!r} is the training checkpoint itself; name another file")
    check_writable(out, "out")
    if out.exists() and not force:
        raise ValueError(f"{str(out)!r} already exists; pass --force (force=True) to replace it")
    ck = checkpoint.load(train_ckpt, kind="unet")
    if "ema" not in ck:
        raise checkpoint.CheckpointError(f"{train_ckpt}: holds no EMA weights (already an exported file?)")
    checkpoint.save({k: ck[k] for k in ("kind", "config", "schedule", "step", "ema", "loss_history", "train")
                     if k in ck}, out)
    return out


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(
        prog=cli.prog("pretrained"),
        description="Export the EMA weights of a training checkpoint (from ddim_teach.train) to a small file "
                    "that load_pretrained(path) and `bench --weights` read. Nothing is written into the package.")
    ap.add_argument("checkpoint", help="a training checkpoint, e.g. checkpoints/unet.pt")
    ap.add_argument("out", help="the file to write, e.g. unet_ema.pt (never inside the installed package)")
    ap.add_argument("--force", action="store_true", help="replace OUT if it exists")
    a = ap.parse_args(argv)
    try:
        out = export_pretrained(a.checkpoint, a.out, force=a.force)
    except (ValueError, OSError) as e:  # CheckpointError is a ValueError
        ap.error(str(e))
    print(f"wrote {out} (sha256 {file_sha256(out)})")


if __name__ == "__main__":
    main()
