#!/usr/bin/python3
"""Reference side of train/parity_test.go.

Reads model.safetensors (weights in torchvision state_dict naming, with the
architecture in its metadata) and inputs.safetensors (x, r) from DIR, builds
the same network with torchvision's own classes, loads the weights with
load_state_dict(strict=True), and writes DIR/reference.safetensors with:

  eval_logits           model.eval()(x)
  train_logits          model.train()(x)
  grad.<name>           gradient of sum(train_logits * r) for every parameter
  after.<name>          every buffer after the train-mode forward

Usage: /usr/bin/python3 parity.py [--threads N] DIR...

With "channels_last": "1" in the metadata of inputs.safetensors, the model
and x are converted to torch.channels_last first, as the Go side does. With
"precision": "bf16" both forward passes run under
torch.autocast("cpu", dtype=torch.bfloat16), the logits are written as
float32, and the gradients are those of sum(float(train_logits) * r).

It reads and writes safetensors with the small parser below (8-byte header
length, JSON header, raw little-endian data), so it needs nothing beyond
python3-torch and python3-torchvision.
"""
import json
import struct
import sys

import torch
import torch.nn as nn
import torchvision
from torchvision.models.resnet import BasicBlock, Bottleneck

DTYPES = {"F32": torch.float32, "F64": torch.float64, "I64": torch.int64,
          "I32": torch.int32, "U8": torch.uint8, "BOOL": torch.bool,
          "F16": torch.float16, "BF16": torch.bfloat16, "I8": torch.int8, "I16": torch.int16}
NAMES = {v: k for k, v in DTYPES.items()}


def load_file(path):
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n])
    meta = header.pop("__metadata__", {})
    base = 8 + n
    out = {}
    for name, info in header.items():
        begin, end = info["data_offsets"]
        dtype = DTYPES[info["dtype"]]
        buf = bytearray(data[base + begin:base + end])
        t = torch.frombuffer(buf, dtype=dtype) if buf else torch.empty(0, dtype=dtype)
        out[name] = t.reshape(info["shape"]).clone()
    return out, meta


def save_file(tensors, path):
    header, chunks, at = {}, [], 0
    for name in sorted(tensors):
        t = tensors[name].detach().contiguous().cpu()
        raw = t.numpy().tobytes() if t.dtype != torch.bfloat16 else t.view(torch.int16).numpy().tobytes()
        header[name] = {"dtype": NAMES[t.dtype], "shape": list(t.shape), "data_offsets": [at, at + len(raw)]}
        chunks.append(raw)
        at += len(raw)
    hj = json.dumps(header).encode()
    hj += b" " * (-len(hj) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(hj)))
        f.write(hj)
        for c in chunks:
            f.write(c)


