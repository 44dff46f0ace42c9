"""Argument checks, in one place: the public entry points call these, and the same mistake gets the same
exception type and the same wording everywhere.

The convention: a *tensor* argument of the wrong kind (a string or an array where a tensor belongs, an integer
tensor where a floating-point one does, a model output of another dtype) is a ``TypeError``; a tensor of the
wrong size or range (a shape mismatch, alpha_bar = 1.2), and a plain number or name that is out of range or not
a number at all (eta = -0.1, eta = "large", steps = 2.7, an unknown spacing), is a ``ValueError``. Every message
names the argument, says what was given and what is allowed. This module imports nothing else from the package.
"""
from __future__ import annotations

import math
import numbers

import torch


def is_finite(x: torch.Tensor) -> bool:
    """True when x holds no NaN or inf (a meta tensor has no values to check, so it passes)."""
    return x.device.type == "meta" or bool(torch.isfinite(x).all())


def boolean(value, name: str) -> bool:
    """A flag: True or False (a numpy bool too). A string such as 'no' is refused: it would count as True."""
    if not isinstance(value, bool) and not (type(value).__module__ == "numpy" and type(value).__name__ in ("bool_", "bool")):
        raise TypeError(f"{name} must be True or False, got {value!r}")
    return bool(value)


def one_of(value, name: str, choices) -> None:
    if not isinstance(value, str) or value not in choices:
        raise ValueError(f"{name} must be one of {', '.join(map(repr, choices))}, got {value!r}")


