"""Train the compact U-Net on MNIST with the DDPM epsilon-prediction loss.

    python -m ddim_teach.train --steps 6000 --out checkpoints/unet.pt
    python -m ddim_teach.train --steps 6000 --out checkpoints/unet.pt --resume   # continue after a kill
    python -m ddim_teach.train --conditional --init-from pretrained --steps 6000 --out checkpoints/cond.pt

``--conditional`` trains eps_theta(x_t, t, y) for classifier-free guidance (Ho & Salimans 2022): the label
y of each image is replaced by "no label" (∅) with probability ``--p-uncond`` (default 0.15), so that one
network learns both eps(x_t, t, y) and eps(x_t, t, ∅). ``--init-from`` starts it from an unconditional
checkpoint ("pretrained": the shipped U-Net); the class embedding starts at zero, so step 0 is that model.

An existing checkpoint is never overwritten silently: ``--resume`` continues it (every run-defining
setting must match it; only ``--lr`` may change, starting a new phase) and ``--force`` replaces it.

Loss (DDPM eq. 14, "L_simple"): E_{x0, t, eps} || eps - eps_theta(sqrt(ab_t) x0 + sqrt(1 - ab_t) eps, t) ||^2,
t uniform on 0..T-1. AdamW, EMA of the weights, a fixed seed. A checkpoint (model, EMA,
optimizer, RNG state, step, config, schedule, loss history) is written atomically every
``--ckpt-every`` steps, so ``--resume`` loses at most the steps since the last one and
continues bit-for-bit as if never interrupted.
"""
from __future__ import annotations

import argparse
import copy
import math
import numbers
import time
from pathlib import Path

import numpy as np
import torch
from tqdm.auto import tqdm

from . import checks, data, schedules
from ._infra import atomic, checkpoint, cli
from .elbo import l_simple
from .unet import UNet, UNetConfig


def ema_update(ema: torch.nn.Module, model: torch.nn.Module, decay: float) -> None:
    """ema <- decay * ema + (1 - decay) * model, parameter by parameter (public ``Tensor.lerp_``)."""
    with torch.no_grad():
        for e, m in zip(ema.parameters(), model.parameters()):
            e.lerp_(m, 1 - decay)


