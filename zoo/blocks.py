"""Public building blocks of the image GANs: one DCGAN-style family that scales with resolution.

**Public and stable for third-party plugins.** The names in ``__all__`` are part of ganzoo's plugin API
beside ``ganzoo.harness.plugin`` (docs/plugins.md): within a minor release series (0.1.x) they keep their
names, their arguments and the networks they build (layer layout, parameter names, initialisation), so a
plugin's checkpoints and results stay comparable with ``dcgan`` & co. They need nothing from ganzoo but
torch. The rest of ``ganzoo.zoo`` (the model files, ``zoo.image``, ``zoo.points_or_images``) is the zoo's own
and may change between releases.


Radford et al. 2015 (arXiv 1511.06434), §3: no pooling, strided convolutions in D and
fractionally-strided (transposed) ones in G; batch norm in both (but not in D's first layer nor
G's output); ReLU in G with a tanh output; LeakyReLU(0.2) in D; weights from N(0, 0.02).

Depth follows from the resolution: the side is halved until it is odd or at most 7, so 28 → 7
(two stages, the classic MNIST net), 32 → 4 (three), 64 → 4 (four, the paper's LSUN net).
Channels are ``base_channels`` at the finest stage and double per stage towards 4×4/7×7 (capped
at 8×), so one ``base_channels`` number sets the width at every resolution.

Everything the individual papers change is an argument: D's normalisation (WGAN-GP: layer norm
or none), spectral norm (SNGAN), class conditioning (cGAN: label embedding concatenated to the input,
or a projection head as in Miyato & Koyama 2018), an auxiliary classifier head (ACGAN), and the
harness's architecture tricks, minibatch std and minibatch discrimination, inserted before the
final layer. SNGAN's paper network, the "standard CNN" discriminator of its Table 3, is
:class:`StandardCNNDiscriminator`.
"""

from __future__ import annotations

from typing import Literal

import torch
from torch import Tensor, nn
from torch.nn.utils.parametrizations import spectral_norm as _spectral_norm

Norm = Literal["batch", "layer", "none"]
Conditioning = Literal["concat", "projection"]  # how D sees the class
GeneratorConditioning = Literal["concat", "multiply"]  # how G sees the class


# -- layout -----------------------------------------------------------------------------------

def stages(resolution: int) -> tuple[int, int]:
    """(start side, number of ×2 stages): 28 → (7, 2), 32 → (4, 3), 64 → (4, 4)."""
    side, count = resolution, 0
    while side % 2 == 0 and side > 7:
        side, count = side // 2, count + 1
    if count == 0:
        raise ValueError(f"resolution {resolution} cannot be reached by doubling from a side of 7 or less; "
                         "use a resolution such as 28, 32 or 64 (--set train.resolution=32)")
    return side, count


def widths(base_channels: int, count: int) -> list[int]:
    """Channels from the finest stage (next to the image) to the coarsest: base, 2·base, … (≤ 8·base)."""
    return [base_channels * min(2**k, 8) for k in range(count)]


def init_normal_(module: nn.Module, std: float = 0.02) -> nn.Module:
    """DCGAN initialisation: conv/linear weights ~ N(0, std), biases 0; norm scales ~ N(1, std)."""
    for m in module.modules():
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
            nn.init.normal_(m.weight, 0.0, std)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, (nn.BatchNorm2d, nn.GroupNorm)) and m.weight is not None:
            nn.init.normal_(m.weight, 1.0, std)
            nn.init.zeros_(m.bias)
    return module


def norm_layer(kind: Norm, channels: int) -> nn.Module:
    if kind == "batch":
        return nn.BatchNorm2d(channels)
    if kind == "layer":  # LayerNorm over (C, H, W) with a per-channel affine: per-sample, so GP-safe
        return nn.GroupNorm(1, channels)
    return nn.Identity()


# -- architecture tricks ----------------------------------------------------------------------

