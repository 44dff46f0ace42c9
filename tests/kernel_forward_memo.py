"""A memo of the U-Net's forward passes, shared by the notebook kernels of one test session.

The English and the Chinese edition of a notebook run the same code (the Chinese one only prints other words), so
the second of the two asks the shipped U-Nets for exactly the same outputs as the first. ``tests/conftest.py``
starts every nbval kernel with this file as an IPython startup script and runs both editions of a notebook on one
worker, one after the other; the second then reads each forward pass from ``$DDIM_TEACH_FORWARD_MEMO`` instead of
computing it again. Every cell of both editions still runs, and each answer is the bit-identical tensor that the
same forward pass returned in the same session, on the same thread count.

Only frozen models are remembered (no parameter requires grad: the shipped weights as ``load_pretrained`` returns
them); a call under autograd with an input that requires grad, a model being trained, or weights changed in place
(their version counters move) computes as usual. The key is a hash of the weights, the inputs' bytes, shapes and
dtypes, and torch's thread count.
"""
import hashlib
import os
import threading

import torch

from ddim_teach import unet

_lock = threading.Lock()


def _digest(h, tensor: torch.Tensor) -> None:
    t = tensor.detach().contiguous().cpu()
    h.update(f"{t.dtype}{tuple(t.shape)}".encode())
    h.update(t.reshape(-1).view(torch.uint8).numpy().tobytes() if t.numel() else b"")


def _weights_key(model) -> str | None:
    params = list(model.state_dict().values())
    if any(p.requires_grad for p in model.parameters()):
        return None
    versions = tuple(p._version for p in params)
    cached = getattr(model, "_memo_weights", None)
    if cached is not None and cached[0] == versions:
        return cached[1]
    h = hashlib.blake2b(digest_size=16)
    for name, p in model.state_dict().items():
        h.update(name.encode())
        _digest(h, p)
    key = h.hexdigest()
    model._memo_weights = (versions, key)
    return key


def install(folder: str) -> None:
    os.makedirs(folder, exist_ok=True)
    forward = unet.UNet.forward
    if getattr(forward, "_memo", False):
        return

    def memo_forward(self, x, t, y=None):
        if not isinstance(x, torch.Tensor):
            return forward(self, x, t, y)
        tensors = [v for v in (x, t, y) if isinstance(v, torch.Tensor)]
        weights = _weights_key(self)
        if weights is None or any(v.requires_grad for v in tensors) or x.device.type != "cpu":
            return forward(self, x, t, y)
        h = hashlib.blake2b(digest_size=20)
        h.update(f"{weights}|{torch.get_num_threads()}|{torch.is_grad_enabled()}|{y is None}".encode())
        for v in (x, t, y):
            if isinstance(v, torch.Tensor):
                _digest(h, v)
            else:
                h.update(repr(v).encode())
        path = os.path.join(folder, h.hexdigest() + ".pt")
        if os.path.exists(path):
            try:
                return torch.load(path, weights_only=True)
            except Exception:
                pass        # a half-written or damaged entry: compute it again
        out = forward(self, x, t, y)
        if isinstance(out, torch.Tensor) and not out.requires_grad:
            with _lock:
                part = f"{path}.{os.getpid()}.{threading.get_ident()}.part"
                torch.save(out.detach().clone(), part)
                os.replace(part, path)
        return out

    memo_forward._memo = True
    unet.UNet.forward = memo_forward


if os.environ.get("DDIM_TEACH_FORWARD_MEMO"):
    install(os.environ["DDIM_TEACH_FORWARD_MEMO"])
