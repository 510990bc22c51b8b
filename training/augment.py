"""Batched data augmentation for 28x28 digits, on whatever device the batch lives on.

Real handwriting differs from MNIST in pose (shift, rotation, scale, shear, slant),
in shape (wobble: elastic distortion) and in pen (thicker or thinner strokes).
Everything is done for the whole batch at once with one `grid_sample`, so it costs
a few percent of a training step even on a 2-core CPU.
"""
import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F


@dataclass
class AugmentConfig:
    rotate_deg: float = 10.0    # uniform in [-r, r]
    scale: float = 0.10         # overall scale in [1-s, 1+s]
    aspect: float = 0.08        # extra x/y scale ratio in [1-a, 1+a]
    shear: float = 0.20         # horizontal shear (slant) in [-s, s]
    shift_px: float = 2.0       # translation in pixels, each axis
    elastic_p: float = 0.3      # fraction of digits that get an elastic wobble
    elastic_px: float = 1.0     # displacement amplitude in pixels
    stroke_p: float = 0.3       # fraction whose pen width changes
    thicken_max: float = 0.8    # blend towards a 3x3 dilation
    thin_max: float = 0.5       # blend towards a 3x3 erosion


def jitter_stroke_width(x: torch.Tensor, cfg: AugmentConfig, gen: torch.Generator) -> torch.Tensor:
    """Blend each digit with its grey dilation (thicker pen) or erosion (thinner pen)."""
    n = x.shape[0]
    dev = x.device
    dilated = F.max_pool2d(x, 3, stride=1, padding=1)
    eroded = -F.max_pool2d(-x, 3, stride=1, padding=1)
    u = torch.rand(n, 1, 1, 1, generator=gen, device=dev)
    apply = torch.rand(n, 1, 1, 1, generator=gen, device=dev) < cfg.stroke_p
    thicker = torch.rand(n, 1, 1, 1, generator=gen, device=dev) < 0.5
    target = torch.where(thicker, dilated, eroded)
    amount = torch.where(thicker, u * cfg.thicken_max, u * cfg.thin_max) * apply
    return x + amount * (target - x)


def random_grid(n: int, cfg: AugmentConfig, gen: torch.Generator, device, size: int = 28) -> torch.Tensor:
    """Sampling grids (n, size, size, 2) for a random affine map plus elastic wobble."""
    def uniform(lo, hi):
        return lo + (hi - lo) * torch.rand(n, generator=gen, device=device)

    angle = uniform(-cfg.rotate_deg, cfg.rotate_deg) * math.pi / 180
    scale = uniform(1 - cfg.scale, 1 + cfg.scale)
    aspect = uniform(1 - cfg.aspect, 1 + cfg.aspect)
    shear = uniform(-cfg.shear, cfg.shear)
    shift = cfg.shift_px * 2 / size
    tx, ty = uniform(-shift, shift), uniform(-shift, shift)
    sx, sy = scale * aspect.sqrt(), scale / aspect.sqrt()
    cos, sin = torch.cos(angle), torch.sin(angle)
    # theta maps output coordinates to input coordinates, so use the inverse scale.
    a = torch.stack([cos / sx, (-sin + shear * cos) / sx, tx], dim=1)
    b = torch.stack([sin / sy, (cos + shear * sin) / sy, ty], dim=1)
    theta = torch.stack([a, b], dim=1)
    grid = F.affine_grid(theta, (n, 1, size, size), align_corners=False)

    if cfg.elastic_p > 0:
        # Smooth random displacement: coarse noise upsampled bicubically.
        coarse = torch.randn(n, 2, 4, 4, generator=gen, device=device)
        field = F.interpolate(coarse, size=(size, size), mode="bicubic", align_corners=False)
        apply = (torch.rand(n, 1, 1, 1, generator=gen, device=device) < cfg.elastic_p).float()
        grid = grid + (field * apply).permute(0, 2, 3, 1) * (cfg.elastic_px * 2 / size)
    return grid


def augment(x: torch.Tensor, cfg: AugmentConfig, gen: torch.Generator) -> torch.Tensor:
    """x: float (N, 1, 28, 28) in [0, 1], ink bright. Returns the same shape and range."""
    if cfg.stroke_p > 0:
        x = jitter_stroke_width(x, cfg, gen)
    grid = random_grid(x.shape[0], cfg, gen, x.device, x.shape[-1])
    return F.grid_sample(x, grid, mode="bilinear", padding_mode="zeros", align_corners=False).clamp_(0, 1)