class SmallResNeXt(nn.Module):
    """A ResNeXt with a 3x3 stem and no max-pool, built from torchvision's
    Bottleneck exactly as torchvision.models.ResNet builds its stages."""

    def __init__(self, layers, planes, groups, width_per_group, stem_width, num_classes):
        super().__init__()
        self.inplanes = stem_width
        self.groups = groups
        self.base_width = width_per_group
        self.conv1 = nn.Conv2d(3, stem_width, kernel_size=3, stride=1, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(stem_width)
        self.relu = nn.ReLU(inplace=True)
        self.stages = []
        for i, (n, p) in enumerate(zip(layers, planes)):
            name = "layer%d" % (i + 1)
            setattr(self, name, self._make_layer(p, n, stride=1 if i == 0 else 2))
            self.stages.append(name)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(planes[-1] * Bottleneck.expansion, num_classes)

    def _make_layer(self, planes, blocks, stride):
        downsample = None
        if stride != 1 or self.inplanes != planes * Bottleneck.expansion:
            downsample = nn.Sequential(
                nn.Conv2d(self.inplanes, planes * Bottleneck.expansion, kernel_size=1, stride=stride, bias=False),
                nn.BatchNorm2d(planes * Bottleneck.expansion))
        layers = [Bottleneck(self.inplanes, planes, stride, downsample, self.groups, self.base_width)]
        self.inplanes = planes * Bottleneck.expansion
        for _ in range(1, blocks):
            layers.append(Bottleneck(self.inplanes, planes, groups=self.groups, base_width=self.base_width))
        return nn.Sequential(*layers)

    def forward(self, x):
        x = self.relu(self.bn1(self.conv1(x)))
        for name in self.stages:
            x = getattr(self, name)(x)
        return self.fc(torch.flatten(self.avgpool(x), 1))


class ZeroPad(nn.Module):
    """Option A of He et al. (2016): x[:, :, ::s, ::s] with zero channels
    appended up to `out`."""

    def __init__(self, stride, out):
        super().__init__()
        self.stride, self.out = stride, out

    def forward(self, x):
        x = x[:, :, ::self.stride, ::self.stride]
        return nn.functional.pad(x, (0, 0, 0, 0, 0, self.out - x.shape[1]))


class PlainBlock(BasicBlock):
    """torchvision's BasicBlock without the shortcut and the add."""

    def forward(self, x):
        out = self.relu(self.bn1(self.conv1(x)))
        return self.relu(self.bn2(self.conv2(out)))


class CIFARResNet(nn.Module):
    """He et al.'s CIFAR ResNet-n / plain-n: a 3x3 stem, basic blocks of
    16/32/64 channels, option A or B shortcuts, written independently of
    the Go code from torchvision's BasicBlock."""

    def __init__(self, layers, planes, stem_width, num_classes, plain, shortcut):
        super().__init__()
        self.conv1 = nn.Conv2d(3, stem_width, kernel_size=3, stride=1, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(stem_width)
        self.relu = nn.ReLU(inplace=True)
        inplanes = stem_width
        self.stages = []
        for i, (n, p) in enumerate(zip(layers, planes)):
            blocks = []
            for j in range(n):
                stride = 2 if i > 0 and j == 0 else 1
                down = None
                if not plain and (stride != 1 or inplanes != p):
                    if shortcut == "A":
                        down = ZeroPad(stride, p)
                    else:
                        down = nn.Sequential(nn.Conv2d(inplanes, p, kernel_size=1, stride=stride, bias=False),
                                             nn.BatchNorm2d(p))
                cls = PlainBlock if plain else BasicBlock
                blocks.append(cls(inplanes, p, stride, down))
                inplanes = p
            name = "layer%d" % (i + 1)
            setattr(self, name, nn.Sequential(*blocks))
            self.stages.append(name)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(inplanes, num_classes)

    def forward(self, x):
        x = self.relu(self.bn1(self.conv1(x)))
        for name in self.stages:
            x = getattr(self, name)(x)
        return self.fc(torch.flatten(self.avgpool(x), 1))


def build(arch, num_classes, meta=None):
    """The torch model of an arch; meta (the safetensors metadata) names the
    block and shortcut of the basic-block CIFAR nets."""
    name = arch["name"]
    if arch.get("basic"):
        if meta is None or "block" not in meta or "shortcut" not in meta:
            raise SystemExit("%s: the weights' metadata names no block and shortcut" % name)
        return CIFARResNet(arch["layers"], arch["planes"], arch["stem_width"], num_classes,
                           meta["block"] == "plain", meta["shortcut"])
    if not arch["small_stem"] and hasattr(torchvision.models, name):
        return getattr(torchvision.models, name)(num_classes=num_classes)
    if not arch["small_stem"]:
        raise SystemExit("no torchvision model named %s" % name)
    return SmallResNeXt(arch["layers"], arch["planes"], arch["groups"], arch["width_per_group"],
                        arch["stem_width"], num_classes)


def main():
    args = sys.argv[1:]
    threads = 1
    if args[:1] == ["--threads"]:
        threads, args = int(args[1]), args[2:]
    torch.set_num_threads(threads)
    for d in args:
        reference(d)


def reference(d):
    weights, meta = load_file(d + "/model.safetensors")
    inputs, input_meta = load_file(d + "/inputs.safetensors")
    arch = json.loads(meta["arch"])
    model = build(arch, int(meta["num_classes"]), meta)
    model.load_state_dict(weights, strict=True)
    x, r = inputs["x"], inputs["r"]
    if input_meta.get("channels_last") == "1":
        model = model.to(memory_format=torch.channels_last)
        x = x.to(memory_format=torch.channels_last)
    bf16 = input_meta.get("precision", "fp32") == "bf16"
    out = {}
    model.eval()
    with torch.no_grad(), torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
        out["eval_logits"] = model(x).float()
    model.train()
    with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
        logits = model(x).float()
    (logits * r).sum().backward()
    out["train_logits"] = logits
    for name, p in model.named_parameters():
        out["grad." + name] = p.grad
    for name, b in model.named_buffers():
        out["after." + name] = b
    save_file(out, d + "/reference.safetensors")


if __name__ == "__main__":
    main()