def _to_cpu(obj):
    """A state dict (nested dicts/lists of tensors) with every tensor on the CPU, so checkpoints load anywhere."""
    if isinstance(obj, torch.Tensor):
        return obj.detach().cpu()
    if isinstance(obj, dict):
        return {k: _to_cpu(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return type(obj)(_to_cpu(v) for v in obj)
    return obj


def diffusion_loss(model, schedule: schedules.Schedule, x0: torch.Tensor, generator=None, y=None,
                   p_uncond: float = 0.0) -> torch.Tensor:
    """L_simple for one batch (:func:`ddim_teach.elbo.l_simple`, DDPM eq. 14) with a random t per sample and random eps.

    t and eps are drawn on the CPU (``generator`` is a CPU generator) and moved to ``x0``'s device,
    so a seed gives the same draws on any device. With labels ``y`` (a conditional model), each label is
    replaced by ∅ (``model.num_classes``) with probability ``p_uncond``: classifier-free guidance training.
    """
    t = torch.randint(0, schedule.T, (x0.shape[0],), generator=generator)
    eps = torch.randn(x0.shape, generator=generator).to(x0.device)
    if y is None:
        return l_simple(model, x0, t, eps, schedule.alpha_bars)
    drop = torch.rand(x0.shape[0], generator=generator) < p_uncond
    y = torch.where(drop, torch.full_like(y, model.num_classes), y).to(x0.device)
    return l_simple(lambda x_t, t_: model(x_t, t_, y), x0, t, eps, schedule.alpha_bars)


def _check_device(device) -> torch.device:
    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError):
        dev = None
    if dev is None or dev.type not in ("cpu", "cuda", "mps"):
        raise ValueError(f"device must be 'cpu', 'cuda' (or 'cuda:N') or 'mps', got {device!r}")
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device {device!r} asked for, but this torch sees no CUDA GPU; use 'cpu'")
    if dev.type == "mps" and not torch.backends.mps.is_available():
        raise ValueError(f"device {device!r} asked for, but this torch has no MPS backend; use 'cpu'")
    return dev


# Settings that define a run: on --resume each must equal the checkpoint's (only lr may start a new phase).
RUN_SETTINGS = ("batch_size", "ema_decay", "seed", "warmup", "n_images", "p_uncond", "init_from", "class_lr_mult")


def _check_int(name, v, low) -> int:
    if isinstance(v, bool) or not isinstance(v, numbers.Integral) or v < low:
        raise ValueError(f"{name} must be an integer of at least {low}, got {v!r}")
    return int(v)


def _check_settings(steps, batch_size, lr, ema_decay, ckpt_every, seed, T, warmup):
    """The settings, checked, as Python numbers (a numpy integer or float is accepted as one)."""
    ints = [_check_int(name, v, low) for name, v, low in (("steps", steps, 1), ("batch_size", batch_size, 1),
                                                          ("ckpt_every", ckpt_every, 1), ("seed", seed, 0),
                                                          ("T", T, 2), ("warmup", warmup, 1))]
    if isinstance(lr, bool) or not isinstance(lr, numbers.Real) or not math.isfinite(lr) or lr <= 0:
        raise ValueError(f"lr must be a positive finite number (e.g. 1e-3), got {lr!r}")
    if lr > 1:
        raise ValueError(f"lr must be at most 1 (AdamW diverges far below that; 1e-3 is the default), got {lr!r}")
    if (isinstance(ema_decay, bool) or not isinstance(ema_decay, numbers.Real) or not math.isfinite(ema_decay)
            or not 0 <= ema_decay < 1):
        raise ValueError(f"ema_decay must be in [0, 1) (0.999 is the default; 0 copies the model), got {ema_decay!r}")
    steps, batch_size, ckpt_every, seed, T, warmup = ints
    return steps, batch_size, float(lr), float(ema_decay), ckpt_every, seed, T, warmup


def _check_images(images) -> None:
    if not hasattr(images, "dtype") or images.dtype != np.uint8 or images.ndim != 3 or images.shape[1:] != (28, 28) \
            or len(images) < 1:
        what = f"{images.dtype} array of shape {tuple(images.shape)}" if hasattr(images, "shape") else type(images).__name__
        raise ValueError(f"images must be a non-empty uint8 array of shape (N, 28, 28), as load_mnist returns; got {what}")


def train(steps: int = 6000, batch_size: int = 128, lr: float = 1e-3, ema_decay: float = 0.999,
          ckpt_every: int = 250, out: str | Path = "checkpoints/unet.pt", resume: bool = False,
          seed: int = 0, schedule_name: str = "linear", T: int = 1000, config: UNetConfig | None = None,
          images=None, warmup: int = 200, progress: bool = True, device: str = "cpu", force: bool = False,
          data_source: str = "bundled", labels=None, p_uncond: float = 0.15, init_from=None,
          class_lr_mult: float = 1.0) -> dict:
    """Train and return the final checkpoint dict. ``images``: uint8 (N, 28, 28); default the MNIST train
    split from ``data_source`` ("bundled", the 9,001 shipped digits; "idx" or "auto" for a data folder).

    ``steps`` is the step to reach, counted from the start of the run (also on resume). An existing
    checkpoint at ``out`` is continued with ``resume=True`` or replaced with ``force=True``, never silently
    overwritten; ``resume=True`` with no checkpoint is an error. On resume every run-defining setting
    (architecture, schedule, batch size, warm-up, EMA decay, seed, number of images) must match the
    checkpoint (for a conditional run also ``p_uncond``, ``class_lr_mult`` and ``init_from``; ``init_from`` need not
    be given again); only ``lr`` may change, which starts a new learning-rate phase.

    A conditional ``config`` (``num_classes`` > 0) trains on ``labels`` (uint8/int (N,), default the data's
    own) with each label dropped to ∅ with probability ``p_uncond``. ``init_from``: a U-Net checkpoint
    (or "pretrained", the shipped one) whose weights start the run; a conditional model takes all but its
    class embedding from an unconditional one. ``class_lr_mult``: the class embedding's learning rate is
    ``lr`` times this (a new, zero-started layer among trained ones learns faster with a larger rate).

    ``device``: "cpu" (default) or e.g. "cuda". Random draws always come from one CPU generator, and the
    checkpoint always holds CPU tensors, so a run can be resumed on another device (not bit-for-bit:
    GPU kernels round differently).
    """
    steps, batch_size, lr, ema_decay, ckpt_every, seed, T, warmup = _check_settings(
        steps, batch_size, lr, ema_decay, ckpt_every, seed, T, warmup)
    resume, force, progress = (checks.boolean(v, k) for k, v in (("resume", resume), ("force", force),
                                                                 ("progress", progress)))
    if resume and force:
        raise ValueError("resume and force exclude each other: resume continues the checkpoint, force replaces it")
    out = Path(out)
    schedule = schedules.make_schedule(schedule_name, T)
    config = config or UNetConfig()
    if not isinstance(config, UNetConfig):
        raise ValueError(f"config must be a UNetConfig, got {type(config).__name__}")
    device = _check_device(device)
    conditional = bool(config.num_classes)
    if labels is not None and not conditional:
        raise ValueError("labels are for a conditional model, and this config has num_classes = 0 (unconditional): "
                         "train with config=UNetConfig(num_classes=10) (--conditional on the command line), or leave "
                         "labels out")
    if isinstance(p_uncond, bool) or not isinstance(p_uncond, (int, float)) or not 0 <= p_uncond < 1:
        raise ValueError(f"p_uncond must be a probability in [0, 1) (0.1-0.2 is usual), got {p_uncond!r}")
    if conditional and p_uncond == 0:
        raise ValueError("p_uncond = 0 never shows the model 'no label', so classifier-free guidance would have no "
                         "unconditional eps to use; give 0.1-0.2")
    if isinstance(class_lr_mult, bool) or not isinstance(class_lr_mult, (int, float)) or \
            not 0 < class_lr_mult <= 100 or not math.isfinite(class_lr_mult):
        raise ValueError(f"class_lr_mult must be a number in (0, 100], got {class_lr_mult!r}")
    if init_from is not None and not isinstance(init_from, (str, Path)):
        raise ValueError(f"init_from must be a checkpoint path or 'pretrained', got {type(init_from).__name__}")
    init_state = _init_state(init_from, config, schedule) if init_from is not None and not resume else None
    # Everything about --out is checked before any work: exists (resume or force), a folder, writable.
    atomic.refuse_package_path(out, "out")
    atomic.check_writable(out, "out")
    with atomic.exclusive(out, "out"):  # one writer per --out: a second run is refused, not raced
        if out.exists() and not resume and not force:
            raise ValueError(f"{out} already exists; pass --resume to continue it or --force to overwrite it "
                             "(it may hold hours of training)")
        if resume and not out.exists():
            raise ValueError(f"--resume: there is no checkpoint at {out} to continue; leave out --resume to start "
                             "a new run there")
        removed = atomic.clean_orphans(out)
        if removed:
            print(f"removed {len(removed)} partial file(s) left by an interrupted save: "
                  + ", ".join(p.name for p in removed))
        ck = checkpoint.load(out, kind="unet") if resume else None
        if ck is not None:
            checkpoint.check_compatible(ck, config.to_dict(), schedule.to_dict())
            if "model" not in ck or "optimizer" not in ck:
                raise checkpoint.CheckpointError(f"{out}: holds no model or optimizer state (an exported EMA-only "
                                                 "file?); resume needs a training checkpoint")
            if ck["step"] >= steps:
                raise ValueError(f"--steps is the step to reach; {out} is already at step {ck['step']}, "
                                 f"so give more than {ck['step']} (got {steps})")
        if images is None:
            images, data_labels = data.load_mnist("train", source=data_source)
            labels = data_labels if labels is None else labels
        _check_images(images)
        if conditional:
            labels = _check_labels(labels, len(images), config.num_classes)
        p_uncond = float(p_uncond) if conditional else 0.0
        class_lr_mult = float(class_lr_mult) if conditional else 1.0
        if ck is not None:
            now = {"batch_size": batch_size, "ema_decay": ema_decay, "seed": seed, "warmup": warmup,
                   "n_images": len(images), "p_uncond": p_uncond, "init_from": saved_init(ck, init_from),
                   "class_lr_mult": class_lr_mult}
            saved = ck.get("train", {})
            diffs = [f"{k.replace('_', '-')}: checkpoint has {saved[k]!r}, now {now[k]!r}"
                     for k in RUN_SETTINGS if k in saved and saved[k] != now[k]]
            if init_from is not None and "init_from" not in saved:   # the checkpoint's run started from scratch
                diffs.append(f"init-from: checkpoint has None (trained from scratch), now {str(init_from)!r}")
            if diffs:
                raise checkpoint.CheckpointError(f"cannot resume {out} with other settings ({'; '.join(diffs)}); only "
                                                 "--lr may change on --resume: give the checkpoint's values, or "
                                                 "start a new run with another --out")
        started_from = saved_init(ck, init_from) if ck is not None else (None if init_from is None else str(init_from))
        x_all = data.to_tensor(images).to(device)
        torch.manual_seed(seed)
        model = UNet(config)
        if init_state is not None:
            checkpoint.load_state(model, init_state, str(init_from))
        model = model.to(device)
        y_all = torch.as_tensor(labels, dtype=torch.long) if conditional else None
        ema = copy.deepcopy(model).requires_grad_(False)
        new = [p for n, p in model.named_parameters() if n.startswith("class_emb.")]
        groups = [{"params": [p for n, p in model.named_parameters() if not n.startswith("class_emb.")], "lr_mult": 1.0}]
        if new:  # the class embedding: its own rate, lr * class_lr_mult
            groups.append({"params": new, "lr": lr * class_lr_mult, "lr_mult": class_lr_mult})
        opt = torch.optim.AdamW(groups, lr=lr, weight_decay=0.0)
        sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: min(1.0, (s + 1) / warmup))
        g = torch.Generator().manual_seed(seed)
        step, history, phases = 0, [], []  # phases: [first step, lr] for each learning-rate phase
        running = torch.zeros((), device=device)  # sum of the losses since the last history entry
        if ck is not None:
            checkpoint.load_state(model, ck["model"])
            checkpoint.load_state(ema, ck["ema"])
            opt.load_state_dict(ck["optimizer"])
            sched.load_state_dict(ck["lr_scheduler"])
            g.set_state(ck["rng"])
            step, history = ck["step"], list(ck["loss_history"])
            if "running_loss" in ck:
                running = ck["running_loss"].to(device=device, dtype=running.dtype).reshape(())
            old_lr = ck.get("train", {}).get("lr", lr)
            phases = list(ck.get("train", {}).get("phases", [[0, old_lr]]))
            if lr != old_lr:  # a new phase, e.g. a low-lr polish: the schedule's base lr changes, Adam moments stay
                for group in opt.param_groups:
                    group["initial_lr"] = group["lr"] = lr * group.get("lr_mult", 1.0)
                sched.base_lrs = [g_["initial_lr"] for g_ in opt.param_groups]
                print(f"learning rate {old_lr:g} -> {lr:g} from step {step}")
            print(f"resumed from {out} at step {step}")
        if not phases or phases[-1][1] != lr:
            phases.append([step, lr])

        def snapshot():
            return {"kind": "unet", "config": config.to_dict(), "schedule": schedule.to_dict(),
                    "step": step, "model": _to_cpu(model.state_dict()), "ema": _to_cpu(ema.state_dict()),
                    "optimizer": _to_cpu(opt.state_dict()), "lr_scheduler": sched.state_dict(), "rng": g.get_state(),
                    "loss_history": history, "running_loss": running.detach().cpu().clone(),
                    "train": {"batch_size": batch_size, "lr": lr, "ema_decay": ema_decay, "seed": seed,
                              "warmup": warmup, "n_images": len(x_all), "phases": phases, "device": device.type,
                              **({"p_uncond": p_uncond, "class_lr_mult": class_lr_mult} if conditional else {}),
                              **({"init_from": started_from} if started_from is not None else {})}}

        model.train()
        bar = tqdm(total=steps, initial=step, disable=not progress, desc="train")
        t0 = time.time()
        while step < steps:
            idx = torch.randint(0, len(x_all), (batch_size,), generator=g)
            loss = diffusion_loss(model, schedule, x_all[idx.to(device)], generator=g,
                                  y=y_all[idx] if conditional else None, p_uncond=p_uncond)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            step += 1
            ema_update(ema, model, min(ema_decay, (1 + step) / (10 + step)))
            running += loss.detach()  # no .item() per step: on a GPU that would wait for every step
            if step % 50 == 0:
                history.append([step, running.item() / 50])
                running.zero_()
                bar.set_postfix(loss=f"{history[-1][1]:.4f}")
            bar.update(1)
            if step % ckpt_every == 0 or step == steps:
                checkpoint.save(snapshot(), out)
        bar.close()
        print(f"trained to step {step} in {time.time() - t0:.0f}s; checkpoint {out}")
        return snapshot()