class MinibatchStd(nn.Module):
    """Karras et al. 2018 (arXiv 1710.10196), §3: append the average over features of the
    per-feature standard deviation across a group of samples, as one constant feature map."""

    def __init__(self, group_size: int = 4) -> None:
        super().__init__()
        self.group_size = group_size

    def forward(self, x: Tensor) -> Tensor:
        b, c, h, w = x.shape
        group = min(self.group_size, b)
        while b % group:  # the largest group size ≤ group_size that divides the batch
            group -= 1
        y = x.float().reshape(group, b // group, c, h, w)  # sample i belongs to group i mod b/group
        std = (y.var(dim=0, unbiased=False) + 1e-8).sqrt().mean(dim=(1, 2, 3))  # (b/group,)
        feature = std.repeat(group).reshape(b, 1, 1, 1).expand(b, 1, h, w).to(x.dtype)
        return torch.cat([x, feature], dim=1)


class MinibatchDiscrimination(nn.Module):
    """Salimans et al. 2016 (arXiv 1606.03498), §3.2: features f ∈ R^A are mapped by a tensor
    T ∈ R^{A×B×C} to M_i ∈ R^{B×C}; o(x_i)_b = Σ_j exp(−‖M_{i,b} − M_{j,b}‖₁) is appended to f."""

    def __init__(self, in_features: int, kernels: int, kernel_dim: int = 5) -> None:
        super().__init__()
        self.kernels, self.kernel_dim = kernels, kernel_dim
        self.T = nn.Parameter(torch.randn(in_features, kernels * kernel_dim) * 0.1)

    def forward(self, x: Tensor) -> Tensor:
        m = (x @ self.T.to(x.dtype)).reshape(-1, self.kernels, self.kernel_dim)
        distances = (m.unsqueeze(0) - m.unsqueeze(1)).abs().sum(dim=3)  # (B, B, kernels)
        closeness = torch.exp(-distances).sum(dim=1) - 1.0  # minus the sample's own term exp(0)
        return torch.cat([x, closeness], dim=1)


# -- networks -----------------------------------------------------------------------------------

class ImageGenerator(nn.Module):
    """z (and a class label) → image in [-1, 1]: project to start×start, then ×2 stages.

    Class-conditional, two ways: ``"concat"`` — a learned ``embed_dim``-d class embedding is
    concatenated to z (Mirza & Osindero 2014); ``"multiply"`` — z is multiplied elementwise by a
    learned latent_dim-d class embedding, so G cannot drop z and keep the class (with an auxiliary
    classifier loss, concatenation lets G ignore z: one image per class).
    """

    def __init__(self, latent_dim: int, channels: int, resolution: int, base_channels: int,
                 num_classes: int | None = None, embed_dim: int = 0,
                 conditioning: GeneratorConditioning = "concat") -> None:
        super().__init__()
        start, count = stages(resolution)
        chans = widths(base_channels, count)[::-1]  # coarse → fine
        self.multiply = conditioning == "multiply"
        if num_classes:
            self.embed = nn.Embedding(num_classes, latent_dim if self.multiply else embed_dim)
        else:
            self.embed = None
        in_dim = latent_dim + (embed_dim if num_classes and not self.multiply else 0)
        layers: list[nn.Module] = [nn.ConvTranspose2d(in_dim, chans[0], start, 1, 0, bias=False),
                                   nn.BatchNorm2d(chans[0]), nn.ReLU(True)]
        for c_in, c_out in zip(chans, chans[1:]):
            layers += [nn.ConvTranspose2d(c_in, c_out, 4, 2, 1, bias=False), nn.BatchNorm2d(c_out), nn.ReLU(True)]
        layers += [nn.ConvTranspose2d(chans[-1], channels, 4, 2, 1), nn.Tanh()]
        self.net = nn.Sequential(*layers)
        init_normal_(self)

    def forward(self, z: Tensor, labels: Tensor | None = None) -> Tensor:
        if self.embed is not None:
            if labels is None:
                raise ValueError("this generator is class-conditional: pass labels")
            code = self.embed(labels).to(z.dtype)
            z = z * code if self.multiply else torch.cat([z, code], dim=1)
        return self.net(z[:, :, None, None])


def conv_stack(in_channels: int, chans: list[int], norm: Norm, negative_slope: float = 0.2) -> nn.Sequential:
    """D's strided 4×4 convolutions, one ×2 stage per entry of ``chans``, LeakyReLU after each; no
    normalisation on the input layer (DCGAN)."""
    layers: list[nn.Module] = []
    c_in = in_channels
    for k, c_out in enumerate(chans):
        layer_norm: Norm = norm if k else "none"
        layers += [nn.Conv2d(c_in, c_out, 4, 2, 1, bias=layer_norm != "batch"),
                   norm_layer(layer_norm, c_out), nn.LeakyReLU(negative_slope, True)]
        c_in = c_out
    return nn.Sequential(*layers)


class ImageDiscriminator(nn.Module):
    """Image (and a class label) → score: strided convs down to start×start, then the head.

    ``in_channels`` already includes PacGAN packing (channels × pack). The head is
    [minibatch std] → flatten → [minibatch discrimination] → linear score. Class conditioning:
    ``"concat"`` — a learned embedding of y (``label_channels`` numbers) is broadcast to constant
    maps and concatenated to the image (Mirza & Osindero's joint input); ``"projection"`` — the
    score adds ⟨embed(y), φ(x)⟩ with φ(x) the last convolution's features summed over space
    (Miyato & Koyama 2018, arXiv 1802.05637). Neither gives D a per-class *spatial* template,
    which pulls G towards one prototype per class. ``aux_classes`` adds ACGAN's classifier head,
    and forward then returns (score, class logits).
    """

    def __init__(self, in_channels: int, resolution: int, base_channels: int, *, norm: Norm = "batch",
                 spectral_norm: bool = False, negative_slope: float = 0.2,
                 num_classes: int | None = None, conditioning: Conditioning | None = None, label_channels: int = 10,
                 aux_classes: int | None = None, minibatch_std: bool = False,
                 minibatch_discrimination: int = 0) -> None:
        super().__init__()
        if conditioning is not None and not num_classes:
            raise ValueError(f"conditioning={conditioning!r} needs labelled data (num_classes)")
        start, count = stages(resolution)
        chans = widths(base_channels, count)
        self.conditioning = conditioning
        self.label_maps = nn.Embedding(num_classes, label_channels) if conditioning == "concat" else None
        self.body = conv_stack(in_channels + (label_channels if self.label_maps is not None else 0), chans, norm,
                               negative_slope)
        c_in = chans[-1]
        self.mbstd = MinibatchStd() if minibatch_std else None
        features = (c_in + (1 if minibatch_std else 0)) * start * start
        self.mbdisc = MinibatchDiscrimination(features, minibatch_discrimination) if minibatch_discrimination else None
        features += minibatch_discrimination
        self.score = nn.Linear(features, 1)
        self.projection = nn.Embedding(num_classes, c_in) if conditioning == "projection" else None
        self.classifier = nn.Linear(features, aux_classes) if aux_classes else None
        init_normal_(self)
        if self.projection is not None:
            nn.init.normal_(self.projection.weight, 0.0, 0.02)
        if spectral_norm:
            for m in list(self.modules()):
                if isinstance(m, (nn.Conv2d, nn.Linear)) or m is self.projection:
                    _spectral_norm(m)

    def forward(self, x: Tensor, labels: Tensor | None = None) -> Tensor | tuple[Tensor, Tensor]:
        if self.conditioning is not None and labels is None:
            raise ValueError("this discriminator is class-conditional: call D(x, labels)")
        if self.label_maps is not None:
            maps = self.label_maps(labels).to(x.dtype)[:, :, None, None].expand(-1, -1, *x.shape[2:])
            x = torch.cat([x, maps], dim=1)
        conv = self.body(x)
        h = (self.mbstd(conv) if self.mbstd is not None else conv).flatten(1)
        if self.mbdisc is not None:
            h = self.mbdisc(h)
        score = self.score(h).squeeze(1)
        if self.projection is not None:
            score = score + (self.projection(labels).to(conv.dtype) * conv.sum(dim=(2, 3))).sum(dim=1)
        if self.classifier is not None:
            return score, self.classifier(h)
        return score


class ImageEncoder(nn.Module):
    """Image → code z: D's strided convolutions, then a linear map to ``latent_dim`` (the encoder of
    ALI/BiGAN and VEEGAN's reconstructor on images)."""

    def __init__(self, in_channels: int, resolution: int, base_channels: int, latent_dim: int, *,
                 norm: Norm = "batch") -> None:
        super().__init__()
        start, count = stages(resolution)
        chans = widths(base_channels, count)
        self.body = conv_stack(in_channels, chans, norm)
        self.code = nn.Linear(chans[-1] * start * start, latent_dim)
        init_normal_(self)

    def forward(self, x: Tensor) -> Tensor:
        return self.code(self.body(x).flatten(1))


class JointImageDiscriminator(nn.Module):
    """(x, z) → one score: D's convolutions on x, a linear layer on z, then two linear layers on both
    (BiGAN's joint discriminator on images). With PacGAN packing the harness stacks ``pack`` images
    along the channels; their codes are joined the same way here."""

    def __init__(self, in_channels: int, resolution: int, base_channels: int, latent_dim: int, *, pack: int = 1,
                 hidden: int = 512, norm: Norm = "batch") -> None:
        super().__init__()
        start, count = stages(resolution)
        chans = widths(base_channels, count)
        self.body = conv_stack(in_channels, chans, norm)
        self.code = nn.Sequential(nn.Linear(latent_dim * pack, hidden), nn.LeakyReLU(0.2, True))
        self.joint = nn.Sequential(nn.Linear(chans[-1] * start * start + hidden, hidden), nn.LeakyReLU(0.2, True),
                                   nn.Linear(hidden, 1))
        init_normal_(self)

    def forward(self, x: Tensor, z: Tensor) -> Tensor:
        z = z.reshape(x.shape[0], -1).to(x.dtype)
        return self.joint(torch.cat([self.body(x).flatten(1), self.code(z)], dim=1)).squeeze(1)


class StandardCNNDiscriminator(nn.Module):
    """The "standard CNN" discriminator of Miyato et al. 2018 (arXiv 1802.05957), Table 3 (b).

    Image M×M×C → three blocks of [3×3 stride-1 conv, 4×4 stride-2 conv] with 64, 128 and 256
    channels, a 3×3 stride-1 conv with 512, every conv followed by LeakyReLU(``negative_slope``,
    0.1 in the paper), then a dense layer to one score over the (M/8)×(M/8)×512 features. No
    normalisation layers; with ``spectral_norm`` (the default, SN-GAN) every conv and the dense
    layer are spectrally normalised. The widths scale with ``base_channels`` (the paper's 64):
    b, b, 2b, 2b, 4b, 4b, 8b.

    ``in_channels`` already includes PacGAN packing (channels × pack). The harness's architecture
    tricks go where they go in :class:`ImageDiscriminator`: minibatch std as an extra feature map
    after the last convolution, minibatch discrimination on the flattened features before the score.
    """

    def __init__(self, in_channels: int, resolution: int, base_channels: int = 64, *, spectral_norm: bool = True,
                 negative_slope: float = 0.1, minibatch_std: bool = False, minibatch_discrimination: int = 0) -> None:
        super().__init__()
        if resolution < 8:
            raise ValueError(f"the standard CNN halves the image three times; resolution {resolution} is too small "
                             "(use e.g. 28, 32 or 48)")
        b = base_channels
        plan = [(3, 1, b), (4, 2, b), (3, 1, 2 * b), (4, 2, 2 * b), (3, 1, 4 * b), (4, 2, 4 * b), (3, 1, 8 * b)]
        layers: list[nn.Module] = []
        c_in = in_channels
        for kernel, stride, c_out in plan:
            layers += [nn.Conv2d(c_in, c_out, kernel, stride, 1), nn.LeakyReLU(negative_slope, True)]
            c_in = c_out
        self.body = nn.Sequential(*layers)
        side = resolution // 8  # a 4×4 stride-2 conv with padding 1 maps a side s to ⌊s/2⌋
        self.mbstd = MinibatchStd() if minibatch_std else None
        features = (c_in + (1 if minibatch_std else 0)) * side * side
        self.mbdisc = MinibatchDiscrimination(features, minibatch_discrimination) if minibatch_discrimination else None
        features += minibatch_discrimination
        self.score = nn.Linear(features, 1)
        init_normal_(self)
        if spectral_norm:
            for m in list(self.modules()):
                if isinstance(m, (nn.Conv2d, nn.Linear)):
                    _spectral_norm(m)

    def forward(self, x: Tensor) -> Tensor:
        conv = self.body(x)
        h = (self.mbstd(conv) if self.mbstd is not None else conv).flatten(1)
        if self.mbdisc is not None:
            h = self.mbdisc(h)
        return self.score(h).squeeze(1)


def spectral_norm_layers(module: nn.Module) -> list[nn.Module]:
    """The sub-modules whose ``weight`` is spectrally normalised (for tests and diagnostics)."""
    from torch.nn.utils import parametrize

    return [m for m in module.modules() if parametrize.is_parametrized(m, "weight")]


__all__ = ["Conditioning", "GeneratorConditioning", "ImageDiscriminator", "ImageEncoder", "ImageGenerator",
           "JointImageDiscriminator", "MinibatchDiscrimination", "MinibatchStd", "Norm", "StandardCNNDiscriminator",
           "conv_stack", "init_normal_", "norm_layer", "spectral_norm_layers", "stages", "widths"]
