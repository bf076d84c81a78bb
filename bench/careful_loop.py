"""The baseline ganzoo is measured against: a DCGAN loop as a careful user writes it by hand (GUIDE §6).

Same networks (``ganzoo.zoo.blocks``), optimizer (Adam 2e-4, β (0.5, 0.999), foreach), batch, data and
precision as ``ganzoo run dcgan --dataset mnist``, and every trick a careful hand loop has:

* the data decoded once into one float tensor on the training device, batches drawn by index;
* the G step reuses the fakes of the D step (PyTorch's DCGAN example, dcgan.torch): one G forward per
  iteration, D scores ``fake.detach()`` in its own step;
* D is frozen (``requires_grad_(False)``) during the G step, so no D parameter gradient is computed;
* ``zero_grad(set_to_none=True)``, bf16 autocast, the loss reduced in fp32, one torch thread.

It has none of the harness's bookkeeping (finite checks, diagnostics, EMA, logs, checkpoints on the
way), but it saves its networks at the end as any script would.

In-process (``bench/test_bench_training_step.py``): :class:`CarefulLoop` over a trainer's networks.
As a script (the whole-process comparison with ``ganzoo run``)::

    python bench/careful_loop.py --data-dir /path/to/data --steps 300 --out /tmp/careful
"""

from __future__ import annotations

import argparse
import contextlib
import gzip
import time
from pathlib import Path

import torch
import torch.nn.functional as F


class CarefulLoop:
    """One iteration = D step (real + fresh fakes) then G step (the same fakes, D frozen)."""

    def __init__(self, G: torch.nn.Module, D: torch.nn.Module, data: torch.Tensor, batch: int, latent: int,
                 dtype: torch.dtype | None, lr: float = 2e-4, betas: tuple[float, float] = (0.5, 0.999),
                 seed: int = 0) -> None:
        self.G, self.D, self.data, self.batch, self.latent = G, D, data, batch, latent
        self.device = data.device
        self.opt_g = torch.optim.Adam(G.parameters(), lr=lr, betas=betas, foreach=True)
        self.opt_d = torch.optim.Adam(D.parameters(), lr=lr, betas=betas, foreach=True)
        self.autocast = ((lambda: torch.autocast(self.device.type, dtype=dtype)) if dtype
                         else contextlib.nullcontext)
        self.generator = torch.Generator(self.device).manual_seed(seed)
        G.requires_grad_(True)
        D.requires_grad_(True)

    def __call__(self) -> None:
        G, D, batch = self.G, self.D, self.batch
        index = torch.randint(len(self.data), (batch,), device=self.device, generator=self.generator)
        real = self.data[index]
        z = torch.randn(batch, self.latent, device=self.device, generator=self.generator)
        D.requires_grad_(True)
        with self.autocast():
            fake = G(z)
            real_out, fake_out = D(real).float(), D(fake.detach()).float()
            loss_d = (F.binary_cross_entropy_with_logits(real_out, torch.ones_like(real_out))
                      + F.binary_cross_entropy_with_logits(fake_out, torch.zeros_like(fake_out)))
        loss_d.backward()
        self.opt_d.step()
        self.opt_d.zero_grad(set_to_none=True)
        D.requires_grad_(False)
        with self.autocast():
            out = D(fake).float()
            loss_g = F.binary_cross_entropy_with_logits(out, torch.ones_like(out))
        loss_g.backward()
        self.opt_g.step()
        self.opt_g.zero_grad(set_to_none=True)


def load_mnist(data_dir: Path, resolution: int) -> torch.Tensor:
    """The MNIST split found in data_dir/mnist as float [-1, 1], (N, 1, R, R), resized once."""
    folder = data_dir / "mnist"
    path = next(p for p in (folder / "train-images-idx3-ubyte.gz", folder / "t10k-images-idx3-ubyte.gz")
                if p.exists())
    raw = gzip.decompress(path.read_bytes())
    n, rows, cols = (int.from_bytes(raw[i : i + 4], "big") for i in (4, 8, 12))
    images = torch.frombuffer(bytearray(raw[16:]), dtype=torch.uint8).reshape(n, 1, rows, cols).float()
    if resolution != rows:
        images = F.interpolate(images, size=(resolution, resolution), mode="bilinear", antialias=True,
                               align_corners=False)
    return images.div_(127.5).sub_(1.0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--precision", choices=["fp32", "bf16"], default="bf16")
    parser.add_argument("--base-channels", type=int, default=32)
    parser.add_argument("--resolution", type=int, default=32)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    from ganzoo.zoo.blocks import ImageDiscriminator, ImageGenerator  # the networks ganzoo's DCGAN builds

    torch.set_num_threads(1)
    torch.manual_seed(0)
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    data = load_mnist(args.data_dir, args.resolution).to(device)
    G = ImageGenerator(100, 1, args.resolution, args.base_channels).to(device)
    D = ImageDiscriminator(1, args.resolution, args.base_channels).to(device)
    loop = CarefulLoop(G, D, data, args.batch_size, 100, torch.bfloat16 if args.precision == "bf16" else None)
    start = time.perf_counter()
    for _ in range(args.steps):
        loop()
    seconds = time.perf_counter() - start
    args.out.mkdir(parents=True, exist_ok=True)
    torch.save({"G": G.state_dict(), "D": D.state_dict()}, args.out / "final.pt")
    print(f"{args.steps} iterations in {seconds:.2f} s: {args.steps * args.batch_size / seconds:.0f} images/s")


if __name__ == "__main__":
    main()