def saved_init(ck: dict, init_from):
    """On resume, ``init_from`` need not be given again: the checkpoint's own counts."""
    saved = ck.get("train", {}).get("init_from")
    return saved if init_from is None else str(init_from)


def _check_labels(labels, n: int, num_classes: int) -> np.ndarray:
    if labels is None:
        raise ValueError("a conditional model (num_classes > 0) trains on labels; give labels= (one per image)")
    arr = np.asarray(labels)
    if arr.shape != (n,) or arr.dtype.kind not in "iu":
        raise ValueError(f"labels must be {n} integers, one per image; got a {arr.dtype} array of shape {arr.shape}")
    if n and (arr.min() < 0 or arr.max() >= num_classes):
        raise ValueError(f"labels must lie in 0..{num_classes - 1}, got {int(arr.min())}..{int(arr.max())}")
    return arr


def _init_state(init_from, config: UNetConfig, schedule: schedules.Schedule) -> dict:
    """The state dict that starts a run from another U-Net checkpoint (EMA weights preferred).

    An unconditional source may start a conditional model: its class embedding keeps its zero start."""
    from . import pretrained  # pretrained imports unet, not train: no cycle
    if str(init_from) == "pretrained":
        with pretrained.shipped_file(pretrained.UNET_FILE) as p:
            ck = checkpoint.load(p, kind="unet")
    else:
        ck = checkpoint.load(init_from, kind="unet")
    src = UNetConfig.from_dict(ck.get("config", {}))
    mine = {k: v for k, v in config.to_dict().items() if k != "num_classes"}
    theirs = {k: v for k, v in src.to_dict().items() if k != "num_classes"}
    problems = checkpoint.diff_dicts(theirs, mine, "config")
    if problems:
        raise checkpoint.CheckpointError(f"--init-from {init_from}: another architecture ({'; '.join(problems)})")
    if "schedule" in ck:
        problems = checkpoint.diff_dicts(ck["schedule"], schedule.to_dict(), "schedule")
        if problems:
            raise checkpoint.CheckpointError(f"--init-from {init_from}: trained with another schedule "
                                             f"({'; '.join(problems)})")
    if src.num_classes not in (0, config.num_classes):
        raise checkpoint.CheckpointError(f"--init-from {init_from}: it has {src.num_classes} classes, this model "
                                         f"{config.num_classes}")
    state = dict(ck["ema"] if "ema" in ck else ck["model"])
    if config.num_classes and not src.num_classes:   # the fresh model's zero-started embedding
        state["class_emb.weight"] = UNet(config).class_emb.weight.detach().clone()
    return state


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(prog=cli.prog("train"), description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--steps", type=int, default=6000, help="the step to reach (also on --resume); default 6000")
    ap.add_argument("--batch-size", type=int, default=128)
    ap.add_argument("--lr", type=float, default=1e-3, help="AdamW learning rate in (0, 1]; the only setting "
                    "--resume may change (a new phase)")
    ap.add_argument("--ema-decay", type=float, default=0.999, help="in [0, 1); default 0.999")
    ap.add_argument("--warmup", type=int, default=200, help="linear learning-rate warm-up steps (at least 1)")
    ap.add_argument("--ckpt-every", type=int, default=250)
    ap.add_argument("--out", default="checkpoints/unet.pt", help="the checkpoint file (default checkpoints/unet.pt)")
    what = ap.add_mutually_exclusive_group()
    what.add_argument("--resume", action="store_true", help="continue the checkpoint at --out (it must exist)")
    what.add_argument("--force", action="store_true", help="replace an existing checkpoint at --out")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--schedule", default="linear", choices=schedules.SCHEDULES)
    ap.add_argument("--T", type=int, default=1000)
    ap.add_argument("--data", default="bundled", choices=("bundled", "idx", "auto"),
                    help="bundled: the 9,001 shipped digits (default); idx/auto: IDX files in $DDIM_TEACH_DATA")
    ap.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's choice)")
    ap.add_argument("--device", default="cpu", help="cpu (default) or cuda")
    ap.add_argument("--no-progress", action="store_true")
    ap.add_argument("--conditional", action="store_true", help="train eps(x_t, t, y) with 10 digit classes and "
                    "label dropout (classifier-free guidance)")
    ap.add_argument("--p-uncond", type=float, default=None, help="with --conditional: the probability of "
                    "dropping a label to 'no label' (default 0.15)")
    ap.add_argument("--class-lr-mult", type=float, default=None, help="with --conditional: the class embedding "
                    "learns at --lr times this (default 1)")
    ap.add_argument("--init-from", default=None, help="a U-Net checkpoint, or 'pretrained' (the shipped one), "
                    "whose weights start the run")
    a = ap.parse_args(argv)
    if not a.conditional and (a.p_uncond is not None or a.class_lr_mult is not None):
        ap.error("--p-uncond and --class-lr-mult set how a conditional model trains; give --conditional too")
    a.p_uncond = 0.15 if a.p_uncond is None else a.p_uncond
    a.class_lr_mult = 1.0 if a.class_lr_mult is None else a.class_lr_mult
    if a.threads is not None and a.threads < 1:
        ap.error(f"--threads must be at least 1, got {a.threads}")
    names = {"steps": "--steps", "batch_size": "--batch-size", "lr": "--lr", "ema_decay": "--ema-decay",
             "warmup": "--warmup", "ckpt_every": "--ckpt-every", "seed": "--seed", "T": "--T"}
    try:
        _check_settings(a.steps, a.batch_size, a.lr, a.ema_decay, a.ckpt_every, a.seed, a.T, a.warmup)
    except ValueError as e:
        msg = str(e)
        for k, flag in names.items():
            if msg.startswith(k + " "):
                msg = flag + msg[len(k):]
        ap.error(msg)
    if a.threads:
        torch.set_num_threads(a.threads)
    try:
        train(a.steps, a.batch_size, a.lr, a.ema_decay, a.ckpt_every, a.out, a.resume, a.seed,
              a.schedule, a.T, config=UNetConfig(num_classes=10) if a.conditional else None, warmup=a.warmup,
              progress=not a.no_progress, device=a.device, force=a.force, data_source=a.data,
              p_uncond=a.p_uncond, init_from=a.init_from, class_lr_mult=a.class_lr_mult)
    except ValueError as e:  # CheckpointError and DataError are ValueErrors: one line, no traceback
        ap.error(str(e))


if __name__ == "__main__":
    main()
