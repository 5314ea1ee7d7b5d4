"""PyTorch's side of scripts/gpu-check.

  gpu-check.py parity DIR...      repeat each case weaksup-gpucheck step wrote
                                  (model.safetensors, inputs.safetensors) in
                                  PyTorch on the device and compare with its
                                  weaksup.safetensors; a markdown table row per case
  gpu-check.py same A B           are two safetensors files' tensors identical?
  gpu-check.py bench --arch-json F --size S --batch B --steps N --precision P
                                  PyTorch's own training loop on data already on
                                  the device: images/s

Needs torch and torchvision only (parity.py, beside it, reads the
safetensors files and builds the networks).
"""
import argparse
import contextlib
import json
import math
import os
import sys
import time

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from parity import build, load_file  # noqa: E402

DTYPE = {"fp32": None, "bf16": torch.bfloat16, "fp16": torch.float16}

# Pass bounds per precision: the worst difference of any element, relative
# to the largest magnitude in its tensor. Both sides call the same libtorch
# kernels; on a GPU some (atomics in convolution backward) do not add in a
# fixed order, and bf16 and fp16 round each such sum to 8 or 11 bits.
TOLERANCE = {"fp32": 1e-3, "bf16": 3e-2, "fp16": 1e-2}


def autocast(device, prec):
    if DTYPE[prec] is None:
        return contextlib.nullcontext()
    return torch.autocast(device.type, dtype=DTYPE[prec])


def worst(got, want):
    """The largest |got - want| relative to want's largest magnitude."""
    got, want = got.double(), want.double()
    scale = want.abs().max().item() if want.numel() else 0.0
    d = (got - want).abs().max().item() if want.numel() else 0.0
    if math.isnan(d):
        return math.inf
    return d / scale if scale > 0 else d


def parity(dirs, device):
    failed = False
    for d in dirs:
        weights, meta = load_file(os.path.join(d, "model.safetensors"))
        inputs, imeta = load_file(os.path.join(d, "inputs.safetensors"))
        ours, _ = load_file(os.path.join(d, "weaksup.safetensors"))
        prec = imeta["precision"]
        model = build(json.loads(meta["arch"]), int(meta["num_classes"]), meta)
        model.load_state_dict(weights, strict=True)
        model = model.to(device).to(memory_format=torch.channels_last)
        model.train()
        x = inputs["x"].to(device).to(memory_format=torch.channels_last)
        t = inputs["t"].to(device)
        opt = torch.optim.SGD(model.parameters(), lr=float(imeta["lr"]), momentum=float(imeta["momentum"]),
                              weight_decay=float(imeta["weight_decay"]))
        with autocast(device, prec):
            logits = model(x).float()
        loss = -(t * F.log_softmax(logits, 1)).sum(1).mean()
        ref = {"logits": logits.detach()}
        if prec == "fp16":
            scaler = torch.amp.GradScaler(device.type, init_scale=float(imeta["loss_scale"]))
            scaler.scale(loss).backward()
            scaler.unscale_(opt)
            ref.update({"grad." + n: p.grad.detach().clone() for n, p in model.named_parameters()})
            scaler.step(opt)
            scaler.update()
        else:
            loss.backward()
            ref.update({"grad." + n: p.grad.detach().clone() for n, p in model.named_parameters()})
            opt.step()
        ref.update({"after." + n: p.detach() for n, p in model.named_parameters()})
        ref.update({"after." + n: b.detach() for n, b in model.named_buffers()})
        tol = TOLERANCE[prec]
        bad, top, top_name = [], 0.0, ""
        if set(ref) != set(ours):
            bad.append("tensors differ: only PyTorch has %s; only weaksup has %s" % (
                sorted(set(ref) - set(ours))[:3], sorted(set(ours) - set(ref))[:3]))
        for name in sorted(set(ref) & set(ours)):
            w, g = ref[name].cpu(), ours[name]
            if list(w.shape) != list(g.shape):
                bad.append("%s: shape %s, PyTorch %s" % (name, list(g.shape), list(w.shape)))
                continue
            if not w.is_floating_point():
                if not torch.equal(w, g):
                    bad.append("%s: %s, PyTorch %s" % (name, g.tolist(), w.tolist()))
                continue
            e = worst(g, w)
            if e > top:
                top, top_name = e, name
            if e > tol:
                bad.append("%s: %.3g" % (name, e))
        failed = failed or bool(bad)
        print("| %s | %s | %d | %.2g (%s) | %s |" % (
            meta.get("arch_name", json.loads(meta["arch"])["name"]), prec, len(ref), top, top_name or "bit-identical",
            "pass (≤ %g)" % tol if not bad else "**FAIL**: " + "; ".join(bad[:4])))
    return 1 if failed else 0


def same(a, b):
    ta, _ = load_file(a)
    tb, _ = load_file(b)
    if set(ta) != set(tb):
        print("different tensors: %s" % sorted(set(ta) ^ set(tb))[:5])
        return 1
    diff = [(n, worst(tb[n].double(), ta[n].double())) for n in sorted(ta) if not torch.equal(ta[n], tb[n])]
    if not diff:
        print("bit-identical (%d tensors)" % len(ta))
        return 0
    n, e = max(diff, key=lambda d: d[1])
    print("%d of %d tensors differ; largest difference %.3g of the tensor's scale (%s)" % (len(diff), len(ta), e, n))
    return 1


def bench(args, device):
    arch = json.load(open(args.arch_json))
    model = build(arch, args.classes).to(device).to(memory_format=torch.channels_last)
    model.train()
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, weight_decay=1e-4)
    x = torch.randn(args.batch, 3, args.size, args.size, device=device).to(memory_format=torch.channels_last)
    t = torch.softmax(torch.randn(args.batch, args.classes, device=device), 1)
    scaler = torch.amp.GradScaler(device.type) if args.precision == "fp16" else None

    def step():
        with autocast(device, args.precision):
            logits = model(x).float()
        loss = -(t * F.log_softmax(logits, 1)).sum(1).mean()
        opt.zero_grad(set_to_none=True)
        if scaler is None:
            loss.backward()
            opt.step()
        else:
            scaler.scale(loss).backward()
            scaler.step(opt)
            scaler.update()

    for _ in range(args.warmup):
        step()
    sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)
    sync()
    t0 = time.perf_counter()
    for _ in range(args.steps):
        step()
    sync()
    print("%.1f" % (args.steps * args.batch / (time.perf_counter() - t0)))
    return 0


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--device", default="cuda")
    sub = p.add_subparsers(dest="cmd", required=True)
    sp = sub.add_parser("parity")
    sp.add_argument("dirs", nargs="+")
    ss = sub.add_parser("same")
    ss.add_argument("a")
    ss.add_argument("b")
    sb = sub.add_parser("bench")
    sb.add_argument("--arch-json", required=True)
    sb.add_argument("--size", type=int, required=True)
    sb.add_argument("--batch", type=int, required=True)
    sb.add_argument("--classes", type=int, default=1000)
    sb.add_argument("--steps", type=int, default=30)
    sb.add_argument("--warmup", type=int, default=5)
    sb.add_argument("--precision", choices=sorted(DTYPE), default="fp32")
    a = p.parse_args()
    device = torch.device(a.device)
    if a.cmd == "parity":
        return parity(a.dirs, device)
    if a.cmd == "same":
        return same(a.a, a.b)
    return bench(a, device)


if __name__ == "__main__":
    sys.exit(main())
