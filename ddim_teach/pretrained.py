"""The shipped models: an EMA U-Net trained on MNIST and the evaluation classifier.

    from ddim_teach.pretrained import load_pretrained, load_classifier
    model, schedule = load_pretrained()     # offline, from files inside the package

Both files are plain checkpoints read with ``weights_only=True`` (no pickled code runs).
``export_pretrained`` turns a training checkpoint into the shipped file (EMA weights only).
"""
from __future__ import annotations

from importlib import resources
from pathlib import Path

import torch

from . import checkpoint, schedules
from .classifier import Classifier
from .unet import UNet, UNetConfig

UNET_FILE = "unet_mnist.pt"
CLASSIFIER_FILE = "classifier.pt"


def weights_path(name: str) -> Path:
    return Path(str(resources.files("ddim_teach") / "weights" / name))


def load_unet(path, schedule: schedules.Schedule | None = None):
    """Load a U-Net checkpoint (shipped or from training, EMA weights preferred) and its schedule.

    The architecture is built from the checkpoint's own config; if ``schedule`` is given and differs
    from the one the model was trained with, a CheckpointError says how.
    """
    ck = checkpoint.load(path, kind="unet")
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
    return model, trained


def load_pretrained(path=None):
    """The shipped EMA U-Net (eval mode) and the schedule it was trained with."""
    return load_unet(path or weights_path(UNET_FILE))


def training_history(path=None) -> dict:
    """Step count, training settings and the loss curve ([step, mean loss over 50 steps]) of the shipped U-Net."""
    ck = checkpoint.load(path or weights_path(UNET_FILE), kind="unet")
    return {"step": ck.get("step"), "train": ck.get("train", {}), "loss_history": ck.get("loss_history", [])}


def load_classifier(path=None) -> Classifier:
    """The shipped evaluation classifier (eval mode)."""
    path = path or weights_path(CLASSIFIER_FILE)
    ck = checkpoint.load(path, kind="classifier")
    model = Classifier()
    checkpoint.load_state(model, ck["state_dict"], str(path))
    model.heldout_accuracy = ck.get("heldout_accuracy")
    return model.eval().requires_grad_(False)


def export_pretrained(train_ckpt, out=None) -> Path:
    """Write the shipping file: the EMA weights, config, schedule, step and loss history only."""
    ck = checkpoint.load(train_ckpt, kind="unet")
    out = Path(out or weights_path(UNET_FILE))
    checkpoint.save({k: ck[k] for k in ("kind", "config", "schedule", "step", "ema", "loss_history", "train")}, out)
    return out


if __name__ == "__main__":
    import sys
    print(export_pretrained(sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else None))
