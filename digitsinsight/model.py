"""DigitNet: a compact CNN for 28x28 grey digits, registered with timm.

Written the way timm's own model files are: one class with forward_features /
forward_head, a `_cfg` pretrained config per variant, and `@register_model`
entry points built through `build_model_with_cfg`. After `import digitsinsight`,
`timm.create_model("digitnet_m")` works like any timm model.

Three stages of two 3x3 conv-BN-ReLU blocks (28 -> 14 -> 7 pixels), then global
average pooling and a linear classifier. Small enough to read a digit in well
under a millisecond on a laptop CPU, big enough for >= 99.7% on MNIST.
"""
from typing import Optional, Sequence

import torch
import torch.nn as nn
import torch.nn.functional as F
from timm.layers import SelectAdaptivePool2d
from timm.models import build_model_with_cfg, generate_default_cfgs, register_model

__all__ = ["DigitNet"]

MNIST_MEAN = (0.1307,)
MNIST_STD = (0.3081,)
LABEL_NAMES = tuple(str(d) for d in range(10))


def conv_bn_relu(in_chs: int, out_chs: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(in_chs, out_chs, 3, padding=1, bias=False),
        nn.BatchNorm2d(out_chs),
        nn.ReLU(inplace=True),
    )


class DigitNet(nn.Module):
    def __init__(
            self,
            num_classes: int = 10,
            in_chans: int = 1,
            widths: Sequence[int] = (32, 64, 128),
            drop_rate: float = 0.1,
            global_pool: str = "avg",
    ):
        super().__init__()
        self.num_classes = num_classes
        self.in_chans = in_chans
        self.drop_rate = drop_rate
        self.grad_checkpointing = False

        stages = []
        prev = in_chans
        for i, width in enumerate(widths):
            # Downsample at the start of every stage but the first: 28 -> 14 -> 7.
            pool = nn.MaxPool2d(2) if i > 0 else nn.Identity()
            stages.append(nn.Sequential(pool, conv_bn_relu(prev, width), conv_bn_relu(width, width)))
            prev = width
        self.stages = nn.Sequential(*stages)
        self.num_features = self.head_hidden_size = prev
        self.feature_info = [
            dict(num_chs=w, reduction=2 ** i, module=f"stages.{i}") for i, w in enumerate(widths)]

        self.global_pool = SelectAdaptivePool2d(pool_type=global_pool, flatten=True)
        self.fc = nn.Linear(prev, num_classes) if num_classes > 0 else nn.Identity()

        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            elif isinstance(m, nn.Linear):
                nn.init.zeros_(m.bias)

    @torch.jit.ignore
    def get_classifier(self) -> nn.Module:
        return self.fc

    def reset_classifier(self, num_classes: int, global_pool: Optional[str] = None):
        self.num_classes = num_classes
        if global_pool is not None:
            self.global_pool = SelectAdaptivePool2d(pool_type=global_pool, flatten=True)
        self.fc = nn.Linear(self.num_features, num_classes) if num_classes > 0 else nn.Identity()

    @torch.jit.ignore
    def set_grad_checkpointing(self, enable: bool = True):
        self.grad_checkpointing = enable

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        if self.in_chans == 1 and x.shape[1] == 3:
            # Pipelines (transformers' image-classification among them) turn grey images into RGB:
            # averaging the channels gives back the grey image, already standardised per channel.
            x = x.mean(dim=1, keepdim=True)
        return self.stages(x)

    def forward_head(self, x: torch.Tensor, pre_logits: bool = False) -> torch.Tensor:
        x = self.global_pool(x)
        if self.drop_rate:
            x = F.dropout(x, p=self.drop_rate, training=self.training)
        return x if pre_logits else self.fc(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.forward_head(self.forward_features(x))


def _create_digitnet(variant: str, pretrained: bool = False, **kwargs) -> DigitNet:
    return build_model_with_cfg(
        DigitNet, variant, pretrained,
        feature_cfg=dict(flatten_sequential=True, out_indices=(0, 1, 2)),
        **kwargs,
    )


def _cfg(**kwargs):
    return {
        "num_classes": 10,
        "input_size": (1, 28, 28),
        "pool_size": (7, 7),
        "crop_pct": 1.0,
        "interpolation": "bilinear",
        "mean": MNIST_MEAN,
        "std": MNIST_STD,
        "first_conv": "stages.0.1.0",
        "classifier": "fc",
        "label_names": LABEL_NAMES,
        "license": "mit",
        **kwargs,
    }


default_cfgs = generate_default_cfgs({
    "digitnet_s.mnist": _cfg(),
    "digitnet_m.mnist": _cfg(),
    "digitnet_l.mnist": _cfg(),
})


@register_model
def digitnet_s(pretrained: bool = False, **kwargs) -> DigitNet:
    """About 72k parameters: widths 16-32-64."""
    return _create_digitnet("digitnet_s", pretrained, **dict(widths=(16, 32, 64), **kwargs))


@register_model
def digitnet_m(pretrained: bool = False, **kwargs) -> DigitNet:
    """About 288k parameters (1.1 MB float32): widths 32-64-128."""
    return _create_digitnet("digitnet_m", pretrained, **dict(widths=(32, 64, 128), **kwargs))


@register_model
def digitnet_l(pretrained: bool = False, **kwargs) -> DigitNet:
    """About 437k parameters (1.7 MB float32): widths 32-80-160, wider where the maps are small."""
    return _create_digitnet("digitnet_l", pretrained, **dict(widths=(32, 80, 160), **kwargs))
