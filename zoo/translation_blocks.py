"""Building blocks of the image-to-image translation GANs (CycleGAN; reusable by pix2pix-style models).

- :class:`ResnetGenerator`: Johnson et al. 2016 (arXiv 1603.08155) as specified in CycleGAN's appendix
  (Zhu et al. 2017, arXiv 1703.10593, §7.2): ``c7s1-k, d2k, d4k, R4k × n, u2k, uk, c7s1-C`` with
  reflection padding, instance normalisation and ReLU, a tanh output.
- :class:`PatchDiscriminator`: the PatchGAN of Isola et al. 2017 (arXiv 1611.07004): ``C64-C128-C256-C512``
  of 4×4 convolutions, LeakyReLU(0.2), instance norm except on the first layer, then a 1-channel
  convolution; every output pixel judges one (70×70 for three stride-2 layers) patch of the input.
- :class:`ImagePool`: the history of generated images of Shrivastava et al. 2017 (arXiv 1612.07828, §2.3),
  held in registered buffers so the harness checkpoints it with the networks.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from ganzoo.zoo.blocks import init_normal_


def default_blocks(resolution: int) -> int:
    """Residual blocks for a resolution: CycleGAN uses 9 at 256×256 and above, 6 at 128×128; we use 3 below."""
    return 9 if resolution >= 256 else 6 if resolution >= 128 else 3


def default_patch_layers(resolution: int) -> int:
    """Stride-2 layers of the PatchGAN: 3 (70×70 patches) from 128×128 up, 2 (34×34) from 64, else 1 (16×16)."""
    return 3 if resolution >= 128 else 2 if resolution >= 64 else 1


def patch_size(layers: int) -> int:
    """Receptive field of a PatchGAN with ``layers`` stride-2 convolutions (3 → 70, 2 → 34, 1 → 16)."""
    field = 1
    for stride in [1, 1] + [2] * layers:  # the two stride-1 4×4 layers at the end, then the stride-2 ones
        field = field * stride + (4 - stride)
    return field


class ResidualBlock(nn.Module):
    """R-k: two 3×3 convolutions with the same number of filters, reflection padded; x + F(x)."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.body = nn.Sequential(
            nn.ReflectionPad2d(1), nn.Conv2d(channels, channels, 3), nn.InstanceNorm2d(channels), nn.ReLU(True),
            nn.ReflectionPad2d(1), nn.Conv2d(channels, channels, 3), nn.InstanceNorm2d(channels),
        )

    def forward(self, x: Tensor) -> Tensor:
        return x + self.body(x)


class ResnetGenerator(nn.Module):
    """Image → image of the same shape: c7s1-k, d2k, d4k, R4k×n_blocks, u2k, uk, c7s1-C (tanh).

    ``channels``: image channels in and out; ``base_channels``: k (64 in the paper). The two stride-2
    stages need a side divisible by 4 (28 → 7, 32 → 8, 256 → 64).
    """

    def __init__(self, channels: int, resolution: int, base_channels: int = 64, n_blocks: int = 9) -> None:
        super().__init__()
        if resolution % 4:
            raise ValueError(f"the ResNet generator halves the image twice, so the resolution must be divisible "
                             f"by 4; got {resolution} (use e.g. 28, 32, 64, 128 or 256)")
        k = base_channels
        layers: list[nn.Module] = [nn.ReflectionPad2d(3), nn.Conv2d(channels, k, 7), nn.InstanceNorm2d(k),
                                   nn.ReLU(True)]  # c7s1-k
        for c_in, c_out in ((k, 2 * k), (2 * k, 4 * k)):  # d2k, d4k
            layers += [nn.Conv2d(c_in, c_out, 3, stride=2, padding=1), nn.InstanceNorm2d(c_out), nn.ReLU(True)]
        layers += [ResidualBlock(4 * k) for _ in range(n_blocks)]  # R4k × n
        for c_in, c_out in ((4 * k, 2 * k), (2 * k, k)):  # u2k, uk: fractionally strided, stride 1/2
            layers += [nn.ConvTranspose2d(c_in, c_out, 3, stride=2, padding=1, output_padding=1),
                       nn.InstanceNorm2d(c_out), nn.ReLU(True)]
        layers += [nn.ReflectionPad2d(3), nn.Conv2d(k, channels, 7), nn.Tanh()]  # c7s1-C
        self.net = nn.Sequential(*layers)
        init_normal_(self)

    def forward(self, x: Tensor) -> Tensor:
        return self.net(x)


