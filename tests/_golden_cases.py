"""The sampler runs whose outputs are pinned by tests/golden/samplers.safetensors (see test_golden.py).

Each case is a name and a function of (model, schedule, x_T, x0) that returns a dict of tensors. The files were
written once, by this module's ``--write`` entry point as it stood at commit 02ebe80 (``git show
02ebe80:tests/_golden_cases.py``), with the samplers as they were before the package's core was redesigned. The
writer is gone from today's version on purpose: run now, it would record today's outputs and the test could no
longer fail. The test runs the same cases through today's API and demands the same tensors.
"""
from __future__ import annotations

import torch

from ddim_teach.oracles import GaussianOracle

BIG = ("xs", "x0_hats", "eps_hats", "noises")  # stored as SHA-256 of their bytes, the rest as tensors
FIELDS = ("final", "xs", "x0_hats", "eps_hats", "noises", "sigmas", "alpha_bars", "alpha_bar_prevs", "timesteps")


def _traj(tr) -> dict:
    out = {k: getattr(tr, k) for k in FIELDS if getattr(tr, k, None) is not None}
    out["nfe"] = torch.tensor(tr.nfe)
    return out


def digest(v: torch.Tensor) -> str:
    """SHA-256 of a tensor's dtype, shape and bytes: equal only for bit-identical tensors."""
    import hashlib
    v = v.contiguous()
    h = hashlib.sha256(f"{v.dtype}{tuple(v.shape)}".encode())
    h.update(v.view(torch.uint8).numpy().tobytes() if v.numel() else b"")
    return h.hexdigest()


def gen(seed=1):
    return torch.Generator().manual_seed(seed)


def cases(sample, invert):
    """``sample(model, schedule, x_T, **kw)`` and ``invert(model, schedule, x0, **kw)``: today's front ends."""
    c = {}
    for eta in (0.0, 0.5, 1.0):
        c[f"ddim_eta{eta}_S10"] = lambda m, s, x, x0, eta=eta: sample(m, s, x, steps=10, eta=eta, generator=gen())
    for var in ("fixed_small", "fixed_large"):
        c[f"ddpm_{var}_S10"] = lambda m, s, x, x0, var=var: sample(m, s, x, steps=10, method="ddpm", variance=var,
                                                                   generator=gen())
    c["ddpm_fixed_small_S50_leading"] = lambda m, s, x, x0: sample(m, s, x, steps=50, method="ddpm", spacing="leading",
                                                                  generator=gen())
    c["heun_S10"] = lambda m, s, x, x0: sample(m, s, x, steps=10, method="heun")
    c["ddim_eta0.3_S10_clip"] = lambda m, s, x, x0: sample(m, s, x, steps=10, eta=0.3, clip_sample=True,
                                                           generator=gen())
    for sp in ("leading", "trailing", "linspace"):
        for S in (10, 50):
            c[f"ddim_eta0_S{S}_{sp}"] = lambda m, s, x, x0, sp=sp, S=S: sample(m, s, x, steps=S, spacing=sp)
    c["invert_S10"] = lambda m, s, x, x0: invert(m, s, x0, steps=10)
    c["invert_S50_leading"] = lambda m, s, x, x0: invert(m, s, x0, steps=50, spacing="leading")
    return c


def oracle_cases(sample):
    """An exact oracle in each prediction type: the v and x0 paths of the denoiser."""
    c = {}
    for pt in ("epsilon", "v_prediction", "sample"):
        c[f"oracle_{pt}_eta0.5_S10"] = lambda s, x, pt=pt: sample(
            GaussianOracle(s, mu=0.3, s=0.5, prediction_type=pt), s, x, steps=10, eta=0.5, generator=gen(),
            prediction_type=pt)
    from ddim_teach import schedules
    z = schedules.make_schedule("linear", 1000, rescale_to_zero_snr=True)
    c["oracle_v_zero_snr_S10"] = lambda s, x: sample(GaussianOracle(z, mu=0.3, s=0.5, prediction_type="v_prediction"),
                                                     z, x, steps=10, prediction_type="v_prediction")
    return c


def inputs():
    from ddim_teach.pretrained import load_pretrained
    model, _ = load_pretrained()
    from ddim_teach import schedules
    s = schedules.make_schedule("linear", 1000)
    x_T = torch.randn(2, 1, 28, 28, generator=torch.Generator().manual_seed(0))
    return model, s, x_T

