"""A compact U-Net for 1x28x28 images that predicts the noise eps_hat(x_t, t).

Resolutions 28 -> 14 -> 7 with channels ``ch_mult * base`` (default 24, 48, 96):
each level has ResNet blocks (GroupNorm, SiLU, 3x3 convs) into which a
sinusoidal embedding of t (Vaswani et al. 2017, as in DDPM) is *added*; the 7x7
level and the middle carry single-head self-attention; the decoder concatenates
the encoder's activations (skip connections). About 1.1 M parameters.

Class-conditional (``num_classes`` > 0, for classifier-free guidance, Ho & Salimans 2022): an embedding
of the label y with ``num_classes + 1`` entries, the last one "no label" (∅), is *added* to the time
embedding, so eps_hat = UNet(x_t, t, y). It starts at zero, so a conditional model initialised from an
unconditional one computes exactly what that one computes until training moves it.
Weights and activations use the channels-last layout, which mkldnn runs ~15 % faster on CPU.
"""
from __future__ import annotations

import math
import numbers
from dataclasses import asdict, dataclass

import torch
import torch.nn.functional as F
from torch import nn

from . import checks


@dataclass(frozen=True)
class UNetConfig:
    in_channels: int = 1
    image_size: int = 28
    base_channels: int = 24
    ch_mult: tuple = (1, 2, 4)
    num_res_blocks: int = 1
    attn_resolutions: tuple = (7,)
    groups: int = 8
    dropout: float = 0.0
    num_classes: int = 0  # 0: unconditional; else labels 0..num_classes-1, and num_classes means "no label"

    def __post_init__(self):
        """Refuse, at construction, a configuration that would build a zero-width network or one whose forward
        pass fails (GroupNorm's groups, an image size the down/up path cannot bring back)."""
        for name in ("in_channels", "image_size", "base_channels", "num_res_blocks", "groups"):
            checks.positive_int(getattr(self, name), name)
        for name, low in (("ch_mult", 1), ("attn_resolutions", 1)):
            v = getattr(self, name)
            if isinstance(v, (str, bytes)) or not hasattr(v, "__len__") or (name == "ch_mult" and len(v) == 0) \
                    or any(isinstance(m, bool) or not isinstance(m, numbers.Integral) or m < low for m in v):
                what = "a non-empty list of integers >= 1 (one per level)" if name == "ch_mult" else \
                    "a list of resolutions (integers >= 1) that carry self-attention"
                raise ValueError(f"{name} must be {what}, got {v!r}")
        checks.real(self.dropout, "dropout", 0.0, 1.0, lo_open=False)
        if self.dropout == 1.0:
            raise ValueError(f"dropout must be a number in [0, 1), got {self.dropout!r}")
        if isinstance(self.num_classes, bool) or not isinstance(self.num_classes, numbers.Integral) \
                or self.num_classes < 0:
            raise ValueError(f"num_classes must be a whole number >= 0 (0: unconditional), got {self.num_classes!r}")
        chans = [self.base_channels * m for m in self.ch_mult]
        if any(c % self.groups for c in chans):
            ok = [g for g in range(1, min(chans) + 1) if all(c % g == 0 for c in chans)]
            raise ValueError(f"groups ({self.groups}) must divide the channel count of every level, base_channels × "
                             f"ch_mult = {chans}; allowed: {', '.join(map(str, ok))}")
        levels = len(self.ch_mult) - 1
        if self.image_size % 2 ** levels:
            down = [self.image_size]
            for _ in range(levels):
                down.append(-(-down[-1] // 2))
            path = " -> ".join(map(str, down + [down[-1] * 2]))
            raise ValueError(f"image_size {self.image_size} cannot go down {levels} levels and back up ({path}): it "
                             f"must be a multiple of {2 ** levels} = 2^(len(ch_mult) - 1)")
        visited = [self.image_size // 2 ** k for k in range(levels + 1)]
        if any(r not in visited for r in self.attn_resolutions):
            raise ValueError(f"attn_resolutions must be resolutions the U-Net visits, {visited}, got "
                             f"{self.attn_resolutions!r}")

    def to_dict(self) -> dict:
        d = asdict(self)
        d["ch_mult"] = list(self.ch_mult)
        d["attn_resolutions"] = list(self.attn_resolutions)
        if not self.num_classes:  # an unconditional model's config reads as it did before labels existed
            del d["num_classes"]
        return d

    @classmethod
    def from_dict(cls, d: dict) -> "UNetConfig":
        known = set(cls.__dataclass_fields__)
        unknown = set(d) - known
        if unknown:
            raise ValueError(f"unknown U-Net config keys {sorted(unknown)}; allowed: {sorted(known)}")
        d = dict(d)
        for k in ("ch_mult", "attn_resolutions"):
            if k in d:
                d[k] = tuple(d[k])
        return cls(**d)


def timestep_embedding(t: torch.Tensor, dim: int, max_period: float = 10000.0) -> torch.Tensor:
    """Sinusoidal embedding of integer timesteps t (shape (B,)) -> (B, dim)."""
    half = dim // 2
    freqs = torch.exp(-math.log(max_period) * torch.arange(half, dtype=torch.float32, device=t.device) / half)
    args = t.float()[:, None] * freqs[None]
    return torch.cat([torch.cos(args), torch.sin(args)], dim=1)


class ResBlock(nn.Module):
    def __init__(self, cin, cout, tdim, groups, dropout):
        super().__init__()
        self.norm1 = nn.GroupNorm(groups, cin)
        self.conv1 = nn.Conv2d(cin, cout, 3, padding=1)
        self.temb = nn.Linear(tdim, cout)
        self.norm2 = nn.GroupNorm(groups, cout)
        self.drop = nn.Dropout(dropout)
        self.conv2 = nn.Conv2d(cout, cout, 3, padding=1)
        self.skip = nn.Conv2d(cin, cout, 1) if cin != cout else nn.Identity()

    def forward(self, x, temb):
        h = self.conv1(F.silu(self.norm1(x)))
        h = h + self.temb(F.silu(temb))[:, :, None, None]
        h = self.conv2(self.drop(F.silu(self.norm2(h))))
        return h + self.skip(x)


class Attention(nn.Module):
    def __init__(self, ch, groups):
        super().__init__()
        self.norm = nn.GroupNorm(groups, ch)
        self.qkv = nn.Conv2d(ch, 3 * ch, 1)
        self.proj = nn.Conv2d(ch, ch, 1)

    def forward(self, x):
        B, C, H, W = x.shape
        q, k, v = self.qkv(self.norm(x)).reshape(B, 3, C, H * W).transpose(-1, -2).unbind(1)
        h = F.scaled_dot_product_attention(q, k, v)  # (B, HW, C)
        return x + self.proj(h.transpose(-1, -2).reshape(B, C, H, W))


class UNet(nn.Module):
    """eps_hat = UNet(x_t, t); x_t of shape (B, 1, 28, 28), t a LongTensor of shape (B,).

    Encoder: per level, ``num_res_blocks`` ResBlocks (+ attention at ``attn_resolutions``),
    then a stride-2 conv. Middle (7x7): ResBlock, attention, ResBlock. Decoder: per level,
    concatenate the encoder's output at that resolution, one ResBlock (+ attention), then
    nearest-neighbour upsampling. The decoder is kept lean so a forward pass at batch 64
    stays cheap on a laptop CPU.
    """

    def __init__(self, config: UNetConfig | None = None, **kwargs):
        super().__init__()
        cfg = config or UNetConfig(**kwargs)
        self.config = cfg
        g = cfg.groups
        chans = [cfg.base_channels * m for m in cfg.ch_mult]
        tdim = 4 * cfg.base_channels
        self.sample_shape = (cfg.in_channels, cfg.image_size, cfg.image_size)
        self.time_mlp = nn.Sequential(nn.Linear(cfg.base_channels, tdim), nn.SiLU(), nn.Linear(tdim, tdim))
        self.conv_in = nn.Conv2d(cfg.in_channels, chans[0], 3, padding=1)
        self.num_classes = int(cfg.num_classes)
        if cfg.num_classes:
            self.class_emb = nn.Embedding(cfg.num_classes + 1, tdim)  # the last row: "no label"
            nn.init.zeros_(self.class_emb.weight)

        def block(cin, cout, res):
            attn = Attention(cout, g) if res in cfg.attn_resolutions else nn.Identity()
            return nn.ModuleList([ResBlock(cin, cout, tdim, g, cfg.dropout), attn])

        self.enc, self.downs = nn.ModuleList(), nn.ModuleList()
        ch, res = chans[0], cfg.image_size
        for i, c in enumerate(chans):
            blocks = nn.ModuleList()
            for _ in range(cfg.num_res_blocks):
                blocks.append(block(ch, c, res))
                ch = c
            self.enc.append(blocks)
            if i < len(chans) - 1:
                self.downs.append(nn.Conv2d(ch, ch, 3, stride=2, padding=1))
                res //= 2
        self.mid1 = ResBlock(ch, ch, tdim, g, cfg.dropout)
        self.mid_attn = Attention(ch, g)
        self.mid2 = ResBlock(ch, ch, tdim, g, cfg.dropout)
        self.dec = nn.ModuleList()
        for i, c in reversed(list(enumerate(chans))):
            self.dec.append(block(ch + c, c, res))
            ch = c
            res *= 2
        self.norm_out = nn.GroupNorm(g, ch)
        self.conv_out = nn.Conv2d(ch, cfg.in_channels, 3, padding=1)
        self.to(memory_format=torch.channels_last)

    def forward(self, x: torch.Tensor, t: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        """eps_hat(x_t, t) or, for a conditional model, eps_hat(x_t, t, y); y None (or ``num_classes``) is ∅."""
        if x.dim() != 4 or tuple(x.shape[1:]) != self.sample_shape:
            raise ValueError(f"x must have shape (B, {', '.join(map(str, self.sample_shape))}), got {tuple(x.shape)}")
        w = self.conv_in.weight
        if x.dtype != w.dtype or x.device != w.device:
            raise ValueError(f"x is {x.dtype} on {x.device}, but the U-Net's weights are {w.dtype} on {w.device}; "
                             f"pass x.to({w.dtype}) on {w.device} (or convert the model)")
        t = torch.as_tensor(t, device=x.device)
        if t.dtype == torch.bool or (t.is_floating_point() and not bool((t == t.round()).all())):
            raise ValueError(f"t must hold integer timesteps, got {t.flatten()[:4].tolist()} ({t.dtype})")
        if t.dim() == 0:
            t = t.expand(x.shape[0])
        if t.shape != (x.shape[0],):
            raise ValueError(f"t must have shape ({x.shape[0]},), got {tuple(t.shape)}")
        trained = getattr(self, "trained_schedule", None)      # set by load_pretrained: the model then knows its T
        high = trained.T - 1 if trained is not None else None
        outside = (t < 0) | (t > high) if high is not None else t < 0
        if bool(outside.any()):
            bad = sorted({int(v) for v in t[outside].tolist()})[:4]
            allowed = f"in 0..{high} (this model was trained with T = {high + 1})" if high is not None else ">= 0"
            raise ValueError(f"t must hold timesteps {allowed}, got {bad}")
        temb = self.time_mlp(timestep_embedding(t, self.config.base_channels))
        if y is not None and not self.num_classes:
            raise ValueError("this U-Net is unconditional (num_classes = 0): call it as model(x, t), without y")
        if self.num_classes:
            temb = temb + self.class_emb(self.labels(y, x.shape[0], x.device))
        h = self.conv_in(x.contiguous(memory_format=torch.channels_last))
        skips = []
        for i, blocks in enumerate(self.enc):
            for res_block, attn in blocks:
                h = attn(res_block(h, temb))
            skips.append(h)
            if i < len(self.downs):
                h = self.downs[i](h)
        h = self.mid2(self.mid_attn(self.mid1(h, temb)), temb)
        for i, (res_block, attn) in enumerate(self.dec):
            h = attn(res_block(torch.cat([h, skips.pop()], 1), temb))
            if i < len(self.dec) - 1:
                h = F.interpolate(h, scale_factor=2, mode="nearest")
        return self.conv_out(F.silu(self.norm_out(h))).contiguous()


    def labels(self, y, batch: int, device) -> torch.Tensor:
        """y as a LongTensor (B,) of class indices; None means ∅ (index ``num_classes``) for all."""
        n = self.num_classes
        if y is None:
            return torch.full((batch,), n, dtype=torch.long, device=device)
        return checks.labels(y, batch, n, device, meaning=f", {n} = no label")


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())
