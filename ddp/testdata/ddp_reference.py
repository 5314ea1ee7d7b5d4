#!/usr/bin/python3
"""Reference side of train/ddp_parity_test.go: one rank of PyTorch's
DistributedDataParallel.

Started as two processes by weaksup's launcher (train.LaunchLocal), which
sets RANK, WORLD_SIZE, MASTER_ADDR, MASTER_PORT and
TORCHELASTIC_USE_AGENT_STORE=True, exactly as torchrun's agent store does,
so init_process_group("gloo", "env://") joins the launcher's store.

Reads DIR/init.safetensors (the starting weights, torchvision names, with
the architecture in its metadata) and DIR/batches.safetensors (x.<rank>.<step>
images and labels.<rank>.<step> multi-hot labels; steps, lr, momentum and
weight_decay in its metadata), trains with DistributedDataParallel
(broadcast_buffers=True, bucket_cap_mb=25: the defaults) and
torch.optim.SGD on the c-of-K softmax loss, and rank 0 writes the final
state_dict to DIR/pytorch.safetensors.

Usage: /usr/bin/python3 ddp_reference.py DIR
"""
import json
import os
import sys
from datetime import timedelta

import torch
import torch.distributed as dist
import torch.nn.functional as F
from torch.nn.parallel import DistributedDataParallel

# The network builders and the safetensors reader of the single-process
# parity check, beside package train's tests.
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "train", "testdata"))
from parity import build, load_file, save_file  # noqa: E402


def init_process_group():
    """dist.init_process_group("gloo", "env://"), joining the launcher's store
    with a client that does not ask for libuv: torch 2.4 and later ask for it
    by default, and Debian's torch 2.6, built without it, then refuses the
    store (USE_LIBUV=0 does not reach an agent store's client)."""
    rank, world = int(os.environ["RANK"]), int(os.environ["WORLD_SIZE"])
    try:
        store = dist.TCPStore(os.environ["MASTER_ADDR"], int(os.environ["MASTER_PORT"]), world, False,
                              timeout=timedelta(minutes=5), use_libuv=False)
    except TypeError:  # before 2.2 TCPStore has no use_libuv, and no libuv
        dist.init_process_group("gloo", init_method="env://")
        return
    dist.init_process_group("gloo", store=store, rank=rank, world_size=world)


def main():
    d = sys.argv[1]
    torch.set_num_threads(1)
    init_process_group()
    rank = dist.get_rank()
    weights, meta = load_file(d + "/init.safetensors")
    arch = json.loads(meta["arch"])
    model = build(arch, int(meta["num_classes"]), meta)
    model.load_state_dict(weights, strict=True)
    batches, bmeta = load_file(d + "/batches.safetensors")
    cl = bmeta.get("channels_last") == "1"
    if cl:
        model = model.to(memory_format=torch.channels_last)
    model.train()
    ddp = DistributedDataParallel(model)
    opt = torch.optim.SGD(model.parameters(), lr=float(bmeta["lr"]), momentum=float(bmeta["momentum"]),
                          weight_decay=float(bmeta["weight_decay"]))
    for step in range(int(bmeta["steps"])):
        x = batches["x.%d.%d" % (rank, step)]
        if cl:
            x = x.to(memory_format=torch.channels_last)
        mh = batches["labels.%d.%d" % (rank, step)].float()
        target = mh / mh.sum(1, keepdim=True)
        logits = ddp(x)
        loss = -(target * F.log_softmax(logits, 1)).sum(1).mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    if rank == 0:
        save_file(model.state_dict(), d + "/pytorch.safetensors")
    dist.barrier()
    dist.destroy_process_group()


if __name__ == "__main__":
    main()
