"""DigitLine: a CRNN that reads a whole line of digits at once, registered with timm.

The classifier in model.py reads one digit at a time, so it depends on the line being cut
into digits first, and touching or overlapping digits are hard to cut. This model reads the
levelled line image (segment.line_image: 32 rows, any width) left to right and is trained
with CTC on lines synthesised from MNIST training digits (training/sequence.py), so it needs
no cuts. The reader (reader.py) compares its reading with the cut-and-classify one.

Convolutions shrink 32 rows to 1 and the width by 4, so each output column ("frame") sees
4 pixels of the line, about a fifth of a digit; a bidirectional LSTM then reads the frames in
context and a linear layer gives, per frame, 11 logits: blank (CTC) and the digits 0-9.
"""
from dataclasses import dataclass
from typing import Sequence

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from timm.models import build_model_with_cfg, generate_default_cfgs, register_model

__all__ = ["DigitLine", "decode", "Decoded"]

BLANK = 0             # CTC blank; digit d is class d + 1
FRAME = 4             # line-image columns per output frame
LINE_MEAN = (0.12,)
LINE_STD = (0.30,)


def conv_bn_relu(in_chs: int, out_chs: int) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(in_chs, out_chs, 3, padding=1, bias=False),
                         nn.BatchNorm2d(out_chs), nn.ReLU(inplace=True))


