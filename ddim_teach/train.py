"""Train the compact U-Net on MNIST with the DDPM epsilon-prediction loss.

    python -m ddim_teach.train --steps 6000 --out checkpoints/unet.pt
    python -m ddim_teach.train --steps 6000 --out checkpoints/unet.pt --resume   # continue after a kill

Loss (DDPM eq. 14, "L_simple"): E_{x0, t, eps} || eps - eps_theta(sqrt(ab_t) x0 + sqrt(1 - ab_t) eps, t) ||^2,
t uniform on 0..T-1. AdamW, EMA of the weights, a fixed seed. A checkpoint (model, EMA,
optimizer, RNG state, step, config, schedule, loss history) is written atomically every
``--ckpt-every`` steps, so ``--resume`` loses at most the steps since the last one and
continues bit-for-bit as if never interrupted.
"""
from __future__ import annotations

import argparse
import copy
import time
from pathlib import Path

import torch
import torch.nn.functional as F
from tqdm.auto import tqdm

from . import checkpoint, data, schedules
from .unet import UNet, UNetConfig


def ema_update(ema: torch.nn.Module, model: torch.nn.Module, decay: float) -> None:
    with torch.no_grad():
        torch._foreach_lerp_(list(ema.parameters()), list(model.parameters()), 1 - decay)


def _to_cpu(obj):
    """A state dict (nested dicts/lists of tensors) with every tensor on the CPU, so checkpoints load anywhere."""
    if isinstance(obj, torch.Tensor):
        return obj.detach().cpu()
    if isinstance(obj, dict):
        return {k: _to_cpu(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return type(obj)(_to_cpu(v) for v in obj)
    return obj


def diffusion_loss(model, schedule: schedules.Schedule, x0: torch.Tensor, generator=None) -> torch.Tensor:
    """L_simple for one batch: random t per sample, random eps, MSE between eps and eps_hat.

    t and eps are drawn on the CPU (``generator`` is a CPU generator) and moved to ``x0``'s device,
    so a seed gives the same draws on any device.
    """
    t = torch.randint(0, schedule.T, (x0.shape[0],), generator=generator)
    eps = torch.randn(x0.shape, generator=generator).to(x0.device)
    x_t = schedule.q_sample(x0, t, eps)
    return F.mse_loss(model(x_t, t.to(x0.device)), eps)


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


def train(steps: int = 6000, batch_size: int = 128, lr: float = 1e-3, ema_decay: float = 0.999,
          ckpt_every: int = 250, out: str | Path = "checkpoints/unet.pt", resume: bool = False,
          seed: int = 0, schedule_name: str = "linear", T: int = 1000, config: UNetConfig | None = None,
          images=None, warmup: int = 200, progress: bool = True, device: str = "cpu") -> dict:
    """Train and return the final checkpoint dict. ``images``: uint8 (N, 28, 28); default the MNIST train split.

    ``device``: "cpu" (default) or e.g. "cuda". Random draws always come from one CPU generator, and the
    checkpoint always holds CPU tensors, so a run can be resumed on another device (not bit-for-bit:
    GPU kernels round differently).
    """
    if steps < 1 or batch_size < 1 or ckpt_every < 1:
        raise ValueError("steps, batch_size and ckpt_every must be positive")
    out = Path(out)
    schedule = schedules.make_schedule(schedule_name, T)
    config = config or UNetConfig()
    if images is None:
        images, _ = data.load_mnist("train")
    device = _check_device(device)
    x_all = data.to_tensor(images).to(device)
    torch.manual_seed(seed)
    model = UNet(config).to(device)
    ema = copy.deepcopy(model).requires_grad_(False)
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.0)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: min(1.0, (s + 1) / warmup))
    g = torch.Generator().manual_seed(seed)
    step, history, phases = 0, [], []  # phases: [first step, lr] for each learning-rate phase
    if resume and out.exists():
        ck = checkpoint.load(out, kind="unet")
        checkpoint.check_compatible(ck, config.to_dict(), schedule.to_dict())
        checkpoint.load_state(model, ck["model"])
        checkpoint.load_state(ema, ck["ema"])
        opt.load_state_dict(ck["optimizer"])
        sched.load_state_dict(ck["lr_scheduler"])
        g.set_state(ck["rng"])
        step, history = ck["step"], list(ck["loss_history"])
        old_lr = ck.get("train", {}).get("lr", lr)
        phases = list(ck.get("train", {}).get("phases", [[0, old_lr]]))
        if lr != old_lr:  # a new phase, e.g. a low-lr polish: the schedule's base lr changes, Adam moments stay
            for group in opt.param_groups:
                group["initial_lr"] = group["lr"] = lr
            sched.base_lrs = [lr] * len(opt.param_groups)
            print(f"learning rate {old_lr:g} -> {lr:g} from step {step}")
        print(f"resumed from {out} at step {step}")
    if not phases or phases[-1][1] != lr:
        phases.append([step, lr])

    def snapshot():
        return {"kind": "unet", "config": config.to_dict(), "schedule": schedule.to_dict(),
                "step": step, "model": _to_cpu(model.state_dict()), "ema": _to_cpu(ema.state_dict()),
                "optimizer": _to_cpu(opt.state_dict()), "lr_scheduler": sched.state_dict(), "rng": g.get_state(),
                "loss_history": history, "train": {"batch_size": batch_size, "lr": lr, "ema_decay": ema_decay,
                                                   "seed": seed, "n_images": len(x_all),
                                                   "phases": phases, "device": device.type}}

    model.train()
    bar = tqdm(total=steps, initial=step, disable=not progress, desc="train")
    running, t0 = torch.zeros((), device=device), time.time()
    while step < steps:
        idx = torch.randint(0, len(x_all), (batch_size,), generator=g)
        loss = diffusion_loss(model, schedule, x_all[idx.to(device)], generator=g)
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


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--steps", type=int, default=6000)
    ap.add_argument("--batch-size", type=int, default=128)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--ema-decay", type=float, default=0.999)
    ap.add_argument("--ckpt-every", type=int, default=250)
    ap.add_argument("--out", default="checkpoints/unet.pt")
    ap.add_argument("--resume", action="store_true")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--schedule", default="linear", choices=schedules.SCHEDULES)
    ap.add_argument("--T", type=int, default=1000)
    ap.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's choice)")
    ap.add_argument("--device", default="cpu", help="cpu (default) or cuda")
    ap.add_argument("--no-progress", action="store_true")
    a = ap.parse_args(argv)
    if a.threads:
        torch.set_num_threads(a.threads)
    train(a.steps, a.batch_size, a.lr, a.ema_decay, a.ckpt_every, a.out, a.resume, a.seed,
          a.schedule, a.T, progress=not a.no_progress, device=a.device)


if __name__ == "__main__":
    main()
