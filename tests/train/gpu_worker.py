"""Two processes sharing one GPU over gloo (NCCL refuses two ranks on one device): the harness's gradient
exchange and broadcast on CUDA tensors. Spawned by tests/train/test_gpu.py; imports only what it needs."""

import os

import torch
import torch.distributed as dist

from ganzoo.harness.train.distributed import Distributed


def shared_gpu(rank: int, world: int, port: int, out_dir: str) -> None:
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    dist.init_process_group("gloo", rank=rank, world_size=world)
    try:
        device = torch.device("cuda", 0)
        torch.manual_seed(rank)
        net = torch.nn.Sequential(torch.nn.Conv2d(1, 4, 3), torch.nn.Flatten(), torch.nn.LazyLinear(1)).to(device)
        net(torch.zeros(1, 1, 8, 8, device=device))
        net = net.to(memory_format=torch.channels_last)
        helper = Distributed(rank, world, device)
        helper.broadcast_modules([net])
        net(torch.full((2, 1, 8, 8), float(rank + 1), device=device)).sum().backward()
        local = [p.grad.clone() for p in net.parameters()]
        flags, bad = helper.average_gradients(list(net.parameters()), torch.tensor([float(rank)], device=device))
        torch.save({"local": [g.cpu() for g in local], "averaged": [p.grad.cpu() for p in net.parameters()],
                    "flags": flags, "bad": bad, "identical": helper.replicas_identical([net])},
                   os.path.join(out_dir, f"rank{rank}.pt"))
    finally:
        dist.destroy_process_group()