class DigitLine(nn.Module):
    def __init__(self, num_classes: int = 11, in_chans: int = 1, widths: Sequence[int] = (16, 48, 96, 128),
                 hidden: int = 128, layers: int = 1, drop_rate: float = 0.1, **kwargs):
        super().__init__()
        self.num_classes = num_classes
        self.in_chans = in_chans
        self.drop_rate = drop_rate
        w1, w2, w3, w4 = widths
        self.stages = nn.Sequential(
            conv_bn_relu(in_chans, w1), nn.MaxPool2d(2),          # 32 -> 16 rows, width / 2
            conv_bn_relu(w1, w2), nn.MaxPool2d(2),                # 16 -> 8, width / 4
            conv_bn_relu(w2, w3), conv_bn_relu(w3, w3), nn.MaxPool2d((2, 1)),   # 8 -> 4
            conv_bn_relu(w3, w4), nn.MaxPool2d((4, 1)),           # 4 -> 1: one feature vector per frame
        )
        self.num_features = w4
        self.rnn = nn.LSTM(w4, hidden, num_layers=layers, batch_first=True, bidirectional=True,
                           dropout=drop_rate if layers > 1 else 0.0)
        self.head_hidden_size = 2 * hidden
        self.fc = nn.Linear(2 * hidden, num_classes)

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        """(N, 1, 32, W) -> (N, W // 4, C): a feature vector per frame."""
        return self.stages(x).squeeze(2).transpose(1, 2)

    def forward_head(self, x: torch.Tensor, pre_logits: bool = False) -> torch.Tensor:
        x, _ = self.rnn(x)
        if self.drop_rate:
            x = F.dropout(x, p=self.drop_rate, training=self.training)
        return x if pre_logits else self.fc(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(N, 1, 32, W) -> logits (N, W // 4, 11)."""
        return self.forward_head(self.forward_features(x))


def _cfg(**kwargs):
    return {"num_classes": 11, "input_size": (1, 32, 128), "fixed_input_size": False, "crop_pct": 1.0,
            "interpolation": "bilinear", "mean": LINE_MEAN, "std": LINE_STD, "first_conv": "stages.0.0",
            "classifier": "fc", "label_names": ("blank",) + tuple(str(d) for d in range(10)),
            "license": "mit", **kwargs}


default_cfgs = generate_default_cfgs({"digitline_s.mnist": _cfg(), "digitline_m.mnist": _cfg()})


@register_model
def digitline_s(pretrained: bool = False, **kwargs) -> DigitLine:
    """About 0.51M parameters: convolutions 16-48-96-128, a bidirectional LSTM of 2x128."""
    return build_model_with_cfg(DigitLine, "digitline_s", pretrained, feature_cfg=dict(flatten_sequential=True),
                                **kwargs)


@register_model
def digitline_m(pretrained: bool = False, **kwargs) -> DigitLine:
    """About 1.46M parameters: convolutions 32-64-128-160, two stacked bidirectional LSTMs of 2x160 (shipped)."""
    model_args = dict(widths=(32, 64, 128, 160), hidden=160, layers=2)
    return build_model_with_cfg(DigitLine, "digitline_m", pretrained, feature_cfg=dict(flatten_sequential=True),
                                **dict(model_args, **kwargs))


def to_line_input(pixels: list, mean=LINE_MEAN, std=LINE_STD) -> tuple[torch.Tensor, list]:
    """uint8 line images (32, W_i) -> one standardised batch (N, 1, 32, max W, padded to a multiple
    of FRAME with background) and each line's number of valid frames."""
    width = max(p.shape[1] for p in pixels)
    width = -(-width // FRAME) * FRAME
    batch = np.zeros((len(pixels), 1, pixels[0].shape[0], width), np.float32)
    for i, p in enumerate(pixels):
        batch[i, 0, :, :p.shape[1]] = p / 255.0
    x = (torch.from_numpy(batch) - mean[0]) / std[0]
    return x, [-(-p.shape[1] // FRAME) for p in pixels]


@dataclass
class Decoded:
    text: str
    probs: list          # per character: its probability (the most confident frame emitting it)
    alternatives: list   # per character: top 3 (digit, probability) at that frame
    spans: list          # per character: (first, last) frame emitting it
    confidence: float    # product of the per-character probabilities
    log_probs: np.ndarray = None   # (T, 11): what was decoded, for scoring other readings (text_log_likelihood)


def decode(log_probs: np.ndarray) -> Decoded:
    """Best-path CTC decoding of one line's (T, 11) log-probabilities."""
    probs = np.exp(log_probs)
    best = probs.argmax(1)
    text, p_out, alts, spans = [], [], [], []
    prev = BLANK
    for t, c in enumerate(best):
        if c != BLANK and c != prev:
            text.append(str(c - 1))
            p_out.append(float(probs[t, c]))
            spans.append([t, t])
            alts.append(t)
        elif c != BLANK and c == prev:
            spans[-1][1] = t
            if probs[t, c] > p_out[-1]:
                p_out[-1], alts[-1] = float(probs[t, c]), t
        prev = c
    alternatives = []
    for t in alts:
        digits = probs[t, 1:] / max(float(probs[t, 1:].sum()), 1e-9)
        top = np.argsort(digits)[::-1][:3]
        alternatives.append([(int(d), float(digits[d])) for d in top])
    return Decoded("".join(text), p_out, alternatives, [tuple(s) for s in spans], float(np.prod(p_out)), log_probs)


def text_log_likelihood(log_probs: np.ndarray, text: str) -> float:
    """log P(text | line) under CTC, summed over every alignment: how well another reading of the
    line (the cut-and-classify one) fits what this model saw."""
    if not text:
        return float(log_probs[:, BLANK].sum())
    lp = torch.from_numpy(np.ascontiguousarray(log_probs, dtype=np.float32))[:, None]
    target = torch.tensor([[int(c) + 1 for c in text]])
    loss = F.ctc_loss(lp, target, torch.tensor([lp.shape[0]]), torch.tensor([len(text)]), blank=BLANK,
                      reduction="sum", zero_infinity=False)
    return -float(loss)


@torch.no_grad()
def read_lines(pixels: list, model) -> list:
    """Decoded readings for uint8 line images, in one batch."""
    if not pixels:
        return []
    cfg = model.pretrained_cfg
    x, frames = to_line_input(pixels, cfg.get("mean", LINE_MEAN), cfg.get("std", LINE_STD))
    x = x.to(next(model.parameters()).device)  # training checks its model on the GPU
    features = model.forward_features(x)
    # The LSTM runs on one thread: its steps are too small to share. On two it ran no faster in a plain
    # script, and 4-5x slower in the app's worker threads: with more OpenMP threads than cores in the
    # process, OpenMP stops spinning between parallel steps and sleeps, and the LSTM takes hundreds.
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        logits = model.forward_head(features)
    finally:
        torch.set_num_threads(threads)
    log_probs = F.log_softmax(logits.float(), dim=2).cpu().numpy()
    return [decode(lp[:n]) for lp, n in zip(log_probs, frames)]