class PatchDiscriminator(nn.Module):
    """Image → a map of scores, one per overlapping patch (no sigmoid: the loss decides).

    ``layers`` stride-2 4×4 convolutions (the first without normalisation), one stride-1 4×4 layer
    at twice the last width, and a 4×4 convolution to one channel; widths double from
    ``base_channels`` up to 8×. ``layers=3`` is the paper's 70×70 PatchGAN.
    """

    def __init__(self, in_channels: int, base_channels: int = 64, layers: int = 3) -> None:
        super().__init__()
        if layers < 1:
            raise ValueError(f"a PatchGAN needs at least one stride-2 layer, got layers={layers}")
        width = [base_channels * min(2**n, 8) for n in range(layers + 1)]
        seq: list[nn.Module] = [nn.Conv2d(in_channels, width[0], 4, 2, 1), nn.LeakyReLU(0.2, True)]
        for c_in, c_out in zip(width[: layers - 1], width[1:layers]):
            seq += [nn.Conv2d(c_in, c_out, 4, 2, 1), nn.InstanceNorm2d(c_out), nn.LeakyReLU(0.2, True)]
        seq += [nn.Conv2d(width[layers - 1], width[layers], 4, 1, 1), nn.InstanceNorm2d(width[layers]),
                nn.LeakyReLU(0.2, True), nn.Conv2d(width[layers], 1, 4, 1, 1)]
        self.net = nn.Sequential(*seq)
        self.patch = patch_size(layers)
        init_normal_(self)

    def forward(self, x: Tensor) -> Tensor:
        return self.net(x)


class ImagePool(nn.Module):
    """A history of up to ``size`` generated images for the discriminator updates.

    Shrivastava et al. 2017, §2.3, as CycleGAN uses it (§4, "we update the discriminators using a
    history of generated images rather than the ones produced by the latest generators"): until the
    pool is full every new image is stored and returned; afterwards each new image is, with
    probability ½, returned as is, or stored in place of a uniformly chosen old image, which is
    returned instead. So a full pool hands D a mix of current and past generator outputs.

    The pool and its fill count are buffers: they are in ``state_dict`` and thus in every
    checkpoint, and a resumed run continues with the same history. Randomness comes from torch's
    global CPU generator, which the harness seeds and restores on resume.
    """

    def __init__(self, size: int, shape: tuple[int, ...]) -> None:
        super().__init__()
        self.size = size
        self.register_buffer("images", torch.zeros((size, *shape)))
        self.register_buffer("count", torch.zeros((), dtype=torch.int64))

    @torch.no_grad()
    def query(self, images: Tensor) -> Tensor:
        """Push ``images`` (detached) and return as many images for D, as described above."""
        images = images.detach()
        if self.size == 0:
            return images
        n = images.shape[0]
        coins = torch.rand(n).tolist()  # one draw per image, whether or not the pool is full
        slots = torch.randint(self.size, (n,)).tolist()
        out = images.clone()
        count = int(self.count)
        for i in range(n):
            if count < self.size:  # filling: keep it, hand it on
                self.images[count] = images[i].float()
                count += 1
            elif coins[i] > 0.5:  # swap with a random old image
                out[i] = self.images[slots[i]].to(out.dtype)
                self.images[slots[i]] = images[i].float()
        self.count.fill_(count)
        return out

    def extra_repr(self) -> str:
        return f"size={self.size}"
