"""A two-process check of harness.train.distributed's collectives (kept light: spawned children import only this)."""

import os

import torch
import torch.distributed as dist

from ganzoo.harness.train.distributed import Distributed


def collectives(rank: int, world: int, port: int, out_dir: str) -> None:
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    dist.init_process_group("gloo", rank=rank, world_size=world)
    try:
        torch.manual_seed(rank)  # different initial weights per rank…
        net = torch.nn.Linear(3, 2)
        head = torch.nn.Linear(2, 1)  # an optional head only rank 0 uses
        unused = torch.nn.Parameter(torch.ones(4))  # no rank uses it
        helper = Distributed(rank, world, torch.device("cpu"))
        helper.broadcast_modules([net, head])  # … made identical
        x = torch.full((1, 3), float(rank + 1))
        out = net(x).sum() + (head(net(x)).sum() if rank == 0 else 0)
        out.backward()
        local = net.weight.grad.clone()
        flags = torch.tensor([float(rank == 1), 0.0])
        summed, grads_bad = helper.average_gradients([*net.parameters(), *head.parameters(), unused], flags)
        result = {
            "weight": net.weight.detach().clone(), "grad": net.weight.grad.clone(), "local": local,
            "head_grad": head.weight.grad.clone(), "unused_grad": unused.grad, "flags": summed, "bad": grads_bad,
            "identical": helper.replicas_identical([net, head]),
            "objects": helper.gather_objects({"rank": rank}), "broadcast": helper.broadcast_object(f"from {rank}"),
        }
        net.weight.grad[0, 0] = float("nan") if rank == 1 else 0.0
        result["nan_detected"] = helper.average_gradients(list(net.parameters()), torch.zeros(1))[1]
        torch.save(result, os.path.join(out_dir, f"rank{rank}.pt"))
    finally:
        dist.destroy_process_group()
