""""My samples are only noise": a checklist that runs on a model and a schedule.

Each check targets one mistake that circulates in diffusion tutorials and prints what it measured:

1. ``terminal_noise``: ᾱ at the last timestep is close to 0, so x_T ~ N(0, I) is what training saw.
2. ``output_shape``: the model returns ε̂ with the input's shape.
3. ``uses_time``: the output depends on t (a time embedding that is never added does not).
4. ``eps_scale``: on noised real data, ε̂ beats the trivial guess ε̂ = 0 by a wide margin, so the model
   predicts ε (not x₀, not v) at the scale the sampler assumes.
5. ``denoises``: at t = T/10, x̂₀ from one call is much closer to the clean image than x_t/sqrt(ᾱ_t)
   (x̂₀ must use ᾱ_t, not α_t).
6. ``timesteps``: the sampling list starts near T - 1 and is strictly descending.
7. ``samples_like_data``: a short DDIM run gives images whose pixel statistics match the data's
   rather than noise's.

``run_checks(model, schedule, x0)`` returns a :class:`Report`; ``print(report)`` shows the table.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch

from . import checks, samplers
from .i18n import tr
from .schedules import Schedule, check_schedule


@dataclass
class Check:
    name: str
    ok: bool
    detail: str


class Report(list):
    """A list of :class:`Check`; ``ok`` is True when every check passed."""

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self)

    def failed(self) -> list[str]:
        return [c.name for c in self if not c.ok]

    def __str__(self) -> str:
        w = max(len(c.name) for c in self)
        return "\n".join(f"{tr('diagnose.pass') if c.ok else tr('diagnose.fail')}  {c.name:<{w}}  {c.detail}" for c in self)


def _eps(model, x, t: int) -> torch.Tensor:
    """The raw model output at integer t (t built on x's device); its shape and values are what the checks judge."""
    with torch.no_grad():
        out = model(x, torch.full((x.shape[0],), int(t), dtype=torch.long, device=x.device))
    return checks.model_output(out, x, f" (t={t})", strict=False)


def run_checks(model, schedule: Schedule, x0: torch.Tensor, steps: int = 20, spacing="trailing",
               seed: int = 0) -> Report:
    """Run the checklist. ``x0``: a batch of real data in the model's range (e.g. 16 digits in [-1, 1]), on the
    model's device and in its dtype. Noise is drawn on the CPU from ``seed`` and moved to x0's device."""
    check_schedule(schedule)
    if not isinstance(x0, torch.Tensor) or x0.dim() < 2 or len(x0) < 2:
        got = tuple(x0.shape) if isinstance(x0, torch.Tensor) else type(x0).__name__
        raise ValueError(f"x0 must be a batch of at least 2 data points, shape (B, ...), got {got}")
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise ValueError(f"seed must be an integer, got {seed!r}")
    checks.model_input(model, x0, "x0")
    g = torch.Generator().manual_seed(seed)
    T = schedule.T
    rep = Report()
    ab_T = float(schedule.alpha_bars[-1])
    rep.append(Check("terminal_noise", ab_T < 1e-2,
                     tr("diagnose.terminal_noise", t=T - 1, ab=f"{ab_T:.2e}")))

    noise = samplers.draw_noise(x0, g)
    out = _eps(model, noise, T - 1)
    shape_ok = tuple(out.shape) == tuple(x0.shape)
    rep.append(Check("output_shape", shape_ok, tr("diagnose.output_shape", out=tuple(out.shape), inp=tuple(x0.shape))))
    if not shape_ok:
        return rep

    t_mid = T // 2
    x_mid = schedule.q_sample(x0, t_mid, noise)
    e_hi, e_lo = _eps(model, x_mid, T - 1), _eps(model, x_mid, T // 20)
    rel = float((e_hi - e_lo).norm() / (e_hi.norm() + e_lo.norm() + 1e-12))
    rep.append(Check("uses_time", rel > 0.02,
                     tr("diagnose.uses_time", t1=T - 1, t2=T // 20, rel=f"{rel:.3f}")))

    eps_hat = _eps(model, x_mid, t_mid)
    mse = float((eps_hat - noise).pow(2).mean())
    trivial = float(noise.pow(2).mean())
    rep.append(Check("eps_scale", mse < 0.5 * trivial,
                     tr("diagnose.eps_scale", t=t_mid, mse=f"{mse:.3f}", trivial=f"{trivial:.3f}")))

    t_small = max(1, T // 10)
    ab_small = schedule.alpha_bar(t_small)
    x_small = schedule.q_sample(x0, t_small, noise)
    x0_hat = samplers.predict_x0(x_small, _eps(model, x_small, t_small), ab_small)
    err = float((x0_hat - x0).pow(2).mean())
    naive = float((x_small / ab_small.sqrt() - x0).pow(2).mean())  # the estimate with eps_hat = 0
    rep.append(Check("denoises", err < 0.5 * naive,
                     tr("diagnose.denoises", t=t_small, err=f"{err:.4f}", naive=f"{naive:.4f}")))

    ts = samplers.resolve_timesteps(schedule, steps, spacing)
    top_ok = int(ts[0]) >= int(0.98 * (T - 1)) and bool((ts[1:] < ts[:-1]).all())
    rep.append(Check("timesteps", top_ok,
                     tr("diagnose.timesteps", spacing=repr(spacing), S=steps, first=int(ts[0]), last=int(ts[-1]),
                        top=T - 1)))

    x_T = samplers.draw_noise(x0, g)
    final = samplers.sample(model, schedule, x_T, steps=steps, eta=0.0, spacing=spacing, record_every=None,
                            progress=False).final
    m_s, s_s, m_d, s_d = float(final.mean()), float(final.std()), float(x0.mean()), float(x0.std())
    like = abs(m_s - m_d) < 0.25 * s_d + 0.05 and 0.6 < s_s / s_d < 1.6
    rep.append(Check("samples_like_data", like,
                     tr("diagnose.samples_like_data", S=steps, m_s=f"{m_s:.2f}", s_s=f"{s_s:.2f}", m_d=f"{m_d:.2f}",
                        s_d=f"{s_d:.2f}")))
    return rep
