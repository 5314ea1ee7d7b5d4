#!/usr/bin/python3
"""PyTorch side of BenchmarkTrainStep (train/resnext_bench_test.go): the
same network, batch, input size, thread count and step (train-mode forward,
soft-target cross-entropy, backward, SGD with momentum 0.9 and weight decay
1e-4, zero_grad(set_to_none=True)), in both memory formats, in fp32 or with
the forward pass and loss under torch.autocast("cpu", dtype=torch.bfloat16)
(the loss on float32 logits, as weaksup computes it).

Usage: /usr/bin/python3 bench_step.py [--arch resnext29_small|resnext50_32x4d]
           [--batch 64] [--size 32] [--threads 2] [--steps 10] [--format channels_last|contiguous|both]
           [--precision fp32|bf16|both]
Prints one line per format and precision: arch, format, precision, seconds
per step, images/s, the fastest step, and CPU seconds per step (the figure
a loaded machine changes least; run with OMP_WAIT_POLICY=PASSIVE so that
idle OpenMP workers do not spin).
"""
import argparse
import sys
import time

import torch
import torchvision

sys.path.insert(0, __file__.rsplit("/", 1)[0])
from parity import SmallResNeXt  # noqa: E402

SMALL = {  # mirrors the Arch table of train/resnext.go
    "resnext29_small": ([3, 3, 3], [32, 64, 128], 8, 8, 32),
    "resnext29_8x64d": ([3, 3, 3], [64, 128, 256], 8, 64, 64),
    "resnext_tiny": ([1, 1, 1], [16, 32, 64], 4, 8, 16),
}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--arch", default="resnext29_small")
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--size", type=int, default=32)
    ap.add_argument("--classes", type=int, default=1000)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--steps", type=int, default=10)
    ap.add_argument("--format", default="both")
    ap.add_argument("--precision", default="fp32")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    formats = ["channels_last", "contiguous"] if a.format == "both" else [a.format]
    precisions = ["fp32", "bf16"] if a.precision == "both" else [a.precision]
    for fmt, prec in [(f, p) for f in formats for p in precisions]:
        if a.arch in SMALL:
            model = SmallResNeXt(*SMALL[a.arch], a.classes)
        else:
            model = getattr(torchvision.models, a.arch)(num_classes=a.classes)
        x = torch.randn(a.batch, 3, a.size, a.size)
        target = torch.zeros(a.batch, a.classes)
        target[:, :3] = 1 / 3
        if fmt == "channels_last":
            model = model.to(memory_format=torch.channels_last)
            x = x.to(memory_format=torch.channels_last)
        model.train()
        opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, weight_decay=1e-4)

        def step():
            with torch.autocast("cpu", dtype=torch.bfloat16, enabled=prec == "bf16"):
                logits = model(x)
                loss = -(target * torch.log_softmax(logits.float(), 1)).sum(1).mean()
            loss.backward()
            opt.step()
            opt.zero_grad(set_to_none=True)
            return loss.item()

        for _ in range(2):
            step()
        times = []
        cpu0 = time.process_time()
        for _ in range(a.steps):
            t0 = time.perf_counter()
            step()
            times.append(time.perf_counter() - t0)
        cpu = (time.process_time() - cpu0) / a.steps
        dt = sum(times) / len(times)
        print("pytorch arch=%s format=%s precision=%s batch=%d size=%d threads=%d: %.4f s/step, %.1f images/s, best %.4f s/step, %.4f cpu-s/step"
              % (a.arch, fmt, prec, a.batch, a.size, a.threads, dt, a.batch / dt, min(times), cpu))


if __name__ == "__main__":
    main()