def positive_int(value, name: str, low: int = 1, high: int | None = None) -> int:
    """An integer >= low (and <= high): a Python or numpy integer, never a float such as 8.0."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < low \
            or (high is not None and value > high):
        allowed = f"an integer in {low}..{high}" if high is not None else f"an integer >= {low}"
        raise ValueError(f"{name} must be {allowed}, got {value!r}")
    return int(value)


def integer(value, name: str, low: int, high: int) -> int:
    """An integer in low..high: a Python or numpy integer (a slider's value), never a float such as 2.7 or 2.0."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or not low <= int(value) <= high:
        raise ValueError(f"{name} must be an integer in {low}..{high}, got {value!r}")
    return int(value)


def real(value, name: str, lo: float, hi: float, lo_open: bool = True) -> float:
    """A plain number in (lo, hi] (or [lo, hi] with ``lo_open=False``), as a float."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or math.isnan(value) \
            or not (lo < value if lo_open else lo <= value) or not value <= hi:
        raise ValueError(f"{name} must be a number in {'(' if lo_open else '['}{lo}, {hi}], got {value!r}")
    return float(value)


def numbers_tensor(value, name: str, what: str = "") -> torch.Tensor:
    """A number, a list of numbers or a real tensor, as a float64 tensor (``what`` says what it means, e.g.
    " (the data's mean)"). A string, None or a complex number is a TypeError."""
    if isinstance(value, (str, bytes)) or value is None or \
            (isinstance(value, torch.Tensor) and (value.dtype == torch.bool or value.is_complex())):
        raise TypeError(f"{name} must be a number or a tensor of numbers{what}, got {type(value).__name__}")
    try:
        t = torch.as_tensor(value, dtype=torch.float64)
    except (TypeError, ValueError, RuntimeError) as e:
        raise TypeError(f"{name} must be a number or a tensor of numbers{what}, got {type(value).__name__}") from e
    return t


def label_tensor(y, allowed: str = "integer class labels", device=None) -> torch.Tensor:
    """``y`` as a tensor, before its checks: a string (or a list of them) is a TypeError that says what is allowed."""
    if isinstance(y, (str, bytes)) or (isinstance(y, (list, tuple)) and any(isinstance(v, (str, bytes)) for v in y)):
        raise TypeError(f"y must be {allowed}, got {type(y).__name__}" +
                        (f" {y!r}" if isinstance(y, str) else " of str"))
    try:
        return torch.as_tensor(y, device=device)
    except (TypeError, ValueError, RuntimeError) as e:
        raise TypeError(f"y must be {allowed}, got {type(y).__name__}") from e


def labels(y, batch: int, high: int | None = None, device=None, meaning: str = "", item: str = "image") -> torch.Tensor:
    """Class labels as a LongTensor (batch,): one integer label (used for every item) or one per item, each in
    0..high (no upper bound for ``high`` None). Floats and bools are refused, never rounded to a class."""
    allowed = f"integer class labels 0..{high}{meaning}" if high is not None else "integer class labels >= 0"
    y = label_tensor(y, allowed, device)
    if y.dtype == torch.bool or y.is_floating_point() or y.is_complex():
        raise ValueError(f"y must hold integer labels, not {y.dtype} (allowed: {allowed})")
    if y.dim() == 0:
        y = y.expand(batch)
    if y.shape != (batch,):
        raise ValueError(f"y must be one label or one per {item} ({batch}), got shape {tuple(y.shape)}")
    bad = (y < 0) | (y > high) if high is not None else y < 0
    if bool(bad.any()):
        what = f"class labels 0..{high}{meaning}" if high is not None else "class labels >= 0"
        raise ValueError(f"y must be {what}, got {sorted(set(y[bad].tolist()))[:6]}")
    return y.long()


def function(f, name: str, how: str) -> None:
    if f is not None and not callable(f):
        raise TypeError(f"{name} must be callable as {how}, got {type(f).__name__}")


def eta(value) -> float:
    """DDIM's eta, a number in [0, 1] (a 0-dim floating tensor is accepted)."""
    if isinstance(value, torch.Tensor) and value.dim() == 0 and value.is_floating_point():
        value = float(value)
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or math.isnan(value) or not 0.0 <= value <= 1.0:
        raise ValueError(f"eta must be a number in [0, 1] (0 = deterministic DDIM, 1 = DDPM-like), got {value!r}")
    return float(value)


def alpha_bar(a, name: str, allow_zero: bool = True, allow_one: bool = True, zero_means: str | None = None) -> torch.Tensor:
    """An alpha_bar argument: a number or 0-dim tensor becomes a float64 0-dim tensor; a tensor with
    dimensions (e.g. shape (B, 1, 1, 1), to broadcast against x) is kept as given. Values must lie in
    [0, 1], with the ends excluded where a formula divides by sqrt(alpha_bar) or sqrt(1 - alpha_bar);
    ``zero_means`` says why 0 is excluded (default: x0_hat cannot be recovered from eps_hat there)."""
    if isinstance(a, bool) or not isinstance(a, (numbers.Real, torch.Tensor)):
        raise TypeError(f"{name} must be a number or a tensor, got {type(a).__name__}")
    if isinstance(a, torch.Tensor) and a.dim() > 0:
        if not a.is_floating_point():
            raise TypeError(f"{name} must be a floating-point tensor, got {a.dtype}")
        vals = a if a.device.type != "meta" else None
    else:
        a = torch.as_tensor(a, dtype=torch.float64)
        v = float(a)  # the common case, a scalar: checked in Python, cheaply
        vals = None if (0 < v if not allow_zero else 0 <= v) and (v < 1 if not allow_one else v <= 1) else a
    if vals is not None:
        lo_ok = (vals >= 0) if allow_zero else (vals > 0)
        hi_ok = (vals <= 1) if allow_one else (vals < 1)
        if not bool((lo_ok & hi_ok).all()):
            lo, hi = "[0" if allow_zero else "(0", "1]" if allow_one else "1)"
            shown = float(vals) if vals.dim() == 0 else vals.flatten()[:6].tolist()
            why = ""
            if not allow_zero and bool((vals == 0).any()):
                why = f" ({zero_means})" if zero_means else (
                    " (alpha_bar = 0 is pure noise, zero terminal SNR: x0_hat cannot be recovered from eps_hat "
                    "there; use a v- or x0-predicting model, prediction_type='v_prediction' or 'sample')")
            raise ValueError(f"{name} must lie in {lo}, {hi}, got {shown}{why}")
    return a


def scalar_alpha_bar(a, name: str, allow_zero: bool = True, allow_one: bool = True,
                     zero_means: str | None = None) -> torch.Tensor:
    """:func:`alpha_bar`, and a single number (a 0-dim float64 tensor)."""
    a = alpha_bar(a, name, allow_zero, allow_one, zero_means)
    if a.dim() != 0:
        raise ValueError(f"{name} must be a scalar, got shape {tuple(a.shape)}")
    return a


def toward_less_noise(alpha_bar_t: torch.Tensor, alpha_bar_prev: torch.Tensor, what: str,
                      names: tuple[str, str] = ("alpha_bar_t", "alpha_bar_prev")) -> None:
    """The second level is the less noisy one (its alpha_bar is at least the first's); ``names`` name the two."""
    if alpha_bar_t > alpha_bar_prev:
        raise ValueError(f"{names[1]} ({float(alpha_bar_prev)}) must be >= {names[0]} ({float(alpha_bar_t)}) "
                         f"{what}: a step toward the data goes toward less noise")


def like(x, name: str = "x_t", **others) -> None:
    """x (called ``name``) is a floating-point tensor; every other given tensor has its shape (no silent
    broadcasting) and its dtype (no silent promotion of a float32 x to float64, as for a model's output)."""
    if not isinstance(x, torch.Tensor) or not x.is_floating_point():
        got = x.dtype if isinstance(x, torch.Tensor) else type(x).__name__
        raise TypeError(f"{name} must be a floating-point tensor, got {got}")
    for other, v in others.items():
        if v is None:
            continue
        if not isinstance(v, torch.Tensor):
            raise TypeError(f"{other} must be a tensor shaped like {name}, got {type(v).__name__}")
        if v.shape != x.shape:
            raise ValueError(f"{other} has shape {tuple(v.shape)}, {name} has {tuple(x.shape)}; they must match")
        if v.dtype != x.dtype:
            raise TypeError(f"{other} is {v.dtype}, {name} is {x.dtype}; they must have the same dtype "
                            f"(convert one, e.g. {other}.to({name}.dtype))")


def per_sample(a: torch.Tensor, x: torch.Tensor, name: str, x_name: str = "x_t") -> torch.Tensor:
    """A checked alpha_bar (or sigma) ``a`` made to broadcast against x sample by sample. A number (0-dim) is
    kept; a tensor of shape (B,), one per sample, becomes (B, 1, ...) whatever x's rank (never one per
    feature); a tensor of x's rank must broadcast into x's shape. A tensor with dimensions takes x's dtype and
    device (alpha_bar never changes the result's dtype). Anything else is refused."""
    if a.dim() == 0:
        return a
    B = x.shape[0] if x.dim() else 0
    if a.dim() == 1 and x.dim() > 1 and a.shape[0] == B:
        return a.to(dtype=x.dtype, device=x.device).reshape(-1, *([1] * (x.dim() - 1)))
    if a.dim() == x.dim() and all(n in (1, m) for n, m in zip(a.shape, x.shape)):
        return a.to(dtype=x.dtype, device=x.device)
    per = f"({B}, {', '.join(['1'] * (x.dim() - 1))})" if x.dim() > 1 else f"({B},)"
    raise ValueError(f"{name} must be one number, one per sample of shape ({B},) or shaped {per} to broadcast "
                     f"against {x_name}; got shape {tuple(a.shape)} for {x_name} of shape {tuple(x.shape)}")


def batch(x, name: str = "x_T") -> None:
    """A non-empty, finite, floating-point batch of shape (B, ...)."""
    if not isinstance(x, torch.Tensor) or not x.is_floating_point():
        got = x.dtype if isinstance(x, torch.Tensor) else type(x).__name__
        raise TypeError(f"{name} must be a floating-point tensor (float32 or float64), got {got}")
    if x.dim() < 2 or x.shape[0] == 0:
        raise ValueError(f"{name} must have a non-empty batch dimension, shape (B, ...); got {tuple(x.shape)}")
    if not is_finite(x):
        raise ValueError(f"{name} contains NaN or inf; start from finite values (e.g. torch.randn)")


def integer_timesteps(t, what: str = "timestep") -> torch.Tensor:
    """Integer timesteps as a LongTensor (on the CPU). Floats are accepted only when whole (500.0);
    500.7 is an error, never truncated."""
    if isinstance(t, torch.Tensor):
        t = t.detach().cpu()
    elif isinstance(t, bool):
        raise ValueError(f"{what} must be an integer, got {t!r}")
    try:
        t = torch.as_tensor(t)
    except (TypeError, ValueError, RuntimeError) as e:
        raise ValueError(f"{what} must be an integer or a list/tensor of integers, got {t!r}") from e
    if t.dtype == torch.bool or t.is_complex():
        raise ValueError(f"{what} must be integers, got dtype {t.dtype}")
    if t.is_floating_point():
        if not bool(torch.isfinite(t).all()) or not bool((t == t.round()).all()):
            bad = t[~torch.isfinite(t) | (t != t.round())].flatten()[:4].tolist()
            raise ValueError(f"{what} must be integers (0-based indices into the schedule), got {bad}; "
                             "they are not rounded or truncated for you")
    return t.long()


def descending_timesteps(ts, T: int) -> torch.Tensor:
    """A non-empty, strictly descending list of timesteps in [0, T) (noisiest first), as a LongTensor."""
    ts = integer_timesteps(ts, "timesteps")
    if ts.dim() != 1 or len(ts) == 0:
        raise ValueError("timesteps must be a non-empty 1-D list")
    if ((ts < 0) | (ts >= T)).any():
        raise ValueError(f"timesteps must lie in [0, {T}) (0-based; {T - 1} is the noisiest), got {ts.tolist()}")
    if len(ts) > 1 and not (ts[:-1] > ts[1:]).all():
        dup = len(torch.unique(ts)) < len(ts)
        what = "contain duplicates" if dup else "are not strictly descending"
        raise ValueError(f"timesteps {what}: {ts.tolist()[:12]}{'...' if len(ts) > 12 else ''}; "
                         "give them strictly descending, noisiest first")
    return ts


def noise_source(generator, noises, x_T: torch.Tensor, steps: int) -> None:
    """A generator to draw each step's z, or the z of every step given as ``noises`` (steps, *x_T.shape)."""
    if generator is not None and not isinstance(generator, torch.Generator):
        raise TypeError(f"generator must be a torch.Generator, got {type(generator).__name__}")
    if noises is None:
        return
    if generator is not None:
        raise ValueError("give noises (the z of every step) or a generator to draw them, not both")
    if not isinstance(noises, torch.Tensor) or tuple(noises.shape) != (steps, *x_T.shape):
        got = tuple(noises.shape) if isinstance(noises, torch.Tensor) else type(noises).__name__
        raise ValueError(f"noises must be a tensor of shape {(steps, *x_T.shape)} (steps, *x_T.shape), got {got}")
    if noises.dtype != x_T.dtype:
        raise ValueError(f"noises must have x_T's dtype {x_T.dtype}, got {noises.dtype}")
    if not is_finite(noises):
        raise ValueError("noises contain NaN or inf")


def model_output(out, x: torch.Tensor, at: str, strict: bool = True) -> torch.Tensor:
    """What ``model(x, t)`` returned, as a tensor shaped like x, on x's device, finite. ``at`` names the call.

    A diffusers-style output object with a tensor ``.sample`` is unwrapped; anything else that is not a tensor
    (a tuple, None, a numpy array) is a clear error. ``strict=False`` checks only that (a diagnosis judges
    the shape and values itself)."""
    if not isinstance(out, torch.Tensor) and isinstance(getattr(out, "sample", None), torch.Tensor):
        out = out.sample  # diffusers' BaseOutput
    if not isinstance(out, torch.Tensor):
        hint = {"NoneType": " (did its forward forget `return`?)",
                "tuple": " (diffusers models with return_dict=False return a tuple: return out[0] instead)",
                "ndarray": " (convert with torch.from_numpy)"}.get(type(out).__name__, "")
        raise TypeError(f"model(x, t) must return a torch.Tensor shaped like x (or an object with a tensor "
                        f".sample), got {type(out).__name__}{at}{hint}")
    if not strict:
        return out
    if out.dtype != x.dtype:
        raise TypeError(f"model output is {out.dtype}, x is {x.dtype}{at}; a model must return x's dtype "
                        "(a float64 or integer output would silently change the whole run)")
    if out.shape != x.shape:
        raise ValueError(f"model output has shape {tuple(out.shape)}, expected {tuple(x.shape)}{at}")
    if out.device != x.device:
        raise ValueError(f"model output is on {out.device}, x is on {x.device}{at}")
    if not is_finite(out):
        if not is_finite(x):
            raise ValueError(f"x fed to the model{at} already contains NaN or inf: an earlier step made it")
        raise ValueError(f"model returned NaN or inf{at}")
    return out


def model_input(model, x, name: str = "x_T") -> None:
    """x fits the model: a finite batch, of the model's ``sample_shape`` if it declares one, and of a
    ``torch.nn.Module``'s dtype and device."""
    if not callable(model):
        raise TypeError(f"model must be callable as model(x_t, t), got {type(model).__name__}")
    batch(x, name)
    want = getattr(model, "sample_shape", None)
    if want is not None and tuple(x.shape[1:]) != tuple(want):
        raise ValueError(f"{name} has shape {tuple(x.shape)}; this model expects (B, {', '.join(map(str, want))})")
    if isinstance(model, torch.nn.Module):
        p = next((p for p in model.parameters() if p.is_floating_point()), None)
        if p is not None and p.dtype != x.dtype:
            raise ValueError(f"{name} is {x.dtype} but the model's weights are {p.dtype}; "
                             f"pass {name}.to({p.dtype}) (or convert the model)")
        if p is not None and p.device != x.device:
            raise ValueError(f"{name} is on {x.device} but the model is on {p.device}; "
                             f"pass {name}.to('{p.device}')")
