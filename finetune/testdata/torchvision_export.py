#!/usr/bin/python3
"""Reference side of finetune's torchvision import test.

Builds torchvision.models.<ARCH>() with seeded random weights, perturbs the
batch-norm statistics so evaluation mode is not the identity, and writes to
DIR:

  weights.safetensors    the state_dict, torchvision names, as published
                         weights converted to safetensors look
  reference.safetensors  x (2x3xSIZExSIZE) and features: the global-pool
                         features of x in evaluation mode (fc = Identity)

Usage: /usr/bin/python3 torchvision_export.py DIR ARCH SIZE

It writes safetensors by hand (8-byte header length, JSON header, raw
little-endian data), so it needs only python3-torch and python3-torchvision.
"""
import json
import struct
import sys

import torch
import torchvision

DTYPES = {torch.float32: "F32", torch.int64: "I64"}


def write_safetensors(path, tensors):
    header, blobs, offset = {}, [], 0
    for name, t in tensors.items():
        data = t.detach().contiguous().cpu().numpy().tobytes()
        header[name] = {"dtype": DTYPES[t.dtype], "shape": list(t.shape),
                        "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    h = json.dumps(header).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)


def main():
    out, arch, size = sys.argv[1], sys.argv[2], int(sys.argv[3])
    torch.manual_seed(0)
    torch.set_num_threads(2)
    model = getattr(torchvision.models, arch)()
    g = torch.Generator().manual_seed(1)
    with torch.no_grad():
        for name, b in model.named_buffers():
            if name.endswith("running_mean"):
                b.copy_(torch.randn(b.shape, generator=g) * 0.1)
            elif name.endswith("running_var"):
                b.copy_(torch.rand(b.shape, generator=g) + 0.5)
        for name, p in model.named_parameters():
            if ".bn" in name or "downsample.1" in name or name.startswith("bn1"):
                p.add_(torch.randn(p.shape, generator=g) * 0.1)
    write_safetensors(f"{out}/weights.safetensors", model.state_dict())
    model.fc = torch.nn.Identity()
    model.eval()
    x = torch.randn(2, 3, size, size, generator=g)
    with torch.no_grad():
        feats = model(x)
    write_safetensors(f"{out}/reference.safetensors", {"x": x, "features": feats})


if __name__ == "__main__":
    main()
